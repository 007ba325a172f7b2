/**
 * A small seeded PRNG (mulberry32) and the latency draws of the simulator. Deterministic: the
 * same seed gives the same stream on every platform (only integer arithmetic and V8's
 * fdlibm-based Math.exp/log/cos, which are the same everywhere for one Node version).
 */

/** 32-bit mixing of a seed and a stream number, so that independent streams do not correlate. */
function mix(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private s: number;

  constructor(seed: number, stream = 0) {
    this.s = mix(seed >>> 0, stream);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }
}

export interface LatencyRange {
  min_us: number;
  max_us: number;
  warmup_extra_us?: readonly [number, number];
}

export const OUTLIER_FRACTION = 0.03;

/**
 * A latency in integer ns: lognormal clipped to [min, max] (median at a quarter of the range),
 * with probability OUTLIER_FRACTION an outlier of 2–5 × max instead; plus the warm-up extra.
 */
export function drawLatency(rng: Rng, r: LatencyRange, warm: boolean): number {
  let us: number;
  if (rng.next() < OUTLIER_FRACTION) {
    us = r.max_us * rng.uniform(2, 5);
  } else {
    const frac = Math.min(1, 0.25 * Math.exp(0.6 * rng.normal()));
    us = r.min_us + (r.max_us - r.min_us) * frac;
  }
  if (warm && r.warmup_extra_us !== undefined) us += rng.uniform(r.warmup_extra_us[0], r.warmup_extra_us[1]);
  return Math.max(1000, Math.round(us * 1000));
}
