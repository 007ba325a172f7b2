/**
 * The built-in profile linux-block (any Linux block I/O from stock tracepoints), and the
 * block-layer points it shares with the guest side of the Xen profiles (xen.ts).
 */
import type { ProfileInput, ProfilePointInput as PointInput } from '../schema.js';

const SYSCALLS = ['read', 'pread64', 'readv', 'preadv', 'preadv2', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'];

/** `254,0 RS 59678720 + 8 [fio]` (bio), `254,0 RS 4096 () 59678720 + 8 be,0,4 [fio]` (rq_insert/issue), `254,0 RS () 59678720 + 8 be,0,4 [0]` (rq_complete). */
const BLOCK_ARGS = '^(?<dev>\\d+,\\d+) (?<rwbs>\\S+) (?:\\d+ )?(?:\\(.*?\\) )?(?<sector>\\d+) \\+ (?<nsec>\\d+)';

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

export const linuxBlock: ProfileInput = {
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
