/**
 * The SQL modules for ad hoc analysis: every view, table and column is commented (checked by
 * parsing the files against the columns SQLite reports), schema migration 3 gives a fresh and an
 * upgraded database the same views, and every named query runs on the bundled samples with
 * results that agree with the report.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hasShell, SAMPLES, tempDir } from '../helpers.js';
import { migrationSql, openDb, queriesDir, SCHEMA_VERSION, type Db } from '../../src/db/db.js';
import { bindParams, listNamedQueries, loadNamedQuery, parseNamedQuery, sqlValueOf, tokenizeSql, type NamedQuery, type SqlToken } from '../../src/db/named.js';
import { InputError, UsageError } from '../../src/core/errors.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadProfile } from '../../src/profiles/index.js';
import { analyse } from '../../src/pipeline/analyse.js';
import type { ReportModel } from '../../src/report/model.js';
import { batchedReport } from '../report/batched.js';

const Q = queriesDir();

interface SqlFile {
  file: string;
  text: string;
}

function schemaFiles(): SqlFile[] {
  const top = readdirSync(Q).filter((f) => f.endsWith('.sql')).sort().map((f) => join(Q, f));
  const views = readdirSync(join(Q, 'views')).filter((f) => f.endsWith('.sql')).sort().map((f) => join(Q, 'views', f));
  return [...top, ...views].map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

// ---------------------------------------------------------------------------------------------
// The comment check: a small parser over the tokens of each CREATE VIEW / CREATE TABLE.

interface Defined {
  kind: 'view' | 'table';
  name: string;
  file: string;
  columns: string[];
}

const unquote = (t: SqlToken): string => (t.kind === 'quoted' ? t.text.slice(1, -1) : t.text);
const isWord = (t: SqlToken | undefined, w: string): boolean => !!t && t.kind === 'word' && t.text.toUpperCase() === w;
const isPunct = (t: SqlToken | undefined, p: string): boolean => !!t && t.kind === 'punct' && t.text === p;
const commentText = (t: SqlToken): string => t.text.replace(/^--/, '').replace(/^\/\*|\*\/$/g, '').trim();

/**
 * Parses every CREATE VIEW / CREATE TABLE of the files and returns what they define and every
 * missing comment: on the line of `CREATE`, and after each column (after its comma, on the line
 * where the column's definition ends). `ALTER TABLE t ADD [COLUMN] c …` adds a column to t; its
 * comment must be inside the statement on its last line (a block comment, which SQLite keeps
 * in sqlite_schema). `columnsOf` gives the columns SQLite reports, which the parsed ones must
 * equal (so the parser cannot silently skip one).
 */
function commentProblems(files: SqlFile[], columnsOf: (name: string) => string[]): { problems: string[]; defined: Defined[] } {
  const problems: string[] = [];
  const defined: Defined[] = [];
  for (const { file, text } of files) {
    const all = tokenizeSql(text);
    const where = (t: SqlToken): string => `${file}:${t.line}`;
    // Statements: split at ';' (no trigger bodies in these files).
    let from = 0;
    for (let i = 0; i <= all.length; i++) {
      if (i < all.length && !isPunct(all[i], ';')) continue;
      const stmt = all.slice(from, i);
      from = i + 1;
      const sig = stmt.map((t, k) => ({ t, k })).filter((x) => x.t.kind !== 'comment');
      if (isWord(sig[0]?.t, 'ALTER') && isWord(sig[1]?.t, 'TABLE') && isWord(sig[3]?.t, 'ADD')) {
        const table = defined.find((d) => d.kind === 'table' && d.name === unquote(sig[2]!.t));
        const column = unquote(sig[isWord(sig[4]?.t, 'COLUMN') ? 5 : 4]!.t);
        const last = sig[sig.length - 1]!.t;
        if (!table) problems.push(`${where(sig[0]!.t)}: ALTER TABLE of a table not created before`);
        else table.columns.push(column);
        if (!stmt.some((t) => t.kind === 'comment' && t.line === last.line && commentText(t) !== '')) problems.push(`${where(last)}: table ${unquote(sig[2]!.t)}: column ${column} has no comment inside its ALTER TABLE statement`);
        continue;
      }
      if (!isWord(sig[0]?.t, 'CREATE')) continue;
      let p = 1;
      if (isWord(sig[p]?.t, 'TEMP') || isWord(sig[p]?.t, 'TEMPORARY')) p++;
      const kind = isWord(sig[p]?.t, 'VIEW') ? 'view' : isWord(sig[p]?.t, 'TABLE') ? 'table' : null;
      if (!kind) continue;
      p++;
      if (isWord(sig[p]?.t, 'IF')) p += 3;
      const name = unquote(sig[p]!.t);
      p++;
      const create = sig[0]!.t;
      const label = `${kind} ${name}`;
      if (!stmt.some((t) => t.kind === 'comment' && t.line === create.line && commentText(t) !== '')) problems.push(`${where(create)}: ${label} has no comment on its CREATE line`);

      // The column items: [first, last] indexes in sig, each with the index of its trailing comma.
      const items: { first: number; last: number; comma: number | null }[] = [];
      const split = (start: number, stop: (q: number, depth: number) => boolean): void => {
        let depth = 0;
        let begin = start;
        for (let q = start; q <= sig.length; q++) {
          const t = sig[q]?.t;
          if (q === sig.length || (depth === 0 && stop(q, depth))) {
            if (q > begin) items.push({ first: begin, last: q - 1, comma: null });
            return;
          }
          if (isPunct(t, '(')) depth++;
          else if (isPunct(t, ')')) depth--;
          else if (depth === 0 && isPunct(t, ',')) {
            items.push({ first: begin, last: q - 1, comma: q });
            begin = q + 1;
          }
        }
      };
      const skipGroup = (q: number): number => {
        // q at '(' → index after its ')'.
        let depth = 0;
        for (; q < sig.length; q++) {
          if (isPunct(sig[q]!.t, '(')) depth++;
          else if (isPunct(sig[q]!.t, ')') && --depth === 0) return q + 1;
        }
        return q;
      };
      const names: string[] = [];
      if (kind === 'table') {
        if (!isPunct(sig[p]?.t, '(')) {
          problems.push(`${where(create)}: ${label}: cannot parse (no column list)`);
          continue;
        }
        const end = skipGroup(p) - 1; // the closing ')'
        split(p + 1, (q) => q === end);
        for (let k = items.length - 1; k >= 0; k--) {
          const first = sig[items[k]!.first]!.t;
          if (['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN'].some((w) => isWord(first, w))) items.splice(k, 1);
        }
        for (const it of items) names.push(unquote(sig[it.first]!.t));
      } else {
        if (!isWord(sig[p]?.t, 'AS')) {
          problems.push(`${where(create)}: ${label}: cannot parse (no AS)`);
          continue;
        }
        p++;
        if (isWord(sig[p]?.t, 'WITH')) {
          p++;
          if (isWord(sig[p]?.t, 'RECURSIVE')) p++;
          for (;;) {
            p++; // the CTE's name
            if (isPunct(sig[p]?.t, '(')) p = skipGroup(p);
            if (!isWord(sig[p]?.t, 'AS')) break;
            p++;
            if (isWord(sig[p]?.t, 'NOT')) p++;
            if (isWord(sig[p]?.t, 'MATERIALIZED')) p++;
            p = skipGroup(p);
            if (!isPunct(sig[p]?.t, ',')) break;
            p++;
          }
        }
        if (!isWord(sig[p]?.t, 'SELECT')) {
          problems.push(`${where(create)}: ${label}: cannot find its SELECT`);
          continue;
        }
        p++;
        if (isWord(sig[p]?.t, 'DISTINCT') || isWord(sig[p]?.t, 'ALL')) p++;
        const ends = ['FROM', 'WHERE', 'GROUP', 'HAVING', 'WINDOW', 'ORDER', 'LIMIT', 'UNION', 'INTERSECT', 'EXCEPT'];
        split(p, (q) => ends.some((w) => isWord(sig[q]!.t, w)));
        for (const it of items) {
          const ts = sig.slice(it.first, it.last + 1).map((x) => x.t);
          const last = ts[ts.length - 1]!;
          let col: string | null = null;
          if (ts.length >= 2 && isWord(ts[ts.length - 2], 'AS')) col = unquote(last);
          else if (ts.length === 1 && (last.kind === 'word' || last.kind === 'quoted')) col = unquote(last);
          else if (ts.length === 3 && isPunct(ts[1], '.') && (last.kind === 'word' || last.kind === 'quoted')) col = unquote(last);
          if (col === null || col === '*') problems.push(`${where(ts[0]!)}: ${label}: result column "${ts.map((t) => t.text).join(' ').slice(0, 60)}" needs an AS alias`);
          names.push(col ?? '?');
        }
      }
      // Each column: a comment right after it (after its comma), on the same line.
      items.forEach((it, c) => {
        const endTok = it.comma !== null ? sig[it.comma]! : sig[it.last]!;
        const next = stmt[endTok.k + 1];
        if (!next || next.kind !== 'comment' || next.line !== endTok.t.line || commentText(next) === '') {
          problems.push(`${where(endTok.t)}: ${label}: column ${names[c]} has no comment on the line that defines it`);
        }
      });
      defined.push({ kind, name, file, columns: names });
    }
  }
  for (const d of defined) {
    const actual = columnsOf(d.name);
    if (JSON.stringify(actual) !== JSON.stringify(d.columns)) problems.push(`${d.file}: ${d.kind} ${d.name}: parsed columns [${d.columns.join(', ')}] differ from SQLite's [${actual.join(', ')}]`);
  }
  return { problems, defined };
}

