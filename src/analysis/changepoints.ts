/**
 * Change points in a series of reports (`xtrace history`): where did a stage's latency step up or
 * down, and by how much? E-Divisive means (Matteson & James, 2014: the split that maximises the
 * energy distance between the two sides) found recursively, each split kept only when a t-test
 * says the two sides differ (as Apache Otava does instead of the permutation test, so the result
 * is deterministic), then every change point re-tested against its final neighbours. Pure
 * functions, no I/O.
 *
 * The t-test is Student's, with the two sides' variance pooled: the model is a shift of the mean
 * with the same noise on both sides. Welch's unequal-variance test was tried first and measured
 * worse: a side of two reports whose ten runs all fell in the tight low mode of a two-mode stage
 * (be_map->be_submit of the simulated blkback) has a tiny variance, Welch's standard error
 * follows it and the step got p ~1e-14 in a stable series (3 of 200 series with a false change
 * point at 5 runs per report, none with the pooled variance).
 *
 * A report is a group of replicates (its per-run means). Two guards keep noise out:
 *  - magnitude: a step smaller than `thresholdPct` of the mean before, or than `floorNs`, is not one;
 *  - one report never makes a step: with any single report left out of either side, the step
 *    must stay as big (threshold, floor), go the same way and stay significant at `alpha` (a lone
 *    outlier report is not a change point), and each side holds at least `minReports` reports.
 * Several series tested together (the total and each stage) share the level: each is tested at
 * alpha / tests (Bonferroni), and the p-values reported are multiplied by `tests`.
 *
 * Assumptions (README "history"): the replicates of a side are independent draws around its mean
 * (runs of a report, reports of a segment) with the same spread on both sides; the t-test is
 * approximate for skewed latencies, and choosing the split first makes its p optimistic, which
 * the small default level (0.001, Otava's) and the guards compensate for.
 */
import { studentTQuantile, studentTTwoSidedP } from './significance.js';

export interface ChangePointOptions {
  /** Family-wise significance level (e.g. 0.001). */
  alpha: number;
  /** Series tested together (Bonferroni): each is tested at alpha / tests. */
  tests: number;
  /** Reports at least on each side of a change point. */
  minReports: number;
  /** Smallest |relative step|, percent of the mean before. */
  thresholdPct: number;
  /** Smallest |after − before|, ns. */
  floorNs: number;
  /** Confidence level of the step's interval (e.g. 0.95). */
  ciLevel: number;
}

export interface ChangePoint {
  /** First report (0-based) after the change. */
  index: number;
  /** Mean of the replicates of the segment before (from the previous change point) and after (to the next). */
  beforeMean: number;
  afterMean: number;
  /** 100 · (after − before) / before. */
  deltaPct: number;
  /** Interval of after − before at ciLevel (Student, pooled variance), in percent of before. */
  ciPct: [number, number];
  /** Two-sided p of before against after (Student, pooled variance), times `tests`, at most 1. */
  pValue: number;
  direction: 'regressed' | 'improved';
}

export const CHANGE_POINT_DEFAULTS: Omit<ChangePointOptions, 'tests'> = { alpha: 0.001, minReports: 2, thresholdPct: 5, floorNs: 500, ciLevel: 0.95 };

/** The change points of one series: groups[i] = the replicates of report i (non-empty, finite). */
export function changePoints(groups: readonly (readonly number[])[], o: ChangePointOptions): ChangePoint[] {
  const n = groups.length;
  groups.forEach((g, i) => {
    if (g.length === 0 || g.some((v) => !Number.isFinite(v))) throw new RangeError(`changePoints: report ${i} has no replicate or a value that is not a finite number`);
  });
  const level = o.alpha / o.tests;
  const found: number[] = [];
  const search = (a: number, b: number): void => {
    if (b - a < 2 * o.minReports) return;
    const t = bestSplit(groups, a, b, o.minReports);
    if (t < 0 || !passes(groups, [a, t], [t, b], level, o).ok) return;
    found.push(t);
    search(a, t);
    search(t, b);
  };
  search(0, n);
  found.sort((x, y) => x - y);
  // Each change point against its final neighbours; the weakest failure leaves, until all pass.
  for (;;) {
    let worst = -1;
    let worstP = -1;
    found.forEach((c, i) => {
      const r = passes(groups, [i === 0 ? 0 : found[i - 1]!, c], [c, i === found.length - 1 ? n : found[i + 1]!], level, o);
      if (!r.ok && r.p > worstP) {
        worstP = r.p;
        worst = i;
      }
    });
    if (worst < 0) break;
    found.splice(worst, 1);
  }
  return found.map((c, i) => {
    const before = replicates(groups, i === 0 ? 0 : found[i - 1]!, c);
    const after = replicates(groups, c, i === found.length - 1 ? n : found[i + 1]!);
    const w = pooledTTest(before, after);
    const pct = (x: number): number => (100 * x) / w.meanA;
    const half = w.se === 0 ? 0 : studentTQuantile((1 + o.ciLevel) / 2, w.df) * w.se;
    return {
      index: c,
      beforeMean: w.meanA,
      afterMean: w.meanB,
      deltaPct: pct(w.delta),
      ciPct: [pct(w.delta - half), pct(w.delta + half)],
      pValue: Math.min(1, w.p * o.tests),
      direction: w.delta > 0 ? 'regressed' : 'improved',
    };
  });
}

