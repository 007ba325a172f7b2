/**
 * The sentences every report reporter writes the same way (table, markdown, html): the run
 * summary, the tail and shape notes, the data-quality lines, the clock domains, stage labels. One
 * copy; each reporter only lays them out.
 */
import type { ExcludedRun, ReportGroup, ReportModel, ReportStage, Shape, TailFields } from './model.js';
import { formatBytes, formatNs, formatRate, pct, pctPrecise, plural } from './format.js';
import { formatPpm } from '../correlate/clock.js';

export function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  return len >= n ? s : right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

export function runSummary(m: Pick<ReportModel, 'runs' | 'excluded_runs'> & { method: Pick<ReportModel['method'], 'trim' | 'trim_by' | 'warmup'> }, method = true): string {
  const kept = m.runs.reduce((a, r) => a + r.kept, 0);
  const complete = m.runs.reduce((a, r) => a + r.complete, 0);
  const trim = m.method.trim ? `, trim ${pctPrecise(m.method.trim)} each side by ${m.method.trim_by}` : ', no trimming';
  const excluded = m.excluded_runs.length ? ` (${m.excluded_runs.length} more not averaged)` : '';
  return `${plural(m.runs.length, 'run')}${excluded}, ${complete} complete requests, ${kept} kept${method ? ` (warm-up ${m.method.warmup}${trim})` : ''}`;
}

/** The total's tail, one line: untrimmed mean and nearest-rank percentiles. */
export function tailLine(total: TailFields, shape: Shape): string {
  return `untrimmed, ${plural(shape.requests, 'request')} (after warm-up): mean ${formatNs(total.untrimmed_mean_ns)} · p50 ${formatNs(total.p50_ns)} · p90 ${formatNs(total.p90_ns)} · p99 ${formatNs(total.p99_ns)}`;
}

/** When the untrimmed shares would change which stage dominates, one line saying so. */
export function flipLine(shape: Shape): string | null {
  if (!shape.dominant_differs) return null;
  return `note: untrimmed, ${shape.dominant_stage_untrimmed} dominates (${pct(shape.dominant_share_untrimmed!)}) instead of ${shape.dominant_stage_trimmed} (${pct(shape.dominant_share_trimmed!)} trimmed): the requests the trim drops spend their time in ${shape.dominant_stage_untrimmed}`;
}

/** The footnote on stages timed by whole-µs timestamps (every value printed to the ns there is an average of whole µs). */
export function resolutionLine(m: ReportModel, stages: ReportStage[]): string | null {
  const coarse = stages.filter((s) => s.timestamp_resolution_ns >= 1000);
  if (!coarse.length) return null;
  const files = m.data_quality.sources.filter((s) => s.timestamp_resolution_ns >= 1000).map((s) => s.path.split('/').pop()!);
  const fine = stages.filter((s) => s.timestamp_resolution_ns < 1000);
  const which = !fine.length ? 'every stage' : coarse.length <= fine.length ? coarse.map((s) => s.name).join(', ') : `every stage but ${fine.map((s) => s.name).join(', ')}`;
  return `µs timestamps (${files.join(', ')}): ${which} timed in whole µs per request (±1 µs); the ns digits of the means come from averaging`;
}

/** A run's duration: ms below a second. */
export function formatDuration(ns: number | null): string {
  if (ns === null) return '–';
  return ns >= 1e9 ? `${(ns / 1e9).toFixed(3)} s` : `${(ns / 1e6).toFixed(3)} ms`;
}

export function excludedLine(e: ExcludedRun): string {
  return `run ${e.run} not averaged: ${e.why}`;
}

/** A group's runs without its requests, on one line (a run of reads has no writes: not an alarm). */
export function groupExcludedLine(excluded: ExcludedRun[]): string | null {
  if (!excluded.length) return null;
  const shown = excluded.slice(0, 10).map((e) => e.run);
  const more = excluded.length > shown.length ? ` and ${excluded.length - shown.length} more` : '';
  return `not in ${excluded.length === 1 ? 'run' : 'runs'} ${shown.join(', ')}${more}: ${excluded[0]!.why}`;
}

export const MAX_RUN_LINES = 20;

/** One line per reported run: requests, the mean total, duration between its markers, requests/s, MB/s. */
export function runLines(m: Pick<ReportModel, 'runs'>): string[] {
  const w = Math.max(3, ...m.runs.map((r) => [...r.run].length)) + 2;
  const out = [`${pad('run', w)}${pad('complete', 9, true)}${pad('kept', 7, true)}${pad('mean total', 14, true)}${pad('duration', 12, true)}${pad('req/s', 10, true)}${pad('bytes', 12, true)}${pad('MB/s', 9, true)}`];
  for (const r of m.runs.slice(0, MAX_RUN_LINES))
    out.push(
      `${pad(r.run, w)}${pad(String(r.complete), 9, true)}${pad(String(r.kept), 7, true)}${pad(formatNs(r.total_ns), 14, true)}${pad(formatDuration(r.duration_ns), 12, true)}${pad(formatRate(r.requests_per_s), 10, true)}${pad(formatBytes(r.bytes), 12, true)}${pad(formatRate(r.mb_per_s), 9, true)}`,
    );
  if (m.runs.length > MAX_RUN_LINES) out.push(`… ${plural(m.runs.length - MAX_RUN_LINES, 'more run')} (--format json lists them all)`);
  return out;
}

