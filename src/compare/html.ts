/**
 * The pictures of `compare --format html` (the page itself is the `html` entry of
 * COMPARE_REPORTERS, beside the Markdown it mirrors): baseline and candidate as two stacked bars on
 * one scale with the same stage colours (by layer), and per stage, the total first, the interval of
 * the delta against ± the size that matters, coloured by verdict. Pure: a comparison in, SVG and
 * HTML text out, every name escaped (svg.ts).
 */
import { LAYER_LABELS, type Layer } from '../profiles/layers.js';
import { formatNs, formatSignedNs, pctPrecise, signedPct } from '../report/format.js';
import { esc, intervals, layerLegend, legend, stackedBars, stageColors, type Bar, type IntervalRow, type Segment, stageColorKey } from '../report/svg.js';
import type { Comparison, StageComparison } from './compare.js';

const WIDTH = 900;

/** One stage of a side's bar. */
interface SideStage {
  name: string;
  layer: Layer;
  mean_ns: number;
  tip: string;
}

/** The colour key of a stage (as `xtrace chart`: a stage name with its layer). */

/** The point a stage `from->to` ends at. */
const endOf = (name: string): string => name.slice(name.lastIndexOf('->') + 2);

/**
 * A side's stages in path order: those of both sides (the comparison's order), and the side's own
 * merged stages placed after the last stage that ends where they end (as the report places them).
 */
function sideStages(c: Comparison, side: 'baseline' | 'candidate'): SideStage[] {
  const out: SideStage[] = c.stages.map((r) => ({
    name: r.name,
    layer: r.layer ?? 'other',
    mean_ns: side === 'baseline' ? r.baseline_ns : r.candidate_ns,
    tip: `${r.name} (${LAYER_LABELS[r.layer ?? 'other']})\nbaseline ${formatNs(r.baseline_ns)} → candidate ${formatNs(r.candidate_ns)}: ${formatSignedNs(r.delta_ns)} (${signedPct(r.delta_pct)})\n${r.verdict}`,
  }));
  for (const o of (c.one_sided_stages ?? []).filter((x) => x.side === side)) {
    const stage: SideStage = { name: o.name, layer: o.layer ?? 'other', mean_ns: o.mean_ns, tip: `${o.name} (${LAYER_LABELS[o.layer ?? 'other']})\n${side} only: ${formatNs(o.mean_ns)}, not compared` };
    let at = -1;
    out.forEach((s, k) => {
      if (endOf(s.name) === endOf(o.name)) at = k;
    });
    out.splice(at < 0 ? out.length : at + 1, 0, stage);
  }
  return out;
}

/** Baseline and candidate as stacked bars on one scale, the same colour per stage, and the legend of the layers. */
export function compareBars(c: Comparison): string {
  const sides = (['baseline', 'candidate'] as const).map((side) => ({ side, stages: sideStages(c, side) }));
  const colors = stageColors(sides.flatMap((s) => s.stages.map((x) => ({ name: stageColorKey(x), layer: x.layer }))));
  const bars: Bar[] = sides.map(({ side, stages }) => ({
    label: side,
    sublabel: `${formatNs(side === 'baseline' ? c.total.baseline_ns : c.total.candidate_ns)} · ${c[side].runs} runs`,
    className: `side-${side}`,
    segments: stages.map((s): Segment => ({ name: s.name, colorKey: stageColorKey(s), value: s.mean_ns, tip: s.tip })),
  }));
  const figure = stackedBars(bars, { width: WIDTH, colors, title: `Baseline and candidate of ${c.profile}, per stage`, figure: 'compare-bars', labelWidth: 130 });
  const layers = new Set(sides.flatMap((s) => s.stages.map((x) => x.layer)));
  return `${figure}\n${legend(layerLegend(layers))}`;
}

/**
 * The interval drawn for a row: the bootstrap interval of the delta when there is one, else the
 * equivalence interval (already widened by the clock uncertainty); a bootstrap interval of a stage
 * across clock domains is widened by ± its clock uncertainty, as the verdict is: a narrow line
 * inside the band must not suggest `same` when the clocks cannot tell.
 */
function intervalOf(r: StageComparison): [number, number] | null {
  if (r.ci_ns) return r.clock_uncertainty_ns > 0 ? [r.ci_ns[0] - r.clock_uncertainty_ns, r.ci_ns[1] + r.clock_uncertainty_ns] : r.ci_ns;
  return r.equivalence_ci_ns;
}

/** Per stage, the total first: the delta and its interval against ± the size that matters, coloured by verdict. */
export function compareIntervals(c: Comparison): string {
  const rows: IntervalRow[] = [{ ...c.total, name: 'total' }, ...c.stages].map((r) => {
    const iv = intervalOf(r);
    const unit = r.ci_ns ? `95% bootstrap interval over ${r.ci_unit}${r.clock_uncertainty_ns > 0 ? `, widened by the clocks' ±${formatNs(r.clock_uncertainty_ns)}` : ''}` : r.equivalence_ci_ns ? `${pctPrecise(c.options.equivalence_level)} interval over ${r.equivalence_unit}` : 'no interval';
    return {
      label: r.name,
      estimate: r.delta_ns,
      interval: iv,
      band: r.margin_ns,
      className: `verdict-${r.verdict}`,
      tip: `${r.name}: ${r.verdict}\nΔ ${formatSignedNs(r.delta_ns)} (${signedPct(r.delta_pct)}); ${unit}${iv ? ` ${formatSignedNs(iv[0])} … ${formatSignedNs(iv[1])}` : ''}; size that matters ±${formatNs(r.margin_ns)}\n${r.why}`,
    };
  });
  const figure = intervals(rows, { width: WIDTH, title: `Change per stage of ${c.profile}: candidate − baseline`, figure: 'compare-intervals' });
  return `${figure}\n<p class="note">${esc('Dot: the change (candidate − baseline); line: its 95% bootstrap interval (or, without one, the equivalence interval), widened by the clock uncertainty of a stage across clock domains; grey band: ± the size that matters; colour: the verdict.')}</p>`;
}
