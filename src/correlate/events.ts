/**
 * Reading the events a profile needs, in clock-adjusted time order across all sources (a k-way
 * merge; each source in file order). On a big database the reading (SQLite and building JS
 * values, half the work of a report) runs in a worker thread on the second core while this
 * thread matches; the consumer stays synchronous (Atomics.wait + receiveMessageOnPort) and at most
 * IN_FLIGHT batches are in memory.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Db } from '../db/db.js';
import { XtraceError } from '../core/errors.js';
import { startModuleWorker } from '../core/threads.js';

export interface SourcePlan {
  id: number;
  domain: number;
  /** ts_ns of the source's first event (local clock): rows come as ts_ns − firstTs. */
  firstTs: bigint;
  firstEvent: number;
  lastEvent: number;
  /** firstTs − the domain's base, as a number. */
  rel0: number;
  /** Adjusted = rel + shift + round(rate · rel) (clock.ts adjustRel), rel = ts − the domain's base. */
  shift: number;
  /** The domain's drift (0: a constant offset, read exactly as before drift existed). */
  rate: number;
}

export interface ReadPlan {
  /** SELECT id, ts_ns − ?, name_id, args-expression, field columns FROM event_data WHERE id > ? AND id <= ? [AND filter] ORDER BY id LIMIT n */
  sql: string;
  /** How many integer columns (or NULLs) the SQL selects after the args: the event's built-in fields. */
  fieldColumns: number;
  /** Parameters of the args expression (between ts and the id range) and of the filter (after it). */
  argsParams: (string | number)[];
  params: (string | number)[];
  sources: SourcePlan[];
}

/** One event; `fields[at + k]` is its value of field column k (null: NULL), valid during the call only (the array is reused). */
export type EventFn = (id: number, domain: number, t: number, nameId: number, args: string, fields: ArrayLike<number | null>, at: number) => void;

type Row = [id: number, rel: number, nameId: number, args: string, ...fields: (number | null)[]];
/** Position of the first field column in a row: the row itself is handed over as the field values (no copy), read from there on. */
const ROW_FIELDS = 4;
const fieldsOf = (r: Row): ArrayLike<number | null> => r as unknown as ArrayLike<number | null>;
export const READ_CHUNK = 8192;

/** The merge itself, on whatever thread runs it. */
export function mergeSources(db: Db, plan: ReadPlan, each: EventFn): number {
  const stmt = db.prepare<Row>(plan.sql, { raw: true });
  interface Cursor {
    src: SourcePlan;
    rows: Row[];
    i: number;
    after: number;
    off: number;
    done: boolean;
  }
  const fill = (c: Cursor): boolean => {
    if (c.i < c.rows.length) return true;
    if (c.done) return false;
    c.rows = stmt.all(c.src.firstTs, ...plan.argsParams, c.after, c.src.lastEvent, ...plan.params);
    c.i = 0;
    if (c.rows.length < READ_CHUNK) c.done = true;
    if (c.rows.length === 0) return false;
    c.after = c.rows[c.rows.length - 1]![0];
    return true;
  };
  const live = plan.sources.map((src) => ({ src, rows: [] as Row[], i: 0, after: src.firstEvent - 1, off: src.rel0 + src.shift, done: false })).filter(fill);
  if (plan.sources.some((s) => s.rate !== 0)) return mergeDrifting(live, fill, each);
  let n = 0;
  if (live.length === 1) {
    const c = live[0]!;
    const d = c.src.domain;
    do {
      const rows = c.rows;
      for (let i = c.i; i < rows.length; i++) {
        const r = rows[i]!;
        each(r[0], d, r[1] + c.off, r[2], r[3], fieldsOf(r), ROW_FIELDS);
      }
      n += rows.length - c.i;
      c.i = rows.length;
    } while (fill(c));
    return n;
  }
  // Few sources: a linear scan for the earliest head is cheaper than a heap.
  while (live.length) {
    let bi = 0;
    let bt = live[0]!.rows[live[0]!.i]![1] + live[0]!.off;
    for (let k = 1; k < live.length; k++) {
      const c = live[k]!;
      const t = c.rows[c.i]![1] + c.off;
      if (t < bt) {
        bt = t;
        bi = k;
      }
    }
    const c = live[bi]!;
    const r = c.rows[c.i]!;
    each(r[0], c.src.domain, bt, r[2], r[3], fieldsOf(r), ROW_FIELDS);
    n++;
    c.i++;
    if (!fill(c)) live.splice(bi, 1);
  }
  return n;
}

interface DriftCursor {
  src: SourcePlan;
  rows: Row[];
  i: number;
  off: number;
}

/**
 * The merge when a clock drifts: adjusted = rel + shift + round(rate · rel) (clock.ts adjustRel),
 * rounded to whole ns. Kept apart so that the constant-offset loops above stay as they were.
 */
