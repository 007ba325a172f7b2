/**
 * Tests of the streaming ftrace text parser `ftraceText` (parsers/ftrace/index.ts): events,
 * aggregated diagnostics and facts for whole inputs. Every completed parse is checked against
 * the line invariant `facts.lines === events + Σ count of line diagnostics`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ftraceText } from '../../parsers/ftrace/index.js';
import { COUNTERS as DIAGNOSTICS, type IngestCode as DiagCode } from '../../src/core/counters.js';
import { ParseError } from '../../src/core/errors.js';
import type { ParseOptions, RecordSink, SourceFacts, TraceEvent } from '../../src/core/types.js';

interface DiagAgg {
  count: number;
  firstLine: number;
  detail: string | undefined;
}

interface Parsed {
  events: TraceEvent[];
  diags: Map<DiagCode, DiagAgg>;
  facts: SourceFacts;
}

function collector(): { sink: RecordSink; out: Parsed } {
  const out: Parsed = { events: [], diags: new Map(), facts: {} };
  const sink: RecordSink = {
    event: (e) => void out.events.push({ ...e }),
    diag: (code, line, detail, count = 1) => {
      const d = out.diags.get(code);
      if (d) d.count += count;
      else out.diags.set(code, { count, firstLine: line, detail });
    },
    facts: (f) => void Object.assign(out.facts, f),
  };
  return { sink, out };
}

/** Parses `input` (fed in `chunk`-byte pieces when given) and checks the line invariant. */
function parse(input: string | Buffer, opts: Partial<ParseOptions> = {}, chunk?: number): Parsed {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const { sink, out } = collector();
  const p = ftraceText.open(sink, { path: 'test.txt', ...opts });
  const step = chunk ?? Math.max(buf.length, 1);
  for (let i = 0; i < buf.length; i += step) p.write(buf.subarray(i, i + step));
  p.end();
  assertLineInvariant(out);
  return out;
}

/** `facts.lines === events.length + Σ count of diagnostics whose catalogue entry has line: true`. */
function assertLineInvariant(r: Parsed): void {
  let lineDiags = 0;
  for (const [code, d] of r.diags) if (DIAGNOSTICS[code].line) lineDiags += d.count;
  assert.equal(typeof r.facts.lines, 'number', 'facts.lines is reported at the end');
  assert.equal(r.facts.lines, r.events.length + lineDiags, `lines ${r.facts.lines} != events ${r.events.length} + line diagnostics ${lineDiags}`);
}

function count(r: Parsed, code: DiagCode): number {
  return r.diags.get(code)?.count ?? 0;
}

function diag(r: Parsed, code: DiagCode): DiagAgg {
  const d = r.diags.get(code);
  assert.ok(d, `expected a ${code} diagnostic, got ${[...r.diags.keys()].join(', ') || 'none'}`);
  return d;
}

function lines(...ls: string[]): string {
  return ls.map((l) => l + '\n').join('');
}

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

