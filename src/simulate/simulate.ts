/**
 * Trace simulator: synthetic but spec-exact traces of Xen guests reading from their virtual disk
 * through one of four back ends (src/profiles/builtin/xen-probes.md), with the ground truth of every
 * request, so that the correlation engine can be tested against known per-stage latencies.
 *
 * Pure library code: it takes options, writes files into `out` and returns what it wrote.
 * Deterministic: the same options and seed give byte-identical files.
 *
 * Files (one clock domain each, see truth.json "files", "offsets_ns" and "clocks"):
 *  - guest.trace (domU): the guest kernel's ftrace `trace` file: blkfront probes, and with
 *    guestBlock the pread64 syscalls and block tracepoints of the guest's own block layer;
 *    with several guests one per guest, guest-domU<domid>.trace (domain domU<domid>);
 *  - dom0.trace (dom0, blkback and blktap2 only): blkback (and blktap driver) probes of every guest;
 *  - tapdisk.xtbuf (tapdisk: blktap2, blktap3) or qemu.xtbuf (qemu: qdisk): the userspace
 *    ring-buffer dump, clock monotonic, binary or text form; with several guests one process
 *    and dump per guest, tapdisk-domU<domid>.xtbuf / qemu-domU<domid>.xtbuf (same domain names);
 *  - truth.json: options, clocks, the path, the latency assumptions and every request of our
 *    guests with the reference time of each of its points that survived in the files. With
 *    several guests, "runs" are the first guest's markers (every guest prints its own at the same
 *    true instants) and a request's "seq" is its rank in its run and guest.
 *
 * Reference clock = the (first) guest's clock at the anchor. Without drift, offset(D) is the
 * integer ns with t_ref = t_local + offset(D). With `drift` (ppm per domain) a domain's clock is
 * t_local = anchor_local + (t_ref − anchor_ref)·(1 + ppm·1e-6), anchor_ref being the first instant
 * of the simulation and anchor_local = anchor_ref − offset(D); then
 *   t_ref = Math.round(anchor_ref + (t_local − anchor_local) / (1 + ppm·1e-6))
 * (truth.json "clocks": offset_ns, anchor_local_ns, ppm). Every event's local time is what the file
 * says (ftrace: truncated to µs, as the kernel prints), and the truth is that local time mapped
 * back, so a perfect reader gets the truth exactly. A drifting first guest makes the reference a
 * virtual clock no file shows.
 *
 * Options: `noise` adds other guests' requests in dom0 (the domids after ours: 7 and 9 with one
 * guest), scheduler lines, other printk lines and `xt` points not in the path, and
 * td_stats/qd_stats records; `lostEvents` drops every line of a ~1 ms window in the middle of run 3
 * (the last run when there are fewer) of dom0.trace, or of the first guest's file when there is no
 * dom0 file, and writes the kernel's `CPU:N [LOST M EVENTS]` line for each CPU that lost lines
 * where they were; `wrap` makes every xtbuf ring hold all the records written but the oldest k, k
 * = half of those written up to the end of run 1, so the ring wraps and overwrites part of run 1
 * only: every run keeps complete requests (accepted and ignored for blkback, which has no
 * userspace dump). `runGapMs` sets the idle time between runs (default 200 ms, ±5 % at most
 * ±10 ms): 10 runs 3000 ms apart span ~30 s; a gap longer than the default carries no more noise
 * than the default gap (the idle noise is spread over it), so such a trace stays a few MB.
 * `skip` (POINT → N): N requests, chosen with the seed among the non-warm-up ones and spread over
 * the runs, silently lose POINT: its line or record is not written and no LOST marker says so (a
 * probe on a path the request did not take); an id-less point is only skipped where its event
 * serves that request alone. `batching` "real" makes blkfront and the back ends batch as they
 * really do (model.ts); "serial" (default) is the model below. `guests` runs N guests at once
 * through the same dom0 (model.ts); `guestDomid` adds `domid=` to the fe_* lines (decision 3).
 *
 * "complete" means knowably complete: every point survived in the files or is absent by design,
 * and no id-less point lies where a reader must refuse it. A reader knows where events were lost
 * only as the files say it (truth.json "gaps", reference clock, null for ±∞): a `CPU:N [LOST M
 * EVENTS]` line lost events of CPU N between the last event of CPU N printed before it and the
 * first one printed after it (open interval, −∞ / +∞ when there is none); a wrapped xtbuf ring
 * lost everything before its first surviving record. An id-less point p matched as "the first at
 * or after the previous point q" could have been a lost event when a gap (a, b) of p's file meets
 * [t(q), t(p)] (a < t(p) and b > t(q)), q being the last point of the request before p that a
 * reader has (survived and itself knowable): such a p is left out of "points", listed in the
 * request's "unknowable", and the request is incomplete. Likewise a point absent by design
 * ("batched") whose file has a gap meeting [t(q), t(n)] (q, n: the nearest points the reader has
 * before and after it) cannot be told from a lost one: "unknowable", incomplete. A skipped point
 * makes its request incomplete ("skipped").
 *
 * Serial mode: the id-less points (fe_notify, be_irq, fe_irq, td_ring_event, td_notify,
 * qd_event, qd_notify) are computed in the truth by the spec's rule ("the first such event on the
 * same domid/vdev/ring at or after the previous point of the request") over all generated events,
 * and the generator asserts that this is the event its model meant and that it is not after the
 * request's next point. For the rule to hold, the `serial` mode serialises what real Xen does not
 * (see model.ts): a guest batch is dispatched only after the back end took the previous one off
 * the ring, and a response notify never comes within 3 µs before a pending guest interrupt.
 * Real mode: the truth of an id-less point is the event the model says woke or delivered the
 * request; points without one are listed in "batched" (absent by design, the request stays
 * complete); the generator asserts that each present id-less point is the only event of its kind
 * between the request's previous and next present points, that every id-less event of our guests
 * serves some request, and that notifies, wake-ups and interrupts pair up.
 *
 * Extended truth (`extendedTruth`, on by default when any of drift, runGapMs, skip, batching,
 * guests or guestDomid is given; off otherwise, so that the output of the options above is the
 * same as before them): "clocks", "guests", "xtbufs", and per request "guest", "domid", "at"
 * (where each point's event is: `<file>:<line>` 1-based for text files, xtbuf text included;
 * `<file>#<record>` 0-based among the surviving records, oldest first, for binary xtbuf),
 * "batched" and "skipped".
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeXtbuf, formatXtbufText, type XtbufDump, type XtbufRecord } from '../../parsers/xtbuf/write.js';
import { ASSUMPTIONS, BACKENDS, IDLESS_POINTS, LATENCY_MODEL, assumptionsFor, pathFor, pointDomain, type Backend } from './assumptions.js';
import { ftraceHeader, ftraceLine } from './ftrace.js';
import { GUEST_DOMID, MAX_GUESTS, RING, VDEV, domainsFor, idlessKey, simulateModel, type Batching, type Clock, type GuestInfo, type Line, type ModelOutput, type SimRequest } from './model.js';
import { Rng } from './rng.js';

export { BACKENDS, pathFor, pointDomain, pointEvent, ASSUMPTIONS, type Backend, type Domain } from './assumptions.js';
export { domainsFor } from './model.js';

export interface SimulateOptions {
  backend: Backend;
  /** Output directory: created when missing; refused when it exists and is not empty. */
  out: string;
  /** Runs (default 10), each preceded and followed by a `tracing_mark_write: xtrace: run=N begin/end` marker. */
  runs?: number;
  /** Requests per run and guest (default 100): sequential 4 KiB reads. */
  requests?: number;
  /** Queue depth = number of fio threads per guest (default 1, at most 32). */
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
  /**
   * Clock drift per domain (names as in truth.json "files"): the domain's clock runs PPM parts per
   * million fast relative to the reference (negative: slow), −1000 to 1000, fractional allowed.
   * Default: none (every clock at the reference rate).
   */
  drift?: Record<string, number>;
  /** Idle time between runs, ms (default 200; 1 to 600000). */
  runGapMs?: number;
  /** Point → number of requests that silently lose it (no LOST marker). Points of the truth's path. */
  skip?: Record<string, number>;
  /** How requests and responses are batched on the ring (default serial; see model.ts). */
  batching?: Batching;
  /** Guests doing I/O at once through the same dom0 (default 1, at most 8). */
  guests?: number;
  /** fe_* lines carry `domid=<the guest's domid>` (default false). */
  guestDomid?: boolean;
  /** Write the extended truth (default: true when any option from `drift` on is given). */
  extendedTruth?: boolean;
}

