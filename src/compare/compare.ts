/**
 * The verdict: per stage and for the total, did the candidate change by a size that matters (above
 * both the relative threshold and the absolute floor), is it provably the same, or is it neither
 * yet? Runs are the unit of replication: requests within one run share the machine's state, so a
 * per-request test overstates significance. With at least 3 runs a side:
 *  - regressed / improved: the run-level Welch t-test is significant after Holm's correction over
 *    every stage and the total (family-wise error ≤ alpha whatever the dependence between stages)
 *    and |delta| is above the size that matters;
 *  - same: the (1 − 2·alpha) Welch interval of the delta over run means lies inside ± the size that
 *    matters (two one-sided tests, TOST, each at alpha);
 *  - inconclusive: neither; the comparison says how many runs a side would likely decide it.
 * A stage across clock domains is exact only up to the two sides' clock-offset uncertainties
 * (Side.clockUncertaintyNs): a change counts only beyond their sum, and `same` needs the interval
 * widened by it inside the size that matters.
 * With fewer runs every verdict is inconclusive, unless `allowPerRequest` lets the per-request
 * Mann-Whitney test (Holm-corrected, with the bootstrap interval excluding 0) and a Welch interval
 * over requests decide. The per-request test and a bootstrap interval are reported either way.
 * Stages are matched by name. A merged stage (requests batched between its two points,
 * src/analysis/breakdown.ts) may occur on one side only: it is listed in `one_sided_stages`, not
 * tested and not in Holm's family (the family is the stages tested and the total); the total and
 * the stages on both sides decide.
 */
import { formatNs, formatP, formatSignedNs, pct, pctPrecise } from '../report/format.js';
import { mean, sampleVariance } from 'simple-statistics';
import { InputError } from '../core/errors.js';
import { bootstrapDeltaCI, holmAdjust, mannWhitneyU, twoSampleSizePerGroup, welchEquivalence, welchTTest, type EquivalenceResult } from '../analysis/significance.js';
import type { Layer } from '../profiles/layers.js';
import type { Side } from './sides.js';

export type Verdict = 'regressed' | 'improved' | 'inconclusive' | 'same';

export interface CompareOptions {
  /** Relative size that matters, as a fraction (0.05 = 5 %). */
  threshold: number;
  /** Absolute size that matters (ns). */
  floorNs: number;
  /** Family-wise error rate of regressed/improved (Holm) and level of each equivalence test; below ½. */
  alpha: number;
  allowPerRequest: boolean;
  /** Bootstrap seed and resamples (deterministic). */
  seed: number;
  resamples: number;
}

export interface StageComparison {
  name: string;
  /** Where the stage's time is spent (the reports' `layer`, src/profiles/layers.ts); null for the total. */
  layer: Layer | null;
  baseline_ns: number;
  candidate_ns: number;
  delta_ns: number;
  delta_pct: number;
  /** Run-level Welch t-test p, raw (null with fewer than 2 runs on a side). */
  p_value: number | null;
  /** Per-request Mann-Whitney U p, raw (null without per-request data). */
  p_value_requests: number | null;
  /** Holm-adjusted p (over every stage and the total) of the deciding test (decided_by) of a change beyond ±clock_uncertainty_ns; null when no test decides. */
  p_adjusted: number | null;
  /** Bootstrap percentile interval of the delta, over requests when both sides have them, else over run means. */
  ci_ns: [number, number] | null;
  ci_unit: 'requests' | 'runs' | null;
  /** Which test decided the significance. */
  decided_by: 'welch-runs' | 'mann-whitney-requests' | 'none';
  /** The size that matters: max(threshold · |baseline|, floor). */
  margin_ns: number;
  /** How far the sides' clock offsets may move the delta (± ns, the sum of the two reports' uncertainty_ns; 0 within one domain). */
  clock_uncertainty_ns: number;
  size_matters: boolean;
  /** The deciding test's raw p is below alpha (uncorrected; the verdict uses significant_adjusted). */
  significant: boolean;
  /** p_adjusted is below alpha (and, per request, the bootstrap interval excludes 0). */
  significant_adjusted: boolean;
  /** The (1 − 2·alpha) Welch interval of the delta (TOST), widened by ±clock_uncertainty_ns; `same` needs it inside ±margin_ns. */
  equivalence_ci_ns: [number, number] | null;
  equivalence_unit: 'runs' | 'requests' | null;
  /** TOST p against ±(margin_ns − clock_uncertainty_ns): below alpha exactly when equivalence_ci_ns is inside ±margin_ns. */
  p_equivalence: number | null;
  /** When inconclusive: runs a side that would likely decide it (README "Compare: a verdict for CI"); else null. */
  runs_needed: number | null;
  verdict: Verdict;
  why: string;
}

