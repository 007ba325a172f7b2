/**
 * Batched requests through the report (xen-probes.md decision 10): on the simulated blkback
 * sample with points made absent by design (test/report/batched.ts), the merged stages are rows of
 * their own with their counts in every format, the rows stay additive and are the plain report's
 * rows redistributed, their values and tails agree with sums taken here over the store, and
 * --group-by, --trim-by stage and compare handle them.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { openDb, type Db } from '../../src/db/db.js';
import { REPORTERS } from '../../src/report/reporters.js';
import { toJson } from '../../src/report/format.js';
import { loadSide } from '../../src/compare/sides.js';
import { compare, COMPARE_DEFAULTS } from '../../src/compare/compare.js';
import { COMPARE_REPORTERS } from '../../src/compare/reporters.js';
import { tempDir } from '../helpers.js';
import { batchedPoints, batchedReport, type BatchedReport } from './batched.js';

const METHOD = { warmup: 0, trim: 0.1, trimBy: 'total' as const };
const plainColor = new Chalk({ level: 0 });
const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} ≠ ${b}`);
const nearestRank = (values: number[], p: number): number => {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.max(1, Math.ceil((p * v.length) / 100)) - 1]!;
};

describe('batched requests in the report: merged stages', () => {
  let t: { dir: string; cleanup: () => void };
  let db: Db;
  let r: BatchedReport;
  before(async () => {
    t = tempDir();
    db = openDb(join(t.dir, 'b.db'), { create: true });
    r = await batchedReport(db, METHOD);
  });
  after(() => {
    db.close();
    t.cleanup();
  });

  it('the text table: a merged stage after the last split stage it spans, with how many kept requests have it; split stages some lack show their count', () => {
    const text = REPORTERS.table.render(r.model, plainColor);
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.startsWith('stage '));
    // A reviewed snapshot; its numbers are checked against sums over the store below.
    assert.equal(
      lines.slice(from, from + 20).join('\n'),
      `stage                                                         mean   ± sd (runs)   share  
syscall_enter->bio_queue                                  3.067 µs      0.529 µs    1.5%  █
bio_queue->rq_insert                                      1.450 µs      0.272 µs    0.7%  
rq_insert->rq_issue                                       2.529 µs      0.691 µs    1.2%  
rq_issue->fe_queue                                        2.763 µs      0.503 µs    1.4%  █
fe_queue->fe_notify (161 of 240 requests)                 1.042 µs      0.278 µs    0.5%  
fe_notify->be_irq (161 of 240 requests)                   5.763 µs      0.804 µs    2.8%  █ ±6.000 µs clock
be_irq->be_get_req (161 of 240 requests)                 10.575 µs      1.645 µs    5.2%  ██
fe_queue->be_get_req (batched: 79 of 240 requests)        8.613 µs      1.448 µs    4.2%  ██ ±6.000 µs clock
be_get_req->be_map                                        8.225 µs      1.455 µs    4.0%  ██
be_map->be_submit                                         5.167 µs      0.924 µs    2.5%  █
be_submit->be_bio_done                                  128.367 µs      5.161 µs   63.1%  ████████████████████████
be_bio_done->be_rsp                                       2.792 µs      0.389 µs    1.4%  █
be_rsp->fe_irq (189 of 240 requests)                      7.063 µs      1.019 µs    3.5%  █ ±6.000 µs clock
fe_irq->fe_rsp (189 of 240 requests)                      0.992 µs      0.204 µs    0.5%  
be_rsp->fe_rsp (batched: 51 of 240 requests)              2.425 µs      1.094 µs    1.2%   ±6.000 µs clock
fe_rsp->fe_end                                            2.862 µs      0.503 µs    1.4%  █
fe_end->rq_complete                                       1.462 µs      0.386 µs    0.7%  
rq_complete->syscall_exit                                 8.383 µs      1.687 µs    4.1%  ██
total                                                   203.537 µs      7.518 µs  100.0%`,
    );
    // The plain report of the same requests has neither merged stages nor counts.
    const plain = REPORTERS.table.render(r.plain.model, plainColor);
    assert.doesNotMatch(plain, /batched|of 240 requests/);
    assert.match(plain, /^fe_queue->fe_notify {2,}1\.550 µs/m);
    // Markdown: the same counts after the name; CSV: kind `merged`.
    const md = REPORTERS.markdown.render(r.model, plainColor);
    assert.match(md, /^\| `fe_queue->be_get_req` \(batched: 79 of 240 requests\) \(clock ±6\.000 µs\) \| 8\.613 µs \| 1\.448 µs \| 4\.2% \|$/m);
    assert.match(md, /^\| `fe_irq->fe_rsp` \(189 of 240 requests\) \| 0\.992 µs \|/m);
    const csv = REPORTERS.csv.render(r.model, plainColor).split('\n');
    assert.deepEqual(
      csv.filter((l) => l.startsWith('merged,')).map((l) => l.split(',').slice(0, 4).join(',')),
      ['merged,fe_queue->be_get_req,fe_queue,be_get_req', 'merged,be_rsp->fe_rsp,be_rsp,fe_rsp', 'merged,fe_queue->be_get_req,fe_queue,be_get_req', 'merged,be_rsp->fe_rsp,be_rsp,fe_rsp'],
    );
  });

  it('JSON: merged, spans, requests, untrimmed_requests; shares add up to 1, trimmed and untrimmed; the method says how', () => {
    const m = JSON.parse(toJson(r.model)) as typeof r.model;
    const merged = m.stages.filter((s) => s.merged);
    assert.deepEqual(
      merged.map((s) => [s.name, s.spans, s.from_domain, s.to_domain]),
      [
        ['fe_queue->be_get_req', ['fe_queue->fe_notify', 'fe_notify->be_irq', 'be_irq->be_get_req'], 'domU', 'dom0'],
        ['be_rsp->fe_rsp', ['be_rsp->fe_irq', 'fe_irq->fe_rsp'], 'dom0', 'domU'],
      ],
    );
    for (const s of m.stages.filter((x) => !x.merged)) assert.deepEqual(s.spans, [s.name]);
    near(
      m.stages.reduce((a, s) => a + s.share, 0),
      1,
      'shares',
    );
    near(
      m.stages.reduce((a, s) => a + s.untrimmed_share, 0),
      1,
      'untrimmed shares',
    );
    near(
      m.stages.reduce((a, s) => a + s.mean_ns, 0),
      m.total.mean_ns,
      'rows vs total',
    );
    for (const run of m.runs)
      near(
        Object.values(run.stages_ns).reduce((a, v) => a + v, 0),
        run.total_ns,
        `run ${run.run}`,
      );
    assert.equal(m.method.stages_add_up, true);
    assert.match(m.method.statistic, /batched\) counts 0 in the stages through them .* merged stage \(merged: true\)/);
    assert.match(m.method.tail_statistic, /percentiles are over the untrimmed_requests that have it/);
    // The plain report says nothing of it.
    assert.doesNotMatch(r.plain.model.method.statistic + r.plain.model.method.tail_statistic, /batched/);
    assert.ok(r.plain.model.stages.every((s) => !s.merged && s.requests === 240 && s.untrimmed_requests === 300));
  });

  it('independent sums over the store: each row is its contribution per kept request, counts and tails over the requests that have it', () => {
    const store = r.correlation.requests;
    const path = r.correlation.path.map((p) => p.name);
    const at = (name: string): number => path.indexOf(name);
    // Kept requests: those the plain report kept (trimming by total does not see the batching).
    const plainKept = r.plain.grouping.runs.map((g, k) => [...g.index].filter((_, j) => r.plain.breakdown.keptFlags[k]![j] === 1));
    const rows: [string, (i: number) => boolean][] = [
      ['fe_queue->be_get_req', (i) => batchedPoints(i).includes('be_irq')],
      ['fe_queue->fe_notify', (i) => !batchedPoints(i).includes('be_irq')],
      ['be_rsp->fe_rsp', (i) => batchedPoints(i).includes('fe_irq')],
      ['fe_irq->fe_rsp', (i) => !batchedPoints(i).includes('fe_irq')],
      ['be_submit->be_bio_done', () => true],
    ];
    const plainT = r.plain.correlation.requests;
    for (const [name, has] of rows) {
      const [from, to] = name.split('->') as [string, string];
      const d = (i: number): number => plainT.t(i, at(to)) - plainT.t(i, at(from));
      const stage = r.model.stages.find((s) => s.name === name)!;
      const perRun = plainKept.map((kept) => kept.filter(has).reduce((a, i) => a + d(i), 0) / kept.length);
      r.model.runs.forEach((run, k) => near(run.stages_ns[name]!, perRun[k]!, `${name} run ${run.run}`));
      near(stage.mean_ns, perRun.reduce((a, v) => a + v, 0) / perRun.length, name);
      assert.equal(stage.requests, plainKept.flat().filter(has).length, name);
      // The tail: every complete request of the runs (no warm-up), untrimmed.
      const all = r.plain.grouping.runs.flatMap((g) => [...g.index]).filter(has);
      const values = all.map(d);
      assert.equal(stage.untrimmed_requests, all.length, name);
      assert.deepEqual([stage.p50_ns, stage.p90_ns, stage.p99_ns], [nearestRank(values, 50), nearestRank(values, 90), nearestRank(values, 99)], name);
      near(stage.untrimmed_mean_ns!, values.reduce((a, v) => a + v, 0) / 300, name);
      // The store as the report sees it agrees: absent points have no time.
      for (const i of all) assert.ok(!Number.isNaN(store.t(i, at(from))) && !Number.isNaN(store.t(i, at(to))));
    }
  });

  it('the plain report redistributed: per run, the stages through a gap plus its merged stage are the plain stages; the others and the total unchanged', () => {
    const groups = [
      [['fe_queue->fe_notify', 'fe_notify->be_irq', 'be_irq->be_get_req'], ['fe_queue->be_get_req']],
      [['be_rsp->fe_irq', 'fe_irq->fe_rsp'], ['be_rsp->fe_rsp']],
    ] as const;
    const touched = new Set<string>(groups.flatMap(([split, merged]) => [...split, ...merged]));
    r.model.runs.forEach((run, k) => {
      const p = r.plain.model.runs[k]!;
      assert.equal(run.total_ns, p.total_ns);
      for (const [split, merged] of groups) {
        const sum = (x: Record<string, number>, names: readonly string[]): number => names.reduce((a, n) => a + x[n]!, 0);
        near(sum(run.stages_ns, [...split, ...merged]), sum(p.stages_ns, split), `run ${run.run}`);
      }
      for (const [name, v] of Object.entries(p.stages_ns)) if (!touched.has(name)) assert.equal(run.stages_ns[name], v, name);
    });
    const { mean_ns, stddev_ns, untrimmed_mean_ns, p50_ns, p90_ns, p99_ns } = r.plain.model.total;
    assert.deepEqual(
      [r.model.total.mean_ns, r.model.total.stddev_ns, r.model.total.untrimmed_mean_ns, r.model.total.p50_ns, r.model.total.p90_ns, r.model.total.p99_ns],
      [mean_ns, stddev_ns, untrimmed_mean_ns, p50_ns, p90_ns, p99_ns],
    );
  });

  it('--group-by op: each group has its merged stages, their counts and its rows add up', () => {
    const groups = r.model.groups!;
    assert.deepEqual(
      groups.map((g) => g.key),
      ['R'],
    );
    const g = groups[0]!;
    assert.deepEqual(
      g.stages.map((s) => [s.name, s.merged, s.requests, s.mean_ns]),
      r.model.stages.map((s) => [s.name, s.merged, s.requests, s.mean_ns]),
    );
    near(
      g.stages.reduce((a, s) => a + s.mean_ns, 0),
      g.total.mean_ns,
      'group rows',
    );
    const text = REPORTERS.table.render(r.model, plainColor);
    assert.match(text, /^op R · 10 runs, 300 complete requests, 240 kept\n(.*\n)*  fe_queue->be_get_req \(batched: 79 of 240 requests\) +8\.613 µs/m);
  });

  it('--trim-by stage: each row trimmed among the requests that have it, the others (0) at the same fraction', async () => {
    const t2 = tempDir();
    const db2 = openDb(join(t2.dir, 's.db'), { create: true });
    try {
      const s = await batchedReport(db2, { warmup: 0, trim: 0.1, trimBy: 'stage' });
      assert.equal(s.model.method.stages_add_up, false);
      assert.match(s.model.method.statistic, /trimmed among the requests that have it, the requests without it \(0\) at the same fraction/);
      const plainT = s.plain.correlation.requests;
      const path = s.plain.correlation.path.map((p) => p.name);
      const d = (i: number): number => plainT.t(i, path.indexOf('be_get_req')) - plainT.t(i, path.indexOf('fe_queue'));
      s.plain.grouping.runs.forEach((g, k) => {
        const idx = [...g.index];
        const has = idx.filter((i) => batchedPoints(i).includes('be_irq'));
        const k1 = Math.floor(0.1 * has.length);
        const kept = has.map(d).sort((a, b) => a - b).slice(k1, has.length - k1);
        const without = idx.length - has.length;
        const zeros = without - 2 * Math.floor(0.1 * without);
        near(s.model.runs[k]!.stages_ns['fe_queue->be_get_req']!, kept.reduce((a, v) => a + v, 0) / (kept.length + zeros), `run ${k + 1}`);
      });
    } finally {
      db2.close();
      t2.cleanup();
    }
  });

  it('compare: a merged stage on one side only is listed, not tested; the rest is compared by name and the total decides', () => {
    const plainFile = join(t.dir, 'plain.json');
    const batchedFile = join(t.dir, 'batched.json');
    writeFileSync(plainFile, toJson(r.plain.model));
    writeFileSync(batchedFile, toJson(r.model));
    const side = { warmup: 0, trim: 0.1, trimBy: 'total' as const };
    const c = compare(loadSide(plainFile, side), loadSide(batchedFile, side), COMPARE_DEFAULTS);
    assert.deepEqual(
      c.one_sided_stages.map((s) => [s.name, s.side, s.mean_ns]),
      [
        ['fe_queue->be_get_req', 'candidate', r.model.stages.find((s) => s.name === 'fe_queue->be_get_req')!.mean_ns],
        ['be_rsp->fe_rsp', 'candidate', r.model.stages.find((s) => s.name === 'be_rsp->fe_rsp')!.mean_ns],
      ],
    );
    // The stages of both sides, in the baseline's order; Holm's family counts only the tests made (every stage of both sides and the total here).
    assert.deepEqual(
      c.stages.map((s) => s.name),
      r.plain.model.stages.map((s) => s.name),
    );
    assert.equal(c.total.verdict, 'same');
    assert.match(c.stages.find((s) => s.name === 'be_irq->be_get_req')!.why, /over 17 tests/);
    assert.equal([...c.stages, c.total].filter((x) => x.p_adjusted !== null).length, 17);
    const text = COMPARE_REPORTERS.table.render(c, plainColor);
    assert.match(text, /^fe_queue->be_get_req: 8\.613 µs on the candidate only \(a merged stage: requests batched between its points there, not on the baseline\): not compared/m);
    assert.match(COMPARE_REPORTERS.markdown.render(c, plainColor), /^- `be_rsp->fe_rsp`: 2\.425 µs on the candidate only/m);
    // The other way round: on the baseline only. Both batched: the merged stages are compared like the others.
    const back = compare(loadSide(batchedFile, side), loadSide(plainFile, side), COMPARE_DEFAULTS);
    assert.deepEqual(
      back.one_sided_stages.map((s) => [s.name, s.side]),
      [
        ['fe_queue->be_get_req', 'baseline'],
        ['be_rsp->fe_rsp', 'baseline'],
      ],
    );
    const same = compare(loadSide(batchedFile, side), loadSide(batchedFile, side), COMPARE_DEFAULTS);
    assert.deepEqual(same.one_sided_stages, []);
    assert.deepEqual(
      same.stages.map((s) => s.name),
      r.model.stages.map((s) => s.name),
    );
    const m = same.stages.find((s) => s.name === 'fe_queue->be_get_req')!;
    assert.deepEqual([m.delta_ns, m.p_value, m.decided_by], [0, 1, 'welch-runs']);
    assert.equal([...same.stages, same.total].filter((x) => x.p_adjusted !== null).length, 19);
  });
});
