/**
 * The report pipeline, once: correlate → request filter → runs → the study's statistic →
 * (optionally) store the requests → the report model. `xtrace report`, `xtrace compare` (database
 * sides) and every later command that turns a database into numbers call `analyse`; none of them
 * repeats a step.
 */
import type { Db } from '../db/db.js';
import { breakdown, validateBreakdownOptions, type Breakdown, type BreakdownOptions } from '../analysis/breakdown.js';
import { correlate, type Correlation } from '../correlate/correlate.js';
import type { ReaderMode } from '../correlate/events.js';
import { groupRuns, type Grouping } from '../correlate/runs.js';
import { saveCorrelation } from '../correlate/save.js';
import type { RequestStore } from '../correlate/store.js';
import type { Profile } from '../profiles/index.js';
import { buildReport, type ReportModel } from '../report/model.js';
import { XTRACE_VERSION } from '../core/version.js';

/** Keeps or drops a correlated request (store index `i`). Filtering acts on requests, never on events: a filter on events would break the joins. */
export interface RequestFilter {
  /** How the user wrote it, for reports and for refusing to compare differently filtered sides. */
  readonly text: string;
  keep(store: RequestStore, i: number): boolean;
}

export interface AnalysisOptions extends BreakdownOptions {
  profile: Profile;
  /** Given clock offsets: t_reference = t_domain + offset (ns); other domains are estimated. */
  offsets?: Map<string, bigint>;
  /** Requests failing any filter are left out of the runs (none yet: the slot where filters go). */
  filters?: readonly RequestFilter[];
  /** Store the correlated requests in the database (default true). */
  save?: boolean;
  /** Keep, per run, the values each mean was taken over (compare's per-request tests need them). */
  keepValues?: boolean;
  /** Written into the stored correlation (default: this xtrace's version). */
  version?: string;
  /** Where events are read (tests force the worker thread on small inputs). */
  reader?: ReaderMode;
  onStep?: (what: string) => void;
}

export interface Analysis {
  correlation: Correlation;
  grouping: Grouping;
  breakdown: Breakdown;
  model: ReportModel;
  /** Id of the stored correlation, null when not saved. */
  correlationId: number | null;
  /** Requests the filters removed. */
  filteredOut: number;
}

export function analyse(db: Db, o: AnalysisOptions): Analysis {
  validateBreakdownOptions(o);
  const c = correlate(db, o.profile, {
    ...(o.offsets ? { offsets: o.offsets } : {}),
    ...(o.reader ? { reader: o.reader } : {}),
    onPass: (p, w) => o.onStep?.(`pass ${p}: ${w}`),
  });
  const filters = o.filters ?? [];
  let filteredOut = 0;
  const include =
    filters.length === 0
      ? undefined
      : (i: number): boolean => {
          for (const f of filters) if (!f.keep(c.requests, i)) return (filteredOut++, false);
          return true;
        };
  const g = groupRuns(c.requests, c.markers, include);
  const method = { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy };
  const b = breakdown(
    c.path.map((p) => p.name),
    g.runs,
    { ...method, keepValues: !!o.keepValues },
  );
  let id: number | null = null;
  if (o.save !== false) {
    o.onStep?.('storing requests');
    id = saveCorrelation(db, {
      correlation: c,
      grouping: g,
      keptFlags: b.runs.map((r) => r.keptFlags),
      runTotals: b.runs.map((r) => r.totalNs),
      runKept: b.runs.map((r) => r.kept),
      options: method,
      version: o.version ?? XTRACE_VERSION,
    });
  }
  return { correlation: c, grouping: g, breakdown: b, model: buildReport(c, g, b, id), correlationId: id, filteredOut };
}