function replicates(groups: readonly (readonly number[])[], a: number, b: number, skip = -1): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) if (i !== skip) for (const v of groups[i]!) out.push(v);
  return out;
}

/**
 * The split t of [a, b) (minReports reports at least on each side, two replicates at least) with
 * the largest energy statistic Q(t) = m·k/(m+k) · (2/(mk) Σ|x−y| − Σ_{i<j}|x_i−x_j| / C(m,2) −
 * Σ_{i<j}|y_i−y_j| / C(k,2)); the first one on ties; −1 when there is no candidate.
 */
export function bestSplit(groups: readonly (readonly number[])[], a: number, b: number, minReports: number): number {
  const x = replicates(groups, a, b);
  const N = x.length;
  // The sums of |x_i − x_j| within the left side, within the right and across, updated as each
  // replicate moves from right to left: O(N²) time, O(N) memory (a distance matrix of 10 runs ×
  // 1,000 reports would take 800 MB).
  const dist = (v: number, from: number, to: number): number => {
    let d = 0;
    for (let i = from; i < to; i++) d += Math.abs(v - x[i]!);
    return d;
  };
  let m = 0;
  let wL = 0;
  let wR = 0;
  for (let i = 0; i < N; i++) wR += dist(x[i]!, i + 1, N);
  let across = 0;
  let best = -1;
  let bestQ = -Infinity;
  for (let t = a; t <= b - minReports; t++) {
    if (t >= a + minReports) {
      const k = N - m;
      if (m >= 2 && k >= 2) {
        const e = (2 * across) / (m * k) - wL / ((m * (m - 1)) / 2) - wR / ((k * (k - 1)) / 2);
        const q = ((m * k) / (m + k)) * e;
        if (q > bestQ) {
          bestQ = q;
          best = t;
        }
      }
    }
    // Report t's replicates move to the left side.
    for (let r = 0; r < groups[t]!.length; r++, m++) {
      const v = x[m]!;
      const toLeft = dist(v, 0, m);
      const toRight = dist(v, m + 1, N);
      wL += toLeft;
      wR -= toRight;
      across += toRight - toLeft;
    }
  }
  return best;
}

/**
 * Does [l0, l1) against [r0, r1) show a step? The t-test's p below the level, the step at least the
 * threshold and the floor, and the same with any one report of either side left out. `p`: the
 * raw p of the whole sides (the weakest failure is the one with the largest).
 */
function passes(groups: readonly (readonly number[])[], [l0, l1]: [number, number], [r0, r1]: [number, number], level: number, o: ChangePointOptions): { ok: boolean; p: number } {
  const whole = step(replicates(groups, l0, l1), replicates(groups, r0, r1), level, o);
  if (!whole.ok) return whole;
  // Any one report left out: still a step as big, the same way, significant at alpha itself (the
  // series' share of it is for finding the step; this is for not resting it on one report).
  const sign = Math.sign(whole.delta);
  const holds = (L: number[], R: number[]): boolean => {
    if (L.length < 2 || R.length < 2) return false;
    const s = step(L, R, o.alpha, o);
    return s.ok && Math.sign(s.delta) === sign;
  };
  for (let r = l0; r < l1; r++) if (l1 - l0 >= 2 && !holds(replicates(groups, l0, l1, r), replicates(groups, r0, r1))) return { ok: false, p: whole.p };
  for (let r = r0; r < r1; r++) if (r1 - r0 >= 2 && !holds(replicates(groups, l0, l1), replicates(groups, r0, r1, r))) return { ok: false, p: whole.p };
  return whole;
}

function step(L: number[], R: number[], level: number, o: ChangePointOptions): { ok: boolean; p: number; delta: number } {
  if (L.length < 2 || R.length < 2) return { ok: false, p: 1, delta: 0 };
  const w = pooledTTest(L, R);
  const big = Math.abs(w.delta) >= o.floorNs && (100 * Math.abs(w.delta)) / w.meanA >= o.thresholdPct;
  return { ok: w.p < level && big, p: w.p, delta: w.delta };
}

export interface PooledT {
  meanA: number;
  meanB: number;
  /** meanB − meanA */
  delta: number;
  /** Standard error of delta, sp·√(1/nA + 1/nB), sp² the pooled variance; 0 when both sides are constant. */
  se: number;
  /** nA + nB − 2 */
  df: number;
  /** Two-sided p: P(|T_df| ≥ |delta / se|); when se = 0, 0 if the means differ, else 1. */
  p: number;
}

/** Student's two-sample t-test with pooled variance (each side at least 2 values). */
export function pooledTTest(a: readonly number[], b: readonly number[]): PooledT {
  const mean = (v: readonly number[]): number => v.reduce((x, y) => x + y, 0) / v.length;
  const meanA = mean(a);
  const meanB = mean(b);
  const ss = a.reduce((x, v) => x + (v - meanA) ** 2, 0) + b.reduce((x, v) => x + (v - meanB) ** 2, 0);
  const df = a.length + b.length - 2;
  const se = Math.sqrt((ss / df) * (1 / a.length + 1 / b.length));
  const delta = meanB - meanA;
  const p = se === 0 ? (delta === 0 ? 1 : 0) : studentTTwoSidedP(delta / se, df);
  return { meanA, meanB, delta, se, df, p };
}
