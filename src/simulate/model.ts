/**
 * The event model of the simulator: a discrete-event simulation of fio threads in one or more Xen
 * guests reading through blkfront and one of four back ends. It produces every line/record of every
 * file (with its local and reference time) and, per request of our guests, the event that is each
 * point of its path (or that the point is absent by design). simulate.ts turns that into files and
 * truth.json.
 *
 * Guests: `guests` guests (domid 5, 7, 9, …) run the same fio job at the same time, each with its
 * own trace file and clock domain (`domU` for one guest, else `domU<domid>`), its own blkback
 * thread in dom0 (`blkback.<domid>.xvda`), and for userspace back ends its own tapdisk (one per
 * VBD) or qemu (one per guest) process with its own xtbuf dump and clock. The other guests of the
 * noise (dom0 back ends only) take the domids after ours.
 *
 * Clocks: every domain has a clock t_local = anchor_local + (t − anchor_true)·(1 + ppm·1e-6), with
 * anchor_true the first instant of the simulation and anchor_local = anchor_true − offset (see
 * Clock). An event at true time t prints the local time (ftrace: truncated to µs); its reference
 * time is the exact inverse of what is printed, rounded to the ns (with ppm = 0: printed + offset,
 * an integer, as it always was). Times in the model chain from those reference times.
 *
 * Two batching modes (`batching`) for how requests and responses cross the ring:
 *
 * `serial` (the default, and the only mode before: its output is unchanged) — components
 * serialise what real Xen does not, so that the spec's id-less rule ("the first such event at or
 * after the previous point") holds for every request:
 *  - the guest dispatcher (blk-mq hardware queue of xvda): requests are issued to blkfront in
 *    batches; every batch ends with one fe_notify. A new batch is dispatched only after the back
 *    end has taken the previous batch off the ring (its last be_get_req / td_get_req /
 *    qd_get_req): so one be_irq (td_ring_event, qd_event) per fe_notify, and no request is picked
 *    up by a back end that was woken for an earlier notify. A dispatch that had to wait runs in
 *    the kblockd worker instead of the fio task.
 *  - the guest interrupt (irq 45, blkif): a response whose notify (be_rsp / td_notify /
 *    qd_notify) comes at least 3 µs before a pending interrupt joins it (be_rsp notify=0); one
 *    that would come later than that but before the interrupt is held until just after it and
 *    raises a new interrupt. So the first fe_irq at or after a response's notify is the one
 *    whose handler delivers it.
 *
 * `real` — as blkfront and blkback really batch (xen-probes.md decision 10):
 *  - blkfront queues each request in the fio task when fio issues it (blkif_queue_rq, under the
 *    ring lock: fe_queue, then RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). The push notifies (fe_notify,
 *    then be_irq / td_ring_event / qd_event in the back end) only when the back end is asleep:
 *    it finished its consume loop and its final check (RING_FINAL_CHECK_FOR_REQUESTS) found the
 *    ring empty. A request pushed while the back end is awake (notified, or still consuming) gets
 *    no notify and no wake-up of its own: the running loop takes it. Its fe_notify and be_irq
 *    (td_ring_event, qd_event) are absent by design ("batched").
 *  - the back end (blkback thread, tapdisk3, qemu) consumes the ring one request at a time until
 *    its final check finds it empty, then sleeps. A request pushed at t is taken no earlier than
 *    t + 3 µs (the cross-domain minimum).
 *  - responses: a response pushed (be_rsp, or the push after td_rsp / qd_rsp) while the guest's
 *    interrupt is pending or its handler still running (before its final check,
 *    RING_FINAL_CHECK_FOR_RESPONSES) raises no interrupt: be_rsp notify=0, no td_notify /
 *    qd_notify is emitted, and the running or pending handler delivers it; its fe_irq (and
 *    td_notify / qd_notify) are absent by design. Otherwise the push raises an interrupt:
 *    be_rsp notify=1 (or one td_notify / qd_notify for the responses pushed together), and the
 *    fe_irq it raises is that request's fe_irq. The handler delivers responses (fe_rsp) until its
 *    final check finds none, each no earlier than 3 µs after its push.
 *  Every present id-less point of a request is the event the model says woke or delivered it, and
 *  it is the only event of its kind (same file, domid/vdev/ring) between the request's previous
 *  and next present points (the generator asserts it).
 *
 * In both modes: the blkback thread of each guest, tapdisk and qemu are single-threaded, jobs in
 * order.
 */
import type { XtbufRecord } from '../../parsers/xtbuf/write.js';
import { ASSUMPTIONS, WARMUP_REQUESTS, type Backend, type StageName, PROBE_CALLER } from './assumptions.js';
import { Signal, Sim, SerialExecutor, type Proc } from './des.js';
import { hexArg } from './ftrace.js';
import { runMarkerText } from '../profiles/index.js';
import { Rng, drawLatency } from './rng.js';

export const GUEST_DOMID = 5;
export const VDEV = 51712; // xvda = 202 << 8
export const RING = 0;
export const MAX_GUESTS = 8;
const DEV = '202,0';
const NSEC = 8;
const RING_IDS = 32;
/** Gap between the back end's last take of a batch and the earliest next dispatch. */
const GATE_GAP_NS = 2000;
/** Real batching: a push is seen across domains no earlier than this (the cross-domain minimum). */
const CROSS_NS = 3000;
const MS = 1_000_000;
/** Run gap (ms) of the default: runs are 190–210 ms apart. */
export const DEFAULT_RUN_GAP_MS = 200;
/** Callers of the `xt` probes that are not path points (noise). */
const NOISE_CALLER: Readonly<Record<string, string>> = { fe_stats: 'blkif_queue_rq' };

export type Batching = 'serial' | 'real';

export interface Task {
  comm: string;
  pid: number;
  cpu: number;
}

export interface Line {
  /** Clock domain (= file) of the line. */
  dom: string;
  /** Local time in the file's clock, as printed (ns; whole µs for ftrace files). */
  local: number;
  /** Reference time of what is printed (the clock's inverse, see Clock). */
  ref: number;
  /** Emission order (causal order for equal times). */
  seq: number;
  /** Unrelated content (written only with noise). */
  noise: boolean;
  /** Stock block-layer / syscall line of the guest (written only with guestBlock). */
  block: boolean;
  task?: Task;
  flags?: string;
  body?: string;
  rec?: Omit<XtbufRecord, 'ts'>;
  /** Point name of an `xt` probe line or xtbuf record (any guest, any point). */
  probe?: string;
  /** `domid|vdev|ring` as far as the probe carries them ('-' for absent). */
  key?: string;
  /** Removed by lost events or an xtbuf wrap. */
  dropped: boolean;
  /** Not written at all (a skipped point, see simulate.ts `skip`): no LOST marker. */
  skipped?: boolean;
  /** Where the line is in its file (set when the file is written). */
  at?: string;
  /** be_rsp only: the notify flag it printed. */
  notify?: boolean;
}

export interface SimRequest {
  run: number;
  /** Index of its guest in ModelOutput.guests. */
  guest: number;
  /** Index within its run and guest, in start order. */
  index: number;
  pid: number;
  id: number;
  /** blktap2: the tap ring index. */
  idx: number;
  sector: number;
  warm: boolean;
  /** The modelled event of each path point that exists. */
  points: Map<string, Line>;
  /** Path points absent by design (real batching): no event of their own. */
  batched: string[];
  /** Path points whose event is not written (skip). */
  skipped: string[];
  /** Real batching: true time of the request's push onto the ring, and of its response's push. */
  pushT: number;
  rspT: number;
  done: Signal;
}

