/**
 * Finished requests in columnar typed arrays, in chunks of 65536 requests: a million requests of a
 * 7-point path take ~140 MB, and growing never copies what is already stored.
 *
 * Memory does not grow with the trace: beyond `residentBytes` (default 32 MB) the least recently
 * used full chunks go to a temporary file (os.tmpdir(), so TMPDIR; unlinked as soon as it is
 * opened) and come back when read. Full chunks never change, so each is written once. The readers
 * of a store go through it in roughly request order (runs, start order, one stage after another):
 * a chunk comes back a few times per pass at most.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FinishedRequest, RequestSink, RequestStatus } from './engine.js';
import { XtraceError } from '../core/errors.js';

/** Event ids are stored in 32 bits (a database of 4 billion events is ~300 GB); all ones = missing. */
const NO_EVENT = 0xffff_ffff;
const MAX_EVENT_ID = NO_EVENT - 1;
export const STATUS_CODES: readonly RequestStatus[] = ['complete', 'incomplete', 'orphan'];
/** Chunks of 2^16 requests. */
const CHUNK_BITS = 16;
export const DEFAULT_RESIDENT_BYTES = 32 * 2 ** 20;

/** One chunk's columns: views on one ArrayBuffer (one write and one read when it is spilled). */
interface Chunk {
  buffer: ArrayBuffer;
  t: Float64Array;
  ev: Uint32Array;
  /** Per attribute (attrNames order): interned value ids (0 = absent). */
  attr: Uint32Array;
  /** bios, block requests, sectors per request. */
  io: Uint32Array;
  dom: Int16Array;
  status: Uint8Array;
  flags: Uint8Array;
  /** Last use (the store's clock), for eviction. */
  used: number;
}

export interface RequestStoreOptions {
  /** Bytes of chunks kept in memory before the least recently used full ones are spilled (at least 2 chunks stay). */
  residentBytes?: number;
  /** log2 of the requests per chunk (tests use small chunks). */
  chunkBits?: number;
  /** Directory of the spill file (default os.tmpdir()). */
  spillDir?: string;
}

/** Closes a spill file whose store was collected without dispose(). */
const spillFiles = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

export class RequestStore implements RequestSink {
  private readonly bits: number;
  private readonly mask: number;
  private readonly chunkSize: number;
  private readonly chunkBytes: number;
  private readonly maxResident: number;
  private readonly spillDir: string;
  /** Chunk k, or null while it is only in the spill file. */
  private readonly chunks: (Chunk | null)[] = [];
  /** Byte offset of chunk k in the spill file, −1 when never written. */
  private readonly spilledAt: number[] = [];
  private resident = 0;
  private fd = -1;
  private clock = 0;
  /** The chunk the last access used. */
  private curK = -1;
  private cur: Chunk | null = null;
  /** Chunks written to and read back from the spill file (tests, diagnostics). */
  spills = 0;
  reloads = 0;
  private readonly strings: string[] = [''];
  private readonly stringIds = new Map<string, number>();
  private readonly attrIndex: Map<string, number>;
  length = 0;
  /**
   * `attrNames`: the request fields kept per request (the opener's `$comm`, `$pid`, `$tgid`, then
   * the profile's keys), for request filters, grouping and SQL.
   */
  constructor(
    readonly points: number,
    readonly attrNames: readonly string[] = [],
    o: RequestStoreOptions = {},
  ) {
    this.attrIndex = new Map(attrNames.map((n, k) => [n, k]));
    this.attrSource = attrNames.map((n) => ['$comm', '$pid', '$tgid'].indexOf(n));
    this.lastValue = attrNames.map(() => undefined);
    this.lastId = attrNames.map(() => 0);
    this.bits = o.chunkBits ?? CHUNK_BITS;
    this.chunkSize = 2 ** this.bits;
    this.mask = this.chunkSize - 1;
    this.chunkBytes = this.layout().bytes;
    this.maxResident = Math.max(2, Math.floor((o.residentBytes ?? DEFAULT_RESIDENT_BYTES) / this.chunkBytes));
    this.spillDir = o.spillDir ?? tmpdir();
  }
  /** Per attribute: 0 $comm, 1 $pid, 2 $tgid (the opener's), −1 a request field. */
  private readonly attrSource: number[];
  private readonly lastValue: (string | number | undefined)[];
  private readonly lastId: number[];

  private readonly numberIds = new Map<number, number>();

  /** Offsets of the columns in a chunk's buffer (widest first: every view is aligned). */
  private layout(): { bytes: number; t: number; ev: number; attr: number; io: number; dom: number; status: number; flags: number } {
    const n = this.chunkSize;
    const P = this.points;
    const t = 0;
    const ev = t + 8 * n * P;
    const attr = ev + 4 * n * P;
    const io = attr + 4 * n * this.attrNames.length;
    const dom = io + 4 * n * 3;
    const status = dom + 2 * n * P;
    const flags = status + n;
    const end = flags + n * P;
    return { bytes: Math.ceil(end / 8) * 8, t, ev, attr, io, dom, status, flags };
  }