export interface Comparison {
  version: 1;
  profile: string;
  options: {
    threshold: number;
    floor_ns: number;
    alpha: number;
    allow_per_request: boolean;
    warmup: number;
    trim: number;
    trim_by: string;
    bootstrap: { seed: number; resamples: number };
    /** Multiple-test correction of regressed/improved over every stage and the total. */
    correction: 'holm';
    /** Coverage of equivalence_ci_ns: 1 − 2·alpha. */
    equivalence_level: number;
  };
  /** `excluded_runs`: runs the side's report could not average (not compared), with why. */
  baseline: { source: string; kind: string; runs: number; excluded_runs: { run: string; why: string }[] };
  candidate: { source: string; kind: string; runs: number; excluded_runs: { run: string; why: string }[] };
  total: StageComparison;
  stages: StageComparison[];
  /** Stages reported on one side only (merged stages: requests batched between their points), not compared. */
  one_sided_stages: OneSidedStage[];
  verdict: Verdict;
  counts: Record<Verdict, number>;
}

/** A stage of one side that the other side does not have (a merged stage: batched requests on that side only). */
export interface OneSidedStage {
  name: string;
  side: 'baseline' | 'candidate';
  layer: Layer;
  /** Its mean on that side (mean of the run means: the contribution per kept request). */
  mean_ns: number;
  why: string;
}

/** Refuses sides that cannot be compared. */
export function checkComparable(a: Side, b: Side): void {
  if (a.profile !== b.profile) throw new InputError(`cannot compare: the baseline is profile ${a.profile}, the candidate ${b.profile}`);
  if (a.points.join(' ') !== b.points.join(' ')) {
    throw new InputError(`cannot compare: the stages differ (baseline ${a.points.join('→')}; candidate ${b.points.join('→')}); an optional point is present on one side only`);
  }
  const m = (s: Side): string => `--warmup ${s.method.warmup} --trim ${s.method.trim} --trim-by ${s.method.trim_by}`;
  if (m(a) !== m(b)) throw new InputError(`cannot compare: the baseline was reported with ${m(a)}, the candidate with ${m(b)}; report both with the same options`);
  const f = (s: Side): string => (s.method.filters.length ? s.method.filters.map((x) => `--filter ${x}`).join(' ') : 'no --filter');
  if (f(a) !== f(b)) throw new InputError(`cannot compare: the baseline's requests were filtered with ${f(a)}, the candidate's with ${f(b)}; report both with the same filters`);
}

/** The defaults of `xtrace compare` (its help prints them). */
export const COMPARE_DEFAULTS: CompareOptions = { threshold: 0.05, floorNs: 500, alpha: 0.05, allowPerRequest: false, seed: 1, resamples: 2000 };

const MIN_RUNS = 3;
/** Largest per-request sample (a side) bootstrapped directly (2000 resamples of 50k values ≈ 1 s a stage). */
const BOOTSTRAP_MAX = 50_000;
/** Power assumed when saying how many runs would decide an inconclusive stage. */
const RUNS_NEEDED_POWER = 0.8;

/** One stage's numbers and tests, before the family's correction turns them into a verdict. */
interface Measured {
  /** The stage's fields; p_adjusted, significant_adjusted and runs_needed are placeholders that decide() fills. */
  row: Omit<StageComparison, 'verdict' | 'why'>;
  /** The p of the deciding test (of a change beyond the clock uncertainty), null when none decides: Holm's family. */
  decidingP: number | null;
  /** The deciding unit's equivalence interval, widened by the clock uncertainty, lies inside ±margin. */
  equivalent: boolean;
  ciExcludes0: boolean;
  runMeans: [number[], number[]];
}

