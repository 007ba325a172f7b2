/**
 * How coarse each source's timestamps are: ftrace text prints whole µs (unless the trace clock
 * prints ns), so a request's times from such a source are exact to 1 µs only, and the report marks
 * the values it prints to the ns that come from them.
 *
 * The same rule as the correlation's clock bounds (a source whose timestamps are all whole µs is
 * µs-resolution), judged on the first SAMPLE events of each source: a nanosecond clock gives a
 * whole-µs time once in a thousand, so 10,000 whole-µs times in a row do not happen by chance,
 * and a report does not scan a 9-million-event source for a digit it will not find.
 */
import type { Db } from '../db/db.js';
import type { DomainInfo } from '../correlate/correlate.js';

const SAMPLE = 10_000;

export interface Resolution {
  /** Per source id: 1000 (whole µs) or 1 (ns). */
  sources: Map<number, number>;
  /** Per domain (the order given): the coarsest of its sources. */
  domains: number[];
}

export function timestampResolution(db: Db, domains: readonly DomainInfo[]): Resolution {
  const fine = db.prepare(`SELECT 1 FROM (SELECT ts_ns FROM event_data WHERE id BETWEEN ? AND ? ORDER BY id LIMIT ${SAMPLE}) WHERE ts_ns % 1000 != 0 LIMIT 1`);
  const sources = new Map<number, number>();
  const perDomain = domains.map((d) =>
    Math.max(
      1,
      ...d.sources.map((s) => {
        const r = fine.get(s.firstEvent, s.lastEvent) === undefined ? 1000 : 1;
        sources.set(s.id, r);
        return r;
      }),
    ),
  );
  return { sources, domains: perDomain };
}
