/**
 * Trace simulator: synthetic but spec-exact traces of a Xen guest reading from its virtual disk
 * through one of four back ends (src/profiles/builtin/xen-probes.md), with the ground truth of every
 * request, so that the correlation engine can be tested against known per-stage latencies.
 *
 * Pure library code: it takes options, writes files into `out` and returns what it wrote.
 * Deterministic: the same options and seed give byte-identical files.
 *
 * Files (one clock domain each, see truth.json "files" and "offsets_ns"):
 *  - guest.trace (domU): the guest kernel's ftrace `trace` file: blkfront probes, and with
 *    guestBlock the pread64 syscalls and block tracepoints of the guest's own block layer;
 *  - dom0.trace (dom0, blkback and blktap2 only): blkback (and blktap driver) probes;
 *  - tapdisk.xtbuf (tapdisk: blktap2, blktap3) or qemu.xtbuf (qemu: qdisk): the userspace
 *    ring-buffer dump, clock monotonic, binary or text form;
 *  - truth.json: options, clock offsets, the path, the latency assumptions and every request of
 *    our guest with the reference time of each of its points that survived in the files.
 *
 * Reference clock = the guest's clock. offset(D) is the integer ns with t_ref = t_local + offset(D).
 * Every event's local time is what the file says (ftrace: truncated to µs, as the kernel prints),
 * and the truth is that local time plus the offset, so a perfect reader gets the truth exactly.
 *
 * Options: `noise` adds other guests' requests in dom0 (domid 7 and 9), scheduler lines, other
 * printk lines and `xt` points not in the path, and td_stats/qd_stats records; `lostEvents` drops
 * every line of a ~1 ms window in the middle of run 3 (the last run when there are fewer) of
 * dom0.trace, or of guest.trace when there is no dom0 file, and writes the kernel's
 * `CPU:N [LOST M EVENTS]` line for each CPU that lost lines where they were; `wrap` makes the
 * xtbuf ring hold all the records written but the oldest k, k = half of those written up to the
 * end of run 1, so the ring wraps and overwrites part of run 1 only: every run keeps complete
 * requests (accepted and ignored for blkback, which has no userspace dump).
 *
 * "complete" means knowably complete: every point survived in the files, and no id-less point
 * lies where a reader must refuse it. A reader knows where events were lost only as the files say
 * it (truth.json "gaps", reference clock, null for ±∞): a `CPU:N [LOST M EVENTS]` line lost
 * events of CPU N between the last event of CPU N printed before it and the first one printed
 * after it (open interval, −∞ / +∞ when there is none); a wrapped xtbuf ring lost everything
 * before its first surviving record. An id-less point p matched as "the first at or after the
 * previous point q" could have been a lost event when a gap (a, b) of p's file meets
 * [t(q), t(p)] (a < t(p) and b > t(q)), q being the last point of the request before p that a
 * reader has (survived and itself knowable): such a p is left out of "points", listed in the
 * request's "unknowable", and the request is incomplete.
 *
 * The id-less points (fe_notify, be_irq, fe_irq, td_ring_event, td_notify, qd_event, qd_notify)
 * are computed in the truth by the spec's rule ("the first such event on the same
 * domid/vdev/ring at or after the previous point of the request") over all generated events,
 * and the generator asserts that this is the event its model meant and that it is not after the
 * request's next point. For the rule to hold, the model serialises what real Xen does not (see
 * model.ts): a guest batch is dispatched only after the back end took the previous one off the
 * ring, and a response notify never comes within 3 µs before a pending guest interrupt.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeXtbuf, formatXtbufText, type XtbufDump, type XtbufRecord } from '../../parsers/xtbuf/write.js';
import { ASSUMPTIONS, BACKENDS, IDLESS_POINTS, LATENCY_MODEL, assumptionsFor, pathFor, type Backend, type Domain } from './assumptions.js';
import { ftraceHeader, ftraceLine } from './ftrace.js';
import { GUEST_DOMID, RING, VDEV, idlessKey, simulateModel, type Line, type ModelOutput, type SimRequest } from './model.js';

export { BACKENDS, pathFor, pointDomain, pointEvent, ASSUMPTIONS, type Backend, type Domain } from './assumptions.js';

export interface SimulateOptions {
  backend: Backend;
  /** Output directory: created when missing; refused when it exists and is not empty. */
  out: string;
  /** Runs (default 10), each preceded and followed by a `tracing_mark_write: xtrace: run=N begin/end` marker. */
  runs?: number;
  /** Requests per run (default 100): sequential 4 KiB reads. */
  requests?: number;
  /** Queue depth = number of fio threads (default 1, at most 32). */
  depth?: number;
  /** PRNG seed, an integer from 0 to 2^32 - 1 (default 1). */
  seed?: number;
  /** Unrelated content and other guests' requests (default true). */
  noise?: boolean;
  /** Drop a ~1 ms window of kernel events in run 3 (default false). */
  lostEvents?: boolean;
  /** Make the xtbuf ring wrap, overwriting about half of the records up to the end of run 1 (default false; ignored for blkback, which has no userspace dump). */
  wrap?: boolean;
  /** Include the guest's syscalls and block tracepoints, extending the path (default true). */
  guestBlock?: boolean;
  /** Form of the xtbuf dump (default binary). */
  xtbufForm?: 'binary' | 'text';
  /**
   * Multiply the drawn latencies of some assumption stages (keys of ASSUMPTIONS, e.g.
   * `{"be_submit->be_bio_done": 1.2}`), everything else drawn identically (same seed): a
   * controlled regression for testing `xtrace compare`. Default: none.
   */
  scale?: Record<string, number>;
}

