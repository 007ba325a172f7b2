/**
 * Output formatting helpers shared by every reporter (report, rows, summary, compare) and by the
 * command line: durations, percentages, p-values, counted nouns, CSV fields and JSON with exact
 * 64-bit integers. One copy of each; reporters import them from here.
 */

/**
 * JSON (indented by 2) with 64-bit integers (bigint) written exactly as numbers; a non-finite
 * number is written as null (as JSON.stringify does).
 */
export function toJson(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2);
  } catch (e) {
    // JSON.stringify refuses only a bigint (or a cycle, which the marked pass refuses again).
    if (!(e instanceof TypeError)) throw e;
  }
  return jsonWithBigints(v);
}

/**
 * The slow path of toJson: a bigint is replaced by a marker string holding an index into `exact`,
 * then the quoted marker by the exact digits. Strings containing NUL are marked too (with their
 * own JSON text), so that no string value can look like a marker; a property name (followed by
 * `:`) is never replaced.
 */
function jsonWithBigints(v: unknown): string {
  const exact: string[] = [];
  const mark = (text: string): string => {
    exact.push(text);
    return `\u0000${exact.length - 1}\u0000`;
  };
  const text = JSON.stringify(
    v,
    (_k, x: unknown) => {
      if (typeof x === 'bigint') return mark(x.toString());
      if (typeof x === 'string' && x.includes('\u0000')) return mark(JSON.stringify(x));
      return x;
    },
    2,
  );
  return text.replace(/"\\u0000(\d+)\\u0000"(?!:)/g, (_m, i: string) => exact[Number(i)]!);
}

/** A duration for people: µs with ns precision, ms beyond 10 ms; '–' when unknown. */
export function formatNs(ns: number | null): string {
  if (ns === null || !Number.isFinite(ns)) return '–';
  const a = Math.abs(ns);
  if (a >= 10_000_000) return `${(ns / 1e6).toFixed(3)} ms`;
  return `${(ns / 1e3).toFixed(3)} µs`;
}

/** A signed duration: `+1.000 µs`, `−1.000 µs` (a minus sign, not a hyphen). */
export function formatSignedNs(ns: number): string {
  return (ns >= 0 ? '+' : '−') + formatNs(Math.abs(ns));
}

/** A fraction as a percentage with one decimal: 0.1234 → `12.3%`. */
export function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A relative change with its sign and one decimal: 0.05 → `+5.0%`; '–' when not finite. */
export function signedPct(fraction: number): string {
  if (!Number.isFinite(fraction)) return '–';
  return `${fraction >= 0 ? '+' : ''}${pct(fraction)}`;
}

/** A fraction as a percentage with up to 4 decimals, no trailing zeros: 0.1 → `10%`, 0.00125 → `0.125%`. */
export function pctPrecise(fraction: number): string {
  return `${+(fraction * 100).toFixed(4)}%`;
}

/** A p-value: 4 decimals, scientific below 0.0001; '–' when there is none. */
export function formatP(p: number | null): string {
  if (p === null) return '–';
  return p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}

/** A count with its noun, plural unless 1: `1 row`, `0 rows`, `3 runs`. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A CSV field (RFC 4180): quoted when it contains `"`, `,`, a newline or a carriage return; null is empty. */
export function csvField(v: string | number | bigint | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Text for a Markdown table cell: `|` escaped, newlines as `<br>`. */
export function markdownCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

/** A rate (per second) for people: 3 decimals below 100, 1 from 100 on; '–' when unknown. */
export function formatRate(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3);
}

/** A byte count for people, in decimal units (kB = 1000 B, MB = 10^6 B, as fio's MB/s): `4096 B`, `409.6 kB`, `1.64 MB`; '–' when unknown. */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–';
  if (n < 10_000) return `${n} B`;
  if (n < 1e6) return `${+(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${+(n / 1e6).toFixed(2)} MB`;
  return `${+(n / 1e9).toFixed(2)} GB`;
}
