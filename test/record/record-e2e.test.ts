/**
 * `xtrace record` for real: a small fio workload (3 runs × 50 O_DIRECT reads) recorded through
 * tracefs into a temp database, each run holding its 50 complete fio requests; and Ctrl-C (SIGINT)
 * in the middle of a run. After each, the global tracefs state (set_event, tracing_on, trace_clock,
 * buffer_size_kb, current_tracer, trace_options, the list of instances) must be byte-identical to
 * what it was before. Needs root, tracefs and fio: skipped, saying which is missing, otherwise;
 * on CI (CI=true) with root it runs, and a missing fio or tracefs fails it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findTracefs } from '../../src/record/tracefs.js';
import { onCi, ROOT, tempDir, xtrace } from '../helpers.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasFio = spawnSync('fio', ['--version']).status === 0;
const skip = !isRoot ? 'not root: xtrace record needs root for tracefs' : !hasFio && !onCi ? 'no fio here (apt-get install fio): the workload of this test' : false;

const GLOBAL_FILES = ['set_event', 'tracing_on', 'trace_clock', 'buffer_size_kb', 'current_tracer', 'trace_options'] as const;

/** The global tracefs state, as text: each file's bytes and the instances. */
function globalState(root: string): string {
  // (test/cli/ingest-streams.test.ts may hold a scratch instance `xtrace-test-<pid>` meanwhile, on a machine that runs test files in parallel.)
  const instances = readdirSync(join(root, 'instances')).filter((n) => !n.startsWith('xtrace-test-'));
  return [...GLOBAL_FILES.map((f) => `${f}:\n${readFileSync(join(root, f), 'utf8')}`), `instances: ${instances.sort().join(' ')}`].join('\n');
}

describe('xtrace record (root, tracefs, fio)', { skip }, () => {
  let root = '';
  let mountedHere = false;
  let dir = '';
  let cleanup = (): void => {};

  before(() => {
    let found = findTracefs();
    if (!found) {
      // Mounted for the state checks, and unmounted after: tracefs is left as found.
      const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `cannot mount tracefs: ${r.stderr}`);
      mountedHere = true;
      found = findTracefs();
    }
    assert.ok(found, 'tracefs');
    root = found;
    ({ dir, cleanup } = tempDir());
  });

  after(() => {
    cleanup();
    if (mountedHere) spawnSync('umount', [root]);
  });

  it('records 3 runs of 50 fio reads: each run holds 50 complete fio requests; tracefs is left as found', () => {
    const file = join(dir, 'disk.img');
    // Laid out beforehand, so that fio only reads in the runs.
    writeFileSync(file, Buffer.alloc(8 << 20, 0x5a));
    spawnSync('sync');
    const db = join(dir, 'r.db');
    const state = globalState(root);
    const fio = ['fio', '--name=x', `--filename=${file}`, '--direct=1', '--rw=randread', '--bs=4k', '--ioengine=psync', '--size=8m', '--number_ios=50', '--output=/dev/null'];
    // Once unrecorded, so that whatever fio reads through the page cache (its binary, libraries,
    // the file's metadata) is cached: a cold read by fio in run 1 once made 51 requests there.
    assert.equal(spawnSync(fio[0]!, fio.slice(1)).status, 0, 'fio warm-up run');
    const r = xtrace(['record', '-p', 'linux-block', '--runs', '3', '--db', db, '--filter', 'comm=fio*', '--format', 'json', '--', ...fio]);
    assert.equal(globalState(root), state, 'global tracefs state after the recording');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /recording in .*\/instances\/xtrace-\d+/);
    const report = JSON.parse(r.stdout) as { runs: { run: string; complete: number }[] };
    assert.deepEqual(
      report.runs.map((x) => [x.run, x.complete]),
      [
        ['1', 50],
        ['2', 50],
        ['3', 50],
      ],
    );
    assert.ok(existsSync(db));
  });

  it('Ctrl-C in the middle of a run stops the workload, removes the instance and ingests nothing', async () => {
    const state = globalState(root);
    const db = join(dir, 'interrupted.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'record', '-p', 'linux-block', '--runs', '3', '--db', db, '--', 'sh', '-c', 'echo workload-started >&2; exec sleep 30'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let instanceSeen = false;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      const first = !stderr.includes('workload-started');
      stderr += s;
      if (first && stderr.includes('workload-started')) {
        instanceSeen = readdirSync(join(root, 'instances')).some((n) => n === `xtrace-${child.pid}`);
        child.kill('SIGINT');
      }
    });
    const code = await exited;
    assert.ok(instanceSeen, 'the instance existed while the run was going on');
    assert.equal(code, 2, stderr);
    assert.match(stderr, /interrupted: SIGINT in run 1: tracefs restored, nothing ingested/);
    assert.equal(globalState(root), state, 'global tracefs state after Ctrl-C');
    assert.ok(!existsSync(db), 'no database');
  });
});