/**
 * p of "no change beyond ±clock" (a minimal-effect test): the test run on the candidate moved
 * toward the baseline by `clock`, the least favourable change under that hypothesis; 1 when
 * |delta| ≤ clock or the test sees the change in the other direction. The test's own p when clock is 0.
 */
function pBeyondClock(test: 'welch' | 'mann-whitney', a: readonly number[], b: readonly number[], delta: number, clock: number, p: number): number {
  if (clock === 0) return p;
  if (Math.abs(delta) <= clock) return 1;
  const moved = b.map((v) => v - Math.sign(delta) * clock);
  if (test === 'welch') return welchTTest(a, moved).p;
  const r = mannWhitneyU(a, moved);
  return Math.sign(r.z) === Math.sign(delta) ? r.p : 1;
}

/** Stage `name`, at `ia` in the baseline's names and `ib` in the candidate's. */
function measure(name: string, ia: number, ib: number, a: Side, b: Side, o: CompareOptions): Measured {
  const ra = a.runMeans[ia]!;
  const rb = b.runMeans[ib]!;
  const base = mean(ra);
  const cand = mean(rb);
  const delta = cand - base;
  const relative = base !== 0 ? delta / base : delta === 0 ? 0 : Infinity;
  const margin = Math.max(o.threshold * Math.abs(base), o.floorNs);
  const clock = a.clockUncertaintyNs[ia]! + b.clockUncertaintyNs[ib]!;
  // The offsets may move the delta by ±clock: `same` needs the interval inside ±(margin − clock).
  const tost = { margin: Math.max(0, margin - clock), alpha: o.alpha };
  // Over run means: the Welch test and its equivalence interval whenever both sides have 2 runs (deciding from MIN_RUNS).
  const overRuns = ra.length >= 2 && rb.length >= 2 ? welchEquivalence(ra, rb, tost) : null;
  const pRuns = overRuns?.welch.p ?? null;
  // The per-request values stay typed arrays (a JS array of 700k numbers a stage and side would double what the sides hold).
  const qa = a.requests?.[ia] ?? null;
  const qb = b.requests?.[ib] ?? null;
  const perRequest = qa && qb && qa.length > 0 && qb.length > 0;
  const pReq = perRequest ? mannWhitneyU(qa, qb).p : null;
  // Resampling is linear in the data: beyond BOOTSTRAP_MAX requests a side, the interval is taken over run means.
  const bootRequests = perRequest && qa.length <= BOOTSTRAP_MAX && qb.length <= BOOTSTRAP_MAX;
  const ci = bootRequests ? bootstrapDeltaCI(qa, qb, { seed: o.seed, resamples: o.resamples }) : overRuns ? bootstrapDeltaCI(ra, rb, { seed: o.seed, resamples: o.resamples }) : null;
  const ciExcludes0 = ci !== null && (ci[0] > 0 || ci[1] < 0);

  let decided: StageComparison['decided_by'] = 'none';
  let decidingP: number | null = null;
  let equivalence: EquivalenceResult | null = overRuns;
  if (ra.length >= MIN_RUNS && rb.length >= MIN_RUNS) {
    decided = 'welch-runs';
    decidingP = pBeyondClock('welch', ra, rb, delta, clock, pRuns!);
  } else if (o.allowPerRequest && perRequest && qa.length >= 2 && qb.length >= 2) {
    decided = 'mann-whitney-requests';
    // (Only with --allow-per-request and fewer than 3 runs a side: the Welch tests take arrays.)
    const [la, lb] = [Array.from(qa), Array.from(qb)];
    decidingP = pBeyondClock('mann-whitney', la, lb, delta, clock, pReq!);
    equivalence = welchEquivalence(la, lb, tost);
  }
  const significant = decided === 'welch-runs' ? pRuns! < o.alpha : decided === 'mann-whitney-requests' ? pReq! < o.alpha && ciExcludes0 : false;
  return {
    row: {
      name,
      layer: a.layers?.[ia] ?? b.layers?.[ib] ?? (name === 'total' ? null : 'other'),
      baseline_ns: base,
      candidate_ns: cand,
      delta_ns: delta,
      delta_pct: relative,
      p_value: pRuns,
      p_value_requests: pReq,
      p_adjusted: null,
      ci_ns: ci,
      ci_unit: bootRequests ? 'requests' : ci ? 'runs' : null,
      decided_by: decided,
      margin_ns: margin,
      clock_uncertainty_ns: clock,
      size_matters: Math.abs(delta) > margin,
      significant,
      significant_adjusted: false,
      equivalence_ci_ns: equivalence ? [equivalence.interval[0] - clock, equivalence.interval[1] + clock] : null,
      equivalence_unit: equivalence === null ? null : equivalence === overRuns ? 'runs' : 'requests',
      p_equivalence: equivalence?.p ?? null,
      runs_needed: null,
    },
    decidingP,
    equivalent: decided !== 'none' && equivalence !== null && equivalence.equivalent,
    ciExcludes0,
    runMeans: [ra, rb],
  };
}

