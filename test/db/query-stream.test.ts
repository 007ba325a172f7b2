/**
 * `xtrace query` as a library (src/db/query.ts) streaming through the rows reporters
 * (src/report/rows.ts): 200k rows in every format, the first rows written before the last one is
 * read, lazy reading with SQL errors found while reading, read-only enforcement, schema upgrade
 * (with the sqlite3 shell).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hasShell, SAMPLES, ingestAll } from '../helpers.js';
import { openDb, queriesDir, SCHEMA_VERSION } from '../../src/db/db.js';
import { namedQueryListing, executeQuery, type QueryResult } from '../../src/db/query.js';
import { ROWS_REPORTERS, TABLE_WIDTH_BLOCK, changedRowsText, renderRows, type Cell, type RowsFormat } from '../../src/report/rows.js';
import { InputError, UsageError } from '../../src/core/errors.js';

const FORMATS = Object.keys(ROWS_REPORTERS) as RowsFormat[];
const MANY = 200_000;

function rowsOf(r: QueryResult): Extract<QueryResult, { kind: 'rows' }> {
  assert.equal(r.kind, 'rows');
  return r as Extract<QueryResult, { kind: 'rows' }>;
}

/** Counts the lines of a chunked output (and those matching `watch`) without keeping it; keeps the last line. */
function lineCounter(watch = /^$/): { sink: (chunk: string) => void; lines: () => number; matches: () => number; last: () => string } {
  let lines = 0;
  let matches = 0;
  let partial = '';
  let last = '';
  return {
    sink: (chunk) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        lines++;
        if (watch.test(l)) matches++;
        last = l;
      }
    },
    lines: () => lines + (partial ? 1 : 0),
    matches: () => matches,
    last: () => partial || last,
  };
}

