/**
 * The only module that talks to better-sqlite3. Everything else uses the narrow `Db` interface,
 * so the driver can be swapped or faked (as Kysely does for its dialects).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { COUNTERS, countsLines, type CounterCode } from '../core/counters.js';
import type { SqlValue } from '../core/types.js';

export const SCHEMA_VERSION = 8;
/**
 * queries/ files that bring a database from version i to i + 1. A line `.read FILE` in them is
 * replaced by FILE (relative to queries/), as the sqlite3 shell does when run from queries/:
 * 003_views.sql is the ordered list of the files of queries/views/.
 */
const MIGRATIONS = ['001_schema.sql', '002_correlation.sql', '003_views.sql', '004_counter_stage.sql', '005_request_fields.sql', '006_clock_drift.sql', '007_stage_rows.sql', '008_report_meta.sql'];

export type { SqlValue };
/** A positional value, or an object of named parameters (`:name` in the SQL, key `name`). */
export type BindValue = SqlValue | Readonly<Record<string, SqlValue>>;

export interface Statement<Row = unknown> {
  run(...params: BindValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: BindValue[]): Row | undefined;
  all(...params: BindValue[]): Row[];
  /** Rows one at a time (no other statement may write while it runs). */
  iterate(...params: BindValue[]): IterableIterator<Row>;
  /** True when the statement returns rows (a SELECT, a PRAGMA that answers, … RETURNING). */
  readonly reader: boolean;
  /** True when the statement does not write to the database. */
  readonly readonly: boolean;
  /** Column names of the rows (a reader statement only; throws otherwise). */
  columns(): string[];
}

export interface Db {
  readonly path: string;
  exec(sql: string): void;
  /** `bigints`: integers as bigint; `raw`: rows as arrays of column values (the fast path). */
  prepare<Row = unknown>(sql: string, opts?: { bigints?: boolean; raw?: boolean }): Statement<Row>;
  /** Runs `fn` inside BEGIN … COMMIT; rolls back if it throws. */
  transaction<T>(fn: () => T): T;
  begin(): void;
  commit(): void;
  rollback(): void;
  readonly inTransaction: boolean;
  pragma(p: string): unknown;
  close(): void;
}

/** Location of the SQL files shipped with xtrace (works from src/ under tsx and from dist/). */
export function queriesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const q = join(dir, 'queries');
    if (existsSync(join(q, '001_schema.sql'))) return q;
    dir = dirname(dir);
  }
  throw new Error('xtrace installation is incomplete: queries/001_schema.sql not found');
}

class SqliteDb implements Db {
  constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}
  exec(sql: string): void {
    this.db.exec(sql);
  }
  prepare<Row = unknown>(sql: string, opts?: { bigints?: boolean; raw?: boolean }): Statement<Row> {
    const s = this.db.prepare(sql);
    if (opts?.bigints) s.safeIntegers(true);
    if (opts?.raw) s.raw(true);
    return {
      run: (...p: BindValue[]) => s.run(...p),
      get: (...p: BindValue[]) => s.get(...p) as Row | undefined,
      all: (...p: BindValue[]) => s.all(...p) as Row[],
      iterate: (...p: BindValue[]) => s.iterate(...p) as IterableIterator<Row>,
      reader: s.reader,
      readonly: s.readonly,
      columns: () => s.columns().map((c) => c.name),
    };
  }
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
  /** Starts a write transaction (IMMEDIATE: the write lock now, waiting for another writer with a word). */
  begin(): void {
    waitingFor(this.db, this.path, 'writing', () => this.db.exec('BEGIN IMMEDIATE'));
  }
  commit(): void {
    this.db.exec('COMMIT');
  }
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
  get inTransaction(): boolean {
    return this.db.inTransaction;
  }
  pragma(p: string): unknown {
    return this.db.pragma(p);
  }
  close(): void {
    if (this.db.open) this.db.close();
  }
  /** Raw handle for the hot insert path in src/db/writer.ts. */
  get raw(): Database.Database {
    return this.db;
  }
}

export interface OpenOptions {
  /** Create the file and the schema when missing (ingest). Default false: the db must exist. */
  create?: boolean;
  readonly?: boolean;
}

