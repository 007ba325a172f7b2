/**
 * The rows that make SQL on a correlation fast (queries/007_stage_rows.sql), written with the
 * requests by saveCorrelation:
 * - `stages`, and one `request_stage_data` row per request and stage, ranked by duration within
 *   its stage and status (so that a percentile is one lookup and `GROUP BY stage` one range scan);
 * - `stage_summary`: per run, stage and population the figures of xt_stage_summary;
 * - each complete request's rank by total latency in its run (requests.run_rank).
 * Their definitions are those of the SQL that computed them from the JSON columns before (the
 * migration still does, and the tests compare both).
 */
import type { BindValue, Db } from '../db/db.js';
import type { Grouping } from './runs.js';
import type { RequestStore } from './store.js';

/** A stage of the path: the end point's position and the start point's (smaller than pos − 1 for a merged stage). */
export interface StageKey {
  pos: number;
  from: number;
}

const ROWS = 200;

/** The stage of request i that ends at pos, as xt_stage_times defines it: the start position, or −1 when the request has no such stage. */
function stageFrom(store: RequestStore, i: number, pos: number, complete: boolean): number {
  if (!complete) return pos - 1;
  if (Number.isNaN(store.t(i, pos))) return -1;
  let f = pos - 1;
  while (f > 0 && Number.isNaN(store.t(i, f))) f--;
  return f;
}

/** Duration of a stage as the JSON columns give it: (t_pos − start) − (t_from − start); NaN when a point is missing. */
function duration(store: RequestStore, i: number, start: number, pos: number, from: number): number {
  return store.t(i, pos) - start - (store.t(i, from) - start);
}

/** Every stage the requests have: the consecutive ones, and the merged ones of batched complete requests; in (pos, from) order. */
export function stagesOf(store: RequestStore, points: number): StageKey[] {
  const keys = new Set<number>();
  for (let pos = 1; pos < points; pos++) keys.add(pos * points + pos - 1);
  for (let i = 0; i < store.length; i++) {
    if (store.status(i) !== 'complete') continue;
    for (let pos = 2; pos < points; pos++) {
      const f = stageFrom(store, i, pos, true);
      if (f >= 0 && f !== pos - 1) keys.add(pos * points + f);
    }
  }
  return [...keys].sort((a, b) => a - b).map((k) => ({ pos: Math.floor(k / points), from: k % points }));
}

/**
 * Sorts entries [lo, hi) of (value, q) pairs by value, then q (NaN values first, in q order as
 * given). Whole-number values are packed with q into one float (or bigint) key and sorted
 * natively; anything else through a comparator.
 */
export function sortPairs(values: Float64Array, qs: Int32Array, lo: number, hi: number): void {
  // NaN first, both parts keeping their order (a stable partition).
  let nans = 0;
  for (let k = lo; k < hi; k++) if (Number.isNaN(values[k]!)) nans++;
  if (nans > 0 && nans < hi - lo) {
    const v = values.slice(lo, hi);
    const q = qs.slice(lo, hi);
    let a = lo;
    let b = lo + nans;
    for (let k = 0; k < v.length; k++) {
      if (Number.isNaN(v[k]!)) {
        values[a] = NaN;
        qs[a++] = q[k]!;
      } else {
        values[b] = v[k]!;
        qs[b++] = q[k]!;
      }
    }
  }
  const w = lo + nans;
  lo = w;
  const n = hi - lo;
  if (n < 2) return;
  let maxQ = 0;
  let maxAbs = 0;
  let whole = true;
  for (let k = lo; k < hi; k++) {
    const v = values[k]!;
    if (!Number.isInteger(v)) whole = false;
    if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    if (qs[k]! > maxQ) maxQ = qs[k]!;
  }
  const bits = Math.max(1, Math.ceil(Math.log2(maxQ + 1)));
  const M = 2 ** bits;
  if (whole && (maxAbs + 1) * M < 2 ** 53) {
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) keys[k] = values[lo + k]! * M + qs[lo + k]!;
    keys.sort();
    for (let k = 0; k < n; k++) {
      const key = keys[k]!;
      const q = ((key % M) + M) % M;
      qs[lo + k] = q;
      values[lo + k] = (key - q) / M;
    }
    return;
  }
  if (whole && Number.isSafeInteger(maxAbs)) {
    const B = BigInt(bits);
    const keys = new BigInt64Array(n);
    for (let k = 0; k < n; k++) keys[k] = (BigInt(values[lo + k]!) << B) | BigInt(qs[lo + k]!);
    keys.sort();
    const mask = (1n << B) - 1n;
    for (let k = 0; k < n; k++) {
      const key = keys[k]!;
      qs[lo + k] = Number(key & mask);
      values[lo + k] = Number(key >> B);
    }
    return;
  }
  const idx = Array.from({ length: n }, (_, k) => lo + k);
  idx.sort((a, b) => values[a]! - values[b]! || qs[a]! - qs[b]!);
  const v = idx.map((k) => values[k]!);
  const q = idx.map((k) => qs[k]!);
  for (let k = 0; k < n; k++) {
    values[lo + k] = v[k]!;
    qs[lo + k] = q[k]!;
  }
}

