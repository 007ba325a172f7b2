/**
 * `xtrace ingest` as a user runs it: bad inputs (one test each), re-ingest, interruption
 * (Ctrl-C, SIGTERM, kill -9 once the file's pages are in the database file, and the same kill
 * without a journal file to show that test can fail), a full database, standard input, JSON
 * summary, exit codes, and the checks of the test hooks (src/cli/test-hooks.ts).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { openDb, SCHEMA_VERSION } from '../../src/db/db.js';
import { UsageError } from '../../src/core/errors.js';
import { ingestTestHooks } from '../../src/cli/test-hooks.js';

const REAL = join(SAMPLES, 'linux-block-default', 'trace.txt.gz');
const SMALL = join(SAMPLES, 'public', 'trappy__tests_trace_no_trailing_line.txt');

/**
 * Every table of the database (enumerated from sqlite_schema, so a table added later is included,
 * as are SQLite's own sqlite_sequence and the schema itself) as "N rows, sha256 of the rows", for
 * before/after comparisons that name the table that changed.
 */
function snapshot(dbPath: string): Record<string, string> {
  const db = openDb(dbPath, { readonly: true });
  try {
    const digest = (rows: unknown[]): string => {
      const lines = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).sort();
      return `${rows.length} rows, sha256 ${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
    };
    const schema = db.prepare<{ type: string; name: string; sql: string | null }>('SELECT type, name, sql FROM sqlite_schema ORDER BY type, name').all();
    const out: Record<string, string> = { '(schema)': digest(schema), '(user_version)': JSON.stringify(db.pragma('user_version')) };
    for (const t of schema.filter((x) => x.type === 'table')) {
      const rowid = /WITHOUT\s+ROWID/i.test(t.sql ?? '') ? '' : 'rowid AS "(rowid)", ';
      out[t.name] = digest(db.prepare(`SELECT ${rowid}* FROM "${t.name.replace(/"/g, '""')}"`, { raw: true, bigints: true }).all());
    }
    return out;
  } finally {
    db.close();
  }
}

/** Environment of a CLI run with the test hooks of src/cli/test-hooks.ts. */
const hooks = (vars: Record<string, string>): Record<string, string> => ({ XTRACE_TEST_HOOKS: '1', ...vars });

