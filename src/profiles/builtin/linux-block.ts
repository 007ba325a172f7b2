/**
 * The built-in profile linux-block (any Linux block I/O from stock tracepoints), and the
 * block-layer points it shares with the guest side of the Xen profiles (xen.ts).
 */
import type { ProfileInput, ProfilePointInput as PointInput } from '../schema.js';

const SYSCALLS = ['read', 'pread64', 'readv', 'preadv', 'preadv2', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'];

/** `254,0 RS 59678720 + 8 [fio]` (bio), `254,0 RS 4096 () 59678720 + 8 be,0,4 [fio]` (rq_insert/issue), `254,0 RS () 59678720 + 8 be,0,4 [0]` (rq_complete). */
const BLOCK_ARGS = '^(?<dev>\\d+,\\d+) (?<rwbs>\\S+) (?:\\d+ )?(?:\\(.*?\\) )?(?<sector>\\d+) \\+ (?<nsec>\\d+)';
/** A bio with data: an empty bio (`254,0 FWS 0 + 0`: a cache flush) carries none and is not a request's I/O. */
const BIO_ARGS = '^(?<dev>\\d+,\\d+) (?<rwbs>\\S+) (?<sector>\\d+) \\+ (?<nsec>[1-9]\\d*)';

/** The stock-tracepoint points before the device (linux-block, and the guest side of the Xen profiles). */
export function blockHead(role: string, optional: boolean): PointInput[] {
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
      match: BIO_ARGS,
      keys: ['dev', 'sector', 'nsec', 'rwbs'],
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

/** The stock-tracepoint points after the device: completion and the syscall's return. */
export function blockTail(role: string, optional: boolean): PointInput[] {
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

/** The device's interrupt before a completion (block_layer.irq_by_device keeps other devices' out). */
const IRQ: PointInput = {
  name: 'irq',
  description: "the device's interrupt: the last one on the CPU that completes the request, after the issue, of an interrupt number that completes this device's requests",
  event: 'irq_handler_entry',
  role: 'host',
  join: { mode: 'last-before-next', on: ['$cpu'] },
};

/** bio → insert → issue → irq → completion, the block part every stock-tracepoint profile shares (the bio joins the submitting task). */
function blockPart(bioOpens: boolean): PointInput[] {
  const [, bio, insert, issue] = blockHead('host', false);
  const [complete] = blockTail('host', false);
  return [{ ...bio!, opens: bioOpens, description: 'a bio is queued by the submitting task (the first one, when the I/O became several)' }, insert!, { ...issue!, layer: 'device' }, IRQ, complete!];
}

const BLOCK_LAYER = { bio: 'bio_queue', complete: 'rq_complete' } as const;

export const linuxBlock: ProfileInput = {
  xtrace_profile: 1,
  name: 'linux-block',
  description: 'Synchronous read/write syscalls (psync, sync, buffered) from stock tracepoints: syscall → first bio → request → irq → last completion → return',
  // From the issue to the device's interrupt, the time is the device's.
  points: [...blockHead('host', false).map((p) => (p.name === 'rq_issue' ? { ...p, layer: 'device' as const } : p)), IRQ, ...blockTail('host', false)],
  requires_any: ['bio_queue', 'rq_insert', 'rq_issue', 'rq_complete'],
  orphan_label: 'block I/O without a syscall (readahead, writeback, metadata)',
  block_layer: { ...BLOCK_LAYER, more_bios: 'branch' },
};

export const ioUring: ProfileInput = {
  xtrace_profile: 1,
  name: 'io_uring',
  description: 'io_uring reads and writes (fio --ioengine=io_uring): submission → bio → request → irq → completion → CQE posted → reaped',
  points: [
    {
      name: 'submit',
      description: 'io_uring takes the SQE (io_uring_submit_req; ring, req)',
      event: 'io_uring_submit_req',
      match: '^ring (?<ring>[^,]+), req (?<req>[^,]+),(?:.*? opcode (?<opcode>[^,]+),)?',
      keys: ['ring', 'req', '$pid', 'opcode'],
      role: 'host',
    },
    ...blockPart(false),
    {
      name: 'cqe',
      description: 'the completion is posted to the CQ ring (io_uring_complete, same ring and req)',
      event: 'io_uring_complete',
      match: '^ring (?<ring>[^,]+), req (?<req>[^,]+),',
      role: 'host',
      ends: true,
      join: { on: ['ring', 'req'] },
    },
    {
      name: 'reaped',
      description: "the submitting task's next io_uring_enter returns: the completion is visible to it (an application that reaps the ring in user space, as fio does, may take it later: no kernel event marks that); absent when not traced",
      event: 'sys_exit_io_uring_enter',
      role: 'host',
      optional: true,
      join: { mode: 'first-after', on: ['$pid'] },
    },
  ],
  requires_any: ['bio_queue', 'rq_insert', 'rq_issue', 'rq_complete'],
  orphan_label: 'block I/O not submitted through io_uring by a traced task (other engines, readahead, writeback, requests punted to io-wq workers)',
  labels: ['opcode'],
  block_layer: { ...BLOCK_LAYER, more_bios: 'separate' },
};

export const linuxAio: ProfileInput = {
  xtrace_profile: 1,
  name: 'linux-aio',
  description: 'Linux native AIO (fio --ioengine=libaio): io_submit → bio → request → irq → completion → reaped by io_getevents',
  points: [
    {
      name: 'submit',
      description: 'the task enters io_submit (one call may carry several iocbs: each bio is its own request)',
      event: 'sys_enter_io_submit',
      keys: ['$pid'],
      role: 'host',
    },
    ...blockPart(false),
    {
      name: 'reaped',
      description: 'the io_getevents of the submitting task that returns its completion (each return reaps `ret` completions, oldest first)',
      event: 'sys_exit_io_getevents',
      role: 'host',
      join: { mode: 'first-after', on: ['$pid'], takes: 'ret' },
    },
  ],
  requires_any: ['bio_queue', 'rq_insert', 'rq_issue', 'rq_complete'],
  orphan_label: 'block I/O not submitted by io_submit (other engines, readahead, writeback)',
  block_layer: { ...BLOCK_LAYER, more_bios: 'request', more_bios_until: 'sys_exit_io_submit' },
};

export const block: ProfileInput = {
  xtrace_profile: 1,
  name: 'block',
  description: 'Any block I/O, whoever submits it (writeback, readahead, any engine): bio → request → irq → completion',
  points: [
    {
      name: 'bio_queue',
      description: 'a bio is queued (dev, sector, size; the task that queued it)',
      event: 'block_bio_queue',
      match: BIO_ARGS,
      keys: ['dev', 'sector', 'nsec', 'rwbs'],
      role: 'host',
    },
    ...blockPart(false).slice(1),
  ],
  orphan_label: 'a block request whose bio was not seen (queued before the capture, or a flush)',
  block_layer: { ...BLOCK_LAYER, more_bios: 'separate' },
};
