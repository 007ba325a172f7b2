/**
 * The study's statistic. Per run: requests in start order; the first `warmup` complete requests
 * are dropped; the rest are sorted by total latency (first point to last point; ties by start
 * order) and floor(trim·n) fastest and floor(trim·n) slowest are dropped; each stage's mean over
 * the kept requests (so stage means add up to the mean total). Across runs: the mean of the
 * per-run means and their sample standard deviation (n − 1; null with one run).
 * `trimBy: 'stage'` trims every stage on its own values instead (same rule, that stage's values):
 * stages no longer add up.
 *
 * `trimMiddle` is the one trimming rule; everything that needs "the values the means were taken
 * over" (compare's per-request tests) asks the breakdown for them (`keepValues`).
 *
 * A run with no complete request (or one that `warmup` empties) is not averaged: it is listed in
 * `excluded` and the other runs are reported; what to do about it (refuse with --strict, diagnose
 * why) is the pipeline's decision.
 *
 * Beside the headline, the tail: per stage and for the total, over the complete requests of all
 * reported runs together after warm-up, untrimmed, their mean and nearest-rank p50/p90/p99
 * (`nearestRank`).
 */
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { InputError } from '../core/errors.js';

export interface RunInput {
  label: string;
  /** Point times of the run's complete requests in start order, `points` per request. */
  times: Float64Array;
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
  stagesNs: number[];
  totalNs: number;
  /** Per complete request (start order): 1 when kept (by-total trimming), 2 when dropped as warm-up, 0 when trimmed. */
  keptFlags: Uint8Array;
  /** With `keepValues`: per stage, then the total, the values its mean was taken over (kept requests, start order). */
  keptNs: Float64Array[] | null;
}

export interface Stat {
  meanNs: number;
  stddevNs: number | null;
}

/** The untrimmed view of one stage (or the total): all reported runs' complete requests after warm-up. */
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

export interface Breakdown {
  points: string[];
  /** `tail`: untrimmed mean and percentiles; `untrimmedShare`: its untrimmed mean over the total's untrimmed mean. */
  stages: (Stat & { name: string; from: string; to: string; share: number; tail: Tail; untrimmedShare: number })[];
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
 * requests sorts nothing).
 */
export function tailOf(values: Float64Array): Tail {
  const n = values.length;
  if (n === 0) return { untrimmedMeanNs: NaN, p50Ns: NaN, p90Ns: NaN, p99Ns: NaN };
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
  return { untrimmedMeanNs: sum / n, p50Ns: values[r50]!, p90Ns: values[r90]!, p99Ns: values[r99]! };
}

export function breakdown(points: string[], runs: RunInput[], o: BreakdownOptions & { keepValues?: boolean }): Breakdown {
  validateBreakdownOptions(o);
  const P = points.length;
  const S = P - 1;
  const results: RunResult[] = [];
  const excluded: UnaveragedRun[] = [];
  const keptFlags: Uint8Array[] = [];
  runs.forEach((run, index) => {
    const n = run.times.length / P;
    const t = run.times;
    const stage = (s: number) => (j: number): number => t[j * P + s + 1]! - t[j * P + s]!;
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
    const meanOver = (idx: Int32Array, f: (j: number) => number): number => {
      let sum = 0;
      for (const j of idx) sum += f(j);
      return sum / idx.length;
    };
    const keptBy = (s: number): Int32Array => (o.trimBy === 'total' ? keep : trimMiddle(first, m, o.trim, stage(s)));
    const stagesNs: number[] = [];
    const keptNs: Float64Array[] | null = o.keepValues ? [] : null;
    for (let s = 0; s < S; s++) {
      const idx = keptBy(s);
      stagesNs.push(meanOver(idx, stage(s)));
      if (keptNs) keptNs.push(Float64Array.from(idx, stage(s)));
    }
    if (keptNs) keptNs.push(Float64Array.from(keep, total));
    results.push({ label: run.label, index, complete: n, kept: keep.length, stagesNs, totalNs: meanOver(keep, total), keptFlags: flags, keptNs });
  });

  // The tail: every reported run's complete requests after warm-up, untrimmed; one stage at a time (one buffer).
  const after = results.map((r) => ({ t: runs[r.index]!.times, first: Math.min(o.warmup, r.complete), n: r.complete }));
  const tailRequests = after.reduce((a, r) => a + r.n - r.first, 0);
  const buf = new Float64Array(tailRequests);
  const tailBetween = (from: number, to: number): Tail => {
    let k = 0;
    for (const r of after) for (let j = r.first; j < r.n; j++) buf[k++] = r.t[j * P + to]! - r.t[j * P + from]!;
    return tailOf(buf);
  };
  const totalTail = tailBetween(0, S);

  const total = across(results.map((r) => r.totalNs));
  const stages = points.slice(1).map((to, s) => {
    const st = across(results.map((r) => r.stagesNs[s]!));
    const from = points[s]!;
    const tail = tailBetween(s, s + 1);
    return {
      name: `${from}->${to}`,
      from,
      to,
      ...st,
      share: total.meanNs > 0 ? st.meanNs / total.meanNs : 0,
      tail,
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
