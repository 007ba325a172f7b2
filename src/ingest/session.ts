/**
 * An ingest session: the database opened (or created) with the settings bulk ingestion wants,
 * files stored one transaction each, and a database this session created removed again when it
 * ends holding nothing (every file refused, or interrupted before the first one was stored), so
 * that the next command says "no such database" rather than "the database holds no event".
 */
import { existsSync, rmSync } from 'node:fs';
import { openDb, type Db } from '../db/db.js';
import { ingestFile, type IngestInput, type IngestOptions, type IngestResult } from './ingest.js';

export interface IngestSession {
  readonly db: Db;
  ingest(input: IngestInput, opts: IngestOptions): Promise<IngestResult>;
  /** Closes the database; removes it when this session created it and nothing is stored in it. */
  close(): void;
}

export interface SessionOptions {
  /** Fail as on a full disk once the database reaches this many pages (tests of the full-disk path). */
  maxPageCount?: number;
  /** SQLite's page cache in pages instead of 64 MiB: a file's pages reach the database file before it commits (crash tests). */
  cachePages?: number;
  /**
   * The rollback journal in memory, not in a file: a rollback still works, but a killed process
   * leaves a half-written database. Breaks the crash guarantee on purpose (the test that shows the
   * crash test can fail; journal_mode = OFF is refused by the driver's defensive mode).
   */
  journalInMemory?: boolean;
}

export function openIngestSession(path: string, o: SessionOptions = {}): IngestSession {
  const created = path !== ':memory:' && !existsSync(path);
  const db = openDb(path, { create: true });
  // A rolled-back file leaves nothing behind (journal), and a crash cannot corrupt what was committed.
  const journal = o.journalInMemory ? 'memory' : 'delete';
  const mode = (db.pragma(`journal_mode = ${journal}`) as { journal_mode: string }[])[0]?.journal_mode;
  if (mode !== journal && path !== ':memory:') {
    db.close();
    throw new Error(`${path}: journal_mode stayed ${mode}, not ${journal}`);
  }
  db.pragma('synchronous = NORMAL');
  db.pragma(`cache_size = ${o.cachePages && o.cachePages > 0 ? Math.floor(o.cachePages) : -65536}`);
  if (o.maxPageCount && o.maxPageCount > 0) db.pragma(`max_page_count = ${Math.floor(o.maxPageCount)}`);
  let stored = false;
  return {
    db,
    async ingest(input, opts) {
      const r = await ingestFile(db, input, opts);
      stored = true;
      return r;
    },
    close() {
      db.close();
      if (created && !stored) for (const f of [path, `${path}-journal`]) rmSync(f, { force: true });
    },
  };
}
