/**
 * The run pools of the history test (history.test.ts): simulated Xen blkback captures of 40 runs ×
 * 50 requests, each ingested and reported by the real pipeline; a pool keeps each run's means
 * (total and per stage). Stored in pools.json.gz because building them takes minutes; the test
 * builds one of them again and requires the same numbers, so the file cannot drift from the code.
 *
 * Regenerate: node --import tsx test/history/pools.ts test/history/pools.json.gz
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';

export const DISK = 'be_submit->be_bio_done';
export const IRQ = 'be_irq->be_get_req';
export const POOL_RUNS = 40;
export const POOL_REQUESTS = 50;

export interface PoolSpec {
  /** Pool name and capture number: `base-0`. */
  name: string;
  seed: number;
  /** The simulator's --scale: the ground truth of the step. */
  scale: Record<string, number>;
}

export const POOL_SPECS: PoolSpec[] = [
  ...Array.from({ length: 6 }, (_, k) => ({ name: `base-${k}`, seed: 1100 + k, scale: {} })),
  { name: 'disk110-0', seed: 1200, scale: { [DISK]: 1.1 } },
  { name: 'disk110-1', seed: 1201, scale: { [DISK]: 1.1 } },
  { name: 'disk85-0', seed: 1300, scale: { [DISK]: 0.85 } },
  { name: 'disk150-0', seed: 1400, scale: { [DISK]: 1.5 } },
  { name: 'irq130-0', seed: 1500, scale: { [IRQ]: 1.3 } },
  { name: 'irq130-1', seed: 1501, scale: { [IRQ]: 1.3 } },
  { name: 'disk125-0', seed: 1600, scale: { [DISK]: 1.25 } },
  { name: 'disk125-1', seed: 1601, scale: { [DISK]: 1.25 } },
];

/** One run's means: `total` and each stage (ns). */
export type RunMeans = Record<string, number>;

/** Simulates, ingests and reports one capture (in `dir`, removed after); its runs' means. */
export async function buildPool(spec: PoolSpec, dir: string): Promise<RunMeans[]> {
  const out = join(dir, spec.name);
  mkdirSync(dir, { recursive: true });
  const sim = simulate({ backend: 'blkback', out, runs: POOL_RUNS, requests: POOL_REQUESTS, seed: spec.seed, scale: spec.scale });
  const db = openDb(`${out}.db`, { create: true });
  try {
    for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
    const m = analyse(db, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    return m.runs.map((r) => ({ total: r.total_ns, ...r.stages_ns }));
  } finally {
    db.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(`${out}.db`, { force: true });
  }
}

if (process.argv[1]?.endsWith('pools.ts') && process.argv[2]) {
  const tmp = join(process.argv[2] + '.tmp');
  const pools: Record<string, RunMeans[]> = {};
  for (const spec of POOL_SPECS) {
    pools[spec.name] = await buildPool(spec, tmp);
    process.stderr.write(`${spec.name}: ${pools[spec.name]!.length} runs\n`);
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(process.argv[2], gzipSync(JSON.stringify({ runs: POOL_RUNS, requests: POOL_REQUESTS, specs: POOL_SPECS, pools })));
}
