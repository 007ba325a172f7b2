import { ParseError } from '../../src/core/errors.js';
import { ticksToNs } from '../../src/core/time.js';
import type { ChunkParser, ParseOptions, Parser, RecordSink, SourceFacts, Timestamp } from '../../src/core/types.js';

/**
 * xtbuf: a userspace trace ring dumped raw from a signal handler (see
 * parsers/xtbuf/xtbuf-format.md). Header (64 bytes), probe-name table, then `capacity` records
 * of 48 bytes; record i (write order) sits at slot i % capacity. Little-endian throughout.
 */

export const XTBUF_MAGIC = Buffer.from('XTRCBUF1', 'latin1');
export const XTBUF_VERSION = 1;
export const XTBUF_HEADER_SIZE = 64;
export const XTBUF_RECORD_SIZE = 48;
export const XTBUF_PROBE_NAME_SIZE = 32;
export const XTBUF_COMM_SIZE = 16;
/** Probe indexes are u16: a larger table can only be corruption. */
export const XTBUF_MAX_PROBES = 0x10000;

export type XtbufClock = 'monotonic' | 'realtime' | 'tsc' | 'monotonic_raw';
/** Header clock code → name (index 0 is not a valid code). */
export const XTBUF_CLOCKS: readonly (XtbufClock | null)[] = [null, 'monotonic', 'realtime', 'tsc', 'monotonic_raw'];

/** Record fields in the fixed order they are printed in `args`, with their `valid` bit. */
export const XTBUF_FIELDS = ['id', 'sector', 'vdev', 'nsec', 'domid', 'ring', 'op', 'status'] as const;
export type XtbufField = (typeof XTBUF_FIELDS)[number];
export const XTBUF_VALID_BIT: Readonly<Record<XtbufField, number>> = {
  sector: 1 << 0,
  id: 1 << 1,
  vdev: 1 << 2,
  nsec: 1 << 3,
  domid: 1 << 4,
  ring: 1 << 5,
  op: 1 << 6,
  status: 1 << 7,
};
const KNOWN_VALID_BITS = 0xff;
export const XTBUF_OPS = 'RWFD';

/** Record layout offsets. */
export const REC = {
  ts: 0,
  sector: 8,
  id: 16,
  vdev: 24,
  nsec: 28,
  probe: 32,
  domid: 34,
  ring: 36,
  op: 37,
  status: 38,
  valid: 40,
  reserved: 42,
} as const;

/** How timestamps are interpreted, from the header clock and tsc_hz (and --tsc-hz). */
export interface XtbufTime {
  /** TSC frequency used for conversion, or null when timestamps are stored as they are. */
  hz: number | null;
  facts: SourceFacts;
}

/**
 * The facts every xtbuf reader reports once, and the ts conversion. `opts.tscHz` only fills in
 * a zero header tsc_hz; a non-zero header value wins.
 */
export function xtbufTime(clock: XtbufClock, headerHz: number, optsHz: number | undefined): XtbufTime {
  if (clock !== 'tsc') return { hz: null, facts: { clock, clockKind: 'ns' } };
  const hz = headerHz > 0 ? headerHz : optsHz !== undefined && optsHz > 0 ? optsHz : 0;
  if (hz > 0) return { hz, facts: { clock, clockKind: 'tsc-converted', tscHz: hz } };
  return { hz: null, facts: { clock, clockKind: 'ticks' } };
}

/** Header facts + ring-wrapped diagnostic, shared by the binary and the text reader. */
export function reportXtbufHeader(
  sink: RecordSink,
  variant: string,
  time: XtbufTime,
  pid: number,
  comm: string,
  capacity: bigint,
  written: bigint,
  line: number,
): void {
  const inBuffer = written < capacity ? written : capacity;
  sink.facts({
    variant,
    ...time.facts,
    pid,
    comm,
    entriesInBuffer: Number(inBuffer),
    entriesWritten: Number(written),
  });
  if (written > capacity) {
    sink.diag(
      'xtbuf_ring_wrapped',
      line,
      `ring of ${capacity} records wrapped: ${written} written, ${written - capacity} oldest overwritten`,
      Number(written - capacity),
      { line: 0, cpu: null },
    );
  }
}

