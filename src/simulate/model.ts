/**
 * The event model of the simulator: a discrete-event simulation of fio threads in a Xen guest
 * reading through blkfront and one of four back ends. It produces every line/record of every
 * file (with its local and reference time) and, per request of our guest, the event that is each
 * point of its path. simulate.ts turns that into files and truth.json.
 *
 * Components and what they serialise (each is what makes the spec's id-less rule hold):
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
 *  - the blkback thread of our guest, tapdisk and qemu: single-threaded, jobs in order.
 */
import type { XtbufRecord } from '../../parsers/xtbuf/write.js';
import { ASSUMPTIONS, WARMUP_REQUESTS, type Backend, type Domain, type StageName, PROBE_CALLER } from './assumptions.js';
import { Signal, Sim, SerialExecutor, type Proc } from './des.js';
import { hexArg } from './ftrace.js';
import { runMarkerText } from '../profiles/index.js';
import { Rng, drawLatency } from './rng.js';

export const GUEST_DOMID = 5;
export const VDEV = 51712; // xvda = 202 << 8
export const RING = 0;
const DEV = '202,0';
const NSEC = 8;
const RING_IDS = 32;
/** Gap between the back end's last take of a batch and the earliest next dispatch. */
const GATE_GAP_NS = 2000;
const MS = 1_000_000;
/** Callers of the `xt` probes that are not path points (noise). */
const NOISE_CALLER: Readonly<Record<string, string>> = { fe_stats: 'blkif_queue_rq' };

export interface Task {
  comm: string;
  pid: number;
  cpu: number;
}

export interface Line {
  dom: Domain;
  /** Local time in the file's clock (ns; whole µs for ftrace files). */
  local: number;
  /** Reference time = local + offset(dom). */
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
}

export interface SimRequest {
  run: number;
  /** Index within its run, in start order. */
  index: number;
  pid: number;
  id: number;
  /** blktap2: the tap ring index. */
  idx: number;
  sector: number;
  warm: boolean;
  /** The modelled event of each path point. */
  points: Map<string, Line>;
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
}

export interface ModelOutput {
  lines: Line[];
  requests: SimRequest[];
  offsets: Partial<Record<Domain, number>>;
  /** Reference times of the run markers. */
  runs: { begin: number; end: number }[];
  userspace: { dom: 'tapdisk' | 'qemu'; pid: number; comm: string; probes: string[] } | null;
}

