/**
 * `xtrace record`'s plan and its undo, against a fake tracefs: a temp directory with the files a
 * kernel shows (available_events, trace_clock, set_event …) and a mkdir of `instances/<name>` that
 * fills the instance as the kernel does. No root needed. Also the overflow estimate and the
 * --dry-run output (a real command, run without tracefs).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { loadProfile, type Profile } from '../../src/profiles/index.js';
import { clocksOf, planRecording, restoreSteps, runSteps, shellCommand, wantedEvents } from '../../src/record/plan.js';
import { applySteps, bufferStats, directoryIo, doSteps, overflowOf, parseCpuStats, undoSteps, type TracefsIo } from '../../src/record/tracefs.js';
import { ROOT, tempDir, xtrace } from '../helpers.js';

const CLOCKS = '[local] global counter uptime perf mono mono_raw boot tai x86-tsc\n';

/** available_events of a kernel with everything linux-block wants but `lacking`. */
function availableEvents(profile: Profile, lacking: readonly string[]): string {
  const system = (n: string): string => (n.startsWith('sys_') ? 'syscalls' : n.startsWith('irq_') ? 'irq' : n.startsWith('block_') ? 'block' : 'other');
  const names = wantedEvents(profile).map((w) => w.name);
  return [...names.filter((n) => !lacking.includes(n)).map((n) => `${system(n)}:${n}`), 'sched:sched_switch', 'ext4:ext4_sync_file_enter', ''].join('\n');
}

/** The files of a fresh instance, as the kernel creates them. */
const INSTANCE_FILES: Record<string, string> = {
  tracing_on: '1\n',
  buffer_size_kb: '1410\n',
  trace_clock: CLOCKS,
  set_event: '',
  trace: '# tracer: nop\n',
  trace_marker: '',
  'per_cpu/cpu0/stats': 'entries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 0\n',
  'per_cpu/cpu1/stats': 'entries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\ndropped events: 0\n',
};

/** A fake tracefs: global files as a kernel that was used before (events on, bigger buffer), instances made as the kernel makes them. */
function fakeTracefs(dir: string, available: string): TracefsIo {
  const files: Record<string, string> = {
    available_events: available,
    trace_clock: 'local [global] counter uptime perf mono mono_raw boot tai x86-tsc\n',
    buffer_size_kb: '7 (expanded: 1408)\n',
    set_event: 'sched:sched_switch\next4:ext4_sync_file_enter\n',
    tracing_on: '0\n',
    'instances/other-tool/set_event': 'block:block_rq_issue\n',
    'instances/other-tool/tracing_on': '1\n',
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const io = directoryIo(dir);
  return {
    ...io,
    mkdir(p) {
      io.mkdir(p);
      for (const [f, text] of Object.entries(INSTANCE_FILES)) {
        mkdirSync(join(dir, p, f, '..'), { recursive: true });
        writeFileSync(join(dir, p, f), text);
      }
    },
    // The kernel removes an instance with its files.
    rmdir: (p) => rmSync(join(dir, p), { recursive: true }),
  };
}

/** Every file of a tree and its content. */
function snapshot(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, p)).isDirectory()) {
      out.set(`${p}/`, '');
      for (const [k, v] of snapshot(dir, p)) out.set(k, v);
    } else out.set(p, readFileSync(join(dir, p), 'utf8'));
  }
  return out;
}

const linuxBlock = loadProfile('linux-block');
const opts = { instanceName: 'xtrace-42', bufferKb: 8192, clock: 'mono' };

