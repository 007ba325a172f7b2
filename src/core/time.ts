import type { Timestamp } from './types.js';

const POW10 = [1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `seconds.fraction` as printed by ftrace / trace-cmd → integer nanoseconds, exactly (no float
 * rounding): the fraction is scaled by its digit count (6 = µs, 9 = ns). Fractions with more
 * than 9 digits are cut to 9 (ftrace never prints more). Past ~104 days of seconds the result is a bigint.
 */
export function secondsToNs(sec: string, frac: string): Timestamp {
  const f = frac.length > 9 ? frac.slice(0, 9) : frac;
  const fr = f.length === 0 ? 0 : +f * POW10[9 - f.length]!;
  return scannedSecondsToNs(+sec, fr, 9) ?? BigInt(sec) * 1_000_000_000n + BigInt(fr);
}

/**
 * secondsToNs of digits a scanner has already read: `sec` = the seconds' value (at most 15
 * digits, so exact), `frac` = the value of the fraction's first `fracDigits` (1–9) digits.
 * Null when the result is past 2^53 (then call secondsToNs with the strings, for a bigint).
 */
export function scannedSecondsToNs(sec: number, frac: number, fracDigits: number): number | null {
  // Below 2^53 both terms and their sum are exact doubles; above, the caller computes in bigint.
  const v = sec * 1e9 + frac * POW10[9 - fracDigits]!;
  return v <= Number.MAX_SAFE_INTEGER ? v : null;
}

/** A decimal integer string → number when exact, else bigint. */
export function parseTicks(digits: string): Timestamp {
  const n = +digits;
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

/** Raw TSC ticks → ns with an exact integer computation (rounded to nearest). */
export function ticksToNs(ticks: Timestamp, hz: number): Timestamp {
  const t = BigInt(ticks);
  const h = BigInt(Math.round(hz));
  const ns = (t * 1_000_000_000n + h / 2n) / h;
  return ns <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ns) : ns;
}
