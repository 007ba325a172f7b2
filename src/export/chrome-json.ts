/**
 * The `chrome-json` exporter: the stored requests as a Trace Event Format file, which
 * ui.perfetto.dev and chrome://tracing open.
 *
 * What it writes, and why these constructs (read from Perfetto's JSON importer, json_trace_parser
 * and json_trace_tokenizer, and catapult's trace_event_importer, the code behind chrome://tracing):
 *  - One slice per stage of a request ('X' complete events), named `from->to`. Flows attach to
 *    'X' slices in both viewers; nestable async slices ('b'/'e') cannot carry flows in
 *    chrome://tracing (its importer binds flow v2 to 'X' events only, and v1 flows to thread
 *    slices), and Perfetto makes one track per async id (a million tracks for a million requests).
 *  - Tracks: one process per layer and clock domain (`host / dom0 kernel · dom0`, a hand-off
 *    between domains `hand-off … · domU→dom0`), and in it as many threads ("lanes") as requests
 *    overlap there: a slice goes on a lane whose slices all ended before it begins (strictly, so
 *    that neither viewer can nest one request's slice into another's), or stays on the lane of its
 *    own request's previous slice. Lanes are few (the requests in flight at once), so memory does
 *    not grow with the requests.
 *  - A flow (v2: `bind_id` = the request id, `flow_in`/`flow_out`) chains a request's slices in
 *    path order, across tracks and domains.
 *  - Metadata 'M' events name every process and thread (process_name, thread_name) where they are
 *    first used, and order them (process_sort_index, thread_sort_index) at the end.
 *  - With the events asked for: the event each point took as an instant event ('i', thread
 *    scope) on the lane of the slice that begins (or ends) at that point.
 * Times: `ts` and `dur` are µs, written as exact decimals of whole ns, since the start of the first
 * exported request (`otherData.time_base_ns`, reference clock), so that no digit of a 64-bit ns
 * clock is lost to a double. The output is written in chunks of about 1 MB as it is made.
 */
import { LAYER_LABELS, rowLayer, type Layer } from '../profiles/layers.js';
import { Batcher, type Sink } from '../report/rows.js';
import type { ExportInput, ExportRequest, ExportedCorrelation } from './records.js';

/** What an export wrote. */
export interface ExportSummary {
  requests: number;
  /** Stage slices ('X' events). */
  slices: number;
  /** Flow arrows: per request with n ≥ 2 slices, n − 1. */
  flows: number;
  /** Point events ('i' events), when asked for. */
  instants: number;
  /** Processes (layer × clock domain) and threads (lanes) used. */
  tracks: number;
  lanes: number;
}

/** The trace is written in chunks of about 1 MB. */
const FLUSH_AT = 1 << 20;

/** ns (a whole number, or with a fraction from a drift-corrected clock) as µs: an exact decimal rounded to the ns. */
export function micros(ns: number): string {
  const n = Math.round(ns);
  const a = Math.abs(n);
  const whole = Math.floor(a / 1000);
  const frac = a - whole * 1000;
  return `${n < 0 ? '-' : ''}${whole}${frac ? '.' + String(frac).padStart(3, '0').replace(/0+$/, '') : ''}`;
}

/** A stage of a request: from path point `from` to path point `to`, both present. */
interface Stage {
  from: number;
  to: number;
}

/**
 * The stages of a request with both points present, as the view xt_stage_times gives them: a
 * complete request lacks a point only by design (batched), and has the merged stage from the point
 * before the gap to the point after it; any other request has the stages of consecutive points
 * both present.
 */
export function requestStages(r: Pick<ExportRequest, 'points' | 'status'>): Stage[] {
  const out: Stage[] = [];
  const p = r.points;
  if (r.status === 'complete') {
    let a = -1;
    for (let b = 0; b < p.length; b++) {
      if (p[b] === null) continue;
      if (a >= 0) out.push({ from: a, to: b });
      a = b;
    }
  } else {
    for (let b = 1; b < p.length; b++) if (p[b - 1] !== null && p[b] !== null) out.push({ from: b - 1, to: b });
  }
  return out;
}

interface Lane {
  tid: number;
  /** The latest end of its slices (ns since the time base). */
  end: number;
  /** The request of its last slice. */
  request: number;
}

interface Track {
  pid: number;
  name: string;
  lanes: Lane[];
  /** Smallest path position of a stage on it: the processes are listed in path order. */
  sortIndex: number;
}