  private views(buffer: ArrayBuffer): Chunk {
    const L = this.layout();
    const n = this.chunkSize;
    const P = this.points;
    return {
      buffer,
      t: new Float64Array(buffer, L.t, n * P),
      ev: new Uint32Array(buffer, L.ev, n * P),
      attr: new Uint32Array(buffer, L.attr, n * this.attrNames.length),
      io: new Uint32Array(buffer, L.io, n * 3),
      dom: new Int16Array(buffer, L.dom, n * P),
      status: new Uint8Array(buffer, L.status, n),
      flags: new Uint8Array(buffer, L.flags, n * P),
      used: 0,
    };
  }

  /** Chunk k, read back from the spill file when it is not in memory. */
  private chunk(k: number): Chunk {
    if (k === this.curK) return this.cur!;
    let c = this.chunks[k];
    if (!c) c = this.reload(k);
    c.used = ++this.clock;
    this.curK = k;
    this.cur = c;
    return c;
  }

  private reload(k: number): Chunk {
    const c = this.resident >= this.maxResident ? this.evict() : this.views(new ArrayBuffer(this.chunkBytes));
    const bytes = new Uint8Array(c.buffer);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, this.spilledAt[k]! + done);
      if (n <= 0) throw new XtraceError(`the request store's spill file ended early (chunk ${k}): was it truncated?`);
      done += n;
    }
    this.chunks[k] = c;
    this.resident++;
    this.reloads++;
    return c;
  }

  /**
   * Drops the least recently used full chunk (written to the spill file first if it never was) and
   * returns it for reuse. The last chunk (being filled) stays.
   */
  private evict(): Chunk {
    let victim = -1;
    let oldest = Infinity;
    const last = this.chunks.length - 1;
    for (let k = 0; k < last; k++) {
      const c = this.chunks[k];
      if (c && c.used < oldest) {
        oldest = c.used;
        victim = k;
      }
    }
    if (victim < 0) throw new XtraceError('request store: no chunk to spill (internal)');
    const c = this.chunks[victim]!;
    if (this.spilledAt[victim]! < 0) this.spillOut(victim, c);
    this.chunks[victim] = null;
    this.resident--;
    if (victim === this.curK) {
      this.curK = -1;
      this.cur = null;
    }
    return c;
  }

  private spillOut(k: number, c: Chunk): void {
    if (this.fd < 0) this.openSpill();
    const at = this.spills * this.chunkBytes;
    const bytes = new Uint8Array(c.buffer);
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    } catch (e) {
      throw new XtraceError(
        `cannot write the request store's spill file in ${this.spillDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): requests beyond ${Math.round((this.maxResident * this.chunkBytes) / 2 ** 20)} MB go to disk; set TMPDIR to a directory with room (${Math.ceil(((this.chunks.length + 1) * this.chunkBytes) / 2 ** 20)} MB for this trace so far)`,
      );
    }
    this.spilledAt[k] = at;
    this.spills++;
  }

  private openSpill(): void {
    let dir: string;
    try {
      dir = mkdtempSync(join(this.spillDir, 'xtrace-requests-'));
    } catch (e) {
      throw new XtraceError(`cannot create the request store's spill file in ${this.spillDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set TMPDIR to a writable directory`);
    }
    const file = join(dir, 'requests.bin');
    this.fd = openSync(file, 'w+', 0o600);
    // Unlinked at once: nothing is left behind, whatever way the process ends.
    unlinkSync(file);
    rmdirSync(dir);
    spillFiles.register(this, this.fd, this);
  }

  /** Closes the spill file (the store must not be read afterwards). Optional: a collected store's file is closed too. */
  dispose(): void {
    if (this.fd >= 0) {
      spillFiles.unregister(this);
      closeSync(this.fd);
      this.fd = -1;
    }
    this.chunks.length = 0;
    this.curK = -1;
    this.cur = null;
  }

  private intern(v: string | number): number {
    if (typeof v === 'number') {
      let id = this.numberIds.get(v);
      if (id === undefined) this.numberIds.set(v, (id = this.intern(String(v))));
      return id;
    }
    let id = this.stringIds.get(v);
    if (id === undefined) {
      id = this.strings.push(v) - 1;
      this.stringIds.set(v, id);
    }
    return id;
  }

  request(r: FinishedRequest): void {
    const o = this.length & this.mask;
    if (o === 0) {
      const c = this.resident >= this.maxResident ? this.evict() : this.views(new ArrayBuffer(this.chunkBytes));
      // A reused buffer still holds another chunk's values: each request below writes all of its
      // slot, and slots beyond `length` are never read.
      this.chunks.push(c);
      this.spilledAt.push(-1);
      this.resident++;
    }
    const k = this.length >>> this.bits;
    const c = this.chunk(k);
    const P = this.points;
    c.t.set(r.t, o * P);
    for (let i = 0; i < P; i++) {
      const e = r.ev[i]!;
      if (e > MAX_EVENT_ID) throw new RangeError(`event id ${e} is beyond what the request store holds (${MAX_EVENT_ID})`);
      c.ev[o * P + i] = Number.isNaN(e) ? NO_EVENT : e;
      c.dom[o * P + i] = r.domain[i]!;
    }
    c.status[o] = STATUS_CODES.indexOf(r.status);
    c.flags.set(r.flags, o * P);
    const a = c.attr;
    const A = this.attrNames.length;
    for (let j = 0; j < A; j++) {
      const src = this.attrSource[j]!;
      const v = src === 0 ? r.comm : src === 1 ? r.pid : src === 2 ? r.tgid : r.fields.get(this.attrNames[j]!);
      if (v === undefined || v === null) a[o * A + j] = 0;
      // Consecutive requests mostly share their task, device and direction.
      else if (v === this.lastValue[j]) a[o * A + j] = this.lastId[j]!;
      else {
        const id = this.intern(v);
        this.lastValue[j] = v;
        this.lastId[j] = id;
        a[o * A + j] = id;
      }
    }
    c.io[o * 3] = r.bios;
    c.io[o * 3 + 1] = r.blockRequests;
    c.io[o * 3 + 2] = Math.min(r.sectors, 0xffff_ffff);
    this.length++;
  }

  status(i: number): RequestStatus {
    return STATUS_CODES[this.chunk(i >>> this.bits).status[i & this.mask]!]!;
  }
  /** Adjusted time of point p of request i (NaN when missing). */
  t(i: number, p: number): number {
    return this.chunk(i >>> this.bits).t[(i & this.mask) * this.points + p]!;
  }
  /** Event id of point p of request i (NaN when missing). */
  event(i: number, p: number): number {
    const e = this.chunk(i >>> this.bits).ev[(i & this.mask) * this.points + p]!;
    return e === NO_EVENT ? NaN : e;
  }
  domain(i: number, p: number): number {
    return this.chunk(i >>> this.bits).dom[(i & this.mask) * this.points + p]!;
  }
  /** Flags of point p of request i (POINT_AMBIGUOUS ...). */
  flags(i: number, p: number): number {
    return this.chunk(i >>> this.bits).flags[(i & this.mask) * this.points + p]!;
  }
  /** A request field (`$comm`, `$pid`, `$tgid`, or a profile key such as `dev`), undefined when absent or not kept. */
  attr(i: number, name: string): string | undefined {
    const k = this.attrIndex.get(name);
    return k === undefined ? undefined : this.attrAt(i, k);
  }
  /** Position of a kept field in attrNames, −1 when not kept (for attrAt in loops). */
  attrPosition(name: string): number {
    return this.attrIndex.get(name) ?? -1;
  }
  /** The interned id of the field at position k (0: absent); equal ids are equal values. */
  attrIdAt(i: number, k: number): number {
    return this.chunk(i >>> this.bits).attr[(i & this.mask) * this.attrNames.length + k]!;
  }
  /** The field at position k of attrNames (k < 0: undefined). */
  attrAt(i: number, k: number): string | undefined {
    if (k < 0) return undefined;
    const id = this.attrIdAt(i, k);
    return id === 0 ? undefined : this.strings[id];
  }
  /** Bios the request's I/O was queued as (splits included); 0 without block points. */
  bios(i: number): number {
    return this.chunk(i >>> this.bits).io[(i & this.mask) * 3]!;
  }
  /** Block requests its bios became (merged bios add none). */
  blockRequests(i: number): number {
    return this.chunk(i >>> this.bits).io[(i & this.mask) * 3 + 1]!;
  }
  /** Sectors (512 bytes) of its bios; 0 when unknown. */
  sectors(i: number): number {
    return this.chunk(i >>> this.bits).io[(i & this.mask) * 3 + 2]!;
  }
  /** How many requests of each status. */
  statusCounts(): Record<RequestStatus, number> {
    const n: Record<RequestStatus, number> = { complete: 0, incomplete: 0, orphan: 0 };
    for (let i = 0; i < this.length; i++) n[this.status(i)]++;
    return n;
  }
  /** Time of the first point present. */
  start(i: number): number {
    const c = this.chunk(i >>> this.bits);
    const at = (i & this.mask) * this.points;
    for (let p = 0; p < this.points; p++) {
      const v = c.t[at + p]!;
      if (!Number.isNaN(v)) return v;
    }
    return NaN;
  }
}
