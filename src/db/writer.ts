/**
 * The bulk insert path: events arrive in batches from the parsing worker (strings already interned
 * there; new ones travel with the batch) and are appended through a prepared multi-row INSERT
 * (ROWS_PER_STATEMENT rows per call). Must run inside the caller's transaction (one per file).
 */
import type Database from 'better-sqlite3';
import type { DiagnosticCount } from '../core/diagnostics.js';
import type { SourceFacts, Timestamp } from '../core/types.js';
import { NUM_COLS, type EventBatch } from '../core/event-batch.js';
import { rawHandle, type Db } from './db.js';

/** Bound values per row: the id (NULL → next rowid) and source id are literals in the statement. */
const COLS = 10;
const ROWS_PER_STATEMENT = 400;

/** The interned strings of a database, for the parsing worker's own intern table. */
export function loadStrings(db: Db): { strings: [string, number][]; nextId: number } {
  const strings: [string, number][] = [];
  let max = 0;
  for (const r of db.prepare<{ id: number; value: string }>('SELECT id, value FROM strings').all()) {
    strings.push([r.value, r.id]);
    if (r.id > max) max = r.id;
  }
  return { strings, nextId: max + 1 };
}

export interface SourceRow {
  path: string;
  sha256: string;
  bytes: number;
  format: string;
  domain: string;
  ingestedAt: string;
  version: string;
}

export interface SourceTotals {
  minTs: Timestamp | null;
  maxTs: Timestamp | null;
  lines: number;
  events: number;
  unparsed: number;
  lost: number;
  facts: SourceFacts;
}

/** Appends batches of events (see src/core/batch.ts); rows get consecutive rowids from firstId. */
export class EventWriter {
  private readonly multi: Database.Statement;
  private readonly single: Database.Statement;
  private readonly insString: Database.Statement;
  private readonly buf: unknown[] = new Array(COLS * ROWS_PER_STATEMENT);
  private k = 0;
  readonly firstId: number;
  count = 0;

  constructor(
    db: Db,
    readonly sourceId: number,
  ) {
    const raw = rawHandle(db);
    // Rows get consecutive rowids (the table is only appended to inside this transaction).
    const row = `(NULL,${Math.trunc(sourceId)},?,?,?,?,?,?,?,?,?,?)`;
    this.multi = raw.prepare('INSERT INTO event_data VALUES ' + new Array(ROWS_PER_STATEMENT).fill(row).join(','));
    this.single = raw.prepare('INSERT INTO event_data VALUES ' + row);
    this.insString = raw.prepare('INSERT INTO strings(id, value) VALUES (?, ?)');
    this.firstId = ((raw.prepare('SELECT max(id) AS m FROM event_data').get() as { m: number | null }).m ?? 0) + 1;
  }

  addBatch(b: EventBatch): void {
    for (const [id, value] of b.newStrings) this.insString.run(id, value);
    const buf = this.buf;
    const nums = b.nums;
    const lens = b.argLens;
    const args = b.args;
    const big = b.bigTs;
    const multi = this.multi;
    let k = this.k;
    let off = 0;
    for (let i = 0, o = 0; i < b.n; i++, o += NUM_COLS) {
      buf[k++] = nums[o];
      const ts = nums[o + 1]!;
      buf[k++] = ts === ts ? ts : big![i];
      buf[k++] = orNull(nums[o + 2]!);
      buf[k++] = orNull(nums[o + 3]!);
      buf[k++] = orNull(nums[o + 4]!);
      buf[k++] = orNull(nums[o + 5]!);
      buf[k++] = nums[o + 6];
      buf[k++] = orNull(nums[o + 7]!);
      buf[k++] = orNull(nums[o + 8]!);
      const len = lens[i]!;
      buf[k++] = args.slice(off, off + len);
      off += len;
      if (k === buf.length) {
        multi.run(buf);
        k = 0;
      }
    }
    this.k = k;
    this.count += b.n;
  }

