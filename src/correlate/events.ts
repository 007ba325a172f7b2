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
  /**
   * One chunk of a source's events (at most READ_CHUNK, in id order, after id ? up to id ?) as one
   * text (chunkSql): per event `id rel name_id field… length args`, events separated by a newline.
   * Parameters: the source's first ts (rel = ts_ns − it), argsParams, the id range, params.
   */
  sql: string;
  /** The same with the order spelled out in the aggregate (chunkSql `ordered`). */
  orderedSql: string;
  /** How many integer columns (or NULLs) each event has after its name id: the event's built-in fields. */
  fieldColumns: number;
  /** Parameters of the args expression (between ts and the id range) and of the filter (after it). */
  argsParams: (string | number)[];
  params: (string | number)[];
  sources: SourcePlan[];
}

/**
 * The chunk query of a read plan. SQLite formats the chunk's values as one text and the reader
 * parses it: building a JS array and a value per column of every row (better-sqlite3's `all`) cost
 * a third more (the 5.5 M events of the 1 GB bench: 12.6 s against 9.7 s).
 *
 * `ordered`: the aggregate is told the order. SQLite concatenates in the subquery's order (by id)
 * but does not promise it, and sorting in the aggregate costs a third more: the reader uses the
 * plain query, checks the ids of each chunk and, should they ever be out of order, reads it again
 * with the ordered one.
 */
export function chunkSql(fieldColumns: readonly string[], argsExpr: string, where: string | null, ordered = false): string {
  const fields = fieldColumns.map((c) => ` || ' ' || ifnull(${c}, '')`).join('');
  return (
    `SELECT group_concat(id || ' ' || (ts_ns - ?) || ' ' || name_id${fields} || ' ' || length(CAST(a AS BLOB)) || ' ' || a, char(10)${ordered ? ' ORDER BY id' : ''}) ` +
    `FROM (SELECT id, ts_ns, name_id${fieldColumns.map((c) => `, ${c}`).join('')}, ifnull(${argsExpr}, '') AS a FROM event_data WHERE id > ? AND id <= ?${where ? ` AND ${where}` : ''} ORDER BY id LIMIT ${READ_CHUNK})`
  );
}

/**
 * One event; `fields[at + k]` is its value of field column k (NaN: NULL), valid during the call
 * only (the array is reused).
 */
export type EventFn = (id: number, domain: number, t: number, nameId: number, args: string, fields: ArrayLike<number>, at: number) => void;

/** Numbers per event in a parsed chunk: id, rel, name id, then the field columns. */
const CHUNK_FIELDS = 3;
export const READ_CHUNK = 8192;

/** A source's parsed chunk and the position in it. */
interface Cursor {
  src: SourcePlan;
  n: number;
  nums: Float64Array;
  args: string[];
  i: number;
  after: number;
  off: number;
  done: boolean;
}

/**
 * Parses a chunk text (chunkSql) into `nums` (stride CHUNK_FIELDS + fields) and `args`; returns
 * the events. The args are length-prefixed in UTF-8 bytes, so any text, newlines and NULs
 * included, comes back as it was stored.
 */
export function parseChunk(s: string, fields: number, nums: Float64Array, args: string[]): number {
  const stride = CHUNK_FIELDS + fields;
  const L = s.length;
  let p = 0;
  let n = 0;
  // An integer up to the next space (empty: NaN, a NULL); anything but digits (a REAL) through Number.
  const num = (): number => {
    const from = p;
    let c = s.charCodeAt(p);
    if (c === 32) {
      p++;
      return NaN;
    }
    const neg = c === 45;
    if (neg) p++;
    let v = 0;
    while ((c = s.charCodeAt(p++)) !== 32) {
      const d = c - 48;
      if (d < 0 || d > 9) {
        while (s.charCodeAt(p) !== 32 && p < L) p++;
        p++;
        return Number(s.slice(from, p - 1));
      }
      v = v * 10 + d;
    }
    return neg ? -v : v;
  };
  while (p < L) {
    const k = n * stride;
    for (let f = 0; f < stride; f++) nums[k + f] = num();
    // The args' length in UTF-8 bytes (SQLite's length() of text stops at a NUL): walked in UTF-16 units.
    const len = num();
    let q = p;
    for (let b = 0; b < len; ) {
      const c = s.charCodeAt(q);
      if (c < 0x80) {
        b++;
        q++;
      } else if (c < 0x800) {
        b += 2;
        q++;
      } else if ((c & 0xfc00) === 0xd800) {
        b += 4;
        q += 2;
      } else {
        b += 3;
        q++;
      }
    }
    if (q > L || (q < L && s.charCodeAt(q) !== 10)) throw new XtraceError(`reading the events: the chunk read after event ${nums[k]} does not parse (character ${q} of ${L}); please report it`);
    args[n++] = s.slice(p, q);
    p = q + 1;
  }
  return n;
}

