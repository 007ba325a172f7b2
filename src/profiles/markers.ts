/**
 * Run markers: the text a benchmark writes to the trace (trace_marker) before and after each run,
 * `xtrace: run=<label> begin|end`. Reports group requests into runs by these markers
 * (src/correlate/runs.ts); a profile may declare its own `markers.match`, this is the default.
 */

export type RunEdge = 'begin' | 'end';

/** The default `markers.match` of a profile: named groups `run` (the label) and `edge`. */
export const DEFAULT_MARKER_MATCH = '^xtrace: run=(?<run>\\S+) (?<edge>begin|end)\\s*$';

/** The marker text for one edge of a run; the label is one word (no white space). */
export function runMarkerText(label: string | number, edge: RunEdge): string {
  const text = String(label);
  if (!/^\S+$/.test(text)) throw new RangeError(`a run label is one word without spaces, not "${text}"`);
  return `xtrace: run=${text} ${edge}`;
}
