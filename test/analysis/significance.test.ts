/**
 * The statistics behind `xtrace compare` (src/analysis/significance.ts): the distribution
 * functions against published table values and closed forms, Welch and Mann–Whitney against
 * published worked examples (sources in the comments), the bootstrap's determinism and coverage,
 * the equivalence test (TOST) and Holm's adjustment against published examples, the sample-size
 * formula against the normal table, and fast-check properties (symmetry under swapping sides,
 * translation invariance, p ∈ [0, 1], the TOST's duality with its interval).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bootstrapDeltaCI,
  holmAdjust,
  logGamma,
  mannWhitneyU,
  normalCdf,
  regIncBeta,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedP,
  twoSampleSizePerGroup,
  welchEquivalence,
  welchTTest,
} from '../../src/analysis/significance.js';

/** |actual − expected| ≤ abs + rel·|expected| */
function close(actual: number, expected: number, rel: number, abs = 0, what = ''): void {
  const ok = Math.abs(actual - expected) <= abs + rel * Math.abs(expected);
  assert.ok(ok, `${what ? what + ': ' : ''}${actual} vs ${expected} (rel ${rel}, abs ${abs})`);
}

/** Plain === (assert/strict's equal uses Object.is, which tells 0 from −0). */
function same(actual: number, expected: number, what = ''): void {
  assert.ok(actual === expected || (Number.isNaN(actual) && Number.isNaN(expected)), `${what ? what + ': ' : ''}${actual} !== ${expected}`);
}

/** A small deterministic generator for test data (independent of the module's PRNG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Approximately normal draws (sum of 12 uniforms − 6), mean mu, standard deviation sd. */
function normalSample(n: number, mu: number, sd: number, rnd: () => number): number[] {
  return Array.from({ length: n }, () => {
    let s = -6;
    for (let k = 0; k < 12; k++) s += rnd();
    return mu + sd * s;
  });
}

