/**
 * The correlation engine against the simulator's ground truth, for every back end: depth 1 and 4,
 * noise, lost events, a wrapped userspace ring, separate clocks; events read on the calling thread,
 * and for the hardest case of each back end on the reader thread too (what real captures of ≥ 300k
 * events get). Stages within one clock domain
 * must equal the truth exactly; stages across domains within the reported uncertainty, which
 * must contain the true offset.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { analyseWith, READERS, SAMPLES, tempDir } from '../helpers.js';
import { simulate, type Backend, type SimulateOptions } from '../../src/simulate/simulate.js';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import type { ReportModel } from '../../src/report/model.js';
import { expected, type Truth } from './truth.js';

type Reader = (typeof READERS)[number];
/** `readers`: how events are read; the hardest case of each back end is also read on the reader thread (each thread read costs seconds). */
const CASES: { name: string; opts: Omit<SimulateOptions, 'out'>; readers: readonly Reader[] }[] = [];
for (const backend of ['blkback', 'blktap2', 'blktap3', 'qdisk'] as Backend[]) {
  CASES.push({ name: `${backend}, depth 1`, opts: { backend, runs: 3, requests: 30, depth: 1, seed: 11 }, readers: ['inline'] });
  CASES.push({
    name: `${backend}, depth 4, noise, lost events${backend === 'blkback' ? '' : ', wrapped ring'}; events read inline and on the reader thread`,
    opts: { backend, runs: 4, requests: 30, depth: 4, seed: 5, lostEvents: true, wrap: backend !== 'blkback' },
    readers: READERS,
  });
}
// Each run reads the same sectors again: beyond 64 runs a sector key has more events than the
// coarse alignment pairs all at once (it pairs by rank); before, no pair was left and no request completed.
CASES.push({ name: 'blkback, 70 runs reading the same sectors (coarse clock pairs by rank within a key)', opts: { backend: 'blkback', runs: 70, requests: 3, depth: 1, seed: 4 }, readers: ['inline'] });
CASES.push({ name: 'qdisk, depth 2, no guest block layer, xtbuf text', opts: { backend: 'qdisk', runs: 3, requests: 25, depth: 2, seed: 3, guestBlock: false, xtbufForm: 'text' }, readers: ['inline'] });

