import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IngestCode as DiagCode } from '../../src/core/counters.js';
import { ParseError } from '../../src/core/errors.js';
import type { Parser, ParseOptions, RecordSink, SourceFacts, TraceEvent } from '../../src/core/types.js';
import { REC, XTBUF_HEADER_SIZE, XTBUF_PROBE_NAME_SIZE, XTBUF_RECORD_SIZE, xtbufBinary } from '../../parsers/xtbuf/binary.js';
import { xtbufText } from '../../parsers/xtbuf/text.js';
import { encodeXtbuf, formatXtbufText, type XtbufDump, type XtbufRecord } from '../../parsers/xtbuf/write.js';

interface Diag {
  code: DiagCode;
  line: number;
  detail: string | undefined;
  count: number;
}

interface Collected {
  events: TraceEvent[];
  diags: Diag[];
  facts: SourceFacts;
  factCalls: number;
}

function collect(): { sink: RecordSink; out: Collected } {
  const out: Collected = { events: [], diags: [], facts: {}, factCalls: 0 };
  const sink: RecordSink = {
    event: (e) => void out.events.push({ ...e }),
    diag: (code, line, detail, count = 1) => void out.diags.push({ code, line, detail, count }),
    facts: (f) => {
      out.factCalls++;
      Object.assign(out.facts, f);
    },
  };
  return { sink, out };
}

/** Parse `input`, fed in chunks of `chunk` bytes (whole when omitted). */
function parse(parser: Parser, input: Buffer | string, chunk?: number, opts: Partial<ParseOptions> = {}): Collected {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const { sink, out } = collect();
  const p = parser.open(sink, { path: 'test', ...opts });
  const step = chunk ?? Math.max(buf.length, 1);
  for (let i = 0; i < buf.length; i += step) p.write(buf.subarray(i, i + step));
  p.end();
  return out;
}

function diagCount(c: Collected, code: DiagCode): number {
  return c.diags.filter((d) => d.code === code).reduce((n, d) => n + d.count, 0);
}

function withoutLine(events: TraceEvent[]): Omit<TraceEvent, 'line'>[] {
  return events.map(({ line: _line, ...rest }) => rest);
}

const PROBES = ['td_get_req', 'td_aio_submit', 'td_aio_complete', 'td_put_rsp'];

function dump(records: XtbufRecord[], over: Partial<XtbufDump> = {}): XtbufDump {
  return { clock: 'monotonic', pid: 4321, comm: 'tapdisk', tscHz: 0, capacity: 16, probes: PROBES, records, ...over };
}

/** Byte offset of ring slot `s` in an encoded dump. */
function slotOffset(d: XtbufDump, s: number): number {
  return XTBUF_HEADER_SIZE + 8 + d.probes.length * XTBUF_PROBE_NAME_SIZE + s * XTBUF_RECORD_SIZE;
}

const SAMPLE: XtbufRecord[] = [
  { ts: 1_234_567_890_123, probe: 'td_get_req', id: 4, op: 'R', sector: 2048, nsec: 8, vdev: 51712, domid: 3, ring: 0 },
  { ts: 1_234_567_895_123, probe: 'td_aio_submit', id: 4 },
  { ts: 1_234_567_990_000, probe: 'td_aio_complete', id: 4, status: -5 },
  { ts: 1_234_568_000_000, probe: 'td_put_rsp', id: 4, op: 'R', status: 0 },
  { ts: 1_234_568_100_000, probe: 'td_get_req' },
];

