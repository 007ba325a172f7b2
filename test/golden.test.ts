/**
 * Golden tests on the real files of samples/ (copied from ../shared/corpus, origins in
 * samples/README.md): input + SQL query + expected rows. Event counts were checked
 * independently: the kernel header's entries-in-buffer, and `grep -cE '\[[0-9]{3}\]'` (one CPU
 * column per event line) for the public files.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ingestAll, SAMPLES, unaccountedLines } from './helpers.js';
import type { Db } from '../src/db/db.js';

const pub = (f: string) => join(SAMPLES, 'public', f);
const real = (v: string) => join(SAMPLES, `linux-block-${v}`, 'trace.txt.gz');

interface Expect {
  file: string;
  variant: string;
  lines: number;
  events: number;
  /** Non-zero diagnostics, exactly. */
  diags: Record<string, number>;
}

const EXPECTED: Expect[] = [
  { file: real('default'), variant: 'ftrace', lines: 13079, events: 13067, diags: { header_line: 12 } },
  { file: real('tgid'), variant: 'ftrace', lines: 11716, events: 11704, diags: { header_line: 12 } },
  { file: real('tracecmd'), variant: 'trace-cmd', lines: 11680, events: 11679, diags: { tracecmd_header: 1 } },
  { file: pub('catapult__tracing_test_data_trivial_systrace.html'), variant: 'systrace-html', lines: 37, events: 4, diags: { html_wrapper_line: 28, header_line: 4, blank_line: 1 } },
  {
    file: pub('org.eclipse.tracecompass.incubator__tracetypes_org.eclipse.tracecompass.incubator.ftrace.core.tests_res_ftrace_syscalls.txt'),
    variant: 'ftrace',
    lines: 1052,
    events: 1052,
    diags: {},
  },
  {
    file: pub('org.eclipse.tracecompass.incubator__tracetypes_org.eclipse.tracecompass.incubator.ftrace.core.tests_res_trace-critical-path'),
    variant: 'ftrace',
    lines: 155,
    events: 146,
    diags: { header_line: 9 },
  },
  {
    file: pub('org.eclipse.tracecompass.incubator__tracetypes_org.eclipse.tracecompass.incubator.ftrace.core.tests_res_trace-func-graph'),
    variant: 'trace-cmd',
    lines: 200,
    events: 199,
    diags: { tracecmd_header: 1 },
  },
  { file: pub('perfetto__test_trace_processor_diff_tests_parser_atrace_bad_print.systrace'), variant: 'ftrace', lines: 5, events: 3, diags: { continuation_line: 2 } },
  { file: pub('trappy__tests_raw_trace.txt'), variant: 'trace-cmd', lines: 7, events: 3, diags: { tracecmd_header: 4 } },
  { file: pub('trappy__tests_trace_failed_to_parse.txt'), variant: 'ftrace', lines: 11, events: 11, diags: { failed_to_parse_event: 3 } },
  { file: pub('trappy__tests_trace_idle_unsorted.txt'), variant: 'trace-cmd', lines: 17, events: 15, diags: { tracecmd_header: 2, ts_not_monotonic: 1, truncated_last_line: 1 } },
  { file: pub('trappy__tests_trace_no_trailing_line.txt'), variant: 'ftrace', lines: 10, events: 10, diags: {} },
  { file: pub('trappy__tests_trace_systrace.html'), variant: 'systrace-html', lines: 39, events: 10, diags: { html_wrapper_line: 17, header_line: 12 } },
];