  flush(): void {
    const b = this.buf;
    for (let i = 0; i < this.k; i += COLS) this.single.run(b.slice(i, i + COLS));
    this.k = 0;
  }

  get lastId(): number | null {
    return this.count === 0 ? null : this.firstId + this.count - 1;
  }
}

function orNull(x: number): number | null {
  return x === x ? x : null;
}

const NAME_INDEX = 'event_data_by_name';

/**
 * Inside a file's transaction, before its events: drops the index of events by name when the
 * file brings at least as many events as the database holds (`expectedEvents`: an estimate, null
 * when unknown), so that rebuildNameIndex sorts them once at the end instead of updating the index
 * row by row (measured: +40 % ingest time row by row, +20 % sorted at the end). Returns whether it
 * did; a rollback restores it with everything else.
 */
export function deferNameIndex(db: Db, expectedEvents: number | null): boolean {
  const have = (db.prepare<{ m: number | null }>('SELECT max(id) AS m FROM event_data').get()?.m ?? 0) as number;
  if (have > 0 && (expectedEvents === null || expectedEvents < have)) return false;
  if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?").get(NAME_INDEX)) return false;
  db.exec(`DROP INDEX ${NAME_INDEX}`);
  return true;
}

/** After the file's events, in its transaction: the index deferNameIndex dropped. */
export function rebuildNameIndex(db: Db): void {
  db.exec(`CREATE INDEX ${NAME_INDEX} ON event_data(name_id)`);
}

/** Inserts the sources row with zero counts; returns its id. */
export function insertSource(db: Db, s: SourceRow): number {
  const r = db
    .prepare(
      `INSERT INTO sources(path, sha256, bytes, format, domain, has_time_base, lines, events, unparsed_lines, lost_events, ingested_at, xtrace_version)
       VALUES (?, ?, ?, ?, ?, 1, 0, 0, 0, 0, ?, ?)`,
    )
    .run(s.path, s.sha256, s.bytes, s.format, s.domain, s.ingestedAt, s.version);
  return Number(r.lastInsertRowid);
}

export function finishSource(db: Db, sourceId: number, w: EventWriter, t: SourceTotals, diags: DiagnosticCount[]): void {
  const f = t.facts;
  const hasTimeBase = f.clockKind === 'ticks' ? 0 : 1;
  db.prepare(
    `UPDATE sources SET variant = ?, clock = ?, clock_kind = ?, has_time_base = ?, tsc_hz = ?, cpus = ?, tracer = ?, pid = ?, comm = ?,
       entries_in_buffer = ?, entries_written = ?, lines = ?, events = ?, unparsed_lines = ?, lost_events = ?,
       first_ts_ns = ?, last_ts_ns = ?, first_event_id = ?, last_event_id = ? WHERE id = ?`,
  ).run(
    f.variant ?? null,
    f.clock ?? null,
    f.clockKind ?? null,
    hasTimeBase,
    f.tscHz ?? null,
    f.cpus ?? null,
    f.tracer ?? null,
    f.pid ?? null,
    f.comm ?? null,
    f.entriesInBuffer ?? null,
    f.entriesWritten ?? null,
    t.lines,
    t.events,
    t.unparsed,
    t.lost,
    t.minTs,
    t.maxTs,
    w.count === 0 ? null : w.firstId,
    w.lastId,
    sourceId,
  );
  const ins = db.prepare('INSERT INTO diagnostics(source_id, code, severity, count, first_line, detail) VALUES (?, ?, ?, ?, ?, ?)');
  for (const d of diags) ins.run(sourceId, d.code, d.severity, d.count, d.firstLine, d.detail);
}

export function findSourceBySha(db: Db, sha256: string): { id: number; path: string } | undefined {
  return db.prepare<{ id: number; path: string }>('SELECT id, path FROM sources WHERE sha256 = ?').get(sha256);
}
