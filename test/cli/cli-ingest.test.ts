/**
 * `xtrace ingest` as a user runs it: bad inputs (one test each), re-ingest, interruption
 * (Ctrl-C, kill -9), a full database, standard input, JSON summary, exit codes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { openDb, SCHEMA_VERSION } from '../../src/db/db.js';

const REAL = join(SAMPLES, 'linux-block-default', 'trace.txt.gz');
const SMALL = join(SAMPLES, 'public', 'trappy__tests_trace_no_trailing_line.txt');

/** Everything in the database that ingestion could change, for before/after comparisons. */
function snapshot(dbPath: string): string {
  const db = openDb(dbPath, { readonly: true });
  try {
    const out: Record<string, unknown> = {};
    for (const t of ['sources', 'strings', 'event_data', 'diagnostics']) out[t] = db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all();
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

describe('xtrace ingest: bad input', () => {
  let dir: string;
  let cleanup: () => void;
  let dbPath: string;
  let before0: string;
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
      assert.equal(snapshot(dbPath), before0);
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
  let dir: string;
  let cleanup: () => void;
  let big: string;
  before(() => {
    ({ dir, cleanup } = tempDir());
    // ~5 copies of the real capture: several batches, so the interrupt lands mid-file.
    const body = gunzipSync(readFileSync(REAL)).toString('utf8');
    big = write(dir, 'big.txt', body.repeat(5));
  });
  after(() => cleanup());

  for (const sig of ['SIGKILL', 'SIGINT'] as const) {
    it(`${sig} in the middle of a file`, () => {
      const db = join(dir, `${sig}.db`);
      assert.equal(xtrace(['ingest', '--db', db, '--quiet', SMALL]).status, 0);
      const before1 = snapshot(db);
      const r = xtrace(['ingest', '--db', db, big], { env: { XTRACE_TEST_KILL_AFTER_EVENTS: '5000', XTRACE_TEST_SIGNAL: sig } });
      if (sig === 'SIGKILL') assert.equal(r.signal, 'SIGKILL');
      else {
        assert.equal(r.status, 2);
        assert.match(r.stderr, /interrupted: .*big\.txt: interrupted; nothing of this file was stored/);
      }
      assert.equal(snapshot(db), before1);
      const h = openDb(db, { readonly: true });
      assert.deepEqual(h.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      h.close();
      // and the file can be ingested afterwards
      assert.equal(xtrace(['ingest', '--db', db, '--quiet', big]).status, 0);
    });
  }

  it('a full disk (SQLITE_FULL) rolls the file back with a clear message', () => {
    const db = join(dir, 'full.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', SMALL]).status, 0);
    const before1 = snapshot(db);
    const r = xtrace(['ingest', '--db', db, big], { env: { XTRACE_TEST_MAX_PAGE_COUNT: '40' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /disk or database full while ingesting .*big\.txt; nothing of this file was stored/);
    assert.equal(snapshot(db), before1);
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