/**
 * Several processes share a database: one writes at a time (an ingest holds its write for the
 * whole file), the others wait for it, up to `timeoutMs`, saying once that they wait (`onWait`,
 * the CLI prints it on stderr). Giving up is a BusyError naming the database, never an internal error.
 */
const busy = { timeoutMs: 10 * 60_000, onWait: (_message: string): void => {}, onUpgrade: (_message: string): void => {} };

/**
 * How long to wait for another process's write, what to say when waiting starts, and when an
 * older database is upgraded (which may take minutes on a big one); the CLI sets them.
 */
export function setBusyPolicy(p: { timeoutMs?: number; onWait?: (message: string) => void; onUpgrade?: (message: string) => void }): void {
  if (p.timeoutMs !== undefined) busy.timeoutMs = p.timeoutMs;
  if (p.onWait) busy.onWait = p.onWait;
  if (p.onUpgrade) busy.onUpgrade = p.onUpgrade;
}

/** Another process held the database longer than the busy timeout. */
export class BusyError extends InputError {}

function busyError(path: string): BusyError {
  return new BusyError(`${path}: another process has been writing it for more than ${Math.round(busy.timeoutMs / 1000)} s; try again when it has finished (XTRACE_BUSY_TIMEOUT_MS waits longer)`, path);
}

const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test((e as { code?: string }).code ?? '');

/**
 * Runs `step` at once; when another process holds the lock it needs, says so once and runs it
 * again waiting up to the busy timeout (SQLite's own busy handler waits without a word).
 */
function waitingFor<T>(raw: Database.Database, path: string, what: string, step: () => T): T {
  raw.pragma('busy_timeout = 0');
  try {
    return step();
  } catch (e) {
    if (!isBusy(e)) throw e;
    busy.onWait(`${path}: another process is writing it; waiting for it to finish before ${what} (up to ${Math.round(busy.timeoutMs / 1000)} s)`);
    raw.pragma(`busy_timeout = ${busy.timeoutMs}`);
    try {
      return step();
    } catch (e2) {
      throw isBusy(e2) ? busyError(path) : e2;
    }
  } finally {
    raw.pragma(`busy_timeout = ${busy.timeoutMs}`);
  }
}

/** A better-sqlite3 connection whose first read has succeeded (a file that is not SQLite fails there). */
function connect(path: string, opts: OpenOptions): Database.Database {
  const raw = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: !opts.create, timeout: busy.timeoutMs });
  try {
    waitingFor(raw, path, 'reading it', () => raw.pragma('schema_version'));
  } catch (e) {
    raw.close();
    throw e;
  }
  return raw;
}

