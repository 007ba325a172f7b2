/**
 * Cross-clock stages, held to what the data really allows rather than to the engine's own error
 * bar. With estimated offsets, a stage from domain A to domain B is measured as the true stage plus
 * (error of B's offset − error of A's offset), for every request alike: so the measured mean of
 * every cross-domain stage, overall and in every run, must equal the truth's mean plus exactly that
 * difference of the offset errors (the truth gives the true offsets). The offset errors themselves
 * must stay within what microsecond timestamps allow, and the reported uncertainty must stay within
 * a fixed bound, so that a widened interval fails here instead of passing as "contains the truth".
 *
 * Drifting clocks (issue 10, item 1): with ±50 ppm on any domain over a ~30 s trace (10 runs 3 s
 * apart: the offsets move by 1.5 ms, a hundred times a cross-domain stage), every back end reports;
 * the stages within one clock equal the truth up to the rounding of the two clocks (the truth and
 * the report each round to whole ns: 1 ns); the cross-domain ones lie within their reported
 * uncertainty; the reported drift interval contains the true drift; the reported clock maps every
 * request's events within the domain's uncertainty of the truth.
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
import { expected, trueTime, type Truth, type TruthClock } from './truth.js';
import { REPORTERS } from '../../src/report/reporters.js';
import { Chalk } from 'chalk';

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

/** Within one clock the truth and the report each round to whole ns (and the estimated rate is off by well under 1 ppm: < 0.1 ns per stage). */
const ROUNDING_NS = 1;

const DRIFT_CASES: { name: string; opts: Omit<SimulateOptions, 'out'> }[] = [
  { name: 'blkback, dom0 +50 ppm', opts: { backend: 'blkback', drift: { dom0: 50 } } },
  { name: 'blkback, the reference (domU) −50 ppm', opts: { backend: 'blkback', drift: { domU: -50 } } },
  { name: 'blktap2, dom0 +50 ppm, tapdisk −50 ppm', opts: { backend: 'blktap2', drift: { dom0: 50, tapdisk: -50 } } },
  { name: 'blktap2, tapdisk +50 ppm, depth 4', opts: { backend: 'blktap2', drift: { tapdisk: 50 }, depth: 4 } },
  { name: 'blktap3, tapdisk −50 ppm', opts: { backend: 'blktap3', drift: { tapdisk: -50 } } },
  { name: 'qdisk, qemu +50 ppm', opts: { backend: 'qdisk', drift: { qemu: 50 } } },
  { name: 'qdisk, domU +50 ppm, qemu −50 ppm, depth 4', opts: { backend: 'qdisk', drift: { domU: 50, qemu: -50 }, depth: 4 } },
  // 15 µs over the trace: a constant offset still fits the links, but only at the edge of the drift
  // they allow; kept, its ±1 µs left requests incomplete and the offset 7 µs off at the ends.
  { name: 'blkback, dom0 +0.5 ppm (a constant offset fits, at the edge)', opts: { backend: 'blkback', drift: { dom0: 0.5 } } },
  { name: 'qdisk, qemu −900 ppm, runs 20 s apart (3 min)', opts: { backend: 'qdisk', drift: { qemu: -900 }, runGapMs: 20_000 } },
];

