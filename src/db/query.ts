/**
 * Ad hoc queries as a library (`xtrace query`): resolves the argument (a named query of
 * queries/named/ or an SQL statement), binds the parameters, opens the database (read-only unless
 * writing is allowed; an older schema is upgraded first), and returns either the count of changed
 * rows or the columns and a lazy iterator over the rows, read from SQLite one at a time.
 */
import { InputError, UsageError, XtraceError } from '../core/errors.js';
import { openDb, SCHEMA_VERSION, schemaVersionOf, type Db, type SqlValue, type Statement } from './db.js';
import { bindParams, listNamedQueries, loadNamedQuery, sqlValueOf } from './named.js';

export interface QueryRequest {
  /** Database file. */
  db: string;
  /** A named query (see namedQueryListing) or an SQL statement. */
  query: string;
  /** `--param key=value` pairs, bound as `:key` (never pasted into the SQL). */
  params?: Readonly<Record<string, string>>;
  /** Allow a statement that writes to the database. */
  write?: boolean;
}

export type QueryResult =
  | { kind: 'changes'; changes: number }
  | {
      kind: 'rows';
      columns: string[];
      /**
       * The rows, read lazily; 64-bit integers are numbers when they fit exactly, bigints
       * otherwise. An SQL error while reading is an InputError. The database closes when the
       * iteration ends (completed, broken off or failed) or on close().
       */
      rows: IterableIterator<SqlValue[]>;
      /** Closes the database (needed only when the rows are not iterated to the end). */
      close(): void;
    };

/** A query argument that is a name (lower-case words and dashes) is a named query; anything else is SQL. */
const NAMED_QUERY_ARGUMENT = /^[a-z][a-z0-9-]*$/;
const SHOWN_SQL_CHARS = 160;

/** Runs `req.query`: see the module comment. Throws UsageError or InputError. */
export function executeQuery(req: QueryRequest): QueryResult {
  if (!req.query) throw new UsageError('give an SQL statement or a query name (xtrace query --list shows the names)');
  const { sql, params } = resolveQuery(req.query, req.params ?? {});
  const shown = shortenSql(sql);
  const sqlError = (e: unknown): InputError => new InputError(`SQL: ${(e as Error).message} (in: ${shown})`);
  const db = openForQuery(req.db, !!req.write);
  try {
    let stmt: Statement<SqlValue[]>;
    try {
      stmt = db.prepare<SqlValue[]>(sql, { bigints: true });
    } catch (e) {
      throw sqlError(e);
    }
    if (!stmt.readonly && !req.write) throw new UsageError(`this statement writes to the database; add --write if that is what you want (in: ${shown})`);
    const bind = Object.keys(params).length ? [params] : [];
    if (!stmt.reader) {
      let changes: number;
      try {
        changes = stmt.run(...bind).changes;
      } catch (e) {
        throw sqlError(e);
      }
      db.close();
      return { kind: 'changes', changes };
    }
    let raw: Statement<SqlValue[]>;
    let source: IterableIterator<SqlValue[]>;
    try {
      raw = db.prepare<SqlValue[]>(sql, { raw: true, bigints: true });
      source = raw.iterate(...bind);
    } catch (e) {
      throw sqlError(e);
    }
    const rows = readRows(source, db, sqlError);
    return {
      kind: 'rows',
      columns: raw.columns(),
      rows,
      close: () => {
        rows.return(undefined);
        db.close();
      },
    };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** The named queries with their parameters, as `xtrace query --list` prints them. */
export function namedQueryListing(): string {
  const lines: string[] = [];
  for (const q of listNamedQueries()) {
    lines.push(`${q.name.padEnd(16)}${q.description}`);
    for (const p of q.params) lines.push(`${''.padEnd(18)}--param ${p.name}=${p.default === '' ? '…' : p.default}  ${p.doc}`);
  }
  return lines.join('\n') + '\n';
}

/** The SQL and the values to bind of a query argument. */
function resolveQuery(query: string, given: Readonly<Record<string, string>>): { sql: string; params: Record<string, SqlValue> } {
  if (NAMED_QUERY_ARGUMENT.test(query)) {
    const q = loadNamedQuery(query);
    return { sql: q.sql, params: bindParams(q, given) };
  }
  return { sql: query, params: Object.fromEntries(Object.entries(given).map(([k, v]) => [k, sqlValueOf(v)])) };
}

/** The SQL on one line, cut to SHOWN_SQL_CHARS, for error messages. */
function shortenSql(sql: string): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > SHOWN_SQL_CHARS ? oneLine.slice(0, SHOWN_SQL_CHARS - 3) + '…' : oneLine;
}

/**
 * Opens the database for a query: writable when writing is allowed, read-only otherwise. A
 * database of an older schema version is upgraded first (the current views are part of what
 * queries see; the upgrade writes schema, not data), through a writable open.
 */
function openForQuery(path: string, write: boolean): Db {
  if (write) return openDb(path);
  const db = openDb(path, { readonly: true });
  if (schemaVersionOf(db) >= SCHEMA_VERSION) return db;
  db.close();
  openDb(path).close();
  return openDb(path, { readonly: true });
}

/** The rows with safe integers as numbers; closes `db` when done; SQL errors become InputErrors. */
function* readRows(source: IterableIterator<SqlValue[]>, db: Db, sqlError: (e: unknown) => InputError): Generator<SqlValue[], void, undefined> {
  try {
    for (const r of source) {
      for (let i = 0; i < r.length; i++) {
        const v = r[i];
        if (typeof v !== 'bigint') continue;
        // Exact when it is a safe integer: a bigint beyond ±(2^53 − 1) converts to one that is not.
        const n = Number(v);
        if (Number.isSafeInteger(n)) r[i] = n;
      }
      yield r;
    }
  } catch (e) {
    if (e instanceof XtraceError) throw e;
    throw sqlError(e);
  } finally {
    db.close();
  }
}
