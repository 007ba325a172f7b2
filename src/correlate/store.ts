/**
 * Finished requests in columnar, chunked typed arrays: a million requests of a 7-point path take
 * ~100 MB and growing never copies what is already stored.
 */
import type { FinishedRequest, RequestSink, RequestStatus } from './engine.js';

const CHUNK = 1 << 16;
/** Event ids are stored in 32 bits (a database of 4 billion events is ~300 GB); all ones = missing. */
const NO_EVENT = 0xffff_ffff;
const MAX_EVENT_ID = NO_EVENT - 1;
export const STATUS_CODES: readonly RequestStatus[] = ['complete', 'incomplete', 'orphan'];

export class RequestStore implements RequestSink {
  private readonly tChunks: Float64Array[] = [];
  private readonly evChunks: Uint32Array[] = [];
  private readonly domChunks: Int16Array[] = [];
  private readonly statusChunks: Uint8Array[] = [];
  private readonly flagChunks: Uint8Array[] = [];
  /** Per attribute (attrNames order): interned value ids (0 = absent). */
  private readonly attrChunks: Uint32Array[] = [];
  /** bios, block requests, sectors per request. */
  private readonly ioChunks: Uint32Array[] = [];
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
  ) {
    this.attrIndex = new Map(attrNames.map((n, k) => [n, k]));
    this.attrSource = attrNames.map((n) => ['$comm', '$pid', '$tgid'].indexOf(n));
    this.lastValue = attrNames.map(() => undefined);
    this.lastId = attrNames.map(() => 0);
  }
  /** Per attribute: 0 $comm, 1 $pid, 2 $tgid (the opener's), −1 a request field. */
  private readonly attrSource: number[];
  private readonly lastValue: (string | number | undefined)[];
  private readonly lastId: number[];

  private readonly numberIds = new Map<number, number>();

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
    const c = this.length >>> 16;
    const o = this.length & (CHUNK - 1);
    if (o === 0) {
      this.tChunks.push(new Float64Array(CHUNK * this.points));
      this.evChunks.push(new Uint32Array(CHUNK * this.points));
      this.domChunks.push(new Int16Array(CHUNK * this.points));
      this.statusChunks.push(new Uint8Array(CHUNK));
      this.flagChunks.push(new Uint8Array(CHUNK * this.points));
      this.attrChunks.push(new Uint32Array(CHUNK * this.attrNames.length));
      this.ioChunks.push(new Uint32Array(CHUNK * 3));
    }
    this.tChunks[c]!.set(r.t, o * this.points);
    const ev = this.evChunks[c]!;
    for (let i = 0; i < this.points; i++) {
      const e = r.ev[i]!;
      if (e > MAX_EVENT_ID) throw new RangeError(`event id ${e} is beyond what the request store holds (${MAX_EVENT_ID})`);
      ev[o * this.points + i] = Number.isNaN(e) ? NO_EVENT : e;
    }
    const d = this.domChunks[c]!;
    for (let i = 0; i < this.points; i++) d[o * this.points + i] = r.domain[i]!;
    this.statusChunks[c]![o] = STATUS_CODES.indexOf(r.status);
    this.flagChunks[c]!.set(r.flags, o * this.points);
    const a = this.attrChunks[c]!;
    const A = this.attrNames.length;
    for (let k = 0; k < A; k++) {
      const src = this.attrSource[k]!;
      const v = src === 0 ? r.comm : src === 1 ? r.pid : src === 2 ? r.tgid : r.fields.get(this.attrNames[k]!);
      if (v === undefined || v === null) a[o * A + k] = 0;
      // Consecutive requests mostly share their task, device and direction.
      else if (v === this.lastValue[k]) a[o * A + k] = this.lastId[k]!;
      else {
        const id = this.intern(v);
        this.lastValue[k] = v;
        this.lastId[k] = id;
        a[o * A + k] = id;
      }
    }
    const io = this.ioChunks[c]!;
    io[o * 3] = r.bios;
    io[o * 3 + 1] = r.blockRequests;
    io[o * 3 + 2] = Math.min(r.sectors, 0xffff_ffff);
    this.length++;
  }

  status(i: number): RequestStatus {
    return STATUS_CODES[this.statusChunks[i >>> 16]![i & (CHUNK - 1)]!]!;
  }
  /** Adjusted time of point p of request i (NaN when missing). */
  t(i: number, p: number): number {
    return this.tChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
  }
  /** Event id of point p of request i (NaN when missing). */
  event(i: number, p: number): number {
    const e = this.evChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
    return e === NO_EVENT ? NaN : e;
  }
  domain(i: number, p: number): number {
    return this.domChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
  }
  /** Flags of point p of request i (POINT_AMBIGUOUS ...). */
  flags(i: number, p: number): number {
    return this.flagChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
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
    return this.attrChunks[i >>> 16]![(i & (CHUNK - 1)) * this.attrNames.length + k]!;
  }
  /** The field at position k of attrNames (k < 0: undefined). */
  attrAt(i: number, k: number): string | undefined {
    if (k < 0) return undefined;
    const id = this.attrChunks[i >>> 16]![(i & (CHUNK - 1)) * this.attrNames.length + k]!;
    return id === 0 ? undefined : this.strings[id];
  }
  /** Bios the request's I/O was queued as (splits included); 0 without block points. */
  bios(i: number): number {
    return this.ioChunks[i >>> 16]![(i & (CHUNK - 1)) * 3]!;
  }
  /** Block requests its bios became (merged bios add none). */
  blockRequests(i: number): number {
    return this.ioChunks[i >>> 16]![(i & (CHUNK - 1)) * 3 + 1]!;
  }
  /** Sectors (512 bytes) of its bios; 0 when unknown. */
  sectors(i: number): number {
    return this.ioChunks[i >>> 16]![(i & (CHUNK - 1)) * 3 + 2]!;
  }
  /** How many requests of each status. */
  statusCounts(): Record<RequestStatus, number> {
    const n: Record<RequestStatus, number> = { complete: 0, incomplete: 0, orphan: 0 };
    for (let i = 0; i < this.length; i++) n[this.status(i)]++;
    return n;
  }
  /** Time of the first point present. */
  start(i: number): number {
    for (let p = 0; p < this.points; p++) {
      const v = this.t(i, p);
      if (!Number.isNaN(v)) return v;
    }
    return NaN;
  }
}