describe('xtbuf writer + parsers: round trip', () => {
  it('binary and text forms of the same dump parse to the same events', () => {
    const d = dump(SAMPLE);
    const bin = parse(xtbufBinary, encodeXtbuf(d));
    const txt = parse(xtbufText, formatXtbufText(d));
    assert.equal(bin.events.length, SAMPLE.length);
    assert.deepEqual(withoutLine(bin.events), withoutLine(txt.events));
    assert.deepEqual(
      bin.events.map((e) => e.line),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      txt.events.map((e) => e.line),
      [2, 3, 4, 5, 6],
    );
    assert.deepEqual(bin.diags, []);
    assert.deepEqual(txt.diags, [{ code: 'header_line', count: 1, detail: undefined, line: 1 }]);
  });

  it('decodes every field in the fixed key order and fills the context columns', () => {
    const { events } = parse(xtbufBinary, encodeXtbuf(dump(SAMPLE)));
    assert.deepEqual(events[0], {
      line: 1,
      ts: 1_234_567_890_123,
      cpu: null,
      pid: 4321,
      tgid: 4321,
      comm: 'tapdisk',
      flags: null,
      name: 'td_get_req',
      args: 'id=4 sector=2048 vdev=51712 nsec=8 domid=3 ring=0 op=R',
      part: null,
    });
    assert.equal(events[2]!.args, 'id=4 status=-5');
    assert.equal(events[3]!.args, 'id=4 op=R status=0');
  });

  it('reports the header facts once', () => {
    const bin = parse(xtbufBinary, encodeXtbuf(dump(SAMPLE)));
    assert.equal(bin.factCalls, 1);
    assert.deepEqual(bin.facts, {
      variant: 'xtbuf',
      clock: 'monotonic',
      clockKind: 'ns',
      pid: 4321,
      comm: 'tapdisk',
      entriesInBuffer: 5,
      entriesWritten: 5,
    });
    const txt = parse(xtbufText, formatXtbufText(dump(SAMPLE)));
    assert.equal(txt.factCalls, 2); // the header's facts, then the line count at the end
    assert.deepEqual(txt.facts, { ...bin.facts, variant: 'xtbuf-text', lines: 1 + SAMPLE.length });
  });

  it('writes the text form as specified', () => {
    const text = formatXtbufText(dump(SAMPLE.slice(0, 2), { capacity: 4096 }));
    assert.equal(
      text,
      '# xtbuf version=1 clock=monotonic pid=4321 comm=tapdisk tsc_hz=0 capacity=4096 written=2\n' +
        '1234567890123 td_get_req id=4 sector=2048 vdev=51712 nsec=8 domid=3 ring=0 op=R\n' +
        '1234567895123 td_aio_submit id=4\n',
    );
  });
});

/**
 * A dump assembled byte by byte from parsers/xtbuf/xtbuf-format.md, with literal offsets and values
 * (neither the writer nor the parser's layout constants): a layout error shared by the writer and
 * the parser cancels out in every round trip, not here. Ring of 2 records, 3 written: the oldest
 * survivor (write index 1) sits at slot 3 % 2 = 1, the newest (write index 2) at slot 0.
 */
function handAssembledDump(): Buffer {
  const b = Buffer.alloc(232); // header 64 + probe table 8 + 2 × 32 + ring 2 × 48
  b.write('XTRCBUF1', 0, 'latin1'); // magic
  b.writeUInt32LE(1, 8); // version
  b.writeUInt32LE(48, 12); // record_size
  b.writeUInt32LE(1, 16); // clock: CLOCK_MONOTONIC ns
  b.writeUInt32LE(4321, 20); // pid
  b.writeBigUInt64LE(0n, 24); // tsc_hz
  b.writeBigUInt64LE(2n, 32); // capacity
  b.writeBigUInt64LE(3n, 40); // written
  b.write('tapdisk', 48, 'latin1'); // comm, NUL-padded to 16
  b.writeUInt32LE(2, 64); // nprobes
  b.writeUInt32LE(0, 68); // reserved
  b.write('td_get_req', 72, 'latin1'); // probe 0, NUL-padded to 32
  b.write('td_put_rsp', 104, 'latin1'); // probe 1
  // slot 0 (offset 136): write index 2, td_put_rsp id=7 status=-5
  b.writeBigUInt64LE(1_000_002_000n, 136 + 0); // ts
  b.writeBigUInt64LE(7n, 136 + 16); // id
  b.writeUInt16LE(1, 136 + 32); // probe
  b.writeInt16LE(-5, 136 + 38); // status
  b.writeUInt16LE(0b1000_0010, 136 + 40); // valid: id, status
  // slot 1 (offset 184): write index 1, td_get_req with every field but status
  b.writeBigUInt64LE(1_000_000_500n, 184 + 0); // ts
  b.writeBigUInt64LE(2048n, 184 + 8); // sector
  b.writeBigUInt64LE(7n, 184 + 16); // id
  b.writeUInt32LE(51712, 184 + 24); // vdev
  b.writeUInt32LE(8, 184 + 28); // nsec
  b.writeUInt16LE(0, 184 + 32); // probe
  b.writeUInt16LE(3, 184 + 34); // domid
  b.writeUInt8(1, 184 + 36); // ring
  b.writeUInt8(0x57, 184 + 37); // op 'W'
  b.writeUInt16LE(0b0111_1111, 184 + 40); // valid: sector, id, vdev, nsec, domid, ring, op
  return b;
}

