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
import type { RequestStore, RequestStoreOptions } from '../correlate/store.js';
import type { Profile } from '../profiles/index.js';
import type { OnProgress } from '../core/progress.js';
import { buildReport, type ReportGroup, type ReportModel } from '../report/model.js';
import { XTRACE_VERSION } from '../core/version.js';
import { describeExcludedRuns, noRunRefusal, profileHint, strictRefusal } from './diagnose.js';
import { groupBreakdowns, type GroupBy } from './groups.js';
import { timestampResolution } from './resolution.js';

/** Keeps or drops a correlated request (store index `i`). Filtering acts on requests, never on events: a filter on events would break the joins. */
export interface RequestFilter {
  /** How the user wrote it, for reports and for refusing to compare differently filtered sides. */
  readonly text: string;
  keep(store: RequestStore, i: number): boolean;
}

export interface AnalysisOptions extends BreakdownOptions {
  profile: Profile;
  /** Given clock offsets: t_reference = t_domain + offset (ns) at the domain's first event; other domains are estimated. */
  offsets?: Map<string, bigint>;
  /** Given clock drifts (ppm; correlate.ts CorrelateOptions.drifts). */
  drifts?: Map<string, number>;
  /** Requests failing any filter are left out of the runs (`--filter`, src/pipeline/filters.ts). */
  filters?: readonly RequestFilter[];
  /** Store the correlated requests in the database (default true). */
  save?: boolean;
  /** Keep, per run, the values each mean was taken over (compare's per-request tests need them). */
  keepValues?: boolean;
  /** Written into the stored correlation (default: this xtrace's version). */
  version?: string;
  /** `--meta KEY=VALUE` pairs (commit, branch, date …): in the report's `meta` and the stored correlation. */
  meta?: Readonly<Record<string, string>>;
  /** The machine the report runs on (stored with the correlation; the CLI passes the host name). */
  host?: string;
  /** Where events are read (tests force the worker thread on small inputs). */
  reader?: ReaderMode;
  /** The request store's memory budget (correlate.ts CorrelateOptions.store; tests force spilling). */
  store?: RequestStoreOptions;
  /**
   * Refuse (InputError, after storing the requests) when a run cannot be averaged, instead of
   * listing it in `excluded_runs` and reporting the others (CI).
   */
  strict?: boolean;
  /** One breakdown per request direction (`op`) or size (`size`) besides the whole report's. */
  groupBy?: GroupBy;
  onStep?: (what: string) => void;
  /**
   * How far it got: reading and matching the events (per pass), `computing the statistic`,
   * `storing requests`, and a final call (`done`, 1 of 1) when the model is built.
   */
  onProgress?: OnProgress;
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
  /** With `groupBy`: one breakdown per group (also in `model.groups`). */
  groups: ReportGroup[] | null;
}

export function analyse(db: Db, o: AnalysisOptions): Analysis {
  validateBreakdownOptions(o);
  const c = correlate(db, o.profile, {
    ...(o.offsets ? { offsets: o.offsets } : {}),
    ...(o.drifts ? { drifts: o.drifts } : {}),
    ...(o.reader ? { reader: o.reader } : {}),
    ...(o.store ? { store: o.store } : {}),
    onPass: (p, w) => o.onStep?.(`pass ${p}: ${w}`),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  o.onProgress?.('computing the statistic', 0, null);
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
  const excluded = describeExcludedRuns(db, c, g, b);
  let id: number | null = null;
  if (o.save !== false) {
    // Stored before any refusal below: SQL shows what happened.
    o.onStep?.('storing requests');
    const totals = g.runs.map(() => 0);
    const kept = g.runs.map(() => 0);
    for (const r of b.runs) {
      totals[r.index] = r.totalNs;
      kept[r.index] = r.kept;
    }
    id = saveCorrelation(db, {
      correlation: c,
      grouping: g,
      keptFlags: b.keptFlags,
      // A run with no mean is stored with kept = 0 and total_ns 0 (the column is NOT NULL).
      runTotals: totals,
      runKept: kept,
      options: method,
      version: o.version ?? XTRACE_VERSION,
      meta: o.meta ?? {},
      host: o.host ?? null,
      filters: filters.map((f) => f.text),
    }, o.onProgress);
  }
  if (b.runs.length === 0) throw noRunRefusal(db, c, g, b, excluded, filters.map((f) => f.text));
  if (o.strict && excluded.length) throw strictRefusal(db, excluded);
  const resolution = timestampResolution(db, c.domains);
  const extras = {
    domainResolutionNs: resolution.domains,
    sourceResolutionNs: resolution.sources,
    groupBy: o.groupBy ?? null,
    strict: !!o.strict,
    filters: filters.map((f) => f.text),
    meta: o.meta ?? {},
    filteredOut,
    hint: profileHint(db, c, g),
  };
  const groups = o.groupBy ? groupBreakdowns(c, g, o.groupBy, method, extras) : null;
  const model = buildReport(c, g, b, id, { ...extras, excludedRuns: excluded, groups });
  o.onProgress?.('done', 1, 1);
  return { correlation: c, grouping: g, breakdown: b, model, correlationId: id, filteredOut, groups };
}
