/**
 * `xtrace history` on series of real reports of simulated Xen blkback captures (issue 14): where a
 * stage was made slower by the simulator (--scale), the change point must be found at that report,
 * in that stage (and the total), nowhere else; stable series, a lone outlier report and noise must
 * give none. The ground truth is the simulator's scaling, not the detector.
 *
 * A report here is 10 runs of 50 requests (the study's method is 10 runs of 100). Building 20
 * series of such reports would take many minutes, so the runs come from pools (pools.ts:
 * captures of 40 runs simulated, ingested and reported by the real pipeline, kept in
 * pools.json.gz, one of them rebuilt here to prove the file current) and a series' report i is 10
 * runs drawn (seeded, without replacement until the pool is used up) from the pool its position
 * calls for: the reports' numbers are real per-run means of the report pipeline, only grouped
 * into reports here.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { toJson } from '../../src/report/format.js';
import type { ReportModel } from '../../src/report/model.js';
import { history, HISTORY_DEFAULTS, type HistoryModel } from '../../src/history/history.js';
import { seededRandom as rng, tempDir, xtrace } from '../helpers.js';
import { buildPool, DISK, IRQ, POOL_SPECS, type RunMeans } from './pools.js';

const RUNS_PER_REPORT = 10;
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'pools.json.gz');

describe('xtrace history: change points in simulated series', () => {
  let dir: string;
  let cleanup: () => void;
  const stored = JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8')) as { pools: Record<string, RunMeans[]> };
  /** Pools by name (`base` = base-0 … base-5 together). */
  const pools = new Map<string, RunMeans[]>();
  for (const [k, runs] of Object.entries(stored.pools)) {
    const name = k.replace(/-\d+$/, '');
    pools.set(name, [...(pools.get(name) ?? []), ...runs]);
  }
  /** A real report of the same profile and method: the shape every series' report takes. */
  let template: ReportModel;

  /** Writes a series: report i takes RUNS_PER_REPORT runs of pool `from(i)` (a pool name, or [name, name, share of the second]). */
  function series(name: string, n: number, seed: number, from: (i: number) => string | [string, string, number]): string[] {
    const r = rng(seed);
    const left = new Map<string, number[]>();
    const take = (p: string): RunMeans => {
      let idx = left.get(p);
      // Without replacement until the pool is used up, then again.
      if (!idx?.length) left.set(p, (idx = pools.get(p)!.map((_, k) => k)));
      return pools.get(p)![idx.splice(Math.floor(r() * idx.length), 1)[0]!]!;
    };
    const out = join(dir, name);
    mkdirSync(out, { recursive: true });
    const run0 = template.runs[0]!;
    return Array.from({ length: n }, (_, i) => {
      const f = from(i);
      const runs = Array.from({ length: RUNS_PER_REPORT }, (_, k) => {
        const means = typeof f === 'string' ? take(f) : take(k < Math.round(f[2] * RUNS_PER_REPORT) ? f[1] : f[0]);
        const { total, ...stages } = means;
        return { ...run0, run: String(k + 1), stages_ns: stages, total_ns: total! };
      });
      const m: ReportModel = { ...template, runs, meta: { commit: `c${String(i).padStart(3, '0')}`, date: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z` } };
      const file = join(out, `r${String(i).padStart(2, '0')}.json`);
      writeFileSync(file, toJson(m) + '\n');
      return file;
    });
  }

  before(async () => {
    ({ dir, cleanup } = tempDir());
    const sim = simulate({ backend: 'blkback', out: join(dir, 'template'), runs: 4, requests: 20, seed: 1 });
    const db = openDb(join(dir, 'template.db'), { create: true });
    try {
      for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      template = analyse(db, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    } finally {
      db.close();
    }
  });
  after(() => cleanup());

  it('the stored pools are what the pipeline gives today (one capture rebuilt: the same run means)', async () => {
    assert.deepEqual(await buildPool(POOL_SPECS[0]!, join(dir, 'rebuild')), stored.pools[POOL_SPECS[0]!.name]);
    assert.deepEqual(Object.keys(template.runs[0]!.stages_ns).sort(), Object.keys(stored.pools['base-0']![0]!).filter((k) => k !== 'total').sort());
  });

  const changes = (h: HistoryModel): string[] => h.series.flatMap((s) => s.change_points.map((c) => `${s.name}@${c.index}:${c.direction}`));

  it('20 series of 15–30 reports: every step of ≥ 10 % in one stage found at its report, in that stage and the total only; no change point in stable series or for a lone outlier', (t) => {
    const r = rng(2026);
    const len = (): number => 15 + Math.floor(r() * 16);
    type Case = { name: string; n: number; files: string[]; want: string[]; allowTotal: boolean };
    const cases: Case[] = [];
    // 6 stable series.
    for (let k = 0; k < 6; k++) {
      const n = len();
      cases.push({ name: `stable${k}`, n, files: series(`stable${k}`, n, 100 + k, () => 'base'), want: [], allowTotal: false });
    }
    // 6 steps of +10 % in the disk stage, 2 of +30 % in the interrupt-to-request stage, 2 improvements of −15 % in the disk stage.
    const step = (name: string, pool: string, stage: string, dir: 'regressed' | 'improved', seed: number): void => {
      const n = len();
      const at = 4 + Math.floor(r() * (n - 8));
      cases.push({ name, n, files: series(name, n, seed, (i) => (i >= at ? pool : 'base')), want: [`${stage}@${at}:${dir}`], allowTotal: true });
    };
    for (let k = 0; k < 6; k++) step(`disk-up${k}`, 'disk110', DISK, 'regressed', 200 + k);
    for (let k = 0; k < 2; k++) step(`irq-up${k}`, 'irq130', IRQ, 'regressed', 300 + k);
    for (let k = 0; k < 2; k++) step(`disk-down${k}`, 'disk85', DISK, 'improved', 400 + k);
    // 2 series with one outlier report (the disk stage +50 % in one report only).
    for (let k = 0; k < 2; k++) {
      const n = len();
      const at = 3 + Math.floor(r() * (n - 6));
      cases.push({ name: `outlier${k}`, n, files: series(`outlier${k}`, n, 500 + k, (i) => (i === at ? 'disk150' : 'base')), want: [], allowTotal: false });
    }
    // 2 slow creeps: the disk stage +25 % reached linearly over the series (runs mixed in growing share).
    const creeps: Case[] = [];
    for (let k = 0; k < 2; k++) {
      const n = len();
      const c = { name: `creep${k}`, n, files: series(`creep${k}`, n, 600 + k, (i) => ['base', 'disk125', i / (n - 1)] as [string, string, number]), want: [], allowTotal: true };
      creeps.push(c);
    }
    let falsePositives = 0;
    let misses = 0;
    const problems: string[] = [];
    for (const c of cases) {
      const h = history(c.files, { ...HISTORY_DEFAULTS, order: 'meta.date' });
      const got = changes(h);
      const expected = new Set(c.want);
      for (const w of c.want) if (!got.includes(w)) (misses++, problems.push(`${c.name} (${c.n} reports): missed ${w}; got ${got.join(' ') || 'none'}`));
      for (const g of got) {
        const total = g.startsWith('total@');
        const same = c.want.some((w) => w.split('@')[1] === g.split('@')[1]);
        if (!expected.has(g) && !(total && c.allowTotal && same)) (falsePositives++, problems.push(`${c.name} (${c.n} reports): unexpected ${g}`));
      }
    }
    for (const c of creeps) {
      const h = history(c.files, { ...HISTORY_DEFAULTS, order: 'meta.date' });
      const got = changes(h);
      if (!got.some((g) => g.startsWith(`${DISK}@`) && g.endsWith(':regressed'))) (misses++, problems.push(`${c.name}: the creep is not seen as a regression of ${DISK}; got ${got.join(' ') || 'none'}`));
      for (const g of got) if (!g.startsWith(`${DISK}@`) && !g.startsWith('total@')) (falsePositives++, problems.push(`${c.name}: unexpected ${g}`));
      if (got.some((g) => g.endsWith(':improved'))) (falsePositives++, problems.push(`${c.name}: an improvement in a creep up: ${got.join(' ')}`));
    }
    t.diagnostic(`20 series (6 stable, 6 disk +10 %, 2 irq→get_req +30 %, 2 disk −15 %, 2 lone outliers, 2 creeps +25 %), ${cases.concat(creeps).map((c) => c.n).join('/')} reports: ${falsePositives} false positive(s), ${misses} miss(es)`);
    assert.deepEqual(problems, []);
  });

  it('a step in the newest report alone is no change point but listed as unconfirmed; a stable newest report is not', () => {
    const last = history(series('last-only', 16, 800, (i) => (i === 15 ? 'disk150' : 'base')), { ...HISTORY_DEFAULTS, order: 'meta.date' });
    assert.deepEqual(changes(last), []);
    assert.deepEqual(last.regressed, []);
    assert.ok(last.unconfirmed.some((u) => u.name === DISK && u.delta_pct > 30), JSON.stringify(last.unconfirmed));
    const calm = history(series('calm', 16, 801, () => 'base'), { ...HISTORY_DEFAULTS, order: 'meta.date' });
    assert.deepEqual(calm.unconfirmed, []);
  });

  it('exit 1 when the latest segment regressed, 0 when it improved or nothing changed, 2 on a refused report; json, markdown and html', () => {
    const up = series('cli-up', 12, 700, (i) => (i >= 6 ? 'disk110' : 'base'));
    const down = series('cli-down', 12, 701, (i) => (i >= 6 ? 'disk85' : 'base'));
    const r1 = xtrace(['history', join(dir, 'cli-up'), '--order', 'meta.date', '--format', 'json']);
    assert.equal(r1.status, 1, r1.stderr);
    const h = JSON.parse(r1.stdout) as HistoryModel;
    assert.equal(h.version, 1);
    assert.equal(h.profile, 'xen-blkback');
    assert.equal(h.reports.length, 12);
    assert.deepEqual(h.reports[3]!.meta, { commit: 'c003', date: '2026-01-01T00:03:00Z' });
    const disk = h.series.find((s) => s.name === DISK)!;
    assert.equal(disk.values_ns.length, 12);
    assert.deepEqual(
      disk.change_points.map((c) => [c.index, c.direction]),
      [[6, 'regressed']],
    );
    const c = disk.change_points[0]!;
    assert.ok(c.ci_pct[0] < c.delta_pct && c.delta_pct < c.ci_pct[1] && c.p_value < 0.001 && c.after_ns > c.before_ns);
    assert.ok(h.regressed.includes(DISK));
    const r2 = xtrace(['history', ...down, '--format', 'markdown']);
    assert.equal(r2.status, 0, r2.stderr);
    assert.match(r2.stdout, new RegExp(`^- 🔻 ${DISK.replace(/[->]/g, (x) => `\\${x}`)}: improved at #6 \\(commit=c006`, 'm'));
    const r3 = xtrace(['history', join(dir, 'cli-up'), '--order', 'meta.date', '--format', 'html']);
    assert.equal(r3.status, 1);
    assert.equal((r3.stdout.match(/<figure class="multiple">/g) ?? []).length, h.series.length);
    assert.match(r3.stdout, /regressed \+\d+\.\d% at #6/);
    // --stage: one series; the order of the files given does not matter with --order.
    const r4 = xtrace(['history', ...[...up].reverse(), '--order', 'meta.commit', '--stage', DISK, '--format', 'json']);
    assert.equal(r4.status, 1, r4.stderr);
    const h4 = JSON.parse(r4.stdout) as HistoryModel;
    assert.deepEqual(h4.series.map((s) => s.name), [DISK]);
    assert.equal(h4.options.tests, 1);
    assert.deepEqual(h4.series[0]!.change_points.map((x) => x.index), [6]);
    // Refusals, naming the report that differs.
    const other = JSON.parse(readFileSync(up[3]!, 'utf8')) as ReportModel;
    const bad = join(dir, 'trim.json');
    writeFileSync(bad, JSON.stringify({ ...other, method: { ...other.method, trim: 0.2 } }));
    const r5 = xtrace(['history', up[0]!, up[1]!, bad]);
    assert.equal(r5.status, 2);
    assert.match(r5.stderr, /trim\.json: --trim 0\.2, but .*r00\.json has 0\.1/);
    const r6 = xtrace(['history', up[0]!, up[1]!, '--order', 'meta.branch']);
    assert.equal(r6.status, 2);
    assert.match(r6.stderr, /r00\.json: no --meta branch in this report/);
    const gone = join(dir, 'no-disk.json');
    writeFileSync(gone, JSON.stringify({ ...other, runs: other.runs.map((x) => ({ ...x, stages_ns: Object.fromEntries(Object.entries(x.stages_ns).filter(([k]) => k !== DISK)) })) }));
    const r8 = xtrace(['history', up[0]!, up[1]!, up[2]!, up[4]!, gone]);
    assert.equal(r8.status, 2);
    assert.match(r8.stderr, new RegExp(`no-disk\\.json: no run of this report has a value for ${DISK.replace(/[->]/g, (x) => `\\${x}`)}`));
    const r7 = xtrace(['history', up[0]!]);
    assert.equal(r7.status, 2);
    assert.match(r7.stderr, /history needs 2 reports at least/);
  });
});

describe('xtrace report --meta', () => {
  it('is in the JSON report and stored with the correlation (with the host and the filters); a malformed or repeated key is refused', () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, 'm.db');
      assert.equal(xtrace(['ingest', '--db', db, 'samples/linux-block-default/trace.txt.gz']).status, 0);
      const r = xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'json', '--meta', 'commit=3f2a1c9', '--meta', 'date=2026-11-30', '--filter', 'comm=fio*']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as ReportModel).meta, { commit: '3f2a1c9', date: '2026-11-30' });
      const q = xtrace(['query', '--db', db, '--format', 'json', 'SELECT meta, host, filters FROM correlations']);
      assert.equal(q.status, 0, q.stderr);
      const row = (JSON.parse(q.stdout) as { meta: string; host: string; filters: string }[])[0]!;
      assert.deepEqual(JSON.parse(row.meta), { commit: '3f2a1c9', date: '2026-11-30' });
      assert.ok(row.host.length > 0);
      assert.deepEqual(JSON.parse(row.filters), ['comm=fio*']);
      const bad = xtrace(['report', '--db', db, '-p', 'linux-block', '--meta', 'commit']);
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /'commit': give KEY=VALUE/);
      const twice = xtrace(['report', '--db', db, '-p', 'linux-block', '--meta', 'a=1', '--meta', 'a=2']);
      assert.equal(twice.status, 2);
      assert.match(twice.stderr, /--meta a given twice/);
    } finally {
      cleanup();
    }
  });
});