export interface SimulateResult {
  files: { file: string; domain: string; path: string }[];
  truthPath: string;
  requests: number;
  complete: number;
}

type ResolvedOptions = Required<Omit<SimulateOptions, 'out'>>;

export interface TruthRequest {
  run: string;
  seq: number;
  pid: number;
  id: number;
  idx?: number;
  sector: number;
  complete: boolean;
  points: Record<string, number>;
  /** Id-less points that survived but that a reader cannot place: a gap of their file meets their window. */
  unknowable?: string[];
}

/** Where a file lost events, as its reader knows it, in the reference clock (±Infinity when open). */
interface Gap {
  file: string;
  dom: Domain;
  cpu: number | null;
  from: number;
  to: number;
}

const LOST_WINDOW_NS = 1_000_000;

function resolveOptions(o: SimulateOptions): ResolvedOptions & { out: string } {
  if (o === null || typeof o !== 'object') throw new Error('simulate: options must be an object');
  if (!BACKENDS.includes(o.backend)) throw new Error(`simulate: option "backend" must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(o.backend)})`);
  if (typeof o.out !== 'string' || o.out.length === 0) throw new Error('simulate: option "out" must be a directory path');
  const int = (name: string, v: unknown, def: number, lo: number, hi: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Error(`simulate: option "${name}" must be an integer from ${lo} to ${hi} (got ${JSON.stringify(v)})`);
    return v;
  };
  const bool = (name: string, v: unknown, def: boolean): boolean => {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') throw new Error(`simulate: option "${name}" must be true or false (got ${JSON.stringify(v)})`);
    return v;
  };
  const scale = o.scale ?? {};
  for (const [k, v] of Object.entries(scale)) {
    if (!(k in ASSUMPTIONS)) throw new Error(`simulate: option "scale": no stage "${k}" (stages: ${Object.keys(ASSUMPTIONS).join(', ')})`);
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`simulate: option "scale": factor of "${k}" must be a positive number (got ${JSON.stringify(v)})`);
  }
  if (o.xtbufForm !== undefined && o.xtbufForm !== 'binary' && o.xtbufForm !== 'text') throw new Error(`simulate: option "xtbufForm" must be "binary" or "text" (got ${JSON.stringify(o.xtbufForm)})`);
  return {
    backend: o.backend,
    out: o.out,
    runs: int('runs', o.runs, 10, 1, 10_000),
    requests: int('requests', o.requests, 100, 1, 1_000_000),
    depth: int('depth', o.depth, 1, 1, 32),
    seed: int('seed', o.seed, 1, 0, 0xffff_ffff),
    noise: bool('noise', o.noise, true),
    lostEvents: bool('lostEvents', o.lostEvents, false),
    wrap: bool('wrap', o.wrap, false),
    guestBlock: bool('guestBlock', o.guestBlock, true),
    xtbufForm: o.xtbufForm ?? 'binary',
    scale,
  };
}

/** Refuses an output that is a file or a non-empty directory (checked before any work). */
function checkOut(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`simulate: output "${out}" exists and is not a directory`);
  if (readdirSync(out).length > 0) throw new Error(`simulate: output directory "${out}" is not empty`);
}

