/**
 * The only module that talks to better-sqlite3. Everything else uses the narrow `Db` interface,
 * so the driver can be swapped or faked (as Kysely does for its dialects).
 */
import Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { InputError } from '../core/errors.js';
import { DIAGNOSTICS } from '../core/diagnostics.js';

export const SCHEMA_VERSION = 2;
/** queries/ files that bring a database from version i to i + 1. */
const MIGRATIONS = ['001_schema.sql', '002_correlation.sql'];

export type SqlValue = number | bigint | string | null | Buffer;

export interface Statement<Row = unknown> {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): Row | undefined;
  all(...params: SqlValue[]): Row[];
  /** Rows one at a time (no other statement may write while it runs). */
  iterate(...params: SqlValue[]): IterableIterator<Row>;
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
      run: (...p: SqlValue[]) => s.run(...p),
      get: (...p: SqlValue[]) => s.get(...p) as Row | undefined,
      all: (...p: SqlValue[]) => s.all(...p) as Row[],
      iterate: (...p: SqlValue[]) => s.iterate(...p) as IterableIterator<Row>,
    };
  }
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
  begin(): void {
    this.db.exec('BEGIN');
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

/** Opens (and when asked creates) an xtrace database, checking its schema version. */
export function openDb(path: string, opts: OpenOptions = {}): Db {
  const exists = path !== ':memory:' && existsSync(path);
  if (exists && statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, not a database file; give a file name with --db`, path);
  if (!exists && !opts.create && path !== ':memory:') {
    throw new InputError(`${path}: no such database; run \`xtrace ingest --db ${path} TRACE...\` first`, path);
  }
  let raw: Database.Database;
  try {
    raw = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: !opts.create });
    // A file that is not SQLite fails on first read.
    raw.pragma('schema_version');
  } catch (e) {
    throw new InputError(`${path}: not an xtrace database (${(e as Error).message})`, path);
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

function migrate(db: SqliteDb, writable: boolean, mayCreate: boolean): void {
  const version = db.pragma('user_version') as [{ user_version: number }];
  const v = version[0]!.user_version;
  if (v === SCHEMA_VERSION) return;
  const tables = db.prepare<{ n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get()!.n;
  if (v === 0 && tables === 0) {
    if (!mayCreate) throw new InputError(`${db.path}: database is empty; ingest a trace first`, db.path);
  } else if (v === 0) {
    throw new InputError(`${db.path}: is an SQLite database but not an xtrace one (no schema version); use another --db file`, db.path);
  } else if (v > SCHEMA_VERSION) {
    throw new InputError(`${db.path}: schema version ${v} is newer than this xtrace (reads up to ${SCHEMA_VERSION}); upgrade xtrace or re-ingest the traces into a new --db file`, db.path);
  }
  // An older database is read as it is when opened read-only, and upgraded in place otherwise.
  if (!writable) return;
  db.transaction(() => {
    for (let i = v; i < SCHEMA_VERSION; i++) {
      db.exec(readFileSync(join(queriesDir(), MIGRATIONS[i]!), 'utf8'));
      if (i === 0) {
        const ins = db.prepare('INSERT INTO diagnostic_codes(code, severity, counts_lines, description) VALUES (?, ?, ?, ?)');
        for (const [code, d] of Object.entries(DIAGNOSTICS)) ins.run(code, d.severity, d.line ? 1 : 0, d.description);
        db.prepare('INSERT INTO xt_meta(key, value) VALUES (?, ?)').run('created_by', 'xtrace');
      }
    }
    db.prepare('INSERT OR REPLACE INTO xt_meta(key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}

/** The better-sqlite3 handle behind a Db, for the bulk writer only. */
export function rawHandle(db: Db): Database.Database {
  if (!(db instanceof SqliteDb)) throw new Error('rawHandle: not an SQLite-backed Db');
  return db.raw;
}