describe('xtrace query streams', () => {
  let dbPath: string;
  let cleanup: () => void;
  before(async () => {
    const t = await ingestAll([join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]);
    dbPath = t.dbPath;
    cleanup = t.cleanup;
    // The sample has ~13k events: copy them (recursive CTE) until the database has ≥ 200k.
    const n = t.db.prepare<{ n: number }>('SELECT count(*) AS n FROM event_data').get()!.n;
    const copies = Math.ceil(MANY / n) - 1;
    t.db.exec(`INSERT INTO event_data(source_id, line, ts_ns, cpu, pid, tgid, comm_id, name_id, flags_id, part_id, args)
      WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${copies})
      SELECT source_id, line, ts_ns + i, cpu, pid, tgid, comm_id, name_id, flags_id, part_id, args FROM event_data, k`);
    assert.ok(t.db.prepare<{ n: number }>('SELECT count(*) AS n FROM event_data').get()!.n >= MANY);
  });
  after(() => cleanup());

  for (const format of FORMATS) {
    it(`SELECT * FROM events LIMIT ${MANY} in ${format}`, () => {
      const r = rowsOf(executeQuery({ db: dbPath, query: `SELECT * FROM events LIMIT ${MANY}` }));
      const out = lineCounter(/^ {2}\{$/); // a JSON array element starts on a line of its own
      let written: number;
      try {
        written = ROWS_REPORTERS[format].write(r.columns, r.rows, out.sink);
      } finally {
        r.close();
      }
      assert.equal(written, MANY);
      // csv: header + rows; markdown: header, separator + rows; table: header, dashes, rows, count.
      if (format === 'csv') assert.equal(out.lines(), MANY + 1);
      if (format === 'markdown') assert.equal(out.lines(), MANY + 2);
      if (format === 'table') {
        assert.equal(out.lines(), MANY + 3);
        assert.equal(out.last(), `(${MANY} rows)`);
      }
      if (format === 'json') {
        assert.equal(out.matches(), MANY);
        assert.equal(out.last(), ']');
      }
    });
  }

  it('each format writes its first rows before the rows run out (a source that fails after 2,000 rows)', () => {
    const failing = function* (): Generator<Cell[]> {
      for (let i = 1; i <= 2000; i++) yield [i, `row-${i}`];
      throw new Error('source failed after 2000 rows');
    };
    for (const format of FORMATS) {
      const chunks: string[] = [];
      assert.throws(() => ROWS_REPORTERS[format].write(['n', 'label'], failing(), (c) => chunks.push(c)), /source failed after 2000 rows/, format);
      const seen = chunks.join('');
      assert.match(seen, /row-1\b/, `${format}: row 1 written before the failure`);
      if (format === 'table') assert.match(seen, new RegExp(`row-${TABLE_WIDTH_BLOCK}\\b`), 'table: the first block written');
    }
  });

  it('the table measures its widths on the first block; a wider cell later widens its own line', () => {
    const rows: Cell[][] = [];
    for (let i = 0; i < TABLE_WIDTH_BLOCK; i++) rows.push([i % 10, 'ab']);
    rows.push([123456, 'a much wider cell']);
    const text = renderRows('table', ['n', 'text'], rows);
    const lines = text.split('\n');
    assert.equal(lines[0], 'n  text');
    assert.equal(lines[1], '-  ----');
    assert.equal(lines[2], '0  ab');
    assert.equal(lines[TABLE_WIDTH_BLOCK + 2], '123456  a much wider cell');
    assert.equal(lines[TABLE_WIDTH_BLOCK + 3], `(${TABLE_WIDTH_BLOCK + 1} rows)`);
  });

  it('small results: the bytes of every format', () => {
    const cols = ['id', 'text', 'blob', 'none', 'big'];
    const rows: Cell[][] = [
      [1, 'a|b\nc,"d"\r', Buffer.from([0, 255]), null, 9007199254740993n],
      [22, 'x', Buffer.from([1]), null, 2],
    ];
    assert.equal(renderRows('csv', cols, rows), 'id,text,blob,none,big\n1,"a|b\nc,""d""\r",x\'00ff\',,9007199254740993\n22,x,x\'01\',,2\n');
    assert.equal(renderRows('markdown', cols, rows), "| id | text | blob | none | big |\n|---|---|---|---|---|\n| 1 | a\\|b<br>c,\"d\"\r | x'00ff' |  | 9007199254740993 |\n| 22 | x | x'01' |  | 2 |\n");
    assert.equal(
      renderRows('json', cols, rows),
      '[\n  {\n    "id": 1,\n    "text": "a|b\\nc,\\"d\\"\\r",\n    "blob": "00ff",\n    "none": null,\n    "big": 9007199254740993\n  },\n  {\n    "id": 22,\n    "text": "x",\n    "blob": "01",\n    "none": null,\n    "big": 2\n  }\n]\n',
    );
    assert.equal(renderRows('table', cols, rows), "id  text        blob     none               big\n--  ----------  -------  ----  ----------------\n 1  a|b⏎c,\"d\"\r  x'00ff'        9007199254740993\n22  x           x'01'                         2\n(2 rows)\n");
    assert.equal(renderRows('json', ['a'], []), '[]\n');
    assert.equal(renderRows('table', ['a'], []), 'a\n-\n(0 rows)\n');
    assert.equal(renderRows('csv', ['a'], []), 'a\n');
  });

  it('rows are read lazily: an SQL error after 5,000 rows is an InputError raised while reading', () => {
    const sql = 'WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 10000) SELECT n, CASE WHEN n > 5000 THEN json(\'not json\') END AS j FROM k';
    const r = rowsOf(executeQuery({ db: dbPath, query: sql }));
    let n = 0;
    assert.throws(
      () => {
        for (const _ of r.rows) n++;
      },
      (e: unknown) => e instanceof InputError && /^SQL: malformed JSON \(in: WITH RECURSIVE/.test(e.message),
    );
    assert.equal(n, 5000);
    r.close();
  });

  it('integers: numbers when exact, bigints beyond 2^53; close() before the end releases the database', () => {
    const r = rowsOf(executeQuery({ db: dbPath, query: 'SELECT 42 AS a, 9007199254740993 AS b, -9007199254740991 AS c, 0.5 AS d UNION ALL SELECT 1, 2, 3, 4' }));
    assert.deepEqual(r.columns, ['a', 'b', 'c', 'd']);
    assert.deepEqual(r.rows.next().value, [42, 9007199254740993n, -9007199254740991, 0.5]);
    r.close();
    // The database is closed: a writer can open it.
    openDb(dbPath).close();
  });

  it('named queries with parameters, a writing statement refused without write, changes with it, SQL errors name the query', () => {
    const named = rowsOf(executeQuery({ db: dbPath, query: 'data-quality' }));
    assert.ok([...named.rows].length > 0);
    assert.throws(() => executeQuery({ db: dbPath, query: 'slowest', params: { lmit: '3' } }), (e: unknown) => e instanceof UsageError && /lmit/.test(e.message));
    assert.throws(() => executeQuery({ db: dbPath, query: 'nosuchquery' }), (e: unknown) => e instanceof UsageError && /nosuchquery/.test(e.message));
    assert.throws(() => executeQuery({ db: dbPath, query: '' }), UsageError);
    const raw = rowsOf(executeQuery({ db: dbPath, query: 'SELECT :x AS x, :y AS y', params: { x: '7', y: 'text' } }));
    assert.deepEqual([...raw.rows], [[7, 'text']]);
    assert.throws(() => executeQuery({ db: dbPath, query: 'DELETE FROM diagnostics WHERE 0' }), (e: unknown) => e instanceof UsageError && /this statement writes to the database; add --write if that is what you want \(in: DELETE FROM diagnostics WHERE 0\)/.test(e.message));
    assert.deepEqual(executeQuery({ db: dbPath, query: 'UPDATE sources SET path = path', write: true }), { kind: 'changes', changes: 1 });
    assert.equal(changedRowsText(1), '1 row changed\n');
    assert.equal(changedRowsText(0), '0 rows changed\n');
    assert.throws(() => executeQuery({ db: dbPath, query: 'SELECT nope\n  FROM   events' }), (e: unknown) => e instanceof InputError && e.message === 'SQL: no such column: nope (in: SELECT nope FROM events)');
    assert.throws(() => executeQuery({ db: join(dbPath, '..', 'none.db'), query: 'SELECT 1' }), (e: unknown) => e instanceof InputError && /no such database/.test(e.message));
  });

  it('a database of an older schema (version 2, no views) is upgraded before a read-only query', { skip: !hasShell && 'no sqlite3 shell' }, () => {
    const old = join(dirname(dbPath), 'v2.db');
    const sql = ['001_schema.sql', '002_correlation.sql'].map((f) => readFileSync(join(queriesDir(), f), 'utf8')).join('\n');
    assert.equal(spawnSync('sqlite3', [old], { input: `${sql}\nINSERT INTO xt_meta VALUES ('schema_version', '2');\nPRAGMA user_version = 2;\n` }).status, 0);
    const r = rowsOf(executeQuery({ db: old, query: 'SELECT count(*) AS n FROM xt_stage_times' }));
    assert.deepEqual([...r.rows], [[0]]);
    const upgraded = openDb(old, { readonly: true });
    assert.deepEqual(upgraded.pragma('user_version'), [{ user_version: SCHEMA_VERSION }]);
    upgraded.close();
  });

  it('--list: one line per named query, then one per parameter', () => {
    const text = namedQueryListing();
    assert.match(text, /^slowest {9}\S/m);
    assert.match(text, /^ {18}--param limit=10 {2}\S/m);
    assert.ok(text.endsWith('\n'));
  });
});
