/**
 * Correlation and report: against the independent SQL oracle on the real captures (to the ns),
 * and hand-made traces where every number is known (id reuse, depth > 1, id-less points, optional
 * points, markers, warm-up, both trim modes).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyseWith, ingestAll, READERS, SAMPLES, tempDir, xtrace } from '../helpers.js';
import { expectedLinuxBlock, SYNTHETIC } from './linux-block-expected.js';
import { loadProfile } from '../../src/profiles/index.js';
import type { AnalysisOptions } from '../../src/pipeline/analyse.js';
import { correlate } from '../../src/correlate/correlate.js';
import type { ReportModel } from '../../src/report/model.js';
import type { Db } from '../../src/db/db.js';

/** The report model, with events read on this thread or on the reader thread (both are checked against the oracle). */
async function report(db: Db, reader: (typeof READERS)[number], o: Partial<AnalysisOptions> & { profileName?: string } = {}): Promise<ReportModel> {
  const { profileName, ...rest } = o;
  return (await analyseWith(db, reader, { profile: loadProfile(profileName ?? 'linux-block'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test', ...rest })).model;
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

const CAPTURES = ['linux-block-default', 'linux-block-tgid', 'linux-block-tracecmd'];

describe('linux-block on the real captures equals the independent SQL computation', () => {
  for (const cap of CAPTURES) {
    describe(cap, () => {
      let db: Db;
      let cleanup: () => void;
      before(async () => {
        ({ db, cleanup } = await ingestAll([join(SAMPLES, cap, 'trace.txt.gz')]));
      });
      after(() => cleanup());

      for (const reader of READERS) {
        for (const opts of [
          { trim: 0.1, warmup: 0 },
          { trim: 0, warmup: 0 },
          { trim: 0.25, warmup: 10 },
        ]) {
          it(`trim ${opts.trim}, warm-up ${opts.warmup}: 10 runs of 100 complete requests, every mean to the ns (events read ${reader})`, async () => {
            const m = await report(db, reader, opts);
            const e = expectedLinuxBlock(db, opts);
            assert.deepEqual(
              m.runs.map((r) => [r.run, r.complete, r.incomplete, r.kept]),
              e.runs.map((r) => [r.run, r.complete, 0, r.kept]),
            );
            assert.equal(m.runs.length, 10);
            for (const r of m.runs) assert.equal(r.complete, 100);
            m.runs.forEach((r, i) => {
              const x = e.runs[i]!;
              for (const [s, v] of Object.entries(x.stages_ns)) close(r.stages_ns[s]!, v, `run ${r.run} ${s}`);
              close(r.total_ns, x.total_ns, `run ${r.run} total`);
            });
            assert.deepEqual(
              m.stages.map((s) => s.name),
              e.stages.map((s) => s.name),
            );
            m.stages.forEach((s, i) => {
              close(s.mean_ns, e.stages[i]!.mean_ns, s.name);
              close(s.stddev_ns!, e.stages[i]!.stddev_ns!, `${s.name} stddev`);
            });
            close(m.total.mean_ns, e.total.mean_ns, 'total');
            close(m.stages.reduce((a, s) => a + s.mean_ns, 0), m.total.mean_ns, 'stages add up');
          });
        }

        it(`stores every request: SQL over request_stages gives the report’s run means (events read ${reader})`, async () => {
          const m = await report(db, reader);
          const rows = db
            .prepare<{ run: string; stage: string; mean: number; n: number }>(
              `SELECT run, stage, avg(duration_ns) AS mean, count(*) AS n FROM request_stages
               WHERE correlation_id = (SELECT id FROM correlations WHERE profile = 'linux-block')
                 AND request_id IN (SELECT id FROM requests WHERE kept = 1)
               GROUP BY run, stage`,
            )
            .all();
          assert.equal(rows.length, 60);
          for (const r of rows) {
            const run = m.runs.find((x) => x.run === r.run)!;
            assert.equal(r.n, run.kept);
            close(r.mean, run.stages_ns[r.stage]!, `${r.run} ${r.stage}`);
          }
          const status = db.prepare<{ status: string; n: number }>("SELECT status, count(*) AS n FROM requests WHERE run IS NOT NULL GROUP BY status ORDER BY status").all();
          assert.deepEqual(status.find((s) => s.status === 'complete')?.n, 1000);
        });

        it(`--trim-by stage trims each stage on its own (checked against SQL over the stored stages; events read ${reader})`, async () => {
          const m = await report(db, reader, { trimBy: 'stage' });
          assert.equal(m.method.stages_add_up, false);
          const durations = db
            .prepare<{ run: string; stage: string; d: number }>(
              `SELECT s.run, s.stage, s.duration_ns AS d FROM request_stages s JOIN requests r ON r.id = s.request_id
               WHERE r.status = 'complete' AND r.run IS NOT NULL ORDER BY s.run, s.stage, r.seq`,
            )
            .all();
          // The loops below must have something to check: 10 runs × 6 stages, 100 requests each.
          assert.equal(m.runs.length, 10);
          let checked = 0;
          for (const run of m.runs) {
            assert.deepEqual(Object.keys(run.stages_ns), m.stages.map((s) => s.name));
            for (const stage of Object.keys(run.stages_ns)) {
              const v = durations.filter((x) => x.run === run.run && x.stage === stage).map((x) => x.d).sort((a, b) => a - b);
              assert.equal(v.length, 100, `${run.run} ${stage}`);
              const k = Math.floor(0.1 * v.length);
              const kept = v.slice(k, v.length - k);
              close(run.stages_ns[stage]!, kept.reduce((a, x) => a + x, 0) / kept.length, `${run.run} ${stage}`);
              checked++;
            }
          }
          assert.equal(checked, 60);
        });
      }
    });
  }

  it('the CLI prints the JSON contract and says why page-cache reads are not requests', () => {
    const t = tempDir();
    try {
      const db = join(t.dir, 'r.db');
      assert.equal(xtrace(['ingest', '--db', db, '--quiet', join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
      const r = xtrace(['report', '--db', db, '--profile', 'linux-block', '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout) as ReportModel;
      assert.equal(j.version, 1);
      assert.equal(j.profile, 'linux-block');
      assert.deepEqual(j.points, ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'syscall_exit']);
      assert.equal(j.runs.length, 10);
      assert.deepEqual(j.domains.map((d) => [d.name, d.method, d.offset_ns, d.uncertainty_ns]), [['default', 'reference', 0, 0]]);
      assert.equal(j.requests.not_requests, 42);
      assert.equal(j.requests.incomplete, 0);
      assert.ok(j.requests.orphans > 0);
      for (const fmt of ['table', 'csv', 'markdown']) {
        const o = xtrace(['report', '--db', db, '-p', 'linux-block', '--format', fmt]);
        assert.equal(o.status, 0, o.stderr);
        assert.match(o.stdout, /rq_issue->irq/);
      }
      const csv = xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'csv']).stdout.trim().split('\n');
      assert.equal(csv[0], 'kind,name,from,to,mean_ns,stddev_ns,share,uncertainty_ns,' + j.runs.map((x) => `run_${x.run}_ns`).join(',') + ',untrimmed_mean_ns,p50_ns,p90_ns,p99_ns');
      assert.equal(csv.length, 1 + 6 + 1);
      // A user profile file: a built-in printed as JSON and given back gives the same report.
      const prof = join(t.dir, 'my-profile.json');
      writeFileSync(prof, xtrace(['profiles', '--show', 'linux-block']).stdout);
      const u = xtrace(['report', '--db', db, '--profile', prof, '--format', 'json']);
      assert.equal(u.status, 0, u.stderr);
      assert.deepEqual((JSON.parse(u.stdout) as ReportModel).stages, j.stages);
      const out = join(t.dir, 'report.md');
      assert.equal(xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'markdown', '--out', out]).stdout, '');
      assert.ok(existsSync(out));
    } finally {
      t.cleanup();
    }
  });
});

describe('linux-block rules on a hand-made trace', () => {
  let db: Db;
  let cleanup: () => void;
  let dirCleanup: () => void;
  before(async () => {
    const t = tempDir();
    dirCleanup = t.cleanup;
    const f = join(t.dir, 'synthetic.txt');
    writeFileSync(f, SYNTHETIC);
    ({ db, cleanup } = await ingestAll([f]));
  });
  after(() => {
    cleanup();
    dirCleanup();
  });

  for (const reader of READERS) {
    it(`requeue (last issue), last irq on the completing CPU, page-cache hit, incomplete and between-runs requests (events read ${reader})`, async () => {
      const m = await report(db, reader, { trim: 0 });
      const e = expectedLinuxBlock(db, { trim: 0 });
      assert.deepEqual(
        m.runs.map((r) => [r.run, r.complete, r.kept, r.incomplete]),
        [
          ['a', 3, 3, 0],
          ['b', 1, 1, 1],
        ],
      );
      m.runs.forEach((r, i) => {
        assert.equal(Object.keys(e.runs[i]!.stages_ns).length, 6, `oracle run ${r.run}`);
        for (const [s, v] of Object.entries(e.runs[i]!.stages_ns)) close(r.stages_ns[s]!, v, `${r.run} ${s}`);
      });
      // Request 1 of run a: bio 12, insert 15, issue 30 (requeued; first issue 20), irq 45 on CPU 0, complete 50, exit 60.
      const first = db.prepare<{ points: string }>("SELECT points FROM requests WHERE run = 'a' AND status = 'complete' ORDER BY seq LIMIT 1").get()!;
      assert.deepEqual(JSON.parse(first.points), [0, 2000, 5000, 20000, 35000, 40000, 50000]);
      assert.equal(m.requests.not_requests, 1);
      assert.equal(m.requests.outside_runs, 1);
      assert.ok(m.diagnostics.some((d) => d.code === 'repeated_point' && d.point === 'rq_issue'));
    });
  }

  it('--warmup: a run that warm-up leaves empty is listed, not averaged; --strict refuses naming it', async () => {
    const m = await report(db, 'inline', { trim: 0, warmup: 1 });
    assert.deepEqual(
      m.excluded_runs.map((e) => [e.run, e.reason, e.why]),
      [['b', 'warmup', '--warmup 1 drops all its 1 complete request; use a smaller --warmup']],
    );
    await assert.rejects(report(db, 'inline', { trim: 0, warmup: 1, strict: true }), /--strict: 1 run cannot be averaged \(run b: --warmup 1 drops all its 1 complete request; use a smaller --warmup\)/);
  });
});

describe('a request that can never be matched again is ended (one clock)', () => {
  it('a merged bio waiting for its own rq_insert is superseded by the next request of that sector, not kept to the end', async () => {
    const t = tempDir();
    const f = join(t.dir, 'merged.txt');
    const l = (us: number, cpu: string, task: string, what: string) => `${task.padStart(22)} [${cpu}] ..... ${(100 + us / 1e6).toFixed(6).padStart(12)}: ${what}`;
    writeFileSync(
      f,
      [
        '# tracer: nop',
        l(10, '000', 'fio-200', 'block_bio_queue: 8,0 RA 100 + 8 [fio]'), // merged into another request: no rq_insert of its own
        l(50, '000', 'fio-200', 'block_bio_queue: 8,0 RA 100 + 8 [fio]'),
        l(51, '000', 'fio-200', 'block_rq_insert: 8,0 RA 4096 () 100 + 8 be,0,4 [fio]'),
        l(52, '000', 'fio-200', 'block_rq_issue: 8,0 RA 4096 () 100 + 8 be,0,4 [fio]'),
        l(60, '000', '<idle>-0', 'irq_handler_entry: irq=36 name=virtio1-req.0'),
        l(61, '000', '<idle>-0', 'block_rq_complete: 8,0 RA () 100 + 8 be,0,4 [0]'),
        '',
      ].join('\n'),
    );
    const h = await ingestAll([f]);
    try {
      const c = correlate(h.db, loadProfile('linux-block'));
      assert.deepEqual(
        c.counters.map((x) => [x.code, x.point, x.count]),
        [['superseded', 'rq_insert', 1]],
      );
      assert.equal(c.requests.length, 2);
      assert.deepEqual([c.requests.status(0), c.requests.status(1)], ['orphan', 'orphan']);
      assert.ok(Number.isNaN(c.requests.t(0, 2)), 'the merged bio has no rq_insert');
      assert.equal(c.requests.t(1, 5) - c.requests.t(1, 1), 11000);
    } finally {
      h.cleanup();
      t.cleanup();
    }
  });
});

