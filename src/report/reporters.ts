/**
 * Reporters: plain objects in one registry (as knip's reporters). Each turns the report model into
 * text; none prints, exits or reads options beyond what it is given.
 */
import type { ChalkInstance } from 'chalk';
import type { ExcludedRun, ReportGroup, ReportModel, ReportStage, Shape, TailFields } from './model.js';
import { csvField, formatBytes, formatNs, formatRate, pct, pctPrecise, plural, toJson } from './format.js';
import { formatPpm } from '../correlate/clock.js';

export interface Reporter {
  readonly name: string;
  readonly description: string;
  render(m: ReportModel, color: ChalkInstance): string;
}

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  return len >= n ? s : right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

function runSummary(m: Pick<ReportModel, 'runs' | 'excluded_runs'> & { method: Pick<ReportModel['method'], 'trim' | 'trim_by' | 'warmup'> }, method = true): string {
  const kept = m.runs.reduce((a, r) => a + r.kept, 0);
  const complete = m.runs.reduce((a, r) => a + r.complete, 0);
  const trim = m.method.trim ? `, trim ${pctPrecise(m.method.trim)} each side by ${m.method.trim_by}` : ', no trimming';
  const excluded = m.excluded_runs.length ? ` (${m.excluded_runs.length} more not averaged)` : '';
  return `${plural(m.runs.length, 'run')}${excluded}, ${complete} complete requests, ${kept} kept${method ? ` (warm-up ${m.method.warmup}${trim})` : ''}`;
}

/** The total's tail, one line: untrimmed mean and nearest-rank percentiles. */
function tailLine(total: TailFields, shape: Shape): string {
  return `untrimmed, ${plural(shape.requests, 'request')} (after warm-up): mean ${formatNs(total.untrimmed_mean_ns)} · p50 ${formatNs(total.p50_ns)} · p90 ${formatNs(total.p90_ns)} · p99 ${formatNs(total.p99_ns)}`;
}

/** When the untrimmed shares would change which stage dominates, one line saying so. */
function flipLine(shape: Shape): string | null {
  if (!shape.dominant_differs) return null;
  return `note: untrimmed, ${shape.dominant_stage_untrimmed} dominates (${pct(shape.dominant_share_untrimmed!)}) instead of ${shape.dominant_stage_trimmed} (${pct(shape.dominant_share_trimmed!)} trimmed): the requests the trim drops spend their time in ${shape.dominant_stage_untrimmed}`;
}

/** The footnote on stages timed by whole-µs timestamps (every value printed to the ns there is an average of whole µs). */
function resolutionLine(m: ReportModel, stages: ReportStage[]): string | null {
  const coarse = stages.filter((s) => s.timestamp_resolution_ns >= 1000);
  if (!coarse.length) return null;
  const files = m.data_quality.sources.filter((s) => s.timestamp_resolution_ns >= 1000).map((s) => s.path.split('/').pop()!);
  const fine = stages.filter((s) => s.timestamp_resolution_ns < 1000);
  const which = !fine.length ? 'every stage' : coarse.length <= fine.length ? coarse.map((s) => s.name).join(', ') : `every stage but ${fine.map((s) => s.name).join(', ')}`;
  return `µs timestamps (${files.join(', ')}): ${which} timed in whole µs per request (±1 µs); the ns digits of the means come from averaging`;
}

/** A run's duration: ms below a second. */
function formatDuration(ns: number | null): string {
  if (ns === null) return '–';
  return ns >= 1e9 ? `${(ns / 1e9).toFixed(3)} s` : `${(ns / 1e6).toFixed(3)} ms`;
}

function excludedLine(e: ExcludedRun): string {
  return `run ${e.run} not averaged: ${e.why}`;
}

/** A group's runs without its requests, on one line (a run of reads has no writes: not an alarm). */
function groupExcludedLine(excluded: ExcludedRun[]): string | null {
  if (!excluded.length) return null;
  const shown = excluded.slice(0, 10).map((e) => e.run);
  const more = excluded.length > shown.length ? ` and ${excluded.length - shown.length} more` : '';
  return `not in ${excluded.length === 1 ? 'run' : 'runs'} ${shown.join(', ')}${more}: ${excluded[0]!.why}`;
}

