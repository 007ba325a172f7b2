/**
 * The stored requests of a correlation, read back for an exporter (`xtrace export`): the newest
 * stored correlation (or the one of a profile), optionally correlated first (`analyse`, as
 * `xtrace report` does), its requests chosen by run, by re-applied request filters and by count,
 * read in start order as an iterator, so memory does not grow with the number of requests. The
 * requests a `--filter` of the report left out (`requests.filtered`) are never in a trace.
 * `tablesForExport` reads the same correlation as tables (request_stages with its requests'
 * columns, stage_summary) for the table exporters (parquet): every row, with its `filtered` flag.
 */
import type { Db, SqlValue } from '../db/db.js';
import { SCHEMA_VERSION, schemaVersionOf } from '../db/db.js';
import { InputError } from '../core/errors.js';
import { RequestStore } from '../correlate/store.js';
import { parseProfile, requestAttrNames, type Profile } from '../profiles/index.js';
import type { ExportedCorrelation, ExportInput, ExportRequest, PointEvent, RequestStageRow, RequestTask, StageSummaryRow, StoredReport, TableInput } from '../export/records.js';
import { REQUEST_STAGE_COLUMNS, STAGE_SUMMARY_COLUMNS } from '../export/records.js';
import { analyse, type AnalysisOptions } from './analyse.js';
import { parseFilters } from './filters.js';

export interface ExportSelection {
  /** Correlate with these options first (storing the requests), then export what was stored. */
  correlate?: AnalysisOptions;
  /** The stored correlation of this profile; default: the newest one (ignored with `correlate`). */
  profile?: string;
  /** Only the requests of these runs (labels). */
  runs?: readonly string[];
  /** At most this many requests (the first ones in start order). */
  limit?: number;
  /**
   * `--filter KEY=VALUE` texts re-applied to the stored requests (with `correlate`, give the
   * filters to the correlation instead). Only what `request_tasks` keeps can be re-applied exactly.
   */
  filters?: readonly string[];
  /** Attach to each request the event each of its points took. */
  events?: boolean;
}

/** Requests read before their events are looked up (one query per chunk): the memory held at a time. */
const CHUNK = 1000;

interface CorrelationRow {
  id: number;
  profile: string;
  profile_json: string;
  path: string;
  reference_domain: string;
  created_at: string;
  xtrace_version: string;
}

/**
 * The requests to export and their correlation. Throws InputError when there is nothing to export
 * (no stored correlation, an unknown run, a filter that cannot be re-applied, no request left).
 * The requests are read while iterated: keep `db` open until the iteration ends.
 */
export function requestsForExport(db: Db, o: ExportSelection): ExportInput {
  const c = correlationToExport(db, o);
  const profile = storedProfile(db, c);
  const byName = new Map(profile.points.map((p) => [p.name, p]));
  const pathNames = JSON.parse(c.path) as string[];
  const path = pathNames.map((n) => {
    const p = byName.get(n);
    if (!p) throw new InputError(`${db.path}: correlation ${c.id} (${c.profile}) has the point ${n} in its path but not in its profile; correlate again with --profile ${c.profile}`, db.path);
    return { name: p.name, role: p.role, layer: p.layer };
  });
  const runs = o.runs?.length ? checkRuns(db, c, o.runs) : null;
  const filters = o.correlate ? [] : (o.filters ?? []);
  const tasks = filters.length ? keptTasks(db, c, profile, filters) : null;

  const where = ['r.correlation_id = :c', 'r.filtered = 0'];
  if (runs) where.push('r.run IN (SELECT value FROM json_each(:runs))');
  if (tasks) where.push('r.task_id IN (SELECT value FROM json_each(:tasks))');
  const params: Record<string, SqlValue> = { c: c.id, ...(runs ? { runs: JSON.stringify(runs) } : {}), ...(tasks ? { tasks: JSON.stringify(tasks) } : {}) };
  const select = db.prepare<RequestRow>(
    `SELECT r.id, r.seq, r.run, r.status, r.kept, CAST(r.start_ts_ns AS TEXT) AS start_ts, r.total_ns, r.points, r.events,
            t.id AS task_id, t.comm, t.pid, t.tgid, t.dev, t.op, t.labels
     FROM requests r LEFT JOIN request_tasks t ON t.id = r.task_id
     WHERE ${where.join(' AND ')} ORDER BY r.seq LIMIT :n`,
  );
  if (!select.get({ ...params, n: 1 })) throw nothingLeft(db, c, o, filters);

  const correlation: ExportedCorrelation = {
    profile: c.profile,
    correlationId: c.id,
    createdAt: c.created_at,
    xtraceVersion: c.xtrace_version,
    referenceDomain: c.reference_domain,
    path,
    selection: { runs, limit: o.limit ?? null, filters, correlatedNow: !!o.correlate },
  };
  return { correlation, requests: readRequests(select.iterate({ ...params, n: o.limit ?? -1 }), o.events ? eventReader(db) : null, sourceDomains(db)) };
}

