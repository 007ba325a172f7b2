/**
 * A report survives one bad run, and refuses with a cause the user can act on when no run can be
 * reported: one test per cause (events lost, points with no event, no irq, Xen files without
 * --domain, the wrong profile), each on a small database built from a text trace, each checking
 * that the correlated requests were stored all the same; `--strict` (report and compare)
 * restores the refusal.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hasShell, SAMPLES, tempDir, xtrace } from '../helpers.js';
import { openDb } from '../../src/db/db.js';
import type { ReportModel } from '../../src/report/model.js';
import { ev, lost, mark, request, requests, writeTrace } from './traces.js';

let t: { dir: string; cleanup: () => void };
before(() => (t = tempDir()));
after(() => t.cleanup());

/** A fresh database of these trace files (each `[file, domain]`). */
function db(name: string, files: (string | [string, string])[]): string {
  const path = join(t.dir, `${name}.db`);
  for (const f of files) {
    const [file, domain] = typeof f === 'string' ? [f, 'default'] : f;
    const r = xtrace(['ingest', '--db', path, '--quiet', '--domain', domain, file]);
    assert.equal(r.status, 0, r.stderr);
  }
  return path;
}

function sql<T>(path: string, q: string): T[] {
  const d = openDb(path, { readonly: true });
  try {
    return d.prepare<T>(q).all();
  } finally {
    d.close();
  }
}

/** `xtrace report` refuses: exit 2, one line on stderr matching every pattern, nothing on stdout, no output file; the correlation (and its requests, if any) is stored. */
function refuses(path: string, profile: string, patterns: RegExp[], extra: string[] = [], o: { requests?: boolean } = {}): string {
  const out = join(t.dir, 'out.json');
  const r = xtrace(['report', '--db', path, '-p', profile, '--out', out, ...extra]);
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  for (const re of patterns) assert.match(lines[0]!, re);
  assert.equal(r.stdout, '');
  assert.ok(!existsSync(out), 'no output file');
  assert.equal(sql<{ n: number }>(path, `SELECT count(*) AS n FROM correlations WHERE profile = '${profile}'`)[0]!.n, 1, 'the correlation is stored before the refusal');
  const stored = sql<{ n: number }>(path, `SELECT count(*) AS n FROM requests r JOIN correlations c ON c.id = r.correlation_id WHERE c.profile = '${profile}'`)[0]!.n;
  if (o.requests !== false) assert.ok(stored > 0, 'the correlated requests are stored before the refusal');
  return lines[0]!;
}