export function groupTitle(g: ReportGroup): string {
  return g.by === 'op' ? `op ${g.key}` : g.by === 'domid' ? `domid ${g.key}` : `size ${g.key === 'unknown' ? g.key : formatBytes(Number(g.key))}`;
}

/** What the averages are made of: the filters and what they removed, the tasks whose requests they average, the profile hint. */
export function whoLines(m: ReportModel): { text: string; warn: boolean }[] {
  const out: { text: string; warn: boolean }[] = [];
  if (m.hint) out.push({ text: `note: ${m.hint}`, warn: true });
  if (m.method.filters.length) out.push({ text: `filter: ${m.method.filters.join(' and ')} (left out ${plural(m.requests.filtered_out, 'request')})`, warn: false });
  if (m.contributors.length)
    out.push({ text: `tasks: ${m.contributors.map((x) => `${x.comm} ${x.complete}`).join(' · ')}${m.method.filters.length || m.contributors.length < 2 ? '' : '  (other tasks are averaged in: --filter comm=NAME keeps one)'}`, warn: false });
  return out;
}

export function qualityLines(m: ReportModel): string[] {
  const q = m.requests;
  const out = [
    `requests: ${q.complete} complete, ${q.incomplete} incomplete (kept out of the averages), ${q.outside_runs} outside runs`,
    `orphans, ${q.orphan_label}: ${q.orphans}`,
    `not requests (reached no required point, e.g. page-cache hits): ${q.not_requests}`,
    `lost events: ${m.data_quality.lost_events}, lines not understood: ${m.data_quality.unparsed_lines}`,
  ];
  if (m.absent_points.length) out.push(`points left out (their event never occurs): ${m.absent_points.join(', ')}`);
  if (m.data_quality.runs_not_ended.length) out.push(`runs without an end marker: ${m.data_quality.runs_not_ended.join(', ')}`);
  if (m.data_quality.stray_run_ends.length) out.push(`end markers without a begin: ${m.data_quality.stray_run_ends.join(', ')}`);
  if (m.data_quality.repeated_run_labels.length) out.push(`run labels used twice (renamed label#2 …): ${m.data_quality.repeated_run_labels.join(', ')}`);
  // One line per counter, its points together (details: --format json or the correlation_diagnostics table).
  const byCode = new Map<string, string[]>();
  for (const d of m.diagnostics) {
    const l = byCode.get(d.code) ?? [];
    l.push(d.point ? `${d.point} ${d.count}` : String(d.count));
    byCode.set(d.code, l);
  }
  for (const [code, parts] of byCode) out.push(`${code}: ${parts.join(', ')}`);
  return out;
}

export function domainText(d: ReportModel['domains'][number]): string {
  switch (d.method) {
    case 'reference':
      return 'reference clock';
    case 'given':
      return d.drift_ppm ? `offset ${d.offset_ns} ns, drift ${formatPpm(d.drift_ppm)} ppm (given)` : `offset ${d.offset_ns} ns (given)`;
    case 'estimated': {
      const from = `estimated from ${d.links} links with ${d.relative_to}`;
      const interval = `t_${d.relative_to} − t_${d.name} in [${d.lower_ns}, ${d.upper_ns}]`;
      const allowed = d.drift_lower_ppm !== null && d.drift_upper_ppm !== null ? `[${d.drift_lower_ppm.toFixed(1)}, ${d.drift_upper_ppm.toFixed(1)}]` : '';
      if (d.drift_method === 'estimated') return `offset ${d.offset_ns} ns ± ${d.uncertainty_ns} ns at its first event, drift ${formatPpm(d.drift_ppm ?? 0)} ppm ${allowed} (${from})`;
      if (d.drift_method === 'given') return `offset ${d.offset_ns} ns ± ${d.uncertainty_ns} ns at its first event, drift ${formatPpm(d.drift_ppm ?? 0)} ppm given (${from}: ${interval})`;
      // A constant offset fits the links: drift 0, and the drift they would allow.
      return `offset ${d.offset_ns} ns ± ${d.uncertainty_ns} ns (${from}: ${interval})${allowed ? `; drift 0: a constant offset fits (the links allow ${allowed} ppm)` : ''}`;
    }
    case 'unlinked':
      return 'not linked to the reference (its requests stay in their own clock)';
    default:
      return 'not used by any request';
  }
}

/**
 * A stage's name as the text reporters print it: a merged stage (requests batched between its
 * points) with how many of the kept requests have it, `fe_queue->be_get_req (batched: 312 of 1000
 * requests)`; a split stage that some kept requests lack, likewise without `batched`.
 */
export function stageLabel(s: ReportStage, kept: number): string {
  if (s.merged) return `${s.name} (batched: ${s.requests} of ${plural(kept, 'request')})`;
  return s.requests < kept ? `${s.name} (${s.requests} of ${plural(kept, 'request')})` : s.name;
}

/** The kept requests of a report or a group (what a stage's `requests` counts among). */
export function keptOf(part: Pick<ReportModel, 'runs'>): number {
  return part.runs.reduce((a, r) => a + r.kept, 0);
}
