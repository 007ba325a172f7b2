/**
 * The study's statistic. Per run: requests in start order; the first `warmup` complete requests
 * are dropped; the rest are sorted by total latency (first point to last point; ties by start
 * order) and floor(trim·n) fastest and floor(trim·n) slowest are dropped; each row's mean over
 * the kept requests (so the rows add up to the mean total). Across runs: the mean of the
 * per-run means and their sample standard deviation (n − 1; null with one run).
 *
 * **Rows, and requests with points absent by design** (xen-probes.md decision 10). At queue depth
 * > 1 Xen batches notifications: a request pushed while the back end is awake has no
 * `fe_notify`/`be_irq` of its own, a response pushed while the front end handles others no
 * `fe_irq`. Such a request is complete, with no time (NaN) at those points (never at its first or
 * last point). Its time from the last point present before the gap to the first point present
 * after it is one *merged* stage (`fe_queue->be_get_req`); it has none of the split stages through
 * the gap. The rows of the breakdown are the split stages of the path (always) and the merged
 * stages that occur in the requests after warm-up of the reported runs, each merged row right
 * after the last split stage it spans (several there: by their first point). A row's value is the
 * mean *contribution per kept request*: the sum of its durations over the kept requests / the
 * number of kept requests, a request without the row counting 0. Each request's rows add up to its
 * total, so the rows add up to the mean total; with nothing batched every row is a split stage
 * and its value the plain stage mean. `requests` of a row: how many of the kept requests have it.
 *
 * `trimBy: 'stage'` trims every row on its own values instead (same rule, that row's values):
 * among the requests after warm-up that have the row, floor(trim·h) fastest and slowest are
 * dropped; of the others (value 0), floor(trim·(m − h)) at each end, the same fraction; the mean is
 * taken over what is left, zeros included (so with nothing batched: the row's own trimmed mean).
 * Rows no longer add up.
 *
 * `trimMiddle` is the one trimming rule; everything that needs "the values the means were taken
 * over" (compare's per-request tests) asks the breakdown for them (`keepValues`): per row, the
 * contribution of each request the mean was taken over, 0 for one without the row, so a run's
 * row mean is the mean of its kept values and (by total) each kept request's values add up to its
 * total.
 *
 * A run with no complete request (or one that `warmup` empties) is not averaged: it is listed in
 * `excluded` and the other runs are reported; what to do about it (refuse with --strict, diagnose
 * why) is the pipeline's decision.
 *
 * Beside the headline, the tail: per row and for the total, over the complete requests of all
 * reported runs together after warm-up, untrimmed: the mean contribution (sum over those requests
 * / their number, so untrimmed means add up to the total's too) and nearest-rank p50/p90/p99
 * (`nearestRank`) of the durations of the requests that have the row (no zeros).
 */
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { InputError } from '../core/errors.js';

export interface RunInput {
  label: string;
  /**
   * Point times of the run's complete requests in start order, `points` per request; NaN at a
   * point absent by design (batched), never at a request's first or last point. May be built on
   * each read (runs.ts RunGroup.times): the breakdown reads it once per pass over the run.
   */
  readonly times: Float64Array;
}

export interface BreakdownOptions {
  warmup: number;
  trim: number;
  trimBy: 'total' | 'stage';
}

export interface RunResult {
  label: string;
  /** Position of the run in the breakdown's input (`runs[index]`). */
  index: number;
  complete: number;
  /** Requests the means are taken over (after warm-up and trimming). */
  kept: number;
  /** Per row (Breakdown.stages order): the mean contribution per kept request (see the top of the file). */
  stagesNs: number[];
  /** Per row: how many of the kept requests (by total) have it. */
  stageRequests: number[];
  totalNs: number;
  /** Per complete request (start order): 1 when kept (by-total trimming), 2 when dropped as warm-up, 0 when trimmed. */
  keptFlags: Uint8Array;
  /**
   * With `keepValues`: per row, then the total, the values its mean was taken over (the kept
   * requests in start order; 0 for a request without the row).
   */
  keptNs: Float64Array[] | null;
}

export interface Stat {
  meanNs: number;
  stddevNs: number | null;
}

/**
 * The untrimmed view of one row (or the total): all reported runs' complete requests after
 * warm-up. A row's mean is its contribution per request (requests without it count 0), its
 * percentiles are over the requests that have it.
 */
export interface Tail {
  untrimmedMeanNs: number;
  /** Nearest rank (`nearestRank`): values that occurred. */
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
}

/** A run that could not be averaged, and why. */
export interface UnaveragedRun {
  /** Position of the run in the breakdown's input. */
  index: number;
  label: string;
  /** Its complete requests (0, or all dropped as warm-up). */
  complete: number;
  why: 'no-complete-request' | 'warmup';
}

