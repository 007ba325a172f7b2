/**
 * What an exporter is given: the stored correlation its requests come from and the requests
 * themselves, one at a time (an iterable read lazily by src/pipeline/stored.ts). An exporter never
 * reaches the database: everything it writes is in these records.
 */
import type { ProfilePoint } from '../profiles/index.js';

/** The stored correlation (`correlations` row) the requests belong to. */
export interface ExportedCorrelation {
  profile: string;
  correlationId: number;
  /** UTC time of the report that stored it (ISO 8601). */
  createdAt: string;
  /** xtrace version that stored it. */
  xtraceVersion: string;
  /** The clock domain every time is expressed in. */
  referenceDomain: string;
  /** The path's points in order, as the stored profile declares them (their role and layer). */
  path: readonly Pick<ProfilePoint, 'name' | 'role' | 'layer'>[];
  /** How the requests were chosen, for the trace's metadata. */
  selection: {
    /** `--run` labels, null for every run. */
    runs: readonly string[] | null;
    /** `--limit`, null for none. */
    limit: number | null;
    /** `--filter` texts re-applied to the stored requests (a correlation made now applied its own). */
    filters: readonly string[];
    /** True when `--profile` correlated the database just before the export. */
    correlatedNow: boolean;
  };
}

/** Who submitted a request (`request_tasks` row). */
export interface RequestTask {
  comm: string | null;
  pid: number | null;
  tgid: number | null;
  /** Block device, major,minor. */
  dev: string | null;
  /** Direction: R, W, D, F … */
  op: string | null;
  /** The fields the profile labels (opcode, domid …). */
  labels: Readonly<Record<string, string>> | null;
}

/** The event a point of a request took, as the trace says it. */
export interface PointEvent {
  id: number;
  name: string;
  comm: string | null;
  pid: number | null;
  cpu: number | null;
  /** Line (xtbuf binary: record) of the event in its input file. */
  line: number;
  /** The event's own timestamp, in its source's clock (exact). */
  localTsNs: bigint;
  /** Path of the input file (sources.path). */
  source: string;
  args: string | null;
}

/** One stored request (`requests` row), any status. */
export interface ExportRequest {
  /** requests.id: unique in the database. */
  id: number;
  /** Start order within the database. */
  seq: number;
  run: string | null;
  status: 'complete' | 'incomplete' | 'orphan';
  /** 1 averaged, 2 dropped as warm-up, 0 not (trimmed, incomplete, outside runs). */
  kept: number;
  /** Time of its first point present, reference clock, ns (exact). */
  startNs: bigint;
  /** Last point − first point, complete requests only. */
  totalNs: number | null;
  /** Per path point: ns since startNs, null when the point is missing (or absent by design). */
  points: readonly (number | null)[];
  /** Per path point: clock domain of its event (sources.domain), null when missing. */
  domains: readonly (string | null)[];
  task: RequestTask | null;
  /** Per path point: the event it took (null when missing); null when events were not asked for. */
  events: readonly (PointEvent | null)[] | null;
}

/** Everything an exporter writes from. */
export interface ExportInput {
  correlation: ExportedCorrelation;
  /** In start order (seq); read lazily, so a million requests are never in memory at once. */
  requests: Iterable<ExportRequest>;
}

/**
 * The stored report a table export comes from (`correlations` row): what every exported row
 * carries, so that rows of many hosts and commits can be put side by side. A report is one
 * (host, created_at, correlation_id) the fleet over: correlation ids restart in every database.
 */
export interface StoredReport {
  correlationId: number;
  profile: string;
  /** UTC time of the report (ISO 8601, ms). */
  createdAt: string;
  xtraceVersion: string;
  /** `--meta KEY=VALUE` pairs of the report ({} when none). */
  meta: Readonly<Record<string, string>>;
  /** The machine the report ran on (null: not recorded). */
  host: string | null;
  /** The report's `--filter` texts, as given. */
  filters: readonly string[];
  /** The method that chose the kept requests: --warmup, --trim, --trim-by. */
  warmup: number;
  trim: number;
  trimBy: string;
  /** `--run` labels the export was restricted to, null for every run. */
  runs: readonly string[] | null;
}

/**
 * One row of `request_stages` (request × stage) with its request's columns, as SQLite stores it:
 * integers as bigint (64 bits, exact), a duration as a number where a drift-corrected clock made
 * it fractional. A tuple (rows are read as arrays: millions of objects cost twice the time), in
 * the order of REQUEST_STAGE_COLUMNS, the database's column names.
 */
export type RequestStageRow = readonly [
  run: string | null,
  request_id: bigint,
  seq: bigint,
  status: string,
  kept: bigint,
  /** 1: a `--filter` of the report left the request out (then kept 0 and run null). */
  filtered: bigint,
  stage: string,
  pos: bigint,
  from_point: string,
  to_point: string,
  /** ns, null when a point is missing. */
  duration_ns: bigint | number | null,
  /** Time of the request's first point present (reference clock, ns). */
  start_ts_ns: bigint,
];
export const REQUEST_STAGE_COLUMNS = ['run', 'request_id', 'seq', 'status', 'kept', 'filtered', 'stage', 'pos', 'from_point', 'to_point', 'duration_ns', 'start_ts_ns'] as const;

/** One row of `stage_summary` (run × stage × population), as SQLite stores it (see RequestStageRow), in the order of STAGE_SUMMARY_COLUMNS. */
export type StageSummaryRow = readonly [
  run: string | null,
  stage: string,
  pos: bigint,
  from_pos: bigint,
  population: string,
  count: bigint,
  mean_ns: number | null,
  median_ns: bigint | number | null,
  p90_ns: bigint | number | null,
  p99_ns: bigint | number | null,
  min_ns: bigint | number | null,
  max_ns: bigint | number | null,
  mean_contribution_ns: number | null,
];
export const STAGE_SUMMARY_COLUMNS = ['run', 'stage', 'pos', 'from_pos', 'population', 'count', 'mean_ns', 'median_ns', 'p90_ns', 'p99_ns', 'min_ns', 'max_ns', 'mean_contribution_ns'] as const;

/** What a table exporter writes from: the report and its two tables, read lazily (memory does not grow with the rows). */
export interface TableInput {
  report: StoredReport;
  /** In the database's order: by stage, status and duration. */
  requestStages: Iterable<RequestStageRow>;
  stageSummary: Iterable<StageSummaryRow>;
}