describe('correlation against the simulator’s ground truth', () => {
  let dir: { dir: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  for (const c of CASES) {
    it(c.name, async () => {
      const out = join(dir.dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      const sim = simulate({ ...c.opts, out });
      const truth = JSON.parse(readFileSync(sim.truthPath, 'utf8')) as Truth;
      await checkAgainstTruth(join(out, 'x.db'), sim.files.map((f) => ({ path: f.path, domain: f.domain })), truth, c.opts.backend, { lost: !!c.opts.lostEvents }, c.readers);
    });
  }

  it('given offsets (--offset) are used as they are: with the true ones every stage equals the truth exactly', async () => {
    const out = join(dir.dir, 'given');
    const sim = simulate({ backend: 'blktap2', out, runs: 3, requests: 20, depth: 2, seed: 9 });
    const truth = JSON.parse(readFileSync(sim.truthPath, 'utf8')) as Truth;
    const db = openDb(join(out, 'x.db'), { create: true });
    try {
      for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const offsets = new Map(Object.entries(truth.offsets_ns).filter(([d]) => d !== 'domU').map(([d, v]) => [d, BigInt(v)] as [string, bigint]));
      const m = analyse(db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test', offsets }).model;
      assert.deepEqual(
        m.domains.map((d) => [d.name, d.method, Number(d.offset_ns)]),
        [
          ['domU', 'reference', 0],
          ['dom0', 'given', truth.offsets_ns['dom0']],
          ['tapdisk', 'given', truth.offsets_ns['tapdisk']],
        ],
      );
      const e = expected(truth, 0.1, 0);
      m.stages.forEach((s, i) => assert.ok(Math.abs(s.mean_ns - e.stages[i]!) < 1e-6, `${s.name}: ${s.mean_ns} ≠ ${e.stages[i]}`));
    } finally {
      db.close();
    }
  });

  for (const backend of ['blkback', 'blktap2', 'blktap3', 'qdisk'] as Backend[]) {
    it(`bundled sample samples/sim-${backend} (gzipped) still matches its truth`, async () => {
      const d = join(SAMPLES, `sim-${backend}`);
      const truth = JSON.parse(gunzipSync(readFileSync(join(d, 'truth.json.gz'))).toString('utf8')) as Truth;
      const files = truth.files.map((f) => ({ path: join(d, f.file + '.gz'), domain: f.domain }));
      await checkAgainstTruth(join(dir.dir, `sample-${backend}.db`), files, truth, backend, { lost: truth.requests.some((r) => !r.complete) }, ['inline']);
    });
  }
});

/** Ingests the files and checks the report against the truth, once for each way of reading the events. */
async function checkAgainstTruth(dbPath: string, files: { path: string; domain: string }[], truth: Truth, backend: Backend, o: { lost: boolean }, readers: readonly Reader[]): Promise<void> {
  const db: Db = openDb(dbPath, { create: true });
  try {
    for (const f of files) await ingestFile(db, { path: f.path }, { domain: f.domain });
    for (const reader of readers) {
      const m = (await analyseWith(db, reader, { profile: loadProfile(`xen-${backend}`), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' })).model;
      try {
        checkModel(m, truth, backend, o);
      } catch (e) {
        if (e instanceof Error) e.message = `events read ${reader}: ${e.message}`;
        throw e;
      }
    }
  } finally {
    db.close();
  }
}

function checkModel(m: ReportModel, truth: Truth, backend: Backend, o: { lost: boolean }): void {
  assert.deepEqual(m.points, truth.path);

  // Offsets: the reported uncertainty contains the true offset.
  for (const d of m.domains) {
    const trueOff = truth.offsets_ns[d.name]!;
    if (d.method === 'reference') assert.equal(trueOff, 0, `${d.name} is the truth's reference`);
    else {
      assert.equal(d.method, 'estimated');
      const err = Math.abs(Number(BigInt(d.offset_ns!) - BigInt(trueOff)));
      assert.ok(err <= d.uncertainty_ns!, `${d.name}: |${d.offset_ns} − ${trueOff}| = ${err} > ±${d.uncertainty_ns}`);
    }
  }

  const e = expected(truth, 0.1, 0);
  assert.deepEqual(
    m.runs.map((r) => [r.run, r.complete, r.kept]),
    [...e.runs].map(([run, r]) => [run, r.complete, r.kept]),
    'complete requests per run',
  );
  m.stages.forEach((s, i) => {
    const want = e.stages[i]!;
    if (!s.cross_domain) assert.ok(Math.abs(s.mean_ns - want) < 1e-6, `${s.name}: ${s.mean_ns} ≠ ${want} (same clock: exact)`);
    else assert.ok(Math.abs(s.mean_ns - want) <= s.uncertainty_ns + 1e-6, `${s.name}: ${s.mean_ns} vs ${want} beyond ±${s.uncertainty_ns}`);
    for (const r of m.runs) {
      const w = e.runs.get(r.run)!.stages[i]!;
      if (!s.cross_domain) assert.ok(Math.abs(r.stages_ns[s.name]! - w) < 1e-6, `run ${r.run} ${s.name}: ${r.stages_ns[s.name]} ≠ ${w}`);
    }
  });
  for (const r of m.runs) assert.ok(Math.abs(r.total_ns - e.runs.get(r.run)!.total) < 1e-6, `run ${r.run} total`);
  if (o.lost) assert.ok(m.requests.incomplete > 0);
  // Other guests' requests in dom0 match nothing and are counted.
  if (backend === 'blkback' || backend === 'blktap2') assert.ok(m.diagnostics.some((d) => d.code === 'unmatched_event' && d.point === 'be_get_req'), 'noise is counted');
}
