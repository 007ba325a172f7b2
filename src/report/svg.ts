/**
 * The drawing kit of the picture outputs (`report --format html`, `compare --format html`,
 * `chart`): escaping, colours by layer, nice axes, and the figures themselves as SVG text —
 * stacked bars (the study's figure), a histogram on a log time axis, request waterfalls and
 * interval rows. Pure functions of their inputs: the same data give the same bytes (numbers are
 * written with fixed decimals), and every text that may come from a trace is escaped here.
 *
 * Hover text is an SVG `<title>` on the element (shown by every browser and by image viewers that
 * read SVG); the HTML pages add a small script that shows it at once (`TOOLTIP_SCRIPT`).
 */
import { LAYER_LABELS, LAYERS, type Layer } from '../profiles/layers.js';
import { formatNs } from './format.js';

/** Text or attribute value for HTML and SVG: &, <, >, " and ' escaped. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A coordinate: 0.1 px is finer than any screen, and fixed decimals keep the output deterministic. */
export function px(v: number): string {
  return (Math.round(v * 10) / 10).toFixed(1).replace(/\.0$/, '');
}

/** The hue of each layer (HSL degrees) and its saturation: a stage is a shade of its layer's colour. */
const LAYER_HUES: Record<Layer, [number, number]> = {
  'guest-kernel': [212, 62],
  handoff: [42, 85],
  'host-kernel': [145, 45],
  userspace: [275, 45],
  device: [6, 68],
  other: [210, 8],
};

/** The colour of a layer (its middle shade), for legends. */
export function layerColor(layer: Layer): string {
  const [h, s] = LAYER_HUES[layer];
  return `hsl(${h} ${s}% 52%)`;
}

/**
 * A colour per stage: the stages of one layer get shades of its hue, darkest first in path order,
 * so neighbours in a bar stay apart and the layers read at a glance.
 */
export function stageColors(stages: readonly { name: string; layer: Layer }[]): Map<string, string> {
  const byLayer = new Map<Layer, string[]>();
  for (const s of stages) {
    const l = byLayer.get(s.layer) ?? [];
    if (!l.includes(s.name)) l.push(s.name);
    byLayer.set(s.layer, l);
  }
  const out = new Map<string, string>();
  for (const [layer, names] of byLayer) {
    const [h, s] = LAYER_HUES[layer];
    names.forEach((n, k) => {
      // Lightness from 36% to 72% across the layer's stages (alternating ends so neighbours differ).
      const steps = names.length;
      const order = k % 2 === 0 ? k / 2 : steps - 1 - (k - 1) / 2;
      const light = steps === 1 ? 52 : 36 + (36 * order) / (steps - 1);
      out.set(n, `hsl(${h} ${s}% ${light.toFixed(0)}%)`);
    });
  }
  return out;
}

/**
 * The colour key of a stage drawn beside other profiles' stages: one name may be in two layers
 * (`syscall_enter->bio_queue` is a host-kernel stage on bare metal, a guest-kernel one in a Xen
 * guest) and is then two colours.
 */
export function stageColorKey(s: { name: string; layer: Layer }): string {
  return `${s.layer} ${s.name}`;
}

/** Black or white text, whichever reads on an `hsl(h s% l%)` fill. */
function textOn(fill: string): string {
  const m = /(\d+(?:\.\d+)?)%\)$/.exec(fill);
  return m && Number(m[1]) > 58 ? '#1b1f24' : '#ffffff';
}

/** Round ticks for a linear axis from 0 to at least `max`: 1, 2 or 5 × 10^k apart, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  if (out[out.length - 1]! < max) out.push(out[out.length - 1]! + step);
  return out;
}

/** A tick label: the shortest of ns, µs, ms, s that reads well. */
export function tickLabel(ns: number): string {
  const a = Math.abs(ns);
  const trim = (x: number): string => String(Number(x.toPrecision(3)));
  if (a === 0) return '0';
  if (a < 1e3) return `${trim(ns)} ns`;
  if (a < 1e6) return `${trim(ns / 1e3)} µs`;
  if (a < 1e9) return `${trim(ns / 1e6)} ms`;
  return `${trim(ns / 1e9)} s`;
}

