/**
 * Events cross from the parsing worker to the inserting main thread in columnar batches:
 * numbers in one Float64Array (transferred, not copied; NaN = NULL), all args in one string with
 * their lengths, strings already interned (new ones travel with the batch). This keeps the
 * per-event cost of the thread hop far below the cost of parsing or inserting one event.
 */
import type { IngestCode } from '../core/counters.js';
import type { LostPlace, RecordSink, SourceFacts, Timestamp, TraceEvent } from '../core/types.js';

import { NUM_COLS, type EventBatch as Batch } from '../core/event-batch.js';

export type { Batch };
export const BATCH_EVENTS = 4096;

/** One RecordSink.diag call, as it travels from the worker to the main thread. */
export interface DiagMessage {
  code: IngestCode;
  line: number;
  detail?: string;
  count?: number;
  lostAt?: LostPlace;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Worker side: a RecordSink that interns strings and fills batches. */
export class BatchEncoder implements RecordSink {
  private nums = new Float64Array(BATCH_EVENTS * NUM_COLS);
  private argLens = new Int32Array(BATCH_EVENTS);
  /** The batch's args, concatenated as they come (V8 keeps it a rope until it is sent). */
  private args = '';
  private bigTs: (bigint | undefined)[] | null = null;
  private newStrings: [number, string][] = [];
  private n = 0;
  count = 0;
  minTs: Timestamp | null = null;
  maxTs: Timestamp | null = null;
  private readonly ids: Map<string, number>;
  /** pid → [comm, id]: a task's comm rarely changes, and an integer key is cheaper to hash. */
  private readonly commByPid = new Map<number, [string, number]>();
  private readonly nameCache: ({ name: string; id: number } | undefined)[] = new Array(128).fill(undefined);
  private lastFlags = '';
  private lastFlagsId = -1;

  constructor(
    initialStrings: [string, number][],
    private nextStringId: number,
    private readonly emit: (b: Batch) => void,
    private readonly onDiag: (d: DiagMessage) => void,
    private readonly onFacts: (f: SourceFacts) => void,
  ) {
    this.ids = new Map(initialStrings);
  }

  private id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.nextStringId++;
      this.ids.set(s, id);
      this.newStrings.push([id, s]);
    }
    return id;
  }

  /**
   * id() of an event name through a small cache: names repeat, and comparing the new string with
   * the cached one is cheaper than hashing it for the map. Slot by length, middle and last character.
   */
  private nameId(name: string): number {
    const n = name.length;
    const slot = n === 0 ? 0 : (n * 31 + name.charCodeAt(n - 1) * 7 + name.charCodeAt(n >> 1)) & 127;
    const cached = this.nameCache[slot];
    if (cached !== undefined && cached.name === name) return cached.id;
    const id = this.id(name);
    // A flat copy: a slice can be a view that keeps a whole block of text alive.
    this.nameCache[slot] = { name: (' ' + name).slice(1), id };
    return id;
  }

  private commId(comm: string, pid: number | null): number {
    if (pid === null) return this.id(comm);
    const c = this.commByPid.get(pid);
    if (c !== undefined && c[0] === comm) return c[1];
    const id = this.id(comm);
    this.commByPid.set(pid, [comm, id]);
    return id;
  }

  event(e: TraceEvent): void {
    const ts = e.ts;
    // SQLite's integers are 64-bit: a timestamp beyond them (a clock of raw ticks, a damaged line)
    // cannot be stored; the line is counted as not understood instead of failing the file.
    if (typeof ts === 'bigint' && (ts > INT64_MAX || ts < INT64_MIN)) {
      this.diag('unparsed_line', e.line, `line ${e.line}: timestamp ${ts} ns is beyond what a 64-bit integer holds (${e.name}: ${e.args.slice(0, 80)})`);
      return;
    }
    const i = this.n;
    const o = i * NUM_COLS;
    const nums = this.nums;
    nums[o] = e.line;
    if (typeof ts === 'number') nums[o + 1] = ts;
    else {
      (this.bigTs ??= [])[i] = ts;
      nums[o + 1] = NaN;
    }
    nums[o + 2] = e.cpu ?? NaN;
    nums[o + 3] = e.pid ?? NaN;
    nums[o + 4] = e.tgid ?? NaN;
    nums[o + 5] = e.comm === null ? NaN : this.commId(e.comm, e.pid);
    nums[o + 6] = this.nameId(e.name);
    const flags = e.flags;
    if (flags === null) nums[o + 7] = NaN;
    else if (flags === this.lastFlags) nums[o + 7] = this.lastFlagsId;
    else nums[o + 7] = this.lastFlagsId = this.id((this.lastFlags = flags));
    nums[o + 8] = e.part === null ? NaN : this.id(e.part);
    this.argLens[i] = e.args.length;
    this.args += e.args;
    this.n = i + 1;
    this.count++;
    if (this.minTs === null || ts < this.minTs) this.minTs = ts;
    if (this.maxTs === null || ts > this.maxTs) this.maxTs = ts;
    if (this.n === BATCH_EVENTS) this.flush();
  }

  diag(code: IngestCode, line: number, detail?: string, count?: number, lostAt?: LostPlace): void {
    this.onDiag({ code, line, ...(detail !== undefined ? { detail } : {}), ...(count !== undefined ? { count } : {}), ...(lostAt !== undefined ? { lostAt } : {}) });
  }

  facts(f: SourceFacts): void {
    this.onFacts(f);
  }

  flush(): void {
    if (this.n === 0) return;
    this.emit({
      n: this.n,
      nums: this.nums,
      bigTs: this.bigTs,
      args: this.args,
      argLens: this.argLens,
      newStrings: this.newStrings,
    });
    this.nums = new Float64Array(BATCH_EVENTS * NUM_COLS);
    this.argLens = new Int32Array(BATCH_EVENTS);
    this.args = '';
    this.bigTs = null;
    this.newStrings = [];
    this.n = 0;
  }
}