/** One row of the breakdown: a split stage of the path (two consecutive points) or a merged stage (a gap of absent points in between). */
export interface StageRow extends Stat {
  /** `from->to`. */
  name: string;
  from: string;
  to: string;
  /** Positions of `from` and `to` in the path (to = from + 1 for a split stage). */
  fromIndex: number;
  toIndex: number;
  /** True for a merged stage: requests whose points between `from` and `to` are absent by design (batched). */
  merged: boolean;
  /** The split stages the row covers, in path order (a split stage: itself). */
  spans: string[];
  /** Of the kept requests (trimmed by total) of the reported runs, how many have the row. */
  requests: number;
  /** Mean over the reported runs of the row's per-run contribution over the mean total. */
  share: number;
  /** Untrimmed: mean contribution per request; percentiles over the `tailRequests` requests that have the row. */
  tail: Tail;
  /** Requests after warm-up (reported runs) that have the row: what the tail's percentiles are taken over. */
  tailRequests: number;
  /** The tail's untrimmed mean over the total's untrimmed mean. */
  untrimmedShare: number;
}

export interface Breakdown {
  points: string[];
  /** The rows: split stages in path order, each merged row right after the last split stage it spans. */
  stages: StageRow[];
  total: Stat & { tail: Tail };
  /** Complete requests the tail statistics are taken over (reported runs, after warm-up, untrimmed). */
  tailRequests: number;
  /** The reported runs (means are NaN when there is none: every run is in `excluded`). */
  runs: RunResult[];
  /** Runs not averaged (no complete request, or all of them warm-up), in input order. */
  excluded: UnaveragedRun[];
  /** Per input run (excluded ones too), per complete request in start order: 1 kept, 2 warm-up, 0 trimmed (what the store records). */
  keptFlags: Uint8Array[];
  /** False with trimBy 'stage': the stage means are not means over the same requests. */
  addsUp: boolean;
  options: BreakdownOptions;
}

export function validateBreakdownOptions(o: BreakdownOptions): void {
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new InputError(`--warmup ${o.warmup}: expected a whole number ≥ 0`);
  if (!(o.trim >= 0 && o.trim < 0.5)) throw new InputError(`--trim ${o.trim}: expected a fraction in [0, 0.5), e.g. 0.1 drops the 10% fastest and the 10% slowest`);
}

/**
 * The trimming rule, once: of the items `first … first+m−1`, sorted by `value` (ties: the earlier
 * item first), drop floor(trim·m) at each end. Returns the kept items in start order.
 */
export function trimMiddle(first: number, m: number, trim: number, value: (j: number) => number): Int32Array {
  const k = Math.floor(trim * m);
  const order = new Int32Array(m);
  const v = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    order[j] = first + j;
    v[j] = value(first + j);
  }
  order.sort((a, b) => v[a - first]! - v[b - first]! || a - b);
  return order.subarray(k, m - k).sort();
}

function across(values: number[]): Stat {
  if (values.length === 0) return { meanNs: NaN, stddevNs: null };
  return { meanNs: mean(values), stddevNs: values.length > 1 ? sampleStandardDeviation(values) : null };
}

/**
 * The nearest-rank percentile of values sorted in increasing order: the value of rank
 * ceil(pct/100 · n) (1-based), so always a value that occurred; the median (pct 50) is the lower
 * middle value when n is even. The definition of the `xt_stage_summary` view, in integer
 * arithmetic (pct a whole number in 1…100). NaN for no value.
 */
