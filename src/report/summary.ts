/**
 * `xtrace summary` as text: one block per source of a database (its JSON form is the
 * SourceOverview[] of src/analysis/sources.ts itself, written by toJson of ./format.js).
 */
import type { ChalkInstance } from 'chalk';
import type { SourceOverview } from '../analysis/sources.js';

/** Plain-text rendering of `xtrace summary`. */
export function formatSummaryTable(rows: SourceOverview[], c: ChalkInstance): string {
  if (rows.length === 0) return 'no sources: run `xtrace ingest` first\n';
  const out: string[] = [];
  for (const s of rows) {
    const span = s.span_ns === null ? '-' : s.has_time_base ? `${(s.span_ns / 1e9).toFixed(6)} s` : `${s.span_ns} ticks (no time base)`;
    out.push(c.bold(`source ${s.id}: ${s.path}`));
    out.push(`  format ${s.variant ?? s.format}, domain ${s.domain}, clock ${s.clock ?? '?'}, span ${span}`);
    const bad = s.unparsed_lines > 0 || s.lost_events > 0;
    out.push('  ' + (bad ? c.yellow : c.green)(`${s.lines} lines, ${s.events} events, ${s.unparsed_lines} lines not understood, ${s.lost_events} events lost`));
    if (s.top_events.length > 0) out.push('  events: ' + s.top_events.map((t) => `${t.name} ${t.count}`).join(', '));
    for (const d of s.data_loss) out.push(c.yellow(`  data loss: ${d.code} ×${d.count} (first at line ${d.first_line})${d.detail ? ': ' + d.detail : ''}`));
  }
  return out.join('\n') + '\n';
}