describe('xtbuf binary layout, against bytes assembled from the specification', () => {
  const context = { cpu: null, pid: 4321, tgid: 4321, comm: 'tapdisk', flags: null, part: null };

  it('the parser reads exactly the specified records, oldest first, and the overwritten one as lost', () => {
    const out = parse(xtbufBinary, handAssembledDump());
    assert.deepEqual(out.events, [
      { line: 1, ts: 1_000_000_500, ...context, name: 'td_get_req', args: 'id=7 sector=2048 vdev=51712 nsec=8 domid=3 ring=1 op=W' },
      { line: 2, ts: 1_000_002_000, ...context, name: 'td_put_rsp', args: 'id=7 status=-5' },
    ]);
    assert.deepEqual(
      out.diags.map((d) => [d.code, d.count]),
      [['xtbuf_ring_wrapped', 1]],
    );
    assert.deepEqual(out.facts, { variant: 'xtbuf', clock: 'monotonic', clockKind: 'ns', pid: 4321, comm: 'tapdisk', entriesInBuffer: 2, entriesWritten: 3 });
  });

  it('the writer produces exactly those bytes', () => {
    const written = encodeXtbuf({
      clock: 'monotonic',
      pid: 4321,
      comm: 'tapdisk',
      tscHz: 0,
      capacity: 2,
      probes: ['td_get_req', 'td_put_rsp'],
      records: [
        { ts: 999_999_000, probe: 'td_get_req', id: 6 }, // overwritten
        { ts: 1_000_000_500, probe: 'td_get_req', sector: 2048, id: 7, vdev: 51712, nsec: 8, domid: 3, ring: 1, op: 'W' },
        { ts: 1_000_002_000, probe: 'td_put_rsp', id: 7, status: -5 },
      ],
    });
    assert.equal(written.toString('hex'), handAssembledDump().toString('hex'));
  });
});

describe('xtbuf ring wrap', () => {
  const records: XtbufRecord[] = Array.from({ length: 11 }, (_, i) => ({ ts: 1000 + i, probe: PROBES[i % 4]!, id: i }));
  const d = dump(records, { capacity: 4 });

  it('binary: counts lost records and emits survivors oldest first', () => {
    const out = parse(xtbufBinary, encodeXtbuf(d));
    const wrapped = out.diags.filter((x) => x.code === 'xtbuf_ring_wrapped');
    assert.equal(wrapped.length, 1);
    assert.equal(wrapped[0]!.count, 11 - 4);
    assert.equal(wrapped[0]!.line, 0);
    assert.deepEqual(
      out.events.map((e) => e.ts),
      [1007, 1008, 1009, 1010],
    );
    assert.deepEqual(
      out.events.map((e) => e.args),
      ['id=7', 'id=8', 'id=9', 'id=10'],
    );
    assert.deepEqual(
      out.events.map((e) => e.line),
      [1, 2, 3, 4],
    );
    assert.equal(out.facts.entriesInBuffer, 4);
    assert.equal(out.facts.entriesWritten, 11);
  });

  it('text: same survivors, same lost count', () => {
    const text = formatXtbufText(d);
    assert.equal(text.trimEnd().split('\n').length, 1 + 4);
    const out = parse(xtbufText, text);
    assert.equal(diagCount(out, 'xtbuf_ring_wrapped'), 7);
    assert.deepEqual(withoutLine(out.events), withoutLine(parse(xtbufBinary, encodeXtbuf(d)).events));
  });

  it('written == capacity is not a wrap', () => {
    const out = parse(xtbufBinary, encodeXtbuf(dump(records.slice(0, 4), { capacity: 4 })));
    assert.equal(diagCount(out, 'xtbuf_ring_wrapped'), 0);
    assert.deepEqual(
      out.events.map((e) => e.ts),
      [1000, 1001, 1002, 1003],
    );
  });
});