describe('drifting clocks (±50 ppm over ~30 s) against the truth', () => {
  let dir: { dir: string; cleanup: () => void };
  before(() => (dir = tempDir()));
  after(() => dir.cleanup());

  for (const c of DRIFT_CASES) {
    it(c.name, async () => {
      const out = join(dir.dir, c.name.replace(/[^a-z0-9]+/gi, '-'));
      const sim = simulate({ runs: 10, requests: 20, runGapMs: 3000, seed: 31, ...c.opts, out });
      const truth = JSON.parse(readFileSync(sim.truthPath, 'utf8')) as Truth;
      const clocks = truth.clocks!;
      const refName = truth.reference_domain ?? 'domU';
      const ref = clocks[refName]!;
      // The report's reference is the reference domain's own clock: the truth (a virtual clock when
      // that domain drifts) is mapped onto it.
      const refAnchor = ref.anchor_local_ns + ref.offset_ns;
      const onRef = (t: number): number => ref.anchor_local_ns + (t - refAnchor) * (1 + ref.ppm * 1e-6);
      const local = (k: TruthClock, t: number): number => k.anchor_local_ns + (t - (k.anchor_local_ns + k.offset_ns)) * (1 + k.ppm * 1e-6);
      const db = openDb(join(out, 'x.db'), { create: true });
      try {
        for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
        const m = analyse(db, { profile: loadProfile(`xen-${c.opts.backend}`), warmup: 0, trim: 0.1, trimBy: 'total', save: false, reader: 'inline' }).model;
        assert.equal(m.requests.complete, truth.requests.filter((r) => r.complete).length);
        const dom = new Map(m.domains.map((d) => [d.name, d]));
        assert.equal(dom.get(refName)!.method, 'reference');
        // Which domain each point is in (the simulator's files).
        const pointDomain = new Map<string, string>();
        for (const s of m.stages) {
          pointDomain.set(s.from, s.from_domain!);
          pointDomain.set(s.to, s.to_domain!);
        }
        // The reference domain's points are its files' own times (what a perfect reader has); the others' the truth on the reference's clock.
        const mapped: Truth = {
          ...truth,
          requests: truth.requests.map((r) => ({ ...r, points: Object.fromEntries(Object.entries(r.points).map(([p, t]) => [p, pointDomain.get(p) === refName ? Math.round(local(ref, t)) : onRef(t)])) })),
        };
        const times = mapped.requests.flatMap((r) => Object.values(r.points));
        assert.ok(Math.max(...times) - Math.min(...times) > 25e9, 'the trace spans more than 25 s');
        for (const d of m.domains) {
          if (d.method !== 'estimated') continue;
          const k = clocks[d.name]!;
          // The drift of d against the reference's clock.
          const want = ((1 + k.ppm * 1e-6) / (1 + ref.ppm * 1e-6) - 1) * 1e6;
          assert.ok(d.drift_lower_ppm! <= want && want <= d.drift_upper_ppm!, `${d.name}: true drift ${want} ppm outside [${d.drift_lower_ppm}, ${d.drift_upper_ppm}]`);
          if (Math.abs(want) > 10) {
            assert.equal(d.drift_method, 'estimated');
            assert.ok(Math.abs(d.drift_ppm! - want) < 1, `${d.name}: drift ${d.drift_ppm} ppm, truth ${want}`);
          }
          // The reported clock against the truth at every event of every request in d.
          const first = Number((db.prepare('SELECT min(first_ts_ns) AS t FROM sources WHERE domain = ?').get(d.name) as { t: number }).t);
          const reported = (l: number): number => first + Number(d.offset_ns!) + (l - first) / (1 + d.drift_ppm! * 1e-6);
          let worst = 0;
          for (const r of truth.requests)
            for (const [p, t] of Object.entries(r.points)) {
              if (pointDomain.get(p) !== d.name) continue;
              const l = local(k, t);
              worst = Math.max(worst, Math.abs(reported(l) - onRef(trueTime(truth, d.name, Math.round(l)))));
            }
          assert.ok(worst <= d.uncertainty_ns! + ROUNDING_NS, `${d.name}: the reported clock is off by ${worst} ns > ±${d.uncertainty_ns}`);
        }
        const e = expected(mapped, 0.1, 0);
        m.stages.forEach((s, i) => {
          const tol = (s.cross_domain ? s.uncertainty_ns : 0) + ROUNDING_NS;
          for (const r of m.runs) {
            const w = e.runs.get(r.run)!.stages[i]!;
            assert.ok(Math.abs(r.stages_ns[s.name]! - w) <= tol, `run ${r.run} ${s.name}: ${r.stages_ns[s.name]} vs truth ${w} (±${tol})`);
          }
          assert.ok(Math.abs(s.mean_ns - e.stages[i]!) <= tol, `${s.name}: ${s.mean_ns} vs truth ${e.stages[i]} (±${tol})`);
        });
      } finally {
        db.close();
      }
    });
  }
});

