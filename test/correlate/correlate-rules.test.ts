/**
 * Matching rules on hand-made Xen traces where every time is known, and each bad input of
 * `xtrace report` (one test each: clear message, exit 2, no output file).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, SAMPLES, tempDir, xtrace } from '../helpers.js';
import { builtinProfileDocument, builtinProfileNames, loadProfile, parseProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import type { Db } from '../../src/db/db.js';

/** One ftrace line: time in µs after 1000 s. */
function line(us: number, task: string, cpu: number, func: string, msg: string): string {
  const ts = (1000 + us / 1e6).toFixed(6);
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${func}: ${msg}`;
}
const tsOf = (l: string): number => Number(/ (\d+\.\d{6}):/.exec(l)![1]);
/** An ftrace text file: lines sorted by time (stable: equal times keep their order). */
const trace = (lines: string[]): string => '# tracer: nop\n#\n' + [...lines].sort((a, b) => tsOf(a) - tsOf(b)).join('\n') + '\n';

const G = 'fio-300';
const B = 'blkback.5.xvda-90';
const I = '<idle>-0';
const FE = 'vdev=51712 ring=0';
const BE = 'domid=5 vdev=51712 ring=0';

/** A blkback request (one domain): point → µs; the disk takes `disk` µs (total 9 + disk). */
function blkback(t0: number, id: number, sector: number, disk = 5): string[] {
  const d = disk - 5;
  return [
    line(t0, G, 0, 'blkif_queue_rw_req', `xt fe_queue ${FE} id=${id} op=R sector=${sector} nsec=8`),
    line(t0 + 1, G, 0, 'flush_requests', `xt fe_notify ${FE}`),
    line(t0 + 2, I, 1, 'xen_blkif_be_int', `xt be_irq ${BE}`),
    line(t0 + 3, B, 1, '__do_block_io_op', `xt be_get_req ${BE} id=${id} op=R sector=${sector} nsec=8`),
    line(t0 + 4, B, 1, 'xen_blkbk_map', `xt be_map ${BE} id=${id} nseg=1 new=0 persistent=1`),
    line(t0 + 5, B, 1, 'dispatch_rw_block_io', `xt be_submit ${BE} id=${id} nbio=1`),
    line(t0 + 10 + d, I, 1, '__end_block_io_op', `xt be_bio_done ${BE} id=${id} status=0`),
    line(t0 + 11 + d, B, 1, 'make_response', `xt be_rsp ${BE} id=${id} status=0 notify=1`),
    line(t0 + 12 + d, I, 0, 'blkif_interrupt', `xt fe_irq ${FE}`),
    line(t0 + 13 + d, I, 0, 'blkif_interrupt', `xt fe_rsp ${FE} id=${id} status=0`),
    line(t0 + 14 + d, I, 0, 'blkif_complete_rq', `xt fe_end ${FE} id=${id}`),
  ];
}

function report(db: Db, profile: string, o: { trim?: number } = {}) {
  return analyse(db, { profile: loadProfile(profile), warmup: 0, trim: o.trim ?? 0, trimBy: 'total', version: 'test' }).model;
}

function pointsOf(db: Db): { status: string; points: (number | null)[] }[] {
  return db
    .prepare<{ status: string; points: string; start_ts_ns: number }>('SELECT status, points, start_ts_ns FROM requests ORDER BY seq')
    .all()
    .map((r) => ({ status: r.status, points: (JSON.parse(r.points) as (number | null)[]).map((p) => (p === null ? null : (r.start_ts_ns + p - 1000e9) / 1000)) }));
}

describe('Xen matching rules (one clock domain)', () => {
  let dir: { dir: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  async function run(lines: string[], profile = 'xen-blkback', trim = 0) {
    const f = join(dir.dir, `t${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(f, trace(lines));
    const h = await ingestAll([f]);
    try {
      const m = report(h.db, profile, { trim });
      const kept = h.db.prepare<{ kept: number }>('SELECT kept FROM requests ORDER BY seq').all().map((r) => r.kept);
      return { m, reqs: pointsOf(h.db), kept };
    } finally {
      h.cleanup();
    }
  }

  it('depth 1: the id is always 0, each point joins the open request, never a finished one', async () => {
    const { m, reqs } = await run([...blkback(10, 0, 100), ...blkback(40, 0, 100), ...blkback(70, 0, 108)]);
    assert.deepEqual(
      reqs.map((r) => r.status),
      ['complete', 'complete', 'complete'],
    );
    assert.deepEqual(
      reqs.map((r) => r.points),
      [10, 40, 70].map((t) => [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14].map((d) => t + d)),
    );
    assert.deepEqual(m.absent_points, ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'rq_complete', 'syscall_exit']);
    assert.equal(m.stages.find((s) => s.name === 'be_submit->be_bio_done')!.mean_ns, 5000);
    assert.equal(m.total.mean_ns, 14000);
  });

  it('depth 2: one notify and one irq shared, ids 0 and 1, completions out of order; another guest’s lines are not ours', async () => {
    const A = (id: number) => `${BE} id=${id}`;
    const lines = [
      line(50, G, 0, 'blkif_queue_rw_req', `xt fe_queue ${FE} id=0 op=R sector=300 nsec=8`),
      line(51, G, 0, 'blkif_queue_rw_req', `xt fe_queue ${FE} id=1 op=R sector=308 nsec=8`),
      line(52, G, 0, 'flush_requests', `xt fe_notify ${FE}`),
      // another guest (domid 7, same vdev and ring) interrupts dom0 first: its be_irq is not ours
      line(52.5, I, 1, 'xen_blkif_be_int', 'xt be_irq domid=7 vdev=51712 ring=0'),
      line(53, I, 1, 'xen_blkif_be_int', `xt be_irq ${BE}`),
      line(53.5, 'blkback.7.xvda-91', 1, '__do_block_io_op', 'xt be_get_req domid=7 vdev=51712 ring=0 id=0 op=R sector=999 nsec=8'),
      line(54, B, 1, '__do_block_io_op', `xt be_get_req ${A(0)} op=R sector=300 nsec=8`),
      line(55, B, 1, '__do_block_io_op', `xt be_get_req ${A(1)} op=R sector=308 nsec=8`),
      line(56, B, 1, 'xen_blkbk_map', `xt be_map ${A(0)} nseg=1 new=1 persistent=0`),
      line(57, B, 1, 'xen_blkbk_map', `xt be_map ${A(1)} nseg=1 new=1 persistent=0`),
      line(58, B, 1, 'dispatch_rw_block_io', `xt be_submit ${A(0)} nbio=1`),
      line(59, B, 1, 'dispatch_rw_block_io', `xt be_submit ${A(1)} nbio=1`),
      line(60, I, 1, '__end_block_io_op', `xt be_bio_done ${A(1)} status=0`),
      line(61, I, 1, '__end_block_io_op', `xt be_bio_done ${A(0)} status=0`),
      line(62, B, 1, 'make_response', `xt be_rsp ${A(1)} status=0 notify=1`),
      line(63, B, 1, 'make_response', `xt be_rsp ${A(0)} status=0 notify=1`),
      line(64, I, 0, 'blkif_interrupt', `xt fe_irq ${FE}`),
      line(65, I, 0, 'blkif_interrupt', `xt fe_rsp ${FE} id=1 status=0`),
      line(66, I, 0, 'blkif_interrupt', `xt fe_rsp ${FE} id=0 status=0`),
      line(67, I, 0, 'blkif_complete_rq', `xt fe_end ${FE} id=1`),
      line(68, I, 0, 'blkif_complete_rq', `xt fe_end ${FE} id=0`),
      // id 0 is free again: reused by the next request (LIFO free list)
      ...blkback(80, 0, 316),
    ];
    const { m, reqs } = await run(lines);
    assert.deepEqual(
      reqs.map((r) => r.points),
      [
        [50, 52, 53, 54, 56, 58, 61, 63, 64, 66, 68],
        [51, 52, 53, 55, 57, 59, 60, 62, 64, 65, 67],
        [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14].map((d) => 80 + d),
      ],
    );
    const unmatched = m.diagnostics.filter((d) => d.code === 'unmatched_event').map((d) => [d.point, d.count]);
    // the other guest's be_irq and be_get_req join nothing, and are counted
    assert.deepEqual(unmatched, [
      ['be_get_req', 1],
      ['be_irq', 1],
    ]);
  });

  it('an id-less point joins the first such event at or after the previous point', async () => {
    // Two fe_irq after be_rsp: the first one is the request's.
    const lines = blkback(10, 0, 100);
    lines.push(line(22.5, I, 0, 'blkif_interrupt', `xt fe_irq ${FE}`));
    // An fe_notify before the request's fe_queue cannot be its notify.
    lines.push(line(5, G, 0, 'flush_requests', `xt fe_notify ${FE}`));
    const { reqs, m } = await run(lines);
    assert.deepEqual(reqs[0]!.points, [10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24]);
    assert.deepEqual(
      m.diagnostics.filter((d) => d.code === 'unmatched_event').map((d) => [d.point, d.count]),
      [
        ['fe_notify', 1],
        ['fe_irq', 1],
      ],
    );
  });

  it('a request missing a point is incomplete, counted, and kept out of the averages', async () => {
    const lost = blkback(40, 0, 108).filter((l) => !l.includes('be_map'));
    const { m, reqs } = await run([...blkback(10, 0, 100), ...lost, ...blkback(70, 0, 116)]);
    assert.deepEqual(
      reqs.map((r) => r.status),
      ['complete', 'incomplete', 'complete'],
    );
    assert.equal(reqs[1]!.points[4], null);
    assert.equal(m.requests.incomplete, 1);
    assert.equal(m.runs[0]!.kept, 2);
    // Its own be_submit (keys only it can have) shows it skipped be_map (spec decision 8): it keeps
    // its later events, so none of them is offered to the next request.
    assert.ok(m.diagnostics.some((d) => d.code === 'point_skipped' && d.point === 'be_map'));
    assert.ok(reqs[1]!.points.slice(5).every((t) => t !== null));
    assert.ok(!m.diagnostics.some((d) => d.code === 'unmatched_event'));
  });

  it('a request never takes a later request’s event: each skipped point is counted, no event changes hands (decision 8)', async () => {
    // Three requests with id 0 (depth 1): the first lacks be_submit, the second be_map, the third is whole.
    const a = blkback(10, 0, 100).filter((l) => !l.includes('be_submit'));
    const b = blkback(40, 0, 108).filter((l) => !l.includes('be_map'));
    const { m, reqs } = await run([...a, ...b, ...blkback(70, 0, 116)]);
    assert.deepEqual(
      reqs.map((r) => r.status),
      ['incomplete', 'incomplete', 'complete'],
    );
    // Every present point holds the request's own event: its own times, nothing of its neighbours.
    assert.deepEqual(reqs[0]!.points, [10, 11, 12, 13, 14, null, 20, 21, 22, 23, 24]);
    assert.deepEqual(reqs[1]!.points, [40, 41, 42, 43, null, 45, 50, 51, 52, 53, 54]);
    assert.deepEqual(reqs[2]!.points, [70, 71, 72, 73, 74, 75, 80, 81, 82, 83, 84]);
    const skipped = m.diagnostics.filter((d) => d.code === 'point_skipped').map((d) => [d.point, d.count]);
    assert.deepEqual(skipped.sort(), [
      ['be_map', 1],
      ['be_submit', 1],
    ]);
    assert.equal(m.diagnostics.find((d) => d.code === 'point_skipped')!.severity, 'data_loss');
    assert.ok(!m.diagnostics.some((d) => d.code === 'unmatched_event'));
  });

  it('batched requests (depth 2, suppressed notifications) are complete, their absent points counted as info (decision 10)', async () => {
    // R1 notifies and wakes blkback; R2 is pushed while blkback is awake (no fe_notify, no be_irq of
    // its own). R1's response raises the interrupt (notify=1); R2's is pushed while the handler runs
    // (notify=0) and is delivered by it: no fe_irq of its own.
    const R1 = `${FE} id=0 op=R sector=100 nsec=8`;
    const R2 = `${FE} id=1 op=R sector=108 nsec=8`;
    const lines = [
      line(10, G, 0, 'blkif_queue_rw_req', `xt fe_queue ${R1}`),
      line(11, G, 0, 'flush_requests', `xt fe_notify ${FE}`),
      line(12, I, 1, 'xen_blkif_be_int', `xt be_irq ${BE}`),
      line(13, B, 1, '__do_block_io_op', `xt be_get_req ${BE} id=0 op=R sector=100 nsec=8`),
      line(13, G, 0, 'blkif_queue_rw_req', `xt fe_queue ${R2}`),
      line(14, B, 1, 'xen_blkbk_map', `xt be_map ${BE} id=0 nseg=1 new=0 persistent=1`),
      line(15, B, 1, 'dispatch_rw_block_io', `xt be_submit ${BE} id=0 nbio=1`),
      line(16, B, 1, '__do_block_io_op', `xt be_get_req ${BE} id=1 op=R sector=108 nsec=8`),
      line(17, B, 1, 'xen_blkbk_map', `xt be_map ${BE} id=1 nseg=1 new=0 persistent=1`),
      line(18, B, 1, 'dispatch_rw_block_io', `xt be_submit ${BE} id=1 nbio=1`),
      line(25, I, 1, '__end_block_io_op', `xt be_bio_done ${BE} id=0 status=0`),
      line(26, B, 1, 'make_response', `xt be_rsp ${BE} id=0 status=0 notify=1`),
      line(27, I, 0, 'blkif_interrupt', `xt fe_irq ${FE}`),
      line(28, I, 1, '__end_block_io_op', `xt be_bio_done ${BE} id=1 status=0`),
      line(29, B, 1, 'make_response', `xt be_rsp ${BE} id=1 status=0 notify=0`),
      line(30, I, 0, 'blkif_interrupt', `xt fe_rsp ${FE} id=0 status=0`),
      line(31, I, 0, 'blkif_complete_rq', `xt fe_end ${FE} id=0`),
      line(32, I, 0, 'blkif_interrupt', `xt fe_rsp ${FE} id=1 status=0`),
      line(33, I, 0, 'blkif_complete_rq', `xt fe_end ${FE} id=1`),
    ];
    const { m, reqs } = await run(lines);
    assert.deepEqual(
      reqs.map((r) => r.status),
      ['complete', 'complete'],
    );
    assert.deepEqual(reqs[0]!.points, [10, 11, 12, 13, 14, 15, 25, 26, 27, 30, 31]);
    assert.deepEqual(reqs[1]!.points, [13, null, null, 16, 17, 18, 28, 29, null, 32, 33]);
    const batched = m.diagnostics.filter((d) => d.code === 'point_batched').map((d) => [d.point, d.count, d.severity]);
    assert.deepEqual(batched, [
      ['fe_notify', 1, 'info'],
      ['be_irq', 1, 'info'],
      ['fe_irq', 1, 'info'],
    ]);
    assert.ok(!m.diagnostics.some((d) => d.severity === 'data_loss'));
    assert.equal(m.requests.complete, 2);
  });

  it('a request waits for a point no longer than the data makes plausible (decision 8)', async () => {
    // 120 whole requests teach the matcher how long be_map → be_submit takes (1 µs). Then R loses
    // everything after be_map, and S (same id, 3 ms later) loses be_map: S's be_submit is S's own.
    const whole = Array.from({ length: 120 }, (_, k) => blkback(10 + 30 * k, 0, 100 + 8 * k));
    const r = blkback(5000, 0, 9000).slice(0, 5);
    const sReq = blkback(8000, 0, 9008).filter((l) => !l.includes('be_map'));
    const { m, reqs } = await run([...whole.flat(), ...r, ...sReq, ...blkback(8100, 0, 9016)]);
    assert.deepEqual(
      reqs.map((x) => x.status),
      [...whole.map(() => 'complete'), 'incomplete', 'incomplete', 'complete'],
    );
    assert.deepEqual(reqs[120]!.points, [5000, 5001, 5002, 5003, 5004, null, null, null, null, null, null]);
    assert.deepEqual(reqs[121]!.points, [8000, 8001, 8002, 8003, null, 8005, 8010, 8011, 8012, 8013, 8014]);
    const skipped = m.diagnostics.filter((d) => d.code === 'point_skipped').map((d) => [d.point, d.count]);
    assert.deepEqual(skipped.sort(), [
      ['be_map', 1],
      ['be_submit', 1],
    ]);
    assert.ok(!m.diagnostics.some((d) => d.code === 'open_at_end'));
  });

  it('a notification half seen is a missing point, not a batched one', async () => {
    // fe_notify skipped but its be_irq (nobody else's) is there: a notify happened that the trace lacks.
    const a = blkback(10, 0, 100).filter((l) => !l.includes('fe_notify'));
    // be_rsp said notify=1 but no fe_irq: missing.
    const b = blkback(40, 0, 108).filter((l) => !l.includes('fe_irq'));
    const { m, reqs } = await run([...a, ...b, ...blkback(70, 0, 116)]);
    assert.deepEqual(
      reqs.map((r) => r.status),
      ['incomplete', 'incomplete', 'complete'],
    );
    assert.ok(!m.diagnostics.some((d) => d.code === 'point_batched'));
    assert.deepEqual(
      m.diagnostics.filter((d) => d.code === 'point_lost_or_absent').map((d) => d.point),
      ['fe_notify', 'fe_irq'],
    );
  });

  it('the guest block layer extends the path when the guest trace has it (optional points)', async () => {
    const ext = [
      `${G.padStart(22)} [000] ..... ${(1000 + 5e-6).toFixed(6).padStart(12)}: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x0)`,
      line(6, G, 0, 'block_bio_queue', '202,0 R 100 + 8 [fio]'),
      line(7, G, 0, 'block_rq_insert', '202,0 R 4096 () 100 + 8 be,0,4 [fio]'),
      line(8, G, 0, 'block_rq_issue', '202,0 R 4096 () 100 + 8 be,0,4 [fio]'),
      ...blkback(10, 0, 100),
      line(26, I, 0, 'block_rq_complete', '202,0 R () 100 + 8 be,0,4 [0]'),
      `${G.padStart(22)} [000] ..... ${(1000 + 30e-6).toFixed(6).padStart(12)}: sys_pread64 -> 0x1000`,
    ];
    const { m, reqs } = await run(ext);
    assert.deepEqual(m.absent_points, []);
    assert.equal(m.points.length, 17);
    assert.deepEqual(reqs[0]!.points, [5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 26, 30]);
    assert.equal(m.total.mean_ns, 25000);
  });

  it('markers delimit runs (any event name); requests outside runs are counted, not averaged', async () => {
    const mark = (us: number, what: string) => line(us, 'bash-1', 0, 'tracing_mark_write', `xtrace: run=${what}`);
    const { m } = await run([mark(1, 'one begin'), ...blkback(10, 0, 100), ...blkback(40, 0, 108), mark(60, 'one end'), ...blkback(70, 0, 116), mark(100, 'two begin'), ...blkback(110, 0, 100), mark(130, 'two end')]);
    assert.deepEqual(
      m.runs.map((r) => [r.run, r.complete]),
      [
        ['one', 2],
        ['two', 1],
      ],
    );
    assert.equal(m.requests.outside_runs, 1);
  });

  it('trimming drops floor(F·n) fastest and slowest by total; ties broken by start order', async () => {
    // Totals 14 µs except request 2 (disk 25 µs: total 34) and request 5 (disk 45: total 54) and request 7 (disk 1: total 10).
    const disks = [5, 25, 5, 5, 45, 5, 1, 5, 5, 5];
    const lines = disks.flatMap((disk, i) => blkback(i * 100, 0, 8 * (i + 1), disk));
    const { m, kept } = await run(lines, 'xen-blkback', 0.2);
    assert.deepEqual(kept, [0, 0, 1, 1, 0, 1, 0, 1, 1, 1]);
    // n = 10, k = 2: drop the two fastest (request 7, then request 1: the first by start among the equal totals)
    // and the two slowest (requests 5 and 2): six requests of 14 µs remain.
    assert.equal(m.runs[0]!.kept, 6);
    assert.equal(m.total.mean_ns, 14000);
    assert.equal(m.stages.find((s) => s.name === 'be_submit->be_bio_done')!.mean_ns, 5000);
  });
});

