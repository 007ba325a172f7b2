import { ParseError } from '../../src/core/errors.js';
import { LineTokenizer } from '../../src/core/lines.js';
import { parseTicks, ticksToNs } from '../../src/core/time.js';
import type { ChunkParser, ParseOptions, Parser, RecordSink } from '../../src/core/types.js';
import { XTBUF_FIELDS, XTBUF_OPS, reportXtbufHeader, xtbufTime, type XtbufClock, type XtbufField } from './binary.js';

/**
 * xtbuf text form: a `# xtbuf key=value ...` header line, then `<ts> <probe> key=value ...`
 * records (surviving records only, oldest first), `#` comment lines and blank lines.
 */

export const XTBUF_TEXT_PREFIX = '# xtbuf ';
const HEADER_FIELDS = ['version', 'clock', 'pid', 'comm', 'tsc_hz', 'capacity', 'written'] as const;
const TEXT_CLOCKS: readonly string[] = ['monotonic', 'realtime', 'tsc', 'monotonic_raw'];

const DIGITS_RE = /^\d+$/;
const SIGNED_RE = /^-?\d+$/;
const PAIR_RE = /^([^=\s]+)=(\S+)$/;
const U64_MAX = (1n << 64n) - 1n;

function unsigned(max: bigint): (v: string) => boolean {
  return (v) => DIGITS_RE.test(v) && BigInt(v) <= max;
}

/** What a known key's value must look like (the binary form's field type). */
const FIELD_OK: Readonly<Record<XtbufField, (v: string) => boolean>> = {
  id: unsigned(U64_MAX),
  sector: unsigned(U64_MAX),
  vdev: unsigned(0xffff_ffffn),
  nsec: unsigned(0xffff_ffffn),
  domid: unsigned(0xffffn),
  ring: unsigned(0xffn),
  op: (v) => /^[!-~]$/.test(v),
  status: (v) => SIGNED_RE.test(v) && BigInt(v) >= -0x8000n && BigInt(v) <= 0x7fffn,
};
const FIELD_RANK = new Map<string, number>(XTBUF_FIELDS.map((f, i) => [f, i]));

interface TextHeader {
  pid: number;
  comm: string;
  hz: number | null;
}

function headerError(msg: string): ParseError {
  return new ParseError(`xtbuf text header: ${msg}`, 1);
}

function parseHeaderLine(text: string, sink: RecordSink, opts: ParseOptions): TextHeader {
  if (!text.startsWith(XTBUF_TEXT_PREFIX)) {
    throw headerError(`line 1 must start with "${XTBUF_TEXT_PREFIX.trim()}"`);
  }
  const fields = new Map<string, string>();
  for (const tok of text.slice(XTBUF_TEXT_PREFIX.length).trim().split(/\s+/)) {
    if (tok.length === 0) continue;
    const eq = tok.indexOf('=');
    if (eq <= 0) throw headerError(`"${tok}" is not key=value`);
    fields.set(tok.slice(0, eq), tok.slice(eq + 1));
  }
  for (const f of HEADER_FIELDS) {
    if (!fields.has(f)) throw headerError(`missing field "${f}"`);
  }
  const get = (f: (typeof HEADER_FIELDS)[number]): string => fields.get(f)!;
  const number = (f: 'pid' | 'tsc_hz' | 'capacity' | 'written', max: bigint): bigint => {
    const v = get(f);
    if (!DIGITS_RE.test(v) || BigInt(v) > max) throw headerError(`invalid ${f} "${v}"`);
    return BigInt(v);
  };
  if (get('version') !== '1') throw headerError(`unsupported version "${get('version')}" (expected 1)`);
  const clock = get('clock');
  if (!TEXT_CLOCKS.includes(clock)) throw headerError(`invalid clock "${clock}" (expected ${TEXT_CLOCKS.join(', ')})`);
  const pid = Number(number('pid', 0xffff_ffffn));
  const tscHz = Number(number('tsc_hz', U64_MAX));
  const capacity = number('capacity', U64_MAX);
  const written = number('written', U64_MAX);
  const comm = get('comm');
  const time = xtbufTime(clock as XtbufClock, tscHz, opts.tscHz);
  reportXtbufHeader(sink, 'xtbuf-text', time, pid, comm, capacity, written, 1);
  return { pid, comm, hz: time.hz };
}

