/**
 * The data of the HTML report's pictures: log binning obeys its laws (every positive value in
 * exactly one bin, inside its edges; the rest counted apart), and on the real capture the
 * distributions and the slowest requests agree with the stored requests read by plain SQL
 * (written without the figures' code).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { logBins } from '../../src/report/figures.js';
import { figuresOf } from '../../src/pipeline/figures.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { ingestAll, SAMPLES } from '../helpers.js';

describe('logBins', () => {
  it('puts every positive value in exactly one bin, within its edges; counts the others apart', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.double({ min: 1e-3, max: 1e12, noNaN: true }), fc.constantFrom(0, -5, 1000, 1e6, 10 ** 7)), fc.boolean()), { maxLength: 300 }), (xs) => {
        const values = xs.map((x) => x[0]);
        const kept = xs.map((x) => (x[1] ? 1 : 0));
        const { bins, nonpositive } = logBins(values, kept);
        assert.equal(nonpositive, values.filter((v) => !(v > 0)).length);
        assert.equal(bins.reduce((a, b) => a + b.kept + b.trimmed, 0) + nonpositive, values.length);
        assert.equal(bins.reduce((a, b) => a + b.kept, 0), values.filter((v, i) => v > 0 && kept[i]).length);
        for (let k = 1; k < bins.length; k++) assert.ok(Math.abs(bins[k]!.lo_ns - bins[k - 1]!.hi_ns) <= 1e-9 * bins[k]!.lo_ns, 'bins are contiguous');
        // Each value falls inside the edges of a bin (checked by a search of our own).
        for (const v of values.filter((x) => x > 0)) assert.ok(bins.some((b) => v >= b.lo_ns * (1 - 1e-12) && v < b.hi_ns * (1 + 1e-12)), `value ${v} within some bin`);
        if (bins.length) {
          const pos = values.filter((v) => v > 0);
          assert.ok(bins[0]!.lo_ns <= Math.min(...pos) && bins[bins.length - 1]!.hi_ns > Math.max(...pos));
        }
      }),
      { numRuns: 300 },
    );
  });
  it('gives at least 24 bins for a narrow range and 10 per decade for a wide one', () => {
    assert.ok(logBins([1000, 1100, 1200, 1300], [1, 1, 1, 1]).bins.length >= 3);
    const wide = logBins([10, 1e9], [1, 1]).bins;
    assert.ok(Math.abs(Math.log10(wide[1]!.lo_ns / wide[0]!.lo_ns) - 0.1) < 1e-9, '10 per decade');
  });
});

describe('figures of the real capture, against SQL', () => {
  it('the total distribution holds every complete request, the kept ones as stored; the slowest kept are the top of the stored totals', async () => {
    const { db, cleanup } = await ingestAll([join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]);
    try {
      const a = analyse(db, { profile: loadProfile('linux-block'), warmup: 3, trim: 0.1, trimBy: 'total' });
      const f = figuresOf(db, a);
      const sql = (q: string): { n: number }[] => db.prepare<{ n: number }>(q).all();
      const [stored] = sql("SELECT count(*) AS n FROM requests WHERE status = 'complete' AND run IS NOT NULL AND kept IN (0, 1)");
      const [kept] = sql('SELECT count(*) AS n FROM requests WHERE kept = 1');
      const total = f.distributions.find((d) => d.name === 'total')!;
      assert.equal(total.requests, stored!.n);
      assert.equal(total.kept, kept!.n);
      assert.equal(total.bins.reduce((x, b) => x + b.kept, 0) + total.nonpositive, kept!.n);
      // One distribution per stage, each over every complete request after warm-up (nothing batched here).
      assert.equal(f.distributions.length, a.model.stages.length + 1);
      for (const d of f.distributions) assert.equal(d.requests, stored!.n, d.name);
      // Percentiles are the report's (nearest rank, checked against SQL in test/report).
      assert.equal(total.p50_ns, a.model.total.p50_ns);
      assert.equal(total.p99_ns, a.model.total.p99_ns);
      const top = sql('SELECT total_ns AS n FROM requests WHERE kept = 1 ORDER BY total_ns DESC LIMIT 12').map((r) => r.n);
      assert.deepEqual(
        f.slowest.map((r) => r.total_ns),
        top,
      );
      // Each point's event is the stored one, with its line and CPU from the events table.
      const r0 = f.slowest[0]!;
      for (const p of r0.points) {
        assert.ok(p.line !== null && p.cpu !== null && p.task !== null, `${p.point} has its event`);
        const [hit] = db.prepare<{ n: number }>('SELECT count(*) AS n FROM events WHERE line = ? AND cpu = ? AND comm = ?').all(p.line, p.cpu, p.task);
        assert.ok(hit!.n >= 1);
      }
    } finally {
      cleanup();
    }
  });
});