export interface SimulateResult {
  files: { file: string; domain: string; path: string }[];
  truthPath: string;
  requests: number;
  complete: number;
}

type BaseOptions = Required<Omit<SimulateOptions, 'out' | 'drift' | 'runGapMs' | 'skip' | 'batching' | 'guests' | 'guestDomid' | 'extendedTruth'>>;

interface ResolvedOptions extends BaseOptions {
  out: string;
  /** The newer options, as given (undefined when not given: they are echoed only when given). */
  given: Pick<SimulateOptions, 'drift' | 'runGapMs' | 'skip' | 'batching' | 'guests' | 'guestDomid' | 'extendedTruth'>;
  batching: Batching;
  guests: number;
  extended: boolean;
}

export interface TruthRequest {
  run: string;
  seq: number;
  /** Extended truth: the guest's domain and domid. */
  guest?: string;
  domid?: number;
  pid: number;
  id: number;
  idx?: number;
  sector: number;
  complete: boolean;
  points: Record<string, number>;
  /** Extended truth: where each point of "points" is (`file:line`, or `file#record` for binary xtbuf). */
  at?: Record<string, string>;
  /** Points absent by design (real batching). */
  batched?: string[];
  /** Points whose event was not written (skip). */
  skipped?: string[];
  /** Id-less points that survived but that a reader cannot place: a gap of their file meets their window (or, batched, cannot be told from lost). */
  unknowable?: string[];
}