/** Writes the simulated trace files and truth.json into `opts.out`. */
export function simulate(opts: SimulateOptions): SimulateResult {
  const o = resolveOptions(opts);
  checkOut(o.out);
  const m = simulateModel({ backend: o.backend, runs: o.runs, requests: o.requests, depth: o.depth, seed: o.seed, noise: o.noise, scale: o.scale });
  const path = pathFor(o.backend, o.guestBlock);

  // Which lines are written at all.
  const visible = m.lines.filter((l) => (o.noise || !l.noise) && (o.guestBlock || !l.block));
  const byDom = new Map<Domain, Line[]>();
  for (const l of visible) {
    let a = byDom.get(l.dom);
    if (a === undefined) byDom.set(l.dom, (a = []));
    a.push(l);
  }
  for (const [dom, ls] of byDom) {
    // Emission order is causal order; the file is sorted by time, so both must agree.
    ls.sort((a, b) => a.local - b.local || a.seq - b.seq);
    for (let i = 1; i < ls.length; i++) if (ls[i]!.seq < ls[i - 1]!.seq) throw new Error(`simulator bug: ${dom} lines emitted out of time order`);
  }

  // The truth on the generated events (before any loss), with the generator's assertions.
  checkRequests(m, path);

  // Lost events: a window in the middle of run 3 of the kernel file nearest the back end.
  let lost: { file: string; dropped_lines: number; window_ns: [number, number] } | null = null;
  const lostDom: Domain = byDom.has('dom0') ? 'dom0' : 'domU';
  if (o.lostEvents) {
    const run = m.runs[Math.min(3, m.runs.length) - 1]!;
    const mid = Math.floor((run.begin + run.end) / 2);
    const half = Math.floor(Math.min(LOST_WINDOW_NS, (run.end - run.begin) / 3) / 2);
    const w: [number, number] = [mid - half, mid + half];
    let n = 0;
    for (const l of byDom.get(lostDom) ?? []) {
      if (l.ref >= w[0] && l.ref <= w[1]) {
        l.dropped = true;
        n++;
      }
    }
    lost = { file: fileOf(lostDom), dropped_lines: n, window_ns: w };
  }

  // Wrap: the ring holds all but the oldest k records, k = half of those written up to the end
  // of run 1, so only part of run 1 is overwritten.
  let xtbufInfo: { file: string; written: number; capacity: number } | null = null;
  let xtbufGap: Gap | null = null;
  if (m.userspace !== null) {
    const dom = m.userspace.dom;
    const recs = byDom.get(dom) ?? [];
    const written = recs.length;
    const run1End = m.runs[0]!.end;
    const k = Math.max(1, Math.floor(recs.filter((l) => l.ref <= run1End).length / 2));
    const capacity = o.wrap ? Math.max(1, written - k) : Math.max(1024, nextPow2(written));
    for (let i = 0; i < written - capacity; i++) recs[i]!.dropped = true;
    xtbufInfo = { file: fileOf(dom), written, capacity };
    if (written > capacity) {
      // The reader's view: everything before the first surviving record was lost.
      const first = recs[written - capacity]!;
      xtbufGap = { file: fileOf(dom), dom, cpu: null, from: -Infinity, to: first.local + m.offsets[dom]! };
    }
  }

  // Files.
  checkOut(o.out);
  mkdirSync(o.out, { recursive: true });
  const files: SimulateResult['files'] = [];
  const gaps: Gap[] = [];
  for (const dom of ['domU', 'dom0'] as const) {
    const ls = byDom.get(dom);
    if (ls === undefined) continue;
    const file = fileOf(dom);
    const ft = renderFtraceText(ls, m.offsets[dom]!);
    writeFileSync(join(o.out, file), ft.text);
    for (const g of ft.gaps) gaps.push({ file, dom, ...g });
    files.push({ file, domain: dom, path: join(o.out, file) });
  }
  if (m.userspace !== null && xtbufInfo !== null) {
    const u = m.userspace;
    const recs = byDom.get(u.dom) ?? [];
    const dump: XtbufDump = {
      clock: 'monotonic',
      pid: u.pid,
      comm: u.comm,
      tscHz: 0,
      capacity: xtbufInfo.capacity,
      probes: u.probes,
      records: recs.map((l) => ({ ts: l.local, ...l.rec! }) as XtbufRecord),
    };
    const file = xtbufInfo.file;
    writeFileSync(join(o.out, file), o.xtbufForm === 'binary' ? encodeXtbuf(dump) : formatXtbufText(dump));
    files.push({ file, domain: u.dom, path: join(o.out, file) });
  }
  if (xtbufGap !== null) gaps.push(xtbufGap);

  // truth.json
  const requests = truthRequests(m, path, o.backend, gaps);
  const offsets: Record<string, number> = {};
  for (const f of files) offsets[f.domain] = m.offsets[f.domain as Domain]!;
  const { out: _out, ...options } = o;
  const truth = {
    version: 1,
    backend: o.backend,
    options,
    files: files.map((f) => ({ file: f.file, domain: f.domain })),
    reference_domain: 'domU',
    offsets_ns: offsets,
    path,
    assumptions: assumptionsFor(o.backend, o.guestBlock),
    latency_model: LATENCY_MODEL,
    guest: { domid: GUEST_DOMID, vdev: VDEV, ring: RING, ...(o.backend === 'blktap2' ? { tap_minor: 1 } : {}) },
    runs: m.runs.map((r, i) => ({ run: String(i + 1), begin_ns: r.begin, end_ns: r.end })),
    lost_events: lost,
    xtbuf: xtbufInfo,
    gaps: gaps.map((g) => ({ file: g.file, cpu: g.cpu, from_ns: Number.isFinite(g.from) ? g.from : null, to_ns: Number.isFinite(g.to) ? g.to : null })),
    requests,
  };
  const truthPath = join(o.out, 'truth.json');
  writeFileSync(truthPath, truthJson(truth));
  return { files, truthPath, requests: requests.length, complete: requests.filter((r) => r.complete).length };
}

