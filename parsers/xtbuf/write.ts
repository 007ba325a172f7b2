import {
  REC,
  XTBUF_CLOCKS,
  XTBUF_COMM_SIZE,
  XTBUF_FIELDS,
  XTBUF_HEADER_SIZE,
  XTBUF_MAGIC,
  XTBUF_OPS,
  XTBUF_PROBE_NAME_SIZE,
  XTBUF_RECORD_SIZE,
  XTBUF_VALID_BIT,
  XTBUF_VERSION,
  type XtbufClock,
} from './binary.js';
import { XTBUF_TEXT_PREFIX } from './text.js';

/**
 * Writers for both xtbuf forms (tests, trace simulator). Both throw a RangeError for content the
 * format cannot hold (a value out of its field's range, a name too long, whitespace in a text token).
 */

export type { XtbufClock } from './binary.js';

export interface XtbufRecord {
  /** Timestamp in the dump's clock (ns, or TSC cycles for clock = tsc). */
  ts: bigint | number;
  /** Probe name; must be one of `XtbufDump.probes`. */
  probe: string;
  id?: bigint | number;
  sector?: bigint | number;
  vdev?: number;
  nsec?: number;
  domid?: number;
  ring?: number;
  op?: 'R' | 'W' | 'F' | 'D';
  status?: number;
}

export interface XtbufDump {
  clock: XtbufClock;
  pid: number;
  comm: string;
  /** Cycles per second when clock = tsc, else 0. */
  tscHz: number;
  capacity: number;
  /** Probe-name table; a record's probe is stored as its index here. */
  probes: string[];
  /** Every record ever written, in write order: written = records.length, only the last `capacity` survive. */
  records: XtbufRecord[];
}

function u64(v: bigint | number, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`xtbuf: ${what} ${v} is not a safe integer`);
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw new RangeError(`xtbuf: ${what} ${v} is out of u64 range`);
  return b;
}

const SMALL_RANGE: Readonly<Record<'vdev' | 'nsec' | 'domid' | 'ring' | 'status', [number, number]>> = {
  vdev: [0, 0xffff_ffff],
  nsec: [0, 0xffff_ffff],
  domid: [0, 0xffff],
  ring: [0, 0xff],
  status: [-0x8000, 0x7fff],
};

/** A record's non-u64 field, range-checked like the binary field that holds it. */
function fieldText(r: XtbufRecord, f: (typeof XTBUF_FIELDS)[number]): string | undefined {
  const v = r[f];
  if (v === undefined) return undefined;
  if (f === 'id' || f === 'sector') return String(u64(v as bigint | number, f));
  if (f === 'op') {
    if (typeof v !== 'string' || !XTBUF_OPS.includes(v) || v.length !== 1) throw new RangeError(`xtbuf: op "${String(v)}" is not one of R W F D`);
    return v;
  }
  const [lo, hi] = SMALL_RANGE[f];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`xtbuf: ${f} ${String(v)} is out of range`);
  return String(v);
}

function fixedString(s: string, size: number, what: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > size) throw new RangeError(`xtbuf: ${what} "${s}" is longer than ${size} bytes`);
  if (b.includes(0)) throw new RangeError(`xtbuf: ${what} "${s}" contains a NUL byte`);
  const out = Buffer.alloc(size);
  b.copy(out);
  return out;
}

/** Index of the first surviving record (older ones were overwritten). */
function firstSurviving(dump: XtbufDump): number {
  return Math.max(0, dump.records.length - dump.capacity);
}

function checkCapacity(dump: XtbufDump): void {
  if (!Number.isSafeInteger(dump.capacity) || dump.capacity < 0) throw new RangeError(`xtbuf: bad capacity ${dump.capacity}`);
}