describe('xtbuf binary chunking', () => {
  it('1-byte and 7-byte chunks give the same result as one chunk', () => {
    const records: XtbufRecord[] = Array.from({ length: 23 }, (_, i) => ({
      ts: 5000n + BigInt(i) * 17n,
      probe: PROBES[i % 4]!,
      id: i,
      sector: i * 8,
      op: i % 2 ? 'W' : 'R',
    }));
    const buf = Buffer.concat([encodeXtbuf(dump(records, { capacity: 9 })), Buffer.from([1, 2, 3])]);
    const whole = parse(xtbufBinary, buf);
    assert.equal(whole.events.length, 9);
    assert.equal(diagCount(whole, 'xtbuf_ring_wrapped'), 14);
    assert.deepEqual(parse(xtbufBinary, buf, 1), whole);
    assert.deepEqual(parse(xtbufBinary, buf, 7), whole);
    assert.deepEqual(parse(xtbufBinary, buf, 48), whole);
  });
});

describe('xtbuf timestamps', () => {
  it('TSC with tsc_hz in the header is converted to ns', () => {
    const d = dump([{ ts: 3_000_000_000, probe: 'td_get_req' }, { ts: 3_000_000_003, probe: 'td_put_rsp' }], {
      clock: 'tsc',
      tscHz: 3_000_000_000,
    });
    for (const out of [parse(xtbufBinary, encodeXtbuf(d)), parse(xtbufText, formatXtbufText(d))]) {
      assert.deepEqual(
        out.events.map((e) => e.ts),
        [1_000_000_000, 1_000_000_001],
      );
      assert.equal(out.facts.clock, 'tsc');
      assert.equal(out.facts.clockKind, 'tsc-converted');
      assert.equal(out.facts.tscHz, 3_000_000_000);
    }
  });

  it('TSC with tsc_hz 0: opts.tscHz converts, else raw ticks', () => {
    const d = dump([{ ts: 4_000_000_000, probe: 'td_get_req' }], { clock: 'tsc', tscHz: 0 });
    const conv = parse(xtbufBinary, encodeXtbuf(d), undefined, { tscHz: 2_000_000_000 });
    assert.equal(conv.events[0]!.ts, 2_000_000_000);
    assert.equal(conv.facts.clockKind, 'tsc-converted');
    assert.equal(conv.facts.tscHz, 2_000_000_000);
    const raw = parse(xtbufBinary, encodeXtbuf(d));
    assert.equal(raw.events[0]!.ts, 4_000_000_000);
    assert.equal(raw.facts.clockKind, 'ticks');
    assert.equal(raw.facts.tscHz, undefined);
    const rawText = parse(xtbufText, formatXtbufText(d));
    assert.equal(rawText.events[0]!.ts, 4_000_000_000);
    assert.equal(rawText.facts.clockKind, 'ticks');
  });

  it('a non-zero header tsc_hz wins over opts.tscHz', () => {
    const d = dump([{ ts: 4_000_000_000, probe: 'td_get_req' }], { clock: 'tsc', tscHz: 4_000_000_000 });
    const out = parse(xtbufBinary, encodeXtbuf(d), undefined, { tscHz: 1_000_000_000 });
    assert.equal(out.events[0]!.ts, 1_000_000_000);
    assert.equal(out.facts.tscHz, 4_000_000_000);
  });

  it('realtime ns above 2^53 stay exact bigints; u64 fields print exactly', () => {
    const ts = 1_700_000_000_123_456_789n;
    const big = 18_446_744_073_709_551_615n;
    const d = dump(
      [
        { ts, probe: 'td_get_req', id: big, sector: 9_007_199_254_740_993n },
        { ts: ts + 1n, probe: 'td_put_rsp' },
      ],
      { clock: 'realtime' },
    );
    for (const out of [parse(xtbufBinary, encodeXtbuf(d)), parse(xtbufText, formatXtbufText(d))]) {
      assert.equal(out.events[0]!.ts, ts);
      assert.equal(out.events[1]!.ts, ts + 1n);
      assert.equal(out.events[0]!.args, 'id=18446744073709551615 sector=9007199254740993');
      assert.equal(out.facts.clock, 'realtime');
      assert.equal(out.facts.clockKind, 'ns');
    }
  });

  it('monotonic_raw is ns', () => {
    const out = parse(xtbufBinary, encodeXtbuf(dump([{ ts: 7, probe: 'td_get_req' }], { clock: 'monotonic_raw' })));
    assert.equal(out.facts.clock, 'monotonic_raw');
    assert.equal(out.facts.clockKind, 'ns');
    assert.equal(out.events[0]!.ts, 7);
  });
});

