/**
 * The study's figure (`xtrace chart`): several saved reports, of different profiles too (bare-metal
 * `linux-block` next to `xen-blkback` next to `xen-blktap2`), one stacked bar each on one time axis
 * from the request's start, so the common start lines up and each bar ends at its mean latency.
 * Segments are the report's stages in path order (merged stages where the report puts them: rows
 * that add up), coloured by layer (a shade of the layer's hue per stage), with error bars on the
 * stages across clock domains. SVG for papers and slides (standalone: its own style), HTML with
 * hover, the tables of every bar's stages and the method of each report.
 *
 * Pure: reports in, text out. The same reports give the same bytes: no date, no directory (the
 * caller gives file names without one), the bars in the order given, numbers with fixed decimals.
 */
import { LAYER_LABELS, LAYERS, type Layer } from '../profiles/layers.js';
import { formatNs, pct, pctPrecise, plural } from './format.js';
import type { ReportModel, ReportStage } from './model.js';
import { esc, FIGURE_CSS, layerColor, page, px, stackedBars, stageColors, textWidth, type Bar, stageColorKey } from './svg.js';

export const CHART_FORMATS = ['svg', 'html'] as const;
export type ChartFormat = (typeof CHART_FORMATS)[number];

/** One bar: a saved report, its label and its file name (without a directory). */
export interface ChartReport {
  label: string;
  file: string;
  report: ReportModel;
}

export interface ChartOptions {
  /** Heading of the figure (default DEFAULT_CHART_TITLE). */
  title?: string;
  /** Width of the figure in px (default 900). */
  width?: number;
}

export const DEFAULT_CHART_TITLE = 'Mean latency per request, by stage and layer';
const WIDTH = 900;
const MARGIN = 12;
const NOTE_SIZE = 11;
const SUBTITLE = "the mean per request from the request's start (0), the stages in path order, coloured by layer";

/**
 * The bars' labels: the one given, else the report's profile, or `profile · file` when two bars
 * would have the same; a label still repeated gets its position (`#2`).
 */
export function chartLabels(items: readonly { label?: string; file: string; profile: string }[]): string[] {
  const first = items.map((i) => i.label ?? i.profile);
  const count = (labels: string[], l: string): number => labels.filter((x) => x === l).length;
  const second = items.map((i, k) => (i.label === undefined && count(first, first[k]!) > 1 ? `${i.profile} · ${i.file}` : first[k]!));
  return second.map((l, k) => (count(second, l) > 1 ? `${l} #${k + 1}` : l));
}

/** The colour key of a stage: the same name may be in two layers (`syscall_enter->bio_queue` on bare metal and in a guest). */

/** Shades per stage over every bar, keyed by stageColorKey. */
function colorsOf(items: readonly ChartReport[]): Map<string, string> {
  return stageColors(items.flatMap((i) => i.report.stages.map((s) => ({ name: stageColorKey(s), layer: s.layer }))));
}

/** Clock uncertainty drawn as an error bar: a stage across clock domains only. */
const uncertaintyOf = (s: ReportStage): number => (s.cross_domain && s.uncertainty_ns > 0 ? s.uncertainty_ns : 0);

function stageTip(label: string, s: ReportStage): string {
  const u = uncertaintyOf(s);
  return [
    `${label}: ${s.name}`,
    LAYER_LABELS[s.layer],
    `mean ${formatNs(s.mean_ns)}${u ? ` ± ${formatNs(u)} (clock offsets between ${s.from_domain} and ${s.to_domain})` : ''}, ${pct(s.share)} of the total`,
    ...(s.merged ? [`merged stage: requests batched between ${s.from} and ${s.to}`] : []),
  ].join('\n');
}

function barOf(item: ChartReport): Bar {
  const m = item.report;
  return {
    label: item.label,
    // Its total, and its profile unless the label is the profile.
    sublabel: item.label === m.profile ? formatNs(m.total.mean_ns) : `${m.profile} · ${formatNs(m.total.mean_ns)}`,
    // The share inside a segment (stackedBars leaves it out where an error bar would cross it).
    segments: m.stages.map((s) => ({ name: s.name, colorKey: stageColorKey(s), value: s.mean_ns, uncertainty: uncertaintyOf(s), tip: stageTip(item.label, s), inside: pct(s.share) })),
  };
}