function mergeDrifting<C extends DriftCursor>(live: C[], fill: (c: C) => boolean, each: EventFn): number {
  // rel = row time + rel0; adjusted = row time + rel0 + shift + round(rate · rel).
  const time = (c: C): number => {
    const t = c.rows[c.i]![1];
    const rate = c.src.rate;
    return rate === 0 ? t + c.off : t + c.off + Math.round(rate * (t + c.src.rel0));
  };
  let n = 0;
  while (live.length) {
    let bi = 0;
    let bt = time(live[0]!);
    for (let k = 1; k < live.length; k++) {
      const t = time(live[k]!);
      if (t < bt) {
        bt = t;
        bi = k;
      }
    }
    const c = live[bi]!;
    const r = c.rows[c.i]!;
    each(r[0], c.src.domain, bt, r[2], r[3], fieldsOf(r), ROW_FIELDS);
    n++;
    c.i++;
    if (!fill(c)) live.splice(bi, 1);
  }
  return n;
}

/** Events per batch sent by the reader thread, and batches in flight. */
export const BATCH = 2048;
const IN_FLIGHT = 8;
/** Below this many events a worker costs more than it saves. */
const WORKER_MIN_EVENTS = 300_000;

export interface ReaderInit {
  dbPath: string;
  plan: ReadPlan;
  port: MessagePort;
  /** [batches produced, batches consumed] */
  flags: SharedArrayBuffer;
}

/** Position of the first field column in a batch's event. */
export const BATCH_FIELDS = 4;
/** Numbers per event in a batch: id, t, domain, name id, then the plan's field columns (NaN = null). */
export function batchStride(plan: ReadPlan): number {
  return BATCH_FIELDS + plan.fieldColumns;
}

/** A batch: per event batchStride numbers, args joined with their lengths. */
export interface ReaderBatch {
  n: number;
  nums: Float64Array;
  args: string;
  lens: Int32Array;
  done?: boolean;
  error?: string;
  count?: number;
}

export type ReaderMode = 'auto' | 'thread' | 'inline';

/** Events between two progress reports. */
const PROGRESS_EVERY = 1 << 16;

/**
 * How far a read got, in events of the sources' id ranges (the filter skips most of them): per
 * source, up to the last event id delivered from it (each source is read in id order).
 */
class ReadPosition {
  private readonly upTo: number[];
  readonly total: number;
  constructor(private readonly sources: readonly SourcePlan[]) {
    this.upTo = sources.map(() => 0);
    this.total = sources.reduce((a, s) => a + (s.lastEvent - s.firstEvent + 1), 0);
  }
  /** Events up to `id` in its source are read; returns the events read in all sources. */
  reached(id: number): number {
    let done = 0;
    this.sources.forEach((s, k) => {
      if (id >= s.firstEvent && id <= s.lastEvent) this.upTo[k] = Math.max(this.upTo[k]!, id - s.firstEvent + 1);
      done += this.upTo[k]!;
    });
    return done;
  }
}

/**
 * Streams the plan's events into `each`, on a reader thread when the read is big enough. Returns
 * the number of events. `onRead(done, total)`: events of the sources' id ranges read so far, every
 * PROGRESS_EVERY events and once at the end (done = total).
 */
export function readEvents(db: Db, plan: ReadPlan, each: EventFn, mode: ReaderMode = 'auto', onRead?: (done: number, total: number) => void): number {
  const position = new ReadPosition(plan.sources);
  const total = position.total;
  const thread = mode === 'thread' || (mode === 'auto' && total >= WORKER_MIN_EVENTS && db.path !== ':memory:' && db.path !== '');
  if (!thread) {
    if (!onRead) return mergeSources(db, plan, each);
    let n = 0;
    const count = mergeSources(db, plan, (id, domain, t, nameId, args, fields, at) => {
      each(id, domain, t, nameId, args, fields, at);
      if (++n % PROGRESS_EVERY === 0) onRead(position.reached(id), total);
    });
    onRead(total, total);
    return count;
  }

  const flags = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const init: ReaderInit = { dbPath: db.path, plan, port: port2, flags: flags.buffer as SharedArrayBuffer };
  const worker = startModuleWorker(import.meta.url, './read-worker', { workerData: init, transferList: [port2] });
  let consumed = 0;
  const stride = batchStride(plan);
  const fields: (number | null)[] = new Array(plan.fieldColumns).fill(null);
  try {
    for (;;) {
      let m = receiveMessageOnPort(port1);
      while (!m) {
        Atomics.wait(flags, 0, consumed, 1000);
        m = receiveMessageOnPort(port1);
      }
      consumed++;
      Atomics.store(flags, 1, consumed);
      Atomics.notify(flags, 1);
      const b = m.message as ReaderBatch;
      if (b.error !== undefined) throw new XtraceError(`reading the events: ${b.error}`);
      let off = 0;
      const v = b.nums;
      for (let i = 0; i < b.n; i++) {
        const k = i * stride;
        const len = b.lens[i]!;
        const args = len === 0 ? '' : b.args.slice(off, off + len);
        off += len;
        for (let f = 0; f < fields.length; f++) fields[f] = nul(v[k + BATCH_FIELDS + f]!);
        each(v[k]!, v[k + 2]!, v[k + 1]!, v[k + 3]!, args, fields, 0);
      }
      if (b.done) {
        onRead?.(total, total);
        return b.count!;
      }
      // (A batch holds BATCH events: a report every PROGRESS_EVERY / BATCH batches.)
      if (onRead && b.n > 0 && consumed % (PROGRESS_EVERY / BATCH) === 0) onRead(position.reached(v[(b.n - 1) * stride]!), total);
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}

function nul(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

export { IN_FLIGHT };