const FONT = 12;
/** Width of a text in px, roughly (the pages use a sans-serif of 12 px): for layout decisions only. */
export function textWidth(s: string, size = FONT): number {
  return [...s].length * size * 0.58;
}

/** One segment of a stacked bar. */
export interface Segment {
  /** Stage name (also its colour key unless `colorKey` is given, and `data-stage`). */
  name: string;
  /** Key of its colour in `colors` when not the name (the same stage name in two layers: bare metal and Xen). */
  colorKey?: string;
  value: number;
  /** ± drawn as an error bar at the segment's end (clock uncertainty of a cross-domain stage); 0: none. */
  uncertainty?: number;
  /** Hover text (plain text: escaped here). */
  tip: string;
  /** Short text drawn inside when it fits (e.g. the share). */
  inside?: string;
}

export interface Bar {
  label: string;
  /** A second line under the label (e.g. the total), plain text. */
  sublabel?: string;
  segments: Segment[];
  /** A class on the bar's group (e.g. `verdict-regressed`). */
  className?: string;
}

export interface StackedBarsOptions {
  width: number;
  colors: ReadonlyMap<string, string>;
  /** Height of one bar (px). */
  barHeight?: number;
  /** Common scale maximum (ns); default the longest bar. */
  max?: number;
  /** Accessible title of the figure. */
  title: string;
  /** `data-figure` value, for tests and styling. */
  figure: string;
  /** Left label column width (px); default from the labels. */
  labelWidth?: number;
}

/**
 * Horizontal stacked bars on one linear time axis from 0: one bar per row, one `<rect class="seg">`
 * per segment (with a `<title>`), error bars where a segment has an uncertainty.
 */