/** What a reader must know to read a bar right: stages that do not add up, negative means drawn as 0, runs not averaged. */
function notesOf(item: ChartReport): string[] {
  const m = item.report;
  const out: string[] = [];
  if (m.method.trim_by === 'stage' || m.method.stages_add_up === false) {
    const sum = m.stages.reduce((a, s) => a + Math.max(0, s.mean_ns), 0);
    out.push(`${item.label}: its stages do not add up to the total (--trim-by stage trims each stage on its own): the bar is their sum, ${formatNs(sum)}; the total is ${formatNs(m.total.mean_ns)}.`);
  }
  const negative = m.stages.filter((s) => s.mean_ns < 0);
  if (negative.length) out.push(`${item.label}: ${negative.map((s) => `${s.name} (${formatNs(s.mean_ns)})`).join(', ')} below 0 (clock offsets between domains), drawn as 0.`);
  // (A saved report from before excluded_runs existed has none.)
  const excluded = m.excluded_runs ?? [];
  if (excluded.length) out.push(`${item.label}: ${plural(excluded.length, 'run')} not averaged: ${excluded.map((e) => `run ${e.run} (${e.why})`).join('; ')}.`);
  return out;
}

/** Greedy word wrap to `width` px at the note size. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, NOTE_SIZE) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/** The height an SVG element declares (of the figures svg.ts draws). */
function heightOf(svg: string): number {
  return Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1] ?? 0);
}

/** The layers' legend in SVG (a standalone figure has no HTML around it), rows wrapped to the width; and its height. */
function svgLegend(layers: readonly Layer[], errorBars: boolean, width: number): { svg: string; height: number } {
  const entries: { width: number; draw: (x: number, y: number) => string }[] = layers.map((l) => ({
    width: 18 + textWidth(LAYER_LABELS[l], NOTE_SIZE) + 18,
    draw: (x, y) => `<g class="key" data-layer="${l}"><rect x="${px(x)}" y="${px(y)}" width="12" height="12" rx="2" fill="${layerColor(l)}"/><text class="key-text" x="${px(x + 18)}" y="${px(y + 10)}">${esc(LAYER_LABELS[l])}</text></g>`,
  }));
  if (errorBars) {
    const text = 'clock uncertainty of a stage across clock domains (±)';
    entries.push({
      width: 18 + textWidth(text, NOTE_SIZE) + 18,
      draw: (x, y) =>
        `<g class="key err"><line x1="${px(x)}" y1="${px(y + 6)}" x2="${px(x + 12)}" y2="${px(y + 6)}"/><line x1="${px(x)}" y1="${px(y + 1)}" x2="${px(x)}" y2="${px(y + 11)}"/><line x1="${px(x + 12)}" y1="${px(y + 1)}" x2="${px(x + 12)}" y2="${px(y + 11)}"/><text class="key-text" x="${px(x + 18)}" y="${px(y + 10)}">${esc(text)}</text></g>`,
    });
  }
  const rowH = 18;
  const out: string[] = [];
  let x = MARGIN;
  let y = 0;
  for (const e of entries) {
    if (x > MARGIN && x + e.width > width - MARGIN) {
      x = MARGIN;
      y += rowH;
    }
    out.push(e.draw(x, y));
    x += e.width;
  }
  return { svg: out.join('\n'), height: entries.length ? y + rowH : 0 };
}

/** Style of the chart's own parts (title, legend, notes); the bars use FIGURE_CSS. */
const CHART_CSS = `
svg.chart .chart-title{font-size:15px;font-weight:600;fill:#1b1f24}
svg.chart .chart-sub{font-size:11px;fill:#5b6472}
svg.chart .key-text{font-size:11px;fill:#1b1f24}
svg.chart .key.err line{stroke:#1b1f24;stroke-width:1.5}
svg.chart .chart-note{font-size:11px;fill:#5b6472}
`;

/** The figure as one SVG element: heading (unless the page has one), bars, legend, notes; `style`: the CSS to embed. */
function figure(items: readonly ChartReport[], o: ChartOptions, style: string, heading: boolean): string {
  const width = o.width ?? WIDTH;
  const title = o.title ?? DEFAULT_CHART_TITLE;
  const bars = stackedBars(items.map(barOf), { width, colors: colorsOf(items), title, figure: 'chart' });
  const layers = LAYERS.filter((l) => items.some((i) => i.report.stages.some((s) => s.layer === l)));
  const errorBars = items.some((i) => i.report.stages.some((s) => uncertaintyOf(s) > 0));
  const legend = svgLegend(layers, errorBars, width);
  const notes = items.flatMap(notesOf).flatMap((n) => wrap(n, width - 2 * MARGIN));
  const top = heading ? 44 : 4;
  const legendY = top + heightOf(bars) + 10;
  const notesY = legendY + legend.height + 6;
  const height = notesY + notes.length * 15 + (notes.length ? 4 : 0);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="fig chart" data-figure="chart-page" width="${px(width)}" height="${px(height)}" viewBox="0 0 ${px(width)} ${px(height)}" role="img" aria-label="${esc(title)}">`,
    `<style>${style}</style>`,
    `<title>${esc(title)}</title>`,
    ...(heading ? [`<text class="chart-title" x="${MARGIN}" y="18">${esc(title)}</text>`, `<text class="chart-sub" x="${MARGIN}" y="34">${esc(SUBTITLE)}</text>`] : []),
    `<g transform="translate(0 ${top})">`,
    bars,
    '</g>',
    `<g class="legend" transform="translate(0 ${px(legendY)})">`,
    legend.svg,
    '</g>',
    ...notes.map((n, k) => `<text class="chart-note" x="${MARGIN}" y="${px(notesY + 11 + k * 15)}">${esc(n)}</text>`),
    '</svg>',
  ];
  return out.join('\n') + '\n';
}

/** The figure as a standalone SVG file (its own style: papers, slides, image viewers). */
export function chartSvg(items: readonly ChartReport[], o: ChartOptions = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${figure(items, o, FIGURE_CSS + CHART_CSS, true)}`;
}

