/**
 * The built-in Xen profiles (blkback, blktap2, blktap3, qdisk), following src/profiles/builtin/xen-probes.md:
 * the guest's block-layer points (linux-block.ts) around blkfront, the back end's kernel
 * trace_printk probes and userspace xtbuf probes.
 */
import type { ProfileInput, ProfilePointInput as PointInput } from '../schema.js';
import { blockHead, blockTail } from './linux-block.js';

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
    // domid only when blkfront prints it (spec decision 3).
    kp('fe_queue', 'guest', ['vdev', 'ring', 'id', 'op', 'sector', 'nsec', 'domid'], { on: ['sector', 'nsec'] }, { opens: true }),
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
const beEnd: PointInput[] = [kp('be_bio_done', 'dom0', [], { on: BE }), kp('be_rsp', 'dom0', ['notify'], { on: BE })];

const XEN_COMMON = {
  xtrace_profile: 1 as const,
  // A syscall that queued a bio is a request even when its fe_queue is missing (skipped or lost): incomplete, not a page-cache hit.
  requires_any: ['fe_queue', 'bio_queue'],
  orphan_label: 'guest request without a syscall (readahead, writeback, metadata)',
  labels: ['op', 'vdev', 'domid'],
  // Spec decisions 8 (skipped points), 3 (domid) and 10 (suppressed notifications).
  skips: true,
  identity: ['domid'],
};
/** Kernel back ends: blkfront kicks blkback; blkback's response says whether it raised the guest's interrupt. */
const KERNEL_NOTIFY = [
  { sent: 'fe_notify', received: 'be_irq' },
  { sent: 'be_rsp', received: 'fe_irq', flag: 'notify' },
];
const userNotify = (p: 'td' | 'qd'): { sent: string; received: string }[] => [
  { sent: 'fe_notify', received: p === 'td' ? 'td_ring_event' : 'qd_event' },
  { sent: p === 'td' ? 'td_notify' : 'qd_notify', received: 'fe_irq' },
];

export const xenBlkback: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blkback',
  notifications: KERNEL_NOTIFY,
  description: 'Xen guest (blkfront) → dom0 blkback → dom0 block layer (src/profiles/builtin/xen-probes.md)',
  // From blkback's submission to the bio's completion: dom0's block layer and the disk.
  points: [...frontHead(), ...beStart.map((p) => (p.name === 'be_submit' ? { ...p, layer: 'device' as const } : p)), ...beEnd, ...frontTail()],
};

export const xenBlktap2: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blktap2',
  notifications: KERNEL_NOTIFY,
  // Each guest's tapdisk is its own process (and clock): its records carry no domid, its tap minor ties them to the guest.
  labels: [...XEN_COMMON.labels, 'minor'],
  identity: ['domid', 'minor'],
  description: 'Xen guest → blkback → blktap2 tapdev → tapdisk (xtbuf) and back (src/profiles/builtin/xen-probes.md)',
  points: [
    ...frontHead(),
    ...beStart,
    kp('tap_queue', 'dom0', ['minor'], { on: ['op', 'sector', 'nsec'] }),
    kp('tap_submit', 'dom0', ['idx'], { on: ['minor', 'op', 'sector', 'nsec'] }),
    // tapdisk's id is the tap ring index, not the guest id.
    up('td_get_req', [], { on: { id: 'idx', op: 'op', sector: 'sector', nsec: 'nsec' } }),
    up('td_issue', [], { on: { id: 'idx' } }),
    up('td_aio_submit', [], { on: { id: 'idx' } }, { layer: 'device' }),
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
    // From the AIO submission to its completion, the time is the device's (through dom0's kernel).
    ...rest.map((n) => up(n, [], { on: BE }, n.endsWith('_aio_submit') ? { layer: 'device' } : {})),
    up(notify, [], { mode: 'first-after', on: ['domid', 'vdev', 'ring'] }),
  ].map((pt) => ({ ...pt, description: `${p === 'td' ? 'tapdisk3' : 'qemu qdisk'} probe ${pt.name}` }));
}

export const xenBlktap3: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-blktap3',
  notifications: userNotify('td'),
  description: 'Xen guest → tapdisk3 (xtbuf, no blkback) and back (src/profiles/builtin/xen-probes.md)',
  points: [...frontHead(), ...userBackend('td', ['td_ring_event', 'td_get_req', 'td_aio_submit', 'td_aio_done', 'td_rsp', 'td_notify']), ...frontTail()],
};

export const xenQdisk: ProfileInput = {
  ...XEN_COMMON,
  name: 'xen-qdisk',
  notifications: userNotify('qd'),
  description: 'Xen guest → qemu qdisk (xtbuf) and back (src/profiles/builtin/xen-probes.md)',
  points: [...frontHead(), ...userBackend('qd', ['qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify']), ...frontTail()],
};
