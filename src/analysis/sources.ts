/**
 * What a database holds, per source: counts, span, most frequent events and data-loss
 * diagnostics. The list is also the document `xtrace summary --json` prints (through toJson).
 */
import type { Db } from '../db/db.js';

export interface SourceOverview {
  id: number;
  path: string;
  format: string;
  variant: string | null;
  domain: string;
  clock: string | null;
  has_time_base: number;
  lines: number;
  events: number;
  unparsed_lines: number;
  lost_events: number;
  span_ns: number | null;
  /** Most frequent event names with their counts. */
  top_events: { name: string; count: number }[];
  /** data_loss diagnostics of the source. */
  data_loss: { code: string; count: number; first_line: number; detail: string | null }[];
}

/**
 * What a database holds, per source (used by `xtrace summary` and the README's sample run); the
 * returned list, serialised by toJson, is the `summary --json` document.
 */
export function sourceOverview(db: Db, topN = 8): SourceOverview[] {
  const sources = db
    .prepare<Omit<SourceOverview, 'top_events' | 'data_loss'>>(
      `SELECT id, path, format, variant, domain, clock, has_time_base, lines, events, unparsed_lines, lost_events,
              last_ts_ns - first_ts_ns AS span_ns FROM sources ORDER BY id`,
    )
    .all();
  const top = db.prepare<{ name: string; count: number }>(
    `SELECT s.value AS name, count(*) AS count FROM event_data e JOIN strings s ON s.id = e.name_id
     WHERE e.source_id = ? GROUP BY e.name_id ORDER BY count DESC, name LIMIT ?`,
  );
  const loss = db.prepare<{ code: string; count: number; first_line: number; detail: string | null }>(
    `SELECT code, count, first_line, detail FROM diagnostics WHERE source_id = ? AND severity <> 'info' ORDER BY code`,
  );
  return sources.map((s) => ({ ...s, top_events: top.all(s.id, topN), data_loss: loss.all(s.id) }));
}