describe('xtbuf damaged records', () => {
  it('an all-zero slot inside the written range is an empty slot, skipped', () => {
    const d = dump(SAMPLE.slice(0, 3));
    const buf = encodeXtbuf(d);
    buf.fill(0, slotOffset(d, 1), slotOffset(d, 2));
    const out = parse(xtbufBinary, buf);
    assert.equal(diagCount(out, 'xtbuf_empty_slot'), 1);
    assert.equal(out.diags.find((x) => x.code === 'xtbuf_empty_slot')!.line, 2);
    assert.deepEqual(
      out.events.map((e) => [e.line, e.name]),
      [
        [1, 'td_get_req'],
        [3, 'td_aio_complete'],
      ],
    );
  });

  it('a probe index out of range is a bad record, skipped', () => {
    const d = dump(SAMPLE.slice(0, 3));
    const buf = encodeXtbuf(d);
    buf.writeUInt16LE(99, slotOffset(d, 0) + REC.probe);
    const out = parse(xtbufBinary, buf);
    const bad = out.diags.filter((x) => x.code === 'xtbuf_bad_record');
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.line, 1);
    assert.match(bad[0]!.detail!, /probe index 99/);
    assert.deepEqual(
      out.events.map((e) => e.name),
      ['td_aio_submit', 'td_aio_complete'],
    );
  });

  it('non-zero reserved bytes are a bad record, still emitted', () => {
    const d = dump(SAMPLE.slice(0, 2));
    const buf = encodeXtbuf(d);
    buf[slotOffset(d, 1) + REC.reserved + 3] = 0xaa;
    const out = parse(xtbufBinary, buf);
    assert.equal(diagCount(out, 'xtbuf_bad_record'), 1);
    assert.match(out.diags[0]!.detail!, /reserved/);
    assert.equal(out.events.length, 2);
    assert.equal(out.events[1]!.args, 'id=4');
  });

  it('fields whose valid bit is clear are absent, even when their bytes are set', () => {
    const d = dump([{ ts: 10, probe: 'td_get_req', id: 4, sector: 8, op: 'W', status: -1 }, { ts: 11, probe: 'td_put_rsp' }]);
    const buf = encodeXtbuf(d);
    const o = slotOffset(d, 0) + REC.valid;
    buf.writeUInt16LE(buf.readUInt16LE(o) & ~(1 << 0) & ~(1 << 7), o); // clear sector and status
    const out = parse(xtbufBinary, buf);
    assert.equal(out.events[0]!.args, 'id=4 op=W');
    assert.equal(out.events[1]!.args, '');
  });

  it('trailing bytes after the ring are reported with their count', () => {
    const buf = Buffer.concat([encodeXtbuf(dump(SAMPLE)), Buffer.alloc(5, 0xff)]);
    const out = parse(xtbufBinary, buf);
    assert.equal(out.events.length, SAMPLE.length);
    const bad = out.diags.filter((x) => x.code === 'xtbuf_bad_record');
    assert.equal(bad.length, 1);
    assert.match(bad[0]!.detail!, /5 extra bytes/);
  });

  it('a non-zero slot beyond `written` is reported and not emitted', () => {
    const d = dump(SAMPLE.slice(0, 2), { capacity: 4 });
    const buf = encodeXtbuf(d);
    buf[slotOffset(d, 3)] = 1;
    const out = parse(xtbufBinary, buf);
    assert.equal(out.events.length, 2);
    assert.equal(diagCount(out, 'xtbuf_bad_record'), 1);
  });
});