export interface ModelConfig {
  backend: Backend;
  runs: number;
  requests: number;
  depth: number;
  seed: number;
  noise: boolean;
  /** Latency factor per assumption stage (our requests only). */
  scale?: Record<string, number>;
  /** Clock rate (ppm, relative to the reference) per domain name; absent = 0. */
  drift?: Record<string, number>;
  /** Mean idle time between runs (ms; default 200). */
  runGapMs?: number;
  batching?: Batching;
  /** Number of guests (default 1). */
  guests?: number;
  /** fe_* lines carry `domid=<own domid>` (decision 3). */
  guestDomid?: boolean;
}

/** A domain's clock (see the header). */
export class Clock {
  readonly anchorLocal: number;

  constructor(
    /** t_true − t_local at the anchor. */
    readonly offset: number,
    readonly anchorTrue: number,
    readonly ppm: number,
    /** Printed in whole µs (ftrace text). */
    readonly us: boolean,
  ) {
    this.anchorLocal = anchorTrue - offset;
  }

  /** The local time printed for an event at true time `t`. */
  local(t: number): number {
    if (this.ppm === 0) {
      const l = t - this.offset;
      return this.us ? Math.floor(l / 1000) * 1000 : l;
    }
    const d = t - this.anchorTrue;
    const l = this.anchorLocal + d + d * this.ppm * 1e-6;
    return this.us ? Math.floor(l / 1000) * 1000 : Math.floor(l);
  }

  /** The reference (true) time of a printed local time: the exact inverse, rounded to the ns. */
  ref(local: number): number {
    if (this.ppm === 0) return local + this.offset;
    return Math.round(this.anchorTrue + (local - this.anchorLocal) / (1 + this.ppm * 1e-6));
  }
}

export type DomainKind = 'guest' | 'dom0' | 'user';

export interface DomainInfo {
  name: string;
  kind: DomainKind;
  /** Index of the guest it belongs to (guest and userspace domains). */
  guest: number | null;
  file: string;
}

export interface GuestInfo {
  domain: string;
  domid: number;
  /** blktap2: the tapdev minor. */
  tapMinor: number | null;
  /** Its userspace back end's domain (tapdisk / qemu), if any. */
  userDomain: string | null;
}

export interface UserspaceInfo {
  dom: string;
  pid: number;
  comm: string;
  probes: string[];
}

export interface ModelOutput {
  lines: Line[];
  requests: SimRequest[];
  /** Offset at the anchor per domain (t_ref = t_local + offset when ppm = 0). */
  offsets: Record<string, number>;
  clocks: Record<string, Clock>;
  /** Reference times of the run markers (of the first guest). */
  runs: { begin: number; end: number }[];
  /** All domains, in file order: guests, dom0, userspace. */
  domains: DomainInfo[];
  guests: GuestInfo[];
  userspace: UserspaceInfo[];
}

export function hasDom0(backend: Backend): boolean {
  return backend === 'blkback' || backend === 'blktap2';
}

export function guestDomid(k: number): number {
  return GUEST_DOMID + 2 * k;
}

/** The domains of a configuration, in file order (guests, dom0, userspace back ends). */
export function domainsFor(backend: Backend, guests: number): DomainInfo[] {
  const one = guests === 1;
  const out: DomainInfo[] = [];
  for (let k = 0; k < guests; k++) {
    const name = one ? 'domU' : `domU${guestDomid(k)}`;
    out.push({ name, kind: 'guest', guest: k, file: one ? 'guest.trace' : `guest-${name}.trace` });
  }
  if (hasDom0(backend)) out.push({ name: 'dom0', kind: 'dom0', guest: null, file: 'dom0.trace' });
  const user = backend === 'blktap2' || backend === 'blktap3' ? 'tapdisk' : backend === 'qdisk' ? 'qemu' : null;
  if (user !== null) {
    for (let k = 0; k < guests; k++) {
      const name = one ? user : `${user}-domU${guestDomid(k)}`;
      out.push({ name, kind: 'user', guest: k, file: `${name}.xtbuf` });
    }
  }
  return out;
}

export function idlessKey(domid: number | undefined, vdev: number | undefined, ring: number | undefined): string {
  return `${domid ?? '-'}|${vdev ?? '-'}|${ring ?? '-'}`;
}

interface PendingIrq {
  /** Target (unrounded) time of the action and the fe_irq's reference time in the file. */
  ft: number;
  f: number;
  reqs: SimRequest[];
}

interface NoiseGuest {
  domid: number;
  thread: Task;
  minor: number;
  tapdisk: Task;
  irqCpu: number;
}

type BackJob = 'intake' | 'rsp';
type UserJob = 'ring' | 'done';

/** One of our guests: its domain, tasks, ring state and back-end workers. */
interface Guest {
  k: number;
  domid: number;
  dom: string;
  fio: Task[];
  freeIds: number[];
  runIndex: number;
  inflight: number;
  sectorsDone: number;
  // serial dispatcher and interrupt
  dispList: SimRequest[];
  gateOpen: boolean;
  dispatchScheduled: boolean;
  pendingIrq: PendingIrq | null;
  lastIrqF: number;
  handlerEndT: number;
  softirq: SerialExecutor<'softirq'>;
  // dom0
  bbTask: Task;
  bbThread: SerialExecutor<BackJob>;
  tapMinor: number;
  tapSlots: boolean[];
  // userspace
  userDom: string | null;
  userTask: Task;
  user: SerialExecutor<UserJob>;
  pendingNotify: SimRequest[];
  // real batching
  ringLock: SerialExecutor<'queue'>;
  /** Requests pushed and not yet taken by the back end. */
  ring: SimRequest[];
  /** The back end was notified or is consuming (a push needs no notify). */
  beAwake: boolean;
  /** Responses pushed and not yet delivered by the guest's handler. */
  rspQueue: SimRequest[];
  irq: 'idle' | 'pending' | 'running';
}

export function simulateModel(cfg: ModelConfig): ModelOutput {
  return new World(cfg).run();
}

class World {
  private readonly sim = new Sim();
  /** Main stream: everything about our guests' requests. */
  private readonly rng: Rng;
  /** Noise stream: other guests and unrelated lines (so noise never changes our requests). */
  private readonly nrng: Rng;
  private readonly lines: Line[] = [];
  private readonly requests: SimRequest[] = [];
  private readonly offsets: Record<string, number> = {};
  private readonly clocks: Record<string, Clock> = {};
  private readonly runMarks: { begin: number; end: number }[] = [];
  private seq = 0;
  private readonly backend: Backend;
  private readonly userKind: 'tapdisk' | 'qemu' | null;
  private readonly real: boolean;
  private readonly domains: DomainInfo[];
  private readonly guests: Guest[] = [];

  // guest tasks (the same in every guest: each is its own VM)
  private readonly gIdle: Task[] = [
    { comm: '<idle>', pid: 0, cpu: 0 },
    { comm: '<idle>', pid: 0, cpu: 1 },
  ];
  private readonly kworker: Task = { comm: 'kworker/1:1H', pid: 87, cpu: 1 };
  private readonly bash: Task = { comm: 'bash', pid: 1000, cpu: 0 };

  // dom0
  private readonly dIdle: Task = { comm: '<idle>', pid: 0, cpu: 0 };

  // runs
  /** Factor on the idle noise means (1 unless the run gap is longer than the default). */
  private readonly idleStretch: number;
  private active = false;
  private finishedAt: number | null = null;
  private lastExit = 0;

