/**
 * Several processes on one database (issue 13, robustness): concurrent `xtrace ingest`s all land;
 * while another process holds the database locked, an ingest and a query wait for it, say so on
 * stderr and succeed; past XTRACE_BUSY_TIMEOUT_MS they give up with a one-line message naming the
 * database, never "not an xtrace database" or an internal error.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { SAMPLES, ROOT, tempDir, xtrace } from '../helpers.js';
import { openDb } from '../../src/db/db.js';

const t = tempDir();
after(() => t.cleanup());
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

interface Running {
  done: Promise<{ status: number | null; stderr: string; stdout: string }>;
  /** Resolves once the process's stderr has matched `re` (rejects if it ends first). */
  says: (re: RegExp) => Promise<void>;
}

/** Starts the CLI (several at once). */
function start(args: string[], env: Record<string, string> = {}): Running {
  const c = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; ok: () => void }[] = [];
  c.stdout.on('data', (b: Buffer) => (stdout += b));
  c.stderr.on('data', (b: Buffer) => {
    stderr += b;
    for (const w of watchers.splice(0)) if (w.re.test(stderr)) w.ok();
    else watchers.push(w);
  });
  const done = once(c, 'close').then(([status]) => ({ status: status as number | null, stdout, stderr }));
  const says = (re: RegExp): Promise<void> =>
    re.test(stderr)
      ? Promise.resolve()
      : new Promise((ok, fail) => {
          watchers.push({ re, ok });
          void done.then((r) => (re.test(r.stderr) ? ok() : fail(new Error(`ended (exit ${r.status}) without saying ${re}: ${r.stderr}`))));
        });
  return { done, says };
}

async function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return start(args, env).done;
}

/** A process that holds the database's exclusive lock until it is told to let go (a line on its stdin). */
async function holdLock(db: string): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
  const code = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN EXCLUSIVE');
    db.prepare("INSERT INTO xt_meta(key, value) VALUES ('lock-test', 'x')").run();
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', code, db], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  await once(child.stdout!, 'data');
  return {
    child,
    release: async () => {
      child.stdin!.write('go\n');
      await once(child, 'close');
    },
  };
}

const FILES = [
  ['sim-blktap2/guest.trace.gz', 'domU'],
  ['sim-blktap2/dom0.trace.gz', 'dom0'],
  ['sim-blktap2/tapdisk.xtbuf.gz', 'tapdisk'],
  ['sim-blkback/guest.trace.gz', 'other'],
] as const;

describe('several processes on one database', () => {
  it('four ingests started at once all land, each file whole', async () => {
    const db = join(t.dir, 'four.db');
    const results = await Promise.all(FILES.map(([f, d]) => run(['ingest', '--db', db, '--domain', d, join(SAMPLES, f)])));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    // The same files one after the other: the counts the concurrent ingests must have stored.
    const serial = join(t.dir, 'serial.db');
    for (const [f, d] of FILES) assert.equal(xtrace(['ingest', '--db', serial, '--domain', d, join(SAMPLES, f)]).status, 0);
    const counts = (p: string): Record<string, number> => {
      const h = openDb(p, { readonly: true });
      try {
        return Object.fromEntries(h.prepare<{ path: string; n: number }>('SELECT s.path, count(e.id) AS n FROM sources s LEFT JOIN event_data e ON e.source_id = s.id GROUP BY s.id').all().map((r) => [r.path, r.n]));
      } finally {
        h.close();
      }
    };
    assert.deepEqual(counts(db), counts(serial));
  });

  it('an ingest and a query wait for a process holding the lock, say so, and succeed', async () => {
    const db = join(t.dir, 'held.db');
    assert.equal(xtrace(['ingest', '--db', db, join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
    const lock = await holdLock(db);
    const ingest = start(['ingest', '--db', db, '--domain', 'domU', join(SAMPLES, 'sim-blktap2', 'guest.trace.gz')]);
    const query = start(['query', '--db', db, 'SELECT count(*) AS n FROM sources', '--format', 'csv']);
    // Both meet the lock and say so (however long they take to start), then it is let go.
    await Promise.all([ingest.says(/waiting: .*held\.db: another process is writing it/), query.says(/waiting: .*held\.db: another process is writing it/)]);
    await lock.release();
    const [i, q] = await Promise.all([ingest.done, query.done]);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stderr, /waiting: .*held\.db: another process is writing it/);
    assert.equal(q.status, 0, q.stderr);
    assert.match(q.stdout, /^n\n[12]\n$/);
  });

  it('past XTRACE_BUSY_TIMEOUT_MS: one line naming the database, exit 2, nothing stored', async () => {
    const db = join(t.dir, 'timeout.db');
    assert.equal(xtrace(['ingest', '--db', db, join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
    const lock = await holdLock(db);
    try {
      const r = await run(['ingest', '--db', db, '--domain', 'domU', join(SAMPLES, 'sim-blktap2', 'guest.trace.gz')], { XTRACE_BUSY_TIMEOUT_MS: '300' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /timeout\.db: another process has been writing it for more than 0 s; try again/);
      assert.doesNotMatch(r.stderr, /internal error|not an xtrace database/);
    } finally {
      await lock.release();
    }
    const h = openDb(db, { readonly: true });
    try {
      assert.equal(h.prepare<{ n: number }>('SELECT count(*) AS n FROM sources').get()!.n, 1);
    } finally {
      h.close();
    }
  });

  it('a bad XTRACE_BUSY_TIMEOUT_MS is refused in one line', async () => {
    const r = await run(['summary', '--db', join(t.dir, 'four.db')], { XTRACE_BUSY_TIMEOUT_MS: 'soon' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /XTRACE_BUSY_TIMEOUT_MS=soon: expected a whole number of milliseconds/);
  });
});