/** Opens (and when asked creates) an xtrace database, checking its schema version. */
export function openDb(path: string, opts: OpenOptions = {}): Db {
  const exists = path !== ':memory:' && existsSync(path);
  if (exists && statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, not a database file; give a file name with --db`, path);
  if (!exists && !opts.create && path !== ':memory:') {
    throw new InputError(`${path}: no such database; run \`xtrace ingest --db ${path} TRACE...\` first`, path);
  }
  let raw: Database.Database;
  try {
    raw = connect(path, opts);
  } catch (e) {
    if (e instanceof BusyError) throw e;
    if ((e as { code?: string }).code !== 'SQLITE_READONLY_ROLLBACK') throw new InputError(`${path}: not an xtrace database (${(e as Error).message})`, path);
    // A write was interrupted (kill -9, power loss): its journal must be rolled back before anyone
    // reads, and a read-only connection cannot. A writable one does it on open; then read as asked.
    try {
      connect(path, { create: false }).close();
      raw = connect(path, opts);
    } catch (e2) {
      throw new InputError(
        `${path}: an interrupted write left ${path}-journal to roll back, and it cannot be rolled back here (${(e2 as Error).message}); run xtrace ingest or report on it as a user who may write the file`,
        path,
      );
    }
  }
  const db = new SqliteDb(raw, path);
  try {
    migrate(db, !opts.readonly, !!opts.create && !opts.readonly);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** The schema version a database is at (PRAGMA user_version; 0: not an xtrace database, or empty). */
export function schemaVersionOf(db: Db): number {
  return (db.pragma('user_version') as [{ user_version: number }])[0].user_version;
}

/**
 * Checks the schema version; a writable open upgrades an older database in place and refreshes
 * the counter catalogue (diagnostic_codes), a read-only open reads the database as it is.
 */
function migrate(db: SqliteDb, writable: boolean, mayCreate: boolean): void {
  const v = schemaVersionOf(db);
  if (v !== SCHEMA_VERSION) {
    const tables = db.prepare<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get()!.n;
    if (v === 0 && tables === 0) {
      if (!mayCreate) throw new InputError(`${db.path}: database is empty; ingest a trace first`, db.path);
    } else if (v === 0) {
      throw new InputError(`${db.path}: is an SQLite database but not an xtrace one (no schema version); use another --db file`, db.path);
    } else if (v > SCHEMA_VERSION) {
      throw new InputError(`${db.path}: schema version ${v} is newer than this xtrace (reads up to ${SCHEMA_VERSION}); upgrade xtrace or re-ingest the traces into a new --db file`, db.path);
    }
  }
  if (!writable) return;
  // Under the write lock, the version read again: another process may have created or upgraded
  // the database since (two ingests into a new file at once).
  const migrateNow = db.raw.transaction(() => {
    const v = schemaVersionOf(db);
    if (v > 0 && v < SCHEMA_VERSION) busy.onUpgrade(`${db.path}: upgrading it from schema ${v} to ${SCHEMA_VERSION} (once; stored reports are rewritten, which takes a while on a big database)`);
    for (let i = v; i < SCHEMA_VERSION; i++) {
      db.exec(migrationSql(MIGRATIONS[i]!));
      if (i === 0) db.prepare('INSERT INTO xt_meta(key, value) VALUES (?, ?)').run('created_by', 'xtrace');
    }
    if (v !== SCHEMA_VERSION) {
      db.prepare('INSERT OR REPLACE INTO xt_meta(key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }
    syncCounterCodes(db);
  });
  // Up to date: a deferred transaction, which takes the write lock only if the catalogue changed.
  if (v === SCHEMA_VERSION) migrateNow();
  else waitingFor(db.raw, db.path, 'opening it for writing', () => migrateNow.immediate());
}

/**
 * Makes diagnostic_codes list exactly the counters of the catalogue (src/core/counters.ts), so
 * that codes added, changed or removed since the database was created reach it. Writes nothing
 * when the table already agrees (an up-to-date database stays untouched).
 */
function syncCounterCodes(db: Db): void {
  const COLUMNS = 'code, severity, stage, counts_lines, description';
  const want = (Object.keys(COUNTERS) as CounterCode[])
    .sort()
    .map((code) => [code, COUNTERS[code].severity, COUNTERS[code].stage, countsLines(code) ? 1 : 0, COUNTERS[code].description]);
  const have = db.prepare(`SELECT ${COLUMNS} FROM diagnostic_codes ORDER BY code`, { raw: true }).all();
  if (JSON.stringify(have) === JSON.stringify(want)) return;
  const upsert = db.prepare(
    `INSERT INTO diagnostic_codes(${COLUMNS}) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(code) DO UPDATE SET severity = excluded.severity, stage = excluded.stage, counts_lines = excluded.counts_lines, description = excluded.description`,
  );
  for (const row of want) upsert.run(...row);
  db.prepare('DELETE FROM diagnostic_codes WHERE code NOT IN (SELECT value FROM json_each(?))').run(JSON.stringify(want.map((r) => r[0])));
}

/**
 * The SQL of a migration file with its `.read FILE` lines replaced by the files (relative to
 * queries/, one level: a read file may not read further).
 */
export function migrationSql(file: string): string {
  const dir = queriesDir();
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .map((line, i) => {
      const m = /^\.read\s+(\S+)\s*$/.exec(line);
      if (!m) {
        if (line.startsWith('.')) throw new Error(`${file}:${i + 1}: only \`.read FILE\` is understood among the sqlite3 shell's dot-commands`);
        return line;
      }
      const sql = readFileSync(join(dir, m[1]!), 'utf8');
      if (/^\./m.test(sql)) throw new Error(`${m[1]}: a file read by ${file} may not contain dot-commands`);
      return sql;
    })
    .join('\n');
}

/** The better-sqlite3 handle behind a Db, for the bulk writer only. */
export function rawHandle(db: Db): Database.Database {
  if (!(db instanceof SqliteDb)) throw new Error('rawHandle: not an SQLite-backed Db');
  return db.raw;
}
