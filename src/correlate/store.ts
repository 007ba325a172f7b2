/**
 * Finished requests in columnar typed arrays, in chunks of 65536 requests: a million requests of a
 * 7-point path take ~140 MB, and growing never copies what is already stored.
 *
 * Memory does not grow with the trace: beyond `residentBytes` (default 32 MB) the least recently
 * used full chunks go to a temporary file (os.tmpdir(), so TMPDIR; unlinked as soon as it is
 * opened) and come back when read. Full chunks never change, so each is written once. The readers
 * of a store go through it in roughly request order (runs, start order, one stage after another):
 * a pass reads each spilled chunk back once. The times and status, which every pass reads, are
 * chunked apart from the other columns (0.4 of the bytes for a 7-point path): most passes read
 * back only those.
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

/** A chunk of the columns every pass reads (the times and the status). */
interface TimeChunk {
  t: Float64Array;
  status: Uint8Array;
}

/** A chunk of the other columns (saving the requests, filters, grouping, clocks read them). */
interface RestChunk {
  ev: Uint32Array;
  /** Per attribute (attrNames order): interned value ids (0 = absent). */
  attr: Uint32Array;
  /** bios, block requests, sectors per request. */
  io: Uint32Array;
  dom: Int16Array;
  flags: Uint8Array;
}

export interface RequestStoreOptions {
  /** Bytes of chunks kept in memory before the least recently used full ones are spilled (at least 2 chunks of each column group stay). */
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

/** The spill file of a store: opened (and unlinked) on the first write; each chunk written once, appended. */
class SpillFile {
  fd = -1;
  end = 0;
  writes = 0;
  reads = 0;
  constructor(
    readonly dir: string,
    private readonly owner: object,
  ) {}

  write(bytes: Uint8Array, residentMb: number): number {
    if (this.fd < 0) this.open();
    const at = this.end;
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
    } catch (e) {
      throw new XtraceError(
        `cannot write the request store's spill file in ${this.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): requests beyond ${residentMb} MB go to disk; set TMPDIR to a directory with room (${Math.ceil((at + bytes.length) / 2 ** 20)} MB for this trace so far)`,
      );
    }
    this.end += bytes.length;
    this.writes++;
    return at;
  }