const TWO32 = 0x1_0000_0000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** u64 LE → number when exact, else bigint (same value as readBigUInt64LE). */
function readU64(b: Buffer, off: number): Timestamp {
  const hi = b.readUInt32LE(off + 4);
  if (hi < 0x20_0000) return hi * TWO32 + b.readUInt32LE(off);
  return b.readBigUInt64LE(off);
}

/** u64 LE printed exactly in decimal. */
function u64Text(b: Buffer, off: number): string {
  return String(readU64(b, off));
}

/** A NUL-padded fixed-size string (up to the first NUL). */
export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

const ZERO_RECORD = Buffer.alloc(XTBUF_RECORD_SIZE);

interface Header {
  clock: XtbufClock;
  pid: number;
  tscHz: number;
  capacity: number;
  written: bigint;
  comm: string;
}

function parseHeader(h: Buffer): Header {
  if (!h.subarray(0, 8).equals(XTBUF_MAGIC)) throw badMagic(h);
  const version = h.readUInt32LE(8);
  if (version !== XTBUF_VERSION) throw new ParseError(`xtbuf: unsupported version ${version} (expected ${XTBUF_VERSION})`, 0);
  const recordSize = h.readUInt32LE(12);
  if (recordSize !== XTBUF_RECORD_SIZE) {
    throw new ParseError(`xtbuf: unsupported record_size ${recordSize} (expected ${XTBUF_RECORD_SIZE})`, 0);
  }
  const clockCode = h.readUInt32LE(16);
  const clock = XTBUF_CLOCKS[clockCode] ?? null;
  if (clock === null) throw new ParseError(`xtbuf: unknown clock ${clockCode} (expected 1-4)`, 0);
  const pid = h.readUInt32LE(20);
  const tscHz = h.readBigUInt64LE(24);
  const capacity = h.readBigUInt64LE(32);
  const written = h.readBigUInt64LE(40);
  if (capacity > MAX_SAFE / BigInt(XTBUF_RECORD_SIZE)) throw new ParseError(`xtbuf: capacity ${capacity} is not plausible`, 0);
  return {
    clock,
    pid,
    tscHz: Number(tscHz),
    capacity: Number(capacity),
    written,
    comm: cString(h.subarray(48, 48 + XTBUF_COMM_SIZE)),
  };
}

function badMagic(h: Buffer): ParseError {
  const got = JSON.stringify(h.subarray(0, 8).toString('latin1'));
  return new ParseError(`xtbuf: bad magic ${got} (expected "XTRCBUF1")`, 0);
}

