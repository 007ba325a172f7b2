/**
 * The bulk insert path: events are appended with explicit ids through a prepared multi-row
 * INSERT (ROWS_PER_STATEMENT rows per call), strings are interned in memory and written once.
 * Must run inside the caller's transaction (the whole file is one transaction).
 */
import type Database from 'better-sqlite3';
import type { DiagnosticCount } from '../core/diagnostics.js';
import type { SourceFacts, Timestamp, TraceEvent } from '../core/types.js';
import { rawHandle, type Db } from './db.js';

const COLS = 12;
const ROWS_PER_STATEMENT = 200;
const PLACEHOLDERS = '(?,?,?,?,?,?,?,?,?,?,?,?)';

/** Interned strings of one database: loaded once, grown as events arrive. */
export class StringTable {
  private readonly ids = new Map<string, number>();
  private next: number;
  private readonly ins: Database.Statement;

  constructor(db: Database.Database) {
    for (const r of db.prepare('SELECT id, value FROM strings').iterate() as IterableIterator<{ id: number; value: string }>) {
      this.ids.set(r.value, r.id);
    }
    this.next = ((db.prepare('SELECT max(id) AS m FROM strings').get() as { m: number | null }).m ?? 0) + 1;
    this.ins = db.prepare('INSERT INTO strings(id, value) VALUES (?, ?)');
  }

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.next++;
      this.ins.run(id, s);
      this.ids.set(s, id);
    }
    return id;
  }
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
  lines: number;
  events: number;
  unparsed: number;
  lost: number;
  facts: SourceFacts;
}

export class EventWriter {
  private readonly raw: Database.Database;
  private readonly multi: Database.Statement;
  private readonly single: Database.Statement;
  private readonly strings: StringTable;
  private readonly buf: unknown[] = new Array(COLS * ROWS_PER_STATEMENT);
  private k = 0;
  private nextId: number;
  readonly firstId: number;
  count = 0;
  minTs: Timestamp | null = null;
  maxTs: Timestamp | null = null;

  constructor(
    db: Db,
    readonly sourceId: number,
  ) {
    this.raw = rawHandle(db);
    this.multi = this.raw.prepare('INSERT INTO event_data VALUES ' + new Array(ROWS_PER_STATEMENT).fill(PLACEHOLDERS).join(','));
    this.single = this.raw.prepare('INSERT INTO event_data VALUES ' + PLACEHOLDERS);
    this.strings = new StringTable(this.raw);
    this.nextId = ((this.raw.prepare('SELECT max(id) AS m FROM event_data').get() as { m: number | null }).m ?? 0) + 1;
    this.firstId = this.nextId;
  }

  add(e: TraceEvent): void {
    const b = this.buf;
    let k = this.k;
    const ts = e.ts;
    b[k++] = this.nextId++;
    b[k++] = this.sourceId;
    b[k++] = e.line;
    b[k++] = ts;
    b[k++] = e.cpu;
    b[k++] = e.pid;
    b[k++] = e.tgid;
    b[k++] = e.comm === null ? null : this.strings.id(e.comm);
    b[k++] = this.strings.id(e.name);
    b[k++] = e.flags === null ? null : this.strings.id(e.flags);
    b[k++] = e.part === null ? null : this.strings.id(e.part);
    b[k++] = e.args;
    if (k === b.length) {
      this.multi.run(b);
      k = 0;
    }
    this.k = k;
    this.count++;
    if (this.minTs === null || ts < this.minTs) this.minTs = ts;
    if (this.maxTs === null || ts > this.maxTs) this.maxTs = ts;
  }

  flush(): void {
    const b = this.buf;
    for (let i = 0; i < this.k; i += COLS) this.single.run(b.slice(i, i + COLS));
    this.k = 0;
  }

  get lastId(): number | null {
    return this.count === 0 ? null : this.nextId - 1;
  }
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
    w.minTs,
    w.maxTs,
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