describe('SQL interface: every table, view and column is commented', () => {
  let db: Db;
  const columnsOf = (name: string): string[] => (db.pragma(`table_info("${name}")`) as { name: string }[]).map((c) => c.name);
  before(() => {
    db = openDb(':memory:', { create: true });
  });
  after(() => db.close());

  it('every CREATE VIEW / CREATE TABLE of queries/*.sql and queries/views/*.sql', () => {
    const { problems, defined: all } = commentProblems(schemaFiles(), columnsOf);
    assert.deepEqual(problems, []);
    // A later migration may redefine a view (007: events, request_stages): the last definition is the one.
    const defined = [...new Map(all.map((d) => [`${d.kind} ${d.name}`, d])).values()];
    // Everything the database holds was found in the files (the parser missed nothing).
    const inDb = db.prepare<{ type: string; name: string }>("SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    assert.deepEqual(
      defined.map((d) => `${d.kind} ${d.name}`).sort(),
      inDb.map((r) => `${r.type} ${r.name}`).sort(),
    );
    for (const v of ['xt_stage_times', 'xt_stage_summary', 'xt_slowest_requests', 'xt_data_quality', 'xt_request_events', 'events', 'request_stages']) assert.ok(defined.some((d) => d.name === v), v);
    // SELECT * agrees with PRAGMA table_info on the views.
    for (const d of defined.filter((x) => x.kind === 'view')) assert.deepEqual(db.prepare(`SELECT * FROM ${d.name} LIMIT 0`).columns(), d.columns);
  });

  it('the check fails when one comment is removed (column, multi-line column, CREATE line, 001 view, table)', () => {
    const files = schemaFiles();
    const cases: { file: string; line: RegExp; expect: RegExp }[] = [
      { file: 'xt_stage_summary.sql', line: /^\s+x\.p90_ns,/, expect: /view xt_stage_summary: column p90_ns has no comment/ },
      { file: 'xt_slowest_requests.sql', line: /AS timeline,/, expect: /view xt_slowest_requests: column timeline has no comment/ },
      { file: 'xt_data_quality.sql', line: /^CREATE VIEW/, expect: /view xt_data_quality has no comment on its CREATE line/ },
      { file: 'xt_stage_times.sql', line: /^\s+te\.id AS to_event_id/, expect: /view xt_stage_times: column to_event_id has no comment/ },
      { file: '001_schema.sql', line: /^\s+e\.cpu,/, expect: /view events: column cpu has no comment/ },
      { file: '002_correlation.sql', line: /^\s+ts_ns - prev_ts AS duration_ns/, expect: /view request_stages: column duration_ns has no comment/ },
      { file: '001_schema.sql', line: /^\s+lost_events\s+INTEGER/, expect: /table sources: column lost_events has no comment/ },
      { file: '004_counter_stage.sql', line: /^ALTER TABLE diagnostic_codes ADD COLUMN stage/, expect: /table diagnostic_codes: column stage has no comment inside its ALTER TABLE statement/ },
    ];
    for (const c of cases) {
      let hit = 0;
      const mutated = files.map((f) => {
        if (!f.file.endsWith(`/${c.file}`)) return f;
        const lines = f.text.split('\n');
        const i = lines.findIndex((l) => c.line.test(l));
        assert.ok(i >= 0, `${c.file}: no line ${c.line}`);
        hit++;
        lines[i] = lines[i]!.replace(/\s*--.*$/, '').replace(/\s*\/\*.*\*\//, '');
        return { file: f.file, text: lines.join('\n') };
      });
      assert.equal(hit, 1);
      const { problems } = commentProblems(mutated, columnsOf);
      assert.equal(problems.length, 1, `${c.file}: ${problems.join('; ')}`);
      assert.match(problems[0]!, c.expect);
    }
  });

  it('views of queries/views/ are public (xt_ prefix), one per file named after it, all listed in 003_views.sql', () => {
    const listed = readFileSync(join(Q, '003_views.sql'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('.read '))
      .map((l) => l.slice(6).trim());
    const files = readdirSync(join(Q, 'views')).filter((f) => f.endsWith('.sql'));
    assert.deepEqual([...listed].sort(), files.map((f) => `views/${f}`).sort());
    for (const f of files) {
      const { defined } = commentProblems([{ file: f, text: readFileSync(join(Q, 'views', f), 'utf8') }], () => []);
      assert.deepEqual(
        defined.map((d) => d.name),
        [f.replace(/\.sql$/, '')],
      );
      assert.match(f, /^xt_/);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('schema migration 3: the views', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());
  const schemaOf = (path: string): { type: string; name: string; sql: string }[] => {
    const db = openDb(path, { readonly: true });
    try {
      return db.prepare<{ type: string; name: string; sql: string }>("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();
    } finally {
      db.close();
    }
  };

  it('a fresh database is at version 8 with the xt_ views, the request fields, the clocks\' drift, the stage rows and the reports\' meta', () => {
    assert.equal(SCHEMA_VERSION, 8);
    const db = openDb(join(dir, 'fresh.db'), { create: true });
    assert.deepEqual(db.pragma('user_version'), [{ user_version: 8 }]);
    assert.deepEqual(db.prepare("SELECT value FROM xt_meta WHERE key = 'schema_version'").get(), { value: '8' });
    const cols = (t: string): string[] => db.prepare<{ name: string }>(`SELECT name FROM pragma_table_info('${t}')`).all().map((r) => r.name);
    for (const c of ['task_id', 'bios', 'block_requests', 'bytes', 'filtered']) assert.ok(cols('requests').includes(c), c);
    for (const c of ['comm', 'pid', 'tgid', 'dev', 'op', 'labels']) assert.ok(cols('request_tasks').includes(c), c);
    for (const c of ['drift_ppm', 'drift_method', 'drift_lower_ppm', 'drift_upper_ppm']) assert.ok(cols('domain_offsets').includes(c), c);
    assert.ok(cols('requests').includes('run_rank'));
    for (const c of ['meta', 'host', 'filters']) assert.ok(cols('correlations').includes(c), c);
    assert.deepEqual(cols('request_stage_data'), ['stage_id', 'status', 'rank', 'request_id', 'duration_ns']);
    for (const t of ['stages', 'stage_summary']) assert.ok(cols(t).length > 0, t);
    const views = db.prepare<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'view' AND name LIKE 'xt\\_%' ESCAPE '\\' ORDER BY name").all().map((r) => r.name);
    assert.deepEqual(views, ['xt_data_quality', 'xt_request_events', 'xt_slowest_requests', 'xt_stage_summary', 'xt_stage_times']);
    db.close();
  });

  it('version-1 to -7 databases opened for writing end up with the same schema as a fresh one; read-only they stay as they are', { skip: !hasShell && 'no sqlite3 shell' }, () => {
    const fresh = join(dir, 'fresh2.db');
    openDb(fresh, { create: true }).close();
    const s1 = readFileSync(join(Q, '001_schema.sql'), 'utf8');
    const s2 = readFileSync(join(Q, '002_correlation.sql'), 'utf8');
    for (const [v, sql] of [
      [1, s1],
      [2, s1 + s2],
      [3, s1 + s2 + migrationSql('003_views.sql')],
      [4, s1 + s2 + migrationSql('003_views.sql') + migrationSql('004_counter_stage.sql')],
      [5, s1 + s2 + migrationSql('003_views.sql') + migrationSql('004_counter_stage.sql') + migrationSql('005_request_fields.sql')],
      [6, s1 + s2 + migrationSql('003_views.sql') + migrationSql('004_counter_stage.sql') + migrationSql('005_request_fields.sql') + migrationSql('006_clock_drift.sql')],
      [7, s1 + s2 + migrationSql('003_views.sql') + migrationSql('004_counter_stage.sql') + migrationSql('005_request_fields.sql') + migrationSql('006_clock_drift.sql') + migrationSql('007_stage_rows.sql')],
    ] as const) {
      const path = join(dir, `v${v}.db`);
      assert.equal(spawnSync('sqlite3', [path], { input: `${sql}\nINSERT INTO xt_meta VALUES ('schema_version', '${v}');\nPRAGMA user_version = ${v};\n` }).status, 0);
      const ro = openDb(path, { readonly: true });
      assert.deepEqual(ro.pragma('user_version'), [{ user_version: v }]);
      assert.deepEqual(ro.prepare('SELECT count(*) AS n FROM events').get(), { n: 0 });
      assert.deepEqual(ro.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'view' AND name LIKE 'xt\\_%' ESCAPE '\\'").get(), { n: v < 3 ? 0 : 5 });
      ro.close();
      openDb(path).close();
      assert.deepEqual(schemaOf(path), schemaOf(fresh), `version ${v}`);
      const db = openDb(path, { readonly: true });
      assert.deepEqual(db.pragma('user_version'), [{ user_version: 8 }]);
      db.close();
    }
  });

  it('the migrations from 003 on run by the sqlite3 shell from queries/ give the same views and indexes, and the shell reads every view', { skip: !hasShell && 'no sqlite3 shell' }, () => {
    const fresh = join(dir, 'fresh3.db');
    openDb(fresh, { create: true }).close();
    const path = join(dir, 'shell.db');
    const s12 = readFileSync(join(Q, '001_schema.sql'), 'utf8') + readFileSync(join(Q, '002_correlation.sql'), 'utf8');
    assert.equal(spawnSync('sqlite3', [path], { input: `${s12}\nPRAGMA user_version = 2;\n` }).status, 0);
    for (const m of readdirSync(Q).filter((f) => /^\d{3}_.*\.sql$/.test(f) && f >= '003').sort()) {
      const r = spawnSync('sqlite3', ['-bail', path], { cwd: Q, input: readFileSync(join(Q, m)), encoding: 'utf8' });
      assert.equal(r.status, 0, `${m}: ${r.stderr}`);
    }
    const views = (p: string): unknown => schemaOf(p).filter((x) => x.type === 'view' || x.type === 'index');
    assert.deepEqual(views(path), views(fresh));
    for (const v of schemaOf(fresh).filter((x) => x.type === 'view')) {
      const q = spawnSync('sqlite3', ['-bail', fresh, `SELECT * FROM ${v.name} LIMIT 1`], { encoding: 'utf8' });
      assert.equal(q.status, 0, `${v.name}: ${q.stderr}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('named queries: header, parameters', () => {
  const good = [
    '-- name: demo',
    '-- description: A demo query.',
    '-- param: profile = linux-block   -- profile name',
    '-- param: run =                    -- run label (empty: every run)',
    '-- param: limit = 10               -- how many',
    '-- Note: a free comment line of the header may not start with `word:`',
    'SELECT :profile AS p, :run AS r -- a comment with :notaparam and a ; in it',
    "FROM (SELECT 'x;:y' AS s) LIMIT :limit;",
    '',
  ];
  const parse = (lines: string[]): NamedQuery => parseNamedQuery(lines.join('\n'), '/q/named/demo.sql');
  const fails = (lines: string[], re: RegExp): void => {
    assert.throws(
      () => parse(lines),
      (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(e.message, re);
        return true;
      },
    );
  };

  it('parses a header: name, description, params with defaults (possibly empty) and docs; the SQL without the header and the semicolon', () => {
    const ok = good.filter((l) => !l.startsWith('-- Note'));
    const q = parse(ok);
    assert.equal(q.name, 'demo');
    assert.equal(q.description, 'A demo query.');
    assert.deepEqual(q.params, [
      { name: 'profile', default: 'linux-block', doc: 'profile name' },
      { name: 'run', default: '', doc: 'run label (empty: every run)' },
      { name: 'limit', default: '10', doc: 'how many' },
    ]);
    assert.equal(q.sql, "SELECT :profile AS p, :run AS r -- a comment with :notaparam and a ; in it\nFROM (SELECT 'x;:y' AS s) LIMIT :limit");
    assert.equal(q.file, '/q/named/demo.sql');
  });

  it('errors name the file and the line', () => {
    // A free comment line that starts like a header field is refused (a typo must not pass silently).
    fails(good, /^\/q\/named\/demo\.sql:6: unknown header field "Note"/);
    const ok = good.filter((l) => !l.startsWith('-- Note'));
    const edit = (i: number, line: string | null): string[] => {
      const c = [...ok];
      if (line === null) c.splice(i, 1);
      else c[i] = line;
      return c;
    };
    fails(edit(0, null), /demo\.sql:1: the file must start with a `-- name: NAME` header line/);
    fails(edit(0, '-- name: other'), /demo\.sql:1: query name "other" differs from the file name "demo\.sql"/);
    fails(edit(0, '-- name: Demo_1'), /demo\.sql:1: query name "Demo_1"/);
    fails(edit(1, null), /demo\.sql:\d+: no `-- description: …` header line/);
    fails(edit(1, '-- description:'), /demo\.sql:2: empty description/);
    fails(edit(2, '-- parm: profile = x -- doc'), /demo\.sql:3: unknown header field "parm" \(known: name, description, param\)/);
    fails(edit(2, '-- param: profile = linux-block'), /demo\.sql:3: a param line is `-- param: NAME = DEFAULT -- DOC`/);
    fails(edit(2, '-- param: profile linux-block -- doc'), /demo\.sql:3: a param line/);
    fails(edit(2, '-- param: 1profile = x -- doc'), /demo\.sql:3: param name "1profile"/);
    fails(edit(3, '-- param: profile = x -- again'), /demo\.sql:4: param "profile" declared twice/);
    fails(edit(4, null), /demo\.sql:\d+: parameter :limit is not declared/);
    fails(edit(4, '-- param: limit = 10 -- how many\n-- param: unused = 1 -- never used'), /demo\.sql:6: param "unused" is declared but the query does not use :unused/);
    fails([...ok.slice(0, 5), 'DELETE FROM requests'], /demo\.sql:6: a named query is one SELECT \(or WITH … SELECT\), not "DELETE"/);
    fails([...ok.slice(0, 5), 'SELECT :profile, :run, :limit;', 'SELECT 1;'], /demo\.sql:7: more than one statement/);
    fails([...ok.slice(0, 5), 'SELECT :profile, :run, :limit, ?'], /demo\.sql:6: parameter "\?": use named parameters/);
    fails([...ok.slice(0, 5), 'SELECT :profile, :run, @limit'], /demo\.sql:6: parameter "@limit"/);
    fails([...ok.slice(0, 5), 'SELECT :profile, :run, :limit,', "'unterminated"], /demo\.sql:7: unterminated string/);
    fails(ok.slice(0, 5), /demo\.sql:6: no SQL statement after the header/);
  });

  it('bindParams fills defaults, binds numbers as numbers and refuses unknown names', () => {
    const q = parse(good.filter((l) => !l.startsWith('-- Note')));
    assert.deepEqual(bindParams(q, {}), { profile: 'linux-block', run: '', limit: 10n });
    assert.deepEqual(bindParams(q, { run: '3', limit: '5' }), { profile: 'linux-block', run: 3n, limit: 5n });
    assert.throws(
      () => bindParams(q, { runs: '3' }),
      (e: unknown) => e instanceof UsageError && /query demo: unknown parameter "runs" \(known: profile, run, limit\)/.test(e.message),
    );
    assert.deepEqual(
      ['10', '-2', '0', '0.5', '-1.25', '03', '-0', '1e3', '0.50', '', 'abc', '99999999999999999999', '9223372036854775807'].map(sqlValueOf),
      [10n, -2n, 0n, 0.5, -1.25, '03', '-0', '1e3', '0.50', '', 'abc', '99999999999999999999', 9223372036854775807n],
    );
  });

  it('every file of queries/named/ parses; the required ones exist; an unknown name lists the known ones', () => {
    const all = listNamedQueries();
    const names = all.map((q) => q.name);
    for (const n of ['stage-times', 'stage-summary', 'slowest', 'around-request', 'data-quality', 'slow-in-stage']) assert.ok(names.includes(n), n);
    for (const q of all) {
      assert.ok(q.description.length > 10, q.name);
      for (const p of q.params) assert.ok(p.doc.length > 3, `${q.name}.${p.name}`);
      assert.deepEqual(loadNamedQuery(q.name), q);
    }
    assert.throws(
      () => loadNamedQuery('slowst'),
      (e: unknown) => e instanceof UsageError && e.message.includes('unknown named query "slowst" (known: ') && e.message.includes('slowest'),
    );
  });

  it('Statement.reader / readonly / columns', () => {
    const db = openDb(':memory:', { create: true });
    const s = db.prepare('SELECT 1 AS a, 2 AS b');
    assert.deepEqual([s.reader, s.readonly, s.columns()], [true, true, ['a', 'b']]);
    const w = db.prepare('DELETE FROM requests');
    assert.deepEqual([w.reader, w.readonly], [false, false]);
    assert.throws(() => w.columns());
    const r = db.prepare("INSERT INTO xt_meta(key, value) VALUES ('k', 'v') RETURNING key");
    assert.deepEqual([r.reader, r.readonly, r.columns()], [true, false, ['key']]);
    db.close();
  });
});

// ---------------------------------------------------------------------------------------------

type Row = Record<string, unknown>;
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);
const nearestRank = (values: number[], p: number): number => {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.max(1, Math.ceil((p * v.length) / 100)) - 1]!;
};

function run(db: Db, name: string, given: Record<string, string> = {}): Row[] {
  const q = loadNamedQuery(name);
  const s = db.prepare<Row>(q.sql);
  assert.ok(s.reader && s.readonly, `${name} is a read-only SELECT`);
  const rows = s.all(bindParams(q, given));
  if (rows.length) assert.deepEqual(Object.keys(rows[0]!), s.columns());
  return rows;
}

const SAMPLE_SETS = [
  {
    label: 'linux-block-default (real capture)',
    profile: 'linux-block',
    files: [{ path: join(SAMPLES, 'linux-block-default', 'trace.txt.gz'), domain: 'default' }],
    stage: 'rq_issue->irq',
    endEvent: 'irq_handler_entry',
    point: 'irq',
  },
  {
    label: 'sim-blkback (simulated Xen, two clocks)',
    profile: 'xen-blkback',
    files: [
      { path: join(SAMPLES, 'sim-blkback', 'guest.trace.gz'), domain: 'domU' },
      { path: join(SAMPLES, 'sim-blkback', 'dom0.trace.gz'), domain: 'dom0' },
    ],
    stage: 'be_get_req->be_map',
    endEvent: 'xen_blkbk_map',
    point: 'be_map',
  },
];

for (const S of SAMPLE_SETS) {
  describe(`named queries and views on ${S.label}`, () => {
    let db: Db;
    let cleanup: () => void;
    let m: ReportModel;
    before(async () => {
      const t = tempDir();
      db = openDb(join(t.dir, 'q.db'), { create: true });
      for (const f of S.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      m = analyse(db, { profile: loadProfile(S.profile), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' }).model;
      cleanup = () => {
        db.close();
        t.cleanup();
      };
    });
    after(() => cleanup());

    it('every named query runs with its defaults and returns rows', () => {
      for (const q of listNamedQueries()) assert.ok(run(db, q.name).length > 0, q.name);
    });

    it('xt_stage_summary: the kept means are the report’s per-run means, counts are runs[].kept / complete, percentiles are nearest-rank', () => {
      const rows = run(db, 'stage-summary', { profile: S.profile, population: '' });
      const stages = [...m.stages.map((s) => s.name), 'total'];
      assert.equal(rows.length, m.runs.length * stages.length * 2);
      // In run order, then population, then path order.
      assert.deepEqual(
        [...new Set(rows.map((r) => r.run))],
        m.runs.map((r) => r.run),
      );
      const times = db.prepare<{ run: string; stage: string; kept: number; duration_ns: number }>('SELECT run, stage, kept, duration_ns FROM xt_stage_times WHERE profile = ? AND status = ?').all(S.profile, 'complete');
      const totals = db.prepare<{ run: string; kept: number; total_ns: number }>("SELECT run, kept, total_ns FROM requests WHERE status = 'complete'").all();
      for (const r of rows) {
        const mr = m.runs.find((x) => x.run === r.run)!;
        const pop = r.population as string;
        const n = r.count as number;
        assert.equal(n, pop === 'kept' ? mr.kept : mr.complete, `${r.run} ${r.stage} ${pop}`);
        if (pop === 'kept') close(r.mean_ns as number, r.stage === 'total' ? mr.total_ns : mr.stages_ns[r.stage as string]!, `run ${r.run} ${r.stage} mean`);
        const [min, med, p90, p99, max] = [r.min_ns, r.median_ns, r.p90_ns, r.p99_ns, r.max_ns] as number[];
        assert.ok(min! <= med! && med! <= p90! && p90! <= p99! && p99! <= max!, `${r.run} ${r.stage} ${pop}: ${[min, med, p90, p99, max]}`);
        assert.ok(min! <= (r.mean_ns as number) && (r.mean_ns as number) <= max!);
        const vals =
          r.stage === 'total'
            ? totals.filter((t) => t.run === r.run && (pop === 'complete' || t.kept === 1)).map((t) => t.total_ns)
            : times.filter((t) => t.run === r.run && t.stage === r.stage && (pop === 'complete' || t.kept === 1)).map((t) => t.duration_ns);
        assert.equal(vals.length, n);
        assert.deepEqual([min, med, p90, p99, max], [Math.min(...vals), nearestRank(vals, 50), nearestRank(vals, 90), nearestRank(vals, 99), Math.max(...vals)]);
      }
      assert.deepEqual(
        rows.filter((r) => r.run === m.runs[0]!.run && r.population === 'kept').map((r) => r.stage),
        stages,
      );
      // One run, one stage: the filters.
      const one = run(db, 'stage-summary', { profile: S.profile, run: m.runs[2]!.run, stage: S.stage });
      assert.equal(one.length, 1);
      close(one[0]!.mean_ns as number, m.runs[2]!.stages_ns[S.stage]!, 'filtered');
    });

    it('xt_stage_times: the stages of the report with the clock domains of their points; the kept durations average to the report', () => {
      const rows = run(db, 'stage-times', { profile: S.profile, limit: '-1' });
      const complete = m.runs.reduce((a, r) => a + r.complete, 0);
      assert.equal(rows.length, complete * m.stages.length);
      for (const s of m.stages) {
        const of = rows.filter((r) => r.stage === s.name);
        assert.equal(of.length, complete, s.name);
        // The domains of the report (of the first complete request) are those of every request here.
        assert.deepEqual([...new Set(of.map((r) => `${r.from_domain}>${r.to_domain}`))], [`${s.from_domain}>${s.to_domain}`], s.name);
      }
      const r3 = m.runs[3]!;
      const kept = run(db, 'stage-times', { profile: S.profile, run: r3.run, stage: S.stage, kept: '1' });
      assert.equal(kept.length, r3.kept);
      close(kept.reduce((a, r) => a + (r.duration_ns as number), 0) / kept.length, r3.stages_ns[S.stage]!, 'kept mean');
      assert.equal(run(db, 'stage-times', { limit: '7' }).length, 7);
    });

    it('slowest: ranked by total within the run, timeline in path order adding up to the total', () => {
      const r3 = m.runs[3]!;
      const rows = run(db, 'slowest', { profile: S.profile, run: r3.run, limit: '5' });
      assert.deepEqual(
        rows.map((r) => r.rank),
        [1, 2, 3, 4, 5],
      );
      const totals = db.prepare<{ t: number }>("SELECT total_ns AS t FROM requests WHERE run = ? AND status = 'complete' ORDER BY total_ns DESC LIMIT 5").all(r3.run);
      assert.deepEqual(
        rows.map((r) => r.total_ns),
        totals.map((t) => t.t),
      );
      for (const r of rows) {
        const stages = JSON.parse(r.stages as string) as Record<string, number>;
        assert.deepEqual(Object.keys(stages), m.stages.map((s) => s.name));
        assert.equal(
          Object.values(stages).reduce((a, b) => a + b, 0),
          r.total_ns,
        );
        const text = r.timeline_text as string;
        assert.ok(text.startsWith(`${m.points[0]} +0 → ${m.points[1]} +`), text);
        assert.ok(text.endsWith(`→ ${m.points[m.points.length - 1]} +${r.total_ns}`), text);
      }
      const v = db.prepare<{ timeline: string; total_ns: number }>('SELECT timeline, total_ns FROM xt_slowest_requests WHERE request_id = ?').get(rows[0]!.request_id as number)!;
      const tl = JSON.parse(v.timeline) as Record<string, number>;
      assert.deepEqual(Object.keys(tl), m.points);
      const t = Object.values(tl);
      assert.ok(t.every((x, i) => i === 0 || x >= t[i - 1]!));
      assert.equal(t[t.length - 1], v.total_ns);
      // Across runs: the slowest first, whatever the run.
      const all = run(db, 'slowest', { profile: S.profile });
      assert.equal(all.length, 10);
      assert.equal(all[0]!.rank, 1);
      assert.ok(all.every((r, i) => i === 0 || (r.total_ns as number) <= (all[i - 1]!.total_ns as number)));
    });

    it('slow-in-stage, then around-request: the slow requests of a stage and what ran on that CPU just before', () => {
      const slow = run(db, 'slow-in-stage', { profile: S.profile, stage: S.stage, percentile: '90', limit: '-1' });
      const durations = db.prepare<{ d: number }>("SELECT duration_ns AS d FROM xt_stage_times WHERE profile = ? AND stage = ? AND status = 'complete'").all(S.profile, S.stage).map((r) => r.d);
      const threshold = nearestRank(durations, 90);
      assert.ok(slow.length > 0);
      assert.equal(slow.length, durations.filter((d) => d > threshold).length);
      for (const r of slow) {
        assert.equal(r.threshold_ns, threshold);
        assert.ok((r.duration_ns as number) > threshold);
        assert.equal(r.end_event, S.endEvent);
        assert.equal(typeof r.cpu, 'number');
        assert.equal(typeof r.comm, 'string');
      }
      assert.ok(slow.every((r, i) => i === 0 || (r.duration_ns as number) <= (slow[i - 1]!.duration_ns as number)));
      // The 100th percentile leaves nothing above it; the 0th everything above the minimum.
      assert.equal(run(db, 'slow-in-stage', { profile: S.profile, stage: S.stage, percentile: '100' }).length, 0);
      assert.equal(run(db, 'slow-in-stage', { profile: S.profile, stage: S.stage, percentile: '0', limit: '-1' }).length, durations.filter((d) => d > Math.min(...durations)).length);

      const top = slow[0]!;
      const around = run(db, 'around-request', { request_id: String(top.request_id), point: S.point, before: '3', after: '2' });
      const at = around.filter((r) => r.side === 'point');
      assert.equal(at.length, 1);
      assert.equal(at[0]!.event_id, top.end_event_id);
      assert.equal(at[0]!.request_point, S.point);
      assert.equal(at[0]!.delta_ns, 0);
      const before = around.filter((r) => r.side === 'before');
      const afterRows = around.filter((r) => r.side === 'after');
      assert.equal(before.length, 3);
      assert.equal(afterRows.length, 2);
      assert.ok(around.every((r) => r.cpu === top.cpu && r.request_id === top.request_id && r.point === S.point));
      assert.ok(around.every((r, i) => i === 0 || (r.event_id as number) > (around[i - 1]!.event_id as number)));
      assert.ok(before.every((r) => (r.delta_ns as number) <= 0) && afterRows.every((r) => (r.delta_ns as number) >= 0));
      // The events in between on that CPU are exactly the ones skipped: none.
      const between = db.prepare<{ n: number }>('SELECT count(*) AS n FROM events WHERE id > ? AND id < ? AND cpu = ? AND source_id = (SELECT source_id FROM events WHERE id = ?)').get(before[0]!.event_id as number, afterRows[1]!.event_id as number, top.cpu as number, top.end_event_id as number)!;
      assert.equal(between.n, 3 + 1 + 2 - 2);
      // Default point: the request's first point.
      const first = run(db, 'around-request', { request_id: String(top.request_id), before: '0', after: '0' });
      assert.deepEqual(
        first.map((r) => [r.side, r.point, r.request_point]),
        [['point', m.points[0], m.points[0]]],
      );
      // Default request: the slowest complete request.
      const dflt = run(db, 'around-request', { profile: S.profile });
      assert.equal(dflt[0]!.request_id, run(db, 'slowest', { profile: S.profile, limit: '1' })[0]!.request_id);
      assert.equal(run(db, 'around-request', { request_id: '999999999' }).length, 0);
    });

    it('data-quality: the ingest diagnostics and the matcher’s counters in one shape', () => {
      const rows = run(db, 'data-quality');
      const ingest = rows.filter((r) => r.kind === 'ingest');
      const corr = rows.filter((r) => r.kind === 'correlation');
      const diags = db.prepare<{ n: number }>('SELECT count(*) AS n FROM diagnostics').get()!.n;
      assert.equal(ingest.length, diags);
      assert.ok(ingest.every((r) => typeof r.path === 'string' && typeof r.domain === 'string' && r.profile === null && typeof r.description === 'string'));
      assert.deepEqual(
        corr.map((r) => `${r.code}/${r.point}/${r.count}/${r.first_event_id}`).sort(),
        m.diagnostics.map((d) => `${d.code}/${d.point}/${d.count}/${d.first_event_id}`).sort(),
      );
      assert.ok(corr.every((r) => r.profile === S.profile && (r.first_event_id === null || typeof r.first_line === 'number')));
      assert.deepEqual(
        run(db, 'data-quality', { kind: 'correlation', profile: S.profile }).length,
        m.diagnostics.length,
      );
      assert.ok(run(db, 'data-quality', { severity: 'info' }).every((r) => r.severity === 'info'));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Batched requests: a complete request whose points are absent by design (null in
// requests.points, xen-probes.md decision 10) has the merged stage in the views. The oracle is
// computed here from each stored request's points JSON alone; the report is the other check.

interface Seg {
  request_id: number;
  run: string | null;
  status: string;
  kept: number;
  stage: string;
  pos: number;
  from_pos: number;
  duration_ns: number | null;
  from_event_id: number | null;
}

/** Every stage of every stored request from its JSON: a complete request's consecutive points present; any other request's consecutive path points. */
function stagesFromJson(db: Db): Seg[] {
  const path = JSON.parse(db.prepare<{ path: string }>('SELECT path FROM correlations').get()!.path) as string[];
  const out: Seg[] = [];
  for (const r of db.prepare<{ id: number; run: string | null; status: string; kept: number; points: string; events: string }>('SELECT id, run, status, kept, points, events FROM requests ORDER BY id').all()) {
    const pts = JSON.parse(r.points) as (number | null)[];
    const evs = JSON.parse(r.events) as (number | null)[];
    const seg = (a: number, b: number): void => {
      out.push({
        request_id: r.id,
        run: r.run,
        status: r.status,
        kept: r.kept,
        stage: `${path[a]}->${path[b]}`,
        pos: b,
        from_pos: a,
        duration_ns: pts[a] === null || pts[b] === null ? null : pts[b]! - pts[a]!,
        from_event_id: evs[a]!,
      });
    };
    if (r.status === 'complete') {
      let a = 0;
      for (let b = 1; b < pts.length; b++) if (pts[b] !== null) seg(a, (a = b));
    } else for (let b = 1; b < pts.length; b++) seg(b - 1, b);
  }
  return out;
}

describe('stage views with batched requests: the merged stage, as in the report', () => {
  let db: Db;
  let cleanup: () => void;
  let m: ReportModel;
  let segs: Seg[];
  before(async () => {
    const t = tempDir();
    db = openDb(join(t.dir, 'batched.db'), { create: true });
    m = (await batchedReport(db, { warmup: 0, trim: 0.1, trimBy: 'total' }, true)).model;
    segs = stagesFromJson(db);
    cleanup = () => {
      db.close();
      t.cleanup();
    };
  });
  after(() => cleanup());

  it('the stored points hold null where a complete request lacks a point by design', () => {
    const nulls = db.prepare<{ n: number }>("SELECT count(*) AS n FROM requests r, json_each(r.points) p WHERE r.status = 'complete' AND p.type = 'null'").get()!.n;
    // 300 requests: 100 (≡ 1 mod 3) without fe_notify and be_irq, 60 (≡ 2 mod 5) without fe_irq.
    assert.equal(nulls, 2 * 100 + 60);
    assert.ok(segs.some((s) => s.stage === 'fe_queue->be_get_req') && segs.some((s) => s.stage === 'be_rsp->fe_rsp'));
  });

  it('xt_stage_times: exactly the stages of the JSON, merged ones included (pos, from_pos, duration, start event)', () => {
    const rows = db
      .prepare<Seg>('SELECT request_id, run, status, kept, stage, pos, from_pos, duration_ns, from_event_id FROM xt_stage_times ORDER BY request_id, pos')
      .all()
      .map((r) => ({ ...r }));
    assert.deepEqual(rows, segs);
    // The names of the report's rows, and no other.
    assert.deepEqual([...new Set(rows.map((r) => r.stage))].sort(), m.stages.map((s) => s.name).sort());
    // Every complete request's stages add up to its total.
    const totals = new Map(db.prepare<{ id: number; total_ns: number }>("SELECT id, total_ns FROM requests WHERE status = 'complete'").all().map((r) => [r.id, r.total_ns]));
    const sums = new Map<number, number>();
    for (const r of rows) sums.set(r.request_id, (sums.get(r.request_id) ?? 0) + r.duration_ns!);
    assert.deepEqual(sums, totals);
  });

  it('xt_stage_summary: per run, stage and population over the requests that have the stage; mean_contribution_ns (kept) is the report’s row value; stage-summary in report order', () => {
    const rows = db.prepare<Row>('SELECT * FROM xt_stage_summary').all();
    const requests = db.prepare<{ run: string; kept: number; total_ns: number }>("SELECT run, kept, total_ns FROM requests WHERE status = 'complete'").all();
    const population = (run: string, pop: string) => (x: { run: string | null; kept: number }): boolean => x.run === run && (pop === 'complete' || x.kept === 1);
    let checked = 0;
    for (const r of rows) {
      const run = r.run as string;
      const pop = r.population as string;
      const inPop = population(run, pop);
      const vals = r.stage === 'total' ? requests.filter(inPop).map((x) => x.total_ns) : segs.filter((s) => s.stage === r.stage && inPop(s)).map((s) => s.duration_ns!);
      const n = requests.filter(inPop).length;
      const sum = vals.reduce((a, v) => a + v, 0);
      assert.equal(r.count, vals.length, `${run} ${r.stage} ${pop}`);
      close(r.mean_ns as number, sum / vals.length, 'mean');
      assert.deepEqual([r.min_ns, r.median_ns, r.p90_ns, r.p99_ns, r.max_ns], [Math.min(...vals), nearestRank(vals, 50), nearestRank(vals, 90), nearestRank(vals, 99), Math.max(...vals)]);
      close(r.mean_contribution_ns as number, sum / n, 'contribution');
      if (pop === 'kept') {
        const mr = m.runs.find((x) => x.run === run)!;
        close(r.mean_contribution_ns as number, r.stage === 'total' ? mr.total_ns : mr.stages_ns[r.stage as string]!, `run ${run} ${r.stage}`);
      }
      checked++;
    }
    assert.ok(checked > m.runs.length * (m.stages.length - 2) * 2);
    // A stage's kept counts over the runs: the report's `requests`.
    for (const s of m.stages)
      assert.equal(
        rows.filter((r) => r.stage === s.name && r.population === 'kept').reduce((a, r) => a + (r.count as number), 0),
        s.requests,
        s.name,
      );
    // The named query lists a run's stages in the report's order (those the run has), then the total.
    for (const mr of m.runs) {
      const listed = run(db, 'stage-summary', { profile: 'xen-blkback', run: mr.run }).map((r) => r.stage);
      assert.deepEqual(listed, [...m.stages.map((s) => s.name).filter((n) => listed.includes(n)), 'total']);
    }
  });

  it('slowest: the stages of a batched request are its merged stage and the others, adding up to its total; the timeline shows the absent points as null', () => {
    const path = m.points;
    const rows = db.prepare<{ request_id: number; total_ns: number; timeline: string; timeline_text: string; stages: string }>('SELECT request_id, total_ns, timeline, timeline_text, stages FROM xt_slowest_requests').all();
    let batched = 0;
    for (const r of rows) {
      const stages = JSON.parse(r.stages) as Record<string, number>;
      const mine = segs.filter((s) => s.request_id === r.request_id);
      assert.deepEqual(Object.entries(stages), mine.map((s) => [s.stage, s.duration_ns]));
      assert.equal(
        Object.values(stages).reduce((a, v) => a + v, 0),
        r.total_ns,
      );
      const timeline = JSON.parse(r.timeline) as Record<string, number | null>;
      assert.deepEqual(Object.keys(timeline), path);
      const absent = path.filter((p) => timeline[p] === null);
      if (absent.length) batched++;
      assert.equal(r.timeline_text.split(' → ').length, path.length - absent.length);
    }
    assert.ok(batched > 100);
  });

  it('slow-in-stage on a merged stage: the percentile over the requests that have it', () => {
    const stage = 'fe_queue->be_get_req';
    const durations = segs.filter((s) => s.stage === stage && s.status === 'complete').map((s) => s.duration_ns!);
    const slow = run(db, 'slow-in-stage', { profile: 'xen-blkback', stage, percentile: '90', limit: '-1' });
    const threshold = nearestRank(durations, 90);
    assert.equal(slow.length, durations.filter((d) => d > threshold).length);
    assert.ok(slow.length > 0 && slow.every((r) => r.threshold_ns === threshold && r.requests_in_stage === durations.length && (r.duration_ns as number) > threshold));
  });
});

describe('stage views with nothing batched: the split stages, as before', () => {
  it('xt_stage_times gives request_stages’ stages (from_pos = pos − 1); xt_stage_summary’s mean_contribution_ns is its mean_ns', async () => {
    const t = tempDir();
    const db = openDb(join(t.dir, 'plain.db'), { create: true });
    try {
      for (const f of ['guest.trace.gz', 'dom0.trace.gz']) await ingestFile(db, { path: join(SAMPLES, 'sim-blkback', f) }, { domain: f.startsWith('guest') ? 'domU' : 'dom0' });
      analyse(db, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', version: 'test' });
      const views = db.prepare('SELECT request_id, pos, stage, duration_ns, from_pos FROM xt_stage_times ORDER BY request_id, pos').all();
      const old = db.prepare('SELECT request_id, pos, stage, duration_ns, pos - 1 AS from_pos FROM request_stages ORDER BY request_id, pos').all();
      assert.ok(views.length > 1000);
      assert.deepEqual(views, old);
      for (const r of db.prepare<{ mean_ns: number; mean_contribution_ns: number }>('SELECT mean_ns, mean_contribution_ns FROM xt_stage_summary').all()) close(r.mean_contribution_ns, r.mean_ns, 'contribution');
    } finally {
      db.close();
      t.cleanup();
    }
  });
});