/** Correlates first when asked, checks the schema, and finds the stored correlation to export. */
function correlationToExport(db: Db, o: { correlate?: AnalysisOptions; profile?: string }): CorrelationRow {
  if (o.correlate) analyse(db, o.correlate);
  if (schemaVersionOf(db) < SCHEMA_VERSION) {
    throw new InputError(`${db.path}: its requests were stored by an older xtrace; run \`xtrace report --db ${db.path} --profile NAME\` again, or pass --profile NAME`, db.path);
  }
  return storedCorrelation(db, o.correlate?.profile.name ?? o.profile);
}

/** What chooses the rows of a table export: a correlation as for requestsForExport, and runs. */
export type TableSelection = Pick<ExportSelection, 'correlate' | 'profile' | 'runs'>;

/**
 * The stored report and its tables, for a table exporter: every request × stage row of the
 * correlation (request_stages, with the request's seq, kept, filtered flag and start time) in the
 * database's order (by stage, status, duration: no sort), and its stage_summary rows; with `runs`,
 * only those runs' rows. Integers are read as bigint (exact beyond 2^53). The rows are read while
 * iterated (one statement each, lazily): keep `db` open until both iterations end. Throws
 * InputError when there is nothing to export.
 */
export function tablesForExport(db: Db, o: TableSelection): TableInput {
  const c = correlationToExport(db, o);
  const runs = o.runs?.length ? checkRuns(db, c, o.runs) : null;
  const r = db.prepare<{ meta: string; host: string | null; filters: string; warmup: number; trim: number; trim_by: string }>('SELECT meta, host, filters, warmup, trim, trim_by FROM correlations WHERE id = ?').get(c.id)!;
  const report: StoredReport = {
    correlationId: c.id,
    profile: c.profile,
    createdAt: c.created_at,
    xtraceVersion: c.xtrace_version,
    meta: JSON.parse(r.meta) as Record<string, string>,
    host: r.host,
    filters: JSON.parse(r.filters) as string[],
    warmup: r.warmup,
    trim: r.trim,
    trimBy: r.trim_by,
    runs,
  };
  const byRun = runs ? ' AND r.run IN (SELECT value FROM json_each(:runs))' : '';
  const params: Record<string, SqlValue> = { c: c.id, ...(runs ? { runs: JSON.stringify(runs) } : {}) };
  // The stages by the unique index (correlation, pos, from_pos), each one's rows by the primary key
  // (status, rank), the request by its id: rows come out in that order without a sort. As arrays
  // (raw): 5 M rows read in 32 s instead of 60 s as objects (bench.db, 2026-11-30).
  const expr: Record<(typeof REQUEST_STAGE_COLUMNS)[number], string> = {
    run: 'r.run',
    request_id: 'd.request_id',
    seq: 'r.seq',
    status: "CASE d.status WHEN 0 THEN 'complete' WHEN 1 THEN 'incomplete' ELSE 'orphan' END",
    kept: 'r.kept',
    filtered: 'r.filtered',
    stage: 's.stage',
    pos: 's.pos',
    from_point: 's.from_point',
    to_point: 's.to_point',
    duration_ns: 'd.duration_ns',
    start_ts_ns: 'r.start_ts_ns',
  };
  const stages = db.prepare<RequestStageRow>(
    `SELECT ${REQUEST_STAGE_COLUMNS.map((k) => expr[k]).join(', ')}
     FROM stages s JOIN request_stage_data d ON d.stage_id = s.id JOIN requests r ON r.id = d.request_id
     WHERE s.correlation_id = :c${byRun}
     ORDER BY s.pos, s.from_pos, d.status, d.rank`,
    { bigints: true, raw: true },
  );
  if (!stages.get(params)) {
    const by = runs ? ` in run ${runs.join(', ')}` : '';
    throw new InputError(`${db.path}: the stored correlation of ${c.profile} has no request stage to export${by}; report again (xtrace report --db ${db.path} --profile ${c.profile})`, db.path);
  }
  const summary = db.prepare<StageSummaryRow>(`SELECT ${STAGE_SUMMARY_COLUMNS.join(', ')} FROM stage_summary r WHERE correlation_id = :c${byRun} ORDER BY rowid`, { bigints: true, raw: true });
  return { report, requestStages: lazily(() => stages.iterate(params)), stageSummary: lazily(() => summary.iterate(params)) };
}

