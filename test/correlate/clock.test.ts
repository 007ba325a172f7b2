/**
 * The clock model with drift (src/correlate/clock.ts): the feasible polygon of (offset, rate)
 * against a brute-force check of every half-plane on a grid and against a case worked by hand;
 * properties (fast-check): the true clock of consistent links always lies in the polygon, the
 * estimates lie in it, links without drift allow rate 0; the solver keeps the constant-offset
 * answers (middle of the interval, its half-width) whenever a constant offset fits, refuses a
 * contradiction naming two links, and places a drifting domain; the coarse drift search finds a
 * drift among wrong pairs and leaves a constant clock at rate 0.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  adjustRel,
  clockPolygon,
  coarseDrift,
  formatPpm,
  LinkCollector,
  maxDeviation,
  minimaxCentre,
  offsetRange,
  ppmOfRate,
  rateOfPpm,
  relOf,
  solveClocks,
  type SolveInput,
} from '../../src/correlate/clock.js';
import { InputError } from '../../src/core/errors.js';
import { collectDrift } from '../../src/cli/options.js';
import { seededRandom as rng } from '../helpers.js';

/** Does (s, r) satisfy every half-plane (within eps ns)? */
function feasible(s: number, r: number, lu: number[], lv: number[], uu: number[], uv: number[], eps = 1e-6): boolean {
  for (let i = 0; i < lu.length; i++) if (s + r * lu[i]! < lv[i]! - eps) return false;
  for (let j = 0; j < uu.length; j++) if (s + r * uu[j]! > uv[j]! + eps) return false;
  return true;
}

/** The range of s at rate r, directly from the half-planes (no hull, no polygon). */
function sliceAt(r: number, lu: number[], lv: number[], uu: number[], uv: number[]): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < lu.length; i++) lo = Math.max(lo, lv[i]! - r * lu[i]!);
  for (let j = 0; j < uu.length; j++) hi = Math.min(hi, uv[j]! - r * uu[j]!);
  return [lo, hi];
}

