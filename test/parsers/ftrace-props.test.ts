/**
 * Property tests (fast-check) of the ftrace text parser, the timestamp helpers, hexCanon and
 * the line tokenizer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ftraceText } from '../../parsers/ftrace/index.js';
import { hexCanon } from '../../parsers/ftrace/line.js';
import type { IngestCode as DiagCode } from '../../src/core/counters.js';
import { LineTokenizer, MAX_LINE_BYTES } from '../../src/core/lines.js';
import { ParseError } from '../../src/core/errors.js';
import { secondsToNs } from '../../src/core/time.js';
import type { ParseOptions, RecordSink, SourceFacts, TraceEvent } from '../../src/core/types.js';

interface Parsed {
  events: TraceEvent[];
  /** Every diag() call, in order. */
  diags: { code: DiagCode; line: number; detail: string | undefined; count: number }[];
  facts: SourceFacts;
}

function parseChunks(chunks: Buffer[], opts: Partial<ParseOptions> = {}): Parsed {
  const out: Parsed = { events: [], diags: [], facts: {} };
  const sink: RecordSink = {
    event: (e) => void out.events.push({ ...e }),
    diag: (code, line, detail, count = 1) => void out.diags.push({ code, line, detail, count }),
    facts: (f) => void Object.assign(out.facts, f),
  };
  const p = ftraceText.open(sink, { path: 'prop.txt', ...opts });
  for (const c of chunks) p.write(c);
  p.end();
  return out;
}

/** Splits `buf` at the given byte offsets (any order, duplicates and out-of-range ignored). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const c of points) {
    chunks.push(buf.subarray(prev, c));
    prev = c;
  }
  chunks.push(buf.subarray(prev));
  return chunks;
}

/** Byte offsets strictly inside multi-byte UTF-8 characters of `buf`. */
function utf8Interiors(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i++) if ((buf[i]! & 0xc0) === 0x80) out.push(i);
  return out;
}

describe('property: chunk boundaries do not matter (real capture linux-block-tgid)', () => {
  const sample = gunzipSync(readFileSync(fileURLToPath(new URL('../../samples/linux-block-tgid/trace.txt.gz', import.meta.url))));
  // Non-ASCII comms and marker text (2-, 3- and 4-byte UTF-8), a multi-line print, a stack trace,
  // a lost-events line, a garbled line, and a last line without a newline.
  const extra = [
    '     kworker/ü-12      (     12) [000] d..2.   914.177300: sched_switch: prev_comm=kworker/ü prev_pid=12 prev_prio=120 prev_state=I ==> next_comm=swapper/0 next_pid=0 next_prio=120',
    '            bash-12666   (  12666) [000] ...1.   914.177310: tracing_mark_write: xtrace: note=€ uni=😀 end',
    'second line of the marker: ünïcödé',
    'CPU:1 [LOST 3 EVENTS]',
    '          <idle>-0       (-------) [000] d.h1.   914.177320: <stack trace>',
    ' => handle_irq_event',
    ' => __common_interrupt',
    '            bash-12666   (  12666) [000] d..2.d..2   914.177330: garbled: x=1',
    '            bash-12666   (  12666) [000] d..2.   914.177340: sched_switch: prev_comm=bash prev_pid=12666',
  ].join('\n');
  const input = Buffer.concat([sample, Buffer.from(extra, 'utf8')]);
  const interiors = utf8Interiors(input);
  const whole = parseChunks([input]);

  it('the whole-input parse sees the sample and the added lines', () => {
    // 2 × ü (1 continuation byte each), € (2), 😀 (3), ü ï ö é (1 each); the capture itself is ASCII
    assert.equal(interiors.length, 2 + 2 + 3 + 4);
    assert.equal(whole.facts.lines, sample.toString('utf8').split('\n').length - 1 + extra.split('\n').length);
    assert.equal(whole.events.length, 11704 + 4);
    const codes = new Set(whole.diags.map((d) => d.code));
    for (const c of ['header_line', 'continuation_line', 'stack_line', 'lost_events', 'unparsed_line', 'truncated_last_line'] as const) {
      assert.ok(codes.has(c), c);
    }
    assert.ok(whole.events.some((e) => e.comm === 'kworker/ü'));
    assert.ok(whole.events.some((e) => e.args === 'xtrace: note=€ uni=😀 end\nsecond line of the marker: ünïcödé'));
  });

  it('random splits (including cuts inside multi-byte characters) give identical events, diagnostics and facts', () => {
    const cut = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: input.length }) },
      { weight: 1, arbitrary: fc.constantFrom(...interiors) },
    );
    fc.assert(
      fc.property(fc.array(cut, { minLength: 1, maxLength: 60 }), (cuts) => {
        const chunks = splitAt(input, cuts);
        const got = parseChunks(chunks);
        assert.deepEqual(got.events, whole.events);
        assert.deepEqual(got.diags, whole.diags);
        assert.deepEqual(got.facts, whole.facts);
      }),
      { numRuns: 25 },
    );
  });

  it('small fixed chunk sizes (1, 2, 3, 4 bytes) on the added lines give identical results', () => {
    const small = Buffer.from(extra + '\n' + extra, 'utf8');
    const ref = parseChunks([small]);
    assert.ok(ref.events.length > 0);
    for (const size of [1, 2, 3, 4]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < small.length; i += size) chunks.push(small.subarray(i, i + size));
      assert.deepEqual(parseChunks(chunks), ref, `chunk size ${size}`);
    }
  });
});