/** An iterable whose rows are only read when it is iterated (a statement opened per iteration). */
function lazily<T>(open: () => IterableIterator<T>): Iterable<T> {
  return { [Symbol.iterator]: open };
}

interface RequestRow {
  id: number;
  seq: number;
  run: string | null;
  status: ExportRequest['status'];
  kept: number;
  start_ts: string;
  total_ns: number | null;
  points: string;
  events: string;
  task_id: number | null;
  comm: string | null;
  pid: number | null;
  tgid: number | null;
  dev: string | null;
  op: string | null;
  labels: string | null;
}

/**
 * The requests as the iterator reads them, a chunk of CHUNK rows at a time: each chunk's events
 * are read with one query (reads may run while an iteration is open).
 */
function* readRequests(
  rows: IterableIterator<RequestRow>,
  readEvents: ((ids: number[]) => Map<number, PointEvent>) | null,
  domainOf: (eventId: number) => string | null,
): Generator<ExportRequest, void, undefined> {
  let chunk: RequestRow[] = [];
  const convert = function* (): Generator<ExportRequest, void, undefined> {
    const parsed = chunk.map((r) => ({ r, eventIds: JSON.parse(r.events) as (number | null)[] }));
    chunk = [];
    const events = readEvents?.(parsed.flatMap((x) => x.eventIds.filter((e): e is number => e !== null))) ?? null;
    for (const { r, eventIds } of parsed) {
      yield {
        id: r.id,
        seq: r.seq,
        run: r.run,
        status: r.status,
        kept: r.kept,
        startNs: BigInt(r.start_ts),
        totalNs: r.total_ns,
        points: JSON.parse(r.points) as (number | null)[],
        domains: eventIds.map((e) => (e === null ? null : domainOf(e))),
        task: r.task_id === null ? null : { comm: r.comm, pid: r.pid, tgid: r.tgid, dev: r.dev, op: r.op, labels: r.labels === null ? null : (JSON.parse(r.labels) as Record<string, string>) },
        events: events && eventIds.map((e) => (e === null ? null : (events.get(e) ?? null))),
      };
    }
  };
  for (const r of rows) {
    chunk.push(r);
    if (chunk.length === CHUNK) yield* convert();
  }
  yield* convert();
}

/** The correlation to export: the one of `profile`, or the newest. */
function storedCorrelation(db: Db, profile: string | undefined): CorrelationRow {
  const cols = 'id, profile, profile_json, path, reference_domain, created_at, xtrace_version';
  const row = profile
    ? db.prepare<CorrelationRow>(`SELECT ${cols} FROM correlations WHERE profile = ?`).get(profile)
    : db.prepare<CorrelationRow>(`SELECT ${cols} FROM correlations ORDER BY created_at DESC, id DESC LIMIT 1`).get();
  if (row) return row;
  const stored = db.prepare<{ profile: string }>('SELECT profile FROM correlations ORDER BY profile').all();
  if (profile && stored.length) throw new InputError(`${db.path}: no stored requests of profile ${profile} (stored: ${stored.map((s) => s.profile).join(', ')}); pass --profile ${profile} to correlate it first`, db.path);
  throw new InputError(`${db.path}: no stored requests to export; run \`xtrace report --db ${db.path} --profile NAME\` first, or pass --profile NAME`, db.path);
}

function storedProfile(db: Db, c: CorrelationRow): Profile {
  try {
    return parseProfile(JSON.parse(c.profile_json), `${db.path}: stored profile ${c.profile}`);
  } catch (e) {
    throw new InputError(`${db.path}: the stored profile of ${c.profile} cannot be read by this xtrace (${(e as Error).message}); correlate again with --profile ${c.profile}`, db.path);
  }
}

/** The `--run` labels, each checked against the correlation's runs. */
function checkRuns(db: Db, c: CorrelationRow, runs: readonly string[]): string[] {
  const known = db.prepare<{ run: string }>('SELECT run FROM runs WHERE correlation_id = ? ORDER BY seq').all(c.id).map((r) => r.run);
  const unknown = runs.filter((r) => !known.includes(r));
  if (unknown.length) {
    const shown = known.length > 12 ? `${known.slice(0, 12).join(', ')} … (${known.length} runs)` : known.join(', ');
    throw new InputError(`--run ${unknown.join(', ')}: no such run in the stored requests of ${c.profile} (runs: ${shown})`, db.path);
  }
  return [...new Set(runs)];
}