/** The range of s at rate r over a convex polygon given by its vertices (in order). */
function polygonSlice(v: [number, number][], r: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < v.length; k++) {
    const [s1, r1] = v[k]!;
    const [s2, r2] = v[(k + 1) % v.length]!;
    if ((r1 - r) * (r2 - r) > 0) continue;
    if (r1 === r2) {
      lo = Math.min(lo, s1, s2);
      hi = Math.max(hi, s1, s2);
    } else {
      const s = s1 + ((r - r1) / (r2 - r1)) * (s2 - s1);
      lo = Math.min(lo, s);
      hi = Math.max(hi, s);
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

describe('clock mapping', () => {
  // A slow clock (rate < 0) maps about one rel in a thousand onto the same adjusted ns as its
  // neighbour (fast-check found rel 572074139500 at −1000 ppm): relOf gives one of the two.
  it('relOf inverts adjustRel for any rel, whole-ns shift and rate within ±1000 ppm (within the 1 ns a slow clock leaves ambiguous)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: -1e14, max: 1e14 }), fc.double({ min: -1e-3, max: 1e-3, noNaN: true }), (rel, shift, rate) => {
        const t = adjustRel(rel, shift, rate);
        const back = relOf(t, shift, rate);
        assert.equal(adjustRel(back, shift, rate), t);
        if (back !== rel) assert.ok(rate < 0 && Math.abs(back - rel) === 1, `rel ${rel} came back as ${back}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('rate 0 is the constant offset exactly; ±Infinity stays as it is', () => {
    assert.equal(adjustRel(123456789, -52, 0), 123456737);
    assert.equal(adjustRel(-Infinity, 5, -1e-5), -Infinity);
    assert.equal(adjustRel(Infinity, 5, -1e-5), Infinity);
    assert.equal(adjustRel(1e9, 0, 50e-6), 1e9 + 50_000);
  });

  it('ppm: the clock runs that much fast; a local second is 1/(1 + ppm·1e-6) reference seconds', () => {
    assert.equal(ppmOfRate(0), 0);
    assert.equal(rateOfPpm(0), 0);
    for (const ppm of [-1000, -50, -0.5, 0.5, 20, 1000]) {
      assert.ok(Math.abs(ppmOfRate(rateOfPpm(ppm)) - ppm) < 1e-9);
      // A domain running 50 ppm fast counts 1 s + 50 µs while the reference counts 1 s.
      assert.ok(Math.abs(adjustRel(1e9 * (1 + ppm * 1e-6), 0, rateOfPpm(ppm)) - 1e9) <= 1);
    }
    assert.equal(formatPpm(20.14), '+20.1');
    assert.equal(formatPpm(-3.26), '-3.3');
    assert.equal(formatPpm(0.01), '0');
  });
});

describe('clockPolygon', () => {
  it('a case worked by hand: 0 ≤ s ≤ 500 at u = 0, 1000 ≤ s + r·1e9 ≤ 2000 at u = 1 s', () => {
    const p = clockPolygon([0, 1e9], [0, 1000], [0, 1e9], [500, 2000]);
    assert.equal(p.empty, false);
    if (p.empty) return;
    // r·1e9 ∈ [1000 − 500, 2000 − 0]: r from 0.5e-6 to 2e-6.
    assert.ok(Math.abs(p.rateLo - 0.5e-6) < 1e-15 && Math.abs(p.rateHi - 2e-6) < 1e-15, `${p.rateLo} ${p.rateHi}`);
    const want: [number, number][] = [
      [0, 1e-6],
      [0, 2e-6],
      [500, 0.5e-6],
      [500, 1.5e-6],
    ];
    for (const [s, r] of want) assert.ok(p.vertices.some(([vs, vr]) => Math.abs(vs - s) < 1e-6 && Math.abs(vr - r) < 1e-15), `vertex (${s}, ${r}) in ${JSON.stringify(p.vertices)}`);
    // The other points listed lie on its edges (breakpoints of the other chain): feasible.
    for (const [s, r] of p.vertices) assert.ok(feasible(s, r, [0, 1e9], [0, 1000], [0, 1e9], [500, 2000], 1e-6), `stray vertex (${s}, ${r})`);
    // Minimax over [0, 1 s]: the middle of [0, 500] at 0 and of [1000, 2000] at 1 s.
    const c = minimaxCentre(p.vertices, 0, 1e9);
    assert.ok(Math.abs(c.shift - 250) < 1e-6 && Math.abs(c.rate - 1.25e-6) < 1e-15 && Math.abs(c.half - 500) < 1e-6, JSON.stringify(c));
    assert.deepEqual(offsetRange(p.vertices, 0).map((x) => Math.round(x)), [0, 500]);
    assert.ok(Math.abs(maxDeviation(p.vertices, c, 0, 1e9) - 500) < 1e-6);
  });

  it('empty: the two half-planes closest to agreeing are named', () => {
    // s ≥ 100 at u = 0 and s ≤ 0 at u = 1 µs: even 1000 ppm moves s by 1 ns there.
    const p = clockPolygon([0, 5e8], [100, -1e6], [1000, 2e9], [0, 1e6]);
    assert.equal(p.empty, true);
    if (!p.empty) return;
    assert.equal(p.lower, 0);
    assert.equal(p.upper, 0);
  });

  it('against a brute-force grid: same feasibility, same rate interval, same slices (random half-planes)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const R = rng(seed);
      // A true clock, links around it with latencies, and now and then a contradicting link.
      const s0 = (R() - 0.5) * 2e4;
      const r0 = (R() - 0.5) * 4e-4;
      const n = 2 + Math.floor(R() * 8);
      const lu: number[] = [];
      const lv: number[] = [];
      const uu: number[] = [];
      const uv: number[] = [];
      for (let k = 0; k < n; k++) {
        const u1 = Math.floor(R() * 1e10);
        lu.push(u1);
        lv.push(s0 + r0 * u1 - Math.floor(R() * 2e4) + (R() < 0.1 ? 3e5 : 0));
        const u2 = Math.floor(R() * 1e10);
        uu.push(u2);
        uv.push(s0 + r0 * u2 + Math.floor(R() * 2e4));
      }
      const p = clockPolygon(lu, lv, uu, uv);
      // Grid over rates ±1000 ppm: feasible where the direct slice is non-empty.
      const G = 4000;
      const feasibleRates: number[] = [];
      for (let g = 0; g <= G; g++) {
        const r = -1e-3 + (2e-3 * g) / G;
        const [lo, hi] = sliceAt(r, lu, lv, uu, uv);
        if (lo <= hi) feasibleRates.push(r);
      }
      if (p.empty) {
        assert.equal(feasibleRates.length, 0, `seed ${seed}: the polygon is empty but rate ${feasibleRates[0]} is feasible`);
        continue;
      }
      const step = 2e-3 / G;
      if (feasibleRates.length) {
        assert.ok(p.rateLo <= feasibleRates[0]! + 1e-12 && feasibleRates[0]! - step <= p.rateLo + 1e-12, `seed ${seed}: rateLo ${p.rateLo} vs grid ${feasibleRates[0]}`);
        assert.ok(p.rateHi >= feasibleRates[feasibleRates.length - 1]! - 1e-12 && feasibleRates[feasibleRates.length - 1]! + step >= p.rateHi - 1e-12, `seed ${seed}: rateHi`);
      } else assert.ok(p.rateHi - p.rateLo <= step, `seed ${seed}: a feasible rate interval the grid does not see is narrower than a step`);
      // Every vertex satisfies every half-plane; each slice of the polygon is the direct slice.
      for (const [s, r] of p.vertices) assert.ok(feasible(s, r, lu, lv, uu, uv, 1e-3), `seed ${seed}: vertex (${s}, ${r}) infeasible`);
      for (const r of feasibleRates.filter((_, k) => k % 97 === 0)) {
        const want = sliceAt(r, lu, lv, uu, uv);
        const got = polygonSlice(p.vertices, r);
        assert.ok(got && Math.abs(got[0] - want[0]) < 1e-3 && Math.abs(got[1] - want[1]) < 1e-3, `seed ${seed}: slice at ${r}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
      }
      // The estimate is in the polygon.
      const c = minimaxCentre(p.vertices, 0, 1e10);
      assert.ok(feasible(c.shift, c.rate, lu, lv, uu, uv, 1e-3), `seed ${seed}: the minimax centre is outside`);
    }
  });

  const links = fc.record({
    s: fc.integer({ min: -1e9, max: 1e9 }),
    ppm: fc.double({ min: -500, max: 500, noNaN: true }),
    lower: fc.array(fc.tuple(fc.integer({ min: 0, max: 3e10 }), fc.integer({ min: 0, max: 1e5 })), { minLength: 1, maxLength: 40 }),
    upper: fc.array(fc.tuple(fc.integer({ min: 0, max: 3e10 }), fc.integer({ min: 0, max: 1e5 })), { minLength: 1, maxLength: 40 }),
  });

  it('property: the true clock of consistent links lies in the polygon; the estimate too; its uncertainty covers the truth', () => {
    fc.assert(
      fc.property(links, ({ s, ppm, lower, upper }) => {
        const r = ppm * 1e-6;
        // B after A by a latency ≥ 0: s + r·u ≥ value; the other way ≤.
        const lu = lower.map(([u]) => u);
        const lv = lower.map(([u, lat]) => s + r * u - lat);
        const uu = upper.map(([u]) => u);
        const uv = upper.map(([u, lat]) => s + r * u + lat);
        const p = clockPolygon(lu, lv, uu, uv);
        assert.equal(p.empty, false);
        if (p.empty) return;
        assert.ok(p.rateLo <= r + 1e-12 && r <= p.rateHi + 1e-12, `rate ${r} outside [${p.rateLo}, ${p.rateHi}]`);
        const span = Math.max(...lu, ...uu);
        for (const u of [0, span / 3, span]) {
          const [lo, hi] = offsetRange(p.vertices, u);
          const t = s + r * u;
          const eps = 1e-6 * Math.max(1, Math.abs(t));
          assert.ok(lo - eps <= t && t <= hi + eps, `offset at ${u}: ${t} outside [${lo}, ${hi}]`);
        }
        const c = minimaxCentre(p.vertices, 0, span);
        assert.ok(feasible(c.shift, c.rate, lu, lv, uu, uv, 1e-3 * Math.max(1, Math.abs(s))), 'the estimate is outside the polygon');
        assert.ok(maxDeviation(p.vertices, c, 0, span) <= c.half + 1e-3 * Math.max(1, Math.abs(s)));
        assert.ok(Math.abs(s - c.shift) <= c.half + 1e-3 * Math.max(1, Math.abs(s)) && Math.abs(s + r * span - (c.shift + c.rate * span)) <= c.half + 1e-3 * Math.max(1, Math.abs(s)));
      }),
      { numRuns: 500 },
    );
  });

  it('property: links of a clock without drift allow rate 0', () => {
    fc.assert(
      fc.property(links, ({ s, lower, upper }) => {
        const p = clockPolygon(
          lower.map(([u]) => u),
          lower.map(([, lat]) => s - lat),
          upper.map(([u]) => u),
          upper.map(([, lat]) => s + lat),
        );
        assert.ok(!p.empty && p.rateLo <= 0 && 0 <= p.rateHi);
      }),
      { numRuns: 300 },
    );
  });
});

