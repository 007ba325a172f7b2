/**
 * End-to-end ingestion of the formats without a public sample file: xtbuf dumps (binary and text,
 * wrapped ring, realtime ns timestamps beyond 2^53 that must survive exactly through the worker
 * batches into SQLite), x86-tsc traces with and without --tsc-hz, latency-format.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir, xtrace } from '../helpers.js';
import { encodeXtbuf, formatXtbufText, type XtbufDump } from '../../parsers/xtbuf/write.js';

const BASE = 1_764_000_000_123_456_789n; // CLOCK_REALTIME ns in 2025: > 2^53

const dump: XtbufDump = {
  clock: 'realtime',
  pid: 4321,
  comm: 'tapdisk',
  tscHz: 0,
  capacity: 4,
  probes: ['td_get_req', 'td_aio_submit', 'td_rsp'],
  records: [
    { ts: BASE, probe: 'td_get_req', id: 1, op: 'R', sector: 2048, nsec: 8 },
    { ts: BASE + 1000n, probe: 'td_aio_submit', id: 1 },
    { ts: BASE + 5000n, probe: 'td_rsp', id: 1, status: 0 },
    { ts: BASE + 7001n, probe: 'td_get_req', id: 2, op: 'W', sector: 4096, nsec: 16 },
    { ts: BASE + 8003n, probe: 'td_aio_submit', id: 2 },
    { ts: BASE + 12007n, probe: 'td_rsp', id: 2, status: -5 },
  ],
};

function sql(db: string, q: string): string {
  return spawnSync('sqlite3', ['-separator', '|', db, q], { encoding: 'utf8' }).stdout.trim();
}

describe('ingest: xtbuf, x86-tsc, latency-format end to end', () => {
  let dir: string;
  let cleanup: () => void;
  before(() => ({ dir, cleanup } = tempDir()));
  after(() => cleanup());

  it('binary xtbuf: wrapped ring counted as lost, survivors oldest first, exact 64-bit timestamps', () => {
    const f = join(dir, 'tapdisk.xtbuf');
    writeFileSync(f, encodeXtbuf(dump));
    const db = join(dir, 'xb.db');
    const r = xtrace(['ingest', '--db', db, '--domain', 'tapdisk', f]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /4 events, 0 lines not understood, 2 events lost \[xtbuf, clock realtime, domain tapdisk/);
    assert.equal(
      sql(db, 'SELECT line, ts_ns, pid, comm, name, args FROM events ORDER BY id'),
      [
        `1|${BASE + 5000n}|4321|tapdisk|td_rsp|id=1 status=0`,
        `2|${BASE + 7001n}|4321|tapdisk|td_get_req|id=2 sector=4096 nsec=16 op=W`,
        `3|${BASE + 8003n}|4321|tapdisk|td_aio_submit|id=2`,
        `4|${BASE + 12007n}|4321|tapdisk|td_rsp|id=2 status=-5`,
      ].join('\n'),
    );
    assert.equal(sql(db, "SELECT code, severity, count FROM diagnostics WHERE code = 'xtbuf_ring_wrapped'"), 'xtbuf_ring_wrapped|data_loss|2');
    assert.equal(sql(db, 'SELECT lost_events, entries_written, entries_in_buffer, has_time_base FROM sources'), '2|6|4|1');
  });

  it('text xtbuf of the same dump gives the same events; a second ingest of it is a no-op', () => {
    const f = join(dir, 'tapdisk.txt');
    writeFileSync(f, formatXtbufText(dump));
    const db = join(dir, 'xt.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    assert.equal(sql(db, 'SELECT count(*), min(ts_ns), max(ts_ns) FROM events'), `4|${BASE + 5000n}|${BASE + 12007n}`);
    assert.equal(sql(db, "SELECT key || '=' || value FROM event_fields WHERE event_id = 2 ORDER BY pos"), 'id=2\nsector=4096\nnsec=16\nop=W');
    assert.match(xtrace(['ingest', '--db', db, f]).stderr, /already ingested as source 1/);
  });

  const tscLines = [
    '# tracer: nop',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '             fio-12603   [001] .....  2893299000000: sys_enter_pread64(fd: 3, buf: 0x7ffdc51e9960, count: 0x1000, pos: 0x0)',
    '             fio-12603   [001] .....  2893299289330: sys_exit_pread64 -> 0x1000',
    '',
  ].join('\n');

  it('x86-tsc timestamps: converted with --tsc-hz, kept as ticks (no time base) without it', () => {
    const f = join(dir, 'tsc.txt');
    writeFileSync(f, tscLines.replace('sys_enter_pread64(', 'sys_pread64(').replace('sys_exit_pread64 ->', 'sys_pread64 ->'));
    const with_ = join(dir, 'tsc-hz.db');
    assert.equal(xtrace(['ingest', '--db', with_, '--quiet', '--tsc-hz', '2893299000', f]).status, 0);
    assert.equal(sql(with_, 'SELECT ts_ns, name, args FROM events ORDER BY id'), '1000000000000|sys_enter_pread64|fd=0x3 buf=0x7ffdc51e9960 count=0x1000 pos=0x0\n1000000100000|sys_exit_pread64|ret=0x1000');
    assert.equal(sql(with_, 'SELECT clock, clock_kind, has_time_base, tsc_hz FROM sources'), 'x86-tsc|tsc-converted|1|2893299000');
    const without = join(dir, 'tsc-raw.db');
    const r = xtrace(['ingest', '--db', without, f]);
    assert.match(r.stderr, /clock counter — no time base, latency reports will refuse this source/);
    assert.equal(sql(without, 'SELECT ts_ns FROM events ORDER BY id'), '2893299000000\n2893299289330');
    assert.equal(sql(without, 'SELECT clock_kind, has_time_base FROM sources'), 'ticks|0');
  });

  it('latency-format: relative µs times with delay marks, cpu column, 8-char comm', () => {
    const f = join(dir, 'lat.txt');
    writeFileSync(
      f,
      [
        '# tracer: nop',
        '#',
        '# nop latency trace v1.1.5 on 6.1.0-13-amd64',
        '# --------------------------------------------------------------------',
        '# latency: 0 us, #3/3, CPU#0 | (M:PREEMPT VP:0, KP:0, SP:0 HP:0 #P:2)',
        '#                    _------=> CPU#',
        '#     cmd     pid    |||||| time  |   caller',
        '#        \\   /      ||||||  \\    |    /',
        '    bash-12528     1d..2.    0us : sched_switch: prev_comm=bash prev_pid=12528 prev_prio=120 prev_state=S ==> next_comm=fio next_pid=12533 next_prio=120',
        '     fio-12533     1.....   12us+: sys_pread64(fd: 3, buf: 0x7ffe6b73fec0, count: 0x1000, pos: 0x0)',
        '     fio-12533     1.....  215us!: sys_pread64 -> 0x1000',
        '',
      ].join('\n'),
    );
    const db = join(dir, 'lat.db');
    assert.equal(xtrace(['ingest', '--db', db, '--quiet', f]).status, 0);
    assert.equal(sql(db, 'SELECT ts_ns, cpu, pid, comm, flags, name FROM events ORDER BY id'), '0|1|12528|bash|d..2.|sched_switch\n12000|1|12533|fio|.....|sys_enter_pread64\n215000|1|12533|fio|.....|sys_exit_pread64');
    assert.equal(sql(db, 'SELECT variant, clock_kind, has_time_base FROM sources'), 'ftrace-latency|relative-us|1');
  });
});
