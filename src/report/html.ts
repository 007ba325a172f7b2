/**
 * The HTML report (`report --format html`): one self-contained page (inline SVG, CSS and a small
 * tooltip script; no network) for people and CI artifacts — the study's stacked bar overall and
 * per run with clock uncertainty as error bars, the distribution of every stage on a log axis with
 * the trimmed requests hatched and the means and percentiles marked, the slowest kept requests as
 * waterfalls with their events on hover, the clock domains, the data quality (data loss first) and
 * the method. Every text from a trace is escaped (svg.ts `esc`).
 */
import type { Figures, SlowRequest } from './figures.js';
import { formatBytes, formatNs, formatRate, pct, pctPrecise, plural } from './format.js';
import type { ReportGroup, ReportModel, ReportStage } from './model.js';
import { esc, histogram, layerLegend, legend, page, stackedBars, stageColors, waterfall, type Bar, type WaterfallRow } from './svg.js';
import { domainText, excludedLine, flipLine, formatDuration, groupExcludedLine, groupTitle, keptOf, resolutionLine, runSummary, stageLabel, tailLine, whoLines } from './text.js';
import { LAYER_LABELS, type Layer } from '../profiles/layers.js';

const WIDTH = 1100;
/** Per-run bars drawn before the rest is summarised (the JSON lists every run). */
const MAX_RUN_BARS = 40;

function stageTip(s: ReportStage, valueNs: number, share: number | null, who: string): string {
  const lines = [`${s.name}${s.merged ? ' (merged: batched requests)' : ''}`, `${who}: ${formatNs(valueNs)}${share === null ? '' : ` (${pct(share)})`}`];
  if (s.stddev_ns !== null && who === 'mean of the runs') lines.push(`± sd over runs ${formatNs(s.stddev_ns)}`);
  lines.push(`layer: ${LAYER_LABELS[s.layer ?? 'other']}`);
  if (s.cross_domain) lines.push(`clock: ${s.from_domain} → ${s.to_domain}, ±${formatNs(s.uncertainty_ns)}`);
  return lines.join('\n');
}

/** The study's figure for a report or a group: the mean of the runs, then each run, on one scale. */
function breakdownBars(part: Pick<ReportModel, 'stages' | 'total' | 'runs'>, colors: Map<string, string>, figure: string, title: string): string {
  const overall: Bar = {
    label: 'mean of the runs',
    sublabel: `${formatNs(part.total.mean_ns)} · ${plural(part.runs.length, 'run')}`,
    segments: part.stages.map((s) => ({ name: s.name, value: s.mean_ns, uncertainty: s.cross_domain ? s.uncertainty_ns : 0, tip: stageTip(s, s.mean_ns, s.share, 'mean of the runs'), inside: pct(s.share) })),
  };
  const runs: Bar[] = part.runs.slice(0, MAX_RUN_BARS).map((r) => ({
    label: `run ${r.run}`,
    sublabel: `${formatNs(r.total_ns)} · ${r.kept} kept`,
    segments: part.stages.map((s) => {
      const v = r.stages_ns[s.name] ?? 0;
      return { name: s.name, value: v, uncertainty: s.cross_domain ? s.uncertainty_ns : 0, tip: stageTip(s, v, r.total_ns > 0 ? v / r.total_ns : null, `run ${r.run}`) };
    }),
  }));
  const bars = part.runs.length > 1 ? [overall, ...runs] : [overall];
  const svg = stackedBars(bars, { width: WIDTH, colors, title, figure, barHeight: 28 });
  const more = part.runs.length > MAX_RUN_BARS ? `<p class="note">… ${plural(part.runs.length - MAX_RUN_BARS, 'more run')} not drawn (--format json lists them all).</p>` : '';
  return svg + more;
}

