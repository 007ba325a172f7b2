/**
 * History reporters, plain objects in one registry (as compare's): table (terminal), markdown (for
 * $GITHUB_STEP_SUMMARY: one line per change point, the stage named), json (the versioned contract,
 * README "history in CI"), html (one small chart per series, the change points marked).
 */
import type { ChalkInstance } from 'chalk';
import { formatNs, formatP, markdownCell, toJson } from '../report/format.js';
import { esc, niceTicks, page, px, tickLabel } from '../report/svg.js';
import type { HistoryChangePoint, HistoryModel, HistorySeries } from './history.js';

export interface HistoryReporter {
  readonly name: string;
  readonly description: string;
  render(h: HistoryModel, color: ChalkInstance): string;
}

const sign = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}%`;

/** `#12 (commit=3f2a1c9, date=…)`: a report by its index and its meta, else its file. */
function reportLabel(h: HistoryModel, i: number): string {
  const r = h.reports[i]!;
  const meta = Object.entries(r.meta);
  return `#${i} (${meta.length ? meta.map(([k, v]) => `${k}=${v}`).join(', ') : r.file})`;
}

function changeLine(h: HistoryModel, s: HistorySeries, c: HistoryChangePoint): string {
  return `${s.name}: ${c.direction} at ${reportLabel(h, c.index)}: ${formatNs(c.before_ns)} → ${formatNs(c.after_ns)} (${sign(c.delta_pct)}, ${Math.round(h.options.ci_level * 100)}% CI ${sign(c.ci_pct[0])} to ${sign(c.ci_pct[1])}, p ${formatP(c.p_value)})`;
}

function headline(h: HistoryModel): string {
  const n = h.series.reduce((a, s) => a + s.change_points.length, 0);
  const verdict = h.regressed.length ? `REGRESSED: the latest segment of ${h.regressed.join(', ')} is slower than the one before it` : 'OK: no series ends in a regression';
  return `${verdict} (${h.reports.length} reports of ${h.profile}, ${n} change point${n === 1 ? '' : 's'} in ${h.series.length} series; threshold ${h.options.threshold_pct}% and ${h.options.floor_ns} ns, alpha ${h.options.alpha} over the series)`;
}

function unconfirmedLines(h: HistoryModel): string[] {
  return h.unconfirmed.map((u) => `${u.name}: the newest report alone is ${sign(u.delta_pct)} against its segment: one report is not a change point; the next reports tell`);
}

const table: HistoryReporter = {
  name: 'table',
  description: 'for a terminal',
  render(h, color) {
    const out = [headline(h), ''];
    const w = Math.max(...h.series.map((s) => s.name.length));
    for (const s of h.series) {
      const first = s.values_ns[0]!;
      const last = s.values_ns.at(-1)!;
      out.push(`${s.name.padEnd(w)}  ${formatNs(first).padStart(9)} → ${formatNs(last).padStart(9)}  ${s.change_points.length ? `${s.change_points.length} change point(s)` : 'no change point'}`);
      for (const c of s.change_points) {
        const line = `  ${changeLine(h, s, c)}`;
        out.push(c.direction === 'regressed' ? color.red(line) : color.green(line));
      }
    }
    const u = unconfirmedLines(h);
    if (u.length) out.push('', ...u.map((l) => color.yellow(l)));
    out.push('', `Test: ${h.options.test}.`);
    return out.join('\n') + '\n';
  },
};

const markdown: HistoryReporter = {
  name: 'markdown',
  description: 'for $GITHUB_STEP_SUMMARY: one line per change point, the stage named',
  render(h) {
    const mark = h.regressed.length ? '❌' : '✅';
    const out = [`### ${mark} xtrace history: ${markdownCell(headline(h))}`, ''];
    const lines = h.series.flatMap((s) => s.change_points.map((c) => `- ${c.direction === 'regressed' ? '🔺' : '🔻'} ${markdownCell(changeLine(h, s, c))}`));
    out.push(...(lines.length ? lines : [`- no change point in ${h.reports.length} reports`]));
    const u = unconfirmedLines(h);
    if (u.length) out.push('', ...u.map((l) => `- ⚠️ ${markdownCell(l)}`));
    return out.join('\n') + '\n';
  },
};

const json: HistoryReporter = {
  name: 'json',
  description: 'the versioned contract (README "history in CI")',
  render: (h) => toJson(h) + '\n',
};

const W = 420;
const H = 150;
const M = { l: 56, r: 10, t: 22, b: 22 };