describe('xtrace ingest: bad input', () => {
  let dir: string;
  let cleanup: () => void;
  let dbPath: string;
  let before0: Record<string, string>;
  before(() => {
    ({ dir, cleanup } = tempDir());
    dbPath = join(dir, 'x.db');
    const r = xtrace(['ingest', '--db', dbPath, '--quiet', SMALL]);
    assert.equal(r.status, 0, r.stderr);
    before0 = snapshot(dbPath);
  });
  after(() => cleanup());

  const cases: { name: string; make: (dir: string) => string; message: RegExp }[] = [
    { name: 'binary garbage', make: (d) => write(d, 'garbage.bin', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))), message: /garbage\.bin: binary data, not a trace/ },
    { name: 'empty file', make: (d) => write(d, 'empty.txt', ''), message: /empty\.txt: empty file, not a trace/ },
    { name: 'directory', make: (d) => (mkdirSync(join(d, 'adir'), { recursive: true }), join(d, 'adir')), message: /adir: is a directory/ },
    { name: 'missing file', make: (d) => join(d, 'nope.txt'), message: /nope\.txt: no such file/ },
    { name: 'JSON file', make: (d) => write(d, 'report.json', JSON.stringify({ version: 1, stages: [] })), message: /report\.json: JSON, not a trace/ },
    {
      name: '10 MB line',
      make: (d) => write(d, 'long.txt', '# tracer: nop\n' + '          <idle>-0     [000] d..2  1136.097253: cpu_idle: state=0 cpu_id=0\n' + 'x'.repeat(10 * 1024 * 1024) + '\n'),
      message: /long\.txt:3: line 3 is longer than 1 MiB/,
    },
    {
      name: 'invalid UTF-8',
      make: (d) =>
        write(d, 'bad-utf8.txt', Buffer.concat([Buffer.from('# tracer: nop\n          <idle>-0     [000] d..2  1136.097253: cpu_idle: state=0 cpu_id=0\n      bash-1 [000] d..2  1136.1: x: \xff'), Buffer.from([0xff, 0xfe, 0x0a])])),
      message: /bad-utf8\.txt:3: line 3 is not valid UTF-8/,
    },
    { name: 'text that is not a trace', make: (d) => write(d, 'notes.txt', 'hello\nworld\n'), message: /notes\.txt: not a trace: no ftrace event line/ },
    { name: 'truncated gzip', make: (d) => write(d, 'bad.gz', readFileSync(REAL).subarray(0, 40000)), message: /bad\.gz: corrupt gzip data \(unexpected end of file\)/ },
  ];
  for (const c of cases) {
    it(`${c.name}: one-line error naming the file, exit 2, database unchanged`, () => {
      const f = c.make(dir);
      const r = xtrace(['ingest', '--db', dbPath, f]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, c.message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(snapshot(dbPath), before0);
    });
  }

  it('lines that look like a trace but do not parse are counted, with the first line number', () => {
    const f = write(
      dir,
      'damaged.txt',
      '# tracer: nop\n          <idle>-0     [000] d..2  1136.097253: cpu_idle: state=0 cpu_id=0\n          <idle>-0     [000] d..2  1136.0972\n          <idle>-0     [000] d..2  1136.097346: cpu_idle: state=4294967295 cpu_id=0\n            bash-12    [001] d..2 xx.yy: sched_switch: prev_comm=bash\n',
    );
    const r = xtrace(['ingest', '--db', join(dir, 'damaged.db'), f]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /damaged\.txt: 2 events, 2 lines not understood, 0 events lost/);
    const db = openDb(join(dir, 'damaged.db'), { readonly: true });
    const d = db.prepare("SELECT severity, count, first_line, detail FROM diagnostics WHERE code = 'unparsed_line'").get();
    db.close();
    assert.deepEqual(d, { severity: 'data_loss', count: 2, first_line: 3, detail: 'line 3:           <idle>-0     [000] d..2  1136.0972' });
  });

  it('a timestamp beyond a 64-bit integer is a line not understood, counted, not an internal error', () => {
    const f = write(dir, 'huge-ts.txt', '# tracer: nop\n  bash-12 [001] .... 99999999999.123456: x: y\n  bash-12 [001] .... 1.500000: x: y\n');
    const r = xtrace(['ingest', '--db', join(dir, 'huge-ts.db'), f]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /huge-ts\.txt: 1 events, 1 lines not understood/);
    const db = openDb(join(dir, 'huge-ts.db'), { readonly: true });
    const d = db.prepare<{ first_line: number; detail: string }>("SELECT first_line, detail FROM diagnostics WHERE code = 'unparsed_line'").get()!;
    const s = db.prepare('SELECT lines, events, unparsed_lines FROM sources').get();
    db.close();
    assert.equal(d.first_line, 2);
    assert.match(d.detail, /timestamp 99999999999123456000 ns is beyond what a 64-bit integer holds/);
    assert.deepEqual(s, { lines: 3, events: 1, unparsed_lines: 1 });
  });
});

