/**
 * Draws a window of an `xtrace export --format chrome-json` file as a page, from the JSON alone
 * (the way a trace viewer reads it): one row per thread (lane) under its process (track), in the
 * file's sort order, each 'X' slice a bar coloured by its category (the layer), each flow
 * (`bind_id` from a `flow_out` slice to the next `flow_in` slice) an arrow. For looking at what an
 * export holds where Perfetto cannot be opened (this machine is offline), and for the README's
 * picture:
 *
 *   node --import tsx test/browser/trace-preview.ts trace.json out.html [--from-us 0] [--span-us 800]
 *
 * Then `test/browser/screenshot.ts out.html out.png`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { esc, layerColor, niceTicks, page, px, tickLabel } from '../../src/report/svg.js';
import { LAYERS, type Layer } from '../../src/profiles/layers.js';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  bind_id?: number;
  flow_in?: boolean;
  flow_out?: boolean;
  args?: Record<string, unknown>;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'from-us': { type: 'string', default: '0' }, 'span-us': { type: 'string', default: '800' } } });
const [input, output] = positionals;
if (!input || !output) throw new Error('usage: node --import tsx test/browser/trace-preview.ts trace.json out.html [--from-us N] [--span-us N]');
const trace = JSON.parse(readFileSync(input, 'utf8')) as { traceEvents: TraceEvent[] };
const from = Number(values['from-us']);
const to = from + Number(values['span-us']);

const names = new Map<string, string>();
const order = new Map<string, number>();
for (const e of trace.traceEvents) {
  if (e.ph !== 'M') continue;
  const key = e.name.startsWith('process') ? `p${e.pid}` : `t${e.tid}`;
  if (e.name.endsWith('_name')) names.set(key, String(e.args?.['name']));
  else order.set(key, Number(e.args?.['sort_index']));
}
const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.ts! + e.dur! >= from && e.ts! <= to);
// Rows: the threads the window uses, by their process's sort index then their own.
const rows = [...new Set(slices.map((s) => `${s.pid}/${s.tid}`))].sort((a, b) => {
  const [pa, ta] = a.split('/');
  const [pb, tb] = b.split('/');
  return (order.get(`p${pa}`) ?? 0) - (order.get(`p${pb}`) ?? 0) || Number(pa) - Number(pb) || (order.get(`t${ta}`) ?? 0) - (order.get(`t${tb}`) ?? 0);
});
const rowOf = new Map(rows.map((r, k) => [r, k]));
const width = 1150;
const labelW = 330;
const rowH = 22;
const top = 10;
const plotW = width - labelW - 20;
const x = (us: number): number => labelW + ((Math.min(Math.max(us, from), to) - from) / (to - from)) * plotW;
const y = (row: number): number => top + row * rowH;
const out: string[] = [];
const height = top + rows.length * rowH + 30;
out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="fig" data-figure="trace-preview" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
out.push('<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#1b1f24"/></marker></defs>');
const ticks = niceTicks(to - from);
for (const t of ticks) if (from + t <= to) out.push(`<line class="grid" x1="${px(x(from + t))}" y1="${top}" x2="${px(x(from + t))}" y2="${px(height - 24)}"/><text class="tick" x="${px(x(from + t))}" y="${px(height - 10)}" text-anchor="middle">${esc(tickLabel(t * 1000))}</text>`);
let lastPid = '';
rows.forEach((r, k) => {
  const [pid, tid] = r.split('/');
  const proc = names.get(`p${pid}`) ?? `pid ${pid}`;
  const thread = (names.get(`t${tid}`) ?? `tid ${tid}`).replace(proc, '').trim();
  if (pid !== lastPid && k > 0) out.push(`<line class="axis" x1="0" y1="${px(y(k) - 1)}" x2="${width}" y2="${px(y(k) - 1)}"/>`);
  out.push(`<text class="label" x="${labelW - 8}" y="${px(y(k) + 15)}" text-anchor="end">${pid !== lastPid ? esc(proc) + ' ' : ''}<tspan class="sublabel">${esc(thread)}</tspan></text>`);
  lastPid = pid!;
});
const ends = new Map<number, { x: number; y: number }>();
const arrows: string[] = [];
for (const s of [...slices].sort((a, b) => a.ts! - b.ts!)) {
  const row = rowOf.get(`${s.pid}/${s.tid}`)!;
  const x0 = x(s.ts!);
  const x1 = Math.max(x0 + 1, x(s.ts! + s.dur!));
  const layer = (LAYERS as readonly string[]).includes(s.cat ?? '') ? (s.cat as Layer) : 'other';
  out.push(`<rect class="seg" x="${px(x0)}" y="${px(y(row) + 3)}" width="${px(x1 - x0)}" height="${rowH - 6}" fill="${layerColor(layer)}"><title>${esc(`${s.name} · request ${String(s.args?.['request'])} · ${String(s.args?.['duration_ns'])} ns`)}</title></rect>`);
  // The name inside when it fits (cut with … when it does not quite).
  const fits = Math.floor((x1 - x0 - 6) / 6.6);
  if (fits >= 6) out.push(`<text class="inside" x="${px(x0 + 3)}" y="${px(y(row) + 15)}" fill="#fff">${esc(s.name.length <= fits ? s.name : s.name.slice(0, fits - 1) + '…')}</text>`);
  if (s.bind_id !== undefined) {
    const prev = ends.get(s.bind_id);
    if (s.flow_in && prev) arrows.push(`<line x1="${px(prev.x)}" y1="${px(prev.y)}" x2="${px(x0)}" y2="${px(y(row) + rowH / 2)}" stroke="#1b1f24" stroke-width="1" marker-end="url(#arrow)"/>`);
    if (s.flow_out) ends.set(s.bind_id, { x: x1, y: y(row) + rowH / 2 });
  }
}
out.push(...arrows, '</svg>');
const body = `<h1>${esc(input.split('/').pop()!)}: ${esc(tickLabel((to - from) * 1000))} from ${esc(tickLabel(from * 1000))}</h1><p class="sub">Each row a lane (thread) of a track (process: layer · clock domain); each bar a stage of a request; arrows: the flows that follow each request across tracks. Drawn from the exported JSON alone.</p>${out.join('\n')}`;
writeFileSync(output, page(`trace preview: ${input}`, body));
console.log(`${output}: ${rows.length} lanes, ${slices.length} slices in the window`);