export interface StageRowsInput {
  correlationId: number;
  pointNames: readonly string[];
  store: RequestStore;
  grouping: Grouping;
  /** requests.id of the request of seq 0 (ids follow seq). */
  firstRequestId: number;
  /** Store index → requests.kept. */
  kept: Uint8Array;
  /** stagesOf the store (computed once for both writers). */
  stages: StageKey[];
  /** completeByRun of the store. */
  groups: Map<number, Int32Array>;
}

const STATUS_CODE = { complete: 0, incomplete: 1, orphan: 2 } as const;

/** Writes stages and request_stage_data (the caller's transaction). */
export function saveStageRows(db: Db, s: StageRowsInput): void {
  const { store, grouping } = s;
  const order = grouping.order;
  const n = order.length;
  const stages = s.stages;
  const insStage = db.prepare('INSERT INTO stages(correlation_id, pos, from_pos, stage, from_point, to_point) VALUES (?,?,?,?,?,?)');
  const ids = stages.map((k) => {
    const from = s.pointNames[k.from]!;
    const to = s.pointNames[k.pos]!;
    return Number(insStage.run(s.correlationId, k.pos, k.from, `${from}->${to}`, from, to).lastInsertRowid);
  });
  // A batch of rows within one stage and status binds those two and the first rank once, and two
  // values per row (binding five per row was ~40 % of the time of storing 5 M rows).
  const rowsSql = Array.from({ length: ROWS }, (_, j) => `(@stage, @status, @rank + ${j}, ?, ?)`).join(',');
  const multi = db.prepare(`INSERT INTO request_stage_data(stage_id, status, rank, request_id, duration_ns) VALUES ${rowsSql}`);
  const single = db.prepare('INSERT INTO request_stage_data(stage_id, status, rank, request_id, duration_ns) VALUES (?,?,?,?,?)');
  // Where each status's part of a stage's values begins: one pass over the requests per stage
  // fills the three parts (the store may be spilled to disk: passes cost).
  const base = new Int32Array(4);
  for (let q = 0; q < n; q++) base[STATUS_CODE[store.status(order[q]!)] + 1]!++;
  base[2]! += base[1]!;
  base[3]! += base[2]!;
  const values = new Float64Array(n);
  const qs = new Int32Array(n);
  const end = new Int32Array(3);
  const batch: BindValue[] = [];
  const head = { stage: 0, status: 0, rank: 0 };
  stages.forEach((k, si) => {
    const id = ids[si]!;
    end.set(base.subarray(0, 3));
    for (let q = 0; q < n; q++) {
      const i = order[q]!;
      const code = STATUS_CODE[store.status(i)];
      if (stageFrom(store, i, k.pos, code === 0) !== k.from) continue;
      const m = end[code]!++;
      values[m] = duration(store, i, store.start(i), k.pos, k.from);
      qs[m] = q;
    }
    for (let code = 0; code < 3; code++) {
      const lo = base[code]!;
      const hi = end[code]!;
      sortPairs(values, qs, lo, hi);
      head.stage = id;
      head.status = code;
      let r = lo;
      for (; r + ROWS <= hi; r += ROWS) {
        head.rank = r - lo + 1;
        batch.length = 0;
        batch.push(head);
        for (let j = r; j < r + ROWS; j++) {
          const v = values[j]!;
          batch.push(s.firstRequestId + qs[j]!, Number.isNaN(v) ? null : v);
        }
        multi.run(...batch);
      }
      for (; r < hi; r++) {
        const v = values[r]!;
        single.run(id, code, r - lo + 1, s.firstRequestId + qs[r]!, Number.isNaN(v) ? null : v);
      }
    }
  });
}

/**
 * requests.run_rank per seq: the rank of each complete request by total (descending), ties in
 * start order, within its run (requests outside every run ranked among themselves); 0 otherwise.
 */