describe('xtrace ingest: re-ingest, stdin, gzip, JSON', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('re-ingesting the same content (plain, gzip or stdin) does not duplicate it', () => {
    const db = join(dir, 're.db');
    const plain = write(dir, 'plain.txt', gunzipSync(readFileSync(REAL)));
    assert.equal(xtrace(['ingest', '--db', db, REAL]).status, 0);
    const again = xtrace(['ingest', '--db', db, REAL, plain]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /trace\.txt\.gz: already ingested as source 1/);
    assert.match(again.stderr, /plain\.txt: already ingested as source 1/);
    const viaStdin = xtrace(['ingest', '--db', db, '-'], { input: readFileSync(plain) });
    assert.match(viaStdin.stderr, /-: already ingested as source 1/);
    const h = openDb(db, { readonly: true });
    const n = h.prepare<{ s: number; e: number }>('SELECT (SELECT count(*) FROM sources) AS s, (SELECT count(*) FROM event_data) AS e').get();
    h.close();
    assert.deepEqual(n, { s: 1, e: 13067 });
  });

  it('reads standard input and prints a JSON summary on stdout', () => {
    const r = xtrace(['ingest', '--db', join(dir, 'stdin.db'), '--json', '--domain', 'dom0', '-'], { input: readFileSync(SMALL) });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { version: number; files: Record<string, unknown>[]; failed: number };
    assert.equal(j.version, 1);
    assert.equal(j.failed, 0);
    assert.deepEqual(
      { ...j.files[0], seconds: 0 },
      {
        path: '-',
        status: 'ingested',
        source_id: 1,
        format: 'ftrace',
        variant: 'ftrace',
        domain: 'dom0',
        clock: 'ns',
        has_time_base: true,
        bytes: 879,
        lines: 10,
        events: 10,
        unparsed_lines: 0,
        lost_events: 0,
        seconds: 0,
        diagnostics: [],
      },
    );
  });

  it('every file refused: no database is left behind, and the next command says there is none', () => {
    const db = join(dir, 'never.db');
    const r = xtrace(['ingest', '--db', db, join(dir, 'missing.txt'), join(dir, 'notes.txt')]);
    assert.equal(r.status, 2);
    assert.equal(existsSync(db), false);
    assert.equal(existsSync(`${db}-journal`), false);
    const s = xtrace(['summary', '--db', db]);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /never\.db: no such database; run `xtrace ingest/);
  });

  it('several files in one call: the bad one is reported, the others are ingested, exit 2', () => {
    const db = join(dir, 'multi.db');
    const r = xtrace(['ingest', '--db', db, SMALL, join(dir, 'missing.txt'), REAL]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /missing\.txt: no such file/);
    const h = openDb(db, { readonly: true });
    assert.deepEqual(h.prepare('SELECT count(*) AS n FROM sources').get(), { n: 2 });
    h.close();
  });

  it('usage errors exit 2', () => {
    assert.equal(xtrace(['ingest']).status, 2);
    assert.equal(xtrace(['ingest', '--tsc-hz', 'fast', SMALL]).status, 2);
    assert.equal(xtrace(['ingest', '--domain', 'a b', SMALL]).status, 2);
    assert.equal(xtrace(['frobnicate']).status, 2);
  });

  it('refuses a database of another schema version and a non-xtrace database', () => {
    const other = join(dir, 'v99.db');
    assert.equal(xtrace(['ingest', '--db', other, '--quiet', SMALL]).status, 0);
    spawnSync('sqlite3', [other, 'PRAGMA user_version = 99']);
    const r = xtrace(['ingest', '--db', other, REAL]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`schema version 99 is newer than this xtrace \\(reads up to ${SCHEMA_VERSION}\\)`));
    const foreign = join(dir, 'foreign.db');
    spawnSync('sqlite3', [foreign, 'CREATE TABLE t(x)']);
    const f = xtrace(['summary', '--db', foreign]);
    assert.equal(f.status, 2);
    assert.match(f.stderr, /not an xtrace one/);
  });

  it('upgrades a version-1 database (ingestion only) in place and reports from it', () => {
    const v1 = join(dir, 'v1.db');
    const schema1 = readFileSync(join(SAMPLES, '..', 'queries', '001_schema.sql'), 'utf8');
    assert.equal(spawnSync('sqlite3', [v1], { input: schema1 + '\nPRAGMA user_version = 1;\n' }).status, 0);
    assert.equal(xtrace(['ingest', '--db', v1, '--quiet', REAL]).status, 0);
    const r = xtrace(['report', '--db', v1, '-p', 'linux-block', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { runs: unknown[] }).runs.length, 10);
    assert.equal(spawnSync('sqlite3', [v1, 'PRAGMA user_version'], { encoding: 'utf8' }).stdout.trim(), String(SCHEMA_VERSION));
  });
});

describe('xtrace ingest: interruption and a full disk leave the database as it was', () => {
  /** SQLite's page cache during the interrupted ingest, in pages (the default is 64 MiB). */
  const CACHE_PAGES = '64';
  /** The signal is sent once the database file has grown by this many pages: a file's pages are in it, not only in the cache. */
  const GROWTH_PAGES = 200;
  let dir: string;
  let cleanup: () => void;
  let big: string;
  /** A database where every table holds rows: a capture, a trace with lost events, a stored report. */
  let prepared: string;
  before(() => {
    ({ dir, cleanup } = tempDir());
    // 5 copies of the real capture (~1,400 pages of events): the signal lands mid-file.
    const body = gunzipSync(readFileSync(REAL)).toString('utf8');
    big = write(dir, 'big.txt', body.repeat(5));
    const lost = write(dir, 'lost.txt', '# tracer: nop\n          <idle>-0     [000] d..2  1136.097253: cpu_idle: state=0 cpu_id=0\nCPU:0 [LOST 3 EVENTS]\n          <idle>-0     [000] d..2  1136.097353: cpu_idle: state=1 cpu_id=0\n');
    prepared = join(dir, 'prepared.db');
    assert.equal(xtrace(['ingest', '--db', prepared, '--quiet', lost, REAL]).status, 0);
    assert.equal(xtrace(['report', '--db', prepared, '-p', 'linux-block', '--format', 'json']).status, 0);
    for (const [table, digest] of Object.entries(snapshot(prepared))) assert.doesNotMatch(digest, /^0 rows/, `${table} is empty: the comparisons below would not see it change`);
  });
  after(() => cleanup());

  /** Ingests `big` into a copy of the prepared database; the process signals itself once the file has grown by GROWTH_PAGES pages. */
  function interruptedIngest(name: string, signal: 'SIGKILL' | 'SIGINT' | 'SIGTERM', extra: Record<string, string> = {}) {
    const db = join(dir, `${name}.db`);
    copyFileSync(prepared, db);
    const before1 = snapshot(db);
    const size0 = statSync(db).size;
    const r = xtrace(['ingest', '--db', db, big], {
      env: hooks({ XTRACE_TEST_CACHE_PAGES: CACHE_PAGES, XTRACE_TEST_SIGNAL_AFTER_PAGES: String(GROWTH_PAGES), XTRACE_TEST_SIGNAL: signal, ...extra }),
    });
    return { db, before1, size0, r };
  }

  /** What the next xtrace command finds: a writable open (as `ingest` and `report` do) rolls back a journal left by a crash. */
  function reopened(db: string): { snapshot: Record<string, string>; integrity: unknown } {
    openDb(db).close();
    const h = openDb(db, { readonly: true });
    try {
      return { snapshot: snapshot(db), integrity: h.pragma('integrity_check') };
    } finally {
      h.close();
    }
  }

  it('SIGKILL while pages of the file are already in the database file', () => {
    const { db, before1, size0, r } = interruptedIngest('kill', 'SIGKILL');
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    // The kill found the file's pages on disk, with the rollback journal that can undo them.
    assert.ok(statSync(db).size >= size0 + GROWTH_PAGES * 4096, `the database grew by ${(statSync(db).size - size0) / 4096} pages only`);
    assert.ok(statSync(`${db}-journal`).size > 0, 'a hot journal is left beside the database');
    // A read-only command first: it rolls the journal back (a read-only connection cannot) and reads.
    const s = xtrace(['summary', '--db', db, '--json']);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(existsSync(`${db}-journal`), false);
    assert.equal(`${(JSON.parse(s.stdout) as unknown[]).length} rows`, before1['sources']!.split(',')[0], 'the sources of before the kill');
    assert.deepEqual(reopened(db), { snapshot: before1, integrity: [{ integrity_check: 'ok' }] });
    assert.equal(existsSync(`${db}-journal`), false);
    assert.equal(statSync(db).size, size0);
    // and the file can be ingested afterwards
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', big]).status, 0);
  });

  it('the same kill with the journal in memory (a test-only setting) does change the database: the test above can fail', () => {
    const { db, before1, size0, r } = interruptedIngest('kill-no-journal-file', 'SIGKILL', { XTRACE_TEST_JOURNAL_IN_MEMORY: '1' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.ok(statSync(db).size >= size0 + GROWTH_PAGES * 4096);
    assert.equal(existsSync(`${db}-journal`), false);
    let after1: ReturnType<typeof reopened> | Error;
    try {
      after1 = reopened(db);
    } catch (e) {
      after1 = e as Error; // a database too damaged to open is broken too
    }
    assert.notDeepEqual(after1, { snapshot: before1, integrity: [{ integrity_check: 'ok' }] });
  });

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} while pages of the file are already in the database file: rolled back, with a message`, () => {
      const { db, before1, size0, r } = interruptedIngest(sig, sig);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /interrupted: .*big\.txt: interrupted; nothing of this file was stored/);
      assert.equal(existsSync(`${db}-journal`), false);
      assert.equal(statSync(db).size, size0);
      assert.deepEqual(reopened(db), { snapshot: before1, integrity: [{ integrity_check: 'ok' }] });
    });
  }

  it('a full disk (SQLITE_FULL) rolls the file back with a clear message', () => {
    const db = join(dir, 'full.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', SMALL]).status, 0);
    const before1 = snapshot(db);
    const r = xtrace(['ingest', '--db', db, big], { env: hooks({ XTRACE_TEST_MAX_PAGE_COUNT: '40' }) });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /disk or database full while ingesting .*big\.txt; nothing of this file was stored/);
    assert.deepEqual(snapshot(db), before1);
  });
});

