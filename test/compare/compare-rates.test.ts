/**
 * xtrace compare's error rates, measured (issue 15): pairs of simulated blkback captures, each side
 * through the real pipeline (simulate → ingestFile → loadSide: parsers, clock-offset estimation,
 * correlation, runs, trimming), then compare() at the defaults.
 *  - Null pairs (two independent seeds, nothing injected), 40 at 6 runs × 30 requests and 40 at
 *    10 × 100: the rate of exit 1 (any stage or the total regressed) stays ≤ alpha; the total
 *    is proven `same` in most pairs at 10 × 100.
 *  - Power pairs at 10 × 100: one stage (be_submit->be_bio_done) 20–30 % slower in the candidate,
 *    20 pairs: that stage, and no other stage, is regressed in ≥ 90 % of them.
 * Seeded, so deterministic; no timing asserts. Each side is an independent simulation; a power
 * pair's baseline is the baseline side of a null pair (each side serves in one null pair and at
 * most one power pair). The measured rates are printed (diagnostic) and quoted in the README.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadSide, type Side } from '../../src/compare/sides.js';
import { compare, COMPARE_DEFAULTS, type Comparison } from '../../src/compare/compare.js';

const DISK = 'be_submit->be_bio_done';
const NULL_PAIRS = 40;
const POWER_PAIRS = 20;
const SIZES = [
  { runs: 6, requests: 30, firstSeed: 10_000 },
  { runs: 10, requests: 100, firstSeed: 20_000 },
] as const;
const POWER_FIRST_SEED = 30_000;
/** Sides built at once: the parser runs on a worker thread, so two builds keep two cores busy. */
const PARALLEL = 2;
const SIDE = { warmup: 0, trim: 0.1, trimBy: 'total' as const, profile: 'xen-blkback' };
const ALPHA = COMPARE_DEFAULTS.alpha;

type Spec = { runs: number; requests: number; seed: number; scale?: number };

describe('xtrace compare: false-alarm and detection rates over simulated pairs', () => {
  let dir: { dir: string; cleanup: () => void };
  const nulls = new Map<number, Comparison[]>();
  const power: Comparison[] = [];

  /** One simulated capture as compare sees it; its files are deleted once read. */
  async function side(s: Spec): Promise<Side> {
    const name = `${s.runs}x${s.requests}-${s.seed}${s.scale ? `-x${s.scale}` : ''}`;
    const out = join(dir.dir, name);
    // noise: false leaves out other guests' requests and unrelated lines, which never change our
    // guest's requests (src/simulate/model.ts draws them from their own stream) and which the
    // correlation tests cover; it saves a fifth of the time.
    const sim = simulate({ backend: 'blkback', out, runs: s.runs, requests: s.requests, seed: s.seed, noise: false, ...(s.scale ? { scale: { [DISK]: s.scale } } : {}) });
    const path = `${out}.db`;
    const db = openDb(path, { create: true });
    try {
      for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
    } finally {
      db.close();
    }
    const loaded = loadSide(path, SIDE);
    rmSync(out, { recursive: true, force: true });
    rmSync(path, { force: true });
    return loaded;
  }

  /** Builds every side, PARALLEL at a time. */
  async function sides(specs: Spec[]): Promise<Side[]> {
    const out: Side[] = new Array(specs.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < specs.length) {
          const k = next++;
          out[k] = await side(specs[k]!);
        }
      }),
    );
    return out;
  }

  before(async () => {
    dir = tempDir();
    const opts = { ...COMPARE_DEFAULTS, resamples: 200 }; // the bootstrap interval is shown, never decides: fewer resamples
    for (const size of SIZES) {
      const built = await sides(Array.from({ length: 2 * NULL_PAIRS }, (_, k) => ({ runs: size.runs, requests: size.requests, seed: size.firstSeed + k })));
      const pairs = Array.from({ length: NULL_PAIRS }, (_, k) => compare(built[2 * k]!, built[2 * k + 1]!, opts));
      nulls.set(size.runs, pairs);
      if (size.runs === 10) {
        // Scale factors spread over 1.20 … 1.30.
        const cands = await sides(Array.from({ length: POWER_PAIRS }, (_, k) => ({ runs: 10, requests: 100, seed: POWER_FIRST_SEED + k, scale: 1.2 + (0.1 * k) / (POWER_PAIRS - 1) })));
        cands.forEach((c, k) => power.push(compare(built[2 * k]!, c, opts)));
      }
    }
  });
  after(() => dir.cleanup());

  const rate = (cs: Comparison[], f: (c: Comparison) => boolean): number => cs.filter(f).length / cs.length;
  const all = (c: Comparison) => [c.total, ...c.stages];

  for (const size of SIZES) {
    it(`null pairs at ${size.runs} runs × ${size.requests} requests: exit 1 (a stage or the total regressed) in at most ${ALPHA * 100} % of ${NULL_PAIRS} pairs`, () => {
      const cs = nulls.get(size.runs)!;
      const exit1 = rate(cs, (c) => c.counts.regressed > 0);
      const anyChange = rate(cs, (c) => c.counts.regressed + c.counts.improved > 0);
      const same = rate(cs, (c) => c.verdict === 'same');
      const stagesSame = cs.reduce((n, c) => n + c.counts.same, 0) / cs.reduce((n, c) => n + all(c).length, 0);
      const totalSame = rate(cs, (c) => c.total.verdict === 'same');
      console.log(
        `# compare null ${size.runs}x${size.requests}: exit 1 in ${(exit1 * 100).toFixed(1)} % of ${cs.length} pairs; any regressed or improved ${(anyChange * 100).toFixed(1)} %; ` +
          `verdict same ${(same * 100).toFixed(1)} % of pairs, ${(stagesSame * 100).toFixed(1)} % of stage verdicts; total same ${(totalSame * 100).toFixed(1)} %`,
      );
      for (const c of cs) for (const s of all(c)) if (s.verdict === 'regressed' || s.verdict === 'improved') console.log(`#   false ${s.verdict}: ${s.name} ${(s.delta_pct * 100).toFixed(1)} %, Holm p ${s.p_adjusted}`);
      assert.ok(exit1 <= ALPHA, `exit 1 in ${exit1 * 100} % of null pairs`);
    });
  }

  it('null pairs at 10 × 100: the total is proven the same (its interval inside ±5 %) in at least 90 % of pairs', () => {
    const cs = nulls.get(10)!;
    const totalSame = rate(cs, (c) => c.total.verdict === 'same');
    assert.ok(totalSame >= 0.9, `total same in ${totalSame * 100} %`);
    // Every inconclusive stage says what would decide it: a number of runs, or the clock offsets.
    for (const c of cs) for (const s of all(c)) if (s.verdict === 'inconclusive') assert.ok(s.runs_needed !== null || s.clock_uncertainty_ns > 0, `${s.name}: ${s.why}`);
  });

  it(`power at 10 × 100: ${DISK} 20–30 % slower is found regressed, alone among the stages, in at least 90 % of ${POWER_PAIRS} pairs`, () => {
    const alone = rate(power, (c) => c.stages.filter((s) => s.verdict === 'regressed').map((s) => s.name).join() === DISK);
    const total = rate(power, (c) => c.total.verdict === 'regressed');
    console.log(`# compare power 10x100: ${DISK} +20–30 % regressed alone in ${(alone * 100).toFixed(1)} % of ${power.length} pairs; total regressed in ${(total * 100).toFixed(1)} %`);
    assert.ok(alone >= 0.9, `found alone in ${alone * 100} %`);
  });
});