export function nearestRank(sorted: ArrayLike<number>, pct: number): number {
  if (!Number.isInteger(pct) || pct < 1 || pct > 100) throw new RangeError(`percentile ${pct}: expected a whole number in 1…100`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.floor((pct * n + 99) / 100);
  return sorted[rank - 1]!;
}

/**
 * Puts the k-th smallest value of a[lo..hi] (0-based k) at a[k], with no greater value before it
 * and no smaller one after (quickselect, Hoare partition around a median of three: linear on
 * average, and many equal values, as whole-µs times give, cost nothing extra).
 */
function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * Untrimmed mean and nearest-rank percentiles of `values` (reordered in place). The same values as
 * `nearestRank` over the sorted values, by selection instead of a sort (a report over 700k
 * requests sorts nothing). `over`: the mean is the sum over that many requests (default: the
 * values'; more when the requests without the row count 0 in the mean, not in the percentiles).
 */
export function tailOf(values: Float64Array, over = values.length): Tail {
  const n = values.length;
  if (n === 0) return { untrimmedMeanNs: over > 0 ? 0 : NaN, p50Ns: NaN, p90Ns: NaN, p99Ns: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  // Ranks from the largest down: each selection leaves the ones below it in front.
  const rank = (pct: number): number => Math.floor((pct * n + 99) / 100) - 1;
  const r99 = rank(99);
  const r90 = rank(90);
  const r50 = rank(50);
  selectKth(values, 0, n - 1, r99);
  selectKth(values, 0, r99, r90);
  selectKth(values, 0, r90, r50);
  return { untrimmedMeanNs: sum / over, p50Ns: values[r50]!, p90Ns: values[r90]!, p99Ns: values[r99]! };
}

/** The row of each pair of points: at a·P + b, the k of rows[k] = (a, b); −1 when no row goes from a to b. */
function rowTable(P: number, rows: readonly { from: number; to: number }[]): Int32Array {
  const rowOf = new Int32Array(P * P).fill(-1);
  rows.forEach((r, k) => (rowOf[r.from * P + r.to] = k));
  return rowOf;
}

export function breakdown(points: string[], runs: RunInput[], o: BreakdownOptions & { keepValues?: boolean }): Breakdown {
  validateBreakdownOptions(o);
  const P = points.length;
  const S = P - 1;

  // The merged stages that occur: pairs (a, b), b > a + 1, of consecutive points present in a request after warm-up.
  const seen = new Uint8Array(P * P);
  runs.forEach((run) => {
    const t = run.times;
    const n = t.length / P;
    for (let j = Math.min(o.warmup, n); j < n; j++) {
      const at = j * P;
      if (Number.isNaN(t[at]!) || Number.isNaN(t[at + S]!)) {
        throw new Error(`breakdown: run ${run.label}: complete request ${j} has no time at its ${Number.isNaN(t[at]!) ? 'first' : 'last'} point (a point absent by design is never the first or the last)`);
      }
      let a = 0;
      for (let b = 1; b < P; b++) {
        if (Number.isNaN(t[at + b]!)) continue;
        if (b > a + 1) seen[a * P + b] = 1;
        a = b;
      }
    }
  });
  // The rows: split stage s, then the merged ones ending where it ends, by their first point.
  const rows: { from: number; to: number }[] = [];
  for (let s = 0; s < S; s++) {
    rows.push({ from: s, to: s + 1 });
    for (let a = 0; a < s; a++) if (seen[a * P + s + 1]) rows.push({ from: a, to: s + 1 });
  }
  const R = rows.length;
  const rowOf = rowTable(P, rows);

  const results: RunResult[] = [];
  const excluded: UnaveragedRun[] = [];
  const keptFlags: Uint8Array[] = [];
  runs.forEach((run, index) => {
    const t = run.times;
    const n = t.length / P;
    const total = (j: number): number => t[j * P + S]! - t[j * P]!;
    const flags = new Uint8Array(n);
    keptFlags.push(flags);
    const first = Math.min(o.warmup, n);
    flags.fill(2, 0, first);
    const m = n - first;
    if (m === 0) {
      excluded.push({ index, label: run.label, complete: n, why: n === 0 ? 'no-complete-request' : 'warmup' });
      return;
    }
    const keep = trimMiddle(first, m, o.trim, total);
    for (const j of keep) flags[j] = 1;
    // By total: each kept request's segments (consecutive points present) into their rows, in start order.
    const sums = new Float64Array(R);
    const counts = new Int32Array(R);
    const byTotal = o.trimBy === 'total';
    const keptNs: Float64Array[] | null = o.keepValues ? [] : null;
    const keptByTotal = byTotal && keptNs ? rows.map(() => new Float64Array(keep.length)) : null;
    for (let q = 0; q < keep.length; q++) {
      const at = keep[q]! * P;
      let a = 0;
      for (let b = 1; b < P; b++) {
        const tb = t[at + b]!;
        if (Number.isNaN(tb)) continue;
        const r = rowOf[a * P + b]!;
        const d = tb - t[at + a]!;
        sums[r] = sums[r]! + d;
        counts[r]!++;
        if (keptByTotal) keptByTotal[r]![q] = d;
        a = b;
      }
    }
    let stagesNs: number[];
    if (byTotal) {
      stagesNs = Array.from(sums, (x) => x / keep.length);
      if (keptNs) keptNs.push(...keptByTotal!);
    } else {
      stagesNs = [];
      const values = rowValues(t, P, first, n, rows, rowOf);
      for (let r = 0; r < R; r++) {
        const { has, v } = values[r]!;
        const h = has.length;
        // The requests that have the row, trimmed on its values; the others (0) trimmed at the same fraction.
        const kh = trimMiddle(0, h, o.trim, (q) => v[q]!);
        const k0 = Math.floor(o.trim * (m - h));
        const zeros = m - h - 2 * k0;
        let sum = 0;
        for (const q of kh) sum += v[q]!;
        stagesNs.push(sum / (kh.length + zeros));
        if (keptNs) keptNs.push(mergeKept(first, n, has, v, kh, k0, zeros));
      }
    }
    if (keptNs) keptNs.push(Float64Array.from(keep, total));
    results.push({ label: run.label, index, complete: n, kept: keep.length, stagesNs, stageRequests: Array.from(counts), totalNs: meanOf(keep, total), keptFlags: flags, keptNs });
  });

  // The tail: every reported run's complete requests after warm-up, untrimmed; one row at a time
  // (one buffer), each run's times read again per row (a run's times may be built on each read:
  // runs.ts RunGroup.times).
  const after = results.map((r) => ({ run: runs[r.index]!, first: Math.min(o.warmup, r.complete), n: r.complete }));
  const tailRequests = after.reduce((a, r) => a + r.n - r.first, 0);
  const buf = new Float64Array(tailRequests);
  /** The durations of row (a, b) (the total: a = 0, b = S, `whole`) of the requests that have it. */
  const tailOfRow = (a: number, b: number, whole = false): { tail: Tail; n: number } => {
    let k = 0;
    for (const r of after) {
      const t = r.run.times;
      for (let j = r.first; j < r.n; j++) {
        const at = j * P;
        const ta = t[at + a]!;
        const tb = t[at + b]!;
        if (Number.isNaN(ta) || Number.isNaN(tb)) continue;
        if (!whole && b > a + 1) {
          let gap = true;
          for (let p = a + 1; p < b && gap; p++) gap = Number.isNaN(t[at + p]!);
          if (!gap) continue;
        }
        buf[k++] = tb - ta;
      }
    }
    return { tail: tailOf(buf.subarray(0, k), tailRequests), n: k };
  };
  const totalTail = tailOfRow(0, S, true).tail;

  const total = across(results.map((r) => r.totalNs));
  const stages = rows.map(({ from: a, to: b }, k): StageRow => {
    const st = across(results.map((r) => r.stagesNs[k]!));
    const from = points[a]!;
    const to = points[b]!;
    const { tail, n } = tailOfRow(a, b);
    const name = `${from}->${to}`;
    return {
      name,
      from,
      to,
      fromIndex: a,
      toIndex: b,
      merged: b > a + 1,
      spans: points.slice(a, b).map((p, i) => `${p}->${points[a + i + 1]!}`),
      requests: results.reduce((x, r) => x + r.stageRequests[k]!, 0),
      ...st,
      share: total.meanNs > 0 ? st.meanNs / total.meanNs : 0,
      tail,
      tailRequests: n,
      untrimmedShare: totalTail.untrimmedMeanNs > 0 ? tail.untrimmedMeanNs / totalTail.untrimmedMeanNs : 0,
    };
  });
  return {
    points,
    stages,
    total: { ...total, tail: totalTail },
    tailRequests,
    runs: results,
    excluded,
    keptFlags,
    addsUp: o.trimBy === 'total',
    options: { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy },
  };
}

function meanOf(idx: Int32Array, f: (j: number) => number): number {
  let sum = 0;
  for (const j of idx) sum += f(j);
  return sum / idx.length;
}

/** Per row: the requests j ∈ [first, n) that have it (start order) and their durations there. */
function rowValues(t: Float64Array, P: number, first: number, n: number, rows: readonly unknown[], rowOf: Int32Array): { has: Int32Array; v: Float64Array }[] {
  const count = new Int32Array(rows.length);
  const each = (visit: (r: number, j: number, d: number) => void): void => {
    for (let j = first; j < n; j++) {
      const at = j * P;
      let a = 0;
      for (let b = 1; b < P; b++) {
        const tb = t[at + b]!;
        if (Number.isNaN(tb)) continue;
        visit(rowOf[a * P + b]!, j, tb - t[at + a]!);
        a = b;
      }
    }
  };
  each((r) => count[r]!++);
  const out = Array.from(count, (c) => ({ has: new Int32Array(c), v: new Float64Array(c) }));
  count.fill(0);
  each((r, j, d) => {
    const k = count[r]!++;
    out[r]!.has[k] = j;
    out[r]!.v[k] = d;
  });
  return out;
}

/**
 * The values a row's mean (trimmed by stage) was taken over, in start order: the kept requests
 * that have it (positions `kh` of `has`) with their durations, and the requests of [first, n)
 * without it, but the first `k0` and the last `k0` of them, with 0.
 */
function mergeKept(first: number, n: number, has: Int32Array, v: Float64Array, kh: Int32Array, k0: number, zeros: number): Float64Array {
  const out = new Float64Array(kh.length + zeros);
  let w = 0;
  let q = 0; // next position of kh
  let h = 0; // next position of has
  let z = 0; // requests without the row met so far
  for (let j = first; j < n; j++) {
    if (h < has.length && has[h] === j) {
      if (q < kh.length && kh[q] === h) {
        out[w++] = v[h]!;
        q++;
      }
      h++;
    } else {
      if (z >= k0 && z < k0 + zeros) out[w++] = 0;
      z++;
    }
  }
  return out;
}