describe('drifting clocks: given (--offset, --drift), reported and stored', () => {
  let dir: { dir: string; cleanup: () => void };
  let out: string;
  let truth: Truth;
  let files: { path: string; domain: string }[];
  before(() => {
    dir = tempDir();
    out = join(dir.dir, 'given');
    const sim = simulate({ backend: 'blktap2', runs: 6, requests: 15, runGapMs: 3000, seed: 41, drift: { dom0: 50, tapdisk: -30 }, out });
    truth = JSON.parse(readFileSync(sim.truthPath, 'utf8')) as Truth;
    files = sim.files;
  });
  after(() => dir.cleanup());

  /** Each domain's first local timestamp and the true offset there (t_ref − t_local). */
  const firstOffset = (db: ReturnType<typeof openDb>, d: string): bigint => {
    const first = Number((db.prepare('SELECT min(first_ts_ns) AS t FROM sources WHERE domain = ?').get(d) as { t: number }).t);
    return BigInt(trueTime(truth, d, first) - first);
  };

  it('the true clocks given: every stage equals the truth up to rounding; the text, JSON and SQL say the drift', async () => {
    const db = openDb(join(out, 'all.db'), { create: true });
    try {
      for (const f of files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const offsets = new Map(['dom0', 'tapdisk'].map((d) => [d, firstOffset(db, d)] as [string, bigint]));
      const drifts = new Map([
        ['dom0', 50],
        ['tapdisk', -30],
      ]);
      const m = analyse(db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', offsets, drifts, version: 'test' }).model;
      assert.deepEqual(
        m.domains.map((d) => [d.name, d.method, d.drift_ppm, d.drift_method, d.drift_lower_ppm]),
        [
          ['domU', 'reference', 0, 'reference', null],
          ['dom0', 'given', 50, 'given', null],
          ['tapdisk', 'given', -30, 'given', null],
        ],
      );
      const e = expected(truth, 0.1, 0);
      m.stages.forEach((s, i) => assert.ok(Math.abs(s.mean_ns - e.stages[i]!) <= ROUNDING_NS, `${s.name}: ${s.mean_ns} vs truth ${e.stages[i]}`));
      const text = REPORTERS.table.render(m, new Chalk({ level: 0 }));
      assert.match(text, /dom0 {8}offset -?\d+ ns, drift \+50\.0 ppm \(given\)/);
      const rows = db.prepare('SELECT domain, method, drift_ppm, drift_method FROM domain_offsets ORDER BY domain').all();
      assert.deepEqual(rows, [
        { domain: 'dom0', method: 'given', drift_ppm: 50, drift_method: 'given' },
        { domain: 'domU', method: 'reference', drift_ppm: 0, drift_method: 'reference' },
        { domain: 'tapdisk', method: 'given', drift_ppm: -30, drift_method: 'given' },
      ]);
    } finally {
      db.close();
    }
  });

  it('the drifts alone given: the offsets are estimated with them; estimated, the drift and its interval are reported', async () => {
    const db = openDb(join(out, 'drift.db'), { create: true });
    try {
      for (const f of files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const m = analyse(db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', drifts: new Map([['dom0', 50]]), save: false }).model;
      const dom0 = m.domains.find((d) => d.name === 'dom0')!;
      const tapdisk = m.domains.find((d) => d.name === 'tapdisk')!;
      assert.deepEqual([dom0.method, dom0.drift_method, dom0.drift_ppm, dom0.drift_lower_ppm], ['estimated', 'given', 50, null]);
      assert.ok(Math.abs(Number(dom0.offset_ns! - firstOffset(db, 'dom0'))) <= dom0.uncertainty_ns!);
      assert.equal(tapdisk.drift_method, 'estimated');
      assert.ok(tapdisk.drift_lower_ppm! <= -30 && -30 <= tapdisk.drift_upper_ppm!, `${tapdisk.drift_lower_ppm} ${tapdisk.drift_upper_ppm}`);
      const text = REPORTERS.table.render(m, new Chalk({ level: 0 }));
      assert.match(text, /dom0 {8}offset -?\d+ ns ± \d+ ns at its first event, drift \+50\.0 ppm given \(estimated from \d+ links with domU: /);
      assert.match(text, /tapdisk {5}offset -?\d+ ns ± \d+ ns at its first event, drift -30\.0 ppm \[-3\d\.\d, -2\d\.\d\] \(estimated from \d+ links with dom0\)/);
      const json = JSON.parse(REPORTERS.json.render(m, new Chalk({ level: 0 }))) as { domains: Record<string, unknown>[] };
      assert.deepEqual(Object.keys(json.domains[2]!).filter((k) => k.startsWith('drift')), ['drift_ppm', 'drift_method', 'drift_lower_ppm', 'drift_upper_ppm']);
    } finally {
      db.close();
    }
  });

  it('refused: a drift for the reference domain, or for a domain the database does not have', async () => {
    const db = openDb(join(out, 'refuse.db'), { create: true });
    try {
      for (const f of files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const run = (drifts: Map<string, number>) => () => analyse(db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', drifts, save: false });
      assert.throws(run(new Map([['domU', 5]])), /--drift domU=…: domU is the reference domain \(where requests start; its drift is 0\)/);
      assert.throws(run(new Map([['dom9', 5]])), /--drift dom9=…: no domain named dom9 in the database \(domains: domU, dom0, tapdisk\)/);
    } finally {
      db.close();
    }
  });

  it('a constant offset that fits is kept (drift 0) with the drift the links allow', async () => {
    const sim = simulate({ backend: 'blkback', runs: 4, requests: 15, seed: 43, out: join(dir.dir, 'constant') });
    const db = openDb(join(dir.dir, 'constant', 'x.db'), { create: true });
    try {
      for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const m = analyse(db, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
      const dom0 = m.domains.find((d) => d.name === 'dom0')!;
      assert.deepEqual([dom0.drift_ppm, dom0.drift_method], [0, 'constant']);
      assert.ok(dom0.drift_lower_ppm! <= 0 && 0 <= dom0.drift_upper_ppm!);
      assert.match(REPORTERS.table.render(m, new Chalk({ level: 0 })), /; drift 0: a constant offset fits \(the links allow \[-\d+\.\d, \d+\.\d\] ppm\)/);
    } finally {
      db.close();
    }
  });
});