/**
 * Runs a side that would likely decide an inconclusive stage if the observed change and run-mean
 * variances were the truth: the usual two-sample formula (normal approximation, 80 % power,
 * twoSampleSizePerGroup) for the room that more runs can win. A change within the size that
 * matters: the (1 − 2·alpha) interval must shrink inside it, room = margin − clock − |delta| at
 * one-sided alpha. A change beyond it: the test must become significant at the strictest Holm
 * step, room = |delta| − clock at two-sided alpha / comparisons (every stage and the total).
 * Null when there is no room (more runs cannot decide) or a side has fewer than 2 runs (no variance).
 */
function runsNeeded(m: Measured, comparisons: number, o: CompareOptions): number | null {
  const [ra, rb] = m.runMeans;
  if (ra.length < 2 || rb.length < 2) return null;
  const { delta_ns: delta, margin_ns: margin, clock_uncertainty_ns: clock } = m.row;
  const beyond = Math.abs(delta) > margin;
  const room = beyond ? Math.abs(delta) - clock : margin - clock - Math.abs(delta);
  if (!(room > 0)) return null;
  const n = twoSampleSizePerGroup({ varA: sampleVariance(ra), varB: sampleVariance(rb), difference: room, alpha: beyond ? o.alpha / (2 * comparisons) : o.alpha, power: RUNS_NEEDED_POWER });
  return Number.isFinite(n) ? Math.max(MIN_RUNS, n) : null;
}

function decide(m: Measured, pAdjusted: number | null, family: number, comparisons: number, o: CompareOptions): StageComparison {
  const r = m.row;
  const clock = r.clock_uncertainty_ns > 0 ? ` of a change beyond the clock uncertainty ±${formatNs(r.clock_uncertainty_ns)}` : '';
  const test = r.decided_by === 'welch-runs' ? `Welch t-test over run means${clock}` : `per-request Mann-Whitney test${clock} (--allow-per-request)`;
  const significantAdjusted = pAdjusted !== null && pAdjusted < o.alpha && (r.decided_by !== 'mann-whitney-requests' || m.ciExcludes0);
  const size = `±${formatNs(r.margin_ns)} (${pct(o.threshold)} or ${o.floorNs} ns)`;
  const interval = r.equivalence_ci_ns
    ? `the ${pctPrecise(1 - 2 * o.alpha)} interval of Δ over ${r.equivalence_unit}${clock ? ', widened by the clock uncertainty,' : ''} ${formatSignedNs(r.equivalence_ci_ns[0])} … ${formatSignedNs(r.equivalence_ci_ns[1])}`
    : '';
  const tested = `${test}: Holm-adjusted p = ${formatP(pAdjusted)} over ${family} tests`;
  let verdict: Verdict;
  let why: string;
  if (r.decided_by === 'none') {
    verdict = 'inconclusive';
    why = `fewer than ${MIN_RUNS} runs on a side (${m.runMeans[0].length} and ${m.runMeans[1].length}): runs are the unit of replication; per-request p = ${formatP(r.p_value_requests)} is shown, not decisive (--allow-per-request)`;
  } else if (significantAdjusted && r.size_matters) {
    verdict = r.delta_ns > 0 ? 'regressed' : 'improved';
    why = `${tested} < ${o.alpha}, and |Δ| = ${formatNs(Math.abs(r.delta_ns))} is beyond ${size}`;
  } else if (m.equivalent) {
    verdict = 'same';
    why = `${interval} is inside ${size}${significantAdjusted ? ` (${tested}: a real change, smaller than what matters)` : ''}`;
  } else {
    verdict = 'inconclusive';
    why = `${interval} reaches beyond ${size}, and ${r.size_matters ? `the change is not significant (${tested})` : `|Δ| = ${formatNs(Math.abs(r.delta_ns))} is within it`}`;
  }
  const needed = verdict === 'inconclusive' ? runsNeeded(m, comparisons, o) : null;
  if (needed !== null) why += `; about ${needed} runs a side would decide it`;
  else if (verdict === 'inconclusive' && r.clock_uncertainty_ns > 0 && m.runMeans.every((x) => x.length >= 2)) {
    why += `; more runs will not decide it: the clock offsets between the domains may move this stage by ±${formatNs(r.clock_uncertainty_ns)} (give them: --offset)`;
  }
  return { ...r, p_adjusted: pAdjusted, significant_adjusted: significantAdjusted, runs_needed: needed, verdict, why };
}