describe('Student t distribution', () => {
  // Critical values t_{q, df}: P(T ≤ t) = q, as printed (3 decimals) in the standard table,
  // NIST/SEMATECH e-Handbook of Statistical Methods §1.3.6.7.2 "Critical values of the Student's t
  // distribution" (df 1–30, 40, 60, 100, ∞); df = 120 from the usual textbook tables (e.g.
  // Montgomery & Runger, Applied Statistics and Probability for Engineers, Table V).
  const table: [q: number, df: number, t: number][] = [
    [0.975, 1, 12.706],
    [0.975, 2, 4.303],
    [0.975, 5, 2.571],
    [0.975, 10, 2.228],
    [0.975, 30, 2.042],
    [0.975, 100, 1.984],
    [0.975, 120, 1.98],
    [0.975, Infinity, 1.96],
    [0.95, 10, 1.812],
    [0.95, 1, 6.314],
    [0.9, 5, 1.476],
    [0.995, 1, 63.657],
    [0.995, 10, 3.169],
    [0.999, 30, 3.385],
  ];

  it('matches the published critical values', () => {
    for (const [q, df, t] of table) {
      close(studentTCdf(t, df), q, 0, 1e-4, `F(${t}; ${df})`);
      // The table value is the correctly rounded quantile: the true quantile lies within ±0.0005.
      assert.ok(studentTCdf(t - 0.0005, df) < q && q < studentTCdf(t + 0.0005, df), `t_{${q}, ${df}} = ${t} is not the rounded quantile`);
      // Two-sided p at the two-sided critical value.
      close(studentTTwoSidedP(t, df), 2 * (1 - q), 0.02, 1e-5, `p(${t}; ${df})`);
    }
  });

  it('quantile: the published critical values, and the inverse of the CDF', () => {
    for (const [q, df, t] of table) {
      close(studentTQuantile(q, df), t, 0, 5e-4, `t_{${q}, ${df}}`);
      close(studentTQuantile(1 - q, df), -t, 0, 5e-4, `t_{${1 - q}, ${df}}`);
    }
    // z quantiles of the standard normal table: z_{0.975} = 1.959964, z_{0.95} = 1.644854, z_{0.8} = 0.841621.
    close(studentTQuantile(0.975, Infinity), 1.959964, 0, 5e-7);
    close(studentTQuantile(0.95, Infinity), 1.644854, 0, 5e-7);
    close(studentTQuantile(0.8, Infinity), 0.841621, 0, 5e-7);
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 1 - 1e-12, noNaN: true }), fc.double({ min: 0.5, max: 1e7, noNaN: true }), (q, df) => {
        const t = studentTQuantile(q, df);
        close(studentTCdf(t, df), q, 1e-9, 1e-15, `F(t_{${q}, ${df}})`);
      }),
    );
    same(studentTQuantile(0.5, 3), 0);
    same(studentTQuantile(0, 3), -Infinity);
    same(studentTQuantile(1, 3), Infinity);
    same(studentTQuantile(1.5, 3), NaN);
    same(studentTQuantile(0.9, 0), NaN);
  });

  it('is symmetric: F(−t) = 1 − F(t), F(0) = ½, two-sided p = 2 F(−|t|)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.double({ min: 0.05, max: 1e7, noNaN: true }), (t, df) => {
        close(studentTCdf(-t, df), 1 - studentTCdf(t, df), 0, 1e-15);
        close(studentTTwoSidedP(t, df), 2 * studentTCdf(-Math.abs(t), df), 1e-13, 1e-300);
        const p = studentTTwoSidedP(t, df);
        assert.ok(p >= 0 && p <= 1);
      }),
    );
    for (const df of [0.5, 1, 3.7, 1e3, 1e9, Infinity]) {
      same(studentTCdf(0, df), 0.5);
      same(studentTTwoSidedP(0, df), 1);
    }
  });

  it('matches the closed forms for df = 1 (Cauchy), 2 and 4, also far in the tails', () => {
    // Standard special cases (e.g. Johnson, Kotz & Balakrishnan, Continuous Univariate
    // Distributions vol. 2, ch. 28): F₁(t) = ½ + atan(t)/π; F₂(t) = ½ + t / (2√(2+t²));
    // F₄(t) = ½ + (3/8) · (t/√(1+t²/4)) · (1 − t²/(12 (1+t²/4))).
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }), (t) => {
        // (absolute tolerance: the closed forms themselves cancel in the lower tail)
        close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, 1e-14, `df 1, t ${t}`);
        close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, 1e-14, `df 2, t ${t}`);
        const u = 1 + (t * t) / 4;
        close(studentTCdf(t, 4), 0.5 + (3 / 8) * (t / Math.sqrt(u)) * (1 - (t * t) / (12 * u)), 1e-12, 1e-14, `df 4, t ${t}`);
      }),
    );
    // Tiny tails, relative accuracy: P(|T₁| > t) = (2/π) atan(1/t); P(|T₂| > t) = 2 / (s (s + t)), s = √(2+t²).
    for (const t of [10, 1e3, 1e6, 1e10, 1e100]) {
      close(studentTTwoSidedP(t, 1), (2 / Math.PI) * Math.atan(1 / t), 1e-12, 0, `df 1, t ${t}`);
      const s = Math.sqrt(2 + t * t);
      close(studentTTwoSidedP(t, 2), 2 / (s * (s + t)), 1e-12, 0, `df 2, t ${t}`);
    }
  });

  it('approaches the normal distribution as df grows', () => {
    let prev = Infinity;
    for (const df of [10, 100, 1e3, 1e4, 1e5, 1e6, 1e8, 1e12]) {
      const gap = Math.abs(studentTCdf(2, df) - normalCdf(2));
      assert.ok(gap < prev, `df ${df}: gap ${gap} did not shrink`);
      prev = gap;
    }
    assert.ok(prev < 1e-12);
    close(studentTCdf(1.96, 1e7), normalCdf(1.96), 0, 2e-8); // gap ≈ φ(t)(t³ + t)/(4 df) = 1.4e-8
    same(studentTCdf(1.5, Infinity), normalCdf(1.5));
    // Across the switch to the large-df approximation (df > 1e5) the function stays continuous.
    for (const t of [0.3, 1.96, 5, 12]) close(studentTTwoSidedP(t, 100000.0001), studentTTwoSidedP(t, 99999.9999), 1e-9, 0, `t ${t}`);
  });

  it('rejects what is not a distribution', () => {
    same(studentTCdf(1, 0), NaN);
    same(studentTCdf(1, -3), NaN);
    same(studentTCdf(NaN, 3), NaN);
    same(studentTTwoSidedP(1, NaN), NaN);
    same(studentTCdf(Infinity, 3), 1);
    same(studentTCdf(-Infinity, 3), 0);
  });
});