/**
 * The request_tasks ids whose requests pass every filter. The filters are the report's
 * (src/pipeline/filters.ts), run on a request store holding one entry per stored task: the task
 * keeps the submitter, device, direction and labels, the very fields a filter reads, except the raw
 * `rwbs` (only its direction is kept), which is refused.
 */
function keptTasks(db: Db, c: CorrelationRow, profile: Profile, texts: readonly string[]): number[] {
  const filters = parseFilters(texts, profile);
  const raw = texts.find((t) => t.slice(0, t.indexOf('=')).trim() === 'rwbs');
  if (raw) throw new InputError(`--filter ${raw}: the stored requests keep their direction (op), not the rwbs text; filter on op=…, or pass --profile ${c.profile} to correlate again with this filter`, db.path);
  const rows = db.prepare<{ id: number } & Omit<RequestTask, 'labels'> & { labels: string | null }>('SELECT id, comm, pid, tgid, dev, op, labels FROM request_tasks WHERE correlation_id = ?').all(c.id);
  const store = new RequestStore(1, requestAttrNames(profile));
  for (const t of rows) {
    const fields = new Map<string, string>(Object.entries(t.labels === null ? {} : (JSON.parse(t.labels) as Record<string, string>)));
    if (t.dev !== null) fields.set('dev', t.dev);
    // The stored direction is rwbsOp(rwbs), and rwbsOp of a direction is itself: op filters read it back unchanged.
    if (t.op !== null) fields.set('rwbs', t.op);
    store.request({ status: 'complete', opener: 0, t: new Float64Array(1), ev: new Float64Array([NaN]), domain: new Int32Array(1), flags: new Uint8Array(1), fields, comm: t.comm, pid: t.pid, tgid: t.tgid, bios: 0, blockRequests: 0, sectors: 0 });
  }
  return rows.filter((_, i) => filters.every((f) => f.keep(store, i))).map((t) => t.id);
}

/** The refusal when the selection leaves no request, naming what chose them. */
function nothingLeft(db: Db, c: CorrelationRow, o: ExportSelection, filters: readonly string[]): InputError {
  const by = [...(o.runs?.length ? [`--run ${o.runs.join(',')}`] : []), ...filters.map((f) => `--filter ${f}`)];
  if (by.length) return new InputError(`${db.path}: no stored request of ${c.profile} is left by ${by.join(' ')}; check the values (xtrace query --db ${db.path} "SELECT * FROM request_tasks")`, db.path);
  return new InputError(`${db.path}: the stored correlation of ${c.profile} has no request to export (every one was left out by the report's --filter, or none was found); report again with other filters`, db.path);
}

/** The clock domain of an event id: sources hold consecutive ids (first_event_id..last_event_id). */
function sourceDomains(db: Db): (eventId: number) => string | null {
  const ranges = db.prepare<{ first: number; last: number; domain: string }>('SELECT first_event_id AS first, last_event_id AS last, domain FROM sources WHERE first_event_id IS NOT NULL ORDER BY first_event_id').all();
  return (id) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = ranges[mid]!;
      if (id < r.first) hi = mid - 1;
      else if (id > r.last) lo = mid + 1;
      else return r.domain;
    }
    return null;
  };
}

/** Reads the events of a chunk of requests with one query. */
function eventReader(db: Db): (ids: number[]) => Map<number, PointEvent> {
  const paths = new Map(db.prepare<{ id: number; path: string }>('SELECT id, path FROM sources').all().map((s) => [s.id, s.path]));
  const q = db.prepare<{ id: number; source_id: number; line: number; ts: string; cpu: number | null; pid: number | null; comm: string | null; name: string; args: string | null }>(
    'SELECT id, source_id, line, CAST(ts_ns AS TEXT) AS ts, cpu, pid, comm, name, args FROM events WHERE id IN (SELECT value FROM json_each(?))',
  );
  return (ids) => {
    const out = new Map<number, PointEvent>();
    if (ids.length === 0) return out;
    for (const e of q.all(JSON.stringify(ids))) {
      out.set(e.id, { id: e.id, name: e.name, comm: e.comm, pid: e.pid, cpu: e.cpu, line: e.line, localTsNs: BigInt(e.ts), source: paths.get(e.source_id) ?? '?', args: e.args });
    }
    return out;
  };
}