export function stackedBars(bars: readonly Bar[], o: StackedBarsOptions): string {
  const barH = o.barHeight ?? 26;
  const gap = 12;
  const labelW = o.labelWidth ?? Math.min(280, Math.max(60, ...bars.map((b) => Math.max(textWidth(b.label), textWidth(b.sublabel ?? '', 11)))) + 12);
  const plotW = Math.max(100, o.width - labelW - 24);
  const totals = bars.map((b) => b.segments.reduce((a, s) => a + Math.max(0, s.value), 0));
  const ticks = niceTicks(o.max ?? Math.max(...totals, 1));
  const scaleMax = ticks[ticks.length - 1]!;
  const x = (v: number): number => labelW + (Math.max(0, v) / scaleMax) * plotW;
  const rowH = barH + gap + (bars.some((b) => b.sublabel) ? 4 : 0);
  const height = 10 + bars.length * rowH + 30;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fig" data-figure="${esc(o.figure)}" width="${px(o.width)}" height="${px(height)}" viewBox="0 0 ${px(o.width)} ${px(height)}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<title>${esc(o.title)}</title>`);
  const axisY = 10 + bars.length * rowH;
  for (const t of ticks) out.push(`<line class="grid" x1="${px(x(t))}" y1="6" x2="${px(x(t))}" y2="${px(axisY)}"/><text class="tick" x="${px(x(t))}" y="${px(axisY + 16)}" text-anchor="middle">${esc(tickLabel(t))}</text>`);
  bars.forEach((b, r) => {
    const y = 10 + r * rowH;
    out.push(`<g class="bar${b.className ? ' ' + esc(b.className) : ''}" data-bar="${esc(b.label)}">`);
    out.push(`<text class="label" x="${px(labelW - 8)}" y="${px(y + (b.sublabel ? barH / 2 - 2 : barH / 2 + 4))}" text-anchor="end">${esc(b.label)}</text>`);
    if (b.sublabel) out.push(`<text class="sublabel" x="${px(labelW - 8)}" y="${px(y + barH / 2 + 11)}" text-anchor="end">${esc(b.sublabel)}</text>`);
    // Where each segment and each error bar lies, first: a share written inside a segment must not meet an error bar.
    let at = 0;
    const placed = b.segments.map((seg) => {
      const v = Math.max(0, seg.value);
      const p = { seg, x0: x(at), x1: x(at + v), end: at + v };
      at += v;
      return p;
    });
    const spans = placed.filter((p) => p.seg.uncertainty && p.seg.uncertainty > 0).map((p) => [x(p.end - p.seg.uncertainty!), x(p.end + p.seg.uncertainty!)] as const);
    const whiskers: string[] = [];
    for (const { seg: s, x0, x1, end } of placed) {
      const fill = o.colors.get(s.colorKey ?? s.name) ?? '#999';
      out.push(`<rect class="seg" data-stage="${esc(s.name)}" x="${px(x0)}" y="${px(y)}" width="${px(Math.max(0, x1 - x0))}" height="${px(barH)}" fill="${fill}"><title>${esc(s.tip)}</title></rect>`);
      if (s.inside) {
        const w = textWidth(s.inside, 11) + 6;
        const cx = (x0 + x1) / 2;
        const clear = !spans.some(([lo, hi]) => lo - 3 < cx + w / 2 && hi + 3 > cx - w / 2);
        if (w < x1 - x0 && clear) out.push(`<text class="inside" x="${px(cx)}" y="${px(y + barH / 2 + 4)}" text-anchor="middle" fill="${textOn(fill)}">${esc(s.inside)}</text>`);
      }
      if (s.uncertainty && s.uncertainty > 0) {
        const lo = x(end - s.uncertainty);
        const hi = x(end + s.uncertainty);
        const cy = y + barH / 2;
        whiskers.push(
          `<g class="err" data-stage="${esc(s.name)}"><line x1="${px(lo)}" y1="${px(cy)}" x2="${px(hi)}" y2="${px(cy)}"/><line x1="${px(lo)}" y1="${px(cy - 5)}" x2="${px(lo)}" y2="${px(cy + 5)}"/><line x1="${px(hi)}" y1="${px(cy - 5)}" x2="${px(hi)}" y2="${px(cy + 5)}"/><title>${esc(`${s.name}: clock uncertainty ±${formatNs(s.uncertainty)}`)}</title></g>`,
        );
      }
    }
    out.push(...whiskers, '</g>');
  });
  out.push(`<line class="axis" x1="${px(labelW)}" y1="${px(axisY)}" x2="${px(labelW + plotW)}" y2="${px(axisY)}"/>`);
  out.push('</svg>');
  return out.join('\n');
}

/** A legend: a swatch and a name per entry (HTML). */
export function legend(entries: readonly { name: string; color: string; note?: string }[]): string {
  return `<ul class="legend">${entries.map((e) => `<li><span class="swatch" style="background:${e.color}"></span>${esc(e.name)}${e.note ? ` <span class="note">${esc(e.note)}</span>` : ''}</li>`).join('')}</ul>`;
}

/** The layers present, in stacking order, with their colours (a legend's entries). */
export function layerLegend(layers: Iterable<Layer>): { name: string; color: string }[] {
  const present = new Set(layers);
  return LAYERS.filter((l) => present.has(l)).map((l) => ({ name: LAYER_LABELS[l], color: layerColor(l) }));
}

/** One bin of a histogram on a log axis: [lo, hi) ns, requests kept by the statistic and trimmed. */
export interface Bin {
  lo_ns: number;
  hi_ns: number;
  kept: number;
  trimmed: number;
}

export interface HistogramSpec {
  title: string;
  figure: string;
  width: number;
  height: number;
  bins: readonly Bin[];
  color: string;
  /** Vertical markers (value in ns). */
  markers: readonly { label: string; ns: number | null; kind: 'mean' | 'untrimmed' | 'p50' | 'p99' }[];
  /** A line under the plot (e.g. values ≤ 0 not drawn). */
  note?: string;
}

/** A histogram of requests on a log time axis: kept requests solid, trimmed ones hatched on top, markers as labelled lines. */
export function histogram(h: HistogramSpec): string {
  const left = 44;
  const right = 12;
  const top = 14 + 11 * h.markers.length;
  const bottom = h.note ? 46 : 30;
  const plotW = h.width - left - right;
  const plotH = h.height - top - bottom;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fig hist" data-figure="${esc(h.figure)}" width="${h.width}" height="${h.height}" viewBox="0 0 ${h.width} ${h.height}" role="img" aria-label="${esc(h.title)}">`);
  out.push(`<title>${esc(h.title)}</title>`);
  if (!h.bins.length) {
    out.push(`<text class="empty" x="${px(h.width / 2)}" y="${px(h.height / 2)}" text-anchor="middle">no value above 0 to draw</text>`);
    if (h.note) out.push(`<text class="note" x="${left}" y="${px(h.height - 8)}">${esc(h.note)}</text>`);
    out.push('</svg>');
    return out.join('\n');
  }
  const lo = Math.log10(h.bins[0]!.lo_ns);
  const hi = Math.log10(h.bins[h.bins.length - 1]!.hi_ns);
  const x = (ns: number): number => left + ((Math.log10(Math.max(ns, 1e-9)) - lo) / (hi - lo)) * plotW;
  const maxCount = Math.max(1, ...h.bins.map((b) => b.kept + b.trimmed));
  const y = (c: number): number => top + plotH - (c / maxCount) * plotH;
  // Axis: powers of ten (and 2, 5 between when there are few decades).
  const decades = hi - lo;
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++)
    for (const f of decades < 2.5 ? [1, 2, 5] : [1]) {
      const v = f * 10 ** d;
      const lv = Math.log10(v);
      if (lv < lo - 1e-9 || lv > hi + 1e-9) continue;
      out.push(`<line class="grid" x1="${px(x(v))}" y1="${top}" x2="${px(x(v))}" y2="${px(top + plotH)}"/><text class="tick" x="${px(x(v))}" y="${px(top + plotH + 14)}" text-anchor="middle">${esc(tickLabel(v))}</text>`);
    }
  out.push(`<text class="tick" x="${left - 4}" y="${px(top + 4)}" text-anchor="end">${maxCount}</text><text class="tick" x="${left - 4}" y="${px(top + plotH)}" text-anchor="end">0</text>`);
  for (const b of h.bins) {
    if (b.kept + b.trimmed === 0) continue;
    const x0 = x(b.lo_ns);
    const w = Math.max(0.5, x(b.hi_ns) - x0 - 0.5);
    const tip = `${formatNs(b.lo_ns)} – ${formatNs(b.hi_ns)}: ${b.kept} kept, ${b.trimmed} trimmed`;
    out.push(`<g class="bin"><title>${esc(tip)}</title>`);
    if (b.kept) out.push(`<rect class="kept" x="${px(x0)}" y="${px(y(b.kept))}" width="${px(w)}" height="${px(top + plotH - y(b.kept))}" fill="${h.color}"/>`);
    if (b.trimmed) out.push(`<rect class="trimmed" x="${px(x0)}" y="${px(y(b.kept + b.trimmed))}" width="${px(w)}" height="${px(y(b.kept) - y(b.kept + b.trimmed))}" fill="url(#hatch)"/>`);
    out.push('</g>');
  }
  out.push(`<line class="axis" x1="${left}" y1="${px(top + plotH)}" x2="${px(left + plotW)}" y2="${px(top + plotH)}"/>`);
  // Markers: each label on its own row above the plot (close values never overprint), its line down through the bars.
  h.markers.forEach((m, row) => {
    if (m.ns === null || !(m.ns > 0)) return;
    const mx = x(m.ns);
    if (mx < left - 0.5 || mx > left + plotW + 0.5) return;
    const ly = 10 + row * 11;
    const anchor = mx > left + plotW - 60 ? 'end' : 'start';
    out.push(`<g class="marker marker-${m.kind}"><line x1="${px(mx)}" y1="${px(ly + 2)}" x2="${px(mx)}" y2="${px(top + plotH)}"/><text x="${px(anchor === 'end' ? mx - 3 : mx + 3)}" y="${px(ly)}" text-anchor="${anchor}">${esc(`${m.label} ${formatNs(m.ns)}`)}</text><title>${esc(`${m.label}: ${formatNs(m.ns)}`)}</title></g>`);
  });
  if (h.note) out.push(`<text class="note" x="${left}" y="${px(h.height - 8)}">${esc(h.note)}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** One request of a waterfall: its points' times from its start, one segment per stage. */
export interface WaterfallRow {
  label: string;
  sublabel?: string;
  /** Segments in path order: [start, end] from the request's start (ns), stage name, hover text. */
  segments: { name: string; from_ns: number; to_ns: number; tip: string }[];
}

/** Requests as rows on one time axis from each request's start: where each stage begins and ends, in true time. */
export function waterfall(rows: readonly WaterfallRow[], o: { width: number; colors: ReadonlyMap<string, string>; title: string; figure: string }): string {
  const barH = 16;
  const rowH = 30;
  const labelW = Math.min(220, Math.max(60, ...rows.map((r) => Math.max(textWidth(r.label), textWidth(r.sublabel ?? '', 11)))) + 12);
  const plotW = o.width - labelW - 24;
  const ticks = niceTicks(Math.max(1, ...rows.flatMap((r) => r.segments.map((s) => s.to_ns))));
  const scaleMax = ticks[ticks.length - 1]!;
  const x = (v: number): number => labelW + (Math.max(0, v) / scaleMax) * plotW;
  const axisY = 8 + rows.length * rowH;
  const height = axisY + 28;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fig" data-figure="${esc(o.figure)}" width="${o.width}" height="${height}" viewBox="0 0 ${o.width} ${height}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<title>${esc(o.title)}</title>`);
  for (const t of ticks) out.push(`<line class="grid" x1="${px(x(t))}" y1="4" x2="${px(x(t))}" y2="${px(axisY)}"/><text class="tick" x="${px(x(t))}" y="${px(axisY + 16)}" text-anchor="middle">${esc(tickLabel(t))}</text>`);
  rows.forEach((r, k) => {
    const y = 8 + k * rowH;
    out.push(`<g class="bar" data-bar="${esc(r.label)}"><text class="label" x="${px(labelW - 8)}" y="${px(y + (r.sublabel ? 9 : 12))}" text-anchor="end">${esc(r.label)}</text>`);
    if (r.sublabel) out.push(`<text class="sublabel" x="${px(labelW - 8)}" y="${px(y + 21)}" text-anchor="end">${esc(r.sublabel)}</text>`);
    out.push(`<line class="lane" x1="${px(labelW)}" y1="${px(y + barH / 2)}" x2="${px(labelW + plotW)}" y2="${px(y + barH / 2)}"/>`);
    for (const s of r.segments) {
      const x0 = x(s.from_ns);
      const w = Math.max(1, x(s.to_ns) - x0);
      out.push(`<rect class="seg" data-stage="${esc(s.name)}" x="${px(x0)}" y="${px(y)}" width="${px(w)}" height="${barH}" fill="${o.colors.get(s.name) ?? '#999'}"><title>${esc(s.tip)}</title></rect>`);
    }
    out.push('</g>');
  });
  out.push(`<line class="axis" x1="${px(labelW)}" y1="${px(axisY)}" x2="${px(labelW + plotW)}" y2="${px(axisY)}"/>`);
  out.push('</svg>');
  return out.join('\n');
}