describe('regIncBeta and logGamma', () => {
  it('I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 − (1−x)^b', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.05, max: 50, noNaN: true }), (x, c) => {
        // (the prefactor is exp(a ln x + b ln(1−x) − ln B): relative error ≈ |a ln x|·2⁻⁵³, 1e-13 at x = 1e-300)
        close(regIncBeta(x, 1, 1), x, 1e-12, 1e-300);
        close(regIncBeta(x, c, 1), x ** c, 1e-12, 1e-300);
        close(regIncBeta(x, 1, c), -Math.expm1(c * Math.log1p(-x)), 1e-12, 1e-300);
      }),
    );
  });

  it('I_x(a, b) = 1 − I_{1−x}(b, a); monotone in x', () => {
    // x = k/2^20 so that 1 − x is exact (the identity is ill-conditioned under rounding of 1 − x
    // when x is tiny and a is small).
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 20 }).map((k) => k / 2 ** 20),
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        (x, a, b) => {
          const v = regIncBeta(x, a, b);
          assert.ok(v >= 0 && v <= 1);
          close(v, 1 - regIncBeta(1 - x, b, a), 0, 1e-13);
          assert.ok(regIncBeta(Math.min(1, x + 0.01), a, b) >= v - 1e-15);
        },
      ),
    );
  });

  it('known values', () => {
    // I_½(2, 3) = Σ_{j=2}^{4} C(4, j) / 2⁴ = (6 + 4 + 1) / 16 = 11/16
    close(regIncBeta(0.5, 2, 3), 0.6875, 1e-14);
    // I_½(a, a) = ½ by symmetry
    for (const a of [0.1, 1, 7.5, 300]) close(regIncBeta(0.5, a, a), 0.5, 1e-13);
    // I_x(½, ½) = (2/π) asin(√x) (the arcsine distribution)
    for (const x of [1e-12, 0.01, 0.3, 0.9, 0.999999]) close(regIncBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), 1e-13);
    same(regIncBeta(0, 2, 3), 0);
    same(regIncBeta(1, 2, 3), 1);
    same(regIncBeta(-0.1, 2, 3), NaN);
    same(regIncBeta(0.5, 0, 3), NaN);
  });

  it('logGamma: Γ(5) = 24, Γ(½) = √π, Γ(n) = (n−1)!, the recurrence and the reflection', () => {
    close(logGamma(5), Math.log(24), 1e-15);
    close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-15);
    same(logGamma(1), 0);
    same(logGamma(2), 0);
    let fact = 1;
    for (let n = 2; n <= 25; n++) {
      fact *= n - 1;
      close(Math.exp(logGamma(n)), fact, 1e-13, 0, `Γ(${n})`);
    }
    close(logGamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-14); // Γ(−½) = −2√π
    same(logGamma(0), Infinity);
    same(logGamma(-3), Infinity);
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), (x) => {
        // ln Γ(x+1) = ln Γ(x) + ln x
        close(logGamma(x + 1), logGamma(x) + Math.log(x), 1e-13, 1e-13);
      }),
    );
  });
});

describe('normalCdf', () => {
  it('Φ(0) = ½, Φ(1.96) ≈ 0.975, published table values, symmetry, deep tails', () => {
    same(normalCdf(0), 0.5);
    close(normalCdf(1.96), 0.975, 0, 1e-4); // every normal table: Φ(1.96) = 0.9750
    // Reference values (40-digit mpmath, agreeing with the 4-decimal tables: 0.8413, 0.9772, 0.0013):
    close(normalCdf(1.96), 0.9750021048517795, 1e-14);
    close(normalCdf(1), 0.8413447460685429, 1e-14);
    close(normalCdf(2), 0.9772498680518208, 1e-14);
    close(normalCdf(-3), 0.0013498980316300946, 1e-13);
    close(normalCdf(-10), 7.619853024160527e-24, 1e-12);
    close(normalCdf(-30), 4.906713927148187e-198, 1e-11);
    same(normalCdf(-Infinity), 0);
    same(normalCdf(Infinity), 1);
    fc.assert(
      fc.property(fc.double({ min: -40, max: 40, noNaN: true }), (z) => {
        close(normalCdf(-z), 1 - normalCdf(z), 0, 1e-15);
        assert.ok(normalCdf(z) <= normalCdf(z + 1e-3));
      }),
    );
  });
});

