import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDb } from '../../src/db/db.js';
import { xenBlkback, xenBlktap2 } from '../../src/profiles/builtin/xen.js';
import { ingestAll, onCi, ROOT, tempDir, xtrace } from '../helpers.js';

/**
 * The instrumentation kit in parsers/xtbuf/c. Userspace: xtbuf.h, through example.c compiled with
 * `cc`, run, its dump ingested, and every record checked against what example.c documents it
 * writes (probe, fields, per-thread order, timestamps, clock), with a ring that holds all records
 * and one that wraps. Kernel: xen-probes-kernel.h cannot run here (no Xen); its macros are compiled
 * in userspace with trace_printk stubbed by printf, and each line they print is checked against
 * the built-in Xen profiles. Skipped, saying so, where no C compiler exists; on CI (CI=true) a
 * missing compiler fails instead.
 */

const KIT = join(ROOT, 'parsers', 'xtbuf', 'c');
const SOURCE = join(KIT, 'example.c');
const PROBES = ['td_get_req', 'td_issue', 'td_aio_submit', 'td_aio_done', 'td_rsp'] as const;
const VDEV = 51712;

const hasCc = spawnSync('cc', ['--version']).status === 0;
const skip = hasCc || onCi ? false : 'no C compiler (`cc`) here: the C writer xtbuf.h is not tested';

/** What example.c records as hit j of thread t: the probe and the args as the xtbuf reader prints them. */
function expected(t: number, j: number): { name: string; args: string } {
  const request = Math.floor(j / PROBES.length);
  const point = j % PROBES.length;
  const name = PROBES[point]!;
  if (name === 'td_get_req') {
    const op = request % 2 === 0 ? 'R' : 'W';
    return { name, args: `id=${request} sector=${(t * 1_000_000 + request) * 8} vdev=${VDEV} nsec=8 ring=${t} op=${op}` };
  }
  if (name === 'td_rsp') return { name, args: `id=${request} vdev=${VDEV} ring=${t} status=0` };
  return { name, args: `id=${request} vdev=${VDEV} ring=${t}` };
}

/** Hits example.c gives thread t of `threads` for n hits. */
function hitsOf(n: number, threads: number, t: number): number {
  return Math.floor(n / threads) + (t < n % threads ? 1 : 0);
}

interface Run {
  pid: number;
  /** The clock read just before the program started and just after it ended (ns). */
  from: bigint;
  to: bigint;
  /** Per thread, the hit numbers j found, in record order, and their timestamps. */
  perThread: Map<number, { j: number[]; ts: bigint[] }>;
  records: number;
  clock: string | null;
  wrappedLost: number;
  comm: string | null;
  pids: Set<number>;
}