  read(bytes: Uint8Array, at: number, what: string): void {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, at + done);
      if (n <= 0) throw new XtraceError(`the request store's spill file ended early (${what}): was it truncated?`);
      done += n;
    }
    this.reads++;
  }

  private open(): void {
    let dir: string;
    try {
      dir = mkdtempSync(join(this.dir, 'xtrace-requests-'));
    } catch (e) {
      throw new XtraceError(`cannot create the request store's spill file in ${this.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set TMPDIR to a writable directory`);
    }
    const file = join(dir, 'requests.bin');
    this.fd = openSync(file, 'w+', 0o600);
    // Unlinked at once: nothing is left behind, whatever way the process ends.
    unlinkSync(file);
    rmdirSync(dir);
    spillFiles.register(this.owner, this.fd, this.owner);
  }

  close(): void {
    if (this.fd >= 0) {
      spillFiles.unregister(this.owner);
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/**
 * One group of columns in chunks, each chunk one ArrayBuffer (one write, one read): at most
 * `maxResident` in memory, the least recently used full one spilled first. The last chunk (being
 * filled) stays.
 */
class ChunkGroup<V> {
  private readonly chunks: ({ buffer: ArrayBuffer; v: V; used: number } | null)[] = [];
  private readonly spilledAt: number[] = [];
  private resident = 0;
  private clock = 0;
  curK = -1;
  cur: V | null = null;
  constructor(
    private readonly file: SpillFile,
    private readonly bytes: number,
    private readonly maxResident: number,
    private readonly views: (b: ArrayBuffer) => V,
    private readonly residentMb: number,
  ) {}

  /** Chunk k, read back from the spill file when it is not in memory. */
  get(k: number): V {
    if (k === this.curK) return this.cur!;
    let c = this.chunks[k];
    if (!c) {
      const buffer = this.resident >= this.maxResident ? this.evict() : new ArrayBuffer(this.bytes);
      this.file.read(new Uint8Array(buffer), this.spilledAt[k]!, `chunk ${k}`);
      c = { buffer, v: this.views(buffer), used: 0 };
      this.chunks[k] = c;
      this.resident++;
    }
    c.used = ++this.clock;
    this.curK = k;
    this.cur = c.v;
    return c.v;
  }

  /** A new last chunk (a reused buffer still holds another chunk's values: each request writes all of its slot, and slots beyond the store's length are never read). */
  add(): void {
    const buffer = this.resident >= this.maxResident ? this.evict() : new ArrayBuffer(this.bytes);
    this.chunks.push({ buffer, v: this.views(buffer), used: ++this.clock });
    this.spilledAt.push(-1);
    this.resident++;
  }

  /** Drops the least recently used full chunk (written to the spill file first if it never was); returns its buffer for reuse. */
  private evict(): ArrayBuffer {
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
    if (this.spilledAt[victim]! < 0) this.spilledAt[victim] = this.file.write(new Uint8Array(c.buffer), this.residentMb);
    this.chunks[victim] = null;
    this.resident--;
    if (victim === this.curK) {
      this.curK = -1;
      this.cur = null;
    }
    return c.buffer;
  }

  clear(): void {
    this.chunks.length = 0;
    this.curK = -1;
    this.cur = null;
  }
}

/** Offsets of columns in a buffer, widest first (every view aligned); the buffer's size, a multiple of 8. */
function layout(cols: [name: string, bytesEach: number, count: number][]): { bytes: number; at: Map<string, number> } {
  const at = new Map<string, number>();
  let end = 0;
  for (const [name, size, count] of cols) {
    at.set(name, end);
    end += size * count;
  }
  return { bytes: Math.max(8, Math.ceil(end / 8) * 8), at };
}

export class RequestStore implements RequestSink {
  private readonly bits: number;
  private readonly mask: number;
  /** Bytes of one chunk of every column (tests size budgets with it). */
  readonly chunkBytes: number;
  private readonly file: SpillFile;
  /** The columns every pass reads, and the others: a pass over the times reads back only theirs. */
  private readonly times: ChunkGroup<TimeChunk>;
  private readonly rest: ChunkGroup<RestChunk>;
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
    const n = 2 ** this.bits;
    this.mask = n - 1;
    const P = points;
    const A = attrNames.length;
    const tl = layout([
      ['t', 8, n * P],
      ['status', 1, n],
    ]);
    const rl = layout([
      ['ev', 4, n * P],
      ['attr', 4, n * A],
      ['io', 4, n * 3],
      ['dom', 2, n * P],
      ['flags', 1, n * P],
    ]);
    this.chunkBytes = tl.bytes + rl.bytes;
    const budget = o.residentBytes ?? DEFAULT_RESIDENT_BYTES;
    const mb = Math.round(budget / 2 ** 20);
    this.file = new SpillFile(o.spillDir ?? tmpdir(), this);
    // The budget in chunks of every column: each group keeps that many of its own.
    const resident = Math.max(2, Math.floor(budget / this.chunkBytes));
    this.times = new ChunkGroup(this.file, tl.bytes, resident, (b) => ({ t: new Float64Array(b, tl.at.get('t')!, n * P), status: new Uint8Array(b, tl.at.get('status')!, n) }), mb);
    this.rest = new ChunkGroup(
      this.file,
      rl.bytes,
      resident,
      (b) => ({
        ev: new Uint32Array(b, rl.at.get('ev')!, n * P),
        attr: new Uint32Array(b, rl.at.get('attr')!, n * A),
        io: new Uint32Array(b, rl.at.get('io')!, n * 3),
        dom: new Int16Array(b, rl.at.get('dom')!, n * P),
        flags: new Uint8Array(b, rl.at.get('flags')!, n * P),
      }),
      mb,
    );
  }
  /** Per attribute: 0 $comm, 1 $pid, 2 $tgid (the opener's), −1 a request field. */
  private readonly attrSource: number[];
  private readonly lastValue: (string | number | undefined)[];
  private readonly lastId: number[];

  private readonly numberIds = new Map<number, number>();

  /** Chunks written to the spill file (once each), and read back from it. */
  get spills(): number {
    return this.file.writes;
  }
  get reloads(): number {
    return this.file.reads;
  }

  /** Closes the spill file (the store must not be read afterwards). Optional: a collected store's file is closed too. */
  dispose(): void {
    this.file.close();
    this.times.clear();
    this.rest.clear();
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
    const k = this.length >>> this.bits;
    if (o === 0) {
      this.times.add();
      this.rest.add();
    }
    const tc = this.times.get(k);
    const c = this.rest.get(k);
    const P = this.points;
    tc.t.set(r.t, o * P);
    tc.status[o] = STATUS_CODES.indexOf(r.status);
    for (let i = 0; i < P; i++) {
      const e = r.ev[i]!;
      if (e > MAX_EVENT_ID) throw new RangeError(`event id ${e} is beyond what the request store holds (${MAX_EVENT_ID})`);
      c.ev[o * P + i] = Number.isNaN(e) ? NO_EVENT : e;
      c.dom[o * P + i] = r.domain[i]!;
    }
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
    return STATUS_CODES[this.times.get(i >>> this.bits).status[i & this.mask]!]!;
  }
  /** Adjusted time of point p of request i (NaN when missing). */
  t(i: number, p: number): number {
    return this.times.get(i >>> this.bits).t[(i & this.mask) * this.points + p]!;
  }
  /** Event id of point p of request i (NaN when missing). */
  event(i: number, p: number): number {
    const e = this.rest.get(i >>> this.bits).ev[(i & this.mask) * this.points + p]!;
    return e === NO_EVENT ? NaN : e;
  }
  domain(i: number, p: number): number {
    return this.rest.get(i >>> this.bits).dom[(i & this.mask) * this.points + p]!;
  }
  /** Flags of point p of request i (POINT_AMBIGUOUS ...). */
  flags(i: number, p: number): number {
    return this.rest.get(i >>> this.bits).flags[(i & this.mask) * this.points + p]!;
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
    return this.rest.get(i >>> this.bits).attr[(i & this.mask) * this.attrNames.length + k]!;
  }
  /** The field at position k of attrNames (k < 0: undefined). */
  attrAt(i: number, k: number): string | undefined {
    if (k < 0) return undefined;
    const id = this.attrIdAt(i, k);
    return id === 0 ? undefined : this.strings[id];
  }
  /** Bios the request's I/O was queued as (splits included); 0 without block points. */
  bios(i: number): number {
    return this.rest.get(i >>> this.bits).io[(i & this.mask) * 3]!;
  }
  /** Block requests its bios became (merged bios add none). */
  blockRequests(i: number): number {
    return this.rest.get(i >>> this.bits).io[(i & this.mask) * 3 + 1]!;
  }
  /** Sectors (512 bytes) of its bios; 0 when unknown. */
  sectors(i: number): number {
    return this.rest.get(i >>> this.bits).io[(i & this.mask) * 3 + 2]!;
  }
  /** How many requests of each status. */
  statusCounts(): Record<RequestStatus, number> {
    const n: Record<RequestStatus, number> = { complete: 0, incomplete: 0, orphan: 0 };
    for (let i = 0; i < this.length; i++) n[this.status(i)]++;
    return n;
  }
  /** Time of the first point present. */
  start(i: number): number {
    const c = this.times.get(i >>> this.bits);
    const at = (i & this.mask) * this.points;
    for (let p = 0; p < this.points; p++) {
      const v = c.t[at + p]!;
      if (!Number.isNaN(v)) return v;
    }
    return NaN;
  }
}