describe('welchTTest', () => {
  it('matches a published example (R t.test, Welch)', () => {
    // R output quoted in the Cross Validated answer "Welch's t-test confidence interval" (also
    // reproduced on boxhoidap.com): t.test(ts1, ts2) → t = -1.8325, df = 17.9, p-value = 0.08356,
    // mean of x 10.4, mean of y 11.4. Our t is (mean b − mean a)/se, so its sign is the opposite.
    const ts1 = [11, 9, 10, 11, 10, 12, 9, 11, 12, 9];
    const ts2 = [11, 13, 10, 13, 12, 9, 11, 12, 12, 11];
    // By hand: means 104/10 = 10.4 and 114/10 = 11.4; squared deviations sum to 12.4 and 14.4,
    // so s1² = 12.4/9, s2² = 14.4/9; se² = (12.4 + 14.4)/90 = 0.29778, se = 0.54569;
    // t = 1/0.54569 = 1.83254; df = (26.8/90)² / (((12.4/90)² + (14.4/90)²)/9)
    //    = 26.8² · 9 / (12.4² + 14.4²) = 6464.16 / 361.12 = 17.9003.
    const r = welchTTest(ts1, ts2);
    close(r.meanA, 10.4, 1e-15);
    close(r.meanB, 11.4, 1e-15);
    close(r.delta, 1, 1e-14);
    close(r.t, 1 / Math.sqrt(26.8 / 90), 1e-13);
    close(r.t, 1.8325, 0, 5e-5);
    close(r.df, 6464.16 / 361.12, 1e-13);
    close(r.df, 17.9, 0, 5e-3);
    close(r.p, 0.08356, 0, 5e-6);
    close(r.se, Math.sqrt(26.8 / 90), 1e-14);
    const s = welchTTest(ts2, ts1);
    same(s.t, -r.t);
    same(s.p, r.p);
  });

  it('equal sizes and variances: df = 2n − 2', () => {
    // [1,2,3] vs [4,5,6]: both variances 1, se² = 2/3, t = 3/√(2/3), df = (2/3)² / (2 · (1/3)²/2) = 4
    const r = welchTTest([1, 2, 3], [4, 5, 6]);
    close(r.t, 3 / Math.sqrt(2 / 3), 1e-14);
    close(r.df, 4, 1e-14);
    close(r.p, studentTTwoSidedP(3 / Math.sqrt(2 / 3), 4), 1e-14);
    assert.ok(r.p > 0.02 && r.p < 0.022); // t = 3.674, df 4: p = 0.0213
  });

  it('zero variances', () => {
    const up = welchTTest([5, 5, 5], [7, 7]);
    same(up.t, Infinity);
    same(up.p, 0);
    same(up.delta, 2);
    same(up.df, NaN);
    const down = welchTTest([0.1, 0.1, 0.1], [0.05, 0.05, 0.05, 0.05]);
    same(down.t, -Infinity);
    same(down.p, 0);
    const flat = welchTTest([0.1, 0.1, 0.1], [0.1, 0.1]);
    same(flat.t, 0);
    same(flat.p, 1);
    same(flat.meanA, 0.1); // exact for a constant sample, whatever the summation's rounding
    // Only one side constant: an ordinary test with df = n_other − 1.
    const one = welchTTest([3, 3, 3, 3], [1, 2, 3, 4, 5]);
    close(one.df, 4, 1e-14);
    close(one.t, 0, 0, 1e-15);
  });

  it('rejects samples it cannot test', () => {
    assert.throws(() => welchTTest([1], [1, 2]), RangeError);
    assert.throws(() => welchTTest([1, 2], []), RangeError);
    assert.throws(() => welchTTest([1, NaN], [1, 2]), RangeError);
    assert.throws(() => welchTTest([1, 2], [1, Infinity]), RangeError);
  });

  const sample = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 40 });
  const realSample = fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 40 });

  it('property: swapping sides negates delta and t, keeps df and p', () => {
    fc.assert(
      fc.property(realSample, realSample, (a, b) => {
        const r = welchTTest(a, b);
        const s = welchTTest(b, a);
        same(s.delta, -r.delta, 'delta');
        same(s.t, -r.t, 't');
        same(s.df, r.df, 'df');
        same(s.p, r.p, 'p');
        assert.ok(r.p >= 0 && r.p <= 1, `p ${r.p}`);
        if (!Number.isNaN(r.df)) assert.ok(r.df >= Math.min(a.length, b.length) - 1 - 1e-9 && r.df <= a.length + b.length - 2 + 1e-9, `df ${r.df}`);
      }),
    );
  });

  it('property: adding a constant to both samples changes nothing but the means', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: -1e6, max: 1e6 }), (a, b, c) => {
        const r = welchTTest(a, b);
        const s = welchTTest(
          a.map((v) => v + c),
          b.map((v) => v + c),
        );
        close(s.delta, r.delta, 1e-9, 1e-8, 'delta');
        close(s.meanA, r.meanA + c, 1e-12, 1e-9, 'meanA');
        if (Number.isFinite(r.t)) {
          close(s.t, r.t, 1e-7, 1e-7, 't');
          close(s.df, r.df, 1e-7, 0, 'df');
          close(s.p, r.p, 0, 1e-7, 'p');
        } else {
          same(s.t, r.t);
          same(s.p, r.p);
        }
      }),
    );
  });
});

