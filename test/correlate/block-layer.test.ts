/**
 * Block-layer rules (README "Block I/O as the block layer does it") on hand-made traces where every
 * time is chosen: splits, merges, readahead completing after the return, the device's interrupt,
 * several iocbs of one io_submit reaped in completion order. Expected times are written by hand
 * from the rules, not computed by the engine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, tempDir } from '../helpers.js';
import { loadProfile } from '../../src/profiles/index.js';
import { correlate, type Correlation } from '../../src/correlate/correlate.js';

/** One ftrace line: time in µs after 1000 s. */
function line(us: number, task: string, cpu: number, what: string): string {
  const ts = (1000 + us / 1e6).toFixed(6);
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${what}`;
}
const F = 'fio-200';
const I = '<idle>-0';
const rq = (sector: number, nsec: number): string => `254,0 RS ${nsec * 512} () ${sector} + ${nsec} be,0,4 [fio]`;
const done = (sector: number, nsec: number): string => `254,0 RS () ${sector} + ${nsec} be,0,4 [0]`;

async function run(profile: string, lines: string[], check: (c: Correlation, us: (i: number, p: string) => number | null) => void): Promise<void> {
  const t = tempDir();
  const f = join(t.dir, 'trace.txt');
  writeFileSync(f, '# tracer: nop\n' + lines.join('\n') + '\n');
  const h = await ingestAll([f]);
  try {
    const c = correlate(h.db, loadProfile(profile));
    const us = (i: number, p: string): number | null => {
      const k = c.path.findIndex((x) => x.name === p);
      const v = c.requests.t(i, k);
      return Number.isNaN(v) ? null : Math.round(v / 1000);
    };
    check(c, us);
  } finally {
    h.cleanup();
    t.cleanup();
  }
}

const codes = (c: Correlation): Record<string, number> => Object.fromEntries(c.counters.map((x) => [`${x.code}:${x.point}`, x.count]));
const dataLoss = (c: Correlation): string[] => c.counters.filter((x) => x.severity === 'data_loss').map((x) => x.code);

describe('block layer (linux-block)', () => {
  it('a bio split into four requests is one request: first bio, insert, issue; the last completion with its interrupt', async () => {
    await run(
      'linux-block',
      [
        line(0, F, 1, 'sys_pread64(fd: 6, buf: 0x1, count: 0x10000, pos: 0x0)'),
        line(2, F, 1, 'block_bio_queue: 254,0 RS 1000 + 128 [fio]'),
        line(3, F, 1, 'block_split: 254,0 RS 1000 / 1032 [fio]'),
        line(4, F, 1, 'block_split: 254,0 RS 1032 / 1064 [fio]'),
        line(5, F, 1, 'block_split: 254,0 RS 1064 / 1096 [fio]'),
        line(6, F, 1, `block_rq_insert: ${rq(1000, 32)}`),
        line(7, F, 1, `block_rq_insert: ${rq(1032, 32)}`),
        line(8, F, 1, `block_rq_insert: ${rq(1064, 32)}`),
        line(9, F, 1, `block_rq_insert: ${rq(1096, 32)}`),
        line(10, F, 1, `block_rq_issue: ${rq(1000, 32)}`),
        line(11, F, 1, `block_rq_issue: ${rq(1032, 32)}`),
        line(12, F, 1, `block_rq_issue: ${rq(1064, 32)}`),
        line(13, F, 1, `block_rq_issue: ${rq(1096, 32)}`),
        line(50, I, 1, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(52, I, 1, `block_rq_complete: ${done(1000, 32)}`),
        line(53, I, 1, `block_rq_complete: ${done(1032, 32)}`),
        line(55, I, 1, `block_rq_complete: ${done(1096, 32)}`),
        line(58, I, 1, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(60, I, 1, `block_rq_complete: ${done(1064, 32)}`),
        line(70, F, 1, 'sys_pread64 -> 0x10000'),
      ],
      (c, us) => {
        assert.equal(c.requests.length, 1);
        assert.equal(c.requests.status(0), 'complete');
        assert.deepEqual(
          ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'syscall_exit'].map((p) => us(0, p)),
          [0, 2, 6, 10, 58, 60, 70],
        );
        assert.equal(c.requests.bios(0), 4);
        assert.equal(c.requests.blockRequests(0), 4);
        assert.equal(c.requests.sectors(0), 128);
        assert.equal(codes(c)['bio_split:bio_queue'], 3);
        assert.deepEqual(dataLoss(c), []);
      },
    );
  });

  it('merged bios complete with the request they merged into (same syscall, and another task)', async () => {
    await run(
      'linux-block',
      [
        // Task 200 queues two bios that become one request (a plug merge).
        line(0, F, 0, 'sys_read(fd: 6, buf: 0x1, count: 0x2000)'),
        line(2, F, 0, 'block_bio_queue: 254,0 RS 1000 + 8 [fio]'),
        line(3, F, 0, 'block_bio_queue: 254,0 RS 1008 + 8 [fio]'),
        line(4, F, 0, 'block_bio_backmerge: 254,0 RS 1008 + 8 [fio]'),
        // Task 201's bio merges into that request too (before its insertion).
        line(5, 'fio-201', 1, 'sys_read(fd: 7, buf: 0x1, count: 0x1000)'),
        line(6, 'fio-201', 1, 'block_bio_queue: 254,0 RS 1016 + 8 [fio]'),
        line(7, 'fio-201', 1, 'block_bio_backmerge: 254,0 RS 1016 + 8 [fio]'),
        line(9, F, 0, `block_rq_insert: ${rq(1000, 24)}`),
        line(10, F, 0, `block_rq_issue: ${rq(1000, 24)}`),
        line(40, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(42, I, 0, `block_rq_complete: ${done(1000, 24)}`),
        line(50, F, 0, 'sys_read -> 0x2000'),
        line(51, 'fio-201', 1, 'sys_read -> 0x1000'),
      ],
      (c, us) => {
        assert.equal(c.requests.length, 2);
        const names = ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'syscall_exit'];
        const byPid = new Map([0, 1].map((i) => [c.requests.attr(i, '$pid'), i]));
        const a = byPid.get('200')!;
        const b = byPid.get('201')!;
        assert.deepEqual(
          names.map((p) => us(a, p)),
          [0, 2, 9, 10, 40, 42, 50],
        );
        // Task 201's bio joined the request at 7 µs; the request was inserted at 9: its insertion is 9.
        assert.deepEqual(
          names.map((p) => us(b, p)),
          [5, 6, 9, 10, 40, 42, 51],
        );
        assert.equal(c.requests.bios(a), 2);
        assert.equal(c.requests.blockRequests(a), 1);
        assert.equal(c.requests.blockRequests(b), 0);
        assert.equal(codes(c)['bio_merged:bio_queue'], 2);
        assert.deepEqual(dataLoss(c), []);
      },
    );
  });

  it('readahead completing after its syscall returned is counted as such, not as lost data', async () => {
    await run(
      'linux-block',
      [
        line(0, F, 0, 'sys_read(fd: 6, buf: 0x1, count: 0x1000)'),
        line(2, F, 0, 'block_bio_queue: 254,0 RA 1000 + 64 [fio]'),
        line(3, F, 0, `block_rq_insert: ${rq(1000, 64)}`),
        line(4, F, 0, `block_rq_issue: ${rq(1000, 64)}`),
        line(6, F, 0, 'sys_read -> 0x1000'),
        line(30, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(31, I, 0, `block_rq_complete: ${done(1000, 64)}`),
      ],
      (c) => {
        assert.equal(c.requests.length, 1);
        assert.equal(c.requests.status(0), 'incomplete');
        assert.equal(codes(c)['completed_after_return:rq_complete'], 1);
        assert.deepEqual(dataLoss(c), []);
      },
    );
  });

  it("the irq is the device's: another device's interrupt between the disk's and the completion is not taken", async () => {
    const lines: string[] = [];
    // 20 ordinary requests teach which interrupt completes 254,0 ...
    for (let k = 0; k < 20; k++) {
      const t = k * 100;
      lines.push(
        line(t, F, 0, 'sys_pread64(fd: 6, buf: 0x1, count: 0x1000, pos: 0x0)'),
        line(t + 1, F, 0, `block_bio_queue: 254,0 RS ${k * 8} + 8 [fio]`),
        line(t + 2, F, 0, `block_rq_insert: ${rq(k * 8, 8)}`),
        line(t + 3, F, 0, `block_rq_issue: ${rq(k * 8, 8)}`),
        line(t + 40, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
      );
      // ... and in the last one the network card's interrupt comes in between.
      if (k === 19) lines.push(line(t + 45, I, 0, 'irq_handler_entry: irq=41 name=virtio3-rx'));
      lines.push(line(t + 50, I, 0, `block_rq_complete: ${done(k * 8, 8)}`), line(t + 60, F, 0, 'sys_pread64 -> 0x1000'));
    }
    await run('linux-block', lines, (c, us) => {
      assert.equal(c.requests.length, 20);
      assert.equal(us(19, 'irq'), 1940);
      for (let k = 0; k < 20; k++) assert.equal(us(k, 'irq'), k * 100 + 40);
    });
  });
});

describe('block layer (linux-aio, io_uring, block)', () => {
  it('linux-aio: each bio of one io_submit is a request; io_getevents hands completions out oldest first', async () => {
    await run(
      'linux-aio',
      [
        line(0, F, 0, 'sys_io_submit(ctx_id: 0x1, nr: 2, iocbpp: 0x2)'),
        line(2, F, 0, 'block_bio_queue: 254,0 RS 1000 + 8 [fio]'),
        line(3, F, 0, `block_rq_insert: ${rq(1000, 8)}`),
        line(4, F, 0, `block_rq_issue: ${rq(1000, 8)}`),
        line(5, F, 0, 'block_bio_queue: 254,0 RS 2000 + 8 [fio]'),
        line(6, F, 0, `block_rq_insert: ${rq(2000, 8)}`),
        line(7, F, 0, `block_rq_issue: ${rq(2000, 8)}`),
        line(8, F, 0, 'sys_io_submit -> 0x2'),
        line(30, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(31, I, 0, `block_rq_complete: ${done(2000, 8)}`),
        line(40, F, 0, 'sys_io_getevents -> 0x1'),
        line(50, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(51, I, 0, `block_rq_complete: ${done(1000, 8)}`),
        line(60, F, 0, 'sys_io_getevents -> 0x1'),
      ],
      (c, us) => {
        assert.equal(c.requests.length, 2);
        const order = [0, 1].sort((x, y) => us(x, 'bio_queue')! - us(y, 'bio_queue')!);
        const names = ['submit', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'reaped'];
        assert.deepEqual(
          names.map((p) => us(order[0]!, p)),
          [0, 2, 3, 4, 50, 51, 60],
        );
        assert.deepEqual(
          names.map((p) => us(order[1]!, p)),
          [0, 5, 6, 7, 30, 31, 40],
        );
        assert.deepEqual([c.requests.status(0), c.requests.status(1)], ['complete', 'complete']);
      },
    );
  });

  it('io_uring: submit → block → cqe by ring and req → the next io_uring_enter return', async () => {
    await run(
      'io_uring',
      [
        line(0, F, 0, 'sys_io_uring_enter(fd: 6, to_submit: 1, min_complete: 0, flags: 1, argp: 0, argsz: 0)'),
        line(1, F, 0, 'io_uring_submit_req: ring 000000001, req 00000000a, user_data 0x1, opcode READ, flags 0x0, sq_thread 0'),
        line(2, F, 0, 'block_bio_queue: 254,0 RS 1000 + 8 [fio]'),
        line(3, F, 0, `block_rq_insert: ${rq(1000, 8)}`),
        line(4, F, 0, `block_rq_issue: ${rq(1000, 8)}`),
        line(5, F, 0, 'sys_io_uring_enter -> 0x1'),
        line(30, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(31, I, 0, `block_rq_complete: ${done(1000, 8)}`),
        line(40, F, 0, 'sys_io_uring_enter(fd: 6, to_submit: 0, min_complete: 1, flags: 1, argp: 0, argsz: 0)'),
        line(41, F, 0, 'io_uring_complete: ring 000000001, req 00000000a, user_data 0x1, result 4096, cflags 0x0 extra1 0 extra2 0 '),
        line(42, F, 0, 'sys_io_uring_enter -> 0x0'),
      ],
      (c, us) => {
        assert.equal(c.requests.length, 1);
        assert.deepEqual(
          ['submit', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'cqe', 'reaped'].map((p) => us(0, p)),
          [1, 2, 3, 4, 30, 31, 41, 42],
        );
        assert.equal(c.requests.attr(0, 'opcode'), 'READ');
      },
    );
  });

  it('block: every bio is a request, whoever queued it; a split bio completes with its last piece', async () => {
    await run(
      'block',
      [
        line(2, 'kworker/u4:1-50', 0, 'block_bio_queue: 254,0 W 5000 + 64 [kworker/u4:1]'),
        line(3, 'kworker/u4:1-50', 0, 'block_split: 254,0 W 5000 / 5032 [kworker/u4:1]'),
        line(4, 'kworker/u4:1-50', 0, `block_rq_insert: 254,0 W 16384 () 5000 + 32 be,0,4 [kworker/u4:1]`),
        line(5, 'kworker/u4:1-50', 0, `block_rq_insert: 254,0 W 16384 () 5032 + 32 be,0,4 [kworker/u4:1]`),
        line(6, 'kworker/u4:1-50', 0, `block_rq_issue: 254,0 W 16384 () 5000 + 32 be,0,4 [kworker/u4:1]`),
        line(7, 'kworker/u4:1-50', 0, `block_rq_issue: 254,0 W 16384 () 5032 + 32 be,0,4 [kworker/u4:1]`),
        line(20, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(21, I, 0, 'block_rq_complete: 254,0 W () 5000 + 32 be,0,4 [0]'),
        line(25, I, 0, 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        line(26, I, 0, 'block_rq_complete: 254,0 W () 5032 + 32 be,0,4 [0]'),
      ],
      (c, us) => {
        assert.equal(c.requests.length, 1);
        assert.equal(c.requests.status(0), 'complete');
        assert.deepEqual(
          ['bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete'].map((p) => us(0, p)),
          [0, 2, 4, 23, 24],
        );
        assert.equal(c.requests.attr(0, '$comm'), 'kworker/u4:1');
      },
    );
  });
});