describe('xtbuf binary: unusable input', () => {
  const good = encodeXtbuf(dump(SAMPLE, { capacity: 8 }));

  function rejects(buf: Buffer, re: RegExp): void {
    for (const chunk of [undefined, 1]) {
      assert.throws(
        () => parse(xtbufBinary, buf, chunk),
        (e: unknown) => e instanceof ParseError && re.test(e.message),
      );
    }
  }

  it('bad magic', () => {
    const buf = Buffer.from(good);
    buf.write('XTRCBUF2', 0, 'latin1');
    rejects(buf, /bad magic/);
    rejects(Buffer.from('hello'), /bad magic/);
  });

  it('bad version, record size, clock', () => {
    const v = Buffer.from(good);
    v.writeUInt32LE(2, 8);
    rejects(v, /version 2/);
    const r = Buffer.from(good);
    r.writeUInt32LE(64, 12);
    rejects(r, /record_size 64/);
    const c = Buffer.from(good);
    c.writeUInt32LE(9, 16);
    rejects(c, /clock 9/);
  });

  it('truncated header, probe table, ring', () => {
    rejects(good.subarray(0, 40), /truncated: header holds 40 of 64 bytes/);
    rejects(good.subarray(0, XTBUF_HEADER_SIZE + 8 + 32 + 5), /truncated: probe table holds 1 of 4 names/);
    const ring = XTBUF_HEADER_SIZE + 8 + PROBES.length * XTBUF_PROBE_NAME_SIZE;
    rejects(good.subarray(0, ring + 3 * XTBUF_RECORD_SIZE + 10), /truncated: ring holds 3 of 8 records/);
    rejects(Buffer.alloc(0), /empty input/);
  });
});