  constructor(private readonly cfg: ModelConfig) {
    this.backend = cfg.backend;
    this.real = cfg.batching === 'real';
    this.idleStretch = Math.max(1, (cfg.runGapMs ?? DEFAULT_RUN_GAP_MS) / DEFAULT_RUN_GAP_MS);
    this.rng = new Rng(cfg.seed, 0);
    this.nrng = new Rng(cfg.seed, 1);
    const orng = new Rng(cfg.seed, 2);
    this.userKind = cfg.backend === 'blktap2' || cfg.backend === 'blktap3' ? 'tapdisk' : cfg.backend === 'qdisk' ? 'qemu' : null;
    const nGuests = cfg.guests ?? 1;
    this.domains = domainsFor(cfg.backend, nGuests);
    const guestDom = (k: number): string => this.domains.find((d) => d.kind === 'guest' && d.guest === k)!.name;
    const userDom = (k: number): string | null => this.domains.find((d) => d.kind === 'user' && d.guest === k)?.name ?? null;

    // Clock offsets (t_ref = t_local + offset at the anchor): never whole µs. The first guest is
    // the reference (offset 0); the others draw their own.
    const notWholeUs = (v: number): number => (v % 1000 === 0 ? v + 137 : v);
    this.offsets[guestDom(0)] = 0;
    if (hasDom0(this.backend)) this.offsets.dom0 = notWholeUs(-52_000 * 1e9 + orng.int(-500_000_000, 500_000_000));
    if (this.userKind !== null) this.offsets[userDom(0)!] = notWholeUs(1000 * 1e9 - 7_300 * 1e9 + orng.int(-500_000_000, 500_000_000));
    this.sim.now = 1000 * 1e9 + orng.int(0, 500_000_000);
    for (let k = 1; k < nGuests; k++) {
      this.offsets[guestDom(k)] = notWholeUs(orng.int(-300_000_000_000, 300_000_000_000));
      if (this.userKind !== null) this.offsets[userDom(k)!] = notWholeUs(1000 * 1e9 - 7_300 * 1e9 + orng.int(-500_000_000, 500_000_000));
    }
    const anchor = this.sim.now;
    for (const d of this.domains) {
      const ppm = cfg.drift?.[d.name] ?? 0;
      this.clocks[d.name] = new Clock(this.offsets[d.name]!, anchor, ppm, d.kind !== 'user');
      if (ppm !== 0) this.sim.slack = 8;
    }

    for (let k = 0; k < nGuests; k++) {
      const domid = guestDomid(k);
      const g: Guest = {
        k,
        domid,
        dom: guestDom(k),
        fio: [],
        freeIds: [],
        runIndex: 0,
        inflight: 0,
        sectorsDone: 0,
        dispList: [],
        gateOpen: true,
        dispatchScheduled: false,
        pendingIrq: null,
        lastIrqF: -Infinity,
        handlerEndT: -Infinity,
        softirq: new SerialExecutor(this.sim),
        bbTask: { comm: `blkback.${domid}.xvda`, pid: 1830 + 4 * k, cpu: (1 + k) % 2 },
        bbThread: new SerialExecutor(this.sim),
        tapMinor: k + 1,
        tapSlots: [],
        userDom: userDom(k),
        userTask: this.userKind === 'qemu' ? { comm: 'qemu-system-i38', pid: 2711 + 5 * k, cpu: (1 + k) % 2 } : { comm: 'tapdisk', pid: 2345 + 3 * k, cpu: (1 + k) % 2 },
        user: new SerialExecutor(this.sim),
        pendingNotify: [],
        ringLock: new SerialExecutor(this.sim),
        ring: [],
        beAwake: false,
        rspQueue: [],
        irq: 'idle',
      };
      for (let j = 0; j < cfg.depth; j++) g.fio.push({ comm: 'fio', pid: 1234 + j, cpu: j % 2 });
      for (let i = RING_IDS - 1; i >= 0; i--) g.freeIds.push(i);
      this.guests.push(g);
    }
  }

