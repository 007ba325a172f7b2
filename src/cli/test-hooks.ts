/**
 * Test hooks of `xtrace ingest`: settings only the tests use, to put the database in the states a
 * user's machine reaches by accident (a full disk, a kill -9 while a file's pages are already in
 * the database file). They are read from the environment only when XTRACE_TEST_HOOKS=1 is set
 * too, and every value is checked: a bad one is a usage error, never passed on as it is.
 *
 *   XTRACE_TEST_MAX_PAGE_COUNT=N         the database is full at N pages (SQLITE_FULL)
 *   XTRACE_TEST_CACHE_PAGES=N            SQLite's page cache is N pages, not 64 MiB: a file's pages
 *                                        reach the database file before its transaction commits
 *   XTRACE_TEST_JOURNAL_IN_MEMORY=1      the rollback journal in memory, not in a file: breaks
 *                                        "stored whole or not at all" under kill -9 on purpose
 *                                        (the test that shows the crash test can fail)
 *   XTRACE_TEST_SIGNAL_AFTER_PAGES=N     the process sends itself a signal once the database file
 *                                        has grown by N pages during the command
 *   XTRACE_TEST_SIGNAL=SIGKILL|SIGINT|SIGTERM   that signal (default SIGKILL)
 */
import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Db } from '../db/db.js';
import type { SessionOptions } from '../ingest/session.js';

const TEST_SIGNALS = ['SIGKILL', 'SIGINT', 'SIGTERM'] as const;
export type TestSignal = (typeof TEST_SIGNALS)[number];

export interface IngestTestHooks {
  /** Settings of the ingest session (all absent without XTRACE_TEST_HOOKS=1). */
  session: SessionOptions;
  /** Signal to send to this process once the database file has grown by `afterPages` pages. */
  signal?: { name: TestSignal; afterPages: number };
}

/** The hooks the environment asks for; none unless XTRACE_TEST_HOOKS=1. Throws UsageError on a bad value. */
export function ingestTestHooks(env: NodeJS.ProcessEnv = process.env): IngestTestHooks {
  if (env['XTRACE_TEST_HOOKS'] !== '1') return { session: {} };
  const session: SessionOptions = {};
  const maxPageCount = wholeNumber(env, 'XTRACE_TEST_MAX_PAGE_COUNT');
  if (maxPageCount !== undefined) session.maxPageCount = maxPageCount;
  const cachePages = wholeNumber(env, 'XTRACE_TEST_CACHE_PAGES');
  if (cachePages !== undefined) session.cachePages = cachePages;
  const journalInMemory = env['XTRACE_TEST_JOURNAL_IN_MEMORY'];
  if (journalInMemory !== undefined) {
    if (journalInMemory !== '1') throw new UsageError(`XTRACE_TEST_JOURNAL_IN_MEMORY must be 1, not "${journalInMemory}"`);
    session.journalInMemory = true;
  }
  const afterPages = wholeNumber(env, 'XTRACE_TEST_SIGNAL_AFTER_PAGES');
  const name = env['XTRACE_TEST_SIGNAL'];
  if (name !== undefined && !(TEST_SIGNALS as readonly string[]).includes(name)) {
    throw new UsageError(`XTRACE_TEST_SIGNAL must be one of ${TEST_SIGNALS.join(', ')}, not "${name}"`);
  }
  if (afterPages === undefined) {
    if (name !== undefined) throw new UsageError('XTRACE_TEST_SIGNAL needs XTRACE_TEST_SIGNAL_AFTER_PAGES');
    return { session };
  }
  return { session, signal: { name: (name as TestSignal | undefined) ?? 'SIGKILL', afterPages } };
}

/**
 * The ingest `onEvent` callback of the signal hook: sends the signal once, at the first batch
 * after which the database file is `afterPages` pages larger than when this was called.
 */
export function signalWhenGrown(db: Db, signal: NonNullable<IngestTestHooks['signal']>): (events: number) => void {
  const pageSize = (db.pragma('page_size') as { page_size: number }[])[0]!.page_size;
  const target = statSync(db.path).size + signal.afterPages * pageSize;
  let sent = false;
  return () => {
    if (!sent && statSync(db.path).size >= target) {
      sent = true;
      process.kill(process.pid, signal.name);
    }
  };
}

/** A positive whole number from the environment, undefined when the variable is not set. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v))) throw new UsageError(`${name} must be a whole number ≥ 1, not "${v}"`);
  return Number(v);
}