describe('mannWhitneyU', () => {
  it('matches a published example with ties across and within the samples (R wilcox.test)', () => {
    // R output quoted on endmemo.com "R wilcox.test Function":
    //   x <- c(1,5,9,24,56,21,3,7,21,4); y <- c(12,15,5,9,9,14,56,22,3,7,32,5)
    //   wilcox.test(x, y) → "Wilcoxon rank sum test with continuity correction",
    //   W = 51.5, p-value = 0.5966 (warning: cannot compute exact p-value with ties).
    // R's W counts pairs with x > y (ties ½), i.e. our U with a = y, b = x. By hand:
    //   x=1: 0; 5: 1 + 2·½ = 2; 9: 4 + 2·½ = 5; 24: 10; 56: 11 + ½; 21: 9 (twice); 3: ½;
    //   7: 3 + ½; 4: 1 → W = 0 + 2 + 5 + 10 + 11.5 + 18 + 0.5 + 3.5 + 1 = 51.5.
    // Tie groups in the 22 values: 3 (2), 5 (3), 7 (2), 9 (3), 21 (2), 56 (2): Σ(t³ − t) = 72;
    //   σ² = (120/12) · (23 − 72/(22·21)) = 228.44156; z = (51.5 − 60 + ½)/σ = −0.52930.
    const x = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4];
    const y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5];
    const r = mannWhitneyU(y, x);
    same(r.u, 51.5);
    same(r.n1, 12);
    same(r.n2, 10);
    close(r.z, -8 / Math.sqrt(10 * (23 - 72 / 462)), 1e-14);
    close(r.p, 0.5966, 0, 5e-5);
    close(r.p, 2 * normalCdf(-Math.abs(r.z)), 1e-12);
    // Same page: y <- c(1233,4356,987,39999,1111,200000); wilcox.test(x, y) → W = 0, p-value = 0.001364
    const r2 = mannWhitneyU([1233, 4356, 987, 39999, 1111, 200000], x);
    same(r2.u, 0);
    close(r2.p, 0.001364, 0, 5e-7);
  });

  it('matches the ClickHouse mannWhitneyUTest reference (SciPy values), ties within the samples', () => {
    // ClickHouse tests/queries/0_stateless/01560_mann_whitney.{sql,reference}: two groups of 20
    // (ties 530, 180 in group 0 and 111, 261 in group 1), expected (223, 0.5426959774289482) — the
    // output of scipy.stats.mannwhitneyu(group0, group1) (two-sided, continuity correction),
    // whose U counts pairs with group0 > group1: our U with a = group 1, b = group 0.
    const g0 = [310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295];
    const g1 = [116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261];
    const r = mannWhitneyU(g1, g0);
    same(r.u, 223);
    close(r.p, 0.5426959774289482, 1e-12);
    // σ² = (400/12)(41 − 4·6/(40·39)) = 1366.1538…; z = (223 − 200 − ½)/σ
    close(r.z, 22.5 / Math.sqrt((400 / 12) * (41 - 24 / 1560)), 1e-14);
    const s = mannWhitneyU(g0, g1);
    same(s.u, 177);
    same(s.p, r.p);
  });

  it('a small example by hand: U counts ties as ½, U + U′ = n1·n2', () => {
    // a = [1, 2, 2, 3], b = [2, 3, 4, 5]: b=2 beats 1 and ties 2, 2 → 2; b=3 beats 1, 2, 2 and ties 3 → 3.5;
    // b=4, b=5 beat all four → U = 2 + 3.5 + 4 + 4 = 13.5. Ties: 2 (×3), 3 (×2): Σ(t³ − t) = 24 + 6 = 30;
    // σ² = (16/12)(9 − 30/56); z = (13.5 − 8 − ½)/σ = 1.48835.
    const r = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 5]);
    same(r.u, 13.5);
    close(r.z, 5 / Math.sqrt((16 / 12) * (9 - 30 / 56)), 1e-14);
    close(r.z, 1.48835, 0, 5e-6);
    same(mannWhitneyU([2, 3, 4, 5], [1, 2, 2, 3]).u, 16 - 13.5);
  });

  it('degenerate inputs: all tied, single values, |U − n1n2/2| ≤ ½', () => {
    const tied = mannWhitneyU([4, 4, 4], [4, 4]);
    same(tied.u, 3);
    same(tied.p, 1);
    same(tied.z, 0);
    const single = mannWhitneyU([1], [2]);
    same(single.u, 1);
    assert.ok(single.p > 0 && single.p <= 1);
    const centre = mannWhitneyU([1, 3], [2, 2]); // each 2 beats the 1: U = 2 = n1·n2/2
    same(centre.u, 2);
    same(centre.z, 0);
    same(centre.p, 1);
    const half = mannWhitneyU([1, 2], [2, 0]); // U = 1.5, |U − 2| = ½: the continuity correction leaves 0
    same(half.u, 1.5);
    same(half.z, 0);
    same(half.p, 1);
    same(mannWhitneyU([-0, 0], [0]).p, 1); // −0 and +0 are one value
    assert.throws(() => mannWhitneyU([], [1]), RangeError);
    assert.throws(() => mannWhitneyU([1, NaN], [1]), RangeError);
  });

  it('ranks 100k values per side', () => {
    const rnd = lcg(3);
    const a = Array.from({ length: 100_000 }, () => Math.floor(rnd() * 5000)); // many ties
    const b = Array.from({ length: 100_000 }, () => Math.floor(rnd() * 5000) + 50);
    const r = mannWhitneyU(a, b);
    assert.ok(r.z > 4 && r.p < 1e-4, JSON.stringify(r)); // a shift of 1% of the range is detected (z ≈ 7.7)
    assert.ok(Number.isInteger(2 * r.u));
  });

  const sample = fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 1, maxLength: 40 }); // narrow range: many ties

  it('property: swapping sides — U_b(a, b) = n1·n2 − U_b(b, a), z negated, p unchanged; p ∈ [0, 1]', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = mannWhitneyU(a, b);
        const s = mannWhitneyU(b, a);
        same(r.u + s.u, a.length * b.length);
        same(s.z, -r.z);
        same(s.p, r.p);
        assert.ok(r.p >= 0 && r.p <= 1);
        // U is the count of pairs, by brute force
        let u = 0;
        for (const x of a) for (const y of b) u += y > x ? 1 : y === x ? 0.5 : 0;
        same(r.u, u);
      }),
    );
  });

  it('property: adding a constant to both samples changes nothing', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: -1e9, max: 1e9 }), (a, b, c) => {
        assert.deepEqual(
          mannWhitneyU(
            a.map((v) => v + c),
            b.map((v) => v + c),
          ),
          mannWhitneyU(a, b),
        );
      }),
    );
  });
});

