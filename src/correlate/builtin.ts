/**
 * Built-in profiles. They are plain data in the user profile format (`xtrace profiles --show NAME`
 * prints one as JSON, a starting point for your own) and go through the same validation.
 * Xen profiles follow shared/specs/xen-probes.md.
 */
import type { ProfileInput } from './profile.js';

type PointInput = ProfileInput['points'][number];

const SYSCALLS = ['read', 'pread64', 'readv', 'preadv', 'preadv2', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'];

/** `254,0 RS 59678720 + 8 [fio]` (bio), `254,0 RS 4096 () 59678720 + 8 be,0,4 [fio]` (rq_insert/issue), `254,0 RS () 59678720 + 8 be,0,4 [0]` (rq_complete). */
const BLOCK_ARGS = '^(?<dev>\\d+,\\d+) (?<rwbs>\\S+) (?:\\d+ )?(?:\\(.*?\\) )?(?<sector>\\d+) \\+ (?<nsec>\\d+)';

/** The stock-tracepoint points before the device (linux-block, and the guest side of the Xen profiles). */
function blockHead(role: string, optional: boolean): PointInput[] {
  return [
    {
      name: 'syscall_enter',
      description: 'the task enters a read/write syscall',
      event: SYSCALLS.map((s) => `sys_enter_${s}`),
      keys: ['$pid'],
      role,
      optional,
    },
    {
      name: 'bio_queue',
      description: 'the first bio is queued by the same task (none: page-cache hit, not a request)',
      event: 'block_bio_queue',
      match: BLOCK_ARGS,
      keys: ['dev', 'sector', 'nsec'],
      role,
      optional,
      opens: true,
      join: { on: ['$pid'] },
    },
    {
      name: 'rq_insert',
      description: 'the request is inserted into the I/O scheduler (dev, sector)',
      event: 'block_rq_insert',
      match: BLOCK_ARGS,
      keys: ['dev', 'sector'],
      role,
      optional: true,
      opens: true,
      join: { on: ['dev', 'sector'] },
    },
    {
      name: 'rq_issue',
      description: 'the request is issued to the driver (a requeued request: the last issue)',
      event: 'block_rq_issue',
      match: BLOCK_ARGS,
      repeat: 'replace',
      role,
      optional,
      join: { on: ['dev', 'sector'] },
    },
  ];
}

function blockTail(role: string, optional: boolean): PointInput[] {
  return [
    {
      name: 'rq_complete',
      description: 'the block layer completes the request (dev, sector)',
      event: 'block_rq_complete',
      match: BLOCK_ARGS,
      role,
      optional,
      join: { on: ['dev', 'sector'] },
    },
    {
      name: 'syscall_exit',
      description: 'the syscall returns to the same task',
      event: SYSCALLS.map((s) => `sys_exit_${s}`),
      role,
      optional,
      ends: true,
      join: { on: ['$pid'] },
    },
  ];
}

const linuxBlock: ProfileInput = {
  xtrace_profile: 1,
  name: 'linux-block',
  description: 'Any Linux block I/O from stock tracepoints: syscall → bio → request → irq → completion → return',
  points: [
    ...blockHead('host', false),
    {
      name: 'irq',
      description: 'the last interrupt on the CPU that completes the request, after the issue',
      event: 'irq_handler_entry',
      role: 'host',
      join: { mode: 'last-before-next', on: ['$cpu'] },
    },
    ...blockTail('host', false),
  ],
  requires_any: ['bio_queue', 'rq_insert', 'rq_issue', 'rq_complete'],
  orphan_label: 'block I/O without a syscall (readahead, writeback, metadata)',
};

/** A kernel trace_printk probe: `xt <name> key=value ...`, whatever the calling function. */
function kp(name: string, role: string, keys: string[], join?: PointInput['join'], extra: Partial<PointInput> = {}): PointInput {
  return { name, event: '*', match: `^xt ${name}(?= |$)`, keys, role, ...(join ? { join } : {}), ...extra };
}
/** A userspace xtbuf probe: the record's probe name is the event name, its fields are key=value args. */
function up(name: string, keys: string[], join: PointInput['join'], extra: Partial<PointInput> = {}): PointInput {
  return { name, event: name, keys, role: 'user', join, ...extra };
}

const RING = ['vdev', 'ring'];
const BE = ['domid', 'vdev', 'ring', 'id'];

function frontHead(): PointInput[] {
  return [
    ...blockHead('guest', true),
    kp('fe_queue', 'guest', ['vdev', 'ring', 'id', 'op', 'sector', 'nsec'], { on: ['sector', 'nsec'] }, { opens: true }),
    kp('fe_notify', 'guest', [], { mode: 'first-after', on: RING }),
  ];
}
function frontTail(): PointInput[] {
  return [
    kp('fe_irq', 'guest', [], { mode: 'first-after', on: RING }),
    kp('fe_rsp', 'guest', [], { on: ['vdev', 'ring', 'id'] }, { ends: true }),
    kp('fe_end', 'guest', [], { on: ['vdev', 'ring', 'id'] }),
    ...blockTail('guest', true),
  ];
}
const beStart: PointInput[] = [
  kp('be_irq', 'dom0', [], { mode: 'first-after', on: ['domid', 'vdev', 'ring'] }),
  kp('be_get_req', 'dom0', ['domid'], { on: ['vdev', 'ring', 'id', 'op', 'sector', 'nsec'] }),
  kp('be_map', 'dom0', [], { on: BE }),
  kp('be_submit', 'dom0', [], { on: BE }),
];
const beEnd: PointInput[] = [kp('be_bio_done', 'dom0', [], { on: BE }), kp('be_rsp', 'dom0', [], { on: BE })];

const XEN_COMMON = {
  xtrace_profile: 1 as const,
  requires_any: ['fe_queue'],
  orphan_label: 'guest request without a syscall (readahead, writeback, metadata)',
};

const xenBlkback: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blkback',
  description: 'Xen guest (blkfront) → dom0 blkback → dom0 block layer (shared/specs/xen-probes.md)',
  points: [...frontHead(), ...beStart, ...beEnd, ...frontTail()],
};

