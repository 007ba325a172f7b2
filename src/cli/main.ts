#!/usr/bin/env node
/**
 * The command line: the list of commands and the mapping of errors to messages and exit codes.
 * Each command lives in its own file under commands/ and only adapts options to a library call;
 * option groups shared by several commands are in options.ts, output handling in output.ts.
 * This directory is the only place that reads argv, prints errors or exits.
 * Exit codes: 0 ok, 1 a regression was found (compare), 2 usage / input / internal error.
 * Data goes to stdout; messages and progress go to stderr.
 */
import { Command, CommanderError } from 'commander';
import { InterruptedError, UsageError, XtraceError } from '../core/errors.js';
import { XTRACE_VERSION } from '../core/version.js';
import { errColor, OutputClosed } from './output.js';
import { COMMANDS } from './commands/index.js';
import { setBusyPolicy } from '../db/db.js';

function program(): Command {
  const p = new Command('xtrace')
    .description('Kernel-trace ingestion and per-stage I/O latency breakdown')
    .version(XTRACE_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(errColor.red(s)) })
    .exitOverride();
  for (const make of COMMANDS) {
    // Subcommands report errors as the program does (coloured, exit through the mapping below).
    p.addCommand(make().copyInheritedSettings(p));
  }
  return p;
}

/** The exit code of a failure; prints its one-line message. */
function failure(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
  // The reader of stdout went away (`| head`): not an error.
  if (e instanceof OutputClosed) return 0;
  if (e instanceof InterruptedError) {
    process.stderr.write(errColor.red('interrupted: ') + e.message + '\n');
    return 2;
  }
  if (e instanceof XtraceError) {
    process.stderr.write(errColor.red('error: ') + e.message + '\n');
    return 2;
  }
  // Another process kept the database locked past the busy timeout in the middle of a statement.
  if (/^SQLITE_(BUSY|LOCKED)/.test((e as { code?: string })?.code ?? '')) {
    process.stderr.write(errColor.red('error: ') + `the database is busy: another process kept it locked for more than ${Math.round(busyTimeoutMs / 1000)} s; try again when it has finished (XTRACE_BUSY_TIMEOUT_MS waits longer)\n`);
    return 2;
  }
  process.stderr.write(errColor.red('internal error: ') + ((e as Error)?.message ?? String(e)) + ' (set XTRACE_DEBUG=1 for the stack; please report it)\n');
  if (process.env['XTRACE_DEBUG']) process.stderr.write(String((e as Error)?.stack) + '\n');
  return 2;
}

// A write to a closed stdout also surfaces as an 'error' event: that is not an error either.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Several xtrace processes may share a database: a second one waits for the first one's write,
// says so on stderr, and gives up after XTRACE_BUSY_TIMEOUT_MS (default 10 minutes).
const busyEnv = process.env['XTRACE_BUSY_TIMEOUT_MS'];
const busyTimeoutMs = busyEnv !== undefined && /^\d+$/.test(busyEnv) ? Number(busyEnv) : 10 * 60_000;
setBusyPolicy({
  timeoutMs: busyTimeoutMs,
  onWait: (m) => process.stderr.write(errColor.yellow('waiting: ') + m + '\n'),
  onUpgrade: (m) => process.stderr.write(errColor.yellow('note: ') + m + '\n'),
});

try {
  if (busyEnv !== undefined && !/^\d+$/.test(busyEnv)) throw new UsageError(`XTRACE_BUSY_TIMEOUT_MS=${busyEnv}: expected a whole number of milliseconds`);
  await program().parseAsync(process.argv);
} catch (e) {
  process.exitCode = failure(e);
}