export function compare(a: Side, b: Side, o: CompareOptions): Comparison {
  checkComparable(a, b);
  if (!(o.alpha > 0 && o.alpha < 0.5)) throw new InputError(`--alpha ${o.alpha}: compare needs alpha below 0.5 (the equivalence interval has coverage 1 − 2·alpha)`);
  // By name: the stages of both sides (the total is last on both), in the baseline's order.
  const measured = a.names.filter((n) => b.names.includes(n)).map((n) => measure(n, a.names.indexOf(n), b.names.indexOf(n), a, b, o));
  const oneSided = (side: Side, other: Side, which: OneSidedStage['side']): OneSidedStage[] =>
    side.names
      .map((name, i) => ({ name, i }))
      .filter(({ name }) => !other.names.includes(name))
      .map(({ name, i }) => ({
        name,
        side: which,
        layer: side.layers?.[i] ?? 'other',
        mean_ns: mean(side.runMeans[i]!),
        why: `on the ${which} only (a merged stage: requests batched between its points there, not on the ${which === 'baseline' ? 'candidate' : 'baseline'}): not compared; the total and the stages of both sides decide`,
      }));
  const adjusted = holmAdjust(measured.map((m) => m.decidingP));
  const family = adjusted.filter((p) => p !== null).length;
  const all = measured.map((m, i) => decide(m, adjusted[i]!, family, measured.length, o));
  const total = all[all.length - 1]!;
  const stages = all.slice(0, -1);
  const counts: Record<Verdict, number> = { regressed: 0, improved: 0, inconclusive: 0, same: 0 };
  for (const s of all) counts[s.verdict]++;
  const verdict: Verdict = counts.regressed ? 'regressed' : counts.inconclusive ? 'inconclusive' : counts.improved ? 'improved' : 'same';
  return {
    version: 1,
    profile: a.profile,
    options: {
      threshold: o.threshold,
      floor_ns: o.floorNs,
      alpha: o.alpha,
      allow_per_request: o.allowPerRequest,
      warmup: a.method.warmup,
      trim: a.method.trim,
      trim_by: a.method.trim_by,
      bootstrap: { seed: o.seed, resamples: o.resamples },
      correction: 'holm',
      equivalence_level: 1 - 2 * o.alpha,
    },
    baseline: { source: a.source, kind: a.kind, runs: a.runs, excluded_runs: a.excludedRuns ?? [] },
    candidate: { source: b.source, kind: b.kind, runs: b.runs, excluded_runs: b.excludedRuns ?? [] },
    total,
    stages,
    one_sided_stages: [...oneSided(a, b, 'baseline'), ...oneSided(b, a, 'candidate')],
    verdict,
    counts,
  };
}