function fileOf(dom: Domain): string {
  switch (dom) {
    case 'domU':
      return 'guest.trace';
    case 'dom0':
      return 'dom0.trace';
    case 'tapdisk':
      return 'tapdisk.xtbuf';
    case 'qemu':
      return 'qemu.xtbuf';
  }
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * The ftrace file: header, event lines, and a LOST line per CPU where lines were dropped; and the
 * gaps a reader derives from what is written: a `CPU:N [LOST …]` line spans from the last event
 * of CPU N printed before it to the first printed after it (reference clock, ±Infinity if none).
 */
function renderFtraceText(ls: Line[], offset: number): { text: string; gaps: { cpu: number; from: number; to: number }[] } {
  const body: string[] = [];
  const gaps: { cpu: number; from: number; to: number }[] = [];
  let events = 0;
  let lostWritten = false;
  const lostByCpu = new Map<number, number>();
  for (const l of ls) if (l.dropped) lostByCpu.set(l.task!.cpu, (lostByCpu.get(l.task!.cpu) ?? 0) + 1);
  /** Reference time of the last event printed per CPU, and the gaps still waiting for their end. */
  const lastOn = new Map<number, number>();
  const open = new Map<number, { cpu: number; from: number; to: number }[]>();
  for (const l of ls) {
    if (l.dropped) {
      if (!lostWritten) {
        for (const cpu of [...lostByCpu.keys()].sort((a, b) => a - b)) {
          body.push(`CPU:${cpu} [LOST ${lostByCpu.get(cpu)!} EVENTS]`);
          const g = { cpu, from: lastOn.get(cpu) ?? -Infinity, to: Infinity };
          gaps.push(g);
          let a = open.get(cpu);
          if (a === undefined) open.set(cpu, (a = []));
          a.push(g);
        }
        lostWritten = true;
      }
      continue;
    }
    const cpu = l.task!.cpu;
    body.push(ftraceLine(l.task!.comm, l.task!.pid, cpu, l.flags!, l.local, l.body!));
    events++;
    // The time the file says (whole µs), in the reference clock.
    const t = l.local + offset;
    lastOn.set(cpu, t);
    const a = open.get(cpu);
    if (a !== undefined) {
      for (const g of a) g.to = t;
      open.delete(cpu);
    }
  }
  return { text: [...ftraceHeader(events, 2), ...body].join('\n') + '\n', gaps };
}

/**
 * Generator assertions on the full model: every path point exists, id-less points are what the
 * spec's rule picks (and not after the next point), causality holds with ≥ 1 µs across domains.
 */
function checkRequests(m: ModelOutput, path: string[]): void {
  const index = idlessIndex(m.lines);
  for (const r of m.requests) {
    let prev: Line | null = null;
    for (let i = 0; i < path.length; i++) {
      const p = path[i]!;
      const l = r.points.get(p);
      if (l === undefined) throw new Error(`simulator bug: request run ${r.run} #${r.index} has no ${p}`);
      if (IDLESS_POINTS.has(p)) {
        const chosen = firstAtOrAfter(index.get(idlessId(p)) ?? [], prev!.ref);
        if (chosen !== l) throw new Error(`simulator bug: the id-less rule picks another ${p} for request run ${r.run} #${r.index} than the model (${chosen?.ref} vs ${l.ref})`);
        const next = r.points.get(path[i + 1]!);
        if (next !== undefined && chosen.ref > next.ref) throw new Error(`simulator bug: ${p} of request run ${r.run} #${r.index} is after its next point`);
      }
      if (prev !== null) {
        if (l.ref < prev.ref) throw new Error(`simulator bug: causality: ${p} before ${path[i - 1]} in request run ${r.run} #${r.index}`);
        if (l.dom !== prev.dom && l.ref - prev.ref < 1000) throw new Error(`simulator bug: cross-domain step ${path[i - 1]}->${p} under 1 µs in request run ${r.run} #${r.index}`);
      }
      prev = l;
    }
  }
}

/** Index key of an id-less point of our guest: the point and the domid/vdev/ring it carries. */
function idlessId(point: string): string {
  const guest = point === 'fe_notify' || point === 'fe_irq';
  return `${point}#${idlessKey(guest ? undefined : GUEST_DOMID, VDEV, RING)}`;
}

function idlessIndex(lines: Line[]): Map<string, Line[]> {
  const ix = new Map<string, Line[]>();
  for (const l of lines) {
    if (l.probe === undefined || !IDLESS_POINTS.has(l.probe)) continue;
    const k = `${l.probe}#${l.key}`;
    let a = ix.get(k);
    if (a === undefined) ix.set(k, (a = []));
    a.push(l);
  }
  for (const a of ix.values()) a.sort((x, y) => x.ref - y.ref || x.seq - y.seq);
  return ix;
}

function firstAtOrAfter(a: Line[], t: number): Line | undefined {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]!.ref < t) lo = mid + 1;
    else hi = mid;
  }
  return a[lo];
}

