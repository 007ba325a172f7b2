/**
 * The tail and the shape beside the headline, throughput per run, --group-by and the µs-timestamp
 * note, through the whole pipeline: on hand-made traces whose every time is known, and on the real
 * capture against computations that do not use the breakdown (SQL over the stored requests, the
 * run markers' events, fio's own io_bytes).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, SAMPLES, tempDir, xtrace } from '../helpers.js';
import { loadProfile } from '../../src/profiles/index.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import type { ReportModel } from '../../src/report/model.js';
import { mark, request, requests, writeTrace } from './traces.js';

const US = 1000;

describe('the tail on hand-made requests', () => {
  let t: { dir: string; cleanup: () => void };
  before(() => (t = tempDir()));
  after(() => t.cleanup());

  it('untrimmed mean and nearest-rank percentiles; the flip of the dominant stage is flagged (text and JSON)', () => {
    // 9 requests of 50 µs (40 in the device, 5 to return), 1 that waits 1000 µs to return.
    const f = writeTrace(t.dir, 'flip.txt', [...requests(0, 9), ...request({ t0: 900, sector: 5000, stages: [2, 1, 1, 40, 1, 1000] })]);
    const db = join(t.dir, 'flip.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    const r = xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ReportModel;
    // trim 10% of 10: the fastest (the first of the equal ones) and the 1045 µs one are dropped.
    assert.equal(m.total.mean_ns, 50 * US);
    // Untrimmed, by hand: totals 50 ×9 and 1045 µs → mean 149.5 µs, p50 = rank 5 = 50, p90 = rank 9 = 50, p99 = rank 10 = 1045.
    assert.deepEqual([m.total.untrimmed_mean_ns, m.total.p50_ns, m.total.p90_ns, m.total.p99_ns], [149.5 * US, 50 * US, 50 * US, 1045 * US]);
    const exit = m.stages.find((s) => s.name === 'rq_complete->syscall_exit')!;
    assert.deepEqual([exit.untrimmed_mean_ns, exit.p50_ns, exit.p90_ns, exit.p99_ns], [104.5 * US, 5 * US, 5 * US, 1000 * US]);
    assert.equal(exit.untrimmed_share, 104.5 / 149.5);
    assert.deepEqual(m.shape, {
      requests: 10,
      dominant_stage_trimmed: 'rq_issue->irq',
      dominant_share_trimmed: 0.8,
      dominant_stage_untrimmed: 'rq_complete->syscall_exit',
      dominant_share_untrimmed: 104.5 / 149.5,
      dominant_differs: true,
    });
    const text = xtrace(['report', '--db', db, '-p', 'linux-block']).stdout;
    assert.match(text, /^untrimmed, 10 requests \(after warm-up\): mean 149\.500 µs · p50 50\.000 µs · p90 50\.000 µs · p99 1045\.000 µs$/m);
    assert.match(text, /^note: untrimmed, rq_complete->syscall_exit dominates \(69\.9%\) instead of rq_issue->irq \(80\.0% trimmed\)/m);
    // No markers: one run, no duration.
    assert.deepEqual([m.runs[0]!.duration_ns, m.runs[0]!.requests_per_s, m.runs[0]!.bytes, m.runs[0]!.mb_per_s], [null, null, 10 * 4096, null]);
  });

  it('no flip: no note; --warmup drops the first requests of each run from the tail too', () => {
    const f = writeTrace(t.dir, 'steady.txt', [...request({ t0: 0, sector: 9000, stages: [2, 1, 1, 400, 1, 5] }), ...requests(500, 4)]);
    const h = join(t.dir, 'steady.db');
    assert.equal(xtrace(['ingest', '--db', h, '--quiet', f]).status, 0);
    const r = xtrace(['report', '--db', h, '-p', 'linux-block', '--warmup', '1', '--format', 'json']);
    const m = JSON.parse(r.stdout) as ReportModel;
    assert.equal(m.shape.requests, 4);
    assert.deepEqual([m.total.untrimmed_mean_ns, m.total.p99_ns], [50 * US, 50 * US]);
    assert.equal(m.shape.dominant_differs, false);
    assert.doesNotMatch(xtrace(['report', '--db', h, '-p', 'linux-block', '--warmup', '1']).stdout, /^note: untrimmed/m);
  });

  it('throughput per run: duration between the markers, requests/s, bytes, MB/s (MB = 10^6 B)', () => {
    // Run 1: 3 reads of 4096 B in 400 µs; run 2: 2 writes of 8192 B in 1000 µs.
    const f = writeTrace(t.dir, 'tput.txt', [
      mark(0, '1 begin'),
      ...requests(10, 3),
      mark(400, '1 end'),
      mark(1000, '2 begin'),
      ...requests(1010, 2, { op: 'W', nsec: 16, sector: 4000 }),
      mark(2000, '2 end'),
    ]);
    const db = join(t.dir, 'tput.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    const m = JSON.parse(xtrace(['report', '--db', db, '-p', 'linux-block', '--trim', '0', '--format', 'json']).stdout) as ReportModel;
    const close = (a: number | null, b: number): void => assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * b, `${a} vs ${b}`);
    assert.deepEqual(
      m.runs.map((r) => [r.run, r.duration_ns, r.bytes]),
      [
        ['1', 400 * US, 3 * 4096],
        ['2', 1000 * US, 2 * 8192],
      ],
    );
    close(m.runs[0]!.requests_per_s, 3 / 400e-6);
    close(m.runs[0]!.mb_per_s, (3 * 4096) / 1e6 / 400e-6);
    close(m.runs[1]!.requests_per_s, 2 / 1000e-6);
    close(m.runs[1]!.mb_per_s, (2 * 8192) / 1e6 / 1000e-6);
    const text = xtrace(['report', '--db', db, '-p', 'linux-block', '--trim', '0']).stdout;
    assert.match(text, /^ {2}1 +3 +3 +50\.000 µs +0\.400 ms +7500\.0 +12\.3 kB +30\.720$/m);
    assert.match(text, /^ {2}2 +2 +2 +50\.000 µs +1\.000 ms +2000\.0 +16\.4 kB +16\.384$/m);
  });

  it('--group-by op and size: one breakdown per group, each as its requests alone would give', () => {
    // Reads take 40 µs in the device, writes 100 µs; reads of 4096 B, writes of 8192 B.
    const lines = [
      mark(0, '1 begin'),
      ...requests(10, 4),
      ...requests(1000, 2, { op: 'W', nsec: 16, sector: 8000, stages: [2, 1, 1, 100, 1, 5], every: 200 }),
      mark(2000, '1 end'),
      mark(3000, '2 begin'),
      ...requests(3010, 2, { sector: 20000 }),
      mark(4000, '2 end'),
    ];
    const f = writeTrace(t.dir, 'rw.txt', lines);
    const db = join(t.dir, 'rw.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    for (const by of ['op', 'size'] as const) {
      const r = xtrace(['report', '--db', db, '-p', 'linux-block', '--trim', '0', '--group-by', by, '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout) as ReportModel;
      assert.equal(m.method.group_by, by);
      const groups = m.groups!;
      assert.deepEqual(
        groups.map((g) => [g.by, g.key, g.requests.complete, g.runs.map((x) => x.run), g.excluded_runs.map((x) => x.run)]),
        by === 'op'
          ? [
              ['op', 'R', 6, ['1', '2'], []],
              ['op', 'W', 2, ['1'], ['2']],
            ]
          : [
              ['size', '4096', 6, ['1', '2'], []],
              ['size', '8192', 2, ['1'], ['2']],
            ],
      );
      const [reads, writes] = groups;
      assert.equal(reads!.stages.find((s) => s.name === 'rq_issue->irq')!.mean_ns, 40 * US);
      assert.equal(writes!.stages.find((s) => s.name === 'rq_issue->irq')!.mean_ns, 100 * US);
      assert.equal(writes!.total.mean_ns, 110 * US);
      assert.deepEqual([writes!.runs[0]!.bytes, writes!.runs[0]!.duration_ns], [2 * 8192, 2000 * US]);
      // The whole report is unchanged by the grouping: run 1 averages 4 reads and 2 writes.
      assert.equal(m.runs[0]!.total_ns, (4 * 50 + 2 * 110) * US / 6);
    }
    const text = xtrace(['report', '--db', db, '-p', 'linux-block', '--trim', '0', '--group-by', 'op']).stdout;
    assert.match(text, /^op R · 2 runs, 6 complete requests, 6 kept$/m);
    assert.match(text, /^op W · 1 run \(1 more not averaged\), 2 complete requests, 2 kept$/m);
    assert.match(text, /^ {2}not in run 2: no complete request with op W in this run$/m);
    const csv = xtrace(['report', '--db', db, '-p', 'linux-block', '--trim', '0', '--group-by', 'size', '--format', 'csv']).stdout.trim().split('\n');
    assert.equal(csv[0], 'kind,name,from,to,mean_ns,stddev_ns,share,uncertainty_ns,run_1_ns,run_2_ns,untrimmed_mean_ns,p50_ns,p90_ns,p99_ns,group');
    assert.equal(csv.filter((l) => l.startsWith('total,')).map((l) => l.split(',').pop()).join(' '), ' size=4096 size=8192');
    assert.match(xtrace(['report', '--db', db, '-p', 'linux-block', '--group-by', 'dev']).stderr, /--group-by.*Allowed choices are op, size/);
  });
});

describe('the tail on the real capture, against independent computations', () => {
  let h: Awaited<ReturnType<typeof ingestAll>>;
  before(async () => (h = await ingestAll([join(SAMPLES, 'linux-block-default', 'trace.txt.gz')])));
  after(() => h.cleanup());

  for (const warmup of [0, 3]) {
    it(`untrimmed mean and nearest-rank percentiles = SQL over the stored requests (warm-up ${warmup})`, () => {
      const m = analyse(h.db, { profile: loadProfile('linux-block'), warmup, trim: 0.1, trimBy: 'total', version: 'test' }).model;
      // Independent: window functions over request_stages / requests of the complete requests in runs, warm-up (kept = 2) left out.
      const rows = h.db
        .prepare<{ name: string; mean: number; p50: number; p90: number; p99: number; n: number }>(
          `WITH v AS (
             SELECT s.stage AS name, s.duration_ns AS d FROM request_stages s JOIN requests r ON r.id = s.request_id
             WHERE r.status = 'complete' AND r.run IS NOT NULL AND r.kept != 2
             UNION ALL
             SELECT 'total', total_ns FROM requests WHERE status = 'complete' AND run IS NOT NULL AND kept != 2),
           k AS (SELECT name, d, row_number() OVER (PARTITION BY name ORDER BY d) AS k, count(*) OVER (PARTITION BY name) AS n FROM v)
           SELECT name, avg(d) AS mean, n,
                  max(CASE WHEN k * 100 >= 50 * n AND (k - 1) * 100 < 50 * n THEN d END) AS p50,
                  max(CASE WHEN k * 100 >= 90 * n AND (k - 1) * 100 < 90 * n THEN d END) AS p90,
                  max(CASE WHEN k * 100 >= 99 * n AND (k - 1) * 100 < 99 * n THEN d END) AS p99
           FROM k GROUP BY name`,
        )
        .all();
      const byName = new Map(rows.map((r) => [r.name, r]));
      assert.equal(byName.get('total')!.n, m.shape.requests);
      assert.equal(m.shape.requests, 1000 - 10 * warmup);
      for (const s of [...m.stages, { ...m.total, name: 'total' }]) {
        const e = byName.get(s.name)!;
        assert.ok(Math.abs(s.untrimmed_mean_ns! - e.mean) < 1e-6, `${s.name}: mean ${s.untrimmed_mean_ns} vs ${e.mean}`);
        assert.deepEqual([s.p50_ns, s.p90_ns, s.p99_ns], [e.p50, e.p90, e.p99], s.name);
      }
    });
  }

  it('per run: duration = end − begin marker (events), bytes = fio io_bytes, complete = fio total_ios', () => {
    const m = analyse(h.db, { profile: loadProfile('linux-block'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    const marks = h.db
      .prepare<{ args: string; ts: number }>("SELECT args, ts_ns AS ts FROM events WHERE name = 'tracing_mark_write' AND args LIKE 'xtrace: run=%'")
      .all()
      .map((r) => {
        const [, run, edge] = /run=(\S+) (begin|end)/.exec(r.args)!;
        return { ts: r.ts, run, edge };
      });
    for (const r of m.runs) {
      const at = (edge: string): number => marks.find((x) => x.run === r.run && x.edge === edge)!.ts;
      assert.equal(r.duration_ns, at('end') - at('begin'), `run ${r.run}`);
      const fio = JSON.parse(readFileSync(join(SAMPLES, 'linux-block-default', `fio-run${r.run}.json`), 'utf8')) as { jobs: { read: { io_bytes: number; total_ios: number } }[] };
      assert.equal(r.bytes, fio.jobs[0]!.read.io_bytes, `run ${r.run}`);
      assert.equal(r.complete, fio.jobs[0]!.read.total_ios, `run ${r.run}`);
      assert.equal(r.requests_per_s, r.complete / (r.duration_ns! / 1e9));
      assert.equal(r.mb_per_s, r.bytes! / 1e6 / (r.duration_ns! / 1e9));
    }
  });

  it('whole-µs timestamps are marked (text) and given (JSON); a nanosecond source is not', async () => {
    const m = analyse(h.db, { profile: loadProfile('linux-block'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    assert.deepEqual(m.data_quality.sources.map((s) => s.timestamp_resolution_ns), [1000]);
    assert.ok(m.stages.every((s) => s.timestamp_resolution_ns === 1000));
    assert.equal(m.total.timestamp_resolution_ns, 1000);
    // The simulated blktap2 guest and dom0 print µs, tapdisk's xtbuf dump ns: only stages within tapdisk are ns.
    const x = await ingestAll([]);
    try {
      for (const [file, domain] of [
        ['guest.trace.gz', 'domU'],
        ['dom0.trace.gz', 'dom0'],
        ['tapdisk.xtbuf.gz', 'tapdisk'],
      ] as const)
        await ingestFile(x.db, { path: join(SAMPLES, 'sim-blktap2', file) }, { domain });
      const mx = analyse(x.db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
      assert.deepEqual(
        mx.data_quality.sources.map((s) => [s.domain, s.timestamp_resolution_ns]),
        [
          ['domU', 1000],
          ['dom0', 1000],
          ['tapdisk', 1],
        ],
      );
      assert.deepEqual(
        mx.stages.filter((s) => s.timestamp_resolution_ns === 1).map((s) => s.name),
        ['td_get_req->td_issue', 'td_issue->td_aio_submit', 'td_aio_submit->td_aio_done', 'td_aio_done->td_rsp'],
      );
    } finally {
      x.cleanup();
    }
    const text = xtrace(['report', '--db', h.dbPath, '-p', 'linux-block']).stdout;
    assert.match(text, /^µs timestamps \(trace\.txt\.gz\): every stage timed in whole µs per request \(±1 µs\)/m);
  });
});