  run(): ModelOutput {
    const start = this.sim.now;
    const n = this.guests.length;
    this.sim.spawn(this.runsProc(start + 2 * MS));
    if (this.cfg.noise) {
      this.noiseLines(start);
      if (hasDom0(this.backend)) {
        // other guests: domids and minors after ours (7 and 9, minors 2 and 3, with one guest)
        const guests: NoiseGuest[] = [
          { domid: guestDomid(n), thread: { comm: `blkback.${guestDomid(n)}.xvda`, pid: 1911, cpu: 0 }, minor: n + 1, tapdisk: { comm: 'tapdisk', pid: 2390, cpu: 0 }, irqCpu: 0 },
          { domid: guestDomid(n + 1), thread: { comm: `blkback.${guestDomid(n + 1)}.xvda`, pid: 1977, cpu: 1 }, minor: n + 2, tapdisk: { comm: 'tapdisk', pid: 2412, cpu: 1 }, irqCpu: 1 },
        ];
        for (const g of guests) this.sim.spawn(this.noiseGuest(g, start + this.nrng.int(0, MS)));
      }
    }
    this.sim.run();
    for (const g of this.guests) {
      if (g.pendingIrq !== null || g.dispList.length > 0) throw new Error('simulator bug: work left when the simulation ended');
      if (g.ring.length > 0 || g.rspQueue.length > 0 || g.irq !== 'idle' || g.beAwake) throw new Error('simulator bug: a ring is not idle when the simulation ended');
    }
    const probes =
      this.backend === 'blktap2'
        ? ['td_get_req', 'td_issue', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_stats']
        : this.backend === 'blktap3'
          ? ['td_ring_event', 'td_get_req', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_notify', 'td_stats']
          : ['qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify', 'qd_stats'];
    return {
      lines: this.lines,
      requests: this.requests,
      offsets: this.offsets,
      clocks: this.clocks,
      runs: this.runMarks,
      domains: this.domains,
      guests: this.guests.map((g) => ({ domain: g.dom, domid: g.domid, tapMinor: this.backend === 'blktap2' ? g.tapMinor : null, userDomain: g.userDom })),
      userspace: this.guests.flatMap((g) => (g.userDom === null ? [] : [{ dom: g.userDom, pid: g.userTask.pid, comm: g.userTask.comm, probes }])),
    };
  }

  // ---- time and emission -------------------------------------------------------------------

  private clock(dom: string): Clock {
    const c = this.clocks[dom];
    if (c === undefined) throw new Error(`simulator bug: no clock for domain ${dom}`);
    return c;
  }

  /** Reference time of an event emitted at `t` in `dom` (what its file prints, mapped back). */
  private stamp(dom: string, t: number): number {
    const c = this.clock(dom);
    return c.ref(c.local(t));
  }

  private lat(stage: StageName, warm = false): number {
    const ns = drawLatency(this.rng, ASSUMPTIONS[stage], warm);
    const f = this.cfg.scale?.[stage];
    return f === undefined ? ns : Math.max(1000, Math.round(ns * f));
  }

  /** Start delay of a job that waited for its worker (ns). */
  private busyGap(): number {
    return this.rng.int(1000, 3000);
  }

  private nlat(stage: StageName): number {
    return drawLatency(this.nrng, ASSUMPTIONS[stage], false);
  }

  private push(dom: string, fields: Partial<Line>): Line {
    const c = this.clock(dom);
    const local = c.local(this.sim.now);
    const l: Line = { dom, local, ref: c.ref(local), seq: this.seq++, noise: false, block: false, dropped: false, ...fields };
    this.lines.push(l);
    return l;
  }

  /** An ftrace line in `dom` at the current time. */
  private ft(dom: string, task: Task, flags: string, body: string, extra: Partial<Line> = {}): Line {
    return this.push(dom, { task, flags, body, ...extra });
  }

  /** A kernel `xt` probe line: `<caller>: xt <point> k=v ...`. */
  private xt(dom: string, task: Task, flags: string, point: string, kv: Record<string, number | string>, noise = false): Line {
    const caller = PROBE_CALLER[point] ?? NOISE_CALLER[point] ?? 'xt_probe';
    const args = Object.entries(kv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const domid = typeof kv.domid === 'number' ? kv.domid : undefined;
    const vdev = typeof kv.vdev === 'number' ? kv.vdev : undefined;
    const ring = typeof kv.ring === 'number' ? kv.ring : undefined;
    return this.ft(dom, task, flags, `${caller}: xt ${point} ${args}`, { probe: point, key: idlessKey(domid, vdev, ring), noise });
  }

  /** A userspace xtbuf record at the current time. */
  private rec(g: Guest, r: Omit<XtbufRecord, 'ts'>, noise = false): Line {
    if (g.userDom === null) throw new Error('simulator bug: no userspace buffer');
    return this.push(g.userDom, { rec: r, probe: r.probe, key: idlessKey(r.domid, r.vdev, r.ring), noise });
  }

  /** Schedules a noise ftrace line (nothing without noise). */
  private noiseAt(t: number, dom: string, task: Task, flags: string, body: string): void {
    if (!this.cfg.noise) return;
    this.sim.at(Math.max(t, this.sim.now), () => this.ft(dom, task, flags, body, { noise: true }));
  }

  /** Keys of a guest (blkfront) probe line: `domid=` first when the option asks for it. */
  private feKv(g: Guest): Record<string, number | string> {
    return this.cfg.guestDomid === true ? { domid: g.domid, vdev: VDEV, ring: RING } : { vdev: VDEV, ring: RING };
  }

  private guestKv(g: Guest, r: SimRequest): Record<string, number | string> {
    return { ...this.feKv(g), id: r.id };
  }

  private beKv(g: Guest, r: SimRequest): Record<string, number | string> {
    return { domid: g.domid, vdev: VDEV, ring: RING, id: r.id };
  }

  private userKv(g: Guest, r: SimRequest): Omit<XtbufRecord, 'ts' | 'probe'> {
    return this.backend === 'blktap2' ? { id: r.idx } : { domid: g.domid, vdev: VDEV, ring: RING, id: r.id };
  }

  private userRingKv(g: Guest): Omit<XtbufRecord, 'ts' | 'probe'> {
    return { domid: g.domid, vdev: VDEV, ring: RING };
  }

  private point(r: SimRequest, name: string, l: Line): Line {
    if (r.points.has(name)) throw new Error(`simulator bug: point ${name} set twice`);
    r.points.set(name, l);
    return l;
  }

  /** Real batching: marks points absent by design. */
  private batch(r: SimRequest, ...names: string[]): void {
    for (const n of names) {
      if (r.points.has(n) || r.batched.includes(n)) throw new Error(`simulator bug: point ${n} both batched and present`);
      r.batched.push(n);
    }
  }

  // ---- runs and fio threads -----------------------------------------------------------------

  private *runsProc(first: number): Proc {
    let t = first;
    const { runs, requests, depth } = this.cfg;
    const gapMs = this.cfg.runGapMs ?? DEFAULT_RUN_GAP_MS;
    const jitter = Math.min(10 * MS, Math.floor((gapMs * MS) / 20));
    const [g0] = this.guests;
    for (let run = 1; run <= runs; run++) {
      yield t;
      const begin = this.ft(g0!.dom, this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'begin')}`);
      for (const g of this.guests.slice(1)) this.ft(g.dom, this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'begin')}`);
      for (const g of this.guests) g.runIndex = 0;
      this.active = true;
      const done = new Signal(this.sim);
      let remaining = 0;
      for (const g of this.guests) {
        let threadStart = begin.ref + this.rng.int(50_000, 150_000);
        for (let k = 0; k < depth; k++) {
          const n = Math.floor(requests / depth) + (k < requests % depth ? 1 : 0);
          if (n === 0) continue;
          remaining++;
          this.sim.spawn(this.fioThread(g, k, run, n, threadStart), () => {
            if (--remaining === 0) done.fire();
          });
          threadStart += this.rng.int(5_000, 20_000);
        }
      }
      yield done;
      yield Math.max(this.sim.now, this.lastExit) + this.rng.int(50_000, 150_000);
      const end = this.ft(g0!.dom, this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'end')}`);
      for (const g of this.guests.slice(1)) this.ft(g.dom, this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'end')}`);
      this.runMarks.push({ begin: begin.ref, end: end.ref });
      this.active = false;
      t = end.ref + this.rng.int(gapMs * MS - jitter, gapMs * MS + jitter);
    }
    this.finishedAt = this.sim.now;
  }

  private *fioThread(g: Guest, k: number, run: number, n: number, start: number): Proc {
    const task = g.fio[k]!;
    const base = 2048 + k * 2_097_152; // each thread reads its own 1 GiB file (the same in every guest)
    const buf = 0x55bad34a3000 + k * 0x21000;
    yield start;
    for (let i = 0; i < n; i++) {
      const req: SimRequest = {
        run,
        guest: g.k,
        index: g.runIndex++,
        pid: task.pid,
        id: -1,
        idx: -1,
        sector: base + NSEC * i,
        warm: false,
        points: new Map(),
        batched: [],
        skipped: [],
        pushT: -1,
        rspT: -1,
        done: new Signal(this.sim),
      };
      req.warm = req.index < WARMUP_REQUESTS;
      this.requests.push(req);
      g.inflight++;
      const pos = hexArg(i * 4096);
      const se = this.point(req, 'syscall_enter', this.ft(g.dom, task, '.....', `sys_pread64(fd: 6, buf: 0x${buf.toString(16)}, count: 0x1000, pos: ${pos})`, { block: true }));
      yield se.ref + this.lat('syscall_enter->bio_queue');
      const bq = this.point(req, 'bio_queue', this.ft(g.dom, task, '.....', `block_bio_queue: ${DEV} R ${req.sector} + ${NSEC} [fio]`, { block: true }));
      yield bq.ref + this.lat('bio_queue->rq_insert');
      this.point(req, 'rq_insert', this.ft(g.dom, task, '...1.', `block_rq_insert: ${DEV} R 4096 () ${req.sector} + ${NSEC} be,0,4 [fio]`, { block: true }));
      if (this.real) this.sim.spawn(this.realDispatch(g, req, task));
      else this.insert(g, req, task);
      yield req.done;
      // woken by the softirq that completed the request (at rq_complete)
      const rc = req.points.get('rq_complete')!;
      const exitT = rc.ref + this.lat('rq_complete->syscall_exit');
      this.noiseAt(
        rc.ref + Math.floor((exitT - rc.ref) / 2),
        g.dom,
        this.gIdle[task.cpu]!,
        'd..2.',
        `sched_switch: prev_comm=swapper/${task.cpu} prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=fio next_pid=${task.pid} next_prio=120`,
      );
      yield exitT;
      const sx = this.point(req, 'syscall_exit', this.ft(g.dom, task, '.....', 'sys_pread64 -> 0x1000', { block: true }));
      this.lastExit = Math.max(this.lastExit, sx.ref);
      g.inflight--;
      if (i + 1 < n) yield sx.ref + this.lat('syscall_exit->syscall_enter');
    }
  }

  private blockNoise(g: Guest, task: Task): void {
    this.noiseAt(
      this.sim.now + this.nrng.int(1000, 3000),
      g.dom,
      task,
      'd..2.',
      `sched_switch: prev_comm=fio prev_pid=${task.pid} prev_prio=120 prev_state=D ==> next_comm=swapper/${task.cpu} next_pid=0 next_prio=120`,
    );
  }

  // ---- guest dispatcher, serial mode (blk-mq → blkfront) -----------------------------------

  private insert(g: Guest, req: SimRequest, task: Task): void {
    g.dispList.push(req);
    if (!g.dispatchScheduled && g.gateOpen) {
      g.dispatchScheduled = true;
      this.sim.spawn(this.dispatch(g, task, this.sim.now + this.lat('rq_insert->rq_issue'), task));
    } else {
      this.blockNoise(g, task);
    }
  }

  private openGate(g: Guest, t: number): void {
    this.sim.at(t, () => {
      g.gateOpen = true;
      if (g.dispList.length > 0 && !g.dispatchScheduled) {
        g.dispatchScheduled = true;
        this.sim.spawn(this.dispatch(g, this.kworker, this.sim.now + this.lat('rq_insert->rq_issue'), null));
      }
    });
  }

  private *dispatch(g: Guest, ctx: Task, t0: number, owner: Task | null): Proc {
    yield t0;
    const batch = g.dispList.splice(0);
    g.gateOpen = false;
    let prev: Line | null = null;
    for (const r of batch) {
      let t = prev === null ? this.sim.now : prev.ref + this.lat('fe_queue->rq_issue');
      t = Math.max(t, r.points.get('rq_insert')!.ref + 1000);
      yield t;
      const issue = this.point(r, 'rq_issue', this.ft(g.dom, ctx, '.....', `block_rq_issue: ${DEV} R 4096 () ${r.sector} + ${NSEC} be,0,4 [${ctx.comm}]`, { block: true }));
      yield issue.ref + this.lat('rq_issue->fe_queue');
      const id = g.freeIds.pop();
      if (id === undefined) throw new Error('simulator bug: blkfront ring has no free id');
      r.id = id;
      prev = this.point(r, 'fe_queue', this.xt(g.dom, ctx, '.....', 'fe_queue', { ...this.guestKv(g, r), op: 'R', sector: r.sector, nsec: NSEC }));
    }
    if (prev === null) throw new Error('simulator bug: empty dispatch');
    yield prev.ref + this.lat('fe_queue->fe_notify');
    const n = this.xt(g.dom, ctx, '.....', 'fe_notify', this.feKv(g));
    for (const r of batch) this.point(r, 'fe_notify', n);
    g.dispatchScheduled = false;
    if (owner !== null) this.blockNoise(g, owner);
    if (hasDom0(this.backend)) this.beNotify(g, batch, n);
    else g.user.submit('ring', () => this.userRing(g, batch, n));
  }

  // ---- guest dispatcher, real mode: blkif_queue_rq per request ------------------------------

  /** blk-mq issues the request in the fio task, then blkif_queue_rq runs under the ring lock. */
  private *realDispatch(g: Guest, r: SimRequest, task: Task): Proc {
    yield this.sim.now + this.lat('rq_insert->rq_issue');
    const issue = this.point(r, 'rq_issue', this.ft(g.dom, task, '.....', `block_rq_issue: ${DEV} R 4096 () ${r.sector} + ${NSEC} be,0,4 [${task.comm}]`, { block: true }));
    g.ringLock.submit('queue', () => this.queueReal(g, r, task, issue));
  }

  private *queueReal(g: Guest, r: SimRequest, task: Task, issue: Line): Proc {
    yield Math.max(issue.ref + this.lat('rq_issue->fe_queue'), this.sim.now + 1000);
    const id = g.freeIds.pop();
    if (id === undefined) throw new Error('simulator bug: blkfront ring has no free id');
    r.id = id;
    const fq = this.point(r, 'fe_queue', this.xt(g.dom, task, '.....', 'fe_queue', { ...this.guestKv(g, r), op: 'R', sector: r.sector, nsec: NSEC }));
    // RING_PUSH_REQUESTS_AND_CHECK_NOTIFY
    yield fq.ref + this.lat('fe_queue->fe_notify');
    r.pushT = this.sim.now;
    g.ring.push(r);
    const wake = this.backend === 'blktap3' ? 'td_ring_event' : this.backend === 'qdisk' ? 'qd_event' : 'be_irq';
    if (g.beAwake) {
      this.batch(r, 'fe_notify', wake);
    } else {
      g.beAwake = true;
      const n = this.point(r, 'fe_notify', this.xt(g.dom, task, '.....', 'fe_notify', this.feKv(g)));
      if (hasDom0(this.backend)) this.beNotifyReal(g, r, n);
      else g.user.submit('ring', () => this.userLoop(g, r, n));
    }
    this.blockNoise(g, task);
  }

  // ---- guest interrupt and completion, serial mode -------------------------------------------

  /**
   * Waits until a response notify emitted now in `dom` can be attached to a guest interrupt
   * consistently with the rule "first fe_irq at or after": ≥ 3 µs before a pending interrupt,
   * or after the last one fired.
   */
  private *irqWindow(g: Guest, dom: string): Proc {
    for (;;) {
      const e = this.stamp(dom, this.sim.now);
      const p = g.pendingIrq;
      if (p !== null) {
        if (e <= p.f - 3000) return;
        yield p.f + 1001;
        continue;
      }
      if (e <= g.lastIrqF) {
        yield g.lastIrqF + 1001;
        continue;
      }
      return;
    }
  }

  /** Attaches responses notified now to the pending interrupt, or raises one. Returns notify. */
  private deliver(g: Guest, reqs: SimRequest[], stage: StageName): boolean {
    if (g.pendingIrq !== null) {
      g.pendingIrq.reqs.push(...reqs);
      return false;
    }
    const ft = Math.max(this.sim.now + this.lat(stage), g.handlerEndT + 2000);
    const p: PendingIrq = { ft, f: this.stamp(g.dom, ft), reqs: [...reqs] };
    g.pendingIrq = p;
    this.sim.at(ft, () => this.fireIrq(g, p));
    return true;
  }

  private fireIrq(g: Guest, p: PendingIrq): void {
    g.pendingIrq = null;
    const idle = this.gIdle[0]!;
    this.ft(g.dom, idle, 'd.h1.', 'irq_handler_entry: irq=45 name=blkif');
    const fi = this.xt(g.dom, idle, 'd.h1.', 'fe_irq', this.feKv(g));
    if (fi.ref !== p.f) throw new Error('simulator bug: fe_irq time differs from its plan');
    g.lastIrqF = fi.ref;
    for (const r of p.reqs) this.point(r, 'fe_irq', fi);
    const plan: number[] = [];
    let prev = fi.ref;
    for (let i = 0; i < p.reqs.length; i++) {
      const t = prev + this.lat('fe_irq->fe_rsp');
      plan.push(t);
      prev = this.stamp(g.dom, t);
    }
    g.handlerEndT = plan[plan.length - 1]! + 1000;
    this.sim.spawn(this.irqHandler(g, p.reqs, plan));
  }

  private *irqHandler(g: Guest, reqs: SimRequest[], plan: number[]): Proc {
    const idle = this.gIdle[0]!;
    let last: Line | null = null;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      yield plan[i]!;
      last = this.point(r, 'fe_rsp', this.xt(g.dom, idle, 'd.h1.', 'fe_rsp', { ...this.guestKv(g, r), status: 0 }));
      g.freeIds.push(r.id);
    }
    yield last!.ref + 1000;
    this.ft(g.dom, idle, 'd.h1.', 'irq_handler_exit: irq=45 ret=handled');
    g.softirq.submit('softirq', () => this.completeJob(g, reqs));
  }

  private *completeJob(g: Guest, reqs: SimRequest[]): Proc {
    const idle = this.gIdle[0]!;
    for (const r of reqs) {
      yield Math.max(r.points.get('fe_rsp')!.ref + this.lat('fe_rsp->fe_end'), this.sim.now + this.busyGap());
      const fe = this.point(r, 'fe_end', this.xt(g.dom, idle, '..s1.', 'fe_end', this.guestKv(g, r)));
      yield fe.ref + this.lat('fe_end->rq_complete');
      this.point(r, 'rq_complete', this.ft(g.dom, idle, '..s1.', `block_rq_complete: ${DEV} R () ${r.sector} + ${NSEC} be,0,4 [0]`, { block: true }));
      g.sectorsDone += NSEC;
      const cpu = g.fio.find((t) => t.pid === r.pid)!.cpu;
      if (this.cfg.noise) this.ft(g.dom, idle, '..s2.', `sched_wakeup: comm=fio pid=${r.pid} prio=120 target_cpu=${String(cpu).padStart(3, '0')}`, { noise: true });
      r.done.fire();
    }
  }

  // ---- guest interrupt, real mode --------------------------------------------------------------

  /**
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY for responses pushed now: raises an interrupt when the
   * guest's handler is idle (its final check is done); else the pending or running handler
   * delivers them and their `absent` points (fe_irq, and td_notify / qd_notify) are batched.
   */
  private pushRsp(g: Guest, reqs: SimRequest[], stage: StageName, absent: string[]): boolean {
    for (const r of reqs) {
      r.rspT = this.sim.now;
      g.rspQueue.push(r);
    }
    if (g.irq !== 'idle') {
      for (const r of reqs) this.batch(r, ...absent);
      return false;
    }
    g.irq = 'pending';
    const ft = Math.max(this.sim.now + this.lat(stage), g.handlerEndT + 2000);
    this.sim.at(ft, () => this.fireIrqReal(g, reqs));
    return true;
  }

  private fireIrqReal(g: Guest, notifiers: SimRequest[]): void {
    if (g.irq !== 'pending' || g.rspQueue[0] !== notifiers[0]) throw new Error('simulator bug: interrupt state');
    g.irq = 'running';
    const idle = this.gIdle[0]!;
    this.ft(g.dom, idle, 'd.h1.', 'irq_handler_entry: irq=45 name=blkif');
    const fi = this.xt(g.dom, idle, 'd.h1.', 'fe_irq', this.feKv(g));
    for (const r of notifiers) this.point(r, 'fe_irq', fi);
    this.sim.spawn(this.irqHandlerReal(g, fi));
  }

  /** blkif_interrupt: delivers responses until RING_FINAL_CHECK_FOR_RESPONSES finds none. */
  private *irqHandlerReal(g: Guest, fi: Line): Proc {
    const idle = this.gIdle[0]!;
    const delivered: SimRequest[] = [];
    let prev = fi.ref;
    for (;;) {
      yield prev + this.lat('fe_irq->fe_rsp');
      const r = g.rspQueue.shift();
      if (r === undefined) break;
      if (r.rspT + CROSS_NS > this.sim.now) yield r.rspT + CROSS_NS;
      const l = this.point(r, 'fe_rsp', this.xt(g.dom, idle, 'd.h1.', 'fe_rsp', { ...this.guestKv(g, r), status: 0 }));
      g.freeIds.push(r.id);
      delivered.push(r);
      prev = l.ref;
    }
    g.irq = 'idle';
    g.handlerEndT = this.sim.now;
    this.ft(g.dom, idle, 'd.h1.', 'irq_handler_exit: irq=45 ret=handled');
    if (delivered.length === 0) throw new Error('simulator bug: an interrupt delivered nothing');
    g.softirq.submit('softirq', () => this.completeJob(g, delivered));
  }

  // ---- blkback (blkback and blktap2) ---------------------------------------------------------

  private beNotify(g: Guest, batch: SimRequest[], n: Line): void {
    this.sim.at(n.ref + this.lat('fe_notify->be_irq'), () => {
      const irq = this.xt('dom0', this.dIdle, 'd.h1.', 'be_irq', { domid: g.domid, vdev: VDEV, ring: RING });
      for (const r of batch) this.point(r, 'be_irq', irq);
      g.bbThread.submit('intake', () => this.beIntake(g, batch, irq));
    });
  }

  private *beIntake(g: Guest, batch: SimRequest[], irq: Line): Proc {
    yield Math.max(irq.ref + this.lat('be_irq->be_get_req'), this.sim.now + this.busyGap());
    let prev: Line | null = null;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      if (prev !== null) yield prev.ref + this.lat(this.backend === 'blktap2' ? 'tap_submit->be_get_req' : 'be_submit->be_get_req');
      const gr = this.beGetReq(g, r);
      if (i === batch.length - 1) this.openGate(g, gr.ref + GATE_GAP_NS);
      prev = yield* this.beDispatch(g, r, gr);
    }
  }

  private beGetReq(g: Guest, r: SimRequest): Line {
    return this.point(r, 'be_get_req', this.xt('dom0', g.bbTask, '.....', 'be_get_req', { ...this.beKv(g, r), op: 'R', sector: r.sector, nsec: NSEC }));
  }

  /** be_map, be_submit (and tap_queue, tap_submit) of a request taken off the ring; returns its last line. */
  private *beDispatch(g: Guest, r: SimRequest, gr: Line): Generator<number | Signal, Line, unknown> {
    const t = g.bbTask;
    yield gr.ref + this.lat('be_get_req->be_map', r.warm);
    const map = this.point(r, 'be_map', this.xt('dom0', t, '.....', 'be_map', { ...this.beKv(g, r), nseg: 1, new: r.warm ? 1 : 0, persistent: r.warm ? 0 : 1 }));
    yield map.ref + this.lat('be_map->be_submit');
    const sub = this.point(r, 'be_submit', this.xt('dom0', t, '.....', 'be_submit', { ...this.beKv(g, r), nbio: 1 }));
    if (this.backend === 'blkback') {
      this.sim.at(sub.ref + this.lat('be_submit->be_bio_done'), () => {
        const bd = this.point(r, 'be_bio_done', this.xt('dom0', this.dIdle, 'd.h1.', 'be_bio_done', { ...this.beKv(g, r), status: 0 }));
        g.bbThread.submit('rsp', () => this.beRespond(g, r, bd));
      });
      return sub;
    }
    yield sub.ref + this.lat('be_submit->tap_queue');
    const tq = this.point(r, 'tap_queue', this.xt('dom0', t, '.....', 'tap_queue', { minor: g.tapMinor, op: 'R', sector: r.sector, nsec: NSEC }));
    yield tq.ref + this.lat('tap_queue->tap_submit');
    let idx = g.tapSlots.indexOf(false);
    if (idx < 0) idx = g.tapSlots.length;
    g.tapSlots[idx] = true;
    r.idx = idx;
    const ts = this.point(r, 'tap_submit', this.xt('dom0', t, '.....', 'tap_submit', { minor: g.tapMinor, idx, op: 'R', sector: r.sector, nsec: NSEC }));
    g.user.submit('ring', () => this.tap2Ring(g, r, ts));
    return ts;
  }

  private *beRespond(g: Guest, r: SimRequest, bd: Line): Proc {
    yield Math.max(bd.ref + this.lat('be_bio_done->be_rsp'), this.sim.now + this.busyGap());
    let notify: boolean;
    if (this.real) {
      notify = this.pushRsp(g, [r], 'be_rsp->fe_irq', ['fe_irq']);
    } else {
      yield* this.irqWindow(g, 'dom0');
      notify = this.deliver(g, [r], 'be_rsp->fe_irq');
    }
    this.point(r, 'be_rsp', this.xt('dom0', g.bbTask, '.....', 'be_rsp', { ...this.beKv(g, r), status: 0, notify: notify ? 1 : 0 }, false)).notify = notify;
  }

  // ---- blkback, real mode: woken by a notify, consumes the ring until its final check ---------

  private beNotifyReal(g: Guest, r: SimRequest, n: Line): void {
    this.sim.at(n.ref + this.lat('fe_notify->be_irq'), () => {
      const irq = this.point(r, 'be_irq', this.xt('dom0', this.dIdle, 'd.h1.', 'be_irq', { domid: g.domid, vdev: VDEV, ring: RING }));
      g.bbThread.submit('intake', () => this.beLoop(g, irq));
    });
  }

  private *beLoop(g: Guest, irq: Line): Proc {
    let t = Math.max(irq.ref + this.lat('be_irq->be_get_req'), this.sim.now + this.busyGap());
    for (;;) {
      yield t;
      const r = g.ring.shift();
      if (r === undefined) break; // RING_FINAL_CHECK_FOR_REQUESTS found it empty: asleep
      if (r.pushT + CROSS_NS > this.sim.now) yield r.pushT + CROSS_NS;
      const last = yield* this.beDispatch(g, r, this.beGetReq(g, r));
      t = last.ref + this.lat(this.backend === 'blktap2' ? 'tap_submit->be_get_req' : 'be_submit->be_get_req');
    }
    g.beAwake = false;
  }

  // ---- tapdisk below blktap2 -----------------------------------------------------------------

  private *tap2Ring(g: Guest, r: SimRequest, ts: Line): Proc {
    yield Math.max(ts.ref + this.lat('tap_submit->td_get_req'), this.sim.now + this.busyGap());
    const gr = this.point(r, 'td_get_req', this.rec(g, { probe: 'td_get_req', ...this.userKv(g, r), op: 'R', sector: r.sector, nsec: NSEC }));
    yield gr.ref + this.lat('td_get_req->td_issue');
    const is = this.point(r, 'td_issue', this.rec(g, { probe: 'td_issue', ...this.userKv(g, r) }));
    yield is.ref + this.lat('td_issue->td_aio_submit', r.warm);
    const a = this.point(r, 'td_aio_submit', this.rec(g, { probe: 'td_aio_submit', ...this.userKv(g, r) }));
    this.sim.at(a.ref + this.lat('td_aio_submit->td_aio_done'), () => g.user.submit('done', () => this.tap2Done(g, r)));
  }

  private *tap2Done(g: Guest, r: SimRequest): Proc {
    const d = this.point(r, 'td_aio_done', this.rec(g, { probe: 'td_aio_done', ...this.userKv(g, r) }));
    yield d.ref + this.lat('td_aio_done->td_rsp');
    const rs = this.point(r, 'td_rsp', this.rec(g, { probe: 'td_rsp', ...this.userKv(g, r), status: 0 }));
    // ioctl into the blktap driver: the kernel side runs in the tapdisk task
    yield rs.ref + this.lat('td_rsp->tap_end');
    const kt: Task = { ...g.userTask, comm: 'tapdisk' };
    const te = this.point(r, 'tap_end', this.xt('dom0', kt, '.....', 'tap_end', { minor: g.tapMinor, idx: r.idx, status: 0 }));
    g.tapSlots[r.idx] = false;
    yield te.ref + this.lat('tap_end->be_bio_done');
    const bd = this.point(r, 'be_bio_done', this.xt('dom0', kt, '.....', 'be_bio_done', { ...this.beKv(g, r), status: 0 }));
    g.bbThread.submit('rsp', () => this.beRespond(g, r, bd));
    yield bd.ref + this.rng.int(1000, 3000); // back from the ioctl
  }

  // ---- tapdisk3 (blktap3) and qemu qdisk: userspace serves the guest ring ------------------

  private *userRing(g: Guest, batch: SimRequest[], n: Line): Proc {
    const qd = this.backend === 'qdisk';
    yield Math.max(n.ref + this.lat(qd ? 'fe_notify->qd_event' : 'fe_notify->td_ring_event'), this.sim.now + this.busyGap());
    const ev = this.rec(g, { probe: qd ? 'qd_event' : 'td_ring_event', ...this.userRingKv(g) });
    for (const r of batch) this.point(r, qd ? 'qd_event' : 'td_ring_event', ev);
    let prev: Line = ev;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      yield prev.ref + this.lat(i === 0 ? (qd ? 'qd_event->qd_get_req' : 'td_ring_event->td_get_req') : qd ? 'qd_aio_submit->qd_get_req' : 'td_aio_submit->td_get_req');
      const gr = this.userGetReq(g, r);
      if (i === batch.length - 1) this.openGate(g, gr.ref + GATE_GAP_NS);
      prev = yield* this.userSubmit(g, r, gr);
    }
  }

  private userGetReq(g: Guest, r: SimRequest): Line {
    const p = this.backend === 'qdisk' ? 'qd_get_req' : 'td_get_req';
    return this.point(r, p, this.rec(g, { probe: p, ...this.userKv(g, r), op: 'R', sector: r.sector, nsec: NSEC }));
  }

  /** From get_req to the aio submission (which schedules the completion); returns the submit. */
  private *userSubmit(g: Guest, r: SimRequest, gr: Line): Generator<number | Signal, Line, unknown> {
    const qd = this.backend === 'qdisk';
    let a: Line;
    if (qd) {
      yield gr.ref + this.lat('qd_get_req->qd_map', r.warm);
      const m = this.point(r, 'qd_map', this.rec(g, { probe: 'qd_map', ...this.userKv(g, r) }));
      yield m.ref + this.lat('qd_map->qd_aio_submit');
      a = this.point(r, 'qd_aio_submit', this.rec(g, { probe: 'qd_aio_submit', ...this.userKv(g, r) }));
    } else {
      yield gr.ref + this.lat('td_get_req->td_aio_submit', r.warm);
      a = this.point(r, 'td_aio_submit', this.rec(g, { probe: 'td_aio_submit', ...this.userKv(g, r) }));
    }
    this.sim.at(a.ref + this.lat(qd ? 'qd_aio_submit->qd_aio_done' : 'td_aio_submit->td_aio_done'), () => g.user.submit('done', () => this.userDone(g, r)));
    return a;
  }

  /** Real mode: the event channel fired; consume the ring until the final check finds it empty. */
  private *userLoop(g: Guest, notifier: SimRequest, n: Line): Proc {
    const qd = this.backend === 'qdisk';
    yield Math.max(n.ref + this.lat(qd ? 'fe_notify->qd_event' : 'fe_notify->td_ring_event'), this.sim.now + this.busyGap());
    const ev = this.point(notifier, qd ? 'qd_event' : 'td_ring_event', this.rec(g, { probe: qd ? 'qd_event' : 'td_ring_event', ...this.userRingKv(g) }));
    let t = ev.ref + this.lat(qd ? 'qd_event->qd_get_req' : 'td_ring_event->td_get_req');
    for (;;) {
      yield t;
      const r = g.ring.shift();
      if (r === undefined) break;
      if (r.pushT + CROSS_NS > this.sim.now) yield r.pushT + CROSS_NS;
      const a = yield* this.userSubmit(g, r, this.userGetReq(g, r));
      t = a.ref + this.lat(qd ? 'qd_aio_submit->qd_get_req' : 'td_aio_submit->td_get_req');
    }
    g.beAwake = false;
  }

  private *userDone(g: Guest, r: SimRequest): Proc {
    const qd = this.backend === 'qdisk';
    const p = qd ? 'qd' : 'td';
    const d = this.point(r, `${p}_aio_done`, this.rec(g, { probe: `${p}_aio_done`, ...this.userKv(g, r) }));
    yield d.ref + this.lat(qd ? 'qd_aio_done->qd_rsp' : 'td_aio_done->td_rsp');
    const rs = this.point(r, `${p}_rsp`, this.rec(g, { probe: `${p}_rsp`, ...this.userKv(g, r), status: 0 }));
    g.pendingNotify.push(r);
    // Another completion is already waiting: push its response too, then notify once.
    if (g.user.nextKind() === 'done') return;
    yield rs.ref + this.lat(qd ? 'qd_rsp->qd_notify' : 'td_rsp->td_notify');
    let reqs: SimRequest[];
    if (this.real) {
      reqs = g.pendingNotify;
      g.pendingNotify = [];
      // RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: td_notify / qd_notify only when it notifies
      if (!this.pushRsp(g, reqs, qd ? 'qd_notify->fe_irq' : 'td_notify->fe_irq', [`${p}_notify`, 'fe_irq'])) return;
    } else {
      yield* this.irqWindow(g, g.userDom!);
      reqs = g.pendingNotify;
      g.pendingNotify = [];
      this.deliver(g, reqs, qd ? 'qd_notify->fe_irq' : 'td_notify->fe_irq');
    }
    const nt = this.rec(g, { probe: `${p}_notify`, ...this.userRingKv(g) });
    for (const q of reqs) this.point(q, `${p}_notify`, nt);
  }

  // ---- noise ----------------------------------------------------------------------------------

  private finished(): boolean {
    return this.finishedAt !== null && this.sim.now > this.finishedAt + 2 * MS;
  }

  /**
   * Next noise time: frequent while a run is active, sparse between runs. Run gaps longer than
   * the default carry no more idle noise than the default gap does (the idle mean is stretched
   * by gap / default), so a 30 s trace stays a few MB.
   */
  private noiseGap(activeMeanUs: number, idleMeanUs: number): number {
    return this.sim.now + 1000 + Math.round(this.nrng.exp((this.active ? activeMeanUs : idleMeanUs * this.idleStretch) * 1000));
  }

  /** Another guest's requests through dom0 (same vdev and ring, other domid, no guest side). */
  private *noiseGuest(g: NoiseGuest, start: number): Proc {
    yield start;
    const idle: Task = { comm: '<idle>', pid: 0, cpu: g.irqCpu };
    while (!this.finished()) {
      yield this.noiseGap(700, 15_000);
      const kv = { domid: g.domid, vdev: VDEV, ring: RING };
      const irq = this.xt('dom0', idle, 'd.h1.', 'be_irq', kv, true);
      const sector = 8 * this.nrng.int(0, 4_000_000);
      const ids = { ...kv, id: 0 };
      yield irq.ref + this.nlat('be_irq->be_get_req');
      const gr = this.xt('dom0', g.thread, '.....', 'be_get_req', { ...ids, op: 'R', sector, nsec: NSEC }, true);
      yield gr.ref + this.nlat('be_get_req->be_map');
      const m = this.xt('dom0', g.thread, '.....', 'be_map', { ...ids, nseg: 1, new: 0, persistent: 1 }, true);
      yield m.ref + this.nlat('be_map->be_submit');
      const s = this.xt('dom0', g.thread, '.....', 'be_submit', { ...ids, nbio: 1 }, true);
      let bd: Line;
      if (this.backend === 'blktap2') {
        yield s.ref + this.nlat('be_submit->tap_queue');
        const tq = this.xt('dom0', g.thread, '.....', 'tap_queue', { minor: g.minor, op: 'R', sector, nsec: NSEC }, true);
        yield tq.ref + this.nlat('tap_queue->tap_submit');
        const ts = this.xt('dom0', g.thread, '.....', 'tap_submit', { minor: g.minor, idx: 0, op: 'R', sector, nsec: NSEC }, true);
        yield ts.ref + this.nlat('td_aio_submit->td_aio_done') + this.nrng.int(20_000, 60_000);
        const te = this.xt('dom0', g.tapdisk, '.....', 'tap_end', { minor: g.minor, idx: 0, status: 0 }, true);
        yield te.ref + this.nlat('tap_end->be_bio_done');
        bd = this.xt('dom0', g.tapdisk, '.....', 'be_bio_done', { ...ids, status: 0 }, true);
      } else {
        yield s.ref + this.nlat('be_submit->be_bio_done');
        bd = this.xt('dom0', idle, 'd.h1.', 'be_bio_done', { ...ids, status: 0 }, true);
      }
      yield bd.ref + this.nlat('be_bio_done->be_rsp');
      this.xt('dom0', g.thread, '.....', 'be_rsp', { ...ids, status: 0, notify: 1 }, true);
    }
  }

  /** Unrelated lines in every file: scheduler events, other printk lines, stats probes. */
  private noiseLines(start: number): void {
    const sim = this.sim;
    const self = this;
    function* rcu(dom: string, cpu: number, from: number): Proc {
      yield from;
      const idle: Task = { comm: '<idle>', pid: 0, cpu };
      const rcuTask: Task = { comm: 'rcu_preempt', pid: 15, cpu };
      const c3 = String(cpu).padStart(3, '0');
      while (!self.finished()) {
        yield self.noiseGap(2_500, 8_000);
        self.ft(dom, idle, 'dNh2.', `sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=${c3}`, { noise: true });
        yield sim.now + self.nrng.int(3_000, 15_000);
        self.ft(dom, idle, 'd..2.', `sched_switch: prev_comm=swapper/${cpu} prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120`, { noise: true });
        yield sim.now + self.nrng.int(5_000, 20_000);
        self.ft(dom, rcuTask, 'd..2.', `sched_switch: prev_comm=rcu_preempt prev_pid=15 prev_prio=120 prev_state=I ==> next_comm=swapper/${cpu} next_pid=0 next_prio=120`, { noise: true });
      }
    }
    function* guestPrintk(g: Guest, from: number): Proc {
      yield from;
      const kw: Task = { comm: 'kworker/0:2', pid: 61, cpu: 0 };
      self.ft(g.dom, kw, '.....', 'blkfront_gather_backend_features: xtrace probes on: feature-persistent=1 max-indirect-segments=32', { noise: true });
      while (!self.finished()) {
        yield self.noiseGap(4_000, 20_000);
        self.xt(g.dom, kw, '.....', 'fe_stats', { ...self.feKv(g), inflight: g.inflight }, true);
      }
    }
    function* dom0Printk(g: Guest, from: number): Proc {
      yield from;
      for (let i = 0; !self.finished(); i++) {
        yield self.noiseGap(3_000, 20_000);
        if (i % 2 === 0) self.ft('dom0', g.bbTask, '.....', `xen_blkif_schedule: blkback.${g.domid} tick`, { noise: true });
        else self.ft('dom0', g.bbTask, '.....', `xen_blkif_schedule: xt be_stats domid=${g.domid} vdev=${VDEV} ring=${RING} rd_req=${g.sectorsDone / NSEC} oo_req=0`, { noise: true, probe: 'be_stats', key: idlessKey(g.domid, VDEV, RING) });
      }
    }
    function* userStats(g: Guest, from: number): Proc {
      yield from;
      const probe = self.backend === 'qdisk' ? 'qd_stats' : 'td_stats';
      while (!self.finished()) {
        yield self.noiseGap(2_000, 50_000);
        const ring = self.backend === 'blktap2' ? {} : self.userRingKv(g);
        self.rec(g, { probe, ...ring, sector: g.sectorsDone, nsec: g.inflight }, true);
      }
    }
    const [g0, ...others] = this.guests;
    sim.spawn(rcu(g0!.dom, 0, start + this.nrng.int(0, MS)));
    sim.spawn(rcu(g0!.dom, 1, start + this.nrng.int(0, MS)));
    sim.spawn(guestPrintk(g0!, start + this.nrng.int(0, MS)));
    if (hasDom0(this.backend)) {
      sim.spawn(rcu('dom0', 0, start + this.nrng.int(0, MS)));
      sim.spawn(dom0Printk(g0!, start + this.nrng.int(0, MS)));
    }
    if (this.userKind !== null) sim.spawn(userStats(g0!, start + this.nrng.int(0, MS)));
    for (const g of others) {
      sim.spawn(rcu(g.dom, 0, start + this.nrng.int(0, MS)));
      sim.spawn(rcu(g.dom, 1, start + this.nrng.int(0, MS)));
      sim.spawn(guestPrintk(g, start + this.nrng.int(0, MS)));
      if (hasDom0(this.backend)) sim.spawn(dom0Printk(g, start + this.nrng.int(0, MS)));
      if (this.userKind !== null) sim.spawn(userStats(g, start + this.nrng.int(0, MS)));
    }
  }
}