const MAX_RUN_LINES = 20;

/** One line per reported run: requests, the mean total, duration between its markers, requests/s, MB/s. */
function runLines(m: Pick<ReportModel, 'runs'>): string[] {
  const w = Math.max(3, ...m.runs.map((r) => [...r.run].length)) + 2;
  const out = [`${pad('run', w)}${pad('complete', 9, true)}${pad('kept', 7, true)}${pad('mean total', 14, true)}${pad('duration', 12, true)}${pad('req/s', 10, true)}${pad('bytes', 12, true)}${pad('MB/s', 9, true)}`];
  for (const r of m.runs.slice(0, MAX_RUN_LINES))
    out.push(
      `${pad(r.run, w)}${pad(String(r.complete), 9, true)}${pad(String(r.kept), 7, true)}${pad(formatNs(r.total_ns), 14, true)}${pad(formatDuration(r.duration_ns), 12, true)}${pad(formatRate(r.requests_per_s), 10, true)}${pad(formatBytes(r.bytes), 12, true)}${pad(formatRate(r.mb_per_s), 9, true)}`,
    );
  if (m.runs.length > MAX_RUN_LINES) out.push(`… ${plural(m.runs.length - MAX_RUN_LINES, 'more run')} (--format json lists them all)`);
  return out;
}

function groupTitle(g: ReportGroup): string {
  return g.by === 'op' ? `op ${g.key}` : g.by === 'domid' ? `domid ${g.key}` : `size ${g.key === 'unknown' ? g.key : formatBytes(Number(g.key))}`;
}

/** What the averages are made of: the filters and what they removed, the tasks whose requests they average, the profile hint. */
function whoLines(m: ReportModel): { text: string; warn: boolean }[] {
  const out: { text: string; warn: boolean }[] = [];
  if (m.hint) out.push({ text: `note: ${m.hint}`, warn: true });
  if (m.method.filters.length) out.push({ text: `filter: ${m.method.filters.join(' and ')} (left out ${plural(m.requests.filtered_out, 'request')})`, warn: false });
  if (m.contributors.length)
    out.push({ text: `tasks: ${m.contributors.map((x) => `${x.comm} ${x.complete}`).join(' · ')}${m.method.filters.length || m.contributors.length < 2 ? '' : '  (other tasks are averaged in: --filter comm=NAME keeps one)'}`, warn: false });
  return out;
}