class XtbufTextLines {
  private header: TextHeader | null = null;

  constructor(
    private readonly sink: RecordSink,
    private readonly opts: ParseOptions,
  ) {}

  line(text: string, n: number): void {
    const header = this.header;
    if (header === null) {
      this.header = parseHeaderLine(text, this.sink, this.opts);
      this.sink.diag('header_line', n);
      return;
    }
    const body = text.trim();
    if (body.length === 0) return this.sink.diag('blank_line', n);
    if (body.charCodeAt(0) === 35 /* # */) return this.sink.diag('xtbuf_comment', n);
    this.record(header, body, text, n);
  }

  private record(h: TextHeader, body: string, text: string, n: number): void {
    const sink = this.sink;
    const bad = (why: string): void => sink.diag('unparsed_line', n, `line ${n}: ${why}: ${text}`);
    const toks = body.split(/\s+/);
    const tsText = toks[0]!;
    const probe = toks[1];
    if (!DIGITS_RE.test(tsText)) return bad('timestamp is not a decimal integer');
    if (probe === undefined) return bad('no probe name');
    if (probe.includes('=')) return bad('no probe name');
    const known: (string | undefined)[] = new Array(XTBUF_FIELDS.length);
    const unknown: string[] = [];
    const seen = new Set<string>();
    for (let i = 2; i < toks.length; i++) {
      const tok = toks[i]!;
      const m = PAIR_RE.exec(tok);
      if (m === null) return bad(`"${tok}" is not key=value`);
      const key = m[1]!;
      const value = m[2]!;
      if (seen.has(key)) return bad(`duplicate key "${key}"`);
      seen.add(key);
      const rank = FIELD_RANK.get(key);
      if (rank === undefined) {
        unknown.push(tok);
        continue;
      }
      if (!FIELD_OK[key as XtbufField](value)) return bad(`invalid ${key} "${value}"`);
      if (key === 'op' && !XTBUF_OPS.includes(value)) {
        sink.diag('xtbuf_bad_record', n, `line ${n}: op "${value}" is not one of R W F D`);
      }
      known[rank] = tok;
    }
    const args: string[] = [];
    for (const k of known) if (k !== undefined) args.push(k);
    for (const u of unknown) args.push(u);
    const raw = parseTicks(tsText);
    sink.event({
      line: n,
      ts: h.hz !== null ? ticksToNs(raw, h.hz) : raw,
      cpu: null,
      pid: h.pid,
      tgid: h.pid,
      comm: h.comm,
      flags: null,
      name: probe,
      args: args.join(' '),
      part: null,
    });
  }

  finish(): void {
    if (this.header === null) throw headerError(`empty input: missing the "${XTBUF_TEXT_PREFIX.trim()}" header line`);
  }
}

export const xtbufText = {
  name: 'xtbuf-text',
  description: 'xtbuf text dump of a userspace trace ring (`# xtbuf version=1 ...` header)',
  sniff(head: Buffer): number {
    // Only the first line matters; a BOM-less UTF-8/ASCII prefix check is enough.
    return head.subarray(0, XTBUF_TEXT_PREFIX.length).toString('latin1') === XTBUF_TEXT_PREFIX ? 1 : 0;
  },
  open(sink: RecordSink, opts: ParseOptions): ChunkParser {
    const lines = new XtbufTextLines(sink, opts);
    const tok = new LineTokenizer((l, n) => lines.line(l, n));
    return {
      write: (chunk) => tok.write(chunk),
      end: () => {
        tok.end();
        lines.finish();
        sink.facts({ lines: tok.lines });
      },
    };
  },
} satisfies Parser;
