/**
 * The independent linux-block oracle (test/correlate/linux-block-expected.ts) on the three real captures,
 * cross-checked against fio's own measurement of the same runs, and on a small hand-made trace
 * that exercises the rules the real captures never hit (requeue, interrupts on another CPU,
 * page-cache hits, requests outside runs, incomplete requests, warm-up, trimming).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, SAMPLES, tempDir } from '../helpers.js';
import { expectedLinuxBlock, STAGES, SYNTHETIC, type Expected } from './linux-block-expected.js';
import type { Db } from '../../src/db/db.js';

/** The part of fio's JSON output (`--output-format=json`) used here. */
interface FioRun {
  jobs: { read: { total_ios: number; lat_ns: { mean: number; N: number }; clat_ns: { mean: number; N: number } } }[];
}

function fio(variant: string, run: string): FioRun['jobs'][number]['read'] {
  const j = JSON.parse(readFileSync(join(SAMPLES, `linux-block-${variant}`, `fio-run${run}.json`), 'utf8')) as FioRun;
  return j.jobs[0]!.read;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleSd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const sumStages = (s: Record<string, number>) => STAGES.reduce((a, k) => a + s[k]!, 0);

for (const variant of ['default', 'tgid', 'tracecmd']) {
  describe(`linux-block expected figures: ${variant}`, () => {
    let db: Db;
    let cleanup: () => void;
    let exp: Expected;
    let untrimmed: Expected;
    before(async () => {
      ({ db, cleanup } = await ingestAll([join(SAMPLES, `linux-block-${variant}`, 'trace.txt.gz')]));
      exp = expectedLinuxBlock(db);
      untrimmed = expectedLinuxBlock(db, { trim: 0 });
    });
    after(() => cleanup());

    it('finds 10 runs in marker order, each with 100 complete requests; the default 10 % trim keeps 80', () => {
      assert.deepEqual(
        exp.runs.map((r) => r.run),
        ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
      );
      for (const r of exp.runs) {
        assert.equal(r.complete, 100, `run ${r.run}`);
        assert.equal(r.kept, 80, `run ${r.run}`); // k = floor(0.1 × 100) = 10 dropped at each end
      }
      for (const r of untrimmed.runs) assert.equal(r.kept, 100, `run ${r.run}`);
    });

    it('has every stage of every run, positive, summing to the run total', () => {
      for (const r of exp.runs) {
        assert.deepEqual(Object.keys(r.stages_ns), [...STAGES]);
        for (const s of STAGES) assert.ok(r.stages_ns[s]! > 0, `run ${r.run} ${s} = ${r.stages_ns[s]}`);
        assert.ok(Math.abs(sumStages(r.stages_ns) - r.total_ns) < 1e-6, `run ${r.run}`);
      }
      assert.deepEqual(
        exp.stages.map((s) => s.name),
        [...STAGES],
      );
      const totals = exp.runs.map((r) => r.total_ns);
      assert.equal(exp.total.mean_ns, mean(totals));
      assert.ok(Math.abs(exp.total.stddev_ns! - sampleSd(totals)) < 1e-6);
      assert.ok(Math.abs(exp.stages.reduce((a, s) => a + s.mean_ns, 0) - exp.total.mean_ns) < 1e-6);
    });

    it('honours warm-up and trim options', () => {
      const w = expectedLinuxBlock(db, { warmup: 5, trim: 0 });
      for (const r of w.runs) assert.deepEqual([r.complete, r.kept], [100, 95], `run ${r.run}`);
      const t = expectedLinuxBlock(db, { warmup: 10, trim: 0.25 });
      for (const r of t.runs) assert.deepEqual([r.complete, r.kept], [100, 46], `run ${r.run}`); // n = 90, k = 22
    });

    // fio independently timed the same 100 reads of each run. For the psync engine fio's
    // `clat_ns` runs from just before the pread() call to just after it returns (slat is not
    // measured for synchronous engines: slat_ns.N = 0), while `lat_ns` also includes fio's own
    // preparation of the I/O unit, so clat is the figure that brackets the syscall most tightly
    // and is the one compared. The trace measures sys_enter → sys_exit inside the kernel, so its
    // mean must be below fio's (which adds the user/kernel transitions and fio's timing calls) but
    // close to it. fio does not trim, so the comparison uses the untrimmed trace mean. Measured on
    // the 30 runs of the three captures: 1.54 % to 3.58 % below (README: "1.5–3.6 % below").
    it("agrees with fio's own per-run mean latency (untrimmed: 1.5 % to 3.6 % below fio's clat)", () => {
      assert.equal(untrimmed.runs.length, 10);
      for (const r of untrimmed.runs) {
        const f = fio(variant, r.run);
        assert.equal(f.clat_ns.N, r.complete, `run ${r.run}: fio counted ${f.clat_ns.N} reads`);
        assert.equal(f.total_ios, r.complete, `run ${r.run}`);
        const below = 1 - r.total_ns / f.clat_ns.mean;
        assert.ok(below >= 0.015 && below <= 0.036, `run ${r.run}: trace ${r.total_ns} ns is ${(below * 100).toFixed(2)} % below fio's clat ${f.clat_ns.mean} ns, not 1.5–3.6 %`);
        assert.ok(f.clat_ns.mean <= f.lat_ns.mean, `run ${r.run}: fio lat < clat`);
      }
      const meanFio = mean(untrimmed.runs.map((r) => fio(variant, r.run).clat_ns.mean));
      const below = 1 - untrimmed.total.mean_ns / meanFio;
      assert.ok(below >= 0.015 && below <= 0.036, `across runs: trace ${untrimmed.total.mean_ns} ns is ${(below * 100).toFixed(2)} % below fio's ${meanFio} ns`);
    });
  });
}


describe('linux-block expected figures: hand-made trace', () => {
  let db: Db;
  let cleanup: () => void;
  let cleanupDir: () => void;
  before(async () => {
    const t = tempDir();
    cleanupDir = t.cleanup;
    const f = join(t.dir, 'synthetic.txt');
    writeFileSync(f, SYNTHETIC);
    ({ db, cleanup } = await ingestAll([f]));
    const src = db.prepare<{ events: number; unparsed_lines: number }>('SELECT events, unparsed_lines FROM sources').get()!;
    assert.deepEqual(src, { events: SYNTHETIC.split('\n').filter((l) => l.includes(']')).length, unparsed_lines: 0 });
  });
  after(() => {
    cleanup();
    cleanupDir();
  });

  const us = (xs: number[]) => Object.fromEntries(STAGES.map((s, i) => [s, xs[i]! * 1000]));
  const avg = (...rows: number[][]) => rows[0]!.map((_, i) => mean(rows.map((r) => r[i]!)));
  const REQ1 = [2, 3, 15, 15, 5, 10];
  const REQ2 = [1, 2, 1, 6, 1, 9];
  const REQ3 = [2, 1, 2, 5, 2, 18];
  const REQ4 = [1, 1, 1, 1, 1, 1];

  it('matches requests by the rules (no trim, no warm-up)', () => {
    const e = expectedLinuxBlock(db, { trim: 0 });
    assert.deepEqual(
      e.runs.map((r) => [r.run, r.complete, r.kept]),
      [
        ['a', 3, 3],
        ['b', 1, 1],
      ],
    );
    assert.deepEqual(e.runs[0]!.stages_ns, us(avg(REQ1, REQ2, REQ3)));
    assert.equal(e.runs[0]!.total_ns, ((50 + 20 + 30) / 3) * 1000);
    assert.deepEqual(e.runs[1]!.stages_ns, us(REQ4));
    assert.equal(e.runs[1]!.total_ns, 6000);
    assert.equal(e.total.mean_ns, mean([e.runs[0]!.total_ns, 6000]));
    assert.ok(Math.abs(e.total.stddev_ns! - Math.abs(e.runs[0]!.total_ns - 6000) / Math.SQRT2) < 1e-6);
  });

  it('trims floor(F·n) at each end of the latency order', () => {
    // run a: n = 3, k = floor(0.34 × 3) = 1: totals 20 < 30 < 50, only req 3 (30) is kept;
    // run b: n = 1, k = 0.
    const e = expectedLinuxBlock(db, { trim: 0.34 });
    assert.deepEqual(
      e.runs.map((r) => [r.complete, r.kept]),
      [
        [3, 1],
        [1, 1],
      ],
    );
    assert.deepEqual(e.runs[0]!.stages_ns, us(REQ3));
  });

  it('drops the warm-up requests of each run, by syscall_enter order; an emptied run stays listed but out of the statistics', () => {
    const e = expectedLinuxBlock(db, { trim: 0, warmup: 1 });
    assert.deepEqual(
      e.runs.map((r) => [r.run, r.complete, r.kept]),
      [
        ['a', 3, 2],
        ['b', 1, 0],
      ],
    );
    assert.deepEqual(e.runs[0]!.stages_ns, us(avg(REQ2, REQ3)));
    assert.deepEqual(e.runs[1]!.stages_ns, {});
    assert.ok(Number.isNaN(e.runs[1]!.total_ns));
    assert.deepEqual(e.total, { mean_ns: 25000, stddev_ns: null });
  });
});