function qualityLines(m: ReportModel): string[] {
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

function domainText(d: ReportModel['domains'][number]): string {
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
function stageLabel(s: ReportStage, kept: number): string {
  if (s.merged) return `${s.name} (batched: ${s.requests} of ${plural(kept, 'request')})`;
  return s.requests < kept ? `${s.name} (${s.requests} of ${plural(kept, 'request')})` : s.name;
}

/** The kept requests of a report or a group (what a stage's `requests` counts among). */
function keptOf(part: Pick<ReportModel, 'runs'>): number {
  return part.runs.reduce((a, r) => a + r.kept, 0);
}

/** The stage table of the table reporter (the whole report, or a group), with the tail beneath. */
function stageTable(m: ReportModel, part: Pick<ReportModel, 'stages' | 'total' | 'shape' | 'excluded_runs' | 'runs'>, c: ChalkInstance, group = false): string[] {
  const lines: string[] = [];
  const kept = keptOf(part);
  const labels = part.stages.map((s) => stageLabel(s, kept));
  const w = Math.max(5, ...labels.map((l) => [...l].length)) + 2;
  lines.push(c.dim(`${pad('stage', w)}${pad('mean', 14, true)}${pad('± sd (runs)', 14, true)}${pad('share', 8, true)}  `));
  const maxShare = Math.max(...part.stages.map((s) => s.share), 0.0001);
  part.stages.forEach((s, k) => {
    const bar = '█'.repeat(Math.max(0, Math.round((s.share / maxShare) * 24)));
    const unc = s.cross_domain ? c.dim(` ±${formatNs(s.uncertainty_ns)} clock`) : '';
    lines.push(`${pad(labels[k]!, w)}${pad(formatNs(s.mean_ns), 14, true)}${pad(formatNs(s.stddev_ns), 14, true)}${pad(pct(s.share), 8, true)}  ${c.cyan(bar)}${unc}`);
  });
  lines.push(c.bold(`${pad('total', w)}${pad(formatNs(part.total.mean_ns), 14, true)}${pad(formatNs(part.total.stddev_ns), 14, true)}${pad('100.0%', 8, true)}`));
  if (!m.method.stages_add_up) lines.push(c.yellow('note: stages trimmed one by one (--trim-by stage): they do not add up to the total'));
  lines.push(tailLine(part.total, part.shape));
  const flip = flipLine(part.shape);
  if (flip) lines.push(c.yellow(flip));
  const res = group ? null : resolutionLine(m, part.stages);
  if (res) lines.push(c.dim(res));
  if (group) {
    const line = groupExcludedLine(part.excluded_runs);
    if (line) lines.push(c.dim(line));
  } else for (const e of part.excluded_runs) lines.push(c.yellow(excludedLine(e)));
  return lines;
}

const table: Reporter = {
  name: 'table',
  description: 'aligned text table with bars (colour on a terminal, off with NO_COLOR)',
  render(m, c) {
    const lines: string[] = [];
    lines.push(c.bold(`xtrace report · profile ${m.profile}`) + ` · ${runSummary(m)}`);
    for (const w of whoLines(m)) lines.push(w.warn ? c.yellow(w.text) : c.dim(w.text));
    lines.push('');
    lines.push(...stageTable(m, m, c));
    lines.push('');
    lines.push(c.bold('runs'));
    for (const l of runLines(m)) lines.push(`  ${l}`);
    for (const g of m.groups ?? []) {
      lines.push('');
      lines.push(c.bold(`${groupTitle(g)}`) + ` · ${runSummary({ ...g, method: m.method }, false)}`);
      lines.push(...stageTable(m, g, c, true).map((l) => `  ${l}`));
    }
    lines.push('');
    lines.push(c.bold('clock domains'));
    const nameWidth = Math.max(12, ...m.domains.map((d) => d.name.length + 2));
    for (const d of m.domains) lines.push(`  ${pad(d.name, nameWidth)}${domainText(d)}`);
    lines.push('');
    lines.push(c.bold('data quality'));
    const loss = m.data_quality.lost_events > 0 || m.data_quality.unparsed_lines > 0 || m.requests.incomplete > 0;
    for (const l of qualityLines(m)) lines.push('  ' + (loss && /^(lost|requests)/.test(l) ? c.yellow(l) : l));
    return lines.join('\n') + '\n';
  },
};

const json: Reporter = {
  name: 'json',
  description: 'the versioned JSON contract (README "JSON report")',
  render(m) {
    return toJson(m) + '\n';
  },
};

const csv: Reporter = {
  name: 'csv',
  description: 'one row per stage and the total, with the per-run means as columns (then the tail; with --group-by, the groups\' rows)',
  render(m) {
    const grouped = m.groups !== null;
    const head = ['kind', 'name', 'from', 'to', 'mean_ns', 'stddev_ns', 'share', 'uncertainty_ns', ...m.runs.map((r) => `run_${r.run}_ns`), 'untrimmed_mean_ns', 'p50_ns', 'p90_ns', 'p99_ns', ...(grouped ? ['group'] : [])];
    const tail = (t: TailFields) => [t.untrimmed_mean_ns, t.p50_ns, t.p90_ns, t.p99_ns];
    const rowsOf = (part: Pick<ReportModel, 'stages' | 'total' | 'runs'>, group: string[]) => {
      const byLabel = new Map(part.runs.map((x) => [x.run, x]));
      const runMean = (label: string, f: (r: ReportModel['runs'][number]) => number): number | null => {
        const r = byLabel.get(label);
        return r ? f(r) : null;
      };
      // A merged stage (requests batched between its points) is a row of kind `merged`: it adds up with the stages.
      const rows: (string | number | null)[][] = part.stages.map((s) => [s.merged ? 'merged' : 'stage', s.name, s.from, s.to, s.mean_ns, s.stddev_ns, s.share, s.uncertainty_ns, ...m.runs.map((r) => runMean(r.run, (x) => x.stages_ns[s.name]!)), ...tail(s), ...group]);
      rows.push(['total', 'total', m.points[0]!, m.points[m.points.length - 1]!, part.total.mean_ns, part.total.stddev_ns, 1, 0, ...m.runs.map((r) => runMean(r.run, (x) => x.total_ns)), ...tail(part.total), ...group]);
      return rows;
    };
    const rows = rowsOf(m, grouped ? [''] : []);
    for (const g of m.groups ?? []) rows.push(...rowsOf(g, [`${g.by}=${g.key}`]));
    return [head, ...rows].map((r) => r.map((v) => csvField(v)).join(',')).join('\n') + '\n';
  },
};

function markdownStages(m: ReportModel, part: Pick<ReportModel, 'stages' | 'total' | 'shape' | 'excluded_runs' | 'runs'>, group = false): string[] {
  const out: string[] = [];
  const kept = keptOf(part);
  out.push('| stage | mean | ± sd (runs) | share |', '|---|---:|---:|---:|');
  for (const s of part.stages) out.push(`| \`${s.name}\`${stageLabel(s, kept).slice(s.name.length)}${s.cross_domain ? ` (clock ±${formatNs(s.uncertainty_ns)})` : ''} | ${formatNs(s.mean_ns)} | ${formatNs(s.stddev_ns)} | ${pct(s.share)} |`);
  out.push(`| **total** | **${formatNs(part.total.mean_ns)}** | ${formatNs(part.total.stddev_ns)} | 100.0% |`);
  if (!m.method.stages_add_up) out.push('', '_Stages trimmed one by one (`--trim-by stage`): they do not add up to the total._');
  out.push('', tailLine(part.total, part.shape) + '.');
  const flip = flipLine(part.shape);
  if (flip) out.push('', `**${flip}**`);
  const res = group ? null : resolutionLine(m, part.stages);
  if (res) out.push('', `_${res}._`);
  if (group) {
    const line = groupExcludedLine(part.excluded_runs);
    if (line) out.push('', `_${line}._`);
  } else for (const e of part.excluded_runs) out.push('', `⚠️ ${excludedLine(e)}`);
  return out;
}

const markdown: Reporter = {
  name: 'markdown',
  description: 'GitHub-flavoured Markdown (for a PR comment or a wiki page)',
  render(m) {
    const out: string[] = [];
    out.push(`### xtrace report: \`${m.profile}\``, '', runSummary(m) + '.', '');
    for (const w of whoLines(m)) out.push(w.warn ? `⚠️ ${w.text}` : `_${w.text}_`, '');
    out.push(...markdownStages(m, m));
    out.push('', '**Runs**', '', '| run | complete | kept | mean total | duration | req/s | bytes | MB/s |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of m.runs.slice(0, MAX_RUN_LINES))
      out.push(`| ${r.run} | ${r.complete} | ${r.kept} | ${formatNs(r.total_ns)} | ${formatDuration(r.duration_ns)} | ${formatRate(r.requests_per_s)} | ${formatBytes(r.bytes)} | ${formatRate(r.mb_per_s)} |`);
    if (m.runs.length > MAX_RUN_LINES) out.push('', `… ${plural(m.runs.length - MAX_RUN_LINES, 'more run')} (\`--format json\` lists them all)`);
    for (const g of m.groups ?? []) out.push('', `**${groupTitle(g)}** · ${runSummary({ ...g, method: m.method }, false)}`, '', ...markdownStages(m, g, true));
    out.push('', '**Clock domains**', '');
    for (const d of m.domains) out.push(`- \`${d.name}\`: ${domainText(d)}`);
    out.push('', '**Data quality**', '');
    for (const l of qualityLines(m)) out.push(`- ${l}`);
    return out.join('\n') + '\n';
  },
};

export const REPORTERS = { table, json, csv, markdown } as const satisfies Record<string, Reporter>;
export type ReporterName = keyof typeof REPORTERS;