export function runRanks(store: RequestStore, grouping: Grouping, groups: Map<number, Int32Array>): Int32Array {
  const order = grouping.order;
  const n = order.length;
  const rank = new Int32Array(n);
  for (const qsOfGroup of groups.values()) {
    const m = qsOfGroup.length;
    const values = new Float64Array(m);
    const qs = qsOfGroup.slice();
    for (let k = 0; k < m; k++) values[k] = -total(store, order[qs[k]!]!);
    sortPairs(values, qs, 0, m);
    for (let k = 0; k < m; k++) rank[qs[k]!] = k + 1;
  }
  return rank;
}

function total(store: RequestStore, i: number): number {
  const start = store.start(i);
  let last = NaN;
  for (let p = 0; p < store.points; p++) if (!Number.isNaN(store.t(i, p))) last = store.t(i, p);
  return last - start;
}

/** The seqs of the complete requests of each run (key: run index, −1 outside every run), in start order. */
export function completeByRun(store: RequestStore, grouping: Grouping): Map<number, Int32Array> {
  const order = grouping.order;
  // Counted first, then filled: arrays of the exact size, 4 bytes a request. Slot r + 1: run r (0: outside every run).
  const count = new Int32Array(grouping.runs.length + 1);
  for (let q = 0; q < order.length; q++) {
    const i = order[q]!;
    if (store.status(i) === 'complete') count[grouping.runOf[i]! + 1]!++;
  }
  const lists = Array.from(count, (n) => new Int32Array(n));
  const filled = new Int32Array(count.length);
  for (let q = 0; q < order.length; q++) {
    const i = order[q]!;
    if (store.status(i) !== 'complete') continue;
    const slot = grouping.runOf[i]! + 1;
    lists[slot]![filled[slot]!++] = q;
  }
  // In order of first appearance, as before (outside every run: where its first request falls).
  const groups = new Map<number, Int32Array>();
  const firstSeq = lists.map((l) => (l.length ? l[0]! : Infinity));
  const slots = [...lists.keys()].filter((k) => lists[k]!.length > 0).sort((a, b) => firstSeq[a]! - firstSeq[b]!);
  for (const k of slots) groups.set(k - 1, lists[k]!);
  return groups;
}

/** Writes stage_summary: per run, population and stage, the figures of xt_stage_summary (nearest-rank percentiles). */
export function saveStageSummary(db: Db, s: StageRowsInput): void {
  const { store, grouping } = s;
  const P = s.pointNames.length;
  const order = grouping.order;
  const stages = s.stages;
  const ins = db.prepare(
    'INSERT INTO stage_summary(correlation_id, run, stage, pos, from_pos, population, count, mean_ns, median_ns, p90_ns, p99_ns, min_ns, max_ns, mean_contribution_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  const row = (run: string | null, stage: string, pos: number, from: number, population: string, v: Float64Array, m: number, requests: number): void => {
    if (m === 0) return;
    const sorted = v.subarray(0, m).sort();
    let sum = 0;
    for (let k = 0; k < m; k++) sum += sorted[k]!;
    const at = (rank: number): number => sorted[rank - 1]!;
    ins.run(
      s.correlationId,
      run,
      stage,
      pos,
      from,
      population,
      m,
      sum / m,
      at(Math.floor((m + 1) / 2)),
      at(Math.floor((90 * m + 99) / 100)),
      at(Math.floor((99 * m + 99) / 100)),
      sorted[0]!,
      sorted[m - 1]!,
      sum / requests,
    );
  };
  for (const [r, qs] of s.groups) {
    const run = r >= 0 ? grouping.runs[r]!.label : null;
    for (const population of ['complete', 'kept'] as const) {
      const members = population === 'complete' ? qs : qs.filter((q) => s.kept[order[q]!] === 1);
      const requests = members.length;
      if (requests === 0) continue;
      const v = new Float64Array(requests);
      for (const k of stages) {
        let m = 0;
        for (const q of members) {
          const i = order[q]!;
          if (stageFrom(store, i, k.pos, true) !== k.from) continue;
          v[m++] = duration(store, i, store.start(i), k.pos, k.from);
        }
        row(run, `${s.pointNames[k.from]}->${s.pointNames[k.pos]}`, k.pos, k.from, population, v, m, requests);
      }
      let m = 0;
      for (const q of members) v[m++] = total(store, order[q]!);
      row(run, 'total', P, 0, population, v, m, requests);
    }
  }
}
