import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openDb, type Db } from '../src/db/db.js';
import type { ReaderMode } from '../src/correlate/events.js';
import { analyse, type Analysis, type AnalysisOptions } from '../src/pipeline/analyse.js';
import { ingestFile, type IngestResult } from '../src/ingest/ingest.js';
import { COUNTERS, countsLines, type CounterCode } from '../src/core/counters.js';
import { Rng } from '../src/simulate/rng.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SAMPLES = join(ROOT, 'samples');

/** On CI (`.ci/run` sets CI=true) a test whose tool is missing (sqlite3, chromium, cc, fio) fails instead of skipping. */
export const onCi = process.env['CI'] === 'true';

/**
 * Whether the tests that run the sqlite3 shell run: wherever it is installed, and always on CI
 * (CI=true), where a missing shell must fail them, not skip them (.ci/run installs it).
 */
export const hasShell = spawnSync('sqlite3', ['-version']).status === 0 || onCi;

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'xtrace-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Ingests files into a fresh database in a temp dir through the library. */
export async function ingestAll(paths: string[], opts: { domain?: string; tscHz?: number } = {}): Promise<{ db: Db; results: IngestResult[]; cleanup: () => void; dbPath: string }> {
  const t = tempDir();
  const dbPath = join(t.dir, 'test.db');
  const db = openDb(dbPath, { create: true });
  const results: IngestResult[] = [];
  for (const p of paths) results.push(await ingestFile(db, { path: p }, { domain: opts.domain ?? 'default', ...(opts.tscHz ? { tscHz: opts.tscHz } : {}) }));
  return {
    db,
    results,
    dbPath,
    cleanup: () => {
      db.close();
      t.cleanup();
    },
  };
}

/**
 * The two ways the correlation reads events: on the calling thread, and on a reader thread (what
 * `reader: 'auto'` picks from 300k events on, so for real captures, while every fixture is smaller).
 */
export const READERS = ['inline', 'thread'] as const satisfies readonly ReaderMode[];

/**
 * The report pipeline with events read as `reader` says, checking that they were: a 'thread' run
 * starts a worker thread, an 'inline' run none (so a reader option lost on the way cannot pass
 * unnoticed). Node announces a new worker on the next tick, hence async.
 */
export async function analyseWith(db: Db, reader: (typeof READERS)[number], o: AnalysisOptions): Promise<Analysis> {
  let workers = 0;
  const count = (): void => void workers++;
  process.on('worker', count);
  try {
    const a = analyse(db, { ...o, reader });
    await nextTurn();
    if (reader === 'thread' ? workers === 0 : workers > 0) throw new Error(`reader '${reader}': the correlation started ${workers} worker threads`);
    return a;
  } finally {
    process.off('worker', count);
  }
}

/** Runs the CLI from source (tsx), as a user would run `xtrace`. */
export function xtrace(args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): { status: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input: opts.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    maxBuffer: 1 << 26,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

/** sources.lines = events + Σ line-counting diagnostics, for every source. Returns offending rows. */
export function unaccountedLines(db: Db): { id: number; lines: number; accounted: number }[] {
  const lineCodes = (Object.keys(COUNTERS) as CounterCode[]).filter(countsLines);
  const q = db.prepare<{ id: number; lines: number; accounted: number }>(
    `SELECT s.id, s.lines, s.events + coalesce((SELECT sum(count) FROM diagnostics d WHERE d.source_id = s.id AND d.code IN (${lineCodes.map(() => '?').join(',')})), 0) AS accounted FROM sources s`,
  );
  return q.all(...lineCodes).filter((r) => r.lines !== r.accounted);
}

/** A seeded PRNG with values in [0, 1): the simulator's (src/simulate/rng.ts), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
