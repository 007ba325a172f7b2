import type { Timestamp } from './types.js';

const MAX_SAFE_SECONDS = Math.floor(Number.MAX_SAFE_INTEGER / 1e9) - 1;
const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `seconds.fraction` as printed by ftrace / trace-cmd → integer nanoseconds, exactly (no float
 * rounding): the fraction is scaled by its digit count (6 = µs, 9 = ns). Fractions with more
 * than 9 digits are cut to 9 (ftrace never prints more). Past ~104 days of seconds the result is a bigint.
 */
export function secondsToNs(sec: string, frac: string): Timestamp {
  let f = frac;
  if (f.length > 9) f = f.slice(0, 9);
  const s = +sec;
  const fr = f.length === 0 ? 0 : +f * POW10[9 - f.length]!;
  if (s <= MAX_SAFE_SECONDS) return s * 1e9 + fr;
  return BigInt(sec) * 1_000_000_000n + BigInt(fr);
}

/** A decimal integer string → number when exact, else bigint. */
export function parseTicks(digits: string): Timestamp {
  const n = +digits;
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

/** Raw TSC ticks → ns with an exact integer computation (rounded to nearest). */
export function ticksToNs(ticks: Timestamp, hz: number): Timestamp {
  if (typeof ticks === 'number' && ticks < 9e6 && Number.isInteger(hz)) {
    return Math.round((ticks * 1e9) / hz);
  }
  const t = BigInt(ticks);
  const h = BigInt(Math.round(hz));
  const ns = (t * 1_000_000_000n + h / 2n) / h;
  return ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : ns;
}

/** Number or bigint compare: a < b. */
export function tsLess(a: Timestamp, b: Timestamp): boolean {
  return a < b;
}
