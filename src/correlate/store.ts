/**
 * Finished requests in columnar, chunked typed arrays: a million requests of a 7-point path take
 * ~130 MB and growing never copies what is already stored.
 */
import type { FinishedRequest, RequestSink, RequestStatus } from './engine.js';

const CHUNK = 1 << 16;
export const STATUS_CODES: readonly RequestStatus[] = ['complete', 'incomplete', 'orphan'];

export class RequestStore implements RequestSink {
  private readonly tChunks: Float64Array[] = [];
  private readonly evChunks: Float64Array[] = [];
  private readonly domChunks: Int16Array[] = [];
  private readonly statusChunks: Uint8Array[] = [];
  length = 0;
  constructor(readonly points: number) {}

  request(r: FinishedRequest): void {
    const c = this.length >>> 16;
    const o = this.length & (CHUNK - 1);
    if (o === 0) {
      this.tChunks.push(new Float64Array(CHUNK * this.points));
      this.evChunks.push(new Float64Array(CHUNK * this.points));
      this.domChunks.push(new Int16Array(CHUNK * this.points));
      this.statusChunks.push(new Uint8Array(CHUNK));
    }
    this.tChunks[c]!.set(r.t, o * this.points);
    this.evChunks[c]!.set(r.ev, o * this.points);
    const d = this.domChunks[c]!;
    for (let i = 0; i < this.points; i++) d[o * this.points + i] = r.domain[i]!;
    this.statusChunks[c]![o] = STATUS_CODES.indexOf(r.status);
    this.length++;
  }

  status(i: number): RequestStatus {
    return STATUS_CODES[this.statusChunks[i >>> 16]![i & (CHUNK - 1)]!]!;
  }
  /** Adjusted time of point p of request i (NaN when missing). */
  t(i: number, p: number): number {
    return this.tChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
  }
  event(i: number, p: number): number {
    return this.evChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
  }
  domain(i: number, p: number): number {
    return this.domChunks[i >>> 16]![(i & (CHUNK - 1)) * this.points + p]!;
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
