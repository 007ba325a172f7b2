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
