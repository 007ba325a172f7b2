/**
 * xtrace compare: real captures of the same workload (no regression), simulated traces with one
 * stage raised by 20 % (regressed, that stage only) and by 2 % on an independent seed (never
 * regressed), the run-level rule (fewer than 3 runs: at most inconclusive), swapping sides, the
 * formats, exit codes, and sides that cannot be compared; on hand-made sides, the verdict rules:
 * Holm's correction, `same` only when the equivalence interval is inside the size that matters,
 * the clock uncertainty of cross-domain stages, how many runs would decide. (The error rates over
 * many simulated pairs: compare-rates.test.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadSide, type Side } from '../../src/compare/sides.js';
import { compare, type Comparison } from '../../src/compare/compare.js';
import { InputError } from '../../src/core/errors.js';

const OPTS = { threshold: 0.05, floorNs: 500, alpha: 0.05, allowPerRequest: false, seed: 1, resamples: 2000 };
const SIDE = { warmup: 0, trim: 0.1, trimBy: 'total' as const, profile: 'xen-blkback' };
const DISK = 'be_submit->be_bio_done';

describe('xtrace compare', () => {
  let dir: { dir: string; cleanup: () => void };
  const db: Record<string, string> = {};

  async function simDb(name: string, scale: number, runs = 6, seed = 1): Promise<string> {
    const out = join(dir.dir, name);
    const sim = simulate({ backend: 'blkback', out, runs, requests: 30, seed, scale: { [DISK]: scale } });
    const path = join(dir.dir, `${name}.db`);
    const h = openDb(path, { create: true });
    for (const f of sim.files) await ingestFile(h, { path: f.path }, { domain: f.domain });
    h.close();
    return path;
  }

  before(async () => {
    dir = tempDir();
    for (const v of ['default', 'tracecmd']) {
      db[v] = join(dir.dir, `${v}.db`);
      assert.equal(xtrace(['ingest', '--db', db[v]!, '--quiet', join(SAMPLES, `linux-block-${v}`, 'trace.txt.gz')]).status, 0);
    }
    db['base'] = await simDb('base', 1);
    db['up20'] = await simDb('up20', 1.2);
    db['up2'] = await simDb('up2', 1.02, 6, 2);
    db['base2runs'] = await simDb('base2runs', 1, 2);
    db['up20-2runs'] = await simDb('up20-2runs', 1.2, 2);
  });
  after(() => dir.cleanup());

  it('two real captures of the same workload: no stage regressed at the defaults, exit 0', () => {
    const r = xtrace(['compare', db['default']!, db['tracecmd']!, '--profile', 'linux-block', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.equal(c.version, 1);
    assert.equal(c.counts.regressed, 0);
    assert.equal(c.stages.length, 6);
    // The per-request test alone would have called several stages significant: runs decide.
    assert.ok(c.stages.some((s) => s.p_value_requests! < 0.05 && s.verdict !== 'regressed'));
  });

  it('one stage 20 % slower (same seed otherwise): that stage regressed, alone among the stages; exit 1', () => {
    const r = xtrace(['compare', db['base']!, db['up20']!, '--profile', 'xen-blkback', '--format', 'json']);
    assert.equal(r.status, 1, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.deepEqual(
      c.stages.filter((s) => s.verdict === 'regressed').map((s) => s.name),
      [DISK],
    );
    assert.equal(c.total.verdict, 'regressed');
    const s = c.stages.find((x) => x.name === DISK)!;
    assert.ok(s.delta_pct > 0.15 && s.delta_pct < 0.25, String(s.delta_pct));
    assert.equal(s.decided_by, 'welch-runs');
    assert.ok(s.ci_ns![0] > 0);
  });

  it('one stage 2 % slower, another seed (every stage differs by noise): nothing regressed, exit 0', () => {
    const c = compare(loadSide(db['base']!, SIDE), loadSide(db['up2']!, SIDE), OPTS);
    for (const s of [c.total, ...c.stages]) assert.ok(s.verdict === 'same' || s.verdict === 'inconclusive', `${s.name}: ${s.verdict}`);
    assert.equal(xtrace(['compare', db['base']!, db['up2']!, '-p', 'xen-blkback']).status, 0);
  });

  it('swapping the sides negates every delta and turns regressed into improved', () => {
    const a = loadSide(db['base']!, SIDE);
    const b = loadSide(db['up20']!, SIDE);
    const ab = compare(a, b, OPTS);
    const ba = compare(b, a, OPTS);
    const flip = { regressed: 'improved', improved: 'regressed', same: 'same', inconclusive: 'inconclusive' } as const;
    [ab.total, ...ab.stages].forEach((s, i) => {
      const t = [ba.total, ...ba.stages][i]!;
      assert.ok(Math.abs(s.delta_ns + t.delta_ns) < 1e-6);
      assert.ok(Math.abs((s.p_value ?? 1) - (t.p_value ?? 1)) < 1e-9);
      assert.equal(t.verdict, flip[s.verdict]);
    });
    // (The overall verdict is `inconclusive`, not `improved`: stages not proven the same rank above improvements.)
    assert.equal(ba.counts.improved, ab.counts.regressed);
    assert.equal(ba.counts.regressed, ab.counts.improved);
    assert.ok(ba.counts.improved > 0);
  });

  it('fewer than 3 runs a side: at most inconclusive, unless --allow-per-request', () => {
    const r = xtrace(['compare', db['base2runs']!, db['up20-2runs']!, '-p', 'xen-blkback', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.equal(c.stages.find((s) => s.name === DISK)!.verdict, 'inconclusive');
    assert.equal(c.counts.regressed, 0);
    assert.equal(xtrace(['compare', db['base2runs']!, db['up20-2runs']!, '-p', 'xen-blkback', '--fail-on-inconclusive']).status, 1);
    const p = JSON.parse(xtrace(['compare', db['base2runs']!, db['up20-2runs']!, '-p', 'xen-blkback', '--allow-per-request', '--format', 'json']).stdout) as Comparison;
    const s = p.stages.find((x) => x.name === DISK)!;
    assert.equal(s.decided_by, 'mann-whitney-requests');
    assert.equal(s.verdict, 'regressed');
  });

  it('formats: markdown for the step summary, JUnit with a failure per regressed stage; a saved report is a side', () => {
    const md = xtrace(['compare', db['base']!, db['up20']!, '-p', 'xen-blkback', '--format', 'markdown']);
    assert.equal(md.status, 1);
    assert.match(md.stdout, /^### xtrace compare: `xen-blkback` — ❌ regressed/);
    assert.match(md.stdout, /\| \*\*total\*\* \|/);
    assert.match(md.stdout, /\| `be_submit->be_bio_done` \|.*❌ regressed \|/);
    const ju = xtrace(['compare', db['base']!, db['up20']!, '-p', 'xen-blkback', '--format', 'junit']).stdout;
    assert.equal((ju.match(/<failure /g) ?? []).length, 2);
    assert.match(ju, /<testcase classname="xtrace.xen-blkback" name="be_submit-&gt;be_bio_done">\n {6}<failure message="regressed:/);
    const saved = join(dir.dir, 'base.json');
    assert.equal(xtrace(['report', '--db', db['base']!, '-p', 'xen-blkback', '--format', 'json', '--out', saved]).status, 0);
    const j = JSON.parse(xtrace(['compare', saved, db['up20']!, '--format', 'json']).stdout) as Comparison;
    assert.equal(j.baseline.kind, 'json');
    assert.equal(j.stages.find((s) => s.name === DISK)!.verdict, 'regressed');
    assert.equal(j.stages.find((s) => s.name === DISK)!.p_value_requests, null);
  });

  it('sides that cannot be compared are refused (exit 2, one line)', () => {
    const other = join(dir.dir, 'lb.json');
    assert.equal(xtrace(['report', '--db', db['default']!, '-p', 'linux-block', '--format', 'json', '--out', other]).status, 0);
    const r = xtrace(['compare', other, db['base']!, '-p', 'xen-blkback']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot compare: the baseline is profile linux-block, the candidate xen-blkback/);
    const trimmed = join(dir.dir, 'lb-trim.json');
    assert.equal(xtrace(['report', '--db', db['tracecmd']!, '-p', 'linux-block', '--format', 'json', '--trim', '0.2', '--out', trimmed]).status, 0);
    const t = xtrace(['compare', other, trimmed]);
    assert.equal(t.status, 2);
    assert.match(t.stderr, /cannot compare: the baseline was reported with --warmup 0 --trim 0.1 --trim-by total, the candidate with --warmup 0 --trim 0.2/);
    const bad = join(dir.dir, 'bad.json');
    writeFileSync(bad, '{"hello": 1}');
    assert.match(xtrace(['compare', bad, other]).stderr, /not an xtrace report/);
    assert.match(xtrace(['compare', db['base']!, db['up20']!]).stderr, /needs --profile/);
    assert.equal(xtrace(['compare', db['base']!, db['up20']!, '-p', 'xen-blkback', '--threshold', 'lots']).status, 2);
  });
  for (const trimBy of ['total', 'stage'] as const) {
    it(`a database side is the report pipeline: same run means, stage means and kept counts as report --format json (--trim-by ${trimBy})`, () => {
      const r = xtrace(['report', '--db', db['default']!, '--profile', 'linux-block', '--trim-by', trimBy, '--warmup', '3', '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout) as { stages: { name: string; mean_ns: number }[]; total: { mean_ns: number }; runs: { kept: number; stages_ns: Record<string, number>; total_ns: number }[] };
      const side = loadSide(db['default']!, { warmup: 3, trim: 0.1, trimBy, profile: 'linux-block' });
      assert.deepEqual(side.names, [...m.stages.map((s) => s.name), 'total']);
      assert.equal(side.runs, m.runs.length);
      side.names.forEach((n, i) => {
        assert.deepEqual(side.runMeans[i], m.runs.map((run) => (n === 'total' ? run.total_ns : run.stages_ns[n]!)), n);
        const reported = n === 'total' ? m.total.mean_ns : m.stages.find((s) => s.name === n)!.mean_ns;
        assert.ok(Math.abs(side.runMeans[i]!.reduce((a, b) => a + b, 0) / side.runs - reported) <= 1e-9 * Math.abs(reported), n);
      });
      // By total, every stage's values are those of the kept requests; by stage, each has as many (its own middle).
      const kept = m.runs.reduce((a, run) => a + run.kept, 0);
      assert.ok(kept > 0);
      for (const v of side.requests!) assert.equal(v.length, kept);
    });
  }

  it('a missing database side says so as every command does (exit 2)', () => {
    const r = xtrace(['compare', join(dir.dir, 'missing.db'), db['default']!, '--profile', 'linux-block']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing\.db: no such database; run `xtrace ingest/);
  });
  describe('the verdict rules, on hand-made sides', () => {
    /** A side of one stage and the total (its run means given), as a saved report would give. */
    function made(stage: number[], total: number[], clockNs = 0): Side {
      return {
        source: 'made.json',
        kind: 'json',
        profile: 'made',
        points: ['a', 'b'],
        method: { warmup: 0, trim: 0.1, trim_by: 'total', filters: [] },
        names: ['a->b', 'total'],
        runMeans: [stage, total],
        clockUncertaintyNs: [clockNs, 0],
        requests: null,
        runs: stage.length,
      };
    }
    const BASE = [1000, 1010, 990, 1005, 995, 1000];
    const FLAT = [5000, 5000, 5000, 5000, 5000, 5000];
    const shifted = (d: number): number[] => BASE.map((v) => v + d);

    it('Holm: a raw p below alpha is not enough when the family makes it likely by chance', () => {
      // Welch p = 0.034 for +10 ns (se 4.08 ns, df 10); 5 ns matters (0.5 %, floor 0). Two tests: Holm's first step needs p < 0.025.
      const o = { ...OPTS, threshold: 0.005, floorNs: 0 };
      const c = compare(made(BASE, FLAT), made(shifted(10), FLAT), o);
      const s = c.stages[0]!;
      assert.ok(s.p_value! > 0.025 && s.p_value! < 0.05, String(s.p_value));
      assert.equal(s.significant, true); // raw
      assert.ok(Math.abs(s.p_adjusted! - 2 * s.p_value!) < 1e-15);
      assert.equal(s.significant_adjusted, false);
      assert.equal(s.verdict, 'inconclusive');
      assert.equal(c.counts.regressed, 0);
      // A clearer change passes the correction.
      const d = compare(made(BASE, FLAT), made(shifted(25), FLAT), o).stages[0]!;
      assert.equal(d.verdict, 'regressed');
      assert.match(d.why, /Holm-adjusted p = .* over 2 tests < 0\.05/);
    });

    it('same is proven, not assumed: a small change with a wide interval is inconclusive and says how many runs would decide it', () => {
      const noisy = [1000, 2000, 0, 1900, 100, 1000];
      const c = compare(made(BASE, FLAT), made(noisy.map((v) => v + 10), FLAT), OPTS); // margin: max(5 % of 1000, 500) = 500 ns
      const s = c.stages[0]!;
      assert.equal(s.size_matters, false);
      assert.equal(s.verdict, 'inconclusive');
      assert.ok(s.equivalence_ci_ns![1] > 500 || s.equivalence_ci_ns![0] < -500);
      // The usual two-sample formula, by hand with normal-table z: (z_0.95 + z_0.8)² (s_a² + s_b²) / (margin − |Δ|)².
      const v = (x: number[]): number => x.reduce((a, b) => a + (b - x.reduce((p, q) => p + q, 0) / x.length) ** 2, 0) / (x.length - 1);
      const expected = Math.ceil(((1.6448536 + 0.8416212) ** 2 * (v(BASE) + v(noisy))) / (500 - 10) ** 2);
      assert.equal(s.runs_needed, Math.max(3, expected));
      assert.match(s.why, new RegExp(`about ${s.runs_needed} runs a side would decide it`));
      // The same change with little noise: the 90 % interval is inside ±500 ns.
      const quiet = compare(made(BASE, FLAT), made(shifted(10), FLAT), OPTS).stages[0]!;
      assert.equal(quiet.verdict, 'same');
      assert.equal(quiet.runs_needed, null);
      assert.ok(quiet.equivalence_ci_ns![0] > -500 && quiet.equivalence_ci_ns![1] < 500);
      assert.equal(c.options.equivalence_level, 0.9);
    });

    it('a significant change smaller than what matters is the same', () => {
      const s = compare(made(BASE, FLAT), made(shifted(40), FLAT), OPTS).stages[0]!;
      assert.equal(s.significant_adjusted, true);
      assert.equal(s.size_matters, false);
      assert.equal(s.verdict, 'same');
      assert.match(s.why, /a real change, smaller than what matters/);
    });

    it('a cross-domain stage: a change within the clock uncertainty is never regressed, and more runs will not decide it', () => {
      // +800 ns, very significant, above the 500 ns that matter; but each side's clock offset is known to ±600 ns only.
      const c = compare(made(BASE, FLAT, 600), made(shifted(800), FLAT, 600), OPTS);
      const s = c.stages[0]!;
      assert.equal(s.clock_uncertainty_ns, 1200);
      assert.ok(s.p_value! < 1e-6);
      assert.equal(s.p_adjusted, 1);
      assert.equal(s.verdict, 'inconclusive');
      assert.equal(s.runs_needed, null);
      assert.match(s.why, /more runs will not decide it: the clock offsets .* ±1\.200 µs \(give them: --offset\)/);
      // Beyond the uncertainty, a change is a change.
      const big = compare(made(BASE, FLAT, 600), made(shifted(3000), FLAT, 600), OPTS).stages[0]!;
      assert.equal(big.verdict, 'regressed');
      assert.match(big.why, /beyond the clock uncertainty ±1\.200 µs/);
      // No change can be proven the same within less than the uncertainty.
      assert.equal(compare(made(BASE, FLAT, 600), made(BASE, FLAT, 600), OPTS).stages[0]!.verdict, 'inconclusive');
    });

    it('alpha must stay below 0.5 (the equivalence interval covers 1 − 2·alpha)', () => {
      assert.throws(() => compare(made(BASE, FLAT), made(BASE, FLAT), { ...OPTS, alpha: 0.5 }), InputError);
    });
  });
});