describe('bad input to xtrace report: one clear message, exit 2, no output file', () => {
  let dir: { dir: string; cleanup: () => void };
  let good: string;
  before(() => {
    dir = tempDir();
    good = join(dir.dir, 'good.db');
    assert.equal(xtrace(['ingest', '--db', good, '--quiet', join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
  });
  after(() => dir.cleanup());

  function fails(args: string[], re: RegExp): void {
    const out = join(dir.dir, 'out.json');
    const r = xtrace(['report', ...args, '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l !== '(run with --help for usage)').length, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(out), 'no partial output file');
  }

  it('unknown profile', () => fails(['--db', good, '-p', 'linux-blok'], /unknown profile "linux-blok": built-in profiles are linux-block, io_uring, linux-aio, block, xen-blkback/));

  it('profile with a typo’d field names the field', () => {
    const f = join(dir.dir, 'typo.json');
    const p = structuredClone(builtinProfileDocument('linux-block')!) as Record<string, unknown> & { points: Record<string, unknown>[] };
    p.points[2]!['optionl'] = true;
    writeFileSync(f, JSON.stringify(p));
    fails(['--db', good, '-p', f], /typo\.json: profile field points\[2\]\(rq_insert\): unknown field "optionl"/);
  });

  it('profile that is not JSON, or joins on a field no earlier point provides', () => {
    const f = join(dir.dir, 'bad.json');
    writeFileSync(f, '{ "xtrace_profile": 1, ');
    fails(['--db', good, '-p', f], /bad\.json: the profile is not valid JSON/);
    const p = structuredClone(builtinProfileDocument('linux-block')!) as { points: { join?: { on: string[] } }[] };
    p.points[2]!.join = { on: ['dev', 'sectr'] };
    writeFileSync(f, JSON.stringify(p));
    fails(['--db', good, '-p', f], /profile field points\[2\]\(rq_insert\)\.join\.on: request field "sectr" is not in the keys of any earlier point/);
  });

  it('a database with no matching event', () => {
    const other = join(dir.dir, 'other.db');
    assert.equal(xtrace(['ingest', '--db', other, '--quiet', join(SAMPLES, 'public', 'trappy__tests_raw_trace.txt')]).status, 0);
    fails(['--db', other, '-p', 'xen-blkback'], /no event in .*other\.db matches profile xen-blkback .*xtrace summary/);
  });

  it('a run with no complete request, with --strict (without it the other runs are reported: test/report/refusals.test.ts)', async () => {
    const f = join(dir.dir, 'norun.txt');
    const mark = (us: number, what: string) => line(us, 'bash-1', 0, 'tracing_mark_write', `xtrace: run=${what}`);
    writeFileSync(f, trace([mark(1, '1 begin'), ...blkback(10, 0, 100), mark(30, '1 end'), mark(40, '2 begin'), ...blkback(50, 0, 108).slice(0, 5), mark(90, '2 end')]));
    const db = join(dir.dir, 'norun.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    fails(['--db', db, '-p', 'xen-blkback', '--strict'], /--strict: 1 run cannot be averaged \(run 2: no complete request/);
  });

  it('inconsistent clocks: the contradiction is reported, no offset invented', () => {
    // The guest sees 10 µs between notify and interrupt; dom0 says it worked 40 µs in between.
    const guest = join(dir.dir, 'guest.txt');
    const dom0 = join(dir.dir, 'dom0.txt');
    const all = [...blkback(10, 0, 100), ...blkback(100, 0, 108)];
    const isGuest = (l: string) => / xt fe_/.test(l);
    writeFileSync(guest, trace(all.filter(isGuest)));
    writeFileSync(dom0, trace(all.filter((l) => !isGuest(l)).map((l) => (/be_(bio_done|rsp)/.test(l) ? shiftLine(l, 30) : l))));
    const db = join(dir.dir, 'clocks.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', '--domain', 'domU', guest]).status, 0);
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', '--domain', 'dom0', dom0]).status, 0);
    fails(['--db', db, '-p', 'xen-blkback'], /inconsistent clocks between domains domU and dom0: causality needs .* no offset satisfies both/);
  });

  it('a domain with no time base (counter clock)', () => {
    const f = join(dir.dir, 'counter.txt');
    writeFileSync(f, '# tracer: nop\n             fio-1     [000] .....  123456789: block_bio_queue: 8,0 R 8 + 8 [fio]\n');
    const db = join(dir.dir, 'counter.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    fails(['--db', db, '-p', 'linux-block'], /counter\.txt: domain default has no time base .*--tsc-hz/);
  });

  it('bad options: --trim out of range, --offset malformed or naming no domain, --format unknown', () => {
    fails(['--db', good, '-p', 'linux-block', '--trim', '0.5'], /--trim.*expected a fraction in \[0, 0\.5\)/);
    fails(['--db', good, '-p', 'linux-block', '--offset', 'dom0:5'], /expected DOMAIN=NANOSECONDS/);
    fails(['--db', good, '-p', 'linux-block', '--offset', 'dom0=5'], /--offset dom0=…: no domain named dom0 in the database \(domains: default\)/);
    fails(['--db', good, '-p', 'linux-block', '--format', 'xml'], /--format.*xml.*Allowed choices are table, json, csv, markdown/);
    fails(['--db', join(dir.dir, 'missing.db'), '-p', 'linux-block'], /missing\.db: no such database/);
  });

  it('profile validation runs on every built-in profile', () => {
    for (const name of builtinProfileNames()) assert.equal(loadProfile(name).name, name);
    assert.throws(() => parseProfile({ xtrace_profile: 1, name: 'x', points: [{ name: 'a', event: 'e' }] }, 'p.json'), /p\.json: profile field points: Too small/);
  });
});

function shiftLine(l: string, us: number): string {
  return l.replace(/(\d+)\.(\d{6}):/, (_m, s: string, f: string) => {
    const t = Number(s) * 1e6 + Number(f) + us;
    return `${Math.floor(t / 1e6)}.${String(t % 1e6).padStart(6, '0')}:`;
  });
}
