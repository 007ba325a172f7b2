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

// ---------------------------------------------------------------------------------------------
// Requests with points absent by design (xen-probes.md decision 10: batched notifications). Every
// expected value below is computed by hand from the times written here.

/** A run from explicit point times, one array per request (NaN: absent by design). */
function runOf(label: string, reqs: number[][]): RunInput {
  return { label, times: Float64Array.from(reqs.flat()) };
}
const N = NaN;
/** The rows of a breakdown as [name, mean, requests, merged, spans]. */
const rowsOf = (b: ReturnType<typeof breakdown>): [string, number, number, boolean, string[]][] => b.stages.map((s) => [s.name, s.meanNs, s.requests, s.merged, s.spans]);

describe('breakdown: batched requests (points absent by design) stay in, the rows stay additive', () => {
  // q → n → i → g → r, as fe_queue → fe_notify → be_irq → be_get_req → response.
  const points = ['q', 'n', 'i', 'g', 'r'];
  //                   q  n   i   g   r      stages                          total
  const r1 = [0, 10, 30, 60, 100]; //        q->n 10, n->i 20, i->g 30, g->r 40  100
  const r2 = [0, N, N, 50, 90]; //           q->g 50 (merged), g->r 40            90
  const r3 = [0, 5, N, 45, 95]; //           q->n 5, n->g 40 (merged), g->r 50    95
  const r4 = [0, N, N, 70, 80]; //           q->g 70 (merged), g->r 10            80
  const run4 = runOf('1', [r1, r2, r3, r4]);

  it('no trim: each row is its contribution per kept request (0 without it); merged rows after the last split stage they span', () => {
    const b = breakdown(points, [run4], { warmup: 0, trim: 0, trimBy: 'total', keepValues: true });
    assert.deepEqual(rowsOf(b), [
      ['q->n', 15 / 4, 2, false, ['q->n']],
      ['n->i', 20 / 4, 1, false, ['n->i']],
      ['i->g', 30 / 4, 1, false, ['i->g']],
      ['q->g', 120 / 4, 2, true, ['q->n', 'n->i', 'i->g']],
      ['n->g', 40 / 4, 1, true, ['n->i', 'i->g']],
      ['g->r', 140 / 4, 4, false, ['g->r']],
    ]);
    assert.deepEqual(
      b.stages.map((s) => [s.from, s.to, s.fromIndex, s.toIndex]),
      [
        ['q', 'n', 0, 1],
        ['n', 'i', 1, 2],
        ['i', 'g', 2, 3],
        ['q', 'g', 0, 3],
        ['n', 'g', 1, 3],
        ['g', 'r', 3, 4],
      ],
    );
    // 3.75 + 5 + 7.5 + 30 + 10 + 35 = 91.25 = (100 + 90 + 95 + 80) / 4
    assert.equal(b.total.meanNs, 91.25);
    assert.equal(
      b.stages.reduce((a, s) => a + s.meanNs, 0),
      91.25,
    );
    assert.deepEqual(b.runs[0]!.stageRequests, [2, 1, 1, 2, 1, 4]);
    // The kept values: per row, each kept request's contribution in start order (0 without the row); then the totals.
    assert.deepEqual(
      b.runs[0]!.keptNs!.map((v) => [...v]),
      [
        [10, 0, 5, 0],
        [20, 0, 0, 0],
        [30, 0, 0, 0],
        [0, 50, 0, 70],
        [0, 0, 40, 0],
        [40, 40, 50, 10],
        [100, 90, 95, 80],
      ],
    );
    assert.equal(b.addsUp, true);
  });

  it('tails: percentiles over the requests that have the row (no zeros), the untrimmed mean per request (adds up)', () => {
    const b = breakdown(points, [run4], { warmup: 0, trim: 0.25, trimBy: 'total' });
    const tail = (name: string) => {
      const s = b.stages.find((x) => x.name === name)!;
      return [s.tailRequests, s.tail.untrimmedMeanNs, s.tail.p50Ns, s.tail.p90Ns, s.tail.p99Ns];
    };
    // q->n: 10 and 5 → mean over the 4 requests 15/4; sorted 5 10: p50 rank 1 = 5, p90 rank 2 = 10.
    assert.deepEqual(tail('q->n'), [2, 15 / 4, 5, 10, 10]);
    assert.deepEqual(tail('n->i'), [1, 20 / 4, 20, 20, 20]);
    assert.deepEqual(tail('q->g'), [2, 120 / 4, 50, 70, 70]);
    assert.deepEqual(tail('n->g'), [1, 40 / 4, 40, 40, 40]);
    // g->r: 40 40 50 10 → sorted 10 40 40 50: p50 rank 2 = 40, p90 rank 4 = 50.
    assert.deepEqual(tail('g->r'), [4, 140 / 4, 40, 50, 50]);
    assert.deepEqual(b.total.tail, { untrimmedMeanNs: 91.25, p50Ns: 90, p90Ns: 100, p99Ns: 100 });
    assert.equal(
      b.stages.reduce((a, s) => a + s.untrimmedShare, 0),
      1,
    );
    // The headline, trimmed by total (one each side of 4): r4 (80) and r1 (100) out, r2 and r3 kept.
    // q->n 5/2, n->i 0, i->g 0, q->g 50/2, n->g 40/2, g->r 90/2; total 185/2.
    assert.deepEqual(rowsOf(b), [
      ['q->n', 2.5, 1, false, ['q->n']],
      ['n->i', 0, 0, false, ['n->i']],
      ['i->g', 0, 0, false, ['i->g']],
      ['q->g', 25, 1, true, ['q->n', 'n->i', 'i->g']],
      ['n->g', 20, 1, true, ['n->i', 'i->g']],
      ['g->r', 45, 2, false, ['g->r']],
    ]);
    assert.equal(b.total.meanNs, 92.5);
    assert.deepEqual([...b.keptFlags[0]!], [0, 1, 1, 0]);
  });

  it('several runs: a row is the mean of its per-run contributions (0 in a run without it); a merged row seen only in warm-up is no row', () => {
    const other = runOf('2', [
      [0, N, N, 500, 600], // warm-up: its merged q->g makes no row by itself
      [0, 1, 2, 3, 4],
      [0, 2, 4, 6, 8],
    ]);
    const b = breakdown(points, [run4, other], { warmup: 1, trim: 0, trimBy: 'total' });
    // Run 1 after warm-up: r2 r3 r4 (q->g 50+70, n->g 40, q->n 5, g->r 40+50+10; total 265); run 2: [0 1 2 3 4], [0 2 4 6 8].
    const names = b.stages.map((s) => s.name);
    assert.deepEqual(names, ['q->n', 'n->i', 'i->g', 'q->g', 'n->g', 'g->r']);
    assert.deepEqual(b.runs[0]!.stagesNs, [5 / 3, 0, 0, 120 / 3, 40 / 3, 100 / 3]);
    assert.deepEqual(b.runs[1]!.stagesNs, [3 / 2, 3 / 2, 3 / 2, 0, 0, 3 / 2]);
    assert.equal(b.stages[3]!.meanNs, (120 / 3 + 0) / 2);
    assert.equal(b.stages[3]!.requests, 2);
    // Only warm-up requests have the merged row: no row.
    const w = breakdown(points, [other], { warmup: 1, trim: 0, trimBy: 'total' });
    assert.deepEqual(
      w.stages.map((s) => s.name),
      ['q->n', 'n->i', 'i->g', 'g->r'],
    );
  });

  it('--trim-by stage: each row trimmed among the requests that have it, the others (0) at the same fraction', () => {
    // x → y → z; y absent by design in every other request.
    //          x  y    z        x->y y->z x->z  total
    const r = runOf('1', [
      [0, 9, 11], //             9    2         11
      [0, N, 20], //                       20   20
      [0, 3, 33], //             3    30        33
      [0, N, 40], //                       40   40
      [0, 5, 25], //             5    20        25
      [0, N, 60], //                       60   60
      [0, 7, 107], //            7    100       107
      [0, N, 80], //                       80   80
    ]);
    // By stage, trim 0.25 (8 requests after warm-up; 4 have y, 4 do not):
    //  x->y: values 9 3 5 7 → drop 3 and 9 (floor(0.25·4) = 1 each side): 5, 7; zeros: 4, drop the first and the last → 2 zeros. (5 + 7) / 4 = 3.
    //  y->z: values 2 30 20 100 → 30, 20; 2 zeros → 50 / 4 = 12.5.
    //  x->z: values 20 40 60 80 → 40, 60; the 4 others: 2 zeros → 100 / 4 = 25.
    const s = breakdown(['x', 'y', 'z'], [r], { warmup: 0, trim: 0.25, trimBy: 'stage', keepValues: true });
    assert.deepEqual(
      s.stages.map((x) => [x.name, x.meanNs]),
      [
        ['x->y', 3],
        ['y->z', 12.5],
        ['x->z', 25],
      ],
    );
    // The values, in start order: x->y keeps requests 5 and 7 (values 5, 7) and the zeros of requests 4 and 6 (1-based).
    assert.deepEqual(
      s.runs[0]!.keptNs!.map((v) => [...v]),
      [
        [0, 5, 0, 7],
        [30, 0, 20, 0],
        [0, 40, 0, 60],
        [33, 40, 25, 60],
      ],
    );
    assert.equal(s.addsUp, false);
    // By total (trim 0.25 of 8: 11, 20 and 80, 107 out): requests 3 to 6 kept, the rows add up: 2 + 12.5 + 25 = 39.5.
    const t = breakdown(['x', 'y', 'z'], [r], { warmup: 0, trim: 0.25, trimBy: 'total' });
    assert.deepEqual(
      t.stages.map((x) => [x.name, x.meanNs, x.requests]),
      [
        ['x->y', 2, 2],
        ['y->z', 12.5, 2],
        ['x->z', 25, 2],
      ],
    );
    assert.equal(t.total.meanNs, 39.5);
  });

  it('a complete request with no time at its first or last point is a bug upstream: refused, not averaged as NaN', () => {
    assert.throws(() => breakdown(points, [runOf('1', [[0, 1, 2, 3, N]])], { warmup: 0, trim: 0, trimBy: 'total' }), /run 1: complete request 0 has no time at its last point/);
  });
});

