/**
 * xtrace query: named queries with bound parameters, raw SQL, read-only by default, the formats,
 * and one test per bad input.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';

describe('xtrace query', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: string;
  before(() => {
    dir = tempDir();
    db = join(dir.dir, 'q.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
    assert.equal(xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'json']).status, 0);
  });
  after(() => dir.cleanup());

  it('--list names every query with its parameters', () => {
    const r = xtrace(['query', '--list']);
    assert.equal(r.status, 0);
    for (const n of ['stage-times', 'stage-summary', 'slowest', 'around-request', 'data-quality', 'slow-in-stage']) assert.match(r.stdout, new RegExp(`^${n} `, 'm'));
    assert.match(r.stdout, /--param limit=10/);
  });

  it('a named query with bound parameters equals the report (JSON rows)', () => {
    const rep = JSON.parse(xtrace(['report', '--db', db, '-p', 'linux-block', '--format', 'json']).stdout) as { runs: { run: string; kept: number; stages_ns: Record<string, number> }[] };
    const r = xtrace(['query', '--db', db, 'stage-summary', '--param', 'profile=linux-block', '--param', 'run=3', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { stage: string; population: string; count: number; mean_ns: number }[];
    const run3 = rep.runs.find((x) => x.run === '3')!;
    for (const [stage, mean] of Object.entries(run3.stages_ns)) {
      const row = rows.find((x) => x.stage === stage && x.population === 'kept')!;
      assert.equal(row.count, run3.kept);
      assert.ok(Math.abs(row.mean_ns - mean) < 1e-6, stage);
    }
  });

  it('raw SQL with :parameters, in csv and markdown', () => {
    const csv = xtrace(['query', '--db', db, 'SELECT name, count(*) AS n FROM events WHERE name LIKE :p GROUP BY name ORDER BY name', '--param', 'p=block_%', '--format', 'csv']);
    assert.equal(csv.status, 0, csv.stderr);
    assert.equal(csv.stdout, 'name,n\nblock_bio_queue,1187\nblock_rq_complete,1196\nblock_rq_insert,1196\nblock_rq_issue,1228\n');
    const md = xtrace(['query', '--db', db, 'SELECT 1 AS a, :x AS b', '--param', 'x=a|b', '--format', 'markdown']);
    assert.equal(md.stdout, '| a | b |\n|---|---|\n| 1 | a\\|b |\n');
    const t = xtrace(['query', '--db', db, 'SELECT id, name FROM events ORDER BY id LIMIT 2']);
    assert.match(t.stdout, /^id +name\n-+ +-+\n +1 +/);
    assert.match(t.stdout, /\(2 rows\)\n$/);
  });

  it('a statement that writes is refused without --write, and runs with it', () => {
    const r = xtrace(['query', '--db', db, 'DELETE FROM runs WHERE run = :r', '--param', 'r=10']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /this statement writes to the database; add --write/);
    const w = xtrace(['query', '--db', db, '--write', 'DELETE FROM runs WHERE run = :r', '--param', 'r=10']);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(w.stdout, '1 row changed\n');
  });

  it('bad input: SQL error with the query, unknown query name, unknown parameter, no argument, missing db', () => {
    const e = xtrace(['query', '--db', db, 'SELECT nope FROM events']);
    assert.equal(e.status, 2);
    assert.match(e.stderr, /SQL: no such column: nope \(in: SELECT nope FROM events\)/);
    const u = xtrace(['query', '--db', db, 'slowst']);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /slowst/);
    const p = xtrace(['query', '--db', db, 'slowest', '--param', 'lmit=3']);
    assert.equal(p.status, 2);
    assert.match(p.stderr, /lmit/);
    assert.equal(xtrace(['query', '--db', db]).status, 2);
    assert.match(xtrace(['query', '--db', join(dir.dir, 'none.db'), 'slowest']).stderr, /no such database/);
  });

  it('every named query runs on the sample with its defaults', () => {
    const names = xtrace(['query', '--list'])
      .stdout.split('\n')
      .filter((l) => /^[a-z]/.test(l))
      .map((l) => l.split(' ')[0]!);
    assert.ok(names.length >= 6);
    for (const n of names) {
      const r = xtrace(['query', '--db', db, n, '--format', 'json']);
      assert.equal(r.status, 0, `${n}: ${r.stderr}`);
      assert.ok((JSON.parse(r.stdout) as unknown[]).length > 0, `${n} returned no row`);
    }
  });
});
