/**
 * Reporters: plain objects in one registry (as knip's reporters). Each turns the report model into
 * text; none prints, exits or reads options beyond what it is given.
 */
import type { ChalkInstance } from 'chalk';
import type { ReportModel, TailFields } from './model.js';
import type { Figures } from './figures.js';
import { renderHtmlReport } from './html.js';
import { csvField, formatBytes, formatNs, formatRate, pct, plural, toJson } from './format.js';
import { pad, runSummary, tailLine, flipLine, resolutionLine, formatDuration, excludedLine, groupExcludedLine, MAX_RUN_LINES, runLines, groupTitle, whoLines, qualityLines, domainText, stageLabel, keptOf } from './text.js';

export interface Reporter {
  readonly name: string;
  readonly description: string;
  /** Draws pictures: the command computes their data (src/pipeline/figures.ts) and passes it. */
  readonly figures?: boolean;
  render(m: ReportModel, color: ChalkInstance, figures?: Figures): string;
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

const html: Reporter = {
  name: 'html',
  description: 'one self-contained page of pictures (stacked bars, distributions, slowest requests) for people and CI artifacts',
  figures: true,
  render(m, _c, figures) {
    return renderHtmlReport(m, figures ?? null);
  },
};

export const REPORTERS = { table, json, csv, markdown, html } as const satisfies Record<string, Reporter>;
export type ReporterName = keyof typeof REPORTERS;
