/**
 * The breakdown's tail and its excluded runs (src/analysis/breakdown.ts): nearest-rank
 * percentiles against the published worked examples of the method, the untrimmed mean and
 * percentiles of a small hand-computed case, and runs that cannot be averaged (listed, not
 * thrown).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { breakdown, nearestRank, tailOf, type RunInput } from '../../src/analysis/breakdown.js';

describe('nearestRank: the nearest-rank percentile', () => {
  // Worked examples of the nearest-rank method, Wikipedia "Percentile" (section "The nearest-rank
  // method"): the value of ordinal rank ceil(P/100 × N).
  it('matches the published worked examples', () => {
    const a = [15, 20, 35, 40, 50];
    assert.deepEqual(
      [5, 30, 40, 50, 100].map((p) => nearestRank(a, p)),
      [15, 20, 20, 35, 50],
    );
    const b = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
    assert.deepEqual(
      [25, 50, 75, 100].map((p) => nearestRank(b, p)),
      [7, 8, 15, 20],
    );
    const c = [3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20];
    assert.deepEqual(
      [25, 50, 75, 100].map((p) => nearestRank(c, p)),
      [7, 9, 15, 20],
    );
  });

  it('p90 and p99 by hand: ranks ceil(0.9 n) and ceil(0.99 n), exact in integer arithmetic', () => {
    const v = Array.from({ length: 10 }, (_, i) => (i + 1) * 100); // 100 … 1000
    assert.equal(nearestRank(v, 90), 900); // rank 9 (0.9 · 10 is 9 exactly, not 9.000000000000002)
    assert.equal(nearestRank(v, 99), 1000); // rank ceil(9.9) = 10
    const w = Array.from({ length: 200 }, (_, i) => i + 1);
    assert.equal(nearestRank(w, 99), 198); // rank 198
    assert.equal(nearestRank(w, 50), 100); // the lower middle value
    assert.equal(nearestRank([7], 1), 7);
    assert.ok(Number.isNaN(nearestRank([], 50)));
    assert.throws(() => nearestRank(v, 0), /1…100/);
    assert.throws(() => nearestRank(v, 99.5), /1…100/);
  });
});

describe('tailOf: selection gives the sorted values\' nearest ranks', () => {
  it('equals nearestRank over a sorted copy, and the plain mean (random arrays, many ties)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 300 }), (xs) => {
        const values = Float64Array.from(xs, (x) => x * 1000);
        const sorted = Float64Array.from(values).sort();
        const t = tailOf(values);
        assert.deepEqual([t.p50Ns, t.p90Ns, t.p99Ns], [nearestRank(sorted, 50), nearestRank(sorted, 90), nearestRank(sorted, 99)]);
        assert.ok(Math.abs(t.untrimmedMeanNs - xs.reduce((a, b) => a + b, 0) * 1000 / xs.length) < 1e-6);
      }),
      { numRuns: 500 },
    );
    const big = Float64Array.from({ length: 100_001 }, (_, i) => (i * 7919) % 100_001); // a permutation of 0…100000
    assert.deepEqual(tailOf(big), { untrimmedMeanNs: 50_000, p50Ns: 50_000, p90Ns: 90_000, p99Ns: 99_000 });
  });
});

/** A run of requests with two stages: each request [a, b] takes a then b (ns), one after the other from `start`. */
function run(label: string, reqs: [number, number][]): RunInput {
  const times = new Float64Array(reqs.length * 3);
  reqs.forEach(([a, b], j) => {
    const t0 = 1_000_000 * j;
    times.set([t0, t0 + a, t0 + a + b], j * 3);
  });
  return { label, times };
}

describe('breakdown: the tail beside the headline', () => {
  const points = ['x', 'y', 'z'];

  it('untrimmed mean and percentiles over every reported run together, after warm-up (hand-computed)', () => {
    // Run 1: a warm-up request (dropped), then 4 requests; run 2: 5 requests.
    const r1 = run('1', [
      [9999, 9999],
      [10, 100],
      [20, 100],
      [30, 100],
      [40, 1000],
    ]);
    const r2 = run('2', [
      [10, 100],
      [10, 100],
      [10, 100],
      [10, 100],
      [10, 100],
    ]);
    const b = breakdown(points, [r1, r2], { warmup: 1, trim: 0.25, trimBy: 'total' });
    // After warm-up: run 1 has 4 requests, run 2 has 4 (its first is warm-up too): 8 in all.
    assert.equal(b.tailRequests, 8);
    // stage x->y: 10 20 30 40 10 10 10 10 → mean 140/8; sorted 10 10 10 10 10 20 30 40: p50 rank 4 = 10, p90 rank 8 = 40, p99 rank 8 = 40
    assert.deepEqual(b.stages[0]!.tail, { untrimmedMeanNs: 140 / 8, p50Ns: 10, p90Ns: 40, p99Ns: 40 });
    // stage y->z: 100 100 100 1000 100 100 100 100 → mean 1700/8
    assert.deepEqual(b.stages[1]!.tail, { untrimmedMeanNs: 1700 / 8, p50Ns: 100, p90Ns: 1000, p99Ns: 1000 });
    // total: 110 120 130 1040 110 110 110 110 → mean 1840/8; sorted 110×5 120 130 1040
    assert.deepEqual(b.total.tail, { untrimmedMeanNs: 1840 / 8, p50Ns: 110, p90Ns: 1040, p99Ns: 1040 });
    assert.equal(b.stages[1]!.untrimmedShare, 1700 / 1840);
    // The trimmed headline (trim 0.25 of 4: one each side) drops the 1040 request of run 1.
    assert.equal(b.runs[0]!.totalNs, (120 + 130) / 2);
  });

  it('a run with no complete request, or one the warm-up empties, is excluded and listed; the others are reported', () => {
    const empty: RunInput = { label: 'e', times: new Float64Array(0) };
    const short = run('s', [[5, 5]]);
    const good = run('g', [
      [10, 20],
      [30, 40],
    ]);
    const b = breakdown(points, [empty, good, short], { warmup: 1, trim: 0, trimBy: 'total' });
    assert.deepEqual(
      b.excluded.map((e) => [e.index, e.label, e.complete, e.why]),
      [
        [0, 'e', 0, 'no-complete-request'],
        [2, 's', 1, 'warmup'],
      ],
    );
    assert.deepEqual(
      b.runs.map((r) => [r.index, r.label, r.totalNs]),
      [[1, 'g', 70]],
    );
    assert.equal(b.total.meanNs, 70);
    // Flags for storing, one array per input run: the warm-up request of each run is 2.
    assert.deepEqual(
      b.keptFlags.map((f) => [...f]),
      [[], [2, 1], [2]],
    );
  });

  it('no run can be averaged: nothing thrown, means NaN (the pipeline refuses, naming the cause)', () => {
    const b = breakdown(points, [{ label: '1', times: new Float64Array(0) }], { warmup: 0, trim: 0.1, trimBy: 'total' });
    assert.equal(b.runs.length, 0);
    assert.equal(b.excluded.length, 1);
    assert.ok(Number.isNaN(b.total.meanNs));
    assert.equal(b.tailRequests, 0);
    assert.ok(Number.isNaN(b.total.tail.p99Ns));
  });
});