/** Which domains write ftrace text (µs timestamps). */
export function isFtrace(dom: Domain): boolean {
  return dom === 'domU' || dom === 'dom0';
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

export function simulateModel(cfg: ModelConfig): ModelOutput {
  return new World(cfg).run();
}

class World {
  private readonly sim = new Sim();
  /** Main stream: everything about our guest's requests. */
  private readonly rng: Rng;
  /** Noise stream: other guests and unrelated lines (so noise never changes our requests). */
  private readonly nrng: Rng;
  private readonly lines: Line[] = [];
  private readonly requests: SimRequest[] = [];
  private readonly offsets: Partial<Record<Domain, number>> = {};
  private readonly runMarks: { begin: number; end: number }[] = [];
  private seq = 0;
  private readonly backend: Backend;
  private readonly userDom: 'tapdisk' | 'qemu' | null;

  // guest
  private readonly fio: Task[] = [];
  private readonly gIdle: Task[] = [
    { comm: '<idle>', pid: 0, cpu: 0 },
    { comm: '<idle>', pid: 0, cpu: 1 },
  ];
  private readonly kworker: Task = { comm: 'kworker/1:1H', pid: 87, cpu: 1 };
  private readonly bash: Task = { comm: 'bash', pid: 1000, cpu: 0 };
  private readonly freeIds: number[] = [];
  private readonly dispList: SimRequest[] = [];
  private gateOpen = true;
  private dispatchScheduled = false;
  private pendingIrq: PendingIrq | null = null;
  private lastIrqF = -Infinity;
  private handlerEndT = -Infinity;
  private readonly softirq: SerialExecutor<'softirq'>;

  // dom0
  private readonly dIdle: Task = { comm: '<idle>', pid: 0, cpu: 0 };
  private readonly bbTask: Task = { comm: `blkback.${GUEST_DOMID}.xvda`, pid: 1830, cpu: 1 };
  private readonly bbThread: SerialExecutor<BackJob>;
  private readonly tapMinor = 1;
  private readonly tapSlots: boolean[] = [];

  // userspace
  private readonly userTask: Task;
  private readonly user: SerialExecutor<UserJob>;
  private pendingNotify: SimRequest[] = [];

  // runs
  private runIndex = 0;
  private active = false;
  private finishedAt: number | null = null;
  private lastExit = 0;
  private inflight = 0;
  private sectorsDone = 0;

  constructor(private readonly cfg: ModelConfig) {
    this.backend = cfg.backend;
    this.rng = new Rng(cfg.seed, 0);
    this.nrng = new Rng(cfg.seed, 1);
    const orng = new Rng(cfg.seed, 2);
    this.userDom = cfg.backend === 'blktap2' || cfg.backend === 'blktap3' ? 'tapdisk' : cfg.backend === 'qdisk' ? 'qemu' : null;
    this.userTask = this.userDom === 'qemu' ? { comm: 'qemu-system-i38', pid: 2711, cpu: 1 } : { comm: 'tapdisk', pid: 2345, cpu: 1 };

    // Clock offsets (t_ref = t_local + offset): never whole µs.
    const notWholeUs = (v: number): number => (v % 1000 === 0 ? v + 137 : v);
    this.offsets.domU = 0;
    if (this.hasDom0()) this.offsets.dom0 = notWholeUs(-52_000 * 1e9 + orng.int(-500_000_000, 500_000_000));
    if (this.userDom !== null) this.offsets[this.userDom] = notWholeUs(1000 * 1e9 - 7_300 * 1e9 + orng.int(-500_000_000, 500_000_000));
    this.sim.now = 1000 * 1e9 + orng.int(0, 500_000_000);

    for (let k = 0; k < cfg.depth; k++) this.fio.push({ comm: 'fio', pid: 1234 + k, cpu: k % 2 });
    for (let i = RING_IDS - 1; i >= 0; i--) this.freeIds.push(i);
    this.softirq = new SerialExecutor(this.sim);
    this.bbThread = new SerialExecutor(this.sim);
    this.user = new SerialExecutor(this.sim);
  }

  private hasDom0(): boolean {
    return this.backend === 'blkback' || this.backend === 'blktap2';
  }

  run(): ModelOutput {
    const start = this.sim.now;
    this.sim.spawn(this.runsProc(start + 2 * MS));
    if (this.cfg.noise) {
      this.noiseLines(start);
      if (this.hasDom0()) {
        const guests: NoiseGuest[] = [
          { domid: 7, thread: { comm: 'blkback.7.xvda', pid: 1911, cpu: 0 }, minor: 2, tapdisk: { comm: 'tapdisk', pid: 2390, cpu: 0 }, irqCpu: 0 },
          { domid: 9, thread: { comm: 'blkback.9.xvda', pid: 1977, cpu: 1 }, minor: 3, tapdisk: { comm: 'tapdisk', pid: 2412, cpu: 1 }, irqCpu: 1 },
        ];
        for (const g of guests) this.sim.spawn(this.noiseGuest(g, start + this.nrng.int(0, MS)));
      }
    }
    this.sim.run();
    if (this.pendingIrq !== null || this.dispList.length > 0) throw new Error('simulator bug: work left when the simulation ended');
    return {
      lines: this.lines,
      requests: this.requests,
      offsets: this.offsets,
      runs: this.runMarks,
      userspace:
        this.userDom === null
          ? null
          : {
              dom: this.userDom,
              pid: this.userTask.pid,
              comm: this.userTask.comm,
              probes:
                this.backend === 'blktap2'
                  ? ['td_get_req', 'td_issue', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_stats']
                  : this.backend === 'blktap3'
                    ? ['td_ring_event', 'td_get_req', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_notify', 'td_stats']
                    : ['qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify', 'qd_stats'],
            },
    };
  }

  // ---- time and emission -------------------------------------------------------------------

  private off(dom: Domain): number {
    const o = this.offsets[dom];
    if (o === undefined) throw new Error(`simulator bug: no clock for domain ${dom}`);
    return o;
  }

  /** Reference time of an event emitted at `t` in `dom` (ftrace: local time truncated to µs). */
  private stamp(dom: Domain, t: number): number {
    const o = this.off(dom);
    const local = t - o;
    return (isFtrace(dom) ? Math.floor(local / 1000) * 1000 : local) + o;
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

  private push(dom: Domain, fields: Partial<Line>): Line {
    const ref = this.stamp(dom, this.sim.now);
    const l: Line = { dom, local: ref - this.off(dom), ref, seq: this.seq++, noise: false, block: false, dropped: false, ...fields };
    this.lines.push(l);
    return l;
  }

  /** An ftrace line in `dom` at the current time. */
  private ft(dom: 'domU' | 'dom0', task: Task, flags: string, body: string, extra: Partial<Line> = {}): Line {
    return this.push(dom, { task, flags, body, ...extra });
  }

  /** A kernel `xt` probe line: `<caller>: xt <point> k=v ...`. */
  private xt(dom: 'domU' | 'dom0', task: Task, flags: string, point: string, kv: Record<string, number | string>, noise = false): Line {
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
  private rec(r: Omit<XtbufRecord, 'ts'>, noise = false): Line {
    if (this.userDom === null) throw new Error('simulator bug: no userspace buffer');
    return this.push(this.userDom, { rec: r, probe: r.probe, key: idlessKey(r.domid, r.vdev, r.ring), noise });
  }

  /** Schedules a noise ftrace line (nothing without noise). */
  private noiseAt(t: number, dom: 'domU' | 'dom0', task: Task, flags: string, body: string): void {
    if (!this.cfg.noise) return;
    this.sim.at(Math.max(t, this.sim.now), () => this.ft(dom, task, flags, body, { noise: true }));
  }

  private guestKv(r: SimRequest): Record<string, number | string> {
    return { vdev: VDEV, ring: RING, id: r.id };
  }

  private beKv(r: SimRequest): Record<string, number | string> {
    return { domid: GUEST_DOMID, vdev: VDEV, ring: RING, id: r.id };
  }

  private userKv(r: SimRequest): Omit<XtbufRecord, 'ts' | 'probe'> {
    return this.backend === 'blktap2' ? { id: r.idx } : { domid: GUEST_DOMID, vdev: VDEV, ring: RING, id: r.id };
  }

  private userRingKv(): Omit<XtbufRecord, 'ts' | 'probe'> {
    return { domid: GUEST_DOMID, vdev: VDEV, ring: RING };
  }

  private point(r: SimRequest, name: string, l: Line): Line {
    if (r.points.has(name)) throw new Error(`simulator bug: point ${name} set twice`);
    r.points.set(name, l);
    return l;
  }

  // ---- runs and fio threads -----------------------------------------------------------------

  private *runsProc(first: number): Proc {
    let t = first;
    const { runs, requests, depth } = this.cfg;
    for (let run = 1; run <= runs; run++) {
      yield t;
      const begin = this.ft('domU', this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'begin')}`);
      this.runIndex = 0;
      this.active = true;
      const done = new Signal(this.sim);
      let remaining = 0;
      let threadStart = begin.ref + this.rng.int(50_000, 150_000);
      for (let k = 0; k < depth; k++) {
        const n = Math.floor(requests / depth) + (k < requests % depth ? 1 : 0);
        if (n === 0) continue;
        remaining++;
        this.sim.spawn(this.fioThread(k, run, n, threadStart), () => {
          if (--remaining === 0) done.fire();
        });
        threadStart += this.rng.int(5_000, 20_000);
      }
      yield done;
      yield Math.max(this.sim.now, this.lastExit) + this.rng.int(50_000, 150_000);
      const end = this.ft('domU', this.bash, '...1.', `tracing_mark_write: ${runMarkerText(run, 'end')}`);
      this.runMarks.push({ begin: begin.ref, end: end.ref });
      this.active = false;
      t = end.ref + this.rng.int(190 * MS, 210 * MS);
    }
    this.finishedAt = this.sim.now;
  }

  private *fioThread(k: number, run: number, n: number, start: number): Proc {
    const task = this.fio[k]!;
    const base = 2048 + k * 2_097_152; // each thread reads its own 1 GiB file
    const buf = 0x55bad34a3000 + k * 0x21000;
    yield start;
    for (let i = 0; i < n; i++) {
      const req: SimRequest = {
        run,
        index: this.runIndex++,
        pid: task.pid,
        id: -1,
        idx: -1,
        sector: base + NSEC * i,
        warm: false,
        points: new Map(),
        done: new Signal(this.sim),
      };
      req.warm = req.index < WARMUP_REQUESTS;
      this.requests.push(req);
      this.inflight++;
      const pos = hexArg(i * 4096);
      const se = this.point(req, 'syscall_enter', this.ft('domU', task, '.....', `sys_pread64(fd: 6, buf: 0x${buf.toString(16)}, count: 0x1000, pos: ${pos})`, { block: true }));
      yield se.ref + this.lat('syscall_enter->bio_queue');
      const bq = this.point(req, 'bio_queue', this.ft('domU', task, '.....', `block_bio_queue: ${DEV} R ${req.sector} + ${NSEC} [fio]`, { block: true }));
      yield bq.ref + this.lat('bio_queue->rq_insert');
      this.point(req, 'rq_insert', this.ft('domU', task, '...1.', `block_rq_insert: ${DEV} R 4096 () ${req.sector} + ${NSEC} be,0,4 [fio]`, { block: true }));
      this.insert(req, task);
      yield req.done;
      // woken by the softirq that completed the request (at rq_complete)
      const rc = req.points.get('rq_complete')!;
      const exitT = rc.ref + this.lat('rq_complete->syscall_exit');
      this.noiseAt(
        rc.ref + Math.floor((exitT - rc.ref) / 2),
        'domU',
        this.gIdle[task.cpu]!,
        'd..2.',
        `sched_switch: prev_comm=swapper/${task.cpu} prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=fio next_pid=${task.pid} next_prio=120`,
      );
      yield exitT;
      const sx = this.point(req, 'syscall_exit', this.ft('domU', task, '.....', 'sys_pread64 -> 0x1000', { block: true }));
      this.lastExit = Math.max(this.lastExit, sx.ref);
      this.inflight--;
      if (i + 1 < n) yield sx.ref + this.lat('syscall_exit->syscall_enter');
    }
  }

  private blockNoise(task: Task): void {
    this.noiseAt(
      this.sim.now + this.nrng.int(1000, 3000),
      'domU',
      task,
      'd..2.',
      `sched_switch: prev_comm=fio prev_pid=${task.pid} prev_prio=120 prev_state=D ==> next_comm=swapper/${task.cpu} next_pid=0 next_prio=120`,
    );
  }

  // ---- guest dispatcher (blk-mq → blkfront) ------------------------------------------------

  private insert(req: SimRequest, task: Task): void {
    this.dispList.push(req);
    if (!this.dispatchScheduled && this.gateOpen) {
      this.dispatchScheduled = true;
      this.sim.spawn(this.dispatch(task, this.sim.now + this.lat('rq_insert->rq_issue'), task));
    } else {
      this.blockNoise(task);
    }
  }

  private openGate(t: number): void {
    this.sim.at(t, () => {
      this.gateOpen = true;
      if (this.dispList.length > 0 && !this.dispatchScheduled) {
        this.dispatchScheduled = true;
        this.sim.spawn(this.dispatch(this.kworker, this.sim.now + this.lat('rq_insert->rq_issue'), null));
      }
    });
  }

  private *dispatch(ctx: Task, t0: number, owner: Task | null): Proc {
    yield t0;
    const batch = this.dispList.splice(0);
    this.gateOpen = false;
    let prev: Line | null = null;
    for (const r of batch) {
      let t = prev === null ? this.sim.now : prev.ref + this.lat('fe_queue->rq_issue');
      t = Math.max(t, r.points.get('rq_insert')!.ref + 1000);
      yield t;
      const issue = this.point(r, 'rq_issue', this.ft('domU', ctx, '.....', `block_rq_issue: ${DEV} R 4096 () ${r.sector} + ${NSEC} be,0,4 [${ctx.comm}]`, { block: true }));
      yield issue.ref + this.lat('rq_issue->fe_queue');
      const id = this.freeIds.pop();
      if (id === undefined) throw new Error('simulator bug: blkfront ring has no free id');
      r.id = id;
      prev = this.point(r, 'fe_queue', this.xt('domU', ctx, '.....', 'fe_queue', { ...this.guestKv(r), op: 'R', sector: r.sector, nsec: NSEC }));
    }
    if (prev === null) throw new Error('simulator bug: empty dispatch');
    yield prev.ref + this.lat('fe_queue->fe_notify');
    const n = this.xt('domU', ctx, '.....', 'fe_notify', { vdev: VDEV, ring: RING });
    for (const r of batch) this.point(r, 'fe_notify', n);
    this.dispatchScheduled = false;
    if (owner !== null) this.blockNoise(owner);
    if (this.hasDom0()) this.beNotify(batch, n);
    else this.user.submit('ring', () => this.userRing(batch, n));
  }

  // ---- guest interrupt and completion -------------------------------------------------------

  /**
   * Waits until a response notify emitted now in `dom` can be attached to a guest interrupt
   * consistently with the rule "first fe_irq at or after": ≥ 3 µs before a pending interrupt,
   * or after the last one fired.
   */
  private *irqWindow(dom: Domain): Proc {
    for (;;) {
      const e = this.stamp(dom, this.sim.now);
      const p = this.pendingIrq;
      if (p !== null) {
        if (e <= p.f - 3000) return;
        yield p.f + 1001;
        continue;
      }
      if (e <= this.lastIrqF) {
        yield this.lastIrqF + 1001;
        continue;
      }
      return;
    }
  }

  /** Attaches responses notified now to the pending interrupt, or raises one. Returns notify. */
  private deliver(reqs: SimRequest[], stage: StageName): boolean {
    if (this.pendingIrq !== null) {
      this.pendingIrq.reqs.push(...reqs);
      return false;
    }
    const ft = Math.max(this.sim.now + this.lat(stage), this.handlerEndT + 2000);
    const p: PendingIrq = { ft, f: this.stamp('domU', ft), reqs: [...reqs] };
    this.pendingIrq = p;
    this.sim.at(ft, () => this.fireIrq(p));
    return true;
  }

  private fireIrq(p: PendingIrq): void {
    this.pendingIrq = null;
    const idle = this.gIdle[0]!;
    this.ft('domU', idle, 'd.h1.', 'irq_handler_entry: irq=45 name=blkif');
    const fi = this.xt('domU', idle, 'd.h1.', 'fe_irq', { vdev: VDEV, ring: RING });
    if (fi.ref !== p.f) throw new Error('simulator bug: fe_irq time differs from its plan');
    this.lastIrqF = fi.ref;
    for (const r of p.reqs) this.point(r, 'fe_irq', fi);
    const plan: number[] = [];
    let prev = fi.ref;
    for (let i = 0; i < p.reqs.length; i++) {
      const t = prev + this.lat('fe_irq->fe_rsp');
      plan.push(t);
      prev = this.stamp('domU', t);
    }
    this.handlerEndT = plan[plan.length - 1]! + 1000;
    this.sim.spawn(this.irqHandler(p.reqs, plan));
  }

  private *irqHandler(reqs: SimRequest[], plan: number[]): Proc {
    const idle = this.gIdle[0]!;
    let last: Line | null = null;
    for (let i = 0; i < reqs.length; i++) {
      const r = reqs[i]!;
      yield plan[i]!;
      last = this.point(r, 'fe_rsp', this.xt('domU', idle, 'd.h1.', 'fe_rsp', { ...this.guestKv(r), status: 0 }));
      this.freeIds.push(r.id);
    }
    yield last!.ref + 1000;
    this.ft('domU', idle, 'd.h1.', 'irq_handler_exit: irq=45 ret=handled');
    this.softirq.submit('softirq', () => this.completeJob(reqs));
  }

  private *completeJob(reqs: SimRequest[]): Proc {
    const idle = this.gIdle[0]!;
    for (const r of reqs) {
      yield Math.max(r.points.get('fe_rsp')!.ref + this.lat('fe_rsp->fe_end'), this.sim.now + this.busyGap());
      const fe = this.point(r, 'fe_end', this.xt('domU', idle, '..s1.', 'fe_end', this.guestKv(r)));
      yield fe.ref + this.lat('fe_end->rq_complete');
      this.point(r, 'rq_complete', this.ft('domU', idle, '..s1.', `block_rq_complete: ${DEV} R () ${r.sector} + ${NSEC} be,0,4 [0]`, { block: true }));
      this.sectorsDone += NSEC;
      const cpu = this.fio.find((t) => t.pid === r.pid)!.cpu;
      if (this.cfg.noise) this.ft('domU', idle, '..s2.', `sched_wakeup: comm=fio pid=${r.pid} prio=120 target_cpu=${String(cpu).padStart(3, '0')}`, { noise: true });
      r.done.fire();
    }
  }

  // ---- blkback (blkback and blktap2) ---------------------------------------------------------

  private beNotify(batch: SimRequest[], n: Line): void {
    this.sim.at(n.ref + this.lat('fe_notify->be_irq'), () => {
      const irq = this.xt('dom0', this.dIdle, 'd.h1.', 'be_irq', { domid: GUEST_DOMID, vdev: VDEV, ring: RING });
      for (const r of batch) this.point(r, 'be_irq', irq);
      this.bbThread.submit('intake', () => this.beIntake(batch, irq));
    });
  }

  private *beIntake(batch: SimRequest[], irq: Line): Proc {
    yield Math.max(irq.ref + this.lat('be_irq->be_get_req'), this.sim.now + this.busyGap());
    const t = this.bbTask;
    let prev: Line | null = null;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      if (prev !== null) yield prev.ref + this.lat(this.backend === 'blktap2' ? 'tap_submit->be_get_req' : 'be_submit->be_get_req');
      const gr = this.point(r, 'be_get_req', this.xt('dom0', t, '.....', 'be_get_req', { ...this.beKv(r), op: 'R', sector: r.sector, nsec: NSEC }));
      if (i === batch.length - 1) this.openGate(gr.ref + GATE_GAP_NS);
      yield gr.ref + this.lat('be_get_req->be_map', r.warm);
      const map = this.point(r, 'be_map', this.xt('dom0', t, '.....', 'be_map', { ...this.beKv(r), nseg: 1, new: r.warm ? 1 : 0, persistent: r.warm ? 0 : 1 }));
      yield map.ref + this.lat('be_map->be_submit');
      const sub = this.point(r, 'be_submit', this.xt('dom0', t, '.....', 'be_submit', { ...this.beKv(r), nbio: 1 }));
      if (this.backend === 'blkback') {
        this.sim.at(sub.ref + this.lat('be_submit->be_bio_done'), () => {
          const bd = this.point(r, 'be_bio_done', this.xt('dom0', this.dIdle, 'd.h1.', 'be_bio_done', { ...this.beKv(r), status: 0 }));
          this.bbThread.submit('rsp', () => this.beRespond(r, bd));
        });
        prev = sub;
      } else {
        yield sub.ref + this.lat('be_submit->tap_queue');
        const tq = this.point(r, 'tap_queue', this.xt('dom0', t, '.....', 'tap_queue', { minor: this.tapMinor, op: 'R', sector: r.sector, nsec: NSEC }));
        yield tq.ref + this.lat('tap_queue->tap_submit');
        let idx = this.tapSlots.indexOf(false);
        if (idx < 0) idx = this.tapSlots.length;
        this.tapSlots[idx] = true;
        r.idx = idx;
        const ts = this.point(r, 'tap_submit', this.xt('dom0', t, '.....', 'tap_submit', { minor: this.tapMinor, idx, op: 'R', sector: r.sector, nsec: NSEC }));
        this.user.submit('ring', () => this.tap2Ring(r, ts));
        prev = ts;
      }
    }
  }

  private *beRespond(r: SimRequest, bd: Line): Proc {
    yield Math.max(bd.ref + this.lat('be_bio_done->be_rsp'), this.sim.now + this.busyGap());
    yield* this.irqWindow('dom0');
    const notify = this.deliver([r], 'be_rsp->fe_irq');
    this.point(r, 'be_rsp', this.xt('dom0', this.bbTask, '.....', 'be_rsp', { ...this.beKv(r), status: 0, notify: notify ? 1 : 0 }));
  }

  // ---- tapdisk below blktap2 -----------------------------------------------------------------

  private *tap2Ring(r: SimRequest, ts: Line): Proc {
    yield Math.max(ts.ref + this.lat('tap_submit->td_get_req'), this.sim.now + this.busyGap());
    const g = this.point(r, 'td_get_req', this.rec({ probe: 'td_get_req', ...this.userKv(r), op: 'R', sector: r.sector, nsec: NSEC }));
    yield g.ref + this.lat('td_get_req->td_issue');
    const is = this.point(r, 'td_issue', this.rec({ probe: 'td_issue', ...this.userKv(r) }));
    yield is.ref + this.lat('td_issue->td_aio_submit', r.warm);
    const a = this.point(r, 'td_aio_submit', this.rec({ probe: 'td_aio_submit', ...this.userKv(r) }));
    this.sim.at(a.ref + this.lat('td_aio_submit->td_aio_done'), () => this.user.submit('done', () => this.tap2Done(r)));
  }

  private *tap2Done(r: SimRequest): Proc {
    const d = this.point(r, 'td_aio_done', this.rec({ probe: 'td_aio_done', ...this.userKv(r) }));
    yield d.ref + this.lat('td_aio_done->td_rsp');
    const rs = this.point(r, 'td_rsp', this.rec({ probe: 'td_rsp', ...this.userKv(r), status: 0 }));
    // ioctl into the blktap driver: the kernel side runs in the tapdisk task
    yield rs.ref + this.lat('td_rsp->tap_end');
    const kt: Task = { ...this.userTask, comm: 'tapdisk' };
    const te = this.point(r, 'tap_end', this.xt('dom0', kt, '.....', 'tap_end', { minor: this.tapMinor, idx: r.idx, status: 0 }));
    this.tapSlots[r.idx] = false;
    yield te.ref + this.lat('tap_end->be_bio_done');
    const bd = this.point(r, 'be_bio_done', this.xt('dom0', kt, '.....', 'be_bio_done', { ...this.beKv(r), status: 0 }));
    this.bbThread.submit('rsp', () => this.beRespond(r, bd));
    yield bd.ref + this.rng.int(1000, 3000); // back from the ioctl
  }

  // ---- tapdisk3 (blktap3) and qemu qdisk: userspace serves the guest ring ------------------

  private *userRing(batch: SimRequest[], n: Line): Proc {
    const qd = this.backend === 'qdisk';
    yield Math.max(n.ref + this.lat(qd ? 'fe_notify->qd_event' : 'fe_notify->td_ring_event'), this.sim.now + this.busyGap());
    const ev = this.rec({ probe: qd ? 'qd_event' : 'td_ring_event', ...this.userRingKv() });
    for (const r of batch) this.point(r, qd ? 'qd_event' : 'td_ring_event', ev);
    let prev: Line = ev;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      yield prev.ref + this.lat(i === 0 ? (qd ? 'qd_event->qd_get_req' : 'td_ring_event->td_get_req') : qd ? 'qd_aio_submit->qd_get_req' : 'td_aio_submit->td_get_req');
      const g = this.point(r, qd ? 'qd_get_req' : 'td_get_req', this.rec({ probe: qd ? 'qd_get_req' : 'td_get_req', ...this.userKv(r), op: 'R', sector: r.sector, nsec: NSEC }));
      if (i === batch.length - 1) this.openGate(g.ref + GATE_GAP_NS);
      let a: Line;
      if (qd) {
        yield g.ref + this.lat('qd_get_req->qd_map', r.warm);
        const m = this.point(r, 'qd_map', this.rec({ probe: 'qd_map', ...this.userKv(r) }));
        yield m.ref + this.lat('qd_map->qd_aio_submit');
        a = this.point(r, 'qd_aio_submit', this.rec({ probe: 'qd_aio_submit', ...this.userKv(r) }));
      } else {
        yield g.ref + this.lat('td_get_req->td_aio_submit', r.warm);
        a = this.point(r, 'td_aio_submit', this.rec({ probe: 'td_aio_submit', ...this.userKv(r) }));
      }
      this.sim.at(a.ref + this.lat(qd ? 'qd_aio_submit->qd_aio_done' : 'td_aio_submit->td_aio_done'), () => this.user.submit('done', () => this.userDone(r)));
      prev = a;
    }
  }

  private *userDone(r: SimRequest): Proc {
    const qd = this.backend === 'qdisk';
    const p = qd ? 'qd' : 'td';
    const d = this.point(r, `${p}_aio_done`, this.rec({ probe: `${p}_aio_done`, ...this.userKv(r) }));
    yield d.ref + this.lat(qd ? 'qd_aio_done->qd_rsp' : 'td_aio_done->td_rsp');
    const rs = this.point(r, `${p}_rsp`, this.rec({ probe: `${p}_rsp`, ...this.userKv(r), status: 0 }));
    this.pendingNotify.push(r);
    // Another completion is already waiting: push its response too, then notify once.
    if (this.user.nextKind() === 'done') return;
    yield rs.ref + this.lat(qd ? 'qd_rsp->qd_notify' : 'td_rsp->td_notify');
    yield* this.irqWindow(this.userDom!);
    const reqs = this.pendingNotify;
    this.pendingNotify = [];
    this.deliver(reqs, qd ? 'qd_notify->fe_irq' : 'td_notify->fe_irq');
    const nt = this.rec({ probe: `${p}_notify`, ...this.userRingKv() });
    for (const q of reqs) this.point(q, `${p}_notify`, nt);
  }

  // ---- noise ----------------------------------------------------------------------------------

  private finished(): boolean {
    return this.finishedAt !== null && this.sim.now > this.finishedAt + 2 * MS;
  }

  /** Next noise time: frequent while a run is active, sparse between runs. */
  private noiseGap(activeMeanUs: number, idleMeanUs: number): number {
    return this.sim.now + 1000 + Math.round(this.nrng.exp((this.active ? activeMeanUs : idleMeanUs) * 1000));
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
    function* rcu(dom: 'domU' | 'dom0', cpu: number, from: number): Proc {
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
    function* guestPrintk(from: number): Proc {
      yield from;
      const kw: Task = { comm: 'kworker/0:2', pid: 61, cpu: 0 };
      self.ft('domU', kw, '.....', 'blkfront_gather_backend_features: xtrace probes on: feature-persistent=1 max-indirect-segments=32', { noise: true });
      while (!self.finished()) {
        yield self.noiseGap(4_000, 20_000);
        self.xt('domU', kw, '.....', 'fe_stats', { vdev: VDEV, ring: RING, inflight: self.inflight }, true);
      }
    }
    function* dom0Printk(from: number): Proc {
      yield from;
      for (let i = 0; !self.finished(); i++) {
        yield self.noiseGap(3_000, 20_000);
        if (i % 2 === 0) self.ft('dom0', self.bbTask, '.....', `xen_blkif_schedule: blkback.${GUEST_DOMID} tick`, { noise: true });
        else self.ft('dom0', self.bbTask, '.....', `xen_blkif_schedule: xt be_stats domid=${GUEST_DOMID} vdev=${VDEV} ring=${RING} rd_req=${self.sectorsDone / NSEC} oo_req=0`, { noise: true, probe: 'be_stats', key: idlessKey(GUEST_DOMID, VDEV, RING) });
      }
    }
    function* userStats(from: number): Proc {
      yield from;
      const probe = self.backend === 'qdisk' ? 'qd_stats' : 'td_stats';
      while (!self.finished()) {
        yield self.noiseGap(2_000, 50_000);
        const ring = self.backend === 'blktap2' ? {} : self.userRingKv();
        self.rec({ probe, ...ring, sector: self.sectorsDone, nsec: self.inflight }, true);
      }
    }
    sim.spawn(rcu('domU', 0, start + this.nrng.int(0, MS)));
    sim.spawn(rcu('domU', 1, start + this.nrng.int(0, MS)));
    sim.spawn(guestPrintk(start + this.nrng.int(0, MS)));
    if (this.hasDom0()) {
      sim.spawn(rcu('dom0', 0, start + this.nrng.int(0, MS)));
      sim.spawn(dom0Printk(start + this.nrng.int(0, MS)));
    }
    if (this.userDom !== null) sim.spawn(userStats(start + this.nrng.int(0, MS)));
  }
}