/** The binary dump exactly as the signal handler would write it. */
export function encodeXtbuf(dump: XtbufDump): Buffer {
  checkCapacity(dump);
  const clockCode = XTBUF_CLOCKS.indexOf(dump.clock);
  if (clockCode <= 0) throw new RangeError(`xtbuf: unknown clock ${dump.clock}`);
  const probeIndex = new Map<string, number>();
  dump.probes.forEach((p, i) => {
    if (!probeIndex.has(p)) probeIndex.set(p, i);
  });
  if (dump.probes.length > 0x10000) throw new RangeError(`xtbuf: ${dump.probes.length} probes (at most 65536)`);

  const tableSize = 8 + dump.probes.length * XTBUF_PROBE_NAME_SIZE;
  const out = Buffer.alloc(XTBUF_HEADER_SIZE + tableSize + dump.capacity * XTBUF_RECORD_SIZE);

  XTBUF_MAGIC.copy(out, 0);
  out.writeUInt32LE(XTBUF_VERSION, 8);
  out.writeUInt32LE(XTBUF_RECORD_SIZE, 12);
  out.writeUInt32LE(clockCode, 16);
  out.writeUInt32LE(dump.pid, 20);
  out.writeBigUInt64LE(u64(dump.tscHz, 'tsc_hz'), 24);
  out.writeBigUInt64LE(BigInt(dump.capacity), 32);
  out.writeBigUInt64LE(BigInt(dump.records.length), 40);
  fixedString(dump.comm, XTBUF_COMM_SIZE, 'comm').copy(out, 48);

  let off = XTBUF_HEADER_SIZE;
  out.writeUInt32LE(dump.probes.length, off);
  off += 8;
  for (const p of dump.probes) {
    fixedString(p, XTBUF_PROBE_NAME_SIZE, 'probe name').copy(out, off);
    off += XTBUF_PROBE_NAME_SIZE;
  }

  const ringStart = off;
  for (let i = firstSurviving(dump); i < dump.records.length; i++) {
    const r = dump.records[i]!;
    const probe = probeIndex.get(r.probe);
    if (probe === undefined) throw new RangeError(`xtbuf: record ${i}: probe "${r.probe}" is not in the probe table`);
    const o = ringStart + (i % dump.capacity) * XTBUF_RECORD_SIZE;
    let valid = 0;
    out.writeBigUInt64LE(u64(r.ts, 'ts'), o + REC.ts);
    if (r.sector !== undefined) {
      out.writeBigUInt64LE(u64(r.sector, 'sector'), o + REC.sector);
      valid |= XTBUF_VALID_BIT.sector;
    }
    if (r.id !== undefined) {
      out.writeBigUInt64LE(u64(r.id, 'id'), o + REC.id);
      valid |= XTBUF_VALID_BIT.id;
    }
    if (r.vdev !== undefined) {
      out.writeUInt32LE(r.vdev, o + REC.vdev);
      valid |= XTBUF_VALID_BIT.vdev;
    }
    if (r.nsec !== undefined) {
      out.writeUInt32LE(r.nsec, o + REC.nsec);
      valid |= XTBUF_VALID_BIT.nsec;
    }
    out.writeUInt16LE(probe, o + REC.probe);
    if (r.domid !== undefined) {
      out.writeUInt16LE(r.domid, o + REC.domid);
      valid |= XTBUF_VALID_BIT.domid;
    }
    if (r.ring !== undefined) {
      out.writeUInt8(r.ring, o + REC.ring);
      valid |= XTBUF_VALID_BIT.ring;
    }
    if (r.op !== undefined) {
      fieldText(r, 'op');
      out.writeUInt8(r.op.charCodeAt(0), o + REC.op);
      valid |= XTBUF_VALID_BIT.op;
    }
    if (r.status !== undefined) {
      out.writeInt16LE(r.status, o + REC.status);
      valid |= XTBUF_VALID_BIT.status;
    }
    out.writeUInt16LE(valid, o + REC.valid);
  }
  return out;
}

function textToken(s: string, what: string, allowEmpty: boolean): string {
  if ((!allowEmpty && s.length === 0) || /\s/.test(s)) throw new RangeError(`xtbuf text: ${what} "${s}" cannot be written as one token`);
  return s;
}

/** The text form: header line, then the surviving records oldest first, fields in the fixed order. */
export function formatXtbufText(dump: XtbufDump): string {
  checkCapacity(dump);
  if (XTBUF_CLOCKS.indexOf(dump.clock) <= 0) throw new RangeError(`xtbuf: unknown clock ${dump.clock}`);
  const lines: string[] = [
    `${XTBUF_TEXT_PREFIX}version=${XTBUF_VERSION} clock=${dump.clock} pid=${dump.pid} comm=${textToken(dump.comm, 'comm', true)}` +
      ` tsc_hz=${u64(dump.tscHz, 'tsc_hz')} capacity=${dump.capacity} written=${dump.records.length}`,
  ];
  for (let i = firstSurviving(dump); i < dump.records.length; i++) {
    const r = dump.records[i]!;
    if (r.probe.includes('=')) throw new RangeError(`xtbuf text: probe name "${r.probe}" contains "="`);
    const parts = [String(u64(r.ts, 'ts')), textToken(r.probe, 'probe name', false)];
    for (const f of XTBUF_FIELDS) {
      const v = fieldText(r, f);
      if (v !== undefined) parts.push(`${f}=${v}`);
    }
    lines.push(parts.join(' '));
  }
  return lines.join('\n') + '\n';
}