describe('bootstrapDeltaCI', () => {
  const rnd = lcg(11);
  const a = normalSample(100, 1000, 40, rnd);
  const b = normalSample(100, 1030, 60, rnd);

  it('is deterministic for a seed and lo ≤ hi', () => {
    const ci = bootstrapDeltaCI(a, b);
    assert.deepEqual(bootstrapDeltaCI(a, b), ci);
    assert.deepEqual(bootstrapDeltaCI(a, b, { seed: 1, resamples: 2000, level: 0.95 }), ci);
    assert.notDeepEqual(bootstrapDeltaCI(a, b, { seed: 2 }), ci);
    assert.ok(ci[0] <= ci[1]);
    const delta = welchTTest(a, b).delta;
    assert.ok(ci[0] < delta && delta < ci[1], `${ci} around ${delta}`);
    // Wider at a higher level.
    const c90 = bootstrapDeltaCI(a, b, { level: 0.9 });
    const c99 = bootstrapDeltaCI(a, b, { level: 0.99 });
    assert.ok(c99[0] < c90[0] && c90[1] < c99[1]);
  });

  it('contains the true delta for shifted samples', () => {
    // b = a + 25 exactly: the interval is centred near 25.
    const ci = bootstrapDeltaCI(a, a.map((v) => v + 25));
    assert.ok(ci[0] < 25 && 25 < ci[1], `${ci}`);
    // Independent samples from populations 7 apart: a 95% interval covers 7 in about 95% of
    // data sets (and excludes 0, 7 standard errors away, in all of them).
    const gen = lcg(99);
    let covered = 0;
    for (let k = 0; k < 40; k++) {
      const x = normalSample(50, 200, 5, gen);
      const y = normalSample(50, 207, 5, gen);
      const [lo, hi] = bootstrapDeltaCI(x, y, { seed: k + 1, resamples: 1000 });
      if (lo <= 7 && 7 <= hi) covered++;
      assert.ok(lo > 0, `data set ${k}: [${lo}, ${hi}]`);
    }
    assert.ok(covered >= 33, `covered ${covered}/40`);
  });

  it('shifts by c when b is shifted by c; negating both samples negates the interval', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: 1, max: 1000 }),
        (x, y, c, seed) => {
          const o = { seed, resamples: 200 };
          const [lo, hi] = bootstrapDeltaCI(x, y, o);
          assert.ok(lo <= hi);
          const [slo, shi] = bootstrapDeltaCI(
            x,
            y.map((v) => v + c),
            o,
          );
          close(slo, lo + c, 1e-12, 1e-6);
          close(shi, hi + c, 1e-12, 1e-6);
          const [nlo, nhi] = bootstrapDeltaCI(
            x.map((v) => -v),
            y.map((v) => -v),
            o,
          );
          close(nlo, -hi, 1e-12, 1e-6);
          close(nhi, -lo, 1e-12, 1e-6);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('swapping sides negates the interval up to resampling noise', () => {
    // Not exact: with the sides swapped the PRNG's draws go to the other sample.
    const [lo, hi] = bootstrapDeltaCI(a, b, { resamples: 4000 });
    const [slo, shi] = bootstrapDeltaCI(b, a, { resamples: 4000 });
    const width = hi - lo;
    close(slo, -hi, 0, 0.1 * width);
    close(shi, -lo, 0, 0.1 * width);
  });

  it('handles 10k values per side', () => {
    const gen = lcg(5);
    const x = normalSample(10_000, 5e6, 1e5, gen);
    const y = normalSample(10_000, 5.01e6, 1e5, gen);
    const [lo, hi] = bootstrapDeltaCI(x, y);
    assert.ok(lo < 1e4 && 1e4 < hi && lo > 0, `[${lo}, ${hi}]`);
  });

  it('validates its options', () => {
    same(bootstrapDeltaCI([3], [5])[0], 2);
    same(bootstrapDeltaCI([3], [5])[1], 2);
    assert.throws(() => bootstrapDeltaCI([], [1]), RangeError);
    assert.throws(() => bootstrapDeltaCI([1], [1], { level: 1 }), RangeError);
    assert.throws(() => bootstrapDeltaCI([1], [1], { resamples: 0 }), RangeError);
    assert.throws(() => bootstrapDeltaCI([1], [1], { seed: 0.5 }), RangeError);
    assert.throws(() => bootstrapDeltaCI([1, Infinity], [1]), RangeError);
  });
});