/** One series as a small chart: the per-report values, the segments' means, the change points. */
function chart(h: HistoryModel, s: HistorySeries): string {
  const n = s.values_ns.length;
  const max = Math.max(...s.values_ns) * 1.1;
  const ticks = niceTicks(max, 4);
  const top = ticks.at(-1)!;
  const x = (i: number): number => M.l + (n === 1 ? 0 : (i / (n - 1)) * (W - M.l - M.r));
  const y = (v: number): number => H - M.b - (v / top) * (H - M.t - M.b);
  const parts: string[] = [];
  for (const t of ticks) parts.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#e3e6ea"/><text x="${M.l - 4}" y="${px(y(t) + 4)}" text-anchor="end" font-size="10" fill="#5b6472">${esc(tickLabel(t))}</text>`);
  // Segment means, between change points.
  const cuts = [0, ...s.change_points.map((c) => c.index), n];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const seg = s.values_ns.slice(cuts[k], cuts[k + 1]);
    const mean = seg.reduce((a, v) => a + v, 0) / seg.length;
    parts.push(`<line x1="${px(x(cuts[k]!) - 3)}" x2="${px(x(cuts[k + 1]! - 1) + 3)}" y1="${px(y(mean))}" y2="${px(y(mean))}" stroke="#8a94a3" stroke-width="2" stroke-dasharray="4 3"><title>segment mean ${esc(formatNs(mean))}</title></line>`);
  }
  for (const c of s.change_points) {
    const cx = (x(c.index - 1) + x(c.index)) / 2;
    const col = c.direction === 'regressed' ? '#c0392b' : '#1e8449';
    parts.push(`<line x1="${px(cx)}" x2="${px(cx)}" y1="${M.t}" y2="${H - M.b}" stroke="${col}" stroke-width="2"><title>${esc(changeLine(h, s, c))}</title></line>`);
    parts.push(`<text x="${px(cx + 3)}" y="${M.t + 10}" font-size="10" fill="${col}">${esc(sign(c.delta_pct))}</text>`);
  }
  parts.push(`<polyline fill="none" stroke="#2c5d8f" stroke-width="1.5" points="${s.values_ns.map((v, i) => `${px(x(i))},${px(y(v))}`).join(' ')}"/>`);
  s.values_ns.forEach((v, i) => parts.push(`<circle cx="${px(x(i))}" cy="${px(y(v))}" r="3" fill="#2c5d8f"><title>${esc(`${reportLabel(h, i)}: ${formatNs(v)}`)}</title></circle>`));
  parts.push(`<text x="${M.l}" y="${H - 6}" font-size="10" fill="#5b6472">#0</text><text x="${W - M.r}" y="${H - 6}" text-anchor="end" font-size="10" fill="#5b6472">#${n - 1}</text>`);
  const title = `${s.name}: ${s.change_points.length ? s.change_points.map((c) => `${c.direction} ${sign(c.delta_pct)} at #${c.index}`).join(', ') : 'no change point'}`;
  return `<figure class="multiple"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}

const html: HistoryReporter = {
  name: 'html',
  description: 'one self-contained page: a small chart per series with its change points',
  render(h) {
    const lines = h.series.flatMap((s) => s.change_points.map((c) => `<li class="${c.direction}">${esc(changeLine(h, s, c))}</li>`));
    const u = unconfirmedLines(h).map((l) => `<li class="unconfirmed">${esc(l)}</li>`);
    const body = `<h1>xtrace history: ${esc(h.profile)}</h1>
<p class="${h.regressed.length ? 'bad' : 'good'}">${esc(headline(h))}</p>
<ul>${lines.join('') || `<li>no change point in ${h.reports.length} reports</li>`}${u.join('')}</ul>
<style>.multiple{display:inline-block;margin:8px 12px 8px 0}.multiple figcaption{font-size:13px;font-weight:600;margin-bottom:2px}.bad{color:#c0392b;font-weight:600}.good{color:#1e8449;font-weight:600}li.regressed{color:#c0392b}li.improved{color:#1e8449}li.unconfirmed{color:#9a6700}</style>
<div>${h.series.map((s) => chart(h, s)).join('\n')}</div>
<p><small>Test: ${esc(h.options.test)}. Reports: ${h.reports.map((_, i) => esc(reportLabel(h, i))).join('; ')}.</small></p>`;
    return page(`xtrace history: ${h.profile}`, body);
  },
};

export const HISTORY_REPORTERS = { table, markdown, json, html } as const satisfies Record<string, HistoryReporter>;
export type HistoryFormat = keyof typeof HISTORY_REPORTERS;