const KERNEL_HEADER = [
  '# tracer: nop',
  '#',
  '# entries-in-buffer/entries-written: 3/3   #P:2',
  '#',
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

const EV1 =
  '            bash-12528   [001] d..2.   904.350922: sched_switch: prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=12533 next_prio=120';
const EV2 = '          <idle>-0       [000] dNh2.   904.351034: sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=000';
const EV3 = '             seq-12533   [001] .....   904.351306: block_bio_queue: 254,0 RA 30273368 + 32 [bash]';

describe('ftraceText: headers and facts', () => {
  it('kernel header lines are counted as header_line and give tracer / entries / cpus facts', () => {
    const r = parse(lines(...KERNEL_HEADER, EV1, EV2, EV3));
    assert.equal(r.events.length, 3);
    assert.equal(count(r, 'header_line'), 12);
    assert.equal(diag(r, 'header_line').firstLine, 1);
    assert.equal(count(r, 'buffer_overrun'), 0);
    assert.equal(r.facts.tracer, 'nop');
    assert.equal(r.facts.entriesInBuffer, 3);
    assert.equal(r.facts.entriesWritten, 3);
    assert.equal(r.facts.cpus, 2);
    assert.equal(r.facts.variant, 'ftrace');
    assert.equal(r.facts.clockKind, 'ns');
    assert.equal(r.facts.lines, 15);
    assert.deepEqual(
      r.events.map((e) => e.line),
      [13, 14, 15],
    );
  });

  it('event fields of a kernel line', () => {
    const r = parse(lines(EV1));
    assert.deepEqual(r.events[0], {
      line: 1,
      ts: 904_350_922_000,
      cpu: 1,
      pid: 12528,
      tgid: null,
      comm: 'bash',
      flags: 'd..2.',
      name: 'sched_switch',
      args: 'prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=12533 next_prio=120',
      part: null,
    });
  });

  it('entries-in-buffer/entries-written: 100/150 gives buffer_overrun 50', () => {
    const r = parse(lines('# tracer: nop', '#', '# entries-in-buffer/entries-written: 100/150   #P:4', '#', EV1));
    assert.equal(count(r, 'buffer_overrun'), 50);
    const d = diag(r, 'buffer_overrun');
    assert.equal(d.firstLine, 3);
    assert.match(d.detail ?? '', /100.*150/);
    assert.equal(r.facts.entriesInBuffer, 100);
    assert.equal(r.facts.entriesWritten, 150);
    assert.equal(r.facts.cpus, 4);
    assert.equal(count(r, 'header_line'), 4);
    assert.equal(DIAGNOSTICS.buffer_overrun.severity, 'data_loss');
  });

  it('`##### CPU 2 buffer started ####` is cpu_buffer_started, not header_line', () => {
    const r = parse(lines('# tracer: nop', '#', EV2, '##### CPU 2 buffer started ####', EV1));
    assert.equal(count(r, 'cpu_buffer_started'), 1);
    assert.equal(diag(r, 'cpu_buffer_started').firstLine, 4);
    assert.equal(count(r, 'header_line'), 2);
    assert.equal(r.events.length, 2);
    // the marker is not appended to the previous event
    assert.equal(r.events[0]!.args, 'comm=rcu_preempt pid=15 prio=120 target_cpu=000');
  });

  it('`CPU:0 [LOST 7 EVENTS]` gives lost_events 7 and lost_events_line 1', () => {
    const r = parse(lines(EV2, 'CPU:0 [LOST 7 EVENTS]', EV1));
    assert.equal(count(r, 'lost_events'), 7);
    assert.equal(count(r, 'lost_events_line'), 1);
    assert.equal(diag(r, 'lost_events').firstLine, 2);
    assert.match(diag(r, 'lost_events').detail ?? '', /CPU 0 lost 7 events/);
    assert.equal(r.events.length, 2);
    assert.equal(r.events[0]!.args, 'comm=rcu_preempt pid=15 prio=120 target_cpu=000');
  });

  it('trace-cmd `CPU:1 [3 EVENTS DROPPED]` lines add up', () => {
    const r = parse(lines('cpus=2', 'CPU:1 [3 EVENTS DROPPED]', EV1, 'CPU:0 [LOST 4 EVENTS]', EV2));
    assert.equal(count(r, 'lost_events'), 7);
    assert.equal(count(r, 'lost_events_line'), 2);
    assert.equal(r.events.length, 2);
  });

  it('trace-cmd preamble (`version = 6`, `CPU 3 is empty`, `cpus=6`) is tracecmd_header', () => {
    const r = parse(
      lines(
        'version = 6',
        'CPU 3 is empty',
        'CPU 4 is empty',
        'cpus=6',
        '              ls-4734  [002] 106439.675591: sched_switch:          prev_comm=trace-cmd prev_pid=4734 prev_prio=120 prev_state=1024 next_comm=migration/2 next_pid=18 next_prio=0',
        '     migration/2-18    [002] 106439.675613: sched_switch:          prev_comm=migration/2 prev_pid=18 prev_prio=0 prev_state=1 next_comm=trace-cmd next_pid=4732 next_prio=120',
      ),
    );
    assert.equal(count(r, 'tracecmd_header'), 4);
    assert.equal(diag(r, 'tracecmd_header').firstLine, 1);
    assert.equal(r.facts.cpus, 6);
    assert.equal(r.facts.variant, 'trace-cmd');
    assert.equal(r.events.length, 2);
    assert.deepEqual(r.events[0], {
      line: 5,
      ts: 106_439_675_591_000,
      cpu: 2,
      pid: 4734,
      tgid: null,
      comm: 'ls',
      flags: null,
      name: 'sched_switch',
      args: 'prev_comm=trace-cmd prev_pid=4734 prev_prio=120 prev_state=1024 next_comm=migration/2 next_pid=18 next_prio=0',
      part: null,
    });
  });

  it('blank and whitespace-only lines are blank_line', () => {
    const r = parse(lines('', EV1, '   ', '\t', EV2));
    assert.equal(count(r, 'blank_line'), 3);
    assert.equal(r.events.length, 2);
    assert.equal(r.events[0]!.args.includes('\n'), false);
  });
});

describe('ftraceText: multi-line events', () => {
  it('multi-line print (perfetto bad_print): continuation lines are appended with \\n', () => {
    const r = parse(
      lines(
        '           <...>-882   (  882) [003] .... 10852.771186: event: event: abc xyz =0x34 clk id = 019',
        'some = 000, other = 0x4',
        'xyz = 0x0 abc = 0x0',
        '  surfaceflinger-598   (  598) [004] .... 10852.771242: tracing_mark_write: B|598|some event',
        '  surfaceflinger-598   (  598) [004] .... 10852.771245: tracing_mark_write: E|598',
      ),
    );
    assert.equal(r.events.length, 3);
    assert.equal(count(r, 'continuation_line'), 2);
    assert.equal(diag(r, 'continuation_line').firstLine, 2);
    const first = r.events[0]!;
    assert.equal(first.name, 'event');
    assert.equal(first.comm, '<...>');
    assert.equal(first.tgid, 882);
    assert.equal(first.line, 1);
    assert.equal(first.args, 'event: abc xyz =0x34 clk id = 019\nsome = 000, other = 0x4\nxyz = 0x0 abc = 0x0');
    assert.deepEqual(
      r.events.slice(1).map((e) => [e.name, e.args, e.line]),
      [
        ['tracing_mark_write', 'B|598|some event', 4],
        ['tracing_mark_write', 'E|598', 5],
      ],
    );
  });

  it('`<stack trace>` followed by ` => func` lines: stack lines appended, counted stack_line', () => {
    const r = parse(
      lines(
        '          <idle>-0     [000] d.h.   230.859943: do_timer <-tick_do_update_jiffies64.part.0',
        '          <idle>-0     [000] d.h.   230.859993: <stack trace>',
        ' => tick_sched_timer',
        ' => __hrtimer_run_queues',
        '          <idle>-0     [001] d.h.   230.859999: irq_handler_entry: irq=162 name=arch_timer',
      ),
    );
    assert.equal(r.events.length, 3);
    assert.equal(count(r, 'stack_line'), 2);
    assert.equal(diag(r, 'stack_line').firstLine, 3);
    assert.equal(count(r, 'continuation_line'), 0);
    assert.equal(r.events[0]!.name, 'function');
    assert.equal(r.events[0]!.args, 'do_timer <-tick_do_update_jiffies64.part.0');
    const st = r.events[1]!;
    assert.equal(st.line, 2);
    assert.ok(st.args.endsWith('\n=> tick_sched_timer\n=> __hrtimer_run_queues'), JSON.stringify(st.args));
    assert.equal(r.events[2]!.args, 'irq=162 name=arch_timer');
  });

  it(
    '`<stack trace>` event is named `<stack trace>` with only the stack in args',

    () => {
      const r = parse(lines('          <idle>-0     [000] d.h.   230.859993: <stack trace>', ' => tick_sched_timer', ' => __hrtimer_run_queues'));
      assert.equal(r.events.length, 1);
      assert.equal(r.events[0]!.name, '<stack trace>');
      assert.equal(r.events[0]!.args, '\n=> tick_sched_timer\n=> __hrtimer_run_queues');
    },
  );

  it('a `=>` line with no event before it is unparsed_line', () => {
    const r = parse(lines(' => tick_sched_timer', EV1));
    assert.equal(count(r, 'unparsed_line'), 1);
    assert.equal(count(r, 'stack_line'), 0);
    assert.equal(r.events.length, 1);
  });
});

describe('ftraceText: damaged input', () => {
  it('a garbled line that looks like an event is unparsed_line with its first line and text', () => {
    // a flags column of 9 chars and a letter O in a timestamp: the context prefix is there, the grammar fails
    const garbled = '            bash-12528   [001] d..2.d..2   904.350930: sched_wakeup: comm=seq pid=12533 prio=120 target_cpu=001';
    const typo = '             seq-12533   [001] .....   904.35O922: block_bio_queue: 254,0 RA 30273368 + 32 [bash]';
    const r = parse(lines(EV1, garbled, EV3, typo));
    assert.equal(count(r, 'unparsed_line'), 2);
    const d = diag(r, 'unparsed_line');
    assert.equal(d.firstLine, 2);
    assert.ok(d.detail?.includes(garbled), d.detail);
    assert.ok(d.detail?.includes('line 2'), d.detail);
    assert.equal(r.events.length, 2);
    // not glued onto the previous event
    assert.equal(r.events[0]!.args.includes('\n'), false);
    assert.equal(r.events[1]!.args.includes('\n'), false);
    assert.equal(DIAGNOSTICS.unparsed_line.severity, 'data_loss');
  });

  it('text before any event is unparsed_line', () => {
    const r = parse(lines('hello world', EV1));
    assert.equal(count(r, 'unparsed_line'), 1);
    assert.equal(diag(r, 'unparsed_line').firstLine, 1);
    assert.equal(r.events.length, 1);
  });

  it('last line cut inside a sched_switch (trappy idle_unsorted) is truncated_last_line, event kept', () => {
    const r = parse(
      'version = 6\ncpus=8\n' +
        '\t  <idle>-0     [002]  7115.450065: cpu_idle:             state=2 cpu_id=2\n' +
        '\t    bash-14840 [005]  7115.450093: sched_switch:          prev_comm=bash prev_pid=14840\n',
    );
    assert.equal(r.events.length, 2);
    assert.equal(count(r, 'truncated_last_line'), 1);
    assert.equal(diag(r, 'truncated_last_line').firstLine, 4);
    assert.equal(r.events[1]!.name, 'sched_switch');
    assert.equal(r.events[1]!.args, 'prev_comm=bash prev_pid=14840');
    assert.equal(r.events[1]!.comm, 'bash');
  });

  it(
    'a last line cut right after the timestamp colon (no newline) is truncated_last_line',

    () => {
      const r = parse(lines(EV1) + '            bash-12528   [001] d..2.   904.350936:');
      assert.equal(count(r, 'truncated_last_line'), 1);
      assert.ok(r.events.every((e) => e.name !== 'function'));
    },
  );

  it('a complete last sched_switch is not truncated', () => {
    const r = parse(lines(EV2, EV1));
    assert.equal(count(r, 'truncated_last_line'), 0);
  });

  it('a last line cut inside the timestamp (no newline) is unparsed and truncated', () => {
    const r = parse(lines(EV1) + '            bash-12528   [001] d..2.   904.35');
    assert.equal(r.events.length, 1);
    assert.equal(count(r, 'unparsed_line'), 1);
    assert.equal(count(r, 'truncated_last_line'), 1);
    assert.equal(diag(r, 'truncated_last_line').firstLine, 2);
  });

  it('file without a trailing newline still yields its last event', () => {
    const r = parse(lines(EV2) + EV1);
    assert.equal(r.events.length, 2);
    assert.equal(r.events[1]!.line, 2);
    assert.equal(r.events[1]!.name, 'sched_switch');
    assert.ok(r.events[1]!.args.endsWith('next_prio=120'));
    assert.equal(count(r, 'truncated_last_line'), 0);
    assert.equal(r.facts.lines, 2);
  });

  it('trappy trace_no_trailing_line.txt: every line is an event, no truncation', () => {
    const buf = readFileSync(here('../../samples/public/trappy__tests_trace_no_trailing_line.txt'));
    assert.notEqual(buf[buf.length - 1], 10);
    const r = parse(buf);
    assert.equal(r.events.length, r.facts.lines);
    assert.equal(r.diags.size, 0);
    const last = r.events[r.events.length - 1]!;
    assert.equal(last.name, 'cpu_idle');
    assert.ok(last.args.endsWith('cpu_id=0'), last.args);
    assert.ok(r.events.every((e) => e.flags !== null && e.flags.length === 4));
  });

  it('CRLF line endings are stripped', () => {
    const r = parse([...KERNEL_HEADER.slice(0, 3), EV1, EV2].join('\r\n') + '\r\n');
    assert.equal(r.events.length, 2);
    assert.equal(count(r, 'header_line'), 3);
    assert.equal(r.facts.entriesInBuffer, 3);
    assert.equal(r.events[0]!.args, 'prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=12533 next_prio=120');
    assert.equal(r.events[1]!.args, 'comm=rcu_preempt pid=15 prio=120 target_cpu=000');
    assert.ok(r.events.every((e) => !e.args.includes('\r')));
    assert.equal(count(r, 'truncated_last_line'), 0);
  });

  it('out-of-order timestamps on the same CPU: ts_not_monotonic, events kept in input order', () => {
    const r = parse(
      lines(
        '\t  <idle>-0     [006]  7115.449624: cpu_idle:             state=0 cpu_id=6',
        '\t  <idle>-0     [005]  7115.449770: cpu_idle:             state=4294967295 cpu_id=5',
        '\t  <idle>-0     [006]  7115.449811: cpu_idle:             state=4294967295 cpu_id=6',
        '\t  <idle>-0     [006]  7115.449809: cpu_idle:             state=1 cpu_id=6',
        '\t  <idle>-0     [005]  7115.449700: cpu_idle:             state=1 cpu_id=5',
      ),
    );
    assert.deepEqual(
      r.events.map((e) => e.ts),
      [7115_449624_000, 7115_449770_000, 7115_449811_000, 7115_449809_000, 7115_449700_000],
    );
    assert.deepEqual(
      r.events.map((e) => e.line),
      [1, 2, 3, 4, 5],
    );
    assert.equal(count(r, 'ts_not_monotonic'), 2);
    assert.equal(diag(r, 'ts_not_monotonic').firstLine, 4);
  });

  it('earlier timestamps on another CPU are not ts_not_monotonic', () => {
    const r = parse(lines(EV3, EV2));
    assert.ok((r.events[1]!.ts as number) < (r.events[0]!.ts as number));
    assert.equal(count(r, 'ts_not_monotonic'), 0);
  });

  it('`[FAILED TO PARSE]` events are stored and counted failed_to_parse_event', () => {
    const r = parse(readFileSync(here('../../samples/public/trappy__tests_trace_failed_to_parse.txt')));
    assert.equal(count(r, 'failed_to_parse_event'), 3);
    assert.equal(r.events.length, r.facts.lines);
    const failed = r.events.filter((e) => e.args.startsWith('[FAILED TO PARSE]'));
    assert.equal(failed.length, 3);
    assert.deepEqual(
      failed.map((e) => [e.line, e.name]),
      [
        [2, 'thermal_power_cpu_get_power'],
        [3, 'thermal_power_cpu_get_power'],
        [7, 'thermal_power_allocator'],
      ],
    );
    assert.equal(diag(r, 'failed_to_parse_event').firstLine, 2);
    assert.ok(failed[0]!.args.includes('cpumask=ARRAY[0f, 00, 00, 00, 00, 00, 00, 00] freq=0x82208'));
    assert.equal(failed[0]!.comm, 'kworker/5:2');
    assert.equal(failed[0]!.pid, 1497);
  });

  it('invalid UTF-8 in the middle is a ParseError naming the line', () => {
    const buf = Buffer.concat([Buffer.from(lines(EV1, EV2)), Buffer.from('     kworker/', 'latin1'), Buffer.from([0xff, 0xfe]), Buffer.from('-12 [001] d..2. 904.4: x\n' + EV3 + '\n')]);
    for (const chunk of [undefined, 7]) {
      assert.throws(
        () => parse(buf, {}, chunk),
        (e: unknown) => {
          assert.ok(e instanceof ParseError);
          assert.equal(e.line, 3);
          assert.match(e.message, /line 3/);
          return true;
        },
      );
    }
  });

  it('a 2 MiB line is a ParseError', () => {
    const huge = EV1.slice(0, 60) + 'x'.repeat(2 << 20);
    for (const input of [lines(EV1, huge, EV2), lines(EV1) + huge]) {
      for (const chunk of [undefined, 65536]) {
        assert.throws(
          () => parse(input, {}, chunk),
          (e: unknown) => {
            assert.ok(e instanceof ParseError);
            assert.equal(e.line, 2);
            return true;
          },
        );
      }
    }
  });
});

describe('ftraceText: variants', () => {
  it('record-tgid lines give tgid', () => {
    const r = parse(
      lines(
        '             seq-12671   (  12671) [001] .....   911.302755: sys_pread64(fd: 3, buf: 0x7ffe6b73fec0, count: 0x310, pos: 0x40)',
        '             seq-12671   (  12671) [001] .....   911.302756: sys_pread64 -> 0x310',
        '          <idle>-0       (-------) [000] d..2.   911.303047: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120',
      ),
    );
    assert.deepEqual(
      r.events.map((e) => [e.comm, e.pid, e.tgid, e.cpu, e.name, e.args]),
      [
        ['seq', 12671, 12671, 1, 'sys_enter_pread64', 'fd=0x3 buf=0x7ffe6b73fec0 count=0x310 pos=0x40'],
        ['seq', 12671, 12671, 1, 'sys_exit_pread64', 'ret=0x310'],
        ['<idle>', 0, null, 0, 'sched_switch', 'prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=rcu_preempt next_pid=15 next_prio=120'],
      ],
    );
  });

  it(
    'multi-file trace-cmd report prefix `trace.dat: ` gives part `trace.dat`',

    () => {
      const r = parse(
        lines(
          '  trace.dat: bash-123 [001] 904.350922: sched_switch: prev_comm=bash prev_pid=123 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120',
          'host.dat:             <idle>-0     [000]   904.351034: sched_wakeup:         rcu_preempt:15 [120] CPU:000',
        ),
      );
      assert.equal(r.events.length, 2);
      assert.equal(r.events[0]!.part, 'trace.dat');
      assert.equal(r.events[0]!.comm, 'bash');
      assert.equal(r.events[0]!.pid, 123);
      assert.equal(r.events[0]!.name, 'sched_switch');
      assert.equal(r.events[1]!.part, 'host.dat');
      assert.equal(r.events[1]!.comm, '<idle>');
    },
  );

  it(
    'multi-file trace-cmd report: the per-file `trace.dat: cpus=2` preamble is tracecmd_header',

    () => {
      const r = parse(lines('trace.dat: cpus=2', ' host.dat: cpus=4'));
      assert.equal(count(r, 'tracecmd_header'), 2);
      assert.equal(count(r, 'unparsed_line'), 0);
    },
  );

  it('x86-tsc integer timestamps with tscHz are converted (clockKind tsc-converted)', () => {
    const r = parse(
      lines(
        '            bash-12528   [001] d..2. 2500000000: sched_wakeup: comm=fio pid=1 prio=120 target_cpu=001',
        '            bash-12528   [001] d..2. 2500000004: sched_wakeup: comm=fio pid=2 prio=120 target_cpu=001',
      ),
      { tscHz: 2.5e9 },
    );
    assert.deepEqual(
      r.events.map((e) => e.ts),
      [1_000_000_000, 1_000_000_002],
    );
    assert.equal(r.facts.clockKind, 'tsc-converted');
    assert.equal(r.facts.tscHz, 2.5e9);
  });

  it('integer timestamps without tscHz are kept as ticks (clockKind ticks)', () => {
    const r = parse(
      lines(
        '            bash-12528   [001] d..2. 2500000000: sched_wakeup: comm=fio pid=1 prio=120 target_cpu=001',
        '            bash-12528   [001] d..2. 18446744073709551615: sched_wakeup: comm=fio pid=2 prio=120 target_cpu=001',
      ),
    );
    assert.deepEqual(
      r.events.map((e) => e.ts),
      [2_500_000_000, 18446744073709551615n],
    );
    assert.equal(r.facts.clockKind, 'ticks');
    assert.equal(r.facts.tscHz, undefined);
  });

  it('latency-format file: variant ftrace-latency, clockKind relative-us, ts = µs * 1000', () => {
    const r = parse(
      lines(
        '# tracer: nop',
        '#',
        '# nop latency trace v1.1.5 on 6.1.0-28-amd64',
        '# --------------------------------------------------------------------',
        '# latency: 0 us, #3/3, CPU#1 | (M:desktop VP:0, KP:0, SP:0 HP:0 #P:2)',
        '#    -----------------',
        '#    | task: -0 (uid:0 nice:0 policy:0 rt_prio:0)',
        '#    -----------------',
        '#',
        '#                    _------=> CPU#',
        '#                   / _-----=> irqs-off/BH-disabled',
        '#                  | / _----=> need-resched',
        '#                  || / _---=> hardirq/softirq',
        '#                  ||| / _--=> preempt-depth',
        '#                  |||| / _-=> migrate-disable',
        '#                  ||||| /     delay',
        '#  cmd     pid     |||||| time  |   caller',
        '#     \\   /        ||||||  \\    |    /',
        '    bash-12528     1d..2.    0us : sched_switch: prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=12533 next_prio=120',
        '  <idle>-0         0dNh2.  112us!: sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=000',
        '     seq-12533     1....1  384us : block_bio_queue: 254,0 RA 30273368 + 32 [bash]',
      ),
    );
    assert.equal(r.facts.variant, 'ftrace-latency');
    assert.equal(r.facts.clockKind, 'relative-us');
    assert.equal(r.facts.tracer, 'nop');
    assert.equal(count(r, 'header_line'), 18);
    assert.deepEqual(
      r.events.map((e) => [e.ts, e.cpu, e.pid, e.comm, e.flags, e.name]),
      [
        [0, 1, 12528, 'bash', 'd..2.', 'sched_switch'],
        [112_000, 0, 0, '<idle>', 'dNh2.', 'sched_wakeup'],
        [384_000, 1, 12533, 'seq', '....1', 'block_bio_queue'],
      ],
    );
    assert.equal(r.events[2]!.args, '254,0 RA 30273368 + 32 [bash]');
  });

  it(
    'latency-format with a non-ns clock (`" %4lld: "`) keeps the raw counter value as ticks',

    () => {
      const r = parse(lines('# tracer: nop', '# nop latency trace v1.1.5 on 6.1.0', '    bash-12528     1d..2. 4711: sched_wakeup: comm=fio pid=1 prio=120 target_cpu=001'));
      assert.equal(r.events.length, 1);
      assert.equal(r.events[0]!.ts, 4711);
      assert.equal(r.facts.clockKind, 'ticks');
    },
  );

  it('function tracer lines are named `function`', () => {
    const r = parse(lines('# tracer: function', '            bash-1994  [002] ....  3082.063030: mutex_unlock <-rb_simple_write'));
    assert.equal(r.facts.tracer, 'function');
    assert.equal(r.events[0]!.name, 'function');
    assert.equal(r.events[0]!.args, 'mutex_unlock <-rb_simple_write');
  });

  it('trappy trace_idle_unsorted.txt (TAB comms, out of order, cut last line)', () => {
    const r = parse(readFileSync(here('../../samples/public/trappy__tests_trace_idle_unsorted.txt')));
    assert.equal(count(r, 'tracecmd_header'), 2);
    assert.equal(r.facts.cpus, 8);
    assert.equal(r.facts.variant, 'trace-cmd');
    assert.equal(r.events.length, r.facts.lines! - 2);
    assert.equal(count(r, 'ts_not_monotonic'), 1);
    assert.equal(count(r, 'truncated_last_line'), 1);
    assert.equal(count(r, 'unparsed_line'), 0);
    assert.ok(r.events.some((e) => e.comm === '<...>'));
    assert.ok(r.events.every((e) => !e.comm?.includes('\t')));
  });

  it('tracecompass ftrace_syscalls.txt: every syscall line is sys_enter_* / sys_exit_* with canonical hex', () => {
    const r = parse(readFileSync(here('../../samples/public/org.eclipse.tracecompass.incubator__tracetypes_org.eclipse.tracecompass.incubator.ftrace.core.tests_res_ftrace_syscalls.txt')));
    assert.equal(r.diags.size, 0);
    assert.equal(r.events.length, r.facts.lines);
    const sys = r.events.filter((e) => e.name.startsWith('sys_'));
    assert.ok(sys.length > 100);
    for (const e of sys) {
      assert.match(e.name, /^sys_(enter|exit)_\w+$/);
      if (e.name.startsWith('sys_exit_')) assert.match(e.args, /^ret=0x[0-9a-f]+$/);
      else if (e.args !== '') assert.match(e.args, /^\w+=\S+( \w+=\S+)*$/);
    }
    assert.ok(sys.some((e) => e.name === 'sys_enter_ioctl' && e.args === 'fd=0xff cmd=0x5410 arg=0x7ffe0babe8fc'));
    assert.ok(sys.some((e) => e.name === 'sys_exit_recvmsg' && e.args === 'ret=0xfffffffffffffff5'));
  });
});

describe('ftraceText: real captures (samples/linux-block-*)', () => {
  const sample = (v: string): Buffer => gunzipSync(readFileSync(here(`../../samples/linux-block-${v}/trace.txt.gz`)));

  for (const v of ['default', 'tgid'] as const) {
    it(`${v}: every non-header line is an event, matching entries-in-buffer`, () => {
      const r = parse(sample(v));
      assert.equal(count(r, 'header_line'), 12);
      assert.equal(r.diags.size, 1, [...r.diags.keys()].join(', '));
      assert.equal(r.events.length, r.facts.entriesInBuffer);
      assert.equal(r.facts.entriesInBuffer, r.facts.entriesWritten);
      assert.equal(r.facts.cpus, 2);
      assert.equal(r.facts.variant, 'ftrace');
      assert.ok(r.events.every((e) => e.flags !== null && e.flags.length === 5));
      if (v === 'tgid') assert.ok(r.events.some((e) => e.tgid !== null));
      else assert.ok(r.events.every((e) => e.tgid === null));
    });
  }

  it('kernel (tgid) and trace-cmd captures normalise syscalls and markers the same way', () => {
    for (const v of ['tgid', 'tracecmd'] as const) {
      const r = parse(sample(v));
      assert.equal(count(r, 'unparsed_line'), 0, v);
      const names = new Set(r.events.map((e) => e.name));
      for (const n of ['sys_enter_pread64', 'sys_exit_pread64', 'tracing_mark_write', 'sched_switch', 'block_rq_issue']) {
        assert.ok(names.has(n), `${v}: ${n}`);
      }
      assert.ok(!names.has('print'), v);
      assert.ok(![...names].some((n) => n.includes('(')), v);
      const marks = r.events.filter((e) => e.name === 'tracing_mark_write').map((e) => e.args);
      const expected = [];
      for (let run = 1; run <= 10; run++) expected.push(`xtrace: run=${run} begin`, `xtrace: run=${run} end`);
      assert.deepEqual(marks, expected, v);
      for (const e of r.events) {
        if (e.name === 'sys_enter_pread64') assert.match(e.args, /^fd=0x[0-9a-f]+ buf=0x[0-9a-f]+ count=0x[0-9a-f]+ pos=0x[0-9a-f]+$/, v);
        if (e.name === 'sys_exit_pread64') assert.match(e.args, /^ret=0x[0-9a-f]+$/, v);
      }
    }
  });

  it('trace-cmd capture: cpus= header, variant trace-cmd, no flags column', () => {
    const r = parse(sample('tracecmd'));
    assert.equal(count(r, 'tracecmd_header'), 1);
    assert.equal(r.facts.cpus, 2);
    assert.equal(r.facts.variant, 'trace-cmd');
    assert.equal(r.events.length, r.facts.lines! - 1);
    assert.ok(r.events.every((e) => e.flags === null));
  });
});