/** Lanes per process: thread ids are pid × LANES_PER_TRACK + lane, so none equals a pid. */
const LANES_PER_TRACK = 100_000;

/** The tracks (processes) and their lanes (threads), named as they are first used. */
class Tracks {
  private readonly byKey = new Map<string, Track>();
  lanes = 0;
  constructor(private readonly emit: (event: string) => void) {}

  get count(): number {
    return this.byKey.size;
  }

  /** The lane of a slice [start, end] of `request` on track `key` (a zero-length one for a lone point). */
  place(key: string, name: string, start: number, end: number, request: number, pathIndex: number): Lane {
    let t = this.byKey.get(key);
    if (!t) {
      t = { pid: this.byKey.size + 1, name, lanes: [], sortIndex: pathIndex };
      this.byKey.set(key, t);
      this.emit(`{"name":"process_name","ph":"M","pid":${t.pid},"args":{"name":${JSON.stringify(name)}}}`);
    }
    t.sortIndex = Math.min(t.sortIndex, pathIndex);
    let lane = t.lanes.find((l) => l.request === request && l.end <= start) ?? t.lanes.find((l) => l.end < start);
    if (!lane) {
      lane = { tid: t.pid * LANES_PER_TRACK + t.lanes.length + 1, end: -Infinity, request };
      t.lanes.push(lane);
      this.lanes++;
      this.emit(`{"name":"thread_name","ph":"M","pid":${t.pid},"tid":${lane.tid},"args":{"name":${JSON.stringify(`${name} #${t.lanes.length}`)}}}`);
    }
    lane.end = Math.max(lane.end, end);
    lane.request = request;
    return lane;
  }

  /** The order of the processes (path order) and of the lanes in each. */
  sortIndexEvents(): string[] {
    const out: string[] = [];
    for (const t of this.byKey.values()) {
      out.push(`{"name":"process_sort_index","ph":"M","pid":${t.pid},"args":{"sort_index":${t.sortIndex}}}`);
      t.lanes.forEach((l, k) => out.push(`{"name":"thread_sort_index","ph":"M","pid":${t.pid},"tid":${l.tid},"args":{"sort_index":${k}}}`));
    }
    return out;
  }
}

/** A layer's short name for a process: its label up to the parenthesis. */
function layerName(layer: Layer): string {
  return LAYER_LABELS[layer].replace(/ \(.*$/, '');
}

/** The trace's metadata (`otherData`, shown by both viewers): what it holds and its time base. */
function header(c: ExportedCorrelation, baseNs: bigint): string {
  const other = {
    xtrace_export: 1,
    profile: c.profile,
    correlation_id: c.correlationId,
    correlated_at: c.createdAt,
    stored_by: `xtrace ${c.xtraceVersion}`,
    reference_domain: c.referenceDomain,
    time_base:
      `ts and dur are µs since time_base_ns, the start of the first exported request, in the clock of domain ${c.referenceDomain} (ns; ` +
      'absolute time = time_base_ns + ts × 1000)',
    path: c.path.map((p) => p.name),
    runs: c.selection.runs ?? 'all',
    limit: c.selection.limit,
    filters: c.selection.filters,
    correlated_now: c.selection.correlatedNow,
  };
  // The base is written as an exact integer (beyond 2^53 a double would round it).
  return `{"otherData":${JSON.stringify(other).slice(0, -1)},"time_base_ns":${baseNs}},"traceEvents":[\n`;
}

/** The args every slice of a request carries, as JSON members (without braces). */
function requestArgs(r: ExportRequest): string {
  const a: Record<string, unknown> = { request: r.id, seq: r.seq, run: r.run, status: r.status, kept: r.kept };
  if (r.totalNs !== null) a['total_ns'] = r.totalNs;
  const t = r.task;
  if (t) {
    if (t.comm !== null || t.pid !== null) a['task'] = `${t.comm ?? '?'} ${t.pid ?? '?'}`;
    if (t.tgid !== null) a['tgid'] = t.tgid;
    if (t.dev !== null) a['dev'] = t.dev;
    if (t.op !== null) a['op'] = t.op;
    // The profile's labels beside them (opcode, domid …), never in place of a field above.
    for (const [k, v] of Object.entries(t.labels ?? {})) if (!(k in a)) a[k] = v;
  }
  return JSON.stringify(a).slice(1, -1);
}

/** `chrome-json`: see the module comment. */
export function writeChromeJson(input: ExportInput, out: Sink): ExportSummary {
  const c = input.correlation;
  const path = c.path;
  const w = new Batcher(out, FLUSH_AT);
  let first = true;
  const emit = (event: string): void => {
    w.push(first ? event : ',\n' + event);
    first = false;
  };
  const tracks = new Tracks(emit);
  const summary: ExportSummary = { requests: 0, slices: 0, flows: 0, instants: 0, tracks: 0, lanes: 0 };
  let base: bigint | null = null;

  for (const r of input.requests) {
    if (base === null) {
      base = r.startNs;
      w.push(header(c, base));
    }
    const start = Number(r.startNs - base);
    const at = (p: number): number => start + r.points[p]!;
    const domainOf = (p: number): string => r.domains[p] ?? 'unknown domain';
    const args = requestArgs(r);
    const stages = requestStages(r);
    // The lane each point's event goes on: the one of the stage that begins there, else ends there.
    const laneAt: { pid: number; tid: number }[] = [];
    const endsAt: { pid: number; tid: number }[] = [];
    stages.forEach((s, k) => {
      const from = at(s.from);
      const to = at(s.to);
      const layer = rowLayer(path, s.from, s.to);
      const df = domainOf(s.from);
      const dt = domainOf(s.to);
      const domain = df === dt ? df : `${df}→${dt}`;
      const key = `${layer}\u0000${domain}`;
      const lane = tracks.place(key, `${layerName(layer)} · ${domain}`, from, Math.max(from, to), r.id, s.from);
      const pid = Math.floor(lane.tid / LANES_PER_TRACK);
      laneAt[s.from] = { pid, tid: lane.tid };
      endsAt[s.to] = { pid, tid: lane.tid };
      const name = `${path[s.from]!.name}->${path[s.to]!.name}`;
      const merged = s.to > s.from + 1 ? `,"merged":${JSON.stringify(`${path.slice(s.from + 1, s.to).map((p) => p.name).join(', ')} absent by design (batched)`)}` : '';
      const flow = stages.length > 1 ? `,"bind_id":${r.id},"flow_in":${k > 0},"flow_out":${k < stages.length - 1}` : '';
      const duration = Math.round(to - from);
      emit(
        `{"name":${JSON.stringify(name)},"cat":"${layer}","ph":"X","ts":${micros(from)},"dur":${micros(Math.max(0, to - from))},"pid":${pid},"tid":${lane.tid}${flow},` +
          `"args":{${args},"duration_ns":${duration}${merged}${duration < 0 ? ',"clock_order":"the end point is timed before the start point (within the clocks\' uncertainty)"' : ''}}}`,
      );
    });
    summary.slices += stages.length;
    if (stages.length > 1) summary.flows += stages.length - 1;
    if (r.events) {
      r.events.forEach((e, p) => {
        if (!e || r.points[p] === null) return;
        let lane = laneAt[p] ?? endsAt[p];
        if (!lane) {
          // A point with no stage (an incomplete request's lone point): its role's layer.
          const role = { role: path[p]!.role };
          const layer = rowLayer([role, role], 0, 1);
          const key = `${layer}\u0000${domainOf(p)}`;
          const placed = tracks.place(key, `${layerName(layer)} · ${domainOf(p)}`, at(p), at(p), r.id, p);
          lane = { pid: Math.floor(placed.tid / LANES_PER_TRACK), tid: placed.tid };
        }
        const ev = {
          point: path[p]!.name,
          request: r.id,
          event_id: e.id,
          task: `${e.comm ?? '?'} ${e.pid ?? '?'}`,
          cpu: e.cpu,
          line: e.line,
          source: e.source,
          domain: r.domains[p],
        };
        // The event's own timestamp exactly (a 64-bit clock), then its payload.
        const evArgs = `${JSON.stringify(ev).slice(0, -1)},"local_ts_ns":${e.localTsNs},"args":${JSON.stringify(e.args)}}`;
        emit(`{"name":${JSON.stringify(e.name)},"cat":"event","ph":"i","s":"t","ts":${micros(at(p))},"pid":${lane.pid},"tid":${lane.tid},"args":${evArgs}}`);
        summary.instants++;
      });
    }
    if (++summary.requests === 1) w.flush();
  }
  if (base === null) w.push(header(c, 0n));
  for (const e of tracks.sortIndexEvents()) emit(e);
  summary.tracks = tracks.count;
  summary.lanes = tracks.lanes;
  w.push(`\n],"xtraceSummary":${JSON.stringify(summary)}}\n`);
  w.flush();
  return summary;
}