describe('xtbuf text', () => {
  const HEADER = '# xtbuf version=1 clock=monotonic pid=4321 comm=tapdisk tsc_hz=0 capacity=4096 written=1700\n';

  it('normalises known keys to the fixed order and keeps unknown keys in input order', () => {
    const out = parse(xtbufText, HEADER + '123 td_get_req idx=5 status=-3 foo=bar id=4 op=W sector=8\n');
    assert.equal(out.events.length, 1);
    assert.equal(out.events[0]!.args, 'id=4 sector=8 op=W status=-3 idx=5 foo=bar');
    assert.equal(out.events[0]!.name, 'td_get_req');
    assert.equal(out.events[0]!.line, 2);
  });

  it('a header missing a field is a ParseError naming the field, on line 1', () => {
    for (const field of ['version', 'clock', 'pid', 'comm', 'tsc_hz', 'capacity', 'written']) {
      const line = HEADER.replace(new RegExp(` ${field}=\\S*`), '');
      assert.notEqual(line, HEADER);
      assert.throws(
        () => parse(xtbufText, line + '1 td_get_req\n'),
        (e: unknown) => e instanceof ParseError && e.line === 1 && e.message.includes(`"${field}"`),
      );
    }
  });

  it('an invalid header field is a ParseError naming it', () => {
    assert.throws(
      () => parse(xtbufText, HEADER.replace('clock=monotonic', 'clock=boot')),
      (e: unknown) => e instanceof ParseError && e.line === 1 && /clock/.test(e.message),
    );
    assert.throws(
      () => parse(xtbufText, HEADER.replace('pid=4321', 'pid=x')),
      (e: unknown) => e instanceof ParseError && /pid/.test(e.message),
    );
    assert.throws(
      () => parse(xtbufText, HEADER.replace('version=1', 'version=2')),
      (e: unknown) => e instanceof ParseError && /version/.test(e.message),
    );
    assert.throws(
      () => parse(xtbufText, ''),
      (e: unknown) => e instanceof ParseError && e.line === 1,
    );
  });

  it('comments, blank lines and malformed records are counted', () => {
    const out = parse(
      xtbufText,
      HEADER + '# a comment\n\n   \n1 td_get_req id=4\nnot-a-ts td_get_req\n2 td_aio_submit id\n3\n4 td_put_rsp vdev=-1\n5 td_put_rsp id=4',
    );
    assert.equal(diagCount(out, 'xtbuf_comment'), 1);
    assert.equal(diagCount(out, 'blank_line'), 2);
    const bad = out.diags.filter((d) => d.code === 'unparsed_line');
    assert.deepEqual(
      bad.map((d) => d.line),
      [6, 7, 8, 9],
    );
    assert.equal(diagCount(out, 'header_line'), 1);
    assert.equal(out.facts.lines, 10);
    assert.match(bad[0]!.detail!, /not-a-ts td_get_req/);
    assert.deepEqual(
      out.events.map((e) => [e.line, e.ts, e.name]),
      [
        [5, 1, 'td_get_req'],
        [10, 5, 'td_put_rsp'],
      ],
    );
    assert.equal(diagCount(out, 'xtbuf_ring_wrapped'), 0);
  });

  it('reports the ring wrap from the header', () => {
    const out = parse(xtbufText, HEADER.replace('written=1700', 'written=5000'));
    assert.equal(diagCount(out, 'xtbuf_ring_wrapped'), 5000 - 4096);
    assert.equal(out.facts.entriesInBuffer, 4096);
    assert.equal(out.facts.entriesWritten, 5000);
  });

  it('chunking does not matter', () => {
    const text = formatXtbufText(dump(SAMPLE));
    assert.deepEqual(parse(xtbufText, text, 1), parse(xtbufText, text));
  });
});

describe('xtbuf sniff', () => {
  it('binary: magic only', () => {
    assert.equal(xtbufBinary.sniff(encodeXtbuf(dump(SAMPLE))), 1);
    assert.equal(xtbufBinary.sniff(Buffer.from('XTRCBUF')), 0);
    assert.equal(xtbufBinary.sniff(Buffer.from(formatXtbufText(dump(SAMPLE)))), 0);
  });

  it('text: first line starts with "# xtbuf "', () => {
    assert.equal(xtbufText.sniff(Buffer.from(formatXtbufText(dump(SAMPLE)))), 1);
    assert.equal(xtbufText.sniff(Buffer.from('# tracer: nop\n')), 0);
    assert.equal(xtbufText.sniff(encodeXtbuf(dump(SAMPLE))), 0);
  });
});

describe('xtbuf writer', () => {
  it('rejects what the format cannot hold', () => {
    assert.throws(() => encodeXtbuf(dump([{ ts: 1, probe: 'nope' }])), RangeError);
    assert.throws(() => encodeXtbuf(dump([], { comm: 'a-very-long-command-name' })), RangeError);
    assert.throws(() => formatXtbufText(dump([{ ts: 1, probe: 'td_get_req', domid: 70000 }])), RangeError);
    assert.throws(() => formatXtbufText(dump([], { comm: 'two words' })), RangeError);
  });
});