describe('xtbuf.h (C writer) via example.c', { skip }, () => {
  let dir = '';
  let cleanup = (): void => {};
  let exe = '';

  before(() => {
    ({ dir, cleanup } = tempDir());
    exe = join(dir, 'example');
    const cc = spawnSync('cc', ['-O2', '-pthread', '-Wall', '-Wextra', '-Werror', SOURCE, '-o', exe], { encoding: 'utf8' });
    assert.equal(cc.error, undefined, `cannot run cc (CI needs a C compiler, e.g. apt-get install gcc): ${String(cc.error)}`);
    assert.equal(cc.status, 0, `cc failed:\n${cc.stderr}`);
  });
  after(() => cleanup());

  /**
   * Runs example.c, ingests its dump through the library and sorts every record by thread after
   * checking it. `clockNow` reads the clock the dump should use (process.hrtime is libuv's
   * CLOCK_MONOTONIC on Linux), before and after the run, to bound every timestamp.
   */
  async function run(out: string, n: number, threads: number, env: Record<string, string> = {}, clockNow = (): bigint => process.hrtime.bigint()): Promise<Run> {
    const path = join(dir, out);
    const from = clockNow();
    const r = spawnSync(exe, [path, String(n), String(threads)], { encoding: 'utf8', env: { ...process.env, ...env } });
    const to = clockNow();
    assert.equal(r.status, 0, `example failed: ${r.stderr}`);
    const { db, results, cleanup: done } = await ingestAll([path]);
    try {
      const res = results[0]!;
      const rows = db
        .prepare<{ line: bigint; ts_ns: bigint; pid: bigint; comm: string; name: string; args: string }>('SELECT line, ts_ns, pid, comm, name, args FROM events ORDER BY line', { bigints: true })
        .all();
      const perThread = new Map<number, { j: number[]; ts: bigint[] }>();
      const pids = new Set<number>();
      let comm: string | null = null;
      rows.forEach((row, i) => {
        assert.equal(Number(row.line), i + 1, 'record numbers count the surviving records from 1');
        pids.add(Number(row.pid));
        comm = row.comm;
        const t = Number(/ ring=(\d+)/.exec(row.args)?.[1]);
        const request = Number(/^id=(\d+)/.exec(row.args)?.[1]);
        const point = PROBES.indexOf(row.name as (typeof PROBES)[number]);
        assert.ok(point >= 0 && Number.isInteger(t) && Number.isInteger(request), `record ${i + 1} is not one example.c writes: ${row.name} ${row.args}`);
        const j = request * PROBES.length + point;
        assert.deepEqual({ name: row.name, args: row.args }, expected(t, j), `record ${i + 1} (thread ${t}, hit ${j})`);
        const mine = perThread.get(t) ?? { j: [], ts: [] };
        mine.j.push(j);
        mine.ts.push(row.ts_ns);
        perThread.set(t, mine);
      });
      const lost = db.prepare<{ count: number }>("SELECT count FROM diagnostics WHERE code = 'xtbuf_ring_wrapped'").get();
      return { pid: r.pid, from, to, perThread, records: rows.length, clock: res.clock, wrappedLost: lost?.count ?? 0, comm, pids };
    } finally {
      done();
    }
  }

  /** Each thread's records are a run of consecutive hits ending with its last one, timestamps never going back, within the run's window. */
  function checkThreads(run: Run, n: number, threads: number): Map<number, number> {
    const kept = new Map<number, number>();
    for (const [t, { j, ts }] of run.perThread) {
      assert.ok(t < threads, `thread ${t} does not exist`);
      const hits = hitsOf(n, threads, t);
      const first = hits - j.length;
      assert.deepEqual(j, Array.from({ length: j.length }, (_, k) => first + k), `thread ${t}: the newest ${j.length} of its ${hits} hits, in order`);
      for (let k = 1; k < ts.length; k++) assert.ok(ts[k]! >= ts[k - 1]!, `thread ${t}: timestamp of hit ${j[k]} goes back`);
      for (const x of ts) assert.ok(x >= run.from && x <= run.to, `thread ${t}: timestamp ${x} outside the run [${run.from}, ${run.to}]`);
      kept.set(t, j.length);
    }
    return kept;
  }

  it('1000 hits over 4 threads: every record present, as written, per-thread order, CLOCK_MONOTONIC timestamps', async () => {
    const r = await run('all.xtbuf', 1000, 4);
    assert.equal(r.records, 1000);
    assert.equal(r.clock, 'monotonic');
    assert.equal(r.wrappedLost, 0);
    assert.deepEqual([...r.pids], [r.pid], 'the header pid is the program');
    assert.equal(r.comm, 'example');
    const kept = checkThreads(r, 1000, 4);
    assert.deepEqual([...kept.entries()].sort(), [0, 1, 2, 3].map((t) => [t, hitsOf(1000, 4, t)]));
  });

  it('the command of the issue: xtrace ingest --db k.db out.xtbuf stores 1000 events', () => {
    const path = join(dir, 'cli.xtbuf');
    const db = join(dir, 'k.db');
    assert.equal(spawnSync(exe, [path, '1000', '4']).status, 0);
    const r = xtrace(['ingest', '--db', db, path]);
    assert.equal(r.status, 0, r.stderr);
    const conn = openDb(db, { readonly: true });
    try {
      assert.deepEqual(conn.prepare('SELECT format, events, lost_events, clock FROM sources').all(), [{ format: 'xtbuf', events: 1000, lost_events: 0, clock: 'monotonic' }]);
    } finally {
      conn.close();
    }
  });

  it('the worked example of the README: example-profile.json makes each thread\'s five points one complete request', () => {
    const path = join(dir, 'report.xtbuf');
    const db = join(dir, 'report.db');
    assert.equal(spawnSync(exe, [path, '1000', '4']).status, 0);
    assert.equal(xtrace(['ingest', '--db', db, path]).status, 0);
    const r = xtrace(['report', '--db', db, '--profile', join(KIT, 'example-profile.json'), '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { runs: { complete: number; incomplete: number; orphans: number; stages_ns: Record<string, number> }[] };
    const [run] = report.runs;
    assert.deepEqual([run?.complete, run?.incomplete, run?.orphans], [200, 0, 0]);
    assert.deepEqual(Object.keys(run!.stages_ns), ['td_get_req->td_issue', 'td_issue->td_aio_submit', 'td_aio_submit->td_aio_done', 'td_aio_done->td_rsp']);
  });

  it('a wrapped ring (XTBUF_RING=64, 4 threads): the newest 64 survive, each thread a suffix of its hits; 936 counted lost', async () => {
    const r = await run('wrapped4.xtbuf', 1000, 4, { XTBUF_RING: '64' });
    assert.equal(r.records, 64);
    assert.equal(r.wrappedLost, 936);
    const kept = checkThreads(r, 1000, 4);
    assert.equal([...kept.values()].reduce((a, b) => a + b, 0), 64);
  });

  it('a wrapped ring, one thread: exactly hits 936..999 survive', async () => {
    const r = await run('wrapped1.xtbuf', 1000, 1, { XTBUF_RING: '64' });
    assert.equal(r.wrappedLost, 936);
    assert.deepEqual(r.perThread.get(0)?.j, Array.from({ length: 64 }, (_, k) => 936 + k));
    checkThreads(r, 1000, 1);
  });

  it('a ring of exactly N records does not wrap', async () => {
    const r = await run('exact.xtbuf', 100, 2, { XTBUF_RING: '100' });
    assert.equal(r.records, 100);
    assert.equal(r.wrappedLost, 0);
    checkThreads(r, 100, 2);
  });

  it('the dump from the signal handler (xtbuf_dump_on_signal) holds the same records', async () => {
    const r = await run('signal.xtbuf', 1000, 4, { XTBUF_DUMP: 'signal' });
    assert.equal(r.records, 1000);
    const kept = checkThreads(r, 1000, 4);
    assert.equal(kept.size, 4);
  });

  it('XTBUF_CLOCK=realtime: the header says realtime and timestamps are wall-clock ns', async () => {
    const wallNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
    const r = await run('realtime.xtbuf', 50, 2, { XTBUF_CLOCK: 'realtime' }, () => wallNs());
    assert.equal(r.clock, 'realtime');
    // Date.now() has ms resolution: widen the window by 1 ms on the late side.
    checkThreads({ ...r, to: r.to + 1_000_000n }, 50, 2);
  });

  it('a bad XTBUF_RING or XTBUF_CLOCK is refused at start-up, naming them', () => {
    for (const env of [{ XTBUF_RING: '0' }, { XTBUF_RING: 'lots' }, { XTBUF_CLOCK: 'sundial' }]) {
      const r = spawnSync(exe, [join(dir, 'bad.xtbuf'), '10'], { encoding: 'utf8', env: { ...process.env, ...env } });
      assert.equal(r.status, 1, JSON.stringify(env));
      assert.match(r.stderr, /xtbuf_init: Invalid argument \(check XTBUF_RING and XTBUF_CLOCK\)/);
    }
  });
});

/** One call of each macro of xen-probes-kernel.h and the line it must print. */
const KERNEL_CALLS: [call: string, line: string][] = [
  ['XT_FE_QUEUE(51712, 1, 3, \'R\', 2048, 8)', 'xt fe_queue vdev=51712 ring=1 id=3 op=R sector=2048 nsec=8'],
  ['XT_FE_NOTIFY(51712, 1)', 'xt fe_notify vdev=51712 ring=1'],
  ['XT_FE_IRQ(51712, 1)', 'xt fe_irq vdev=51712 ring=1'],
  ['XT_FE_RSP(51712, 1, 3, -1)', 'xt fe_rsp vdev=51712 ring=1 id=3 status=-1'],
  ['XT_FE_END(51712, 1, 3)', 'xt fe_end vdev=51712 ring=1 id=3'],
  ['XT_BE_IRQ(5, 51712, 1)', 'xt be_irq domid=5 vdev=51712 ring=1'],
  ['XT_BE_GET_REQ(5, 51712, 1, 3, \'W\', 18446744073709551615ULL, 4294967295U)', 'xt be_get_req domid=5 vdev=51712 ring=1 id=3 op=W sector=18446744073709551615 nsec=4294967295'],
  ['XT_BE_MAP(5, 51712, 1, 3, 2, 1, 1)', 'xt be_map domid=5 vdev=51712 ring=1 id=3 nseg=2 new=1 persistent=1'],
  ['XT_BE_SUBMIT(5, 51712, 1, 3, 2)', 'xt be_submit domid=5 vdev=51712 ring=1 id=3 nbio=2'],
  ['XT_BE_BIO_DONE(5, 51712, 1, 3, 0)', 'xt be_bio_done domid=5 vdev=51712 ring=1 id=3 status=0'],
  ['XT_BE_RSP(5, 51712, 1, 3, -2, 7)', 'xt be_rsp domid=5 vdev=51712 ring=1 id=3 status=-2 notify=1'],
  ['XT_TAP_QUEUE(4, \'F\', 0, 0)', 'xt tap_queue minor=4 op=F sector=0 nsec=0'],
  ['XT_TAP_SUBMIT(4, 17, \'D\', 4096, 2048)', 'xt tap_submit minor=4 idx=17 op=D sector=4096 nsec=2048'],
  ['XT_TAP_END(4, 17, -5)', 'xt tap_end minor=4 idx=17 status=-5'],
];

describe('xen-probes-kernel.h (compiled in userspace: no Xen here)', { skip }, () => {
  let lines: string[] = [];
  const { dir, cleanup } = tempDir();
  after(() => cleanup());

  before(() => {
    const src = join(dir, 'probes.c');
    const body = KERNEL_CALLS.map(([call]) => `  ${call};`).join('\n');
    writeFileSync(src, `#include <stdio.h>\n#define CONFIG_XT_PROBES\n#define trace_printk printf\n#include "xen-probes-kernel.h"\nint main(void) {\n${body}\n  return 0;\n}\n`);
    const exe = join(dir, 'probes');
    const cc = spawnSync('cc', ['-std=gnu11', '-Wall', '-Wextra', '-Wformat=2', '-Werror', '-I', KIT, src, '-o', exe], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `cc failed:\n${cc.stderr}${String(cc.error ?? '')}`);
    const r = spawnSync(exe, { encoding: 'utf8' });
    assert.equal(r.status, 0);
    lines = r.stdout.split('\n').slice(0, -1);
  });

  it('each macro prints its contract line exactly', () => {
    assert.deepEqual(lines, KERNEL_CALLS.map(([, line]) => line));
  });

  it('every kernel point of the xen-blkback and xen-blktap2 profiles has a macro whose line it matches, with the keys it joins on', () => {
    const seen = new Set<string>();
    for (const point of [...xenBlkback.points, ...xenBlktap2.points]) {
      if (point.match === undefined || !point.match.startsWith('^xt ')) continue;
      seen.add(point.name);
      const line = lines.find((l) => new RegExp(point.match!).test(l));
      assert.ok(line !== undefined, `no macro prints a line for ${point.name} (${point.match})`);
      const printed = new Set([...line.matchAll(/ (\w+)=/g)].map((m) => m[1]!));
      const on = point.join?.on;
      const needed = [...(Array.isArray(on) ? on : Object.keys(on ?? {})), ...(point.keys ?? [])];
      // domid on fe_* is optional (xen-probes.md decision 3): blkfront learns it only from xenstore.
      for (const key of needed.filter((k) => !(k === 'domid' && point.name.startsWith('fe_')))) {
        assert.ok(printed.has(key), `${point.name}: the line lacks ${key}=: ${line}`);
      }
    }
    assert.equal(seen.size, 14, `kernel points seen: ${[...seen].join(' ')}`);
  });
});
