/**
 * The stored shape of a correlation for SQL (queries/007_stage_rows.sql): the stage rows, stage
 * summaries and run ranks `xtrace report` writes from its request store (src/correlate/save-stages.ts)
 * must equal what the SQL definition computes from the requests' JSON columns (the migration's
 * fill, the views' definition before the rows were stored), on real captures, the simulated Xen
 * traces and a correlation with batched requests (merged stages); request_stages must list the
 * same stages as xt_stage_times (which still reads the JSON); and the queries people ask first
 * read an index, not every row (their query plans).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, SAMPLES } from '../helpers.js';
import { queriesDir, type Db } from '../../src/db/db.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { sortPairs } from '../../src/correlate/save-stages.js';
import { batchedReport } from '../report/batched.js';

/** The migration's fill: the stored shape computed in SQL from the JSON columns. */
function sqlFill(db: Db): void {
  const text = readFileSync(join(queriesDir(), '007_stage_rows.sql'), 'utf8');
  const fill = text.slice(text.indexOf('-- fill:'), text.indexOf('.read '));
  db.exec('DELETE FROM request_stage_data; DELETE FROM stages; DELETE FROM stage_summary; UPDATE requests SET run_rank = NULL;');
  db.exec(fill);
}

/** What the views show, in a fixed order (ids of stages are not compared). */
function snapshot(db: Db): Record<string, unknown[]> {
  const all = (sql: string): unknown[] => db.prepare(sql).all();
  return {
    stages: all('SELECT request_id, correlation_id, run, status, pos, stage, from_point, to_point, duration_ns FROM request_stages ORDER BY request_id, pos, stage'),
    ranks: all(
      'SELECT request_id, rank FROM request_stage_data d JOIN stages s ON s.id = d.stage_id CROSS JOIN (SELECT 1) ORDER BY s.correlation_id, s.pos, s.from_pos, d.status, d.rank',
    ).map((r) => [(r as { request_id: number }).request_id, (r as { rank: number }).rank]),
    summary: all('SELECT * FROM xt_stage_summary ORDER BY profile, run_seq IS NULL, run_seq, population, pos, from_pos'),
    slowest: all('SELECT profile, run, rank, request_id, total_ns, stages FROM xt_slowest_requests ORDER BY request_id'),
  };
}

async function check(db: Db): Promise<void> {
  const fromReport = snapshot(db);
  assert.ok(fromReport['stages']!.length > 0, 'the correlation has stage rows');
  assert.ok(fromReport['summary']!.length > 0, 'and a summary');
  // request_stages (stored rows) lists what xt_stage_times (the JSON) does.
  const json = db.prepare('SELECT request_id, correlation_id, run, status, pos, stage, from_point, to_point, duration_ns FROM xt_stage_times ORDER BY request_id, pos, stage').all();
  assert.deepEqual(fromReport['stages'], json);
  sqlFill(db);
  assert.deepEqual(fromReport, snapshot(db));
}

describe('stored stage rows, summaries and ranks equal their SQL definition', () => {
  for (const [sample, profile] of [['linux-block-default', 'linux-block'], ['workloads/randread-4jobs', 'linux-block'], ['workloads/libaio-qd8', 'linux-aio'], ['workloads/split-64k', 'linux-block']] as const) {
    it(`${profile}: ${sample}`, async () => {
      const t = await ingestAll([join(SAMPLES, sample, 'trace.txt.gz')]);
      try {
        analyse(t.db, { profile: loadProfile(profile), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' });
        await check(t.db);
      } finally {
        t.cleanup();
      }
    });
  }

  it('Xen blktap2 (three clocks, estimated offsets)', async () => {
    const d = join(SAMPLES, 'sim-blktap2');
    const t = await ingestAll([]);
    try {
      const { ingestFile } = await import('../../src/ingest/ingest.js');
      await ingestFile(t.db, { path: join(d, 'guest.trace.gz') }, { domain: 'guest' });
      await ingestFile(t.db, { path: join(d, 'dom0.trace.gz') }, { domain: 'dom0' });
      await ingestFile(t.db, { path: join(d, 'tapdisk.xtbuf.gz') }, { domain: 'tapdisk' });
      analyse(t.db, { profile: loadProfile('xen-blktap2'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' });
      await check(t.db);
    } finally {
      t.cleanup();
    }
  });

  it('batched requests: merged stages', async () => {
    const t = await ingestAll([]);
    try {
      await batchedReport(t.db, { warmup: 0, trim: 0.1, trimBy: 'total' }, true);
      const merged = t.db.prepare<{ n: number }>('SELECT count(*) AS n FROM stages WHERE from_pos < pos - 1').get()!.n;
      assert.ok(merged > 0, 'the batched correlation has merged stages');
      await check(t.db);
    } finally {
      t.cleanup();
    }
  });
});

describe('sortPairs orders by value, then q, NaN first', () => {
  it('equals a plain comparator sort (property)', () => {
    const value = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.constant(NaN), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (vs) => {
        const values = Float64Array.from(vs);
        const qs = Int32Array.from(vs.map((_, k) => k * 3));
        const want = vs.map((v, k) => ({ v, q: k * 3 })).sort((a, b) => (Number.isNaN(a.v) ? (Number.isNaN(b.v) ? a.q - b.q : -1) : Number.isNaN(b.v) ? 1 : a.v - b.v || a.q - b.q));
        sortPairs(values, qs, 0, values.length);
        assert.deepEqual([...qs], want.map((w) => w.q));
        assert.deepEqual([...values].map(String), want.map((w) => String(w.v)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the first questions read an index', () => {
  it('the index of events by name survives every way an ingest ends (deferred to its end, kept, rolled back)', async () => {
    const small = join(SAMPLES, 'workloads', 'randrw', 'trace.txt.gz');
    const big = join(SAMPLES, 'linux-block-default', 'trace.txt.gz');
    const t = await ingestAll([small]);
    try {
      const { ingestFile } = await import('../../src/ingest/ingest.js');
      const indexed = (): boolean => t.db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'event_data_by_name'").get() !== undefined;
      const counts = (): unknown => t.db.prepare('SELECT name_id, count(*) AS n FROM event_data INDEXED BY event_data_by_name GROUP BY name_id').all();
      const truth = (): unknown => t.db.prepare('SELECT name_id, count(*) AS n FROM event_data NOT INDEXED GROUP BY name_id').all();
      assert.ok(indexed());
      for (const [path, status] of [[big, 'ingested'], [small, 'duplicate'], [big, 'duplicate']] as const) {
        assert.equal((await ingestFile(t.db, { path }, { domain: 'default' })).status, status);
        assert.ok(indexed(), `${path}: ${status}`);
        assert.deepEqual(counts(), truth());
      }
    } finally {
      t.cleanup();
    }
  });

  it('GROUP BY stage over request_stages, GROUP BY name over events', async () => {
    const t = await ingestAll([join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]);
    try {
      analyse(t.db, { profile: loadProfile('linux-block'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' });
      const plan = (sql: string): string => t.db.prepare<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail).join('\n');
      const stages = plan("SELECT stage, avg(duration_ns) FROM request_stages WHERE status = 'complete' GROUP BY stage");
      assert.match(stages, /SEARCH d USING PRIMARY KEY \(stage_id=\?\)/, stages);
      assert.doesNotMatch(stages, /TEMP B-TREE/, stages);
      const names = plan('SELECT name, count(*) FROM events GROUP BY name');
      assert.match(names, /COVERING INDEX event_data_by_name/, names);
      assert.doesNotMatch(names, /TEMP B-TREE|SCAN e\b/, names);
    } finally {
      t.cleanup();
    }
  });
});
