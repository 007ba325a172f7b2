/**
 * What the pictures of a report need beyond the report model (src/pipeline/figures.ts computes
 * it; the HTML reporter draws it): per stage and for the total, the distribution of the complete
 * requests as a histogram on a log time axis (kept and trimmed requests apart), and the slowest
 * kept requests with the events of their points. Not part of the JSON contract: it is drawn, not
 * read by programs (SQL answers those questions).
 */
import type { Bin } from './svg.js';
import type { Layer } from '../profiles/layers.js';

export interface Distribution {
  /** Stage name, or `total`. */
  name: string;
  /** Complete requests after warm-up of the reported runs that have it. */
  requests: number;
  /** Of them, kept by the statistic (trimmed by total, or by the stage with --trim-by stage). */
  kept: number;
  /** Values ≤ 0 (a cross-domain stage under clock uncertainty, or whole-µs clocks): not on a log axis. */
  nonpositive: number;
  bins: Bin[];
  /** Mean of the kept values and of all values (the requests that have it), nearest-rank p50 and p99. */
  kept_mean_ns: number | null;
  untrimmed_mean_ns: number | null;
  p50_ns: number | null;
  p99_ns: number | null;
}

/** One event a request's point took, as the trace printed it. */
export interface PointEvent {
  point: string;
  /** Time from the request's start (reference clock, ns); null when the point is absent (batched). */
  at_ns: number | null;
  domain: string | null;
  source: string | null;
  line: number | null;
  cpu: number | null;
  task: string | null;
  pid: number | null;
  event: string | null;
  args: string | null;
}

export interface SlowRequest {
  run: string;
  /** Its place among the run's complete requests (start order, 1-based). */
  seq: number;
  total_ns: number;
  points: PointEvent[];
}

export interface Figures {
  distributions: Distribution[];
  slowest: SlowRequest[];
  /** Layer of each path stage `from->to` (split stages), for colouring a waterfall's segments. */
  layers: Record<string, Layer>;
}

/**
 * Bins of `values` on a log axis, decade-aligned: 10, 20 or 40 bins per decade, the fewest that
 * give at least 24 bins across the values' range. `kept[i]` says whether values[i] was kept.
 * Values ≤ 0 (or not finite) are counted apart. Every positive value is in exactly one bin.
 */
export function logBins(values: ArrayLike<number>, kept: ArrayLike<number>): { bins: Bin[]; nonpositive: number } {
  let min = Infinity;
  let max = -Infinity;
  let nonpositive = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v > 0) || !Number.isFinite(v)) {
      nonpositive++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { bins: [], nonpositive };
  // Decades [10^lo, 10^hi) holding every value (log10 may round across a power of ten: checked by the powers).
  let lo = Math.floor(Math.log10(min));
  if (10 ** lo > min) lo--;
  let hi = Math.max(lo + 1, Math.floor(Math.log10(max)) + 1);
  if (10 ** hi <= max) hi++;
  const span = Math.log10(max) - Math.log10(min);
  const perDecade = [10, 20, 40].find((k) => span * k >= 24) ?? 40;
  // Only the bins from the one holding min to the one holding max.
  const top = (hi - lo) * perDecade - 1;
  const index = (v: number): number => Math.min(top, Math.max(0, Math.floor((Math.log10(v) - lo) * perDecade)));
  const first = index(min);
  const last = index(max);
  const bins: Bin[] = [];
  for (let k = first; k <= last; k++) bins.push({ lo_ns: 10 ** (lo + k / perDecade), hi_ns: 10 ** (lo + (k + 1) / perDecade), kept: 0, trimmed: 0 });
  // The outer edges hold min and max whatever the rounding of the powers.
  bins[0]!.lo_ns = Math.min(bins[0]!.lo_ns, min);
  if (bins[bins.length - 1]!.hi_ns <= max) bins[bins.length - 1]!.hi_ns = max * (1 + 1e-12);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v > 0) || !Number.isFinite(v)) continue;
    // Edges computed by powers may miss a value by one ulp: place by comparison.
    let k = index(v) - first;
    while (k > 0 && v < bins[k]!.lo_ns) k--;
    while (k < bins.length - 1 && v >= bins[k]!.hi_ns) k++;
    if (kept[i]) bins[k]!.kept++;
    else bins[k]!.trimmed++;
  }
  return { bins, nonpositive };
}