describe('welchEquivalence (TOST)', () => {
  // NCSS's worked example "Two-Sample T-Test for Equivalence" (yields of two processes), as
  // checked in the TOSTER R package (tests/testthat/test-NCSS1.R: t_TOST(x = yieldA, y = yieldB,
  // low_eqbound = -110, high_eqbound = 110, var.equal = FALSE, alpha = .025)): Welch df 19.169,
  // SE 53.618547, estimate mean(A) − mean(B) = −8.1153846, 95 % interval −120.27336 … 104.04259,
  // one-sided p 0.03628 (lower bound) and 0.02002 (upper bound).
  const yieldA = [452, 874, 554, 447, 356, 754, 558, 574, 664, 682, 547, 435, 245];
  const yieldB = [546, 547, 774, 465, 459, 665, 467, 365, 589, 534, 456, 651, 654, 665, 546, 537];

  it('matches the published NCSS / TOSTER example', () => {
    // Our delta is b − a: b = yieldA, a = yieldB.
    const r = welchEquivalence(yieldB, yieldA, { margin: 110, alpha: 0.025 });
    close(r.welch.df, 19.169, 0, 5e-4);
    close(r.welch.se, 53.618547, 0, 5e-7);
    close(r.welch.delta, -8.1153846, 0, 5e-8);
    close(r.interval[0], -120.27336, 0, 5e-6);
    close(r.interval[1], 104.04259, 0, 5e-6);
    close(r.pLower, 0.03628, 0, 5e-6);
    close(r.pUpper, 0.02002, 0, 5e-6);
    same(r.p, r.pLower);
    assert.equal(r.equivalent, false); // 0.03628 > 0.025: the 95 % interval reaches below −110
    // At alpha 0.05 (a 90 % interval) both one-sided tests reject: equivalent within ±110.
    const loose = welchEquivalence(yieldB, yieldA, { margin: 110, alpha: 0.05 });
    assert.equal(loose.equivalent, true);
    assert.ok(loose.interval[0] > -110 && loose.interval[1] < 110);
  });

  it('the interval by hand with a tabled quantile: [1,2,3] vs [4,5,6], df = 4, t_{0.95, 4} = 2.132', () => {
    const r = welchEquivalence([1, 2, 3], [4, 5, 6], { margin: 5, alpha: 0.05 });
    const se = Math.sqrt(2 / 3);
    close(r.interval[0], 3 - 2.132 * se, 0, 5e-4 * se);
    close(r.interval[1], 3 + 2.132 * se, 0, 5e-4 * se);
    assert.equal(r.equivalent, true); // 1.259 … 4.741 inside ±5
    assert.equal(welchEquivalence([1, 2, 3], [4, 5, 6], { margin: 4.5, alpha: 0.05 }).equivalent, false);
  });

  it('property: equivalent exactly when the TOST p is below alpha; the interval holds delta; swapping sides mirrors it', () => {
    const sample = fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 30 });
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: 0, max: 3000 }), fc.constantFrom(0.01, 0.05, 0.1), (a, b, margin, alpha) => {
        const r = welchEquivalence(a, b, { margin, alpha });
        assert.ok(r.interval[0] <= r.welch.delta && r.welch.delta <= r.interval[1]);
        // Away from the boundary (rounding), the two definitions agree.
        if (Math.abs(r.p - alpha) > 1e-9) assert.equal(r.equivalent, r.p < alpha, `p ${r.p}, interval ${r.interval}, margin ${margin}`);
        const s = welchEquivalence(b, a, { margin, alpha });
        close(s.interval[0], -r.interval[1], 1e-12, 1e-9);
        close(s.interval[1], -r.interval[0], 1e-12, 1e-9);
        close(s.p, r.p, 1e-12, 1e-15); // (1 − F(x) on one side, F(−x) on the other)
      }),
    );
  });

  it('zero variances, margin 0, and what it refuses', () => {
    const flat = welchEquivalence([5, 5, 5], [7, 7], { margin: 3, alpha: 0.05 });
    assert.deepEqual(flat.interval, [2, 2]);
    assert.equal(flat.equivalent, true);
    assert.equal(welchEquivalence([5, 5, 5], [7, 7], { margin: 2, alpha: 0.05 }).equivalent, false);
    assert.equal(welchEquivalence([1, 2, 3], [1, 2, 3], { margin: 0, alpha: 0.05 }).equivalent, false);
    assert.throws(() => welchEquivalence([1, 2], [1, 2], { margin: -1, alpha: 0.05 }), RangeError);
    assert.throws(() => welchEquivalence([1, 2], [1, 2], { margin: 1, alpha: 0.5 }), RangeError);
  });
});

