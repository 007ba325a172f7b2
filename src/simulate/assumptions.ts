/**
 * The simulator's documented assumptions: the four request paths of src/profiles/builtin/xen-probes.md
 * and the per-stage latency table. Everything here is copied verbatim into truth.json
 * ("path", "assumptions", "latency_model"), so a test of the correlation engine can compare the
 * per-stage breakdown it computes with what the simulator drew.
 */

export type Backend = 'blkback' | 'blktap2' | 'blktap3' | 'qdisk';
export const BACKENDS: readonly Backend[] = ['blkback', 'blktap2', 'blktap3', 'qdisk'];

/** Points of the guest's own block layer that extend every path when `guestBlock` is on. */
export const GUEST_BLOCK_HEAD = ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue'] as const;
export const GUEST_BLOCK_TAIL = ['rq_complete', 'syscall_exit'] as const;

/** The request paths (profile point order) of xen-probes.md, without the guest block layer. */
export const XEN_PATHS: Readonly<Record<Backend, readonly string[]>> = {
  blkback: ['fe_queue', 'fe_notify', 'be_irq', 'be_get_req', 'be_map', 'be_submit', 'be_bio_done', 'be_rsp', 'fe_irq', 'fe_rsp', 'fe_end'],
  blktap2: [
    'fe_queue', 'fe_notify', 'be_irq', 'be_get_req', 'be_map', 'be_submit', 'tap_queue', 'tap_submit',
    'td_get_req', 'td_issue', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'tap_end', 'be_bio_done', 'be_rsp',
    'fe_irq', 'fe_rsp', 'fe_end',
  ],
  blktap3: ['fe_queue', 'fe_notify', 'td_ring_event', 'td_get_req', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_notify', 'fe_irq', 'fe_rsp', 'fe_end'],
  qdisk: ['fe_queue', 'fe_notify', 'qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify', 'fe_irq', 'fe_rsp', 'fe_end'],
};

/** The full path of a request as listed in truth.json. */
export function pathFor(backend: Backend, guestBlock: boolean): string[] {
  const xen = XEN_PATHS[backend];
  return guestBlock ? [...GUEST_BLOCK_HEAD, ...xen, ...GUEST_BLOCK_TAIL] : [...xen];
}

/** Points that carry no request id: they join a request by the spec's "first at or after" rule. */
export const IDLESS_POINTS: ReadonlySet<string> = new Set(['fe_notify', 'be_irq', 'fe_irq', 'td_ring_event', 'td_notify', 'qd_event', 'qd_notify']);

/** Clock domain names (as given to `xtrace ingest --domain`). */
export type Domain = 'domU' | 'dom0' | 'tapdisk' | 'qemu';

/** The clock domain a path point is recorded in. */
export function pointDomain(point: string): Domain {
  if (point.startsWith('be_') || point.startsWith('tap_')) return 'dom0';
  if (point.startsWith('td_')) return 'tapdisk';
  if (point.startsWith('qd_')) return 'qemu';
  return 'domU';
}

/**
 * How a path point appears in the database after ingestion: `name` is the event name
 * (the trace_printk caller, the tracepoint, the normalised syscall, or the xtbuf probe) and `xt`
 * says whether args start with `xt <point> `.
 */
export function pointEvent(point: string): { name: string; xt: boolean } {
  const fixed: Record<string, string> = {
    syscall_enter: 'sys_enter_pread64',
    bio_queue: 'block_bio_queue',
    rq_insert: 'block_rq_insert',
    rq_issue: 'block_rq_issue',
    rq_complete: 'block_rq_complete',
    syscall_exit: 'sys_exit_pread64',
  };
  const f = fixed[point];
  if (f !== undefined) return { name: f, xt: false };
  const caller = PROBE_CALLER[point];
  if (caller !== undefined) return { name: caller, xt: true };
  return { name: point, xt: false };
}

/** The kernel function that calls trace_printk for each kernel probe (the spec's "where" column). */
export const PROBE_CALLER: Readonly<Record<string, string>> = {
  fe_queue: 'blkif_queue_rw_req',
  fe_notify: 'flush_requests',
  fe_irq: 'blkif_interrupt',
  fe_rsp: 'blkif_interrupt',
  fe_end: 'blkif_complete_rq',
  be_irq: 'xen_blkif_be_int',
  be_get_req: '__do_block_io_op',
  be_map: 'xen_blkbk_map',
  be_submit: 'dispatch_rw_block_io',
  be_bio_done: '__end_block_io_op',
  be_rsp: 'make_response',
  tap_queue: 'blktap_device_do_request',
  tap_submit: 'blktap_ring_submit_request',
  tap_end: 'blktap_device_end_request',
};

export interface StageAssumption {
  /** Range the latency is drawn from (µs), before outliers and warm-up. */
  min_us: number;
  max_us: number;
  /** Extra latency (µs, drawn uniformly in [a, b]) for the first WARMUP_REQUESTS requests of every run. */
  warmup_extra_us?: readonly [number, number];
  /** The two points are in different clock domains. */
  cross_domain?: boolean;
  /** When the observed stage can differ from the drawn latency (queueing, batching). */
  note?: string;
  /** Back ends whose traces have this stage (all when absent). */
  backends?: readonly Backend[];
  /** Only with the guest block layer (guestBlock). */
  guestBlock?: boolean;
}

const DISK_NOTE = 'device service time; requests are served in parallel';

/**
 * Per-stage latency assumptions (µs). A latency is drawn per request and stage from a lognormal
 * clipped to [min, max] (median at a quarter of the range), and with probability
 * OUTLIER_FRACTION replaced by an outlier of 2–5 × max. Cross-domain steps are ≥ 3 µs.
 * Keys are "<from>-><to>"; a few are transitions of a shared component rather than of one
 * request (marked in `note`).
 */
export const ASSUMPTIONS = {
  // guest block layer (stock tracepoints and the pread64 syscall)
  'syscall_enter->bio_queue': { min_us: 2, max_us: 6, guestBlock: true },
  'bio_queue->rq_insert': { min_us: 1, max_us: 4, guestBlock: true },
  'rq_insert->rq_issue': {
    min_us: 1,
    max_us: 4,
    guestBlock: true,
    note: 'plus queueing: a new batch is dispatched only after the back end has taken the previous one off the ring (the id-less rule of the spec needs it, see simulate.ts); a dispatch that waited runs in kworker/1:1H',
  },
  'rq_issue->fe_queue': { min_us: 2, max_us: 5, guestBlock: true },
  'fe_queue->rq_issue': { min_us: 1, max_us: 2, guestBlock: true, note: 'dispatcher: next request of the same batch' },
  'fe_queue->fe_notify': { min_us: 1, max_us: 3, note: 'from the last fe_queue of the batch: earlier requests of a batch also wait for the later ones' },
  'fe_rsp->fe_end': { min_us: 2, max_us: 4, note: 'softirq after the hard-irq handler: later requests of one interrupt queue behind earlier ones' },
  'fe_end->rq_complete': { min_us: 1, max_us: 3, guestBlock: true },
  'rq_complete->syscall_exit': { min_us: 5, max_us: 15, guestBlock: true },
  'syscall_exit->syscall_enter': { min_us: 20, max_us: 60, note: 'think time between two requests of one fio thread' },
  'fe_irq->fe_rsp': { min_us: 1, max_us: 3, note: 'also between consecutive fe_rsp of one interrupt' },

  // blkback (and blkback above blktap2)
  'fe_notify->be_irq': { min_us: 5, max_us: 15, cross_domain: true, backends: ['blkback', 'blktap2'] },
  'be_irq->be_get_req': { min_us: 10, max_us: 30, backends: ['blkback', 'blktap2'], note: 'first request of a batch; plus waiting when the blkback thread is busy' },
  'be_submit->be_get_req': { min_us: 1, max_us: 3, backends: ['blkback'], note: 'blkback thread: next request of the same batch' },
  'tap_submit->be_get_req': { min_us: 1, max_us: 3, backends: ['blktap2'], note: 'blkback thread: next request of the same batch' },
  'be_get_req->be_map': { min_us: 2, max_us: 6, warmup_extra_us: [20, 40], backends: ['blkback', 'blktap2'], note: 'warm-up: grants are mapped (new=nseg persistent=0) before persistent grants exist' },
  'be_map->be_submit': { min_us: 3, max_us: 8, backends: ['blkback', 'blktap2'] },
  'be_submit->be_bio_done': { min_us: 80, max_us: 250, backends: ['blkback'], note: DISK_NOTE },
  'be_bio_done->be_rsp': {
    min_us: 2,
    max_us: 5,
    backends: ['blkback', 'blktap2'],
    note: 'plus waiting for the blkback thread; a response that would land less than 3 µs before a pending guest interrupt is held until just after it',
  },
  'be_rsp->fe_irq': { min_us: 5, max_us: 15, cross_domain: true, backends: ['blkback', 'blktap2'], note: 'a response joining an interrupt already pending sees less (≥ 3 µs)' },

  // blktap2 (tapdev + tapdisk below blkback)
  'be_submit->tap_queue': { min_us: 1, max_us: 3, backends: ['blktap2'], note: 'the tapdev request function runs at blk_finish_plug, after the last submit_bio' },
  'tap_queue->tap_submit': { min_us: 1, max_us: 3, backends: ['blktap2'] },
  'tap_submit->td_get_req': { min_us: 8, max_us: 25, cross_domain: true, backends: ['blktap2'], note: 'tapdisk woken by poll; plus waiting when tapdisk is busy' },
  'td_get_req->td_issue': { min_us: 2, max_us: 5, backends: ['blktap2'] },
  'td_issue->td_aio_submit': { min_us: 3, max_us: 8, warmup_extra_us: [50, 50], backends: ['blktap2'], note: 'warm-up: tapdisk sets up its first aio' },
  'td_aio_submit->td_aio_done': { min_us: 80, max_us: 250, backends: ['blktap2', 'blktap3'], note: DISK_NOTE + '; plus waiting when tapdisk is busy' },
  'td_aio_done->td_rsp': { min_us: 2, max_us: 5, backends: ['blktap2', 'blktap3'] },
  'td_rsp->tap_end': { min_us: 5, max_us: 15, cross_domain: true, backends: ['blktap2'], note: 'tapdisk ioctl into the blktap driver (tap_end runs in the tapdisk task)' },
  'tap_end->be_bio_done': { min_us: 1, max_us: 3, backends: ['blktap2'], note: 'bio completion in the tapdisk task' },

  // blktap3 (tapdisk3 serves the guest ring directly)
  'fe_notify->td_ring_event': { min_us: 5, max_us: 15, cross_domain: true, backends: ['blktap3'], note: 'plus waiting when tapdisk is busy' },
  'td_ring_event->td_get_req': { min_us: 3, max_us: 10, backends: ['blktap3'] },
  'td_aio_submit->td_get_req': { min_us: 1, max_us: 3, backends: ['blktap3'], note: 'tapdisk3: next request of the same ring event' },
  'td_get_req->td_aio_submit': { min_us: 3, max_us: 8, warmup_extra_us: [50, 50], backends: ['blktap3'], note: 'warm-up: tapdisk sets up its first aio' },
  'td_rsp->td_notify': { min_us: 1, max_us: 3, backends: ['blktap3'], note: 'one notify after the responses of consecutive completions' },
  'td_notify->fe_irq': { min_us: 5, max_us: 15, cross_domain: true, backends: ['blktap3'], note: 'a notify joining an interrupt already pending sees less (≥ 3 µs)' },

  // qemu qdisk
  'fe_notify->qd_event': { min_us: 8, max_us: 20, cross_domain: true, backends: ['qdisk'], note: 'qemu main loop wake-up; plus waiting when qemu is busy' },
  'qd_event->qd_get_req': { min_us: 3, max_us: 10, backends: ['qdisk'] },
  'qd_aio_submit->qd_get_req': { min_us: 1, max_us: 3, backends: ['qdisk'], note: 'qemu: next request of the same event' },
  'qd_get_req->qd_map': { min_us: 3, max_us: 8, warmup_extra_us: [20, 40], backends: ['qdisk'], note: 'warm-up: grant mapping before persistent grants exist' },
  'qd_map->qd_aio_submit': { min_us: 4, max_us: 10, backends: ['qdisk'] },
  'qd_aio_submit->qd_aio_done': { min_us: 80, max_us: 250, backends: ['qdisk'], note: DISK_NOTE + '; plus waiting when qemu is busy' },
  'qd_aio_done->qd_rsp': { min_us: 3, max_us: 8, backends: ['qdisk'] },
  'qd_rsp->qd_notify': { min_us: 1, max_us: 3, backends: ['qdisk'], note: 'one notify after the responses of consecutive completions' },
  'qd_notify->fe_irq': { min_us: 5, max_us: 15, cross_domain: true, backends: ['qdisk'], note: 'a notify joining an interrupt already pending sees less (≥ 3 µs)' },
} as const satisfies Record<string, StageAssumption>;

export type StageName = keyof typeof ASSUMPTIONS;

/** The distribution the table's ranges are drawn from. */
export const LATENCY_MODEL = {
  distribution: 'min + (max - min) * min(1, 0.25 * exp(0.6 * N(0,1))): lognormal, median at a quarter of the range, clipped to max',
  outlier_fraction: 0.03,
  outlier_factor: [2, 5] as const,
  warmup_requests: 5,
  cross_domain_min_us: 3,
  timestamp_rounding: 'ftrace files: local time truncated to whole µs (as the kernel prints it); xtbuf: exact ns',
} as const;

export const WARMUP_REQUESTS = LATENCY_MODEL.warmup_requests;

/**
 * The notes that differ with real batching (model.ts, `real`): same ranges, other queueing. The
 * stages absent from a mode keep their row (the table is the same), with a note saying so.
 */
const REAL_BATCHING_NOTES: Readonly<Partial<Record<StageName, string>>> = {
  'rq_insert->rq_issue': 'real batching: no gate; blk-mq issues the request in the fio task',
  'rq_issue->fe_queue': 'plus waiting for the blkfront ring lock (another fio thread queueing)',
  'fe_queue->rq_issue': 'not used with real batching (each request is dispatched on its own)',
  'fe_queue->fe_notify': 'real batching: to the push of this request (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY); fe_notify only when the back end is asleep, else absent by design',
  'be_irq->be_get_req': 'first request after a wake-up; plus waiting when the blkback thread is busy; a request is taken ≥ 3 µs after its push',
  'be_submit->be_get_req': 'blkback thread: next request of the same consume loop, or its final check (then asleep)',
  'tap_submit->be_get_req': 'blkback thread: next request of the same consume loop, or its final check (then asleep)',
  'be_bio_done->be_rsp': 'plus waiting for the blkback thread',
  'be_rsp->fe_irq': 'only for a response that raises an interrupt (notify=1); the others are delivered by the pending or running handler, no fe_irq of their own',
  'td_ring_event->td_get_req': 'first request after a wake-up; a request is taken ≥ 3 µs after its push',
  'td_aio_submit->td_get_req': 'tapdisk3: next request of the same consume loop, or its final check (then asleep)',
  'td_rsp->td_notify': 'to the push of the responses of consecutive completions; td_notify only when the push raises an interrupt',
  'td_notify->fe_irq': 'the interrupt raised by the push',
  'qd_event->qd_get_req': 'first request after a wake-up; a request is taken ≥ 3 µs after its push',
  'qd_aio_submit->qd_get_req': 'qemu: next request of the same consume loop, or its final check (then asleep)',
  'qd_rsp->qd_notify': 'to the push of the responses of consecutive completions; qd_notify only when the push raises an interrupt',
  'qd_notify->fe_irq': 'the interrupt raised by the push',
  'fe_irq->fe_rsp': 'also between consecutive fe_rsp of one interrupt and to its final check; a response is delivered ≥ 3 µs after its push',
};

/** The table rows that apply to one configuration (as written to truth.json). */
export function assumptionsFor(backend: Backend, guestBlock: boolean, batching: 'serial' | 'real' = 'serial'): Record<string, StageAssumption> {
  const out: Record<string, StageAssumption> = {};
  for (const [k, v] of Object.entries(ASSUMPTIONS) as [string, StageAssumption][]) {
    if (v.backends !== undefined && !v.backends.includes(backend)) continue;
    if (v.guestBlock === true && !guestBlock) continue;
    const { backends: _b, guestBlock: _g, ...rest } = v;
    const note = batching === 'real' ? REAL_BATCHING_NOTES[k as StageName] : undefined;
    out[k] = note === undefined ? rest : { ...rest, note };
  }
  return out;
}