/** Rows of a table, every cell escaped here; `num` cells right-aligned. */
function table(head: readonly (string | { num: string })[], rows: readonly (readonly (string | { num: string } | { html: string })[])[]): string {
  const cell = (tag: 'th' | 'td', c: string | { num: string } | { html: string }): string =>
    typeof c === 'string' ? `<${tag}>${esc(c)}</${tag}>` : 'num' in c ? `<${tag} class="num">${esc(c.num)}</${tag}>` : `<${tag}>${c.html}</${tag}>`;
  return `<table>\n<tr>${head.map((h) => cell('th', h)).join('')}</tr>\n${rows.map((r) => `<tr>${r.map((c) => cell('td', c)).join('')}</tr>`).join('\n')}\n</table>`;
}

function stagesTable(item: ChartReport, colors: ReadonlyMap<string, string>): string {
  const m = item.report;
  const rows = m.stages.map((s) => [
    { html: `<span class="swatch" style="background:${colors.get(stageColorKey(s)) ?? '#999'}"></span> <code>${esc(s.name)}</code>${s.merged ? ' <span class="note">merged (batched requests)</span>' : ''}` },
    LAYER_LABELS[s.layer],
    { num: formatNs(s.mean_ns) },
    { num: uncertaintyOf(s) ? `± ${formatNs(uncertaintyOf(s))}` : '' },
    { num: pct(s.share) },
  ]);
  rows.push([{ html: '<strong>total</strong>' }, '', { num: formatNs(m.total.mean_ns) }, { num: '' }, { num: pct(1) }]);
  return `<h3 data-bar="${esc(item.label)}">${esc(item.label)} <span class="sub">${esc(`${m.profile} · ${item.file}`)}</span></h3>\n${table(['stage', 'layer', { num: 'mean' }, { num: 'clock' }, { num: 'share' }], rows)}`;
}

function methodTable(items: readonly ChartReport[]): string {
  const rows = items.map((i) => {
    const m = i.report;
    return [
      i.label,
      i.file,
      m.profile,
      { num: String(m.runs.length) },
      { num: String((m.excluded_runs ?? []).length) },
      { num: String(m.method.warmup) },
      { num: pctPrecise(m.method.trim) },
      m.method.trim_by,
      (m.method.filters ?? []).join(' ') || '–',
      m.method.stages_add_up === false || m.method.trim_by === 'stage' ? 'no' : 'yes',
    ];
  });
  return table(['bar', 'file', 'profile', { num: 'runs' }, { num: 'not averaged' }, { num: 'warm-up' }, { num: 'trim' }, 'trim by', 'filters', 'stages add up'], rows);
}

/** The figure in a self-contained HTML page (hover text at once), with every bar's stages and each report's method. */
export function chartHtml(items: readonly ChartReport[], o: ChartOptions = {}): string {
  const title = o.title ?? DEFAULT_CHART_TITLE;
  const colors = colorsOf(items);
  const notes = items.flatMap(notesOf);
  const body = [
    `<h1>${esc(title)}</h1>`,
    `<p class="sub">${esc(`${plural(items.length, 'report')}, one bar each: ${SUBTITLE}; hover a stage for its numbers.`)}</p>`,
    figure(items, o, CHART_CSS, false),
    ...notes.map((n) => `<p class="warn">${esc(n)}</p>`),
    '<h2>Stages</h2>',
    ...items.map((i) => stagesTable(i, colors)),
    '<h2>Method</h2>',
    methodTable(items),
    `<ul class="note">${items.map((i) => `<li>${esc(i.label)}: ${esc(i.report.method.statistic ?? '')}</li>`).join('')}</ul>`,
    `<footer>${esc(`xtrace chart of ${items.map((i) => i.file).join(', ')}`)}</footer>`,
  ];
  return page(title, body.join('\n'));
}

/** The chart in the given format. */
export function renderChart(format: ChartFormat, items: readonly ChartReport[], o: ChartOptions = {}): string {
  return format === 'svg' ? chartSvg(items, o) : chartHtml(items, o);
}
