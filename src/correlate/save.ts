/**
 * Stores a correlation in the database (queries/002_correlation.sql) so that SQL reaches every
 * request's points and stages. One transaction; the previous results of the profile are replaced.
 */
import { rwbsOp } from '../core/block.js';
import { COUNTERS } from '../core/counters.js';
import type { Db, SqlValue } from '../db/db.js';
import type { Correlation } from './correlate.js';
import type { Grouping } from './runs.js';
import { completeByRun, runRanks, saveStageRows, saveStageSummary, stagesOf } from './save-stages.js';
import type { RequestStore } from './store.js';
import type { OnProgress } from '../core/progress.js';

export interface SaveInput {
  correlation: Correlation;
  grouping: Grouping;
  /** Per run, per complete request (start order): 1 kept, 2 warm-up, 0 trimmed. */
  keptFlags: Uint8Array[];
  runTotals: number[];
  runKept: number[];
  options: { warmup: number; trim: number; trimBy: string };
  version: string;
  /** `--meta` pairs, the host name (null: not known) and the `--filter` texts of the report (default none). */
  meta?: Readonly<Record<string, string>>;
  host?: string | null;
  filters?: readonly string[];
}

const ROWS = 100;

/** `onProgress`: phase `storing requests`, done of the requests, every 65536 and at the end. */
export function saveCorrelation(db: Db, s: SaveInput, onProgress?: OnProgress): number {
  const c = s.correlation;
  const store = c.requests;
  const P = c.path.length;
  const kept = new Uint8Array(store.length);
  s.grouping.runs.forEach((run, r) => run.index.forEach((i, j) => (kept[i] = s.keptFlags[r]![j]!)));
  return db.transaction(() => {
    const old = db.prepare<{ id: number }>('SELECT id FROM correlations WHERE profile = ?').get(c.profile.name);
    if (old) {
      db.prepare('DELETE FROM request_stage_data WHERE stage_id IN (SELECT id FROM stages WHERE correlation_id = ?)').run(old.id);
      for (const t of ['stages', 'stage_summary', 'requests', 'request_tasks', 'runs', 'domain_offsets', 'correlation_diagnostics', 'correlations']) db.prepare(`DELETE FROM ${t} WHERE ${t === 'correlations' ? 'id' : 'correlation_id'} = ?`).run(old.id);
    }
    const id = Number(
      db
        .prepare(
          'INSERT INTO correlations(profile, profile_json, path, absent_points, reference_domain, warmup, trim, trim_by, passes, created_at, xtrace_version, meta, host, filters) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
        )
        .run(
          c.profile.name,
          JSON.stringify(c.profile),
          JSON.stringify(c.path.map((p) => p.name)),
          JSON.stringify(c.absent),
          c.domains[c.reference]!.name,
          s.options.warmup,
          s.options.trim,
          s.options.trimBy,
          c.passes,
          new Date().toISOString(),
          s.version,
          JSON.stringify(s.meta ?? {}),
          s.host ?? null,
          JSON.stringify(s.filters ?? []),
        ).lastInsertRowid,
    );
    const insRun = db.prepare('INSERT INTO runs(correlation_id, seq, run, begin_ts_ns, end_ts_ns, requests, complete, incomplete, orphans, kept, total_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?)');
    const abs = (t: number | null): bigint | null => (t === null ? null : BigInt(Math.round(t)) + c.refBase);
    s.grouping.runs.forEach((r, k) => insRun.run(id, k, r.label, abs(r.begin), abs(r.end), r.requests, r.complete, r.incomplete, r.orphans, s.runKept[k]!, s.runTotals[k]!));
    const insOff = db.prepare(
      'INSERT INTO domain_offsets(correlation_id, domain, method, offset_ns, uncertainty_ns, lower_ns, upper_ns, relative_to, links, drift_ppm, drift_method, drift_lower_ppm, drift_upper_ppm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    for (const o of c.offsets) insOff.run(id, o.domain, o.method, o.offsetNs, o.uncertaintyNs, o.lowerNs, o.upperNs, o.relativeTo, o.links, o.driftPpm, o.driftMethod, o.driftLowerPpm, o.driftUpperPpm);
    const insDiag = db.prepare('INSERT INTO correlation_diagnostics(correlation_id, code, point, severity, count, first_event_id, description) VALUES (?,?,?,?,?,?,?)');
    for (const d of c.counters) insDiag.run(id, d.code, d.point, d.severity, d.count, d.firstEvent, COUNTERS[d.code].description);

    const COLS = 15;
    const one = `(${new Array(COLS).fill('?').join(',')})`;
    const cols = 'correlation_id, run, seq, status, kept, start_ts_ns, total_ns, points, events, task_id, bios, block_requests, bytes, filtered, run_rank';
    // Requests get consecutive ids in seq order (appended, in this transaction).
    const firstRequestId = (db.prepare<{ m: number | null }>('SELECT max(id) AS m FROM requests').get()?.m ?? 0) + 1;
    const groups = completeByRun(store, s.grouping);
    const ranks = runRanks(store, s.grouping, groups);
    const multi = db.prepare(`INSERT INTO requests(${cols}) VALUES ${new Array(ROWS).fill(one).join(',')}`);
    const single = db.prepare(`INSERT INTO requests(${cols}) VALUES ${one}`);
    const taskOf = requestTasks(db, id, c.profile.labels, store);
    const buf: SqlValue[] = [];
    const order = s.grouping.order;
    for (let q = 0; q < order.length; q++) {
      if (onProgress && (q & 0xffff) === 0) onProgress('storing requests', q, order.length);
      const i = order[q]!;
      const start = store.start(i);
      let pts = '[';
      let evs = '[';
      let last = NaN;
      for (let p = 0; p < P; p++) {
        const t = store.t(i, p);
        const e = store.event(i, p);
        if (p) {
          pts += ',';
          evs += ',';
        }
        pts += Number.isNaN(t) ? 'null' : String(t - start);
        evs += Number.isNaN(e) ? 'null' : String(e);
        if (!Number.isNaN(t)) last = t;
      }
      const status = store.status(i);
      const r = s.grouping.runOf[i]!;
      const sectors = store.sectors(i);
      buf.push(
        id,
        r >= 0 ? s.grouping.runs[r]!.label : null,
        q,
        status,
        r >= 0 && status === 'complete' ? kept[i]! : 0,
        abs(start),
        status === 'complete' ? last - start : null,
        pts + ']',
        evs + ']',
        taskOf(i),
        store.bios(i),
        store.blockRequests(i),
        sectors > 0 ? sectors * 512 : null,
        s.grouping.filtered?.[i] ? 1 : 0,
        ranks[q]! || null,
      );
      if (buf.length === ROWS * COLS) {
        multi.run(...buf);
        buf.length = 0;
      }
    }
    for (let k = 0; k < buf.length; k += COLS) single.run(...buf.slice(k, k + COLS));
    const rows = { correlationId: id, pointNames: c.path.map((p) => p.name), store, grouping: s.grouping, firstRequestId, kept, stages: stagesOf(store, P), groups };
    saveStageRows(db, rows);
    saveStageSummary(db, rows);
    onProgress?.('storing requests', order.length, order.length);
    return id;
  });
}

/**
 * The request_tasks rows of a correlation, written as they are first met: per request, the id of
 * its (task, device, direction, labels). Consecutive requests mostly share one: compared by the
 * store's interned ids, no string is built for them.
 */
function requestTasks(db: Db, correlationId: number, labels: readonly string[], store: RequestStore): (i: number) => number {
  const A = store.attrNames.length;
  const pos = (n: string): number => store.attrPosition(n);
  const [commAt, pidAt, tgidAt, devAt, rwbsAt] = ['$comm', '$pid', '$tgid', 'dev', 'rwbs'].map(pos) as [number, number, number, number, number];
  const labelPos = labels.map(pos).filter((k) => k >= 0);
  const labelKeys = labels.filter((n) => pos(n) >= 0).map((n) => JSON.stringify(n) + ':');
  const ins = db.prepare('INSERT INTO request_tasks(correlation_id, comm, pid, tgid, dev, op, labels) VALUES (?,?,?,?,?,?,?)');
  const int = (v: string | undefined): number | null => {
    const n = v === undefined || v === '' ? NaN : Number(v);
    return Number.isInteger(n) ? n : null;
  };
  const ids = new Map<string, number>();
  const last = new Uint32Array(A);
  let lastTask = -1;
  return (i) => {
    let same = lastTask >= 0;
    for (let k = 0; k < A && same; k++) same = store.attrIdAt(i, k) === last[k];
    if (same) return lastTask;
    let key = '';
    for (let k = 0; k < A; k++) {
      last[k] = store.attrIdAt(i, k);
      key += last[k] + ',';
    }
    let task = ids.get(key);
    if (task === undefined) {
      let labelText: string | null = null;
      if (labelPos.length) {
        labelText = '{';
        labelPos.forEach((k, j) => {
          const v = store.attrAt(i, k);
          if (v !== undefined) labelText += (labelText!.length > 1 ? ',' : '') + labelKeys[j] + JSON.stringify(v);
        });
        labelText += '}';
      }
      const rwbs = store.attrAt(i, rwbsAt);
      task = Number(
        ins.run(correlationId, store.attrAt(i, commAt) ?? null, int(store.attrAt(i, pidAt)), int(store.attrAt(i, tgidAt)), store.attrAt(i, devAt) ?? null, rwbs === undefined ? null : (rwbsOp(rwbs) ?? null), labelText).lastInsertRowid,
      );
      ids.set(key, task);
    }
    lastTask = task;
    return task;
  };
}