function stageTable(part: Pick<ReportModel, 'stages' | 'total' | 'runs'>, colors: Map<string, string>): string {
  const kept = keptOf(part);
  const rows = part.stages.map(
    (s) =>
      `<tr data-stage="${esc(s.name)}"><td><span class="swatch" style="background:${colors.get(s.name)}"></span> <code>${esc(s.name)}</code>${esc(stageLabel(s, kept).slice(s.name.length))}</td><td>${esc(LAYER_LABELS[s.layer ?? 'other'])}</td><td class="num">${formatNs(s.mean_ns)}</td><td class="num">${formatNs(s.stddev_ns)}</td><td class="num">${pct(s.share)}</td><td class="num">${s.cross_domain ? `±${formatNs(s.uncertainty_ns)}` : ''}</td><td class="num">${formatNs(s.untrimmed_mean_ns)}</td><td class="num">${formatNs(s.p50_ns)}</td><td class="num">${formatNs(s.p99_ns)}</td></tr>`,
  );
  const t = part.total;
  rows.push(`<tr><th>total</th><td></td><th class="num">${formatNs(t.mean_ns)}</th><td class="num">${formatNs(t.stddev_ns)}</td><td class="num">100.0%</td><td></td><td class="num">${formatNs(t.untrimmed_mean_ns)}</td><td class="num">${formatNs(t.p50_ns)}</td><td class="num">${formatNs(t.p99_ns)}</td></tr>`);
  return `<table class="stages"><thead><tr><th>stage</th><th>layer</th><th class="num">mean (trimmed)</th><th class="num">± sd (runs)</th><th class="num">share</th><th class="num">clock ±</th><th class="num">untrimmed mean</th><th class="num">p50</th><th class="num">p99</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Notes under a breakdown: adding up, the tail, a flip of the dominant stage, µs clocks, runs not averaged. */
function notes(m: ReportModel, part: Pick<ReportModel, 'stages' | 'total' | 'shape' | 'excluded_runs' | 'runs'>, group: boolean): string {
  const out: string[] = [];
  if (!m.method.stages_add_up) out.push(`<p class="warn">Stages trimmed one by one (--trim-by stage): they do not add up to the total.</p>`);
  out.push(`<p class="note">${esc(tailLine(part.total, part.shape))}</p>`);
  const flip = flipLine(part.shape);
  if (flip) out.push(`<p class="warn">${esc(flip)}</p>`);
  const res = group ? null : resolutionLine(m, part.stages);
  if (res) out.push(`<p class="note">${esc(res)}</p>`);
  if (group) {
    const line = groupExcludedLine(part.excluded_runs);
    if (line) out.push(`<p class="note">${esc(line)}</p>`);
  } else for (const e of part.excluded_runs) out.push(`<p class="warn">${esc(excludedLine(e))}</p>`);
  return out.join('\n');
}

function runsTable(m: ReportModel): string {
  const rows = m.runs.map(
    (r) =>
      `<tr><td>${esc(r.run)}</td><td class="num">${r.complete}</td><td class="num">${r.kept}</td><td class="num">${formatNs(r.total_ns)}</td><td class="num">${formatDuration(r.duration_ns)}</td><td class="num">${formatRate(r.requests_per_s)}</td><td class="num">${formatBytes(r.bytes)}</td><td class="num">${formatRate(r.mb_per_s)}</td></tr>`,
  );
  return `<table><thead><tr><th>run</th><th class="num">complete</th><th class="num">kept</th><th class="num">mean total</th><th class="num">duration</th><th class="num">req/s</th><th class="num">bytes</th><th class="num">MB/s</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function distributionsSection(m: ReportModel, f: Figures, colors: Map<string, string>): string {
  // The total first: the distribution people ask about.
  const ordered = [...f.distributions.filter((d) => d.name === 'total'), ...f.distributions.filter((d) => d.name !== 'total')];
  const panels = ordered.map((d) => {
    const stage = m.stages.find((s) => s.name === d.name);
    const isTotal = d.name === 'total';
    // The report's own numbers where they are the stage's (every kept request has it); else over the requests that have it.
    const whole = isTotal || (stage !== undefined && stage.requests === keptOf(m) && stage.untrimmed_requests === m.shape.requests);
    const mean = isTotal ? m.total.mean_ns : whole ? stage!.mean_ns : d.kept_mean_ns;
    const untrimmed = isTotal ? m.total.untrimmed_mean_ns : whole ? stage!.untrimmed_mean_ns : d.untrimmed_mean_ns;
    const trimmed = d.requests - d.kept;
    const note = d.nonpositive ? `${plural(d.nonpositive, 'request')} at ≤ 0 ns not drawn (clock uncertainty or whole-µs clocks)` : undefined;
    const svg = histogram({
      title: `${d.name}: distribution of ${plural(d.requests, 'request')}`,
      figure: `dist:${d.name}`,
      width: 540,
      height: 190,
      bins: d.bins,
      color: isTotal ? '#3d4753' : (colors.get(d.name) ?? '#888'),
      markers: [
        { label: 'mean', ns: mean, kind: 'mean' },
        { label: 'untrimmed', ns: untrimmed, kind: 'untrimmed' },
        { label: 'p50', ns: d.p50_ns, kind: 'p50' },
        { label: 'p99', ns: d.p99_ns, kind: 'p99' },
      ],
      ...(note ? { note } : {}),
    });
    const over = whole ? '' : ' (means over the requests that have it)';
    return `<div class="panel" data-dist="${esc(d.name)}"><h3><code>${esc(d.name)}</code></h3><p>${plural(d.requests, 'request')}: ${d.kept} kept, ${trimmed} trimmed (hatched) · mean ${formatNs(mean)} · untrimmed ${formatNs(untrimmed)} · p50 ${formatNs(d.p50_ns)} · p99 ${formatNs(d.p99_ns)}${over}</p>${svg}</div>`;
  });
  const warm = m.method.warmup ? `drops the first ${plural(m.method.warmup, 'complete request')} of each run (not drawn), then` : 'drops';
  const trim = m.method.trim
    ? `The statistic ${warm} the ${pctPrecise(m.method.trim)} fastest and slowest ${m.method.trim_by === 'total' ? 'by total latency (so a stage\u2019s trimmed requests are those of the trimmed totals, wherever they fall)' : 'of each stage on its own'}: those are hatched.`
    : `No trimming: every request${m.method.warmup ? ' after warm-up' : ''} is kept.`;
  return `<h2 id="distributions">Distributions</h2><p class="note">Complete requests after warm-up of the reported runs, on a log time axis. ${esc(trim)} Lines: the trimmed mean (the headline), the untrimmed mean, p50 and p99 (nearest rank).</p><div class="grid2">${panels.join('\n')}</div>`;
}

/** A point's event for the hover text: where it was printed, by whom, on which CPU. */
function eventText(p: SlowRequest['points'][number]): string {
  if (p.at_ns === null) return `${p.point}: absent (batched)`;
  const where = p.source ? `${p.source.split('/').pop()}:${p.line}` : '?';
  // An xtbuf record has no CPU (and a trace may print no task): only what the source says.
  const task = p.task !== null ? ` ${p.task}${p.pid !== null ? `-${p.pid}` : ''}` : '';
  const cpu = p.cpu !== null ? ` CPU ${p.cpu}` : '';
  return `${p.point} at +${formatNs(p.at_ns)} [${p.domain ?? '?'}]${task}${cpu} ${where}: ${p.event ?? ''} ${p.args ?? ''}`.trimEnd();
}

function slowestSection(f: Figures, colors: Map<string, string>): string {
  if (!f.slowest.length) return '';
  const rows: WaterfallRow[] = f.slowest.map((r) => {
    const segs: WaterfallRow['segments'] = [];
    let prev = -1;
    r.points.forEach((p, k) => {
      if (p.at_ns === null) return;
      if (prev >= 0) {
        const a = r.points[prev]!;
        const name = `${a.point}->${p.point}`;
        segs.push({ name, from_ns: a.at_ns!, to_ns: p.at_ns, tip: `${name}: ${formatNs(p.at_ns - a.at_ns!)}\n${eventText(a)}\n${eventText(p)}` });
      }
      prev = k;
    });
    return { label: `run ${r.run} · #${r.seq}`, sublabel: formatNs(r.total_ns), segments: segs };
  });
  const svg = waterfall(rows, { width: WIDTH, colors, title: `the ${rows.length} slowest kept requests`, figure: 'waterfall' });
  const list = f.slowest
    .map((r) => `<details><summary>run ${esc(r.run)} · #${r.seq} · ${formatNs(r.total_ns)}</summary><table><tbody>${r.points.map((p) => `<tr><td><code>${esc(p.point)}</code></td><td class="num">${p.at_ns === null ? 'absent (batched)' : '+' + formatNs(p.at_ns)}</td><td>${esc(p.domain ?? '')}</td><td>${esc(p.task ?? '')}${p.pid !== null ? `-${p.pid}` : ''}</td><td>${p.cpu === null ? '' : `CPU ${p.cpu}`}</td><td>${esc(p.source ? `${p.source.split('/').pop()}:${p.line}` : '')}</td><td><code>${esc(`${p.event ?? ''} ${p.args ?? ''}`.trim())}</code></td></tr>`).join('')}</tbody></table></details>`)
    .join('\n');
  return `<h2 id="slowest">Slowest kept requests</h2><p class="note">The ${rows.length} slowest requests the means include, each from its first point, in true time (reference clock). Hover a segment for its two events: task, CPU, file and line.</p>${svg}${list}`;
}

function groupsSection(m: ReportModel, colors: Map<string, string>): string {
  const groups: ReportGroup[] = m.groups ?? [];
  if (!groups.length) return '';
  const bars: Bar[] = groups.map((g) => ({
    label: groupTitle(g),
    sublabel: `${formatNs(g.total.mean_ns)} · ${keptOf(g)} kept`,
    segments: g.stages.map((s) => ({ name: s.name, value: s.mean_ns, uncertainty: s.cross_domain ? s.uncertainty_ns : 0, tip: stageTip(s, s.mean_ns, s.share, groupTitle(g)), inside: pct(s.share) })),
  }));
  const parts = groups.map((g) => `<h3>${esc(groupTitle(g))}</h3><p class="note">${esc(runSummary({ ...g, method: m.method }, false))}</p>${stageTable(g, colors)}${notes(m, g, true)}`);
  return `<h2 id="groups">By ${esc(m.method.group_by ?? '')}</h2>${stackedBars(bars, { width: WIDTH, colors, title: `breakdown by ${m.method.group_by}`, figure: 'groups' })}${parts.join('\n')}`;
}

function domainsSection(m: ReportModel): string {
  const rows = m.domains.map((d) => `<tr><td><code>${esc(d.name)}</code></td><td>${esc(d.method)}</td><td>${esc(domainText(d))}</td></tr>`);
  return `<h2 id="clocks">Clock domains</h2><table><thead><tr><th>domain</th><th>method</th><th>offset, uncertainty, drift</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const SEVERITY_ORDER: Record<string, number> = { data_loss: 0, error: 1, info: 2 };

function qualitySection(m: ReportModel): string {
  const q = m.requests;
  const dq = m.data_quality;
  const lossy = dq.lost_events > 0 || dq.unparsed_lines > 0;
  const facts = [
    [`requests`, `${q.complete} complete, ${q.incomplete} incomplete (kept out of the averages), ${q.outside_runs} outside runs${q.filtered_out ? `, ${q.filtered_out} left out by the filters` : ''}`, q.incomplete > 0],
    [`orphans (${q.orphan_label})`, String(q.orphans), false],
    ['not requests (reached no required point, e.g. page-cache hits)', String(q.not_requests), false],
    ['lost events', String(dq.lost_events), dq.lost_events > 0],
    ['lines not understood', String(dq.unparsed_lines), dq.unparsed_lines > 0],
    ...(m.absent_points.length ? [['points left out (their event never occurs)', m.absent_points.join(', '), false] as const] : []),
    ...(dq.runs_not_ended.length ? [['runs without an end marker', dq.runs_not_ended.join(', '), true] as const] : []),
    ...(dq.stray_run_ends.length ? [['end markers without a begin', dq.stray_run_ends.join(', '), true] as const] : []),
    ...(dq.repeated_run_labels.length ? [['run labels used twice (renamed label#2 …)', dq.repeated_run_labels.join(', '), true] as const] : []),
  ] as const;
  // One row per counter, its points together; data loss first, then by how often.
  const byCode = new Map<string, { severity: string; description: string; count: number; points: string[] }>();
  for (const d of m.diagnostics) {
    const c = byCode.get(d.code) ?? { severity: d.severity, description: d.description, count: 0, points: [] };
    c.count += d.count;
    if (d.point) c.points.push(`${d.point} ${d.count}`);
    byCode.set(d.code, c);
  }
  const counters = [...byCode].sort(([a, x], [b, y]) => (SEVERITY_ORDER[x.severity] ?? 3) - (SEVERITY_ORDER[y.severity] ?? 3) || y.count - x.count || (a < b ? -1 : a > b ? 1 : 0));
  const counterRows = counters.map(([code, d]) => `<tr class="${d.severity === 'data_loss' || d.severity === 'error' ? 'bad' : ''}"><td><code>${esc(code)}</code></td><td>${esc(d.severity)}</td><td class="num">${d.count}</td><td>${esc(d.points.join(', '))}</td><td>${esc(d.description)}</td></tr>`);
  const sources = dq.sources.map((s) => `<tr><td><code>${esc(s.path)}</code></td><td>${esc(s.domain)}</td><td class="num">${s.lost_events}</td><td class="num">${s.unparsed_lines}</td><td class="num">${s.timestamp_resolution_ns >= 1000 ? 'µs' : 'ns'}</td></tr>`);
  return `<h2 id="quality">Data quality</h2>${lossy ? '<p class="warn">Events were lost or lines not understood: requests that lost an event are incomplete and left out of the averages (see below).</p>' : ''}<table><tbody>${facts.map(([k, v, bad]) => `<tr class="${bad ? 'bad' : ''}"><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>
<h3>Counters (data loss first)</h3>${counterRows.length ? `<table><thead><tr><th>counter</th><th>severity</th><th class="num">count</th><th>by point</th><th>what it means</th></tr></thead><tbody>${counterRows.join('')}</tbody></table>` : '<p class="note">none</p>'}
<h3>Sources</h3><table><thead><tr><th>file</th><th>domain</th><th class="num">lost events</th><th class="num">lines not understood</th><th class="num">timestamps</th></tr></thead><tbody>${sources.join('')}</tbody></table>`;
}

function methodSection(m: ReportModel): string {
  const me = m.method;
  const rows = [
    ['statistic', me.statistic],
    ['tail', me.tail_statistic],
    ['warm-up', String(me.warmup)],
    ['trim', me.trim ? `${pctPrecise(me.trim)} each side, by ${me.trim_by}` : 'none'],
    ['filters', me.filters.length ? me.filters.join(' and ') : 'none'],
    ['grouped by', me.group_by ?? 'none'],
    ['strict', me.strict ? 'yes' : 'no'],
    ['path', m.points.join(' → ')],
    ['stored correlation', m.correlation_id === null ? 'not stored' : `id ${m.correlation_id} (SQL: xtrace query)`],
  ];
  return `<h2 id="method">Method</h2><table><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k!)}</th><td>${esc(v!)}</td></tr>`).join('')}</tbody></table>`;
}

/** The page. `f` null: the pictures' data was not computed (a model alone): the sections that need it say so. */
export function renderHtmlReport(m: ReportModel, f: Figures | null): string {
  const colors = stageColors(m.stages.map((s) => ({ name: s.name, layer: s.layer ?? 'other' })));
  // The waterfall draws split stages between the points present: colour those a merged row does not name.
  if (f) {
    const extra = Object.entries(f.layers).filter(([n]) => !colors.has(n));
    for (const [n, c] of stageColors(extra.map(([name, layer]) => ({ name, layer: layer as Layer })))) colors.set(n, c);
  }
  const head: string[] = [];
  head.push(`<h1>xtrace report · <code>${esc(m.profile)}</code></h1>`);
  if (m.description) head.push(`<p class="sub">${esc(m.description)}</p>`);
  head.push(`<p>${esc(runSummary(m))}</p>`);
  const dq = m.data_quality;
  const loss = m.diagnostics.filter((d) => d.severity === 'data_loss' && d.count > 0);
  if (dq.lost_events > 0 || loss.length)
    head.push(`<p class="warn">Data loss: ${dq.lost_events} events lost${loss.length ? `; ${loss.map((d) => `${d.code}${d.point ? ` (${d.point})` : ''} ${d.count}`).join(', ')}` : ''}. The means are over complete requests only; see <a href="#quality">Data quality</a>.</p>`);
  for (const w of whoLines(m)) head.push(`<p class="${w.warn ? 'warn' : 'note'}">${esc(w.text)}</p>`);
  const stageLegend = legend(m.stages.map((s) => ({ name: s.name, color: colors.get(s.name)!, note: LAYER_LABELS[s.layer ?? 'other'] })));
  const body = [
    `<header>${head.join('\n')}</header>`,
    `<h2 id="breakdown">Where the time goes</h2>`,
    `<p class="note">Mean time per stage (the study's statistic), the mean of the runs first, then each run on the same scale. Error bars: the clock uncertainty of a stage between two clock domains.</p>`,
    breakdownBars(m, colors, 'breakdown', `where a request spends its time: ${m.profile}`),
    stageLegend,
    layerLegend(m.stages.map((s) => s.layer ?? 'other')).length > 1 ? `<p class="note">Colours by layer: ${layerLegend(m.stages.map((s) => s.layer ?? 'other')).map((l) => esc(l.name)).join(' · ')}.</p>` : '',
    stageTable(m, colors),
    notes(m, m, false),
    `<h3>Runs</h3>`,
    runsTable(m),
    groupsSection(m, colors),
    f ? distributionsSection(m, f, colors) : '',
    f ? slowestSection(f, colors) : '',
    domainsSection(m),
    qualitySection(m),
    methodSection(m),
    `<footer>xtrace report --format html · self-contained: no network request, nothing to install.</footer>`,
  ];
  return page(`xtrace report · ${m.profile}`, body.filter(Boolean).join('\n'));
}
