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
}

export function openIngestSession(path: string, o: SessionOptions = {}): IngestSession {
  const created = path !== ':memory:' && !existsSync(path);
  const db = openDb(path, { create: true });
  // A rolled-back file leaves nothing behind (journal), and a crash cannot corrupt what was committed.
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
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
