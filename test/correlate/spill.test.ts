/**
 * A report whose request store spills to disk (store.ts: beyond its memory budget) is the report
 * of one that does not: the same model and the same stored rows, on a real capture and on the
 * simulated Xen blktap2 (three clocks: several passes, each with its own store). The store is
 * forced to spill with 16-request chunks and a budget of two chunks.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ingestAll, SAMPLES } from '../helpers.js';
import type { Db } from '../../src/db/db.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse, type AnalysisOptions } from '../../src/pipeline/analyse.js';
import { ingestFile } from '../../src/ingest/ingest.js';

const SPILL = { chunkBits: 4, residentBytes: 0 };

function stored(db: Db): Record<string, unknown[]> {
  const all = (sql: string): unknown[] => db.prepare(sql).all();
  return {
    requests: all('SELECT run, seq, status, kept, start_ts_ns, total_ns, points, events, task_id, bios, block_requests, bytes, filtered, run_rank FROM requests ORDER BY id'),
    tasks: all('SELECT comm, pid, tgid, dev, op, labels FROM request_tasks ORDER BY id'),
    stages: all('SELECT s.pos, s.from_pos, d.status, d.rank, d.request_id, d.duration_ns FROM request_stage_data d JOIN stages s ON s.id = d.stage_id ORDER BY s.pos, s.from_pos, d.status, d.rank'),
    summary: all('SELECT run, stage, population, count, mean_ns, median_ns, p90_ns, p99_ns, min_ns, max_ns, mean_contribution_ns FROM stage_summary ORDER BY run, stage, population'),
    runs: all('SELECT seq, run, begin_ts_ns, end_ts_ns, requests, complete, incomplete, orphans, kept, total_ns FROM runs ORDER BY seq'),
  };
}

async function both(ingest: (db: Db) => Promise<void>, o: AnalysisOptions): Promise<void> {
  const plain = await ingestAll([]);
  const spilled = await ingestAll([]);
  try {
    await ingest(plain.db);
    await ingest(spilled.db);
    const a = analyse(plain.db, o);
    const b = analyse(spilled.db, { ...o, store: SPILL });
    assert.equal(a.correlation.requests.spills, 0);
    assert.ok(b.correlation.requests.spills > 3, `the store spilled (${b.correlation.requests.spills} chunks written)`);
    assert.ok(b.correlation.requests.reloads > 0, 'and read chunks back');
    const model = (m: typeof a.model): unknown => JSON.parse(JSON.stringify(m, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    assert.deepEqual(model(b.model), model(a.model));
    assert.deepEqual(stored(spilled.db), stored(plain.db));
  } finally {
    plain.cleanup();
    spilled.cleanup();
  }
}

describe('a request store that spills to disk gives the same report', () => {
  it('linux-block on a real capture (trim by stage, grouped by op)', async () => {
    await both(
      async (db) => void (await ingestFile(db, { path: join(SAMPLES, 'linux-block-default', 'trace.txt.gz') }, { domain: 'default' })),
      { profile: loadProfile('linux-block'), warmup: 2, trim: 0.1, trimBy: 'stage', groupBy: 'op', version: 'test' },
    );
  });

  it('Xen blktap2: three clocks, several passes', async () => {
    const d = join(SAMPLES, 'sim-blktap2');
    await both(
      async (db) => {
        await ingestFile(db, { path: join(d, 'guest.trace.gz') }, { domain: 'guest' });
        await ingestFile(db, { path: join(d, 'dom0.trace.gz') }, { domain: 'dom0' });
        await ingestFile(db, { path: join(d, 'tapdisk.xtbuf.gz') }, { domain: 'tapdisk' });
      },
      { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' },
    );
  });
});