/** Bytes queued before the ring: only the header and the probe table are ever held here. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** The first n bytes (a copy), or null when fewer are queued. */
  take(n: number): Buffer | null {
    if (this.length < n) return null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  drain(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [];
    this.length = 0;
    return all;
  }

  peekAll(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

type Phase = 'header' | 'table' | 'names' | 'ring';

class XtbufBinaryReader implements ChunkParser {
  private phase: Phase = 'header';
  private readonly queue = new ByteQueue();
  private header: Header | null = null;
  private nprobes = 0;
  private probes: string[] = [];
  private hz: number | null = null;

  // Ring state.
  private capacity = 0;
  /** Slots in use: min(written, capacity). */
  private used = 0;
  private wrapped = false;
  /** Slot of the oldest surviving record. */
  private oldest = 0;
  /** Next slot to arrive. */
  private slot = 0;
  private readonly partial = Buffer.alloc(XTBUF_RECORD_SIZE);
  private fill = 0;
  /** Slots 0 .. oldest-1 of a wrapped ring: newer than the rest, emitted at end(). */
  private readonly held: Buffer[] = [];
  private extra = 0;

  constructor(
    private readonly sink: RecordSink,
    private readonly opts: ParseOptions,
  ) {}

  write(chunk: Buffer): void {
    if (this.phase !== 'ring') {
      this.queue.push(chunk);
      if (!this.advance()) return;
      chunk = this.queue.drain();
    }
    this.ring(chunk);
  }

  /** Consume header and probe table from the queue; true once the ring starts. */
  private advance(): boolean {
    for (;;) {
      switch (this.phase) {
        case 'header': {
          const h = this.queue.take(XTBUF_HEADER_SIZE);
          if (h === null) return false;
          this.header = parseHeader(h);
          this.phase = 'table';
          break;
        }
        case 'table': {
          const t = this.queue.take(8);
          if (t === null) return false;
          this.nprobes = t.readUInt32LE(0);
          if (this.nprobes > XTBUF_MAX_PROBES) {
            throw new ParseError(`xtbuf: probe table claims ${this.nprobes} names (probe indexes are u16: at most ${XTBUF_MAX_PROBES})`, 0);
          }
          this.phase = 'names';
          break;
        }
        case 'names': {
          const t = this.queue.take(this.nprobes * XTBUF_PROBE_NAME_SIZE);
          if (t === null) return false;
          for (let i = 0; i < this.nprobes; i++) {
            this.probes.push(cString(t.subarray(i * XTBUF_PROBE_NAME_SIZE, (i + 1) * XTBUF_PROBE_NAME_SIZE)));
          }
          this.startRing();
          return true;
        }
        case 'ring':
          return true;
      }
    }
  }

  private startRing(): void {
    const h = this.header!;
    const time = xtbufTime(h.clock, h.tscHz, this.opts.tscHz);
    this.hz = time.hz;
    const capacity = BigInt(h.capacity);
    reportXtbufHeader(this.sink, 'xtbuf', time, h.pid, h.comm, capacity, h.written, 0);
    this.capacity = h.capacity;
    this.wrapped = h.written > capacity;
    this.used = Number(this.wrapped ? capacity : h.written);
    this.oldest = this.wrapped && h.capacity > 0 ? Number(h.written % capacity) : 0;
    this.phase = 'ring';
  }

  private ring(chunk: Buffer): void {
    const len = chunk.length;
    let off = 0;
    while (off < len) {
      if (this.slot >= this.capacity) {
        this.extra += len - off;
        return;
      }
      if (this.fill === 0 && len - off >= XTBUF_RECORD_SIZE) {
        this.slotArrived(chunk.subarray(off, off + XTBUF_RECORD_SIZE));
        off += XTBUF_RECORD_SIZE;
        continue;
      }
      const n = Math.min(XTBUF_RECORD_SIZE - this.fill, len - off);
      chunk.copy(this.partial, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === XTBUF_RECORD_SIZE) {
        this.fill = 0;
        this.slotArrived(this.partial);
      }
    }
  }

  private slotArrived(rec: Buffer): void {
    const s = this.slot++;
    // A copy: `rec` may be the scratch buffer or a slice pinning a large chunk.
    if (s < this.oldest) this.held.push(Buffer.from(rec));
    else this.slotReady(rec, s);
  }

  private slotReady(rec: Buffer, s: number): void {
    const sink = this.sink;
    if (s >= this.used) {
      // Never written (written < capacity): must be zero.
      if (!ZERO_RECORD.equals(rec)) {
        sink.diag('xtbuf_bad_record', 0, `slot ${s} is not zero although only ${this.used} records were written`);
      }
      return;
    }
    const line = (s >= this.oldest ? s - this.oldest : this.capacity - this.oldest + s) + 1;
    if (ZERO_RECORD.equals(rec)) {
      sink.diag('xtbuf_empty_slot', line, `record ${line} (slot ${s}) is all zero`);
      return;
    }
    const probe = rec.readUInt16LE(REC.probe);
    const name = this.probes[probe];
    if (name === undefined || name.length === 0) {
      const why = name === undefined ? `out of range (${this.probes.length} probes)` : 'has an empty name';
      sink.diag('xtbuf_bad_record', line, `record ${line} (slot ${s}): probe index ${probe} ${why}`);
      return;
    }
    for (let i = REC.reserved; i < XTBUF_RECORD_SIZE; i++) {
      if (rec[i] !== 0) {
        sink.diag('xtbuf_bad_record', line, `record ${line} (slot ${s}): reserved bytes are not zero`);
        break;
      }
    }
    const valid = rec.readUInt16LE(REC.valid);
    if ((valid & ~KNOWN_VALID_BITS) !== 0) {
      sink.diag('xtbuf_bad_record', line, `record ${line} (slot ${s}): unknown valid bits 0x${valid.toString(16)}`);
    }
    const args: string[] = [];
    if (valid & XTBUF_VALID_BIT.id) args.push('id=' + u64Text(rec, REC.id));
    if (valid & XTBUF_VALID_BIT.sector) args.push('sector=' + u64Text(rec, REC.sector));
    if (valid & XTBUF_VALID_BIT.vdev) args.push('vdev=' + rec.readUInt32LE(REC.vdev));
    if (valid & XTBUF_VALID_BIT.nsec) args.push('nsec=' + rec.readUInt32LE(REC.nsec));
    if (valid & XTBUF_VALID_BIT.domid) args.push('domid=' + rec.readUInt16LE(REC.domid));
    if (valid & XTBUF_VALID_BIT.ring) args.push('ring=' + rec[REC.ring]!);
    if (valid & XTBUF_VALID_BIT.op) {
      const op = rec[REC.op]!;
      // 0 = unknown: treated as absent.
      if (op !== 0) {
        const printable = op > 0x20 && op < 0x7f;
        if (printable) args.push('op=' + String.fromCharCode(op));
        if (!printable || !XTBUF_OPS.includes(String.fromCharCode(op))) {
          sink.diag('xtbuf_bad_record', line, `record ${line} (slot ${s}): op byte 0x${op.toString(16)} is not one of R W F D`);
        }
      }
    }
    if (valid & XTBUF_VALID_BIT.status) args.push('status=' + rec.readInt16LE(REC.status));
    const raw = readU64(rec, REC.ts);
    const h = this.header!;
    sink.event({
      line,
      ts: this.hz !== null ? ticksToNs(raw, this.hz) : raw,
      cpu: null,
      pid: h.pid,
      tgid: h.pid,
      comm: h.comm,
      flags: null,
      name,
      args: args.join(' '),
      part: null,
    });
  }

  end(): void {
    switch (this.phase) {
      case 'header': {
        const got = this.queue.peekAll();
        if (got.length === 0) throw new ParseError('xtbuf: empty input (no header)', 0);
        const n = Math.min(got.length, XTBUF_MAGIC.length);
        if (!got.subarray(0, n).equals(XTBUF_MAGIC.subarray(0, n))) throw badMagic(got);
        throw new ParseError(`xtbuf: truncated: header holds ${got.length} of ${XTBUF_HEADER_SIZE} bytes`, 0);
      }
      case 'table':
        throw new ParseError(`xtbuf: truncated: probe table header holds ${this.queue.length} of 8 bytes`, 0);
      case 'names': {
        const whole = Math.floor(this.queue.length / XTBUF_PROBE_NAME_SIZE);
        throw new ParseError(`xtbuf: truncated: probe table holds ${whole} of ${this.nprobes} names`, 0);
      }
      case 'ring':
        break;
    }
    if (this.slot < this.capacity) {
      const partial = this.fill > 0 ? ` (and ${this.fill} of ${XTBUF_RECORD_SIZE} bytes of the next)` : '';
      throw new ParseError(`xtbuf: truncated: ring holds ${this.slot} of ${this.capacity} records${partial}`, 0);
    }
    const held = this.held;
    for (let s = 0; s < held.length; s++) this.slotReady(held[s]!, s);
    held.length = 0;
    if (this.extra > 0) this.sink.diag('xtbuf_bad_record', 0, `${this.extra} extra bytes after the ring`);
  }
}

export const xtbufBinary = {
  name: 'xtbuf',
  description: 'xtbuf binary dump of a userspace trace ring (magic XTRCBUF1)',
  sniff(head: Buffer): number {
    return head.length >= XTBUF_MAGIC.length && head.subarray(0, XTBUF_MAGIC.length).equals(XTBUF_MAGIC) ? 1 : 0;
  },
  open(sink: RecordSink, opts: ParseOptions): ChunkParser {
    return new XtbufBinaryReader(sink, opts);
  },
} satisfies Parser;
