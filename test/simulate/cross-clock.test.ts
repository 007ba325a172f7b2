/**
 * Cross-clock stages, held to what the data really allows rather than to the engine's own error
 * bar. With estimated offsets, a stage from domain A to domain B is measured as the true stage plus
 * (error of B's offset − error of A's offset), for every request alike: so the measured mean of
 * every cross-domain stage, overall and in every run, must equal the truth's mean plus exactly that
 * difference of the offset errors (the truth gives the true offsets). The offset errors themselves
 * must stay within what microsecond timestamps allow, and the reported uncertainty must stay within
 * a fixed bound, so that a widened interval fails here instead of passing as "contains the truth".
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { simulate, type Backend, type SimulateOptions } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { expected, type Truth } from './truth.js';

/** The largest offset error allowed (ns): a few timestamp resolutions (ftrace text prints µs). */
const MAX_OFFSET_ERROR_NS = 4_000;
/** The largest reported half-width allowed (ns) for one domain's offset. */
const MAX_UNCERTAINTY_NS = 15_000;

const CASES: { name: string; opts: Omit<SimulateOptions, 'out'> }[] = [];
for (const backend of ['blkback', 'blktap2', 'blktap3', 'qdisk'] as Backend[]) {
  CASES.push({ name: `${backend}, depth 1`, opts: { backend, runs: 4, requests: 30, depth: 1, seed: 21 } });
  CASES.push({ name: `${backend}, depth 4`, opts: { backend, runs: 4, requests: 30, depth: 4, seed: 22 } });
}

describe('cross-clock stages against the truth, to the offset error', () => {
  let dir: { dir: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  for (const c of CASES) {
    it(c.name, async () => {
      const out = join(dir.dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      const sim = simulate({ ...c.opts, out });
      const truth = JSON.parse(readFileSync(sim.truthPath, 'utf8')) as Truth;
      const db = openDb(join(out, 'x.db'), { create: true });
      try {
        for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
        const m = analyse(db, { profile: loadProfile(`xen-${c.opts.backend}`), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
        // Offset error of each domain: estimate − truth (t_reference = t_domain + offset).
        const err = new Map<string, number>();
        for (const d of m.domains) {
          const e = Number(BigInt(d.offset_ns!) - BigInt(truth.offsets_ns[d.name]!));
          err.set(d.name, e);
          assert.ok(Math.abs(e) <= MAX_OFFSET_ERROR_NS, `${d.name}: offset error ${e} ns`);
          if (d.method === 'estimated') assert.ok(d.uncertainty_ns! <= MAX_UNCERTAINTY_NS, `${d.name}: reported ±${d.uncertainty_ns} ns`);
        }
        const e = expected(truth, 0.1, 0);
        const cross = m.stages.filter((s) => s.cross_domain);
        assert.ok(cross.length > 0, 'the path crosses clocks');
        for (const s of cross) {
          const i = m.stages.indexOf(s);
          const shift = err.get(s.to_domain!)! - err.get(s.from_domain!)!;
          assert.ok(Math.abs(shift) <= s.uncertainty_ns, `${s.name}: the true error ${shift} ns lies within the reported ±${s.uncertainty_ns}`);
          for (const r of m.runs) {
            const w = e.runs.get(r.run)!.stages[i]! + shift;
            assert.ok(Math.abs(r.stages_ns[s.name]! - w) < 1e-6, `run ${r.run} ${s.name}: ${r.stages_ns[s.name]} ≠ truth + offset error ${w}`);
          }
          const overall = e.stages[i]! + shift;
          assert.ok(Math.abs(s.mean_ns - overall) < 1e-6, `${s.name}: ${s.mean_ns} ≠ ${overall}`);
        }
      } finally {
        db.close();
      }
    });
  }
});
