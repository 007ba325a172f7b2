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

export interface Breakdown {
  points: string[];
  stages: (Stat & { name: string; from: string; to: string; share: number })[];
  total: Stat;
  runs: RunResult[];
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
  return { meanNs: mean(values), stddevNs: values.length > 1 ? sampleStandardDeviation(values) : null };
}

export function breakdown(points: string[], runs: RunInput[], o: BreakdownOptions & { keepValues?: boolean }): Breakdown {
  validateBreakdownOptions(o);
  const P = points.length;
  const S = P - 1;
  const results: RunResult[] = runs.map((run) => {
    const n = run.times.length / P;
    if (n === 0) throw new InputError(`run ${run.label} has no complete request; nothing to average (see the data-quality counts with --format json, or check the markers and the profile)`);
    const t = run.times;
    const stage = (s: number) => (j: number): number => t[j * P + s + 1]! - t[j * P + s]!;
    const total = (j: number): number => t[j * P + S]! - t[j * P]!;
    const flags = new Uint8Array(n);
    const first = Math.min(o.warmup, n);
    flags.fill(2, 0, first);
    const m = n - first;
    if (m === 0) throw new InputError(`run ${run.label}: --warmup ${o.warmup} drops all its ${n} complete requests; use a smaller --warmup`);
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
    return { label: run.label, complete: n, kept: keep.length, stagesNs, totalNs: meanOver(keep, total), keptFlags: flags, keptNs };
  });
  const total = across(results.map((r) => r.totalNs));
  const stages = points.slice(1).map((to, s) => {
    const st = across(results.map((r) => r.stagesNs[s]!));
    const from = points[s]!;
    return { name: `${from}->${to}`, from, to, ...st, share: total.meanNs > 0 ? st.meanNs / total.meanNs : 0 };
  });
  return { points, stages, total, runs: results, addsUp: o.trimBy === 'total', options: { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy } };
}