/** A solver input for two domains (0 the reference) from A→B links [ta (rel in from), tb (rel in to)]. */
function twoDomains(fwd: [number, number][], back: [number, number][], o: Partial<SolveInput> = {}): SolveInput {
  const c = new LinkCollector([0, 0]);
  fwd.forEach(([ta, tb], k) => c.link(0, ta, 1, tb, k, 0));
  back.forEach(([ta, tb], k) => c.link(1, ta, 0, tb, k, 1));
  return {
    n: 2,
    reference: 0,
    givenShift: new Map(),
    givenRate: new Map(),
    pairs: c.list(),
    names: ['ref', 'other'],
    needed: new Set([0, 1]),
    bases: [0n, 0n],
    witness: (tag, dir) => `link ${dir === 0 ? 'ref→other' : 'other→ref'} #${tag}`,
    ...o,
  };
}

describe('solveClocks', () => {
  it('when a constant offset fits, the answer is the constant offset: the middle of the interval, its half-width, rate 0', () => {
    const R = rng(7);
    // other = ref − 1000 ns; latencies 2-20 µs both ways over 10 s.
    const fwd: [number, number][] = [];
    const back: [number, number][] = [];
    for (let k = 0; k < 200; k++) {
      const t = Math.floor(R() * 1e10);
      fwd.push([t, t + 1000 + 2000 + Math.floor(R() * 18000)]);
      back.push([t + 1000, t + 2000 + Math.floor(R() * 18000)]);
    }
    const s = solveClocks(twoDomains(fwd, back))[1]!;
    // Independently: shift ∈ [max(ta − tb), min(tb − ta)] (other's shift, ref's 0).
    const lo = Math.max(...fwd.map(([ta, tb]) => ta - tb));
    const hi = Math.min(...back.map(([ta, tb]) => tb - ta));
    assert.equal(s.method, 'estimated');
    assert.equal(s.driftMethod, 'constant');
    assert.equal(s.rate, 0);
    assert.equal(s.shift, (lo + hi) / 2);
    assert.equal(s.uncertainty, (hi - lo) / 2);
    assert.deepEqual([s.lo, s.hi], [lo, hi]);
    assert.ok(s.rateLo! < 0 && s.rateHi! > 0);
  });

  it('a drifting domain: the rate the links say, the truth within the uncertainty over the span', () => {
    const R = rng(11);
    const rate = rateOfPpm(50);
    const fwd: [number, number][] = [];
    const back: [number, number][] = [];
    // adjusted(other) = rel + shift + rate·rel with shift −1000.
    const toRel = (adj: number): number => Math.round((adj + 1000) / (1 + rate));
    for (let k = 0; k < 300; k++) {
      const t = Math.floor(R() * 3e10);
      fwd.push([t, toRel(t + 2000 + Math.floor(R() * 18000))]);
      back.push([toRel(t), t + 2000 + Math.floor(R() * 18000)]);
    }
    const s = solveClocks(twoDomains(fwd, back))[1]!;
    assert.equal(s.driftMethod, 'estimated');
    assert.ok(s.rateLo! <= rate && rate <= s.rateHi!, `${s.rateLo} ${rate} ${s.rateHi}`);
    assert.ok(Math.abs(ppmOfRate(s.rate) - 50) < 0.5, `${ppmOfRate(s.rate)} ppm`);
    for (const u of [0, s.span / 2, s.span]) {
      const err = Math.abs(s.shift + s.rate * u - (-1000 + rate * u));
      assert.ok(err <= s.uncertainty, `error ${err} > ±${s.uncertainty} at ${u}`);
    }
  });

  it('a given drift: the offset alone is estimated, as an interval', () => {
    const rate = rateOfPpm(-20);
    const toRel = (adj: number): number => Math.round((adj - 500) / (1 + rate));
    const fwd: [number, number][] = [];
    const back: [number, number][] = [];
    for (let k = 0; k < 50; k++) {
      const t = k * 5e8;
      fwd.push([t, toRel(t + 3000)]);
      back.push([toRel(t), t + 4000]);
    }
    const s = solveClocks(twoDomains(fwd, back, { givenRate: new Map([[1, rate]]) }))[1]!;
    assert.equal(s.driftMethod, 'given');
    assert.equal(s.rate, rate);
    // With that drift the links say shift ∈ [500 − 3000, 500 + 4000] (the latencies each way).
    assert.ok(Math.abs(s.lo! + 2500) < 1 && Math.abs(s.hi! - 4500) < 1, JSON.stringify(s));
    assert.ok(Math.abs(s.shift - 1000) < 1 && Math.abs(s.uncertainty - 3500) < 1);
  });

  it('a contradiction no drift explains is refused, naming a link on each side and the options', () => {
    // The other domain's events come 50 µs "before" their causes, within 1 ms.
    const fwd: [number, number][] = [
      [0, 60_000],
      [1_000_000, 1_010_000],
    ];
    const back: [number, number][] = [[500_000, 450_000]];
    assert.throws(
      () => solveClocks(twoDomains(fwd, back)),
      (e: unknown) =>
        e instanceof InputError &&
        /inconsistent clocks between domains ref and other: causality needs .* \(link ref→other #\d\) and ≤ .* \(link other→ref #0\); no offset satisfies both, and no drift within ±1000 ppm either: no offset and rate satisfy both\. .*--offset other=NS \(and --drift other=PPM\)/.test(e.message),
    );
  });

  it('links from one side only: the domain cannot be placed', () => {
    assert.throws(() => solveClocks(twoDomains([[0, 10]], [])), /cannot estimate the clock offset of domain other: its requests only bound the offset from one side \(no link back\)/);
  });

  it('the robust first pass drops the links most violating the pass clock (1 % per side, at least one)', () => {
    const fwd: [number, number][] = [];
    const back: [number, number][] = [];
    for (let k = 0; k < 100; k++) {
      fwd.push([k * 1e8, k * 1e8 + 5000]);
      back.push([k * 1e8 + 100, k * 1e8 + 5100]);
    }
    // A neighbour's event paired by the loose tolerance: it says the clock is 1 ms later.
    fwd.push([5e9, 5e9 - 1_000_000]);
    assert.throws(() => solveClocks(twoDomains(fwd, back)), /no offset and rate satisfy both/);
    const s = solveClocks(twoDomains(fwd, back, { robust: { frac: 0.01, guess: [{ shift: 0, rate: 0 }, { shift: 0, rate: 0 }] } }))[1]!;
    assert.equal(s.driftMethod, 'constant');
    assert.ok(Math.abs(s.shift) <= 5000);
  });
});

describe('--drift DOMAIN=PPM', () => {
  it('parses signed decimals, repeatable, each domain once, within ±1000 ppm', () => {
    assert.deepEqual([...collectDrift('dom0=-20.5', collectDrift('tapdisk=+3', undefined))], [
      ['tapdisk', 3],
      ['dom0', -20.5],
    ]);
    assert.deepEqual([...collectDrift('qemu=.5', undefined)], [['qemu', 0.5]]);
    assert.throws(() => collectDrift('dom0', undefined), /expected DOMAIN=PPM/);
    assert.throws(() => collectDrift('dom0=fast', undefined), /expected DOMAIN=PPM/);
    assert.throws(() => collectDrift('dom0=1001', undefined), /beyond ±1000 ppm/);
    assert.throws(() => collectDrift('dom0=1', new Map([['dom0', 2]])), /drift of dom0 given twice/);
  });
});

describe('coarseDrift', () => {
  /** Pairs of the same request (latency 5-60 µs) at `ppm` among wrong pairs (another run: ±seconds). */
  function pairs(ppm: number, seed: number, span = 3e10): { x: Float64Array; d: Float64Array; sign: 1 } {
    const R = rng(seed);
    const x: number[] = [];
    const d: number[] = [];
    const rate = rateOfPpm(ppm);
    for (let k = 0; k < 600; k++) {
      const t = R() * span;
      // d + rate·x = constant + latency for the pairs of the same request.
      x.push(t);
      d.push(7_000_000 + 5000 + R() * 55_000 - rate * t);
      if (k % 2 === 0) {
        x.push(t);
        d.push(7_000_000 + (R() - 0.5) * 2 * span);
      }
    }
    return { x: Float64Array.from(x), d: Float64Array.from(d), sign: 1 };
  }

  it('finds ±50 ppm over 30 s among wrong pairs', () => {
    for (const ppm of [50, -50, 12]) {
      const r = coarseDrift([pairs(ppm, 3)]).rate;
      assert.ok(Math.abs(r - rateOfPpm(ppm)) < 2e-6, `${ppm} ppm: found ${ppmOfRate(r)}`);
    }
  });

  it('leaves a clock without drift at exactly 0, and a drift that moves the offset less than it matters', () => {
    assert.equal(coarseDrift([pairs(0, 5)]).rate, 0);
    // 5 ppm over 2 s: 10 µs, within the first pass's tolerance.
    assert.equal(coarseDrift([pairs(5, 6, 2e9)]).rate, 0);
  });
});