/** One row of an interval plot: a point estimate with its interval, against 0 and a band of ± the size that matters. */
export interface IntervalRow {
  label: string;
  estimate: number;
  interval: [number, number] | null;
  /** ± the size that matters (shaded band around 0). */
  band: number;
  className: string;
  tip: string;
}

/** Intervals of deltas (compare): one row per stage on a shared symmetric axis, 0 marked, ± band shaded. */
export function intervals(rows: readonly IntervalRow[], o: { width: number; title: string; figure: string }): string {
  const rowH = 24;
  const labelW = Math.min(280, Math.max(60, ...rows.map((r) => textWidth(r.label))) + 12);
  const plotW = o.width - labelW - 24;
  const reach = Math.max(1, ...rows.flatMap((r) => [Math.abs(r.estimate), r.band, ...(r.interval ? r.interval.map(Math.abs) : [])]));
  const ticks = niceTicks(reach, 3);
  const m = ticks[ticks.length - 1]!;
  const x = (v: number): number => labelW + ((Math.max(-m, Math.min(m, v)) + m) / (2 * m)) * plotW;
  const axisY = 6 + rows.length * rowH;
  const height = axisY + 28;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fig" data-figure="${esc(o.figure)}" width="${o.width}" height="${height}" viewBox="0 0 ${o.width} ${height}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<title>${esc(o.title)}</title>`);
  for (const t of [...ticks.slice(1).reverse().map((v) => -v), ...ticks])
    out.push(`<line class="grid" x1="${px(x(t))}" y1="2" x2="${px(x(t))}" y2="${px(axisY)}"/><text class="tick" x="${px(x(t))}" y="${px(axisY + 16)}" text-anchor="middle">${esc(t > 0 ? '+' + tickLabel(t) : t < 0 ? '−' + tickLabel(-t) : '0')}</text>`);
  rows.forEach((r, k) => {
    const y = 6 + k * rowH;
    const cy = y + rowH / 2;
    out.push(`<g class="row ${esc(r.className)}" data-bar="${esc(r.label)}"><title>${esc(r.tip)}</title>`);
    out.push(`<text class="label" x="${px(labelW - 8)}" y="${px(cy + 4)}" text-anchor="end">${esc(r.label)}</text>`);
    out.push(`<rect class="band" x="${px(x(-r.band))}" y="${px(y + 3)}" width="${px(x(r.band) - x(-r.band))}" height="${rowH - 6}"/>`);
    if (r.interval) out.push(`<line class="ci" x1="${px(x(r.interval[0]))}" y1="${px(cy)}" x2="${px(x(r.interval[1]))}" y2="${px(cy)}"/>`);
    out.push(`<circle class="est" cx="${px(x(r.estimate))}" cy="${px(cy)}" r="4"/></g>`);
  });
  out.push(`<line class="zero" x1="${px(x(0))}" y1="2" x2="${px(x(0))}" y2="${px(axisY)}"/>`);
  out.push('</svg>');
  return out.join('\n');
}

/** The hatch pattern trimmed requests are drawn with (once per page, referenced as url(#hatch)). */
export const HATCH_DEFS = '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9dde3"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8a94a3" stroke-width="2"/></pattern></defs></svg>';

/** Style of the figures, for an HTML page's `<style>` or inside a standalone SVG. */
export const FIGURE_CSS = `
svg.fig{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;font-size:12px;overflow:visible;display:block;max-width:100%;height:auto}
svg.fig .grid{stroke:#e3e6ea;stroke-width:1}
svg.fig .axis{stroke:#8a94a3;stroke-width:1}
svg.fig .tick{fill:#5b6472;font-size:11px}
svg.fig .label{fill:#1b1f24}
svg.fig .sublabel{fill:#5b6472;font-size:11px}
svg.fig .inside{font-size:11px;pointer-events:none}
svg.fig .seg{stroke:#fff;stroke-width:1}
svg.fig .seg:hover,svg.fig .bin:hover rect{stroke:#1b1f24;stroke-width:1.5}
svg.fig .err line{stroke:#1b1f24;stroke-width:1.5}
svg.fig .lane{stroke:#eceef1;stroke-width:1}
svg.fig .marker line{stroke-width:1.5;stroke-dasharray:4 2}
svg.fig .marker text{font-size:10px}
svg.fig .marker-mean line{stroke:#1b1f24;stroke-dasharray:none}svg.fig .marker-mean text{fill:#1b1f24;font-weight:600}
svg.fig .marker-untrimmed line{stroke:#b3261e}svg.fig .marker-untrimmed text{fill:#b3261e}
svg.fig .marker-p50 line{stroke:#1f6feb}svg.fig .marker-p50 text{fill:#1f6feb}
svg.fig .marker-p99 line{stroke:#8250df}svg.fig .marker-p99 text{fill:#8250df}
svg.fig .note,svg.fig .empty{fill:#5b6472;font-size:11px}
svg.fig .band{fill:#eef1f4}
svg.fig .zero{stroke:#1b1f24;stroke-width:1}
svg.fig .ci{stroke-width:3}
svg.fig .row .ci,svg.fig .row .est{stroke:#5b6472;fill:#5b6472}
svg.fig .verdict-regressed .ci,svg.fig .verdict-regressed .est{stroke:#cf222e;fill:#cf222e}
svg.fig .verdict-improved .ci,svg.fig .verdict-improved .est{stroke:#1a7f37;fill:#1a7f37}
svg.fig .verdict-inconclusive .ci,svg.fig .verdict-inconclusive .est{stroke:#bf8700;fill:#bf8700}
`;

/**
 * The pages' one script: the `<title>` of the element under the pointer shown at once in a box
 * that follows it (the browser's own tooltip waits and cannot be styled). Titles are moved into
 * `data-tip` so the two never show together.
 */
export const TOOLTIP_SCRIPT = `(function(){var tip=document.createElement('div');tip.id='tip';tip.setAttribute('role','tooltip');document.body.appendChild(tip);
document.querySelectorAll('svg.fig title').forEach(function(t){var p=t.parentNode;if(p&&p.tagName!=='svg'){p.setAttribute('data-tip',t.textContent);p.removeChild(t);}});
function find(e){for(var n=e.target;n&&n!==document;n=n.parentNode){if(n.getAttribute&&n.getAttribute('data-tip'))return n;}return null;}
document.addEventListener('mouseover',function(e){var n=find(e);if(!n){tip.style.display='none';return;}tip.textContent=n.getAttribute('data-tip');tip.style.display='block';});
document.addEventListener('mousemove',function(e){if(tip.style.display!=='block')return;var w=tip.offsetWidth,x=e.clientX+14;if(x+w>window.innerWidth-8)x=Math.max(8,e.clientX-w-14);tip.style.left=x+'px';tip.style.top=(e.clientY+16)+'px';});
document.addEventListener('mouseout',function(e){if(!e.relatedTarget||!find({target:e.relatedTarget}))tip.style.display='none';});})();`;

/** Page style shared by the HTML outputs. */
export const PAGE_CSS = `
:root{color-scheme:light}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1b1f24;background:#fff;margin:0;padding:24px 32px 48px;max-width:1200px;line-height:1.4;font-size:14px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}h3{font-size:14px;margin:16px 0 6px}
p{margin:4px 0}.sub{color:#5b6472}.warn{color:#9a6700;background:#fff8c5;border:1px solid #eed888;border-radius:4px;padding:4px 8px;margin:6px 0}
.bad{color:#b3261e}
td code,td:first-child{white-space:nowrap}
table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #eceef1;vertical-align:top}th{color:#5b6472;font-weight:600;font-size:12px}
td.num,th.num{text-align:right}
ul.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px}ul.legend li{display:flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;flex:none}
.note{color:#5b6472;font-size:12px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:8px 24px}
.panel h3{margin:10px 0 2px}.panel p{font-size:12px;color:#5b6472}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;background:#f3f4f6;padding:0 3px;border-radius:3px}
.verdict{font-weight:600;border-radius:4px;padding:1px 6px}
.verdict-regressed{color:#fff;background:#cf222e}.verdict-improved{color:#fff;background:#1a7f37}.verdict-inconclusive{color:#1b1f24;background:#f5d90a}.verdict-same{color:#1b1f24;background:#e3e6ea}
footer{margin-top:32px;color:#5b6472;font-size:12px}
#tip{position:fixed;display:none;z-index:10;max-width:480px;white-space:pre-line;background:#1b1f24;color:#fff;font-size:12px;padding:6px 8px;border-radius:4px;pointer-events:none;box-shadow:0 2px 8px rgba(0,0,0,.25)}
${FIGURE_CSS}`;

/** A whole self-contained page: no external resource, one inline style and the tooltip script. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
${HATCH_DEFS}
${body}
<script>${TOOLTIP_SCRIPT}</script>
</body>
</html>
`;
}