const xenBlktap2: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blktap2',
  description: 'Xen guest → blkback → blktap2 tapdev → tapdisk (xtbuf) and back (shared/specs/xen-probes.md)',
  points: [
    ...frontHead(),
    ...beStart,
    kp('tap_queue', 'dom0', ['minor'], { on: ['op', 'sector', 'nsec'] }),
    kp('tap_submit', 'dom0', ['idx'], { on: ['minor', 'op', 'sector', 'nsec'] }),
    // tapdisk's id is the tap ring index, not the guest id.
    up('td_get_req', [], { on: { id: 'idx', op: 'op', sector: 'sector', nsec: 'nsec' } }),
    up('td_issue', [], { on: { id: 'idx' } }),
    up('td_aio_submit', [], { on: { id: 'idx' } }),
    up('td_aio_done', [], { on: { id: 'idx' } }),
    up('td_rsp', [], { on: { id: 'idx' } }),
    kp('tap_end', 'dom0', [], { on: ['minor', 'idx'] }),
    ...beEnd,
    ...frontTail(),
  ],
};

function userBackend(p: 'td' | 'qd', points: string[]): PointInput[] {
  const [event, getReq, ...rest] = points;
  const notify = rest.pop()!;
  return [
    up(event!, [], { mode: 'first-after', on: ['domid', 'vdev', 'ring'] }),
    up(getReq!, ['domid'], { on: ['vdev', 'ring', 'id', 'op', 'sector', 'nsec'] }),
    ...rest.map((n) => up(n, [], { on: BE })),
    up(notify, [], { mode: 'first-after', on: ['domid', 'vdev', 'ring'] }),
  ].map((pt) => ({ ...pt, description: `${p === 'td' ? 'tapdisk3' : 'qemu qdisk'} probe ${pt.name}` }));
}

const xenBlktap3: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blktap3',
  description: 'Xen guest → tapdisk3 (xtbuf, no blkback) and back (shared/specs/xen-probes.md)',
  points: [...frontHead(), ...userBackend('td', ['td_ring_event', 'td_get_req', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_notify']), ...frontTail()],
};

const xenQdisk: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-qdisk',
  description: 'Xen guest → qemu qdisk (xtbuf) and back (shared/specs/xen-probes.md)',
  points: [...frontHead(), ...userBackend('qd', ['qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify']), ...frontTail()],
};

export const BUILTIN_PROFILES: Readonly<Record<string, ProfileInput>> = {
  'linux-block': linuxBlock,
  'xen-blkback': xenBlkback,
  'xen-blktap2': xenBlktap2,
  'xen-blktap3': xenBlktap3,
  'xen-qdisk': xenQdisk,
};