/** Where a file lost events, as its reader knows it, in the reference clock (±Infinity when open). */
interface Gap {
  file: string;
  dom: string;
  cpu: number | null;
  from: number;
  to: number;
}

const LOST_WINDOW_NS = 1_000_000;
const HEADER_LINES = ftraceHeader(0, 2).length;

function resolveOptions(o: SimulateOptions): ResolvedOptions {
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
  const record = (name: string, v: unknown): Record<string, unknown> => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`simulate: option "${name}" must be an object (got ${JSON.stringify(v)})`);
    return v as Record<string, unknown>;
  };
  const scale = o.scale ?? {};
  for (const [k, v] of Object.entries(scale)) {
    if (!(k in ASSUMPTIONS)) throw new Error(`simulate: option "scale": no stage "${k}" (stages: ${Object.keys(ASSUMPTIONS).join(', ')})`);
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new Error(`simulate: option "scale": factor of "${k}" must be a positive number (got ${JSON.stringify(v)})`);
  }
  if (o.xtbufForm !== undefined && o.xtbufForm !== 'binary' && o.xtbufForm !== 'text') throw new Error(`simulate: option "xtbufForm" must be "binary" or "text" (got ${JSON.stringify(o.xtbufForm)})`);
  const base: BaseOptions = {
    backend: o.backend,
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

  // The newer options.
  const guests = int('guests', o.guests, 1, 1, MAX_GUESTS);
  int('runGapMs', o.runGapMs, 200, 1, 600_000);
  if (o.batching !== undefined && o.batching !== 'serial' && o.batching !== 'real') throw new Error(`simulate: option "batching" must be "serial" or "real" (got ${JSON.stringify(o.batching)})`);
  bool('guestDomid', o.guestDomid, false);
  if (o.drift !== undefined) {
    const domains = domainsFor(base.backend, guests).map((d) => d.name);
    for (const [d, v] of Object.entries(record('drift', o.drift))) {
      if (!domains.includes(d)) throw new Error(`simulate: option "drift": no domain "${d}" in this configuration (domains: ${domains.join(', ')})`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < -1000 || v > 1000) throw new Error(`simulate: option "drift": ppm of "${d}" must be a number from -1000 to 1000 (got ${JSON.stringify(v)})`);
    }
  }
  if (o.skip !== undefined) {
    const path = pathFor(base.backend, base.guestBlock);
    for (const [p, v] of Object.entries(record('skip', o.skip))) {
      if (!path.includes(p)) throw new Error(`simulate: option "skip": "${p}" is not a point of the ${base.backend} path (points: ${path.join(', ')})`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000) throw new Error(`simulate: option "skip": count of "${p}" must be an integer from 1 to 1000000 (got ${JSON.stringify(v)})`);
    }
  }
  const given = { drift: o.drift, runGapMs: o.runGapMs, skip: o.skip, batching: o.batching, guests: o.guests, guestDomid: o.guestDomid, extendedTruth: o.extendedTruth };
  const anyNew = Object.entries(given).some(([k, v]) => k !== 'extendedTruth' && v !== undefined);
  return {
    ...base,
    out: o.out,
    given,
    batching: o.batching ?? 'serial',
    guests,
    extended: bool('extendedTruth', o.extendedTruth, anyNew),
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
  const m = simulateModel({
    backend: o.backend,
    runs: o.runs,
    requests: o.requests,
    depth: o.depth,
    seed: o.seed,
    noise: o.noise,
    scale: o.scale,
    ...(o.given.drift !== undefined ? { drift: o.given.drift } : {}),
    ...(o.given.runGapMs !== undefined ? { runGapMs: o.given.runGapMs } : {}),
    batching: o.batching,
    guests: o.guests,
    guestDomid: o.given.guestDomid === true,
  });
  const path = pathFor(o.backend, o.guestBlock);
  const real = o.batching === 'real';
  const fileOf = (dom: string): string => {
    const d = m.domains.find((x) => x.name === dom);
    if (d === undefined) throw new Error(`simulator bug: no file for domain ${dom}`);
    return d.file;
  };

  // The truth on the generated events (before any loss), with the generator's assertions.
  checkRequests(m, path, real, o.given.guestDomid === true);

  // Skipped points: chosen on the model, then simply not written.
  if (o.given.skip !== undefined) chooseSkips(m, path, o.given.skip, o.seed, o.runs);

  // Which lines are written at all.
  const visible = m.lines.filter((l) => (o.noise || !l.noise) && (o.guestBlock || !l.block) && l.skipped !== true);
  const byDom = new Map<string, Line[]>();
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

  // Lost events: a window in the middle of run 3 of the kernel file nearest the back end.
  let lost: { file: string; dropped_lines: number; window_ns: [number, number] } | null = null;
  const lostDom: string = byDom.has('dom0') ? 'dom0' : m.guests[0]!.domain;
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

  // Wrap: each ring holds all but the oldest k records, k = half of those written up to the end
  // of run 1, so only part of run 1 is overwritten.
  const xtbufInfos: { file: string; written: number; capacity: number }[] = [];
  const xtbufGaps: Gap[] = [];
  for (const u of m.userspace) {
    const dom = u.dom;
    const recs = byDom.get(dom) ?? [];
    const written = recs.length;
    const run1End = m.runs[0]!.end;
    const k = Math.max(1, Math.floor(recs.filter((l) => l.ref <= run1End).length / 2));
    const capacity = o.wrap ? Math.max(1, written - k) : Math.max(1024, nextPow2(written));
    for (let i = 0; i < written - capacity; i++) recs[i]!.dropped = true;
    xtbufInfos.push({ file: fileOf(dom), written, capacity });
    if (written > capacity) {
      // The reader's view: everything before the first surviving record was lost.
      const first = recs[written - capacity]!;
      xtbufGaps.push({ file: fileOf(dom), dom, cpu: null, from: -Infinity, to: m.clocks[dom]!.ref(first.local) });
    }
  }

  // Files.
  checkOut(o.out);
  mkdirSync(o.out, { recursive: true });
  const files: SimulateResult['files'] = [];
  const gaps: Gap[] = [];
  for (const d of m.domains) {
    if (d.kind === 'user') continue;
    const ls = byDom.get(d.name);
    if (ls === undefined) continue;
    const ft = renderFtraceText(ls, m.clocks[d.name]!, d.file);
    writeFileSync(join(o.out, d.file), ft.text);
    for (const g of ft.gaps) gaps.push({ file: d.file, dom: d.name, ...g });
    files.push({ file: d.file, domain: d.name, path: join(o.out, d.file) });
  }
  m.userspace.forEach((u, i) => {
    const info = xtbufInfos[i]!;
    const recs = byDom.get(u.dom) ?? [];
    const dump: XtbufDump = {
      clock: 'monotonic',
      pid: u.pid,
      comm: u.comm,
      tscHz: 0,
      capacity: info.capacity,
      probes: u.probes,
      records: recs.map((l) => ({ ts: l.local, ...l.rec! }) as XtbufRecord),
    };
    const first = Math.max(0, recs.length - info.capacity);
    for (let j = first; j < recs.length; j++) recs[j]!.at = o.xtbufForm === 'binary' ? `${info.file}#${j - first}` : `${info.file}:${j - first + 2}`;
    writeFileSync(join(o.out, info.file), o.xtbufForm === 'binary' ? encodeXtbuf(dump) : formatXtbufText(dump));
    files.push({ file: info.file, domain: u.dom, path: join(o.out, info.file) });
  });
  gaps.push(...xtbufGaps);

  // truth.json
  const requests = truthRequests(m, path, o.backend, gaps, o.extended);
  const offsets: Record<string, number> = {};
  for (const f of files) offsets[f.domain] = m.offsets[f.domain]!;
  const clocks: Record<string, { offset_ns: number; anchor_local_ns: number; ppm: number }> = {};
  for (const f of files) {
    const c = m.clocks[f.domain]!;
    clocks[f.domain] = { offset_ns: c.offset, anchor_local_ns: c.anchorLocal, ppm: c.ppm };
  }
  const { out: _out, given, batching: _b, guests: _g, extended: _e, ...options } = o;
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (options as Record<string, unknown>)[k] = v;
  const truth = {
    version: 1,
    backend: o.backend,
    options,
    files: files.map((f) => ({ file: f.file, domain: f.domain })),
    reference_domain: m.guests[0]!.domain,
    offsets_ns: offsets,
    ...(o.extended ? { clocks } : {}),
    path,
    assumptions: assumptionsFor(o.backend, o.guestBlock, o.batching),
    latency_model: LATENCY_MODEL,
    guest: { domid: GUEST_DOMID, vdev: VDEV, ring: RING, ...(o.backend === 'blktap2' ? { tap_minor: 1 } : {}) },
    ...(o.extended
      ? {
          guests: m.guests.map((g) => ({
            domain: g.domain,
            domid: g.domid,
            vdev: VDEV,
            ring: RING,
            ...(g.tapMinor !== null ? { tap_minor: g.tapMinor } : {}),
            ...(g.userDomain !== null ? { userspace_domain: g.userDomain } : {}),
          })),
        }
      : {}),
    runs: m.runs.map((r, i) => ({ run: String(i + 1), begin_ns: r.begin, end_ns: r.end })),
    lost_events: lost,
    xtbuf: xtbufInfos[0] ?? null,
    ...(o.extended ? { xtbufs: xtbufInfos } : {}),
    gaps: gaps.map((g) => ({ file: g.file, cpu: g.cpu, from_ns: Number.isFinite(g.from) ? g.from : null, to_ns: Number.isFinite(g.to) ? g.to : null })),
    requests,
  };
  const truthPath = join(o.out, 'truth.json');
  writeFileSync(truthPath, truthJson(truth));
  return { files, truthPath, requests: requests.length, complete: requests.filter((r) => r.complete).length };
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
 * Sets each written line's `at` (file:line, 1-based).
 */
function renderFtraceText(ls: Line[], clock: Clock, file: string): { text: string; gaps: { cpu: number; from: number; to: number }[] } {
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
    l.at = `${file}:${HEADER_LINES + body.length}`;
    events++;
    // The time the file says (whole µs), in the reference clock.
    const t = clock.ref(l.local);
    lastOn.set(cpu, t);
    const a = open.get(cpu);
    if (a !== undefined) {
      for (const g of a) g.to = t;
      open.delete(cpu);
    }
  }
  return { text: [...ftraceHeader(events, 2), ...body].join('\n') + '\n', gaps };
}

/** The domain (file) a path point of guest `g` is recorded in. */
function pointDom(point: string, g: GuestInfo): string {
  const d = pointDomain(point);
  if (d === 'domU') return g.domain;
  if (d === 'dom0') return 'dom0';
  if (g.userDomain === null) throw new Error(`simulator bug: no userspace domain for ${point}`);
  return g.userDomain;
}

/** Index key of an id-less point of a guest: the point, its file and the domid/vdev/ring it carries. */
function idlessId(point: string, g: GuestInfo, guestDomid: boolean): string {
  const guest = point === 'fe_notify' || point === 'fe_irq';
  return `${point}#${pointDom(point, g)}#${idlessKey(guest && !guestDomid ? undefined : g.domid, VDEV, RING)}`;
}

function idlessIndex(lines: Line[]): Map<string, Line[]> {
  const ix = new Map<string, Line[]>();
  for (const l of lines) {
    if (l.probe === undefined || !IDLESS_POINTS.has(l.probe)) continue;
    const k = `${l.probe}#${l.dom}#${l.key}`;
    let a = ix.get(k);
    if (a === undefined) ix.set(k, (a = []));
    a.push(l);
  }
  for (const a of ix.values()) a.sort((x, y) => x.ref - y.ref || x.seq - y.seq);
  return ix;
}

/** Index of the first line at or after `t` (lines sorted by time). */
function lowerBound(a: Line[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]!.ref < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstAtOrAfter(a: Line[], t: number): Line | undefined {
  return a[lowerBound(a, t)];
}

/**
 * Generator assertions on the full model: every path point exists or (real batching) is absent
 * by design; causality holds with ≥ 1 µs across domains. Serial: id-less points are what the
 * spec's rule picks (and not after the next point). Real: each present id-less point is the only
 * event of its kind between the request's previous and next present points, every id-less event
 * of our guests serves a request, every notify has its wake-up and every raised interrupt its
 * notify.
 */
function checkRequests(m: ModelOutput, path: string[], real: boolean, guestDomid: boolean): void {
  const index = idlessIndex(m.lines);
  const attributed = new Set<Line>();
  for (const r of m.requests) {
    const g = m.guests[r.guest]!;
    const name = `request ${g.domain} run ${r.run} #${r.index}`;
    if (!real && r.batched.length > 0) throw new Error(`simulator bug: ${name} is batched in serial mode`);
    const present = path.filter((p) => !r.batched.includes(p));
    for (const p of r.batched) {
      if (!IDLESS_POINTS.has(p) || !path.includes(p)) throw new Error(`simulator bug: ${name}: ${p} batched`);
      if (r.points.has(p)) throw new Error(`simulator bug: ${name}: ${p} both batched and present`);
    }
    let prev: Line | null = null;
    for (let i = 0; i < present.length; i++) {
      const p = present[i]!;
      const l = r.points.get(p);
      if (l === undefined) throw new Error(`simulator bug: ${name} has no ${p}`);
      if (IDLESS_POINTS.has(p)) {
        attributed.add(l);
        const events = index.get(idlessId(p, g, guestDomid)) ?? [];
        const next = r.points.get(present[i + 1]!);
        if (!real) {
          const chosen = firstAtOrAfter(events, prev!.ref);
          if (chosen !== l) throw new Error(`simulator bug: the id-less rule picks another ${p} for ${name} than the model (${chosen?.ref} vs ${l.ref})`);
          if (next !== undefined && chosen.ref > next.ref) throw new Error(`simulator bug: ${p} of ${name} is after its next point`);
        } else {
          const hi = next?.ref ?? Infinity;
          const inWindow: Line[] = [];
          for (let j = lowerBound(events, prev!.ref); j < events.length && events[j]!.ref <= hi; j++) inWindow.push(events[j]!);
          if (inWindow.length !== 1 || inWindow[0] !== l) throw new Error(`simulator bug: ${p} of ${name} is not the only ${p} between its previous and next points (${inWindow.length} there)`);
        }
      }
      if (prev !== null) {
        if (l.ref < prev.ref) throw new Error(`simulator bug: causality: ${p} before ${present[i - 1]} in ${name}`);
        if (l.dom !== prev.dom && l.ref - prev.ref < 1000) throw new Error(`simulator bug: cross-domain step ${present[i - 1]}->${p} under 1 µs in ${name}`);
      }
      prev = l;
    }
  }
  if (!real) return;
  const count = (point: string, g: GuestInfo): number => (index.get(idlessId(point, g, guestDomid)) ?? []).length;
  for (const g of m.guests) {
    for (const p of path.filter((q) => IDLESS_POINTS.has(q))) for (const l of index.get(idlessId(p, g, guestDomid)) ?? []) if (!attributed.has(l)) throw new Error(`simulator bug: a ${p} of ${g.domain} serves no request`);
    const wake = path.includes('be_irq') ? 'be_irq' : path.includes('td_ring_event') ? 'td_ring_event' : 'qd_event';
    if (count('fe_notify', g) !== count(wake, g)) throw new Error(`simulator bug: ${g.domain}: ${count('fe_notify', g)} fe_notify, ${count(wake, g)} ${wake}`);
    const raised = path.includes('be_rsp')
      ? m.lines.filter((l) => l.probe === 'be_rsp' && !l.noise && l.key === idlessKey(g.domid, VDEV, RING) && l.notify === true).length
      : count(path.includes('td_notify') ? 'td_notify' : 'qd_notify', g);
    if (count('fe_irq', g) !== raised) throw new Error(`simulator bug: ${g.domain}: ${count('fe_irq', g)} fe_irq, ${raised} notifies raising one`);
  }
}

/**
 * Chooses the requests that lose each skipped point, with the seed (own stream: nothing else
 * changes): never a warm-up request, only requests that have the point, and for an id-less point
 * only where its event serves that request alone; spread over the runs (run after run from a
 * random first one, a random request in each). Marks the lines not written.
 */
function chooseSkips(m: ModelOutput, path: string[], skip: Record<string, number>, seed: number, runs: number): void {
  const rng = new Rng(seed, 3);
  const served = new Map<Line, number>();
  for (const r of m.requests) for (const l of r.points.values()) served.set(l, (served.get(l) ?? 0) + 1);
  const points = Object.keys(skip).sort((a, b) => path.indexOf(a) - path.indexOf(b));
  for (const p of points) {
    const n = skip[p]!;
    const idless = IDLESS_POINTS.has(p);
    const byRun: SimRequest[][] = [...Array(runs)].map(() => []);
    let total = 0;
    for (const r of m.requests) {
      const l = r.points.get(p);
      if (r.warm || l === undefined || l.skipped === true || (idless && served.get(l) !== 1)) continue;
      byRun[r.run - 1]!.push(r);
      total++;
    }
    if (total < n) {
      const why = idless ? `not warm-up, having ${p} and its ${p} serving that request alone` : `not warm-up`;
      throw new Error(`simulate: option "skip": only ${total} requests can lose ${p} (${why}); ${n} asked`);
    }
    let run = rng.int(0, runs - 1);
    for (let k = 0; k < n; k++) {
      while (byRun[run]!.length === 0) run = (run + 1) % runs;
      const list = byRun[run]!;
      const r = list.splice(rng.int(0, list.length - 1), 1)[0]!;
      r.points.get(p)!.skipped = true;
      r.skipped.push(p);
      run = (run + 1) % runs;
    }
  }
  for (const r of m.requests) r.skipped.sort((a, b) => path.indexOf(a) - path.indexOf(b));
}

/**
 * Requests in start order: by run (and guest), then by the time of the first path point (seq =
 * rank in its run and guest). A point is in "points" when it survived and, for an id-less point,
 * when no gap of its file meets [time of the request's last known point before it, its time]; else
 * the request is incomplete (and such id-less points are listed in "unknowable"). A skipped point
 * makes it incomplete; a batched one does not, unless a gap of its file meets the window between
 * the known points around it (then it is unknowable too).
 */
function truthRequests(m: ModelOutput, path: string[], backend: Backend, gaps: Gap[], extended: boolean): TruthRequest[] {
  const first = (r: SimRequest): Line => r.points.get(path[0]!)!;
  const sorted = [...m.requests].sort((a, b) => a.run - b.run || a.guest - b.guest || first(a).ref - first(b).ref || first(a).seq - first(b).seq);
  let run = 0;
  let guest = -1;
  let seq = 0;
  return sorted.map((r) => {
    if (r.run !== run || r.guest !== guest) {
      run = r.run;
      guest = r.guest;
      seq = 0;
    }
    const g = m.guests[r.guest]!;
    const points: Record<string, number> = {};
    const at: Record<string, string> = {};
    const unknowable: string[] = [];
    let complete = true;
    let prevT: number | null = null;
    for (const p of path) {
      if (r.batched.includes(p)) continue;
      const l = r.points.get(p)!;
      if (l.skipped === true || l.dropped) {
        complete = false;
        continue;
      }
      if (IDLESS_POINTS.has(p) && prevT !== null) {
        const from = prevT;
        if (gaps.some((gp) => gp.dom === l.dom && gp.from < l.ref && gp.to > from)) {
          complete = false;
          unknowable.push(p);
          continue;
        }
      }
      points[p] = l.ref;
      at[p] = l.at!;
      prevT = l.ref;
    }
    for (const p of r.batched) {
      const i = path.indexOf(p);
      const before = path.slice(0, i).filter((q) => points[q] !== undefined);
      const after = path.slice(i + 1).filter((q) => points[q] !== undefined);
      const a = before.length > 0 ? points[before.at(-1)!]! : -Infinity;
      const b = after.length > 0 ? points[after[0]!]! : Infinity;
      const dom = pointDom(p, g);
      if (gaps.some((gp) => gp.dom === dom && gp.from < b && gp.to > a)) {
        complete = false;
        unknowable.push(p);
      }
    }
    unknowable.sort((x, y) => path.indexOf(x) - path.indexOf(y));
    const batched = [...r.batched].sort((x, y) => path.indexOf(x) - path.indexOf(y));
    return {
      run: String(r.run),
      seq: seq++,
      ...(extended ? { guest: g.domain, domid: g.domid } : {}),
      pid: r.pid,
      id: r.id,
      ...(backend === 'blktap2' ? { idx: r.idx } : {}),
      sector: r.sector,
      complete,
      points,
      ...(extended ? { at } : {}),
      ...(batched.length > 0 ? { batched } : {}),
      ...(r.skipped.length > 0 ? { skipped: [...r.skipped] } : {}),
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