describe('holmAdjust', () => {
  it("matches the textbook example and R's p.adjust(method = 'holm')", () => {
    // Wikipedia "Holm–Bonferroni method", Example: p = 0.01, 0.04, 0.03, 0.005 at α = 0.05: H1
    // and H4 are rejected, H2 and H3 are not. Adjusted by hand: sorted 0.005·4 = 0.02,
    // 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06.
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => close(adj[i]!, v, 1e-15, 0, `p̃${i + 1}`));
    assert.deepEqual(
      adj.map((p) => p! < 0.05),
      [true, false, false, true],
    );
    // Nulls are outside the family: m = 2 here.
    assert.deepEqual(holmAdjust([null, 0.2, 0.01, null]), [null, 0.2, 0.02, null]);
    assert.deepEqual(holmAdjust([0.6, 0.7]), [1, 1]);
    assert.deepEqual(holmAdjust([]), []);
    assert.throws(() => holmAdjust([0.1, NaN]), RangeError);
  });

  it('property: p ≤ p̃ ≤ min(1, m·p), and the order of the p-values is kept', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }), (p) => {
        const adj = holmAdjust(p) as number[];
        p.forEach((v, i) => {
          assert.ok(adj[i]! >= v && adj[i]! <= Math.min(1, p.length * v) + 1e-15);
          p.forEach((w, j) => {
            if (v < w) assert.ok(adj[i]! <= adj[j]!);
          });
        });
      }),
    );
  });

  it('keeps the family-wise error at alpha: 17 true nulls, 20 000 families', () => {
    const rnd = lcg(2024);
    let anyRejected = 0;
    const families = 20_000;
    for (let f = 0; f < families; f++) {
      const adj = holmAdjust(Array.from({ length: 17 }, () => rnd()));
      if (adj.some((p) => p! < 0.05)) anyRejected++;
    }
    // All nulls true: Holm rejects something exactly when its first step does, min p < α/17, so for
    // independent uniform p-values the rate is 1 − (1 − 0.05/17)^17 = 0.0488.
    const rate = anyRejected / families;
    assert.ok(rate <= 0.05 + 3 * Math.sqrt((0.05 * 0.95) / families), `rate ${rate}`);
    assert.ok(rate > 0.04, `rate ${rate}`); // and not far below: the correction is not wasteful
  });
});

describe('twoSampleSizePerGroup', () => {
  it('matches the normal-table computation: d = 0.5 standard deviations, power 0.8', () => {
    // n = (z_{1−α} + z_{0.8})² · 2 / d²: one-sided α = 0.05: (1.644854 + 0.841621)² · 8 = 49.46 → 50;
    // two-sided α = 0.05 (one-sided 0.025): (1.959964 + 0.841621)² · 8 = 62.79 → 63, the usual "63 a group".
    assert.equal(twoSampleSizePerGroup({ varA: 1, varB: 1, difference: 0.5, alpha: 0.05, power: 0.8 }), 50);
    assert.equal(twoSampleSizePerGroup({ varA: 1, varB: 1, difference: -0.5, alpha: 0.025, power: 0.8 }), 63);
    // Unequal variances add; scale-free.
    assert.equal(twoSampleSizePerGroup({ varA: 400, varB: 1600, difference: 25, alpha: 0.05, power: 0.8 }), Math.ceil((1.6448536 + 0.8416212) ** 2 * 2000 / 625));
    assert.equal(twoSampleSizePerGroup({ varA: 0, varB: 0, difference: 1, alpha: 0.05, power: 0.8 }), 1);
    assert.equal(twoSampleSizePerGroup({ varA: 1, varB: 1, difference: 0, alpha: 0.05, power: 0.8 }), Infinity);
    assert.throws(() => twoSampleSizePerGroup({ varA: -1, varB: 1, difference: 1, alpha: 0.05, power: 0.8 }), RangeError);
  });
});