describe('record plan', () => {
  it('maps every event of the profile to its tracefs system:event, with the block layer and irq exits', () => {
    const plan = planRecording(linuxBlock, availableEvents(linuxBlock, []), opts, clocksOf(CLOCKS).clocks);
    assert.deepEqual(plan.missing, []);
    for (const e of ['block:block_rq_issue', 'syscalls:sys_enter_pread64', 'syscalls:sys_exit_pread64', 'irq:irq_handler_entry', 'irq:irq_handler_exit', 'block:block_split', 'block:block_bio_backmerge', 'block:block_bio_frontmerge', 'block:block_rq_requeue', 'block:block_rq_merge']) {
      assert.ok(plan.events.includes(e), e);
    }
    assert.ok(!plan.events.some((e) => e.startsWith('sched:') || e.startsWith('ext4:')), 'only what the profile needs');
    assert.equal(new Set(plan.events).size, plan.events.length, 'each event once');
    assert.equal(plan.instance, 'instances/xtrace-42');
  });

  it('names each missing event with what it costs the report', () => {
    const plan = planRecording(linuxBlock, availableEvents(linuxBlock, ['irq_handler_entry', 'block_split', 'sys_enter_preadv2']), opts);
    const by = new Map(plan.missing.map((m) => [m.event, m.consequence]));
    assert.deepEqual([...by.keys()].sort(), ['block_split', 'irq_handler_entry', 'sys_enter_preadv2']);
    assert.match(by.get('irq_handler_entry')!, /point irq is never seen: the stages rq_issue->irq and irq->rq_complete are missing/);
    assert.match(by.get('block_split')!, /split .* not followed/);
    assert.match(by.get('sys_enter_preadv2')!, /point syscall_enter does not see preadv2/);
    for (const m of by.keys()) assert.ok(!plan.events.some((e) => e.endsWith(`:${m}`)), m);
    assert.ok(plan.events.includes('syscalls:sys_enter_pread64'), 'the point keeps its other events');
  });

  it('names the points that come from instrumentation (trace_printk, xtbuf), not from tracefs events', () => {
    const xen = loadProfile('xen-blktap2');
    const plan = planRecording(xen, availableEvents(xen, []), opts);
    const starred = xen.points.filter((p) => (Array.isArray(p.event) ? p.event : [p.event]).every((e) => e === '*')).map((p) => p.name);
    assert.ok(starred.length > 0);
    assert.deepEqual(plan.instrumented.map((n) => /^point (\S+)/.exec(n)![1]), starred);
    assert.deepEqual(planRecording(linuxBlock, null, opts).instrumented, []);
  });

  it('refuses a clock the kernel does not offer', () => {
    assert.throws(() => planRecording(linuxBlock, '', { ...opts, clock: 'sundial' }, clocksOf(CLOCKS).clocks), /--clock sundial: not a clock this kernel offers \(local, global/);
  });

  it('sets up the instance with tracing off, the buffer, the clock and exactly the events; each run clears, marks and switches tracing', () => {
    const t = tempDir();
    try {
      const io = fakeTracefs(t.dir, availableEvents(linuxBlock, []));
      const plan = planRecording(linuxBlock, io.read('available_events'), opts, clocksOf(io.read('trace_clock')).clocks);
      applySteps(io, plan.setup);
      const at = (f: string): string => io.read(`instances/xtrace-42/${f}`);
      assert.equal(at('tracing_on'), '0\n');
      assert.equal(at('buffer_size_kb'), '8192\n');
      assert.equal(at('trace_clock'), 'mono\n');
      assert.deepEqual(at('set_event').trim().split('\n'), plan.events);
      const r = runSteps(plan, 3);
      doSteps(io, r.before);
      assert.equal(at('trace'), '', 'the buffer is cleared before the run');
      assert.equal(at('tracing_on'), '1\n');
      assert.equal(at('trace_marker'), 'xtrace: run=3 begin\n');
      doSteps(io, r.after);
      assert.equal(at('trace_marker'), 'xtrace: run=3 end\n');
      assert.equal(at('tracing_on'), '0\n');
    } finally {
      t.cleanup();
    }
  });

  it('the undo restores every file to its original content, the instance list included', () => {
    const t = tempDir();
    try {
      const io = fakeTracefs(t.dir, availableEvents(linuxBlock, []));
      const before = snapshot(t.dir);
      const plan = planRecording(linuxBlock, io.read('available_events'), opts);
      const undo = applySteps(io, plan.setup);
      doSteps(io, runSteps(plan, 1).before);
      assert.notDeepEqual(snapshot(t.dir), before);
      assert.deepEqual(undoSteps(io, undo), []);
      assert.deepEqual(snapshot(t.dir), before);
    } finally {
      t.cleanup();
    }
  });

  it('writes to global files are undone to their content as found (set_event list, selected clock, buffer size)', () => {
    const t = tempDir();
    try {
      const io = fakeTracefs(t.dir, '');
      const before = snapshot(t.dir);
      const undo = applySteps(io, [
        { op: 'write', path: 'set_event', value: '' },
        { op: 'write', path: 'set_event', value: 'block:block_rq_issue', append: true },
        { op: 'write', path: 'trace_clock', value: 'mono' },
        { op: 'write', path: 'buffer_size_kb', value: '4096' },
        { op: 'write', path: 'tracing_on', value: '1' },
      ]);
      assert.equal(io.read('set_event'), 'block:block_rq_issue\n');
      undoSteps(io, undo);
      // The fake stores what is written: a clock written back reads `global`, as the kernel would show `[global]` selected.
      const after = snapshot(t.dir);
      assert.equal(after.get('trace_clock'), 'global\n');
      assert.equal(after.get('buffer_size_kb'), '7\n');
      after.set('trace_clock', before.get('trace_clock')!);
      after.set('buffer_size_kb', before.get('buffer_size_kb')!);
      assert.deepEqual(after, before);
    } finally {
      t.cleanup();
    }
  });

  it('a failing step undoes the steps already done', () => {
    const t = tempDir();
    try {
      const io = fakeTracefs(t.dir, '');
      const before = snapshot(t.dir);
      const plan = planRecording(linuxBlock, null, opts);
      assert.throws(() => applySteps(io, [...plan.setup, { op: 'write', path: 'instances/xtrace-42/no/such/file', value: '1' }]), /ENOENT/);
      assert.deepEqual(snapshot(t.dir), before);
    } finally {
      t.cleanup();
    }
  });

  it('restoreSteps reads what tracefs shows', () => {
    assert.deepEqual(restoreSteps('trace_clock', '[local] global\n'), [{ op: 'write', path: 'trace_clock', value: 'local' }]);
    assert.deepEqual(restoreSteps('x/buffer_size_kb', '7 (expanded: 1408)\n'), [{ op: 'write', path: 'x/buffer_size_kb', value: '7' }]);
    assert.deepEqual(restoreSteps('set_event', ''), [{ op: 'write', path: 'set_event', value: '' }]);
    assert.deepEqual(restoreSteps('trace', 'anything'), []);
    assert.equal(shellCommand({ op: 'write', path: 'i/trace_marker', value: 'xtrace: run=1 begin' }, '/t'), "echo 'xtrace: run=1 begin' > /t/i/trace_marker");
    assert.equal(shellCommand({ op: 'write', path: 'i/set_event', value: 'block:block_rq_issue', append: true }, '/t'), 'echo block:block_rq_issue >> /t/i/set_event');
  });
});

describe('buffer overflow', () => {
  it('nothing lost: no overflow', () => {
    assert.equal(overflowOf([parseCpuStats(0, 'entries: 500\noverrun: 0\ncommit overrun: 0\ndropped events: 0\n')], 4096), null);
  });

  it('the busiest CPU decides the size that would have held the run: written/held × buffer, +25 %, whole MB', () => {
    const stats = [parseCpuStats(0, 'entries: 28183\noverrun: 324335\ncommit overrun: 0\nbytes: 1400000\ndropped events: 0\n'), parseCpuStats(1, 'entries: 100\noverrun: 0\n')];
    const o = overflowOf(stats, 1410)!;
    assert.equal(o.lostEvents, 324335);
    // 352518 events at 1410/28183 KB each = 17636 KB; × 1.25 = 22045 KB → 22528 KB (22 MB).
    assert.equal(o.neededKb, 22528);
  });

  it('reads per_cpu stats of an instance', () => {
    const t = tempDir();
    try {
      const io = fakeTracefs(t.dir, '');
      io.mkdir('instances/x');
      io.write('instances/x/per_cpu/cpu1/stats', 'entries: 10\noverrun: 5\ncommit overrun: 1\nbytes: 640\ndropped events: 2\n');
      assert.deepEqual(bufferStats(io, 'instances/x'), [
        { cpu: 0, entries: 0, overrun: 0, dropped: 0 },
        { cpu: 1, entries: 10, overrun: 5, dropped: 3 },
      ]);
    } finally {
      t.cleanup();
    }
  });
});

describe('xtrace record refusals', () => {
  const asUser = process.getuid?.() === 0 ? (spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0 ? ['runuser', '-u', 'nobody', '--'] : null) : [];
  it('refuses without root, in one line that says so (exit 2)', { skip: asUser === null ? 'root here, and no runuser to drop it' : false }, () => {
    const r = spawnSync(asUser![0] ?? process.execPath, [...asUser!.slice(1), ...(asUser!.length ? [process.execPath] : []), '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'record', '-p', 'linux-block', '--', 'true'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, 'error: xtrace record needs root: tracefs (/sys/kernel/tracing) is writable by root only; run it as root, or use --dry-run to print the tracefs commands\n');
  });
});

describe('xtrace record --dry-run', () => {
  it('prints the tracefs commands (a shell script) for recording by other means', () => {
    const r = xtrace(['record', '-p', 'linux-block', '--runs', '2', '--buffer-kb', '2048', '--dry-run', '--', 'fio', '--name=x', 'job file.fio']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.find((l) => l.startsWith('mkdir '))!, /^mkdir \/sys\/kernel(\/debug)?\/tracing\/instances\/xtrace-\d+$/);
    assert.ok(lines.some((l) => /^echo 2048 > .*\/instances\/xtrace-\d+\/buffer_size_kb$/.test(l)));
    assert.ok(lines.some((l) => /block_rq_issue >> .*\/set_event$/.test(l)));
    assert.equal(lines.filter((l) => l === "fio --name=x 'job file.fio'").length, 2);
    assert.ok(lines.some((l) => /^echo 'xtrace: run=2 end' > .*\/trace_marker$/.test(l)));
    assert.match(lines.filter((l) => l.startsWith('rmdir ')).join(), /instances\/xtrace-\d+$/);
  });
});
