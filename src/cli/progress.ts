/**
 * The progress line of a long command (report, compare) on stderr: shown only on a terminal, only
 * after the first second (a quick command prints none), rewritten in place ('\r', erase to the end
 * of the line) at most four times a second, and erased when the command is done.
 */
import type { OnProgress } from '../core/progress.js';
import { pct } from '../report/format.js';

/** The first line appears after this long. */
export const PROGRESS_DELAY_MS = 1000;
/** At most one rewrite per this long. */
export const PROGRESS_INTERVAL_MS = 250;

/** The text of the line: `reading and matching events: 1,234,567 of 9,876,543 (12.5%)`, `computing the statistic…`. */
export function progressText(phase: string, done: number, total: number | null): string {
  if (total === null) return `${phase}…`;
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  return `${phase}: ${count(done)} of ${count(total)} (${pct(fraction)})`;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export interface ProgressLine {
  onProgress: OnProgress;
  /** Erases the line if one was written (call it whatever happened: success or error). */
  clear(): void;
}

/**
 * A progress line written through `write`; `now` (ms) is the clock (tests give their own), `width`
 * the terminal's columns (a longer line is cut: a wrapped line could not be rewritten).
 */
export function progressLine(write: (text: string) => void, o: { now?: () => number; width?: number } = {}): ProgressLine {
  const now = o.now ?? (() => performance.now());
  const start = now();
  let last = -Infinity;
  let shown = false;
  return {
    onProgress(phase, done, total) {
      const t = now();
      if (t - start < PROGRESS_DELAY_MS || t - last < PROGRESS_INTERVAL_MS) return;
      last = t;
      shown = true;
      const text = progressText(phase, done, total);
      write(`\r${o.width && text.length >= o.width ? text.slice(0, o.width - 1) : text}\x1b[K`);
    },
    clear() {
      if (shown) write('\r\x1b[K');
      shown = false;
    },
  };
}

/** The progress line of this process's stderr, or null when stderr is not a terminal or `quiet`. */
export function stderrProgress(quiet: boolean | undefined): ProgressLine | null {
  if (quiet || process.stderr.isTTY !== true) return null;
  return progressLine((text) => process.stderr.write(text), { width: process.stderr.columns });
}
