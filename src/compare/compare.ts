/**
 * The verdict: per stage and for the total, is the candidate slower than the baseline, with a size
 * that matters (above both the relative threshold and the absolute floor) and a significance that
 * holds? Runs are the unit of replication: requests within one run share the machine's state, so
 * a per-request test overstates significance. The run-level Welch t-test decides when both sides
 * have at least 3 runs; the per-request Mann-Whitney test and a bootstrap interval of the delta are
 * reported beside it, and decide only with fewer runs when `allowPerRequest` says so (otherwise
 * the verdict is at most `inconclusive`).
 */
import { formatP } from '../report/format.js';
import { mean } from 'simple-statistics';
import { InputError } from '../core/errors.js';
import { bootstrapDeltaCI, mannWhitneyU, welchTTest } from '../analysis/significance.js';
import type { Side } from './sides.js';

export type Verdict = 'regressed' | 'improved' | 'inconclusive' | 'same';

export interface CompareOptions {
  /** Relative size that matters, as a fraction (0.05 = 5 %). */
  threshold: number;
  /** Absolute size that matters (ns). */
  floorNs: number;
  alpha: number;
  allowPerRequest: boolean;
  /** Bootstrap seed and resamples (deterministic). */
  seed: number;
  resamples: number;
}

export interface StageComparison {
  name: string;
  baseline_ns: number;
  candidate_ns: number;
  delta_ns: number;
  delta_pct: number;
  /** Run-level Welch t-test p (null with fewer than 2 runs on a side). */
  p_value: number | null;
  /** Per-request Mann-Whitney U p (null without per-request data). */
  p_value_requests: number | null;
  /** Bootstrap percentile interval of the delta, over requests when both sides have them, else over run means. */
  ci_ns: [number, number] | null;
  ci_unit: 'requests' | 'runs' | null;
  /** Which test decided the significance. */
  decided_by: 'welch-runs' | 'mann-whitney-requests' | 'none';
  size_matters: boolean;
  significant: boolean;
  verdict: Verdict;
  why: string;
}

export interface Comparison {
  version: 1;
  profile: string;
  options: { threshold: number; floor_ns: number; alpha: number; allow_per_request: boolean; warmup: number; trim: number; trim_by: string; bootstrap: { seed: number; resamples: number } };
  baseline: { source: string; kind: string; runs: number };
  candidate: { source: string; kind: string; runs: number };
  total: StageComparison;
  stages: StageComparison[];
  verdict: Verdict;
  counts: Record<Verdict, number>;
}

/** Refuses sides that cannot be compared. */
export function checkComparable(a: Side, b: Side): void {
  if (a.profile !== b.profile) throw new InputError(`cannot compare: the baseline is profile ${a.profile}, the candidate ${b.profile}`);
  if (a.points.join(' ') !== b.points.join(' ')) {
    throw new InputError(`cannot compare: the stages differ (baseline ${a.points.join('→')}; candidate ${b.points.join('→')}); an optional point is present on one side only`);
  }
  const m = (s: Side): string => `--warmup ${s.method.warmup} --trim ${s.method.trim} --trim-by ${s.method.trim_by}`;
  if (m(a) !== m(b)) throw new InputError(`cannot compare: the baseline was reported with ${m(a)}, the candidate with ${m(b)}; report both with the same options`);
}

/** The defaults of `xtrace compare` (its help prints them). */
export const COMPARE_DEFAULTS: CompareOptions = { threshold: 0.05, floorNs: 500, alpha: 0.05, allowPerRequest: false, seed: 1, resamples: 2000 };

const MIN_RUNS = 3;
/** Largest per-request sample (a side) bootstrapped directly (2000 resamples of 50k values ≈ 1 s a stage). */
const BOOTSTRAP_MAX = 50_000;

function compareOne(name: string, i: number, a: Side, b: Side, o: CompareOptions): StageComparison {
  const ra = a.runMeans[i]!;
  const rb = b.runMeans[i]!;
  const base = mean(ra);
  const cand = mean(rb);
  const delta = cand - base;
  const pct = base !== 0 ? delta / base : delta === 0 ? 0 : Infinity;
  const sizeMatters = Math.abs(delta) > o.threshold * Math.abs(base) && Math.abs(delta) > o.floorNs;
  const pRuns = ra.length >= 2 && rb.length >= 2 ? welchTTest(ra, rb).p : null;
  const qa = a.requests?.[i];
  const qb = b.requests?.[i];
  const perRequest = qa && qb && qa.length > 0 && qb.length > 0;
  const pReq = perRequest ? mannWhitneyU(Array.from(qa), Array.from(qb)).p : null;
  // Resampling is linear in the data: beyond BOOTSTRAP_MAX requests a side, the interval is taken over run means.
  const bootRequests = perRequest && qa.length <= BOOTSTRAP_MAX && qb.length <= BOOTSTRAP_MAX;
  const ci = bootRequests
    ? bootstrapDeltaCI(Array.from(qa), Array.from(qb), { seed: o.seed, resamples: o.resamples })
    : ra.length >= 2 && rb.length >= 2
      ? bootstrapDeltaCI(ra, rb, { seed: o.seed, resamples: o.resamples })
      : null;
  const ciUnit = bootRequests ? 'requests' : ci ? 'runs' : null;
  const ciExcludes0 = ci !== null && (ci[0] > 0 || ci[1] < 0);

  let decided: StageComparison['decided_by'] = 'none';
  let significant = false;
  let why: string;
  if (ra.length >= MIN_RUNS && rb.length >= MIN_RUNS) {
    decided = 'welch-runs';
    significant = pRuns! < o.alpha;
    why = `Welch t-test over ${ra.length} and ${rb.length} run means: p = ${formatP(pRuns)}`;
  } else if (o.allowPerRequest && pReq !== null) {
    decided = 'mann-whitney-requests';
    significant = pReq < o.alpha && ciExcludes0;
    why = `fewer than ${MIN_RUNS} runs on a side: per-request Mann-Whitney p = ${formatP(pReq)}, bootstrap interval ${ciExcludes0 ? 'excludes' : 'contains'} 0 (--allow-per-request)`;
  } else {
    why = `fewer than ${MIN_RUNS} runs on a side (${ra.length} and ${rb.length}): runs are the unit of replication; per-request p = ${formatP(pReq)} is shown, not decisive (--allow-per-request)`;
  }
  const verdict: Verdict = !sizeMatters ? 'same' : significant ? (delta > 0 ? 'regressed' : 'improved') : 'inconclusive';
  if (!sizeMatters) why = `|Δ| = ${Math.abs(delta).toFixed(0)} ns is within ${(o.threshold * 100).toFixed(1)}% or ${o.floorNs} ns; ${why}`;
  return {
    name,
    baseline_ns: base,
    candidate_ns: cand,
    delta_ns: delta,
    delta_pct: pct,
    p_value: pRuns,
    p_value_requests: pReq,
    ci_ns: ci,
    ci_unit: ciUnit,
    decided_by: decided,
    size_matters: sizeMatters,
    significant,
    verdict,
    why,
  };
}


export function compare(a: Side, b: Side, o: CompareOptions): Comparison {
  checkComparable(a, b);
  const all = a.names.map((n, i) => compareOne(n, i, a, b, o));
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
    },
    baseline: { source: a.source, kind: a.kind, runs: a.runs },
    candidate: { source: b.source, kind: b.kind, runs: b.runs },
    total,
    stages,
    verdict,
    counts,
  };
}