/** The merge itself, on whatever thread runs it. */
export function mergeSources(db: Db, plan: ReadPlan, each: EventFn): number {
  const fast = db.prepare<[string | null]>(plan.sql, { raw: true });
  let ordered: typeof fast | null = null;
  const stride = CHUNK_FIELDS + plan.fieldColumns;
  const read = (c: Cursor, stmt: typeof fast): number => {
    const text = stmt.get(c.src.firstTs, ...plan.argsParams, c.after, c.src.lastEvent, ...plan.params)?.[0];
    return text ? parseChunk(text, plan.fieldColumns, c.nums, c.args) : 0;
  };
  const inOrder = (c: Cursor): boolean => {
    for (let i = 1; i < c.n; i++) if (c.nums[i * stride]! <= c.nums[(i - 1) * stride]!) return false;
    return true;
  };
  const fill = (c: Cursor): boolean => {
    if (c.i < c.n) return true;
    if (c.done) return false;
    c.n = read(c, ordered ?? fast);
    if (!ordered && !inOrder(c)) {
      ordered = db.prepare<[string | null]>(plan.orderedSql, { raw: true });
      c.n = read(c, ordered);
    }
    c.i = 0;
    if (c.n < READ_CHUNK) c.done = true;
    if (c.n === 0) return false;
    c.after = c.nums[(c.n - 1) * stride]!;
    return true;
  };
  const live = plan.sources
    .map((src): Cursor => ({ src, n: 0, nums: new Float64Array(READ_CHUNK * stride), args: new Array<string>(READ_CHUNK), i: 0, after: src.firstEvent - 1, off: src.rel0 + src.shift, done: false }))
    .filter(fill);
  if (plan.sources.some((s) => s.rate !== 0)) return mergeDrifting(live, fill, each, stride);
  let n = 0;
  if (live.length === 1) {
    const c = live[0]!;
    const d = c.src.domain;
    do {
      const v = c.nums;
      for (let i = c.i; i < c.n; i++) {
        const k = i * stride;
        each(v[k]!, d, v[k + 1]! + c.off, v[k + 2]!, c.args[i]!, v, k + CHUNK_FIELDS);
      }
      n += c.n - c.i;
      c.i = c.n;
    } while (fill(c));
    return n;
  }
  // Few sources: a linear scan for the earliest head is cheaper than a heap.
  while (live.length) {
    let bi = 0;
    let bt = live[0]!.nums[live[0]!.i * stride + 1]! + live[0]!.off;
    for (let k = 1; k < live.length; k++) {
      const c = live[k]!;
      const t = c.nums[c.i * stride + 1]! + c.off;
      if (t < bt) {
        bt = t;
        bi = k;
      }
    }
    const c = live[bi]!;
    const k = c.i * stride;
    each(c.nums[k]!, c.src.domain, bt, c.nums[k + 2]!, c.args[c.i]!, c.nums, k + CHUNK_FIELDS);
    n++;
    c.i++;
    if (!fill(c)) live.splice(bi, 1);
  }
  return n;
}

/**
 * The merge when a clock drifts: adjusted = rel + shift + round(rate · rel) (clock.ts adjustRel),
 * rounded to whole ns. Kept apart so that the constant-offset loops above stay as they were.
 */
function mergeDrifting(live: Cursor[], fill: (c: Cursor) => boolean, each: EventFn, stride: number): number {
  // rel = row time + rel0; adjusted = row time + rel0 + shift + round(rate · rel).
  const time = (c: Cursor): number => {
    const t = c.nums[c.i * stride + 1]!;
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
    const k = c.i * stride;
    each(c.nums[k]!, c.src.domain, bt, c.nums[k + 2]!, c.args[c.i]!, c.nums, k + CHUNK_FIELDS);
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
  const fields = new Float64Array(plan.fieldColumns);
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
        for (let f = 0; f < fields.length; f++) fields[f] = v[k + BATCH_FIELDS + f]!;
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

export { IN_FLIGHT };