describe('golden: every sample file ingests with its exact counts', () => {
  let db: Db;
  let cleanup: () => void;
  before(async () => {
    ({ db, cleanup } = await ingestAll(EXPECTED.map((e) => e.file)));
  });
  after(() => cleanup());

  for (const [i, e] of EXPECTED.entries()) {
    it(e.file.split('/').slice(-2).join('/'), () => {
      const s = db.prepare<{ variant: string; lines: number; events: number; unparsed_lines: number; lost_events: number; n: number }>(
        'SELECT variant, lines, events, unparsed_lines, lost_events, (SELECT count(*) FROM events WHERE source_id = sources.id) AS n FROM sources WHERE id = ?',
      ).get(i + 1)!;
      assert.deepEqual(s, { variant: e.variant, lines: e.lines, events: e.events, unparsed_lines: 0, lost_events: 0, n: e.events });
      const d = Object.fromEntries(db.prepare<{ code: string; count: number }>('SELECT code, count FROM diagnostics WHERE source_id = ? ORDER BY code').all(i + 1).map((r) => [r.code, r.count]));
      assert.deepEqual(d, e.diags);
    });
  }

  it('accounts for every input line (events + line counters = lines)', () => {
    assert.deepEqual(unaccountedLines(db), []);
  });

  it('kernel and trace-cmd renderings of the same capture normalise to the same event names', () => {
    const q = db.prepare<{ name: string; n: number }>(
      `SELECT name, count(*) AS n FROM events WHERE source_id = ? AND name IN ('sys_enter_pread64','sys_exit_pread64','tracing_mark_write') GROUP BY name ORDER BY name`,
    );
    const expected = [
      { name: 'sys_enter_pread64', n: 1042 },
      { name: 'sys_exit_pread64', n: 1042 },
      { name: 'tracing_mark_write', n: 20 },
    ];
    assert.deepEqual(q.all(1), expected);
    assert.deepEqual(q.all(2), expected);
    assert.deepEqual(q.all(3), expected);
  });

  it('stores the first events of the tgid capture exactly', () => {
    const rows = db.prepare('SELECT line, ts_ns, cpu, pid, tgid, comm, name, flags, args FROM events WHERE source_id = 2 ORDER BY id LIMIT 3').all();
    assert.deepEqual(rows, [
      { line: 13, ts_ns: 911301991000, cpu: 1, pid: 12666, tgid: 12666, comm: 'bash', name: 'sched_switch', flags: 'd..2.', args: 'prev_comm=bash prev_pid=12666 prev_prio=120 prev_state=S ==> next_comm=bash next_pid=12671 next_prio=120' },
      { line: 14, ts_ns: 911302755000, cpu: 1, pid: 12671, tgid: 12671, comm: 'seq', name: 'sys_enter_pread64', flags: '.....', args: 'fd=0x3 buf=0x7ffe6b73fec0 count=0x310 pos=0x40' },
      { line: 15, ts_ns: 911302756000, cpu: 1, pid: 12671, tgid: 12671, comm: 'seq', name: 'sys_exit_pread64', flags: '.....', args: 'ret=0x310' },
    ]);
  });

  it('keeps the run markers of the trace-cmd capture under the kernel name', () => {
    const rows = db.prepare("SELECT ts_ns, comm, args FROM events WHERE source_id = 3 AND name = 'tracing_mark_write' ORDER BY id LIMIT 2").all();
    assert.deepEqual(rows, [
      { ts_ns: 907689518000, comm: 'bash', args: 'xtrace: run=1 begin' },
      { ts_ns: 907978846000, comm: 'bash', args: 'xtrace: run=1 end' },
    ]);
  });

  it('event_fields splits key=value args, keeping values with spaces', () => {
    const id = db.prepare<{ id: number }>("SELECT id FROM events WHERE source_id = 6 AND args LIKE 'prev_comm=Web Content %' ORDER BY id LIMIT 1").get()!.id;
    const rows = db.prepare('SELECT key, value FROM event_fields WHERE event_id = ? ORDER BY pos').all(id);
    assert.deepEqual(rows.slice(0, 2), [
      { key: 'prev_comm', value: 'Web Content' },
      { key: 'prev_pid', value: '2711' },
    ]);
    assert.equal(rows.length, 7);
  });

  it('multi-line print continuation and tgid placeholders from the perfetto file', () => {
    const rows = db.prepare('SELECT pid, tgid, comm, name, args FROM events WHERE source_id = 8 ORDER BY id').all();
    assert.deepEqual(rows[0], { pid: 882, tgid: 882, comm: '<...>', name: 'event', args: 'event: abc xyz =0x34 clk id = 019\nsome = 000, other = 0x4\nxyz = 0x0 abc = 0x0' });
    assert.deepEqual(rows[1], { pid: 598, tgid: 598, comm: 'surfaceflinger', name: 'tracing_mark_write', args: 'B|598|some event' });
  });

  it('Android systrace: unpadded long comm and (-----) tgid', () => {
    const q = db.prepare('SELECT line, comm, pid, tgid FROM events WHERE source_id = 13 AND line IN (27, 32) ORDER BY line');
    assert.deepEqual(q.all(), [
      { line: 27, comm: 'com.android.systemui', pid: 611, tgid: 611 },
      { line: 32, comm: '<idle>', pid: 0, tgid: null },
    ]);
  });
});
