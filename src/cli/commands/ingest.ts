/** `xtrace ingest`: the options → an ingest session → one summary line per file (stderr) and, with --json, the summary document (stdout). */
import { Command, Option } from 'commander';
import { InputError, InterruptedError, UsageError } from '../../core/errors.js';
import { openIngestSession } from '../../ingest/session.js';
import { ingestSummaryJson, type IngestResult } from '../../ingest/ingest.js';
import { toJson } from '../../report/format.js';
import { errColor, writeOutput } from '../output.js';
import { dbOption, parseDomain, parseHz } from '../options.js';
import { ingestTestHooks, signalWhenGrown } from '../test-hooks.js';

interface IngestFlags {
  db: string;
  domain: string;
  tscHz?: number;
  quiet?: boolean;
  json?: boolean;
}

export function ingestCommand(): Command {
  const cmd = new Command('ingest')
    .description('Read trace files into an SQLite database: ftrace text (kernel trace, trace_pipe, per_cpu, latency-format), trace-cmd report output, systrace HTML, xtbuf dumps; .gz read transparently; - reads standard input')
    .argument('<files...>', 'trace files');
  dbOption(cmd, 'database file (created when something is stored)');
  return cmd
    .addOption(new Option('--domain <name>', 'clock domain of these files (guest, dom0, tapdisk ...)').default('default').argParser(parseDomain))
    .addOption(new Option('--tsc-hz <hz>', 'TSC frequency: converts raw x86-tsc timestamps to ns').argParser(parseHz))
    .option('-q, --quiet', 'no summary or progress on stderr')
    .option('--json', 'print a JSON summary of each file on stdout')
    .addHelpText(
      'after',
      `
Examples:
  xtrace ingest trace.txt                          # into ./xtrace.db
  xtrace ingest --db run.db --domain domU guest.txt.gz
  xtrace ingest --db run.db --domain dom0 --tsc-hz 2893299000 dom0-tsc.txt
  cat /sys/kernel/tracing/trace | xtrace ingest --db live.db -
Each file is one transaction: it is stored whole or not at all. Ingesting the same content again (plain, .gz or stdin) is a no-op.`,
    )
    .action(async (files: string[], o: IngestFlags) => {
      process.exitCode = await ingest(files, o);
    });
}

async function ingest(files: string[], o: IngestFlags): Promise<number> {
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('standard input (-) can be given once');
  const hooks = ingestTestHooks();
  const session = openIngestSession(o.db, hooks.session);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const results: IngestResult[] = [];
  let failed = 0;
  const onEvent = hooks.signal ? signalWhenGrown(session.db, hooks.signal) : undefined;
  try {
    for (const f of files) {
      if (ac.signal.aborted) break;
      const showProgress = !o.quiet && process.stderr.isTTY === true;
      try {
        const r = await session.ingest(f === '-' ? { path: '-', stream: process.stdin } : { path: f }, {
          domain: o.domain,
          ...(o.tscHz !== undefined ? { tscHz: o.tscHz } : {}),
          signal: ac.signal,
          ...(showProgress ? { onProgress: progress(f) } : {}),
          ...(onEvent ? { onEvent } : {}),
        });
        if (showProgress) process.stderr.write('\r\x1b[K');
        results.push(r);
        if (!o.quiet) process.stderr.write(summaryLine(r) + '\n');
      } catch (e) {
        if (showProgress) process.stderr.write('\r\x1b[K');
        if (e instanceof InterruptedError) throw e;
        if (!(e instanceof InputError)) throw e;
        failed++;
        process.stderr.write(errColor.red('error: ') + e.message + '\n');
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    session.close();
  }
  if (o.json) writeOutput(toJson(ingestSummaryJson(results, { db: o.db, failed, peakRssBytes: process.resourceUsage().maxRSS * 1024 })) + '\n', undefined);
  return failed > 0 ? 2 : 0;
}

function summaryLine(r: IngestResult): string {
  if (r.status === 'duplicate') return `${r.path}: already ingested as source ${r.sourceId} (same sha256); skipped`;
  const loss = r.unparsedLines > 0 || r.lostEvents > 0;
  const paint = loss ? errColor.yellow : errColor.green;
  // MB/s of the trace text (decompressed): of a .gz, the compressed bytes would say 1–2 MB/s.
  const mbs = r.seconds > 0 ? ` (${(r.textBytes / 1e6 / r.seconds).toFixed(0)} MB/s)` : '';
  const clock = r.hasTimeBase ? r.clock ?? '?' : `${r.clock} — no time base, latency reports will refuse this source`;
  return (
    `${r.path}: ` +
    paint(`${r.events} events, ${r.unparsedLines} lines not understood, ${r.lostEvents} events lost`) +
    ` [${r.variant ?? r.format}, clock ${clock}, domain ${r.domain}, source ${r.sourceId}] in ${r.seconds.toFixed(2)} s${mbs}`
  );
}

function progress(path: string): (read: number, total: number | null) => void {
  const t0 = performance.now();
  return (read, total) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? `${(read / 1e6 / secs).toFixed(0)} MB/s` : '';
    if (total && total > 0) {
      const frac = Math.min(1, read / total);
      const w = 30;
      const fill = Math.round(frac * w);
      process.stderr.write(`\r${path} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${(frac * 100).toFixed(0)}% ${rate}\x1b[K`);
    } else {
      process.stderr.write(`\r${path} ${(read / 1e6).toFixed(0)} MB ${rate}\x1b[K`);
    }
  };
}