describe('property: secondsToNs is exact', () => {
  const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

  it('secondsToNs(sec, frac) == BigInt(sec) * 1e9 + BigInt(frac.padEnd(9, "0"))', () => {
    fc.assert(
      fc.property(digits(1, 12), digits(1, 9), (sec, frac) => {
        const got = secondsToNs(sec, frac);
        const want = BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
        assert.equal(BigInt(got), want);
        // a number result is always an exact integer
        if (typeof got === 'number') assert.ok(Number.isSafeInteger(got), `${got}`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('property: hexCanon', () => {
  const hex = fc
    .tuple(
      fc.string({ unit: fc.constant('0'), maxLength: 8 }),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 16 }),
    )
    .map(([zeros, body]) => zeros + body);

  it('is idempotent and preserves the value (bare and 0x-prefixed input)', () => {
    fc.assert(
      fc.property(hex, fc.boolean(), (x, prefixed) => {
        const input = prefixed ? '0x' + x : x;
        const c = hexCanon(input);
        assert.equal(hexCanon(c), c);
        assert.equal(BigInt(c), BigInt('0x' + x));
        assert.match(c, /^0x(0|[1-9a-f][0-9a-f]*)$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('property: LineTokenizer', () => {
  const text = fc.string({
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('a', 'b', ' ', ':', '[', '0') },
      { weight: 3, arbitrary: fc.constant('\n') },
      { weight: 1, arbitrary: fc.constant('\r') },
      { weight: 1, arbitrary: fc.constantFrom('ü', '€', '😀', '\u{10FFFF}') },
    ),
    maxLength: 300,
  });

  it('yields the lines of text.split("\\n") (minus the final empty piece, CR of CRLF removed) whatever the chunking', () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(), { maxLength: 20 }), (s, cuts) => {
        const buf = Buffer.from(s, 'utf8');
        const got: [string, number][] = [];
        const tok = new LineTokenizer((l, n) => void got.push([l, n]));
        for (const c of splitAt(buf, cuts.map((x) => x % (buf.length + 1)))) tok.write(c);
        tok.end();
        const pieces = s.split('\n');
        if (pieces[pieces.length - 1] === '') pieces.pop();
        const want = pieces.map((l, i): [string, number] => [l.endsWith('\r') ? l.slice(0, -1) : l, i + 1]);
        assert.deepEqual(got, want);
        assert.equal(tok.lines, want.length);
        assert.equal(tok.endedWithoutNewline, s.length > 0 && !s.endsWith('\n'));
      }),
      { numRuns: 1000 },
    );
  });

  it('a line of exactly 1 MiB is accepted, one byte more is refused naming its line number, whatever the chunking', () => {
    assert.equal(MAX_LINE_BYTES, 1_048_576);
    const exact = '€'.repeat(349_525) + 'a'; // 3 × 349,525 + 1 bytes: chunk cuts fall inside characters
    assert.equal(Buffer.byteLength(exact), MAX_LINE_BYTES);
    /** Byte lengths of the lines delivered, or the error. */
    const tokenize = (text: string, chunk: number): number[] | Error => {
      const buf = Buffer.from(text, 'utf8');
      const lengths: number[] = [];
      try {
        const tok = new LineTokenizer((l) => void lengths.push(Buffer.byteLength(l)));
        for (let i = 0; i < buf.length; i += chunk) tok.write(buf.subarray(i, i + chunk));
        tok.end();
        return lengths;
      } catch (e) {
        return e as Error;
      }
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 16_384, max: 2 * MAX_LINE_BYTES }), fc.boolean(), (linesBefore, chunk, newline) => {
        const head = 'ab\n'.repeat(linesBefore);
        const end = newline ? '\nnext\n' : '';
        assert.deepEqual(tokenize(head + exact + end, chunk), [...Array<number>(linesBefore).fill(2), MAX_LINE_BYTES, ...(newline ? [4] : [])]);
        const tooLong = tokenize(head + exact + 'b' + end, chunk);
        const n = linesBefore + 1;
        assert.ok(tooLong instanceof ParseError, `chunk ${chunk}: a line of ${MAX_LINE_BYTES + 1} bytes was accepted`);
        assert.equal(tooLong.line, n);
        assert.equal(tooLong.message, `line ${n} is longer than 1 MiB: this is not a trace line`);
      }),
      { numRuns: 12, examples: [[0, 2 * MAX_LINE_BYTES, true], [2, 65_536, false], [1, MAX_LINE_BYTES, true]] },
    );
  });
});
