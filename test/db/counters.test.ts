/**
 * The one catalogue of counters (src/core/counters.ts) and its copy in the database: every
 * writable open makes `diagnostic_codes` list exactly the catalogue (fresh and upgraded
 * databases alike, stale rows removed, changed rows rewritten), an up-to-date database is not
 * written to, and a read-only open of an older database (no `stage` column) still reads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { COUNTERS, countsLines, severityOf, type CounterCode } from '../../src/core/counters.js';
import { migrationSql, openDb, queriesDir, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { hasShell, SAMPLES, tempDir } from '../helpers.js';

const CODES = Object.keys(COUNTERS) as CounterCode[];

interface CodeRow {
  code: string;
  severity: string;
  stage: string;
  counts_lines: number;
  description: string;
}

const catalogueRows = (): CodeRow[] =>
  CODES.map((code) => ({ code, severity: severityOf(code), stage: COUNTERS[code].stage, counts_lines: countsLines(code) ? 1 : 0, description: COUNTERS[code].description })).sort((a, b) => (a.code < b.code ? -1 : 1));

const codeRows = (db: Db): CodeRow[] => db.prepare<CodeRow>('SELECT code, severity, stage, counts_lines, description FROM diagnostic_codes ORDER BY code').all();

/** A database made by the sqlite3 shell from the SQL of schema versions 1..v, as xtrace v wrote it. */
function oldDatabase(path: string, v: 1 | 3, extraSql = ''): void {
  const files = ['001_schema.sql', '002_correlation.sql', '003_views.sql'].slice(0, v);
  const sql = files.map((f) => migrationSql(f)).join('\n');
  const r = spawnSync('sqlite3', ['-bail', path], { cwd: queriesDir(), input: `${sql}\n${extraSql}\nINSERT INTO xt_meta VALUES ('schema_version', '${v}');\nPRAGMA user_version = ${v};\n`, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

/** The rows xtrace seeded at creation before version 4: the ingest codes, one since removed, one description since changed. */
const OLD_SEED = `INSERT INTO diagnostic_codes(code, severity, counts_lines, description) VALUES
  ('header_line', 'info', 1, 'an older description'),
  ('blank_line', 'info', 1, '${COUNTERS.blank_line.description}'),
  ('retired_code', 'data_loss', 0, 'a counter this xtrace no longer has');`;

describe('counter catalogue', () => {
  it('each code has a severity, a stage and a description; ingest codes say whether they count lines', () => {
    for (const code of CODES) {
      const c = COUNTERS[code];
      assert.ok(['info', 'data_loss', 'error'].includes(c.severity), code);
      assert.ok(c.description.length > 0, code);
      if (c.stage === 'ingest') assert.equal(typeof c.line, 'boolean', code);
      else assert.equal(countsLines(code), false, code);
    }
    assert.ok(CODES.some((c) => COUNTERS[c].stage === 'ingest') && CODES.some((c) => COUNTERS[c].stage === 'correlate'));
  });
});

describe('diagnostic_codes: the catalogue, refreshed on every writable open', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('a fresh database lists every code of the catalogue and nothing else; reopening it for writing needs no write lock', () => {
    const path = join(dir, 'fresh.db');
    openDb(path, { create: true }).close();
    const db = openDb(path, { readonly: true });
    assert.deepEqual(codeRows(db), catalogueRows());
    db.close();
    // Another connection is writing (an ingest): a writable open of an up-to-date database still succeeds at once.
    const writer = openDb(path);
    writer.exec('BEGIN IMMEDIATE');
    try {
      openDb(path).close();
    } finally {
      writer.rollback();
      writer.close();
    }
  });

  it('a database created by schema version 1 ends up with the catalogue after a writable open (stale rows gone, old descriptions replaced)', { skip: !hasShell && 'no sqlite3 shell' }, () => {
    const path = join(dir, 'v1.db');
    oldDatabase(path, 1, OLD_SEED);
    openDb(path).close();
    const db = openDb(path, { readonly: true });
    assert.deepEqual(codeRows(db), catalogueRows());
    db.close();
  });

  it('a version-3 database opened read-only is read as it is (no stage column), and gets the catalogue once opened for writing', { skip: !hasShell && 'no sqlite3 shell' }, () => {
    const path = join(dir, 'v3.db');
    oldDatabase(path, 3, OLD_SEED);
    const ro = openDb(path, { readonly: true });
    assert.ok(!(ro.pragma('table_info(diagnostic_codes)') as { name: string }[]).some((c) => c.name === 'stage'));
    assert.deepEqual(ro.prepare<{ code: string }>('SELECT code FROM diagnostic_codes ORDER BY code').all().map((r) => r.code), ['blank_line', 'header_line', 'retired_code']);
    assert.deepEqual(ro.prepare('SELECT * FROM xt_data_quality').all(), []);
    ro.close();
    openDb(path).close();
    const db = openDb(path, { readonly: true });
    assert.deepEqual(codeRows(db), catalogueRows());
    db.close();
  });

  it('the data-quality rows of ingestion and of the matcher carry the catalogue description of their code', async () => {
    const db = openDb(join(dir, 'q.db'), { create: true });
    try {
      for (const [file, domain] of [
        ['guest.trace.gz', 'domU'],
        ['dom0.trace.gz', 'dom0'],
      ] as const) await ingestFile(db, { path: join(SAMPLES, 'sim-blkback', file) }, { domain });
      analyse(db, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' });
      const rows = db.prepare<{ kind: string; code: CounterCode; description: string; catalogued: string | null }>(
        'SELECT q.kind, q.code, q.description, dc.description AS catalogued FROM xt_data_quality q LEFT JOIN diagnostic_codes dc ON dc.code = q.code',
      ).all();
      assert.ok(rows.some((r) => r.kind === 'ingest') && rows.some((r) => r.kind === 'correlation'));
      for (const r of rows) {
        assert.equal(r.description, COUNTERS[r.code].description, r.code);
        assert.equal(r.catalogued, r.description, r.code);
      }
    } finally {
      db.close();
    }
  });
});