describe('xtrace ingest: test hooks', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('are ignored without XTRACE_TEST_HOOKS=1', () => {
    const r = xtrace(['ingest', '--db', join(dir, 'plain.db'), '--quiet', REAL], {
      env: { XTRACE_TEST_MAX_PAGE_COUNT: '40', XTRACE_TEST_SIGNAL_AFTER_PAGES: '1', XTRACE_TEST_SIGNAL: 'SIGKILL', XTRACE_TEST_CACHE_PAGES: 'x' },
    });
    assert.equal(r.signal, null);
    assert.equal(r.status, 0, r.stderr);
  });

  it('with XTRACE_TEST_HOOKS=1, a bad value is a usage error before anything is opened', () => {
    const db = join(dir, 'bad.db');
    const r = xtrace(['ingest', '--db', db, SMALL], { env: hooks({ XTRACE_TEST_SIGNAL_AFTER_PAGES: '5', XTRACE_TEST_SIGNAL: 'SIGSTOP' }) });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /XTRACE_TEST_SIGNAL must be one of SIGKILL, SIGINT, SIGTERM, not "SIGSTOP"/);
    assert.equal(existsSync(db), false);
  });

  it('each value is checked (ingestTestHooks)', () => {
    assert.deepEqual(ingestTestHooks({ XTRACE_TEST_MAX_PAGE_COUNT: '40', XTRACE_TEST_SIGNAL: 'SIGKILL' }), { session: {} });
    assert.deepEqual(ingestTestHooks({ XTRACE_TEST_HOOKS: 'true', XTRACE_TEST_CACHE_PAGES: '64' }), { session: {} });
    assert.deepEqual(
      ingestTestHooks(hooks({ XTRACE_TEST_MAX_PAGE_COUNT: '40', XTRACE_TEST_CACHE_PAGES: '64', XTRACE_TEST_JOURNAL_IN_MEMORY: '1', XTRACE_TEST_SIGNAL_AFTER_PAGES: '200', XTRACE_TEST_SIGNAL: 'SIGTERM' })),
      { session: { maxPageCount: 40, cachePages: 64, journalInMemory: true }, signal: { name: 'SIGTERM', afterPages: 200 } },
    );
    assert.deepEqual(ingestTestHooks(hooks({ XTRACE_TEST_SIGNAL_AFTER_PAGES: '1' })).signal, { name: 'SIGKILL', afterPages: 1 });
    const bad: [Record<string, string>, RegExp][] = [
      [{ XTRACE_TEST_MAX_PAGE_COUNT: '40.5' }, /^XTRACE_TEST_MAX_PAGE_COUNT must be a whole number ≥ 1, not "40\.5"$/],
      [{ XTRACE_TEST_MAX_PAGE_COUNT: '' }, /^XTRACE_TEST_MAX_PAGE_COUNT must be a whole number ≥ 1, not ""$/],
      [{ XTRACE_TEST_CACHE_PAGES: '0' }, /^XTRACE_TEST_CACHE_PAGES must be a whole number ≥ 1, not "0"$/],
      [{ XTRACE_TEST_CACHE_PAGES: '1e3' }, /^XTRACE_TEST_CACHE_PAGES must be a whole number ≥ 1, not "1e3"$/],
      [{ XTRACE_TEST_SIGNAL_AFTER_PAGES: '-3' }, /^XTRACE_TEST_SIGNAL_AFTER_PAGES must be a whole number ≥ 1, not "-3"$/],
      [{ XTRACE_TEST_SIGNAL_AFTER_PAGES: '99999999999999999999' }, /^XTRACE_TEST_SIGNAL_AFTER_PAGES must be a whole number ≥ 1/],
      [{ XTRACE_TEST_SIGNAL_AFTER_PAGES: '5', XTRACE_TEST_SIGNAL: '9' }, /^XTRACE_TEST_SIGNAL must be one of SIGKILL, SIGINT, SIGTERM, not "9"$/],
      [{ XTRACE_TEST_SIGNAL: 'SIGKILL' }, /^XTRACE_TEST_SIGNAL needs XTRACE_TEST_SIGNAL_AFTER_PAGES$/],
      [{ XTRACE_TEST_JOURNAL_IN_MEMORY: 'yes' }, /^XTRACE_TEST_JOURNAL_IN_MEMORY must be 1, not "yes"$/],
    ];
    for (const [vars, message] of bad) assert.throws(() => ingestTestHooks(hooks(vars)), (e: Error) => e instanceof UsageError && message.test(e.message), JSON.stringify(vars));
  });
});

describe('xtrace summary and output hygiene', () => {
  let dir: string;
  let cleanup: () => void;
  let db: string;
  before(() => {
    ({ dir, cleanup } = tempDir());
    db = join(dir, 's.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', REAL]).status, 0);
  });
  after(() => cleanup());

  it('summarises sources without colour when NO_COLOR is set', () => {
    const r = xtrace(['summary', '--db', db]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /13079 lines, 13067 events, 0 lines not understood, 0 events lost/);
    assert.match(r.stdout, /events: sched_switch 2106, sched_wakeup 1730, block_rq_issue 1228/);
    assert.doesNotMatch(r.stdout + r.stderr, /\x1b\[/);
  });

  it('does not crash when stdout is closed early (| head)', () => {
    const r = spawnSync('bash', ['-c', `node --import tsx src/cli/main.ts summary --db '${db}' --json | head -c 20 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '0', r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Error/);
  });
});

function write(dir: string, name: string, data: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}