describe('breakdown: properties with random batched points', () => {
  /** Requests of a path of P points: positive durations, interior points absent at random (never the first or last). */
  const arbRuns = (batched: boolean) =>
    fc.integer({ min: 2, max: 7 }).chain((P) =>
      fc.record({
        P: fc.constant(P),
        runs: fc.array(
          fc.array(
            fc.record({
              d: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: P - 1, maxLength: P - 1 }),
              absent: fc.array(batched ? fc.boolean() : fc.constant(false), { minLength: P, maxLength: P }),
            }),
            { minLength: 0, maxLength: 25 },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        warmup: fc.integer({ min: 0, max: 3 }),
        trim: fc.constantFrom(0, 0.1, 0.2, 0.25, 0.4),
      }),
    );
  const build = (P: number, runs: { d: number[]; absent: boolean[] }[][]): RunInput[] =>
    runs.map((reqs, k) => ({
      label: String(k + 1),
      times: Float64Array.from(
        reqs.flatMap(({ d, absent }, j) => {
          const t = [1_000_000 * j];
          for (const x of d) t.push(t[t.length - 1]! + x);
          return t.map((v, p) => (p > 0 && p < P - 1 && absent[p] ? NaN : v));
        }),
      ),
    }));
  const near = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

  it('the rows add up to the mean total (per run, across runs, untrimmed); every split stage is covered once per kept request', () => {
    fc.assert(
      fc.property(arbRuns(true), ({ P, runs, warmup, trim }) => {
        const points = Array.from({ length: P }, (_, p) => `p${p}`);
        const b = breakdown(points, build(P, runs), { warmup, trim, trimBy: 'total', keepValues: true });
        if (b.runs.length === 0) return;
        for (const r of b.runs) {
          assert.ok(near(r.stagesNs.reduce((a, x) => a + x, 0), r.totalNs), `run ${r.label}`);
          // Each kept request's values add up to its total.
          const totals = r.keptNs![r.keptNs!.length - 1]!;
          for (let q = 0; q < r.kept; q++) assert.ok(near(r.keptNs!.slice(0, -1).reduce((a, v) => a + v[q]!, 0), totals[q]!));
        }
        assert.ok(near(b.stages.reduce((a, s) => a + s.meanNs, 0), b.total.meanNs));
        assert.ok(near(b.stages.reduce((a, s) => a + s.tail.untrimmedMeanNs, 0), b.total.tail.untrimmedMeanNs));
        const kept = b.runs.reduce((a, r) => a + r.kept, 0);
        for (let s = 0; s < P - 1; s++) {
          const name = `p${s}->p${s + 1}`;
          assert.equal(
            b.stages.filter((x) => x.spans.includes(name)).reduce((a, x) => a + x.requests, 0),
            kept,
            name,
          );
        }
        for (const s of b.stages) {
          assert.ok(Number.isFinite(s.meanNs) && s.requests <= kept && s.tailRequests <= b.tailRequests);
          if (s.merged) assert.ok(s.tailRequests > 0, `${s.name}: a merged row only where a request has it`);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('with nothing batched, each row is the classic stage mean over the requests kept by total (computed here)', () => {
    fc.assert(
      fc.property(arbRuns(false), fc.constantFrom<'total' | 'stage'>('total', 'stage'), ({ P, runs, warmup, trim }, trimBy) => {
        const points = Array.from({ length: P }, (_, p) => `p${p}`);
        const input = build(P, runs);
        const b = breakdown(points, input, { warmup, trim, trimBy });
        assert.deepEqual(
          b.stages.map((s) => s.name),
          points.slice(1).map((p, s) => `p${s}->${p}`),
        );
        for (const r of b.runs) {
          const t = input[r.index]!.times;
          const n = t.length / P;
          const reqs = Array.from({ length: n - Math.min(warmup, n) }, (_, q) => q + Math.min(warmup, n));
          const middle = (value: (j: number) => number): number[] => {
            const k = Math.floor(trim * reqs.length);
            return [...reqs].sort((x, y) => value(x) - value(y) || x - y).slice(k, reqs.length - k);
          };
          const stage = (s: number) => (j: number) => t[j * P + s + 1]! - t[j * P + s]!;
          for (let s = 0; s < P - 1; s++) {
            const kept = trimBy === 'total' ? middle((j) => t[j * P + P - 1]! - t[j * P]!) : middle(stage(s));
            const classic = kept.reduce((a, j) => a + stage(s)(j), 0) / kept.length;
            assert.ok(near(r.stagesNs[s]!, classic), `run ${r.label} stage ${s}: ${r.stagesNs[s]} vs ${classic}`);
          }
          assert.deepEqual(r.stageRequests, points.slice(1).map(() => r.kept));
        }
      }),
      { numRuns: 400 },
    );
  });
});
