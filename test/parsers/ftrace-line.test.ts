/**
 * Unit tests of the ftrace line grammar (parsers/ftrace/line.ts) and of the timestamp helpers
 * (src/core/time.ts). Every input line is modelled on real kernel / trace-cmd output: the samples
 * in samples/linux-block-* and samples/public, and the kernel's printf formats
 * (`"%16s-%-7d "`, `"(%7d) "`, `"[%03d] "`, `" %5lu.%06lu: "`, latency `"%8.8s-%-7d %3d"` + flags +
 * `" %4lldus%c: "`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hexCanon,
  looksTruncated,
  parseKernelPrefix,
  parseLatencyPrefix,
  parseLost,
  splitEvent,
  type LatencyPrefix,
  type LinePrefix,
} from '../../parsers/ftrace/line.js';
import { parseTicks, secondsToNs, ticksToNs } from '../../src/core/time.js';

function kernel(line: string): LinePrefix {
  const p = parseKernelPrefix(line);
  assert.ok(p !== null, `parseKernelPrefix should accept: ${JSON.stringify(line)}`);
  return p;
}

function latency(line: string): LatencyPrefix {
  const p = parseLatencyPrefix(line);
  assert.ok(p !== null, `parseLatencyPrefix should accept: ${JSON.stringify(line)}`);
  return p;
}

const SCHED_SWITCH_ARGS =
  'prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=12533 next_prio=120';

describe('parseKernelPrefix: context columns', () => {
  it('5-char flags `d..2.` (kernel >= 5.13), pid padded to 7 columns', () => {
    const line = `            bash-12528   [001] d..2.   904.350922: sched_switch: ${SCHED_SWITCH_ARGS}`;
    assert.deepEqual(kernel(line), {
      comm: 'bash',
      pid: 12528,
      tgid: null,
      cpu: 1,
      flags: 'd..2.',
      sec: '904',
      frac: '350922',
      rest: `sched_switch: ${SCHED_SWITCH_ARGS}`,
    });
  });

  it('5-wide pid (`%-5d`, old kernels / trace-cmd) followed by one space', () => {
    const line = '            bash-1994  [002] d..2.  3082.063030: sched_wakeup: comm=kworker/2:1 pid=72 prio=120 target_cpu=002';
    const p = kernel(line);
    assert.equal(p.comm, 'bash');
    assert.equal(p.pid, 1994);
    assert.equal(p.cpu, 2);
    assert.equal(p.flags, 'd..2.');
    assert.equal(p.sec, '3082');
    assert.equal(p.frac, '063030');
    assert.equal(p.rest, 'sched_wakeup: comm=kworker/2:1 pid=72 prio=120 target_cpu=002');
  });

  it('4-char flags `d.h.` (kernels before 5.13)', () => {
    const line = '          <idle>-0     [001] d.h.   230.859933: irq_handler_entry: irq=162 name=arch_timer';
    assert.deepEqual(kernel(line), {
      comm: '<idle>',
      pid: 0,
      tgid: null,
      cpu: 1,
      flags: 'd.h.',
      sec: '230',
      frac: '859933',
      rest: 'irq_handler_entry: irq=162 name=arch_timer',
    });
  });

  it('no flags column (noirq-info)', () => {
    const line = `bash-123 [001] 904.350922: sched_switch: ${SCHED_SWITCH_ARGS}`;
    assert.deepEqual(kernel(line), {
      comm: 'bash',
      pid: 123,
      tgid: null,
      cpu: 1,
      flags: null,
      sec: '904',
      frac: '350922',
      rest: `sched_switch: ${SCHED_SWITCH_ARGS}`,
    });
  });

  it('7-digit pid filling the whole `%-7d` column', () => {
    const line = '   kworker/u16:3-4194303 [002] d..2.   904.350922: sched_wakeup: comm=fio pid=12607 prio=120 target_cpu=002';
    const p = kernel(line);
    assert.equal(p.comm, 'kworker/u16:3');
    assert.equal(p.pid, 4194303);
    assert.equal(p.cpu, 2);
    assert.equal(p.flags, 'd..2.');
    assert.equal(p.rest, 'sched_wakeup: comm=fio pid=12607 prio=120 target_cpu=002');
  });

  it('record-tgid column `(  12671)`', () => {
    const line = '             seq-12671   (  12671) [001] .....   911.302756: sys_pread64 -> 0x310';
    assert.deepEqual(kernel(line), {
      comm: 'seq',
      pid: 12671,
      tgid: 12671,
      cpu: 1,
      flags: '.....',
      sec: '911',
      frac: '302756',
      rest: 'sys_pread64 -> 0x310',
    });
  });

  it('record-tgid column with a tgid different from the pid `(  611)`', () => {
    const line = 'RenderThread-1143  (  611) [004] ...1 514769.085985: tracing_mark_write: E';
    const p = kernel(line);
    assert.equal(p.comm, 'RenderThread');
    assert.equal(p.pid, 1143);
    assert.equal(p.tgid, 611);
    assert.equal(p.cpu, 4);
    assert.equal(p.flags, '...1');
    assert.equal(p.rest, 'tracing_mark_write: E');
  });

  it('record-tgid placeholder `(-------)` gives tgid null', () => {
    const line =
      '          <idle>-0       (-------) [000] d..2.   911.303047: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120';
    const p = kernel(line);
    assert.equal(p.comm, '<idle>');
    assert.equal(p.pid, 0);
    assert.equal(p.tgid, null);
    assert.equal(p.cpu, 0);
    assert.equal(p.flags, 'd..2.');
  });

  it('old record-tgid placeholder `(-----)` gives tgid null', () => {
    const line = '          <idle>-0     (-----) [002] d..3 514769.086339: sched_switch: prev_comm=swapper/2 prev_pid=0';
    const p = kernel(line);
    assert.equal(p.tgid, null);
    assert.equal(p.cpu, 2);
    assert.equal(p.flags, 'd..3');
    assert.equal(p.sec, '514769');
  });

  it('comm with a space (`Web Content-2711`)', () => {
    const line =
      '     Web Content-2711  [001] d..3.  2391.457436: sched_switch: prev_comm=Web Content prev_pid=2711 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120';
    const p = kernel(line);
    assert.equal(p.comm, 'Web Content');
    assert.equal(p.pid, 2711);
    assert.equal(p.cpu, 1);
    assert.equal(p.flags, 'd..3.');
    assert.ok(p.rest.startsWith('sched_switch: prev_comm=Web Content prev_pid=2711'));
  });

  it('comm with a slash, a colon, digits (`kworker/5:2-1497`, trace-cmd, no flags)', () => {
    const line = '     kworker/5:2-1497  [005]   454.414591: thermal_temperature:  thermal_zone=cls0 id=0 temp_prev=62357 temp=79553';
    assert.deepEqual(kernel(line), {
      comm: 'kworker/5:2',
      pid: 1497,
      tgid: null,
      cpu: 5,
      flags: null,
      sec: '454',
      frac: '414591',
      rest: 'thermal_temperature:  thermal_zone=cls0 id=0 temp_prev=62357 temp=79553',
    });
  });

  it('comm with dots, longer than 16 chars, no left padding (`com.android.systemui-611`)', () => {
    const line =
      'com.android.systemui-611   (  611) [001] d..5 514769.086090: sched_wakeup: comm=Binder_5 pid=679 prio=120 success=1 target_cpu=001 state=W';
    const p = kernel(line);
    assert.equal(p.comm, 'com.android.systemui');
    assert.equal(p.pid, 611);
    assert.equal(p.tgid, 611);
    assert.equal(p.cpu, 1);
    assert.equal(p.flags, 'd..5');
    assert.equal(p.sec, '514769');
    assert.equal(p.frac, '086090');
  });

  it('comm with a dash and digits before the pid (`irq/36-virtio-221`)', () => {
    const line = '   irq/36-virtio-221     [000] d..2.   904.351500: sched_switch: prev_comm=irq/36-virtio prev_pid=221';
    const p = kernel(line);
    assert.equal(p.comm, 'irq/36-virtio');
    assert.equal(p.pid, 221);
    assert.equal(p.cpu, 0);
  });

  it('unknown comm `<...>-4083`', () => {
    const line = '           <...>-4083  [004] ....   395.705679: sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)';
    assert.deepEqual(kernel(line), {
      comm: '<...>',
      pid: 4083,
      tgid: null,
      cpu: 4,
      flags: '....',
      sec: '395',
      frac: '705679',
      rest: 'sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)',
    });
  });

  it('idle task `<idle>-0`', () => {
    const line = '          <idle>-0       [000] dNh2.   904.351034: sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=000';
    const p = kernel(line);
    assert.equal(p.comm, '<idle>');
    assert.equal(p.pid, 0);
    assert.equal(p.flags, 'dNh2.');
  });

  it('TAB-compressed comm padding (trappy trace_idle_unsorted)', () => {
    const line = '\t  <idle>-0     [006]  7115.449607: sched_switch:          prev_comm=swapper/6 prev_pid=0 prev_prio=120 prev_state=1 next_comm=kworker/6:2 next_pid=11630 next_prio=120';
    assert.deepEqual(kernel(line), {
      comm: '<idle>',
      pid: 0,
      tgid: null,
      cpu: 6,
      flags: null,
      sec: '7115',
      frac: '449607',
      rest: 'sched_switch:          prev_comm=swapper/6 prev_pid=0 prev_prio=120 prev_state=1 next_comm=kworker/6:2 next_pid=11630 next_prio=120',
    });
  });

  it('trace-cmd report line with the event name padded to 20 columns', () => {
    const line = '            bash-12596 [001]   907.686397: sched_switch:         bash:12596 [120] S ==> bash:12601 [120]';
    const p = kernel(line);
    assert.equal(p.comm, 'bash');
    assert.equal(p.pid, 12596);
    assert.equal(p.cpu, 1);
    assert.equal(p.flags, null);
    assert.equal(p.sec, '907');
    assert.equal(p.frac, '686397');
    assert.deepEqual(splitEvent(p.rest), { name: 'sched_switch', args: 'bash:12596 [120] S ==> bash:12601 [120]' });
  });

  it('trace-cmd `-t`: 9-digit nanosecond timestamps are exact', () => {
    const line = '             seq-12601 [001]   907.687310123: sys_exit_pread64:     0x310';
    const p = kernel(line);
    assert.equal(p.sec, '907');
    assert.equal(p.frac, '687310123');
    assert.ok(p.frac !== null);
    assert.equal(secondsToNs(p.sec, p.frac), 907687310123);
  });

  it('6-digit microsecond timestamps are exact', () => {
    const p = kernel(`            bash-12528   [001] d..2.   904.350922: sched_switch: ${SCHED_SWITCH_ARGS}`);
    assert.ok(p.frac !== null);
    assert.equal(secondsToNs(p.sec, p.frac), 904350922000);
  });

  it('huge seconds (uptime > 104 days) give an exact bigint', () => {
    const p = kernel('            bash-12528   [001] d..2. 10000000.123456: sched_wakeup: comm=fio pid=1 prio=120 target_cpu=001');
    assert.equal(p.sec, '10000000');
    assert.equal(p.frac, '123456');
    assert.ok(p.frac !== null);
    const ns = secondsToNs(p.sec, p.frac);
    assert.equal(typeof ns, 'bigint');
    assert.equal(ns, 10000000123456000n);
  });

  it('raw counter / x86-tsc timestamps without a dot', () => {
    const line = '            bash-12528   [001] d..2. 12345678901234: sched_switch: prev_comm=bash prev_pid=12528';
    const p = kernel(line);
    assert.equal(p.sec, '12345678901234');
    assert.equal(p.frac, null);
    assert.equal(p.flags, 'd..2.');
    assert.equal(p.rest, 'sched_switch: prev_comm=bash prev_pid=12528');
    assert.equal(parseTicks(p.sec), 12345678901234);
  });

  it('raw counter timestamp without a flags column (`" %12llu"` padding)', () => {
    const p = kernel('            bash-12528   [001]       123456: sched_switch: prev_comm=bash');
    assert.equal(p.flags, null);
    assert.equal(p.sec, '123456');
    assert.equal(p.frac, null);
  });

  it('an event with an empty payload (`name:` at the end of the line)', () => {
    const p = kernel('            bash-12528   [001] d..2.   904.350922: rcu_utilization:');
    assert.equal(p.rest, 'rcu_utilization:');
    assert.deepEqual(splitEvent(p.rest), { name: 'rcu_utilization', args: '' });
  });

  it('rejects lines that are not event lines', () => {
    assert.equal(parseKernelPrefix('# tracer: nop'), null);
    assert.equal(parseKernelPrefix('CPU:1 [LOST 1234 EVENTS]'), null);
    assert.equal(parseKernelPrefix('cpus=2'), null);
    assert.equal(parseKernelPrefix(' => __x64_sys_pread64'), null);
    assert.equal(parseKernelPrefix('some = 000, other = 0x4'), null);
    assert.equal(parseKernelPrefix('garbage [001] 904.350922: sched_switch: prev_comm=bash'), null);
    assert.equal(parseKernelPrefix(''), null);
  });
});

describe('parseLatencyPrefix: latency-format lines', () => {
  it('`"%8.8s-%-7d %3d"` + 5 flags + `" %4lldus%c: "` with a blank delay mark', () => {
    const line = `    bash-12528     1d..2.  123us : sched_switch: ${SCHED_SWITCH_ARGS}`;
    assert.deepEqual(latency(line), {
      comm: 'bash',
      pid: 12528,
      tgid: null,
      cpu: 1,
      flags: 'd..2.',
      sec: '123',
      frac: null,
      mark: ' ',
      rest: `sched_switch: ${SCHED_SWITCH_ARGS}`,
    });
  });

  it('`!` delay mark', () => {
    const line = '    bash-12528     1d..2.  123us!: sched_wakeup: comm=seq pid=12533 prio=120 target_cpu=001';
    const p = latency(line);
    assert.equal(p.mark, '!');
    assert.equal(p.sec, '123');
    assert.equal(p.flags, 'd..2.');
    assert.equal(p.rest, 'sched_wakeup: comm=seq pid=12533 prio=120 target_cpu=001');
  });

  it('delay marks `+`, `#`, `*`, `@`, `$` and timestamps wider than 4 digits', () => {
    for (const mark of ['+', '#', '*', '@', '$']) {
      const p = latency(`  <idle>-0         0d.h1. 904351us${mark}: irq_handler_entry: irq=36 name=virtio1-req.0`);
      assert.equal(p.mark, mark);
      assert.equal(p.sec, '904351');
      assert.equal(p.comm, '<idle>');
      assert.equal(p.pid, 0);
      assert.equal(p.cpu, 0);
      assert.equal(p.flags, 'd.h1.');
    }
  });

  it('non-ns clock form `" %4lld: "` (no `us`, no mark)', () => {
    const line = '    bash-12528     1d..2.  123: sched_switch: prev_comm=bash prev_pid=12528';
    const p = latency(line);
    assert.equal(p.sec, '123');
    assert.equal(p.mark, null);
    assert.equal(p.frac, null);
    assert.equal(p.cpu, 1);
    assert.equal(p.flags, 'd..2.');
    assert.equal(p.rest, 'sched_switch: prev_comm=bash prev_pid=12528');
  });

  it('old `"%8.8s-%-5d %3d"` + 4 flags, comm cut to 8 chars', () => {
    const line = 'kworker/-72        2d..1    5us+: sched_switch: prev_comm=kworker/2:1 prev_pid=72';
    const p = latency(line);
    assert.equal(p.comm, 'kworker/');
    assert.equal(p.pid, 72);
    assert.equal(p.cpu, 2);
    assert.equal(p.flags, 'd..1');
    assert.equal(p.sec, '5');
    assert.equal(p.mark, '+');
  });

  it('3-digit cpu right against the flags', () => {
    const p = latency('    bash-1234567 123dN.1.   42us : sched_wakeup: comm=fio pid=1');
    assert.equal(p.pid, 1234567);
    assert.equal(p.cpu, 123);
    assert.equal(p.flags, 'dN.1.');
    assert.equal(p.sec, '42');
  });

  it('a normal kernel line is not a latency line', () => {
    assert.equal(parseLatencyPrefix(`            bash-12528   [001] d..2.   904.350922: sched_switch: ${SCHED_SWITCH_ARGS}`), null);
    assert.equal(parseLatencyPrefix('# nop latency trace v1.1.5 on 6.1.0'), null);
  });
});

describe('splitEvent: names and payloads', () => {
  it('plain `name: args`', () => {
    assert.deepEqual(splitEvent('block_rq_issue: 254,0 RA 16384 () 30273368 + 32 be,0,4 [bash]'), {
      name: 'block_rq_issue',
      args: '254,0 RA 16384 () 30273368 + 32 be,0,4 [bash]',
    });
  });

  it('values containing spaces and colons stay in args', () => {
    assert.deepEqual(splitEvent('sched_switch: prev_comm=Web Content prev_pid=2711 prev_prio=120 prev_state=S ==> next_comm=kworker/1:2 next_pid=77 next_prio=120'), {
      name: 'sched_switch',
      args: 'prev_comm=Web Content prev_pid=2711 prev_prio=120 prev_state=S ==> next_comm=kworker/1:2 next_pid=77 next_prio=120',
    });
  });

  it('kernel syscall entry `sys_pread64(fd: 3, buf: 0x..., count: 0x310, pos: 0x40)`', () => {
    assert.deepEqual(splitEvent('sys_pread64(fd: 3, buf: 0x7ffe6b73fec0, count: 0x310, pos: 0x40)'), {
      name: 'sys_enter_pread64',
      args: 'fd=0x3 buf=0x7ffe6b73fec0 count=0x310 pos=0x40',
    });
  });

  it('kernel syscall exit `sys_pread64 -> 0x310`', () => {
    assert.deepEqual(splitEvent('sys_pread64 -> 0x310'), { name: 'sys_exit_pread64', args: 'ret=0x310' });
  });

  it('old kernel syscall entry with bare hex values `sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)`', () => {
    assert.deepEqual(splitEvent('sys_ioctl(fd: ff, cmd: 5410, arg: 7ffe0babe8fc)'), {
      name: 'sys_enter_ioctl',
      args: 'fd=0xff cmd=0x5410 arg=0x7ffe0babe8fc',
    });
  });

  it('old kernel syscall exit with a negative errno `sys_recvmsg -> 0xfffffffffffffff5`', () => {
    assert.deepEqual(splitEvent('sys_recvmsg -> 0xfffffffffffffff5'), {
      name: 'sys_exit_recvmsg',
      args: 'ret=0xfffffffffffffff5',
    });
  });

  it('syscall without arguments `sys_getpid()`', () => {
    assert.deepEqual(splitEvent('sys_getpid()'), { name: 'sys_enter_getpid', args: '' });
  });

  it('trace-cmd syscall entry `sys_enter_pread64:    fd: 0x00000003, ...`', () => {
    assert.deepEqual(splitEvent('sys_enter_pread64:    fd: 0x00000003, buf: 0x7ffc86ec7e10, count: 0x00000310, pos: 0x00000040'), {
      name: 'sys_enter_pread64',
      args: 'fd=0x3 buf=0x7ffc86ec7e10 count=0x310 pos=0x40',
    });
  });

  it('trace-cmd syscall exit `sys_exit_pread64:     0x310`', () => {
    assert.deepEqual(splitEvent('sys_exit_pread64:     0x310'), { name: 'sys_exit_pread64', args: 'ret=0x310' });
  });

  it('kernel and trace-cmd syscall renderings give the same name and args', () => {
    const kEnter = splitEvent('sys_pread64(fd: 3, buf: 0x7ffc86ec7e10, count: 0x310, pos: 0x40)');
    const tEnter = splitEvent('sys_enter_pread64:    fd: 0x00000003, buf: 0x7ffc86ec7e10, count: 0x00000310, pos: 0x00000040');
    assert.deepEqual(kEnter, tEnter);
    assert.deepEqual(kEnter, { name: 'sys_enter_pread64', args: 'fd=0x3 buf=0x7ffc86ec7e10 count=0x310 pos=0x40' });
    const kExit = splitEvent('sys_pread64 -> 0x310');
    const tExit = splitEvent('sys_exit_pread64:     0x310');
    assert.deepEqual(kExit, tExit);
    assert.deepEqual(kExit, { name: 'sys_exit_pread64', args: 'ret=0x310' });
  });

  it('trace-cmd negative decimal syscall return `sys_exit_recvmsg: -11` equals the kernel hex', () => {
    assert.deepEqual(splitEvent('sys_exit_recvmsg:     -11'), splitEvent('sys_recvmsg -> 0xfffffffffffffff5'));
  });

  it('trace-cmd `print:` wrapper equals the kernel `tracing_mark_write:` line', () => {
    const tc = splitEvent('print:                tracing_mark_write: xtrace: run=1 begin');
    const k = splitEvent('tracing_mark_write: xtrace: run=1 begin');
    assert.deepEqual(tc, k);
    assert.deepEqual(k, { name: 'tracing_mark_write', args: 'xtrace: run=1 begin' });
  });

  it('trace-cmd `bprint:` wrapper equals the kernel trace_printk line', () => {
    const tc = splitEvent('bprint:  __do_block_io_op: xt be_get_req domid=5 sector=8192 nr=8');
    const k = splitEvent('__do_block_io_op: xt be_get_req domid=5 sector=8192 nr=8');
    assert.deepEqual(tc, k);
    assert.deepEqual(k, { name: '__do_block_io_op', args: 'xt be_get_req domid=5 sector=8192 nr=8' });
  });

  it('trace-cmd `bputs:` wrapper is removed', () => {
    assert.deepEqual(splitEvent('bputs:                xt_probe: hello'), { name: 'xt_probe', args: 'hello' });
  });

  it('catapult marker with an unresolved ip `0: C|124|VSYNC|1`', () => {
    assert.deepEqual(splitEvent('0: C|124|VSYNC|1'), { name: '0', args: 'C|124|VSYNC|1' });
  });

  it('atrace marker payload keeps its inner colons', () => {
    assert.deepEqual(splitEvent('tracing_mark_write: trace_event_clock_sync: realtime_ts=1448979311493'), {
      name: 'tracing_mark_write',
      args: 'trace_event_clock_sync: realtime_ts=1448979311493',
    });
  });

  it(
    'kernel `<stack trace>` line (printed without a colon) is named `<stack trace>`',

    () => {
      // kernel/trace/trace_output.c trace_stack_print(): trace_seq_puts(s, "<stack trace>\n")
      const b = splitEvent('<stack trace>');
      assert.equal(b.name, '<stack trace>');
      assert.equal(b.args, '');
    },
  );

  it(
    'kernel `<user stack trace>` line is named `<user stack trace>`',

    () => {
      const b = splitEvent('<user stack trace>');
      assert.equal(b.name, '<user stack trace>');
      assert.equal(b.args, '');
    },
  );

  it('`<stack trace>:` with a colon keeps the name with its space', () => {
    assert.deepEqual(splitEvent('<stack trace>:'), { name: '<stack trace>', args: '' });
  });

  it('function tracer line `do_sys_open <-sys_open` is named `function`', () => {
    assert.deepEqual(splitEvent('do_sys_open <-sys_open'), { name: 'function', args: 'do_sys_open <-sys_open' });
  });

  it('function tracer line without the parent (`nofunction-parent`) is named `function`', () => {
    assert.deepEqual(splitEvent('tick_sched_timer'), { name: 'function', args: 'tick_sched_timer' });
  });

  it('`[FAILED TO PARSE]` payload is kept verbatim', () => {
    const rest = 'thermal_power_cpu_get_power: [FAILED TO PARSE] cpumask=ARRAY[0f, 00, 00, 00, 00, 00, 00, 00] freq=0x82208 load=ARRAY[02, 00] dynamic_power=0x1d1';
    assert.deepEqual(splitEvent(rest), {
      name: 'thermal_power_cpu_get_power',
      args: '[FAILED TO PARSE] cpumask=ARRAY[0f, 00, 00, 00, 00, 00, 00, 00] freq=0x82208 load=ARRAY[02, 00] dynamic_power=0x1d1',
    });
  });

  it('function_graph as events with raw fields (`funcgraph_entry:`)', () => {
    assert.deepEqual(splitEvent('funcgraph_entry:      func=0xffffffff8110e6d0 depth=0'), {
      name: 'funcgraph_entry',
      args: 'func=0xffffffff8110e6d0 depth=0',
    });
  });
});

describe('hexCanon', () => {
  it('decimal-looking and bare hex values are hex (the kernel prints syscall args in hex)', () => {
    assert.equal(hexCanon('3'), '0x3');
    assert.equal(hexCanon('ff'), '0xff');
    assert.equal(hexCanon('5410'), '0x5410');
    assert.equal(hexCanon('7ffe0babe8fc'), '0x7ffe0babe8fc');
  });

  it('leading zeros and upper case are normalised', () => {
    assert.equal(hexCanon('0x00000003'), '0x3');
    assert.equal(hexCanon('0x00000310'), '0x310');
    assert.equal(hexCanon('0X1F'), '0x1f');
    assert.equal(hexCanon('00FF'), '0xff');
  });

  it('zero in every rendering is `0x0`', () => {
    assert.equal(hexCanon('0'), '0x0');
    assert.equal(hexCanon('0x0'), '0x0');
    assert.equal(hexCanon('0x00000000'), '0x0');
  });

  it('negative decimals become 64-bit two\'s complement', () => {
    assert.equal(hexCanon('-11'), '0xfffffffffffffff5');
    assert.equal(hexCanon('-1'), '0xffffffffffffffff');
  });

  it('non-numbers are returned unchanged', () => {
    assert.equal(hexCanon('(null)'), '(null)');
    assert.equal(hexCanon(''), '');
    assert.equal(hexCanon('0x'), '0x');
    assert.equal(hexCanon('-0x5'), '-0x5');
    assert.equal(hexCanon('handled'), 'handled');
  });
});

describe('parseLost', () => {
  it('kernel rendering `CPU:1 [LOST 1234 EVENTS]`', () => {
    assert.deepEqual(parseLost('CPU:1 [LOST 1234 EVENTS]'), { cpu: 1, lost: 1234 });
  });

  it('trace-cmd rendering `CPU:1 [1234 EVENTS DROPPED]`', () => {
    assert.deepEqual(parseLost('CPU:1 [1234 EVENTS DROPPED]'), { cpu: 1, lost: 1234 });
  });

  it('leading / trailing whitespace is allowed', () => {
    assert.deepEqual(parseLost('  CPU:12 [LOST 7 EVENTS]  '), { cpu: 12, lost: 7 });
  });

  it('other lines are not lost-event lines', () => {
    assert.equal(parseLost('CPU 3 is empty'), null);
    assert.equal(parseLost('CPU:1 [EVENTS DROPPED]'), null);
    assert.equal(parseLost('            bash-12528   [001] d..2.   904.350922: sched_wakeup: comm=a pid=1 prio=120 target_cpu=001'), null);
  });
});

describe('looksTruncated', () => {
  it('complete sched_switch in kernel, trace-cmd and raw renderings', () => {
    assert.equal(looksTruncated('sched_switch', SCHED_SWITCH_ARGS), false);
    assert.equal(looksTruncated('sched_switch', 'bash:12596 [120] S ==> bash:12601 [120]'), false);
    assert.equal(
      looksTruncated('sched_switch', 'prev_comm=trace-cmd prev_pid=4734 prev_prio=120 prev_state=1024 next_comm=migration/2 next_pid=18 next_prio=0'),
      false,
    );
  });

  it('sched_switch cut after prev_pid (trappy trace_idle_unsorted last line)', () => {
    assert.equal(looksTruncated('sched_switch', 'prev_comm=bash prev_pid=14840'), true);
  });

  it('block events must end with `[comm]`', () => {
    assert.equal(looksTruncated('block_rq_issue', '254,0 RA 16384 () 30273368 + 32 be,0,4 [bash]'), false);
    assert.equal(looksTruncated('block_rq_issue', '254,0 RA 16384 () 30273368 + 32 be,0,4 [ba'), true);
    assert.equal(looksTruncated('block_rq_complete', '254,0 RA () 30273368 + 32 be,0,4 [0]'), false);
  });

  it('irq handler and cpu_idle events', () => {
    assert.equal(looksTruncated('irq_handler_entry', 'irq=36 name=virtio1-req.0'), false);
    assert.equal(looksTruncated('irq_handler_entry', 'irq=36'), true);
    assert.equal(looksTruncated('irq_handler_exit', 'irq=36 ret=handled'), false);
    assert.equal(looksTruncated('cpu_idle', 'state=4294967295 cpu_id=6'), false);
    assert.equal(looksTruncated('cpu_idle', 'state=4294967295'), true);
  });

  it('events with no known tail are never called truncated', () => {
    assert.equal(looksTruncated('tracing_mark_write', 'xtrace: run=1 beg'), false);
    assert.equal(looksTruncated('sys_enter_pread64', 'fd=0x3'), false);
  });
});

describe('secondsToNs / parseTicks / ticksToNs', () => {
  it('6 fraction digits are microseconds', () => {
    assert.equal(secondsToNs('904', '350922'), 904_350_922_000);
  });

  it('9 fraction digits are nanoseconds', () => {
    assert.equal(secondsToNs('907', '687310123'), 907_687_310_123);
  });

  it('short fractions are scaled by their digit count', () => {
    assert.equal(secondsToNs('1', '5'), 1_500_000_000);
    assert.equal(secondsToNs('0', '000001'), 1000);
    assert.equal(secondsToNs('0', ''), 0);
  });

  it('more than 9 fraction digits are cut to 9', () => {
    assert.equal(secondsToNs('1', '1234567891'), 1_123_456_789);
  });

  it('past 2^53 ns the result is an exact bigint', () => {
    assert.equal(secondsToNs('9007200', '254740993'), 9007200254740993n);
    assert.equal(secondsToNs('123456789012', '999999999'), 123456789012999999999n);
  });

  it('values below 2^53 are numbers', () => {
    const ns = secondsToNs('9007198', '999999999');
    assert.equal(typeof ns, 'number');
    assert.equal(ns, 9007198999999999);
  });

  it(
    'a value below 2^53 with 9007199 seconds is a number (Timestamp contract: number while exactly representable)',

    () => {
      const ns = secondsToNs('9007199', '000000000');
      assert.equal(ns, 9007199000000000);
      assert.equal(typeof ns, 'number');
    },
  );

  it('parseTicks: number while safe, bigint beyond', () => {
    assert.equal(parseTicks('12345678901234'), 12345678901234);
    assert.equal(parseTicks('9007199254740991'), 9007199254740991);
    assert.equal(parseTicks('9007199254740993'), 9007199254740993n);
    assert.equal(parseTicks('18446744073709551615'), 18446744073709551615n);
  });

  it('ticksToNs: exact conversion with a GHz TSC', () => {
    assert.equal(ticksToNs(2_500_000_000, 2.5e9), 1_000_000_000);
    assert.equal(ticksToNs(5, 2.5e9), 2); // 2 ns exactly
    assert.equal(ticksToNs(3_000_000, 3e9), 1_000_000);
  });

  it('ticksToNs: rounds to the nearest nanosecond', () => {
    assert.equal(ticksToNs(4, 3e9), 1); // 1.333 ns
    assert.equal(ticksToNs(5, 3e9), 2); // 1.667 ns
    // big tick counts go through the bigint path: 12345678901234 / 3 GHz = 4115.2263004113 s
    assert.equal(ticksToNs(12345678901234, 3e9), 4115226300411);
  });

  it('ticksToNs: bigint ticks and results beyond 2^53', () => {
    assert.equal(ticksToNs(18446744073709551615n, 1e9), 18446744073709551615n);
    assert.equal(ticksToNs(18446744073709551615n, 2e9), 9223372036854775808n); // 9223372036854775807.5 rounds up
    assert.equal(ticksToNs(9007199254740993n, 1e9), 9007199254740993n);
  });

  it('ticksToNs: number and bigint ticks agree', () => {
    for (const [t, hz] of [
      [1, 2.4e9],
      [8_999_999, 2.4e9],
      [123_456_789, 1_000_000_007],
      [8_999_999, 1_000_000_007],
    ] as const) {
      assert.equal(BigInt(ticksToNs(t, hz)), BigInt(ticksToNs(BigInt(t), hz)), `ticks ${t} hz ${hz}`);
    }
  });

  it(
    'ticksToNs rounds exactly even for a small frequency',

    () => {
      assert.equal(ticksToNs(7_000_000, 3), 2333333333333333);
    },
  );
});