describe('a report that survives one bad run', () => {
  // Runs 1 and 3 are fine; run 2 has no irq event (its requests stop before irq) and lost 50 events.
  const lines = (): string[] => [
    mark(0, '1 begin'),
    ...requests(10, 3),
    mark(400, '1 end'),
    mark(500, '2 begin'),
    ...requests(510, 3, { without: ['irq'], sector: 2000 }),
    lost(800, 50, 1),
    ev(801, '<idle>-0', 1, 'sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kworker next_pid=9 next_prio=120'),
    mark(900, '2 end'),
    mark(1000, '3 begin'),
    ...requests(1010, 3, { sector: 3000 }),
    mark(1400, '3 end'),
  ];

  it('lists the empty run with why (the point without events in its span, events lost in it) and reports the others', () => {
    const path = db('one-bad', [writeTrace(t.dir, 'one-bad.txt', lines())]);
    const r = xtrace(['report', '--db', path, '-p', 'linux-block', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ReportModel;
    assert.deepEqual(
      m.runs.map((x) => x.run),
      ['1', '3'],
    );
    assert.equal(m.total.mean_ns, 50_000);
    assert.deepEqual(m.excluded_runs, [
      {
        run: '2',
        requests: 3,
        complete: 0,
        incomplete: 3,
        orphans: 0,
        reason: 'no_complete_request',
        why: 'no complete request: no event of irq in its time span; 50 events lost in it; 3 requests started in it: 3 incomplete (3 stop before irq)',
        points_without_events: ['irq'],
        lost_events: 50,
      },
    ]);
    const text = xtrace(['report', '--db', path, '-p', 'linux-block']).stdout;
    assert.match(text, /· 2 runs \(1 more not averaged\), 6 complete requests/);
    assert.match(text, /^run 2 not averaged: no complete request: no event of irq in its time span; 50 events lost in it/m);
    // Stored: run 2 with no mean (kept 0), its requests with their run.
    assert.deepEqual(sql(path, "SELECT run, complete, kept FROM runs WHERE run = '2'"), [{ run: '2', complete: 0, kept: 0 }]);
    assert.deepEqual(sql(path, "SELECT count(*) AS n FROM requests WHERE run = '2' AND status = 'incomplete'"), [{ n: 3 }]);
  });

  it('--strict refuses it (exit 2), naming the run and why, after storing the requests', () => {
    const path = db('one-bad-strict', [writeTrace(t.dir, 'one-bad-strict.txt', lines())]);
    refuses(path, 'linux-block', [/--strict: 1 run cannot be averaged \(run 2: no complete request: no event of irq in its time span; 50 events lost in it/, /drop --strict to report the other runs/], ['--strict']);
  });

  it('compare: the side is compared on its other runs and says so; --strict refuses the side (database or saved report)', () => {
    const path = db('one-bad-compare', [writeTrace(t.dir, 'one-bad-compare.txt', lines())]);
    const r = xtrace(['compare', path, path, '-p', 'linux-block', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { baseline: { runs: number; excluded_runs: { run: string; why: string }[] } };
    assert.equal(c.baseline.runs, 2);
    assert.deepEqual(
      c.baseline.excluded_runs.map((e) => e.run),
      ['2'],
    );
    assert.match(xtrace(['compare', path, path, '-p', 'linux-block']).stdout, /^baseline: run 2 not averaged \(not compared\): no complete request/m);
    const s = xtrace(['compare', path, path, '-p', 'linux-block', '--strict']);
    assert.equal(s.status, 2);
    assert.match(s.stderr, /--strict: 1 run cannot be averaged \(run 2: no complete request/);
    const saved = join(t.dir, 'saved.json');
    assert.equal(xtrace(['report', '--db', path, '-p', 'linux-block', '--format', 'json', '--out', saved]).status, 0);
    const j = xtrace(['compare', saved, saved, '--strict']);
    assert.equal(j.status, 2);
    assert.match(j.stderr, /saved\.json: --strict: the report lists 1 run\(s\) it could not average \(run 2: no complete request/);
  });
});

describe('nothing to report: one message per cause, naming the fix', () => {
  it('1. events lost (a buffer overrun): how many, and a bigger buffer_size_kb', () => {
    // Every point has events, but the one request that began lost its end in a 324335-event gap,
    // and the one that ended had lost its beginning.
    const f = writeTrace(t.dir, 'lost.txt', [
      ...request({ t0: 0, sector: 1000, without: ['irq', 'rq_complete', 'syscall_exit'] }),
      lost(30, 324335, 0),
      ...request({ t0: 100, sector: 2000, without: ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue'] }),
    ]);
    const line = refuses(db('lost', [f]), 'linux-block', [
      /no run has a complete request \(1 run\), nothing to report: 324335 events lost \(.*lost\.txt: 324335\): the trace buffer overflowed; record with a bigger buffer \(echo 65536 > \/sys\/kernel\/tracing\/buffer_size_kb\)/,
    ]);
    assert.doesNotMatch(line, /no event in the database|--domain|try --profile/);
  });

  it('2. points with no event in the database: named, with the set_event line that records them', () => {
    // Block I/O without its syscalls (syscall events not enabled).
    const f = writeTrace(t.dir, 'nosys.txt', requests(0, 3, { without: ['syscall_enter', 'syscall_exit'] }));
    refuses(db('nosys', [f]), 'linux-block', [
      /no event in the database for syscall_enter \(sys_enter_read, sys_enter_pread64, sys_enter_readv, …\), syscall_exit \(sys_exit_read, sys_exit_pread64, sys_exit_readv, …\): record them \(echo '[^']*syscalls:sys_enter_pread64 [^']*syscalls:sys_exit_pread64[^']*' >> \/sys\/kernel\/tracing\/set_event\)/,
    ]);
  });

  it('3. no irq events: the irq point named with irq:irq_handler_entry', () => {
    const f = writeTrace(t.dir, 'noirq.txt', requests(0, 3, { without: ['irq'] }));
    const line = refuses(db('noirq', [f]), 'linux-block', [/: no event in the database for irq \(irq_handler_entry\): record it \(echo 'irq:irq_handler_entry' >> \/sys\/kernel\/tracing\/set_event\)$/]);
    assert.doesNotMatch(line, /lost|try --profile|--domain/);
  });

  it('4. Xen files ingested without --domain: ingest each domain\'s file with --domain NAME', () => {
    const path = db('nodomain', [join(SAMPLES, 'sim-blkback', 'guest.trace.gz'), join(SAMPLES, 'sim-blkback', 'dom0.trace.gz')]);
    const line = refuses(path, 'xen-blkback', [
      /the 2 files \(.*guest\.trace\.gz, .*dom0\.trace\.gz\) are all in clock domain default, but profile xen-blkback spans the roles guest, dom0: ingest each domain's file with --domain NAME/,
    ]);
    assert.doesNotMatch(line, /try --profile|set_event/);
    // With the domains given, the same files report.
    const ok = db('domains', [
      [join(SAMPLES, 'sim-blkback', 'guest.trace.gz'), 'domU'],
      [join(SAMPLES, 'sim-blkback', 'dom0.trace.gz'), 'dom0'],
    ]);
    assert.equal(xtrace(['report', '--db', ok, '-p', 'xen-blkback', '--format', 'json']).status, 0);
  });

  it('5. the wrong profile: its events are absent, another built-in profile\'s are present: name it', () => {
    const line = refuses(db('wrong', [join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]), 'xen-blkback', [
      /profile xen-blkback finds no event of fe_queue, but the events of profile linux-block(, [a-z_-]+)* are present: try --profile linux-block/,
      /no event in the database for fe_queue, fe_notify, .*fe_end: record them \(they are the 'xt <point>' kernel probes of src\/profiles\/builtin\/xen-probes\.md\)/,
    ], [], { requests: false }); // (the guest's block events alone make no Xen request: the correlation is stored, empty)
    assert.doesNotMatch(line, /--domain|lost/);
  });

  it('5. the wrong profile on a real io_uring capture (other tasks\' syscalls are there, fio\'s I/O is all orphans): name io_uring', () => {
    const line = refuses(db('uring', [join(SAMPLES, 'workloads', 'io_uring-qd8', 'trace.txt.gz')]), 'linux-block', [
      /its \d+ correlated requests are all orphans \(block I\/O without a syscall.*\): the I\/O was not submitted the way profile linux-block follows, and the events of profile io_uring are present: try --profile io_uring$/,
    ]);
    assert.doesNotMatch(line, /set_event|lost|--domain/);
  });

  it('none of these: the requests counted, where the incomplete ones stop, and the query that lists them', () => {
    // The interrupts come on another CPU than the completions: irq events exist, none is the request's.
    const f = writeTrace(t.dir, 'othercpu.txt', requests(0, 3).map((l) => (l.includes('irq_handler_entry') ? l.replace('[001]', '[002]') : l)));
    refuses(db('othercpu', [f]), 'linux-block', [
      /nothing to report: of its 3 correlated requests, 3 are incomplete \(3 in the runs stop before irq\) and 0 are orphans \(.*\); they are stored: xtrace query "SELECT run, status, points FROM requests LIMIT 20"$/,
    ]);
  });

  it('--filter that removes every complete request says so (before any other cause)', () => {
    const f = writeTrace(t.dir, 'filtered.txt', requests(0, 3));
    refuses(db('filtered', [f]), 'linux-block', [/: --filter comm=nosuch\* removed every complete request \(3\); check its values/], ['--filter', 'comm=nosuch*']);
  });

  it('--warmup that empties every run says so', () => {
    const f = writeTrace(t.dir, 'short.txt', requests(0, 2));
    refuses(db('short', [f]), 'linux-block', [/--warmup 5 drops every complete request \(the fullest run has 2\); use a smaller --warmup$/], ['--warmup', '5']);
  });

  it('the stored requests of a refused report are there for SQL (sqlite3 shell)', { skip: !hasShell }, () => {
    const f = writeTrace(t.dir, 'noirq2.txt', requests(0, 3, { without: ['irq'] }));
    const path = db('noirq2', [f]);
    refuses(path, 'linux-block', [/irq_handler_entry/]);
    const out = spawnSync('sqlite3', [path, "SELECT status, count(*) FROM requests GROUP BY status"], { encoding: 'utf8' }).stdout.trim();
    assert.equal(out, 'incomplete|3');
  });
});