/**
 * Requests in start order: by run, then by the time of the first path point (seq = rank in its
 * run). A point is in "points" when it survived and, for an id-less point, when no gap of its file
 * meets [time of the request's last known point before it, its time]; else the request is
 * incomplete (and such id-less points are listed in "unknowable").
 */
function truthRequests(m: ModelOutput, path: string[], backend: Backend, gaps: Gap[]): TruthRequest[] {
  const first = (r: SimRequest): Line => r.points.get(path[0]!)!;
  const sorted = [...m.requests].sort((a, b) => a.run - b.run || first(a).ref - first(b).ref || first(a).seq - first(b).seq);
  let run = 0;
  let seq = 0;
  return sorted.map((r) => {
    if (r.run !== run) {
      run = r.run;
      seq = 0;
    }
    const points: Record<string, number> = {};
    const unknowable: string[] = [];
    let complete = true;
    let prevT: number | null = null;
    for (const p of path) {
      const l = r.points.get(p)!;
      if (l.dropped) {
        complete = false;
        continue;
      }
      if (IDLESS_POINTS.has(p) && prevT !== null) {
        const from = prevT;
        if (gaps.some((g) => g.dom === l.dom && g.from < l.ref && g.to > from)) {
          complete = false;
          unknowable.push(p);
          continue;
        }
      }
      points[p] = l.ref;
      prevT = l.ref;
    }
    return {
      run: String(r.run),
      seq: seq++,
      pid: r.pid,
      id: r.id,
      ...(backend === 'blktap2' ? { idx: r.idx } : {}),
      sector: r.sector,
      complete,
      points,
      ...(unknowable.length > 0 ? { unknowable } : {}),
    };
  });
}

/** Pretty JSON with one request per line (stable, diff-friendly, not huge). */
function truthJson(t: { requests: TruthRequest[] } & Record<string, unknown>): string {
  const { requests, ...head } = t;
  const top = JSON.stringify(head, null, 2);
  const reqs = requests.map((r) => '    ' + JSON.stringify(r)).join(',\n');
  return top.slice(0, -2) + `,\n  "requests": [\n${reqs}\n  ]\n}\n`;
}
