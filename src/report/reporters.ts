/**
 * Reporters: plain objects in one registry (as knip's reporters). Each turns the report model into
 * text; none prints, exits or reads options beyond what it is given.
 */
import type { ChalkInstance } from 'chalk';
import type { ReportModel } from './model.js';
import { csvField, formatNs, pct, pctPrecise, plural, toJson } from './format.js';

export interface Reporter {
  readonly name: string;
  readonly description: string;
  render(m: ReportModel, color: ChalkInstance): string;
}

function pad(s: string, n: number, right = false): string {
  const len = [...s].length;
  return len >= n ? s : right ? ' '.repeat(n - len) + s : s + ' '.repeat(n - len);
}

function runSummary(m: ReportModel): string {
  const kept = m.runs.reduce((a, r) => a + r.kept, 0);
  const complete = m.runs.reduce((a, r) => a + r.complete, 0);
  const trim = m.method.trim ? `, trim ${pctPrecise(m.method.trim)} each side by ${m.method.trim_by}` : ', no trimming';
  return `${plural(m.runs.length, 'run')}, ${complete} complete requests, ${kept} kept (warm-up ${m.method.warmup}${trim})`;
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
      return `offset ${d.offset_ns} ns (given)`;
    case 'estimated':
      return `offset ${d.offset_ns} ns ± ${d.uncertainty_ns} ns (estimated from ${d.links} links with ${d.relative_to}: t_${d.relative_to} − t_${d.name} in [${d.lower_ns}, ${d.upper_ns}])`;
    case 'unlinked':
      return 'not linked to the reference (its requests stay in their own clock)';
    default:
      return 'not used by any request';
  }
}

const table: Reporter = {
  name: 'table',
  description: 'aligned text table with bars (colour on a terminal, off with NO_COLOR)',
  render(m, c) {
    const lines: string[] = [];
    lines.push(c.bold(`xtrace report · profile ${m.profile}`) + ` · ${runSummary(m)}`);
    lines.push('');
    const w = Math.max(5, ...m.stages.map((s) => [...s.name].length)) + 2;
    lines.push(c.dim(`${pad('stage', w)}${pad('mean', 14, true)}${pad('± sd (runs)', 14, true)}${pad('share', 8, true)}  `));
    const maxShare = Math.max(...m.stages.map((s) => s.share), 0.0001);
    for (const s of m.stages) {
      const bar = '█'.repeat(Math.max(0, Math.round((s.share / maxShare) * 24)));
      const unc = s.cross_domain ? c.dim(` ±${formatNs(s.uncertainty_ns)} clock`) : '';
      lines.push(`${pad(s.name, w)}${pad(formatNs(s.mean_ns), 14, true)}${pad(formatNs(s.stddev_ns), 14, true)}${pad(pct(s.share), 8, true)}  ${c.cyan(bar)}${unc}`);
    }
    lines.push(c.bold(`${pad('total', w)}${pad(formatNs(m.total.mean_ns), 14, true)}${pad(formatNs(m.total.stddev_ns), 14, true)}${pad('100.0%', 8, true)}`));
    if (!m.method.stages_add_up) lines.push(c.yellow('note: stages trimmed one by one (--trim-by stage): they do not add up to the total'));
    lines.push('');
    lines.push(c.bold('clock domains'));
    for (const d of m.domains) lines.push(`  ${pad(d.name, 12)}${domainText(d)}`);
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
  description: 'one row per stage and the total, with the per-run means as columns',
  render(m) {
    const head = ['kind', 'name', 'from', 'to', 'mean_ns', 'stddev_ns', 'share', 'uncertainty_ns', ...m.runs.map((r) => `run_${r.run}_ns`)];
    const rows = m.stages.map((s) => ['stage', s.name, s.from, s.to, s.mean_ns, s.stddev_ns, s.share, s.uncertainty_ns, ...m.runs.map((r) => r.stages_ns[s.name]!)]);
    rows.push(['total', 'total', m.points[0]!, m.points[m.points.length - 1]!, m.total.mean_ns, m.total.stddev_ns, 1, 0, ...m.runs.map((r) => r.total_ns)]);
    return [head, ...rows].map((r) => r.map((v) => csvField(v as string | number | null)).join(',')).join('\n') + '\n';
  },
};

const markdown: Reporter = {
  name: 'markdown',
  description: 'GitHub-flavoured Markdown (for a PR comment or a wiki page)',
  render(m) {
    const out: string[] = [];
    out.push(`### xtrace report: \`${m.profile}\``, '', runSummary(m) + '.', '');
    out.push('| stage | mean | ± sd (runs) | share |', '|---|---:|---:|---:|');
    for (const s of m.stages) out.push(`| \`${s.name}\`${s.cross_domain ? ` (clock ±${formatNs(s.uncertainty_ns)})` : ''} | ${formatNs(s.mean_ns)} | ${formatNs(s.stddev_ns)} | ${pct(s.share)} |`);
    out.push(`| **total** | **${formatNs(m.total.mean_ns)}** | ${formatNs(m.total.stddev_ns)} | 100.0% |`);
    if (!m.method.stages_add_up) out.push('', '_Stages trimmed one by one (`--trim-by stage`): they do not add up to the total._');
    out.push('', '**Clock domains**', '');
    for (const d of m.domains) out.push(`- \`${d.name}\`: ${domainText(d)}`);
    out.push('', '**Data quality**', '');
    for (const l of qualityLines(m)) out.push(`- ${l}`);
    return out.join('\n') + '\n';
  },
};

export const REPORTERS = { table, json, csv, markdown } as const satisfies Record<string, Reporter>;
export type ReporterName = keyof typeof REPORTERS;
