#!/usr/bin/env node
/**
 * The command line: the only module that reads argv, prints errors or exits.
 * Exit codes: 0 ok, 1 a regression was found (compare), 2 usage / input / internal error.
 * Data goes to stdout; messages and progress go to stderr.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Chalk, type ChalkInstance } from 'chalk';
import { InputError, InterruptedError, UsageError, XtraceError } from '../core/errors.js';
import { openDb, type Db } from '../db/db.js';
import { ingestFile, XTRACE_VERSION, type IngestResult } from '../ingest/ingest.js';
import { sourceOverview } from '../analysis/sources.js';
import { formatSummaryTable } from '../report/summary.js';
import { builtinProfileNames, loadProfile } from '../correlate/profile.js';
import { BUILTIN_PROFILES } from '../correlate/builtin.js';
import { runReport } from '../report/run.js';
import { REPORTERS, type ReporterName } from '../report/reporters.js';
import { writeOutput } from './output.js';
import { BACKENDS, simulate, type Backend } from '../simulate/simulate.js';
import { loadSides } from '../compare/sides.js';
import { compare } from '../compare/compare.js';
import { COMPARE_REPORTERS, type CompareFormat } from '../compare/reporters.js';
import { bindParams, listNamedQueries, loadNamedQuery, sqlValueOf } from '../db/named.js';
import { ROWS_REPORTERS, type Cell, type RowsFormat } from '../report/rows.js';

const colorOk = !process.env['NO_COLOR'] && process.stderr.isTTY === true;
const err: ChalkInstance = new Chalk({ level: colorOk ? 1 : 0 });
const outColor: ChalkInstance = new Chalk({ level: !process.env['NO_COLOR'] && process.stdout.isTTY === true ? 1 : 0 });

// `xtrace … | head` closes stdout early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

function parseHz(v: string): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(n)) throw new InvalidArgumentError('expected a positive whole number of cycles per second, e.g. 2893299000');
  return n;
}

function parseDomain(v: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new InvalidArgumentError('a domain name is letters, digits, _ . - (e.g. dom0, domU, tapdisk)');
  return v;
}

function program(): Command {
  const p = new Command('xtrace')
    .description('Kernel-trace ingestion and per-stage I/O latency breakdown')
    .version(XTRACE_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(err.red(s)) })
    .exitOverride();

  p.command('ingest')
    .description('Read trace files into an SQLite database: ftrace text (kernel trace, trace_pipe, per_cpu, latency-format), trace-cmd report output, systrace HTML, xtbuf dumps; .gz read transparently; - reads standard input')
    .argument('<files...>', 'trace files')
    .option('--db <file>', 'database file (created when missing)', 'xtrace.db')
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
    .action(async (files: string[], o: { db: string; domain: string; tscHz?: number; quiet?: boolean; json?: boolean }) => {
      process.exitCode = await ingestCommand(files, o);
    });

  p.command('summary')
    .description('Summarise what a database holds: one line per source, with data-quality counters')
    .option('--db <file>', 'database file', 'xtrace.db')
    .option('--json', 'JSON instead of a table')
    .action((o: { db: string; json?: boolean }) => {
      const db = openDb(o.db, { readonly: true });
      try {
        const s = sourceOverview(db);
        process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummaryTable(s, outColor));
      } finally {
        db.close();
      }
    });
  p.command('report')
    .description('Correlate each request through the profile\'s points and print the per-stage latency breakdown (and store the requests in the database)')
    .requiredOption('-p, --profile <name|file.json>', `built-in profile (${builtinProfileNames().join(', ')}) or a profile JSON file`)
    .option('--db <file>', 'database file', 'xtrace.db')
    .addOption(new Option('--warmup <n>', 'drop the first N complete requests of each run').default(0).argParser(parseCount))
    .addOption(new Option('--trim <fraction>', 'drop this fraction of the fastest and of the slowest requests of each run').default(0.1).argParser(parseFraction))
    .addOption(new Option('--trim-by <what>', 'trim by total latency, or each stage on its own').choices(['total', 'stage']).default('total'))
    .addOption(new Option('--format <format>', 'output format').choices(Object.keys(REPORTERS)).default('table'))
    .option('--out <file>', 'write the report to a file instead of stdout (written whole or not at all)')
    .addOption(new Option('--offset <domain=ns>', 'clock offset of a domain: t_reference = t_domain + ns (repeatable); otherwise estimated').argParser(collectOffset))
    .addHelpText(
      'after',
      `
Examples:
  xtrace report --profile linux-block                        # table on stdout
  xtrace report --db run.db -p xen-blkback --format json --out report.json
  xtrace report -p linux-block --warmup 5 --trim 0.1 --trim-by stage
  xtrace report -p xen-blktap2 --offset dom0=-52000123456789
  xtrace report -p ./my-profile.json --format markdown
Runs are delimited by 'xtrace: run=<label> begin|end' markers (trace_marker or trace_printk); no markers = one run.
The requests are stored in the database: SELECT * FROM request_stages WHERE run = '1';`,
    )
    .action((o: { profile: string; db: string; warmup: number; trim: number; trimBy: 'total' | 'stage'; format: ReporterName; out?: string; offset?: Map<string, bigint> }) => {
      const profile = loadProfile(o.profile);
      const db = openDb(o.db);
      let text: string;
      try {
        const model = runReport(db, {
          profile,
          warmup: o.warmup,
          trim: o.trim,
          trimBy: o.trimBy,
          ...(o.offset ? { offsets: o.offset } : {}),
          version: XTRACE_VERSION,
        });
        const reporter = REPORTERS[o.format];
        text = reporter.render(model, o.out ? new Chalk({ level: 0 }) : outColor);
      } finally {
        db.close();
      }
      writeOutput(text, o.out);
    });

  p.command('query')
    .description('Run SQL on a database: a named query from queries/named/ or an SQL string, with bound parameters')
    .argument('[sql-or-name]', 'an SQL statement, or the name of a query (see --list)')
    .option('--db <file>', 'database file', 'xtrace.db')
    .option('--param <key=value>', 'bind :key (repeatable)', collectParam)
    .addOption(new Option('--format <format>', 'output format').choices(Object.keys(ROWS_REPORTERS)).default('table'))
    .option('--out <file>', 'write the result to a file instead of stdout')
    .option('--list', 'list the named queries with their parameters')
    .option('--write', 'allow a statement that writes to the database')
    .addHelpText(
      'after',
      `
Examples:
  xtrace query --list
  xtrace query --db run.db stage-summary --param profile=linux-block --param run=3
  xtrace query --db run.db slowest --param limit=5 --format markdown
  xtrace query --db run.db around-request --param request_id=42
  xtrace query --db run.db "SELECT name, count(*) AS n FROM events GROUP BY name ORDER BY n DESC" --format csv
  xtrace query --db run.db "SELECT * FROM xt_stage_times WHERE stage = :s AND duration_ns > :min" --param s=be_get_req-\>be_map --param min=50000
Parameters are bound, never pasted into the SQL. Read-only unless --write.`,
    )
    .action((arg: string | undefined, o: { db: string; param?: Record<string, string>; format: RowsFormat; out?: string; list?: boolean; write?: boolean }) => {
      if (o.list) {
        const lines: string[] = [];
        for (const q of listNamedQueries()) {
          lines.push(`${q.name.padEnd(16)}${q.description}`);
          for (const p of q.params) lines.push(`${''.padEnd(18)}--param ${p.name}=${p.default === '' ? '…' : p.default}  ${p.doc}`);
        }
        writeOutput(lines.join('\n') + '\n', o.out);
        return;
      }
      if (!arg) throw new UsageError('give an SQL statement or a query name (xtrace query --list shows the names)');
      const given = o.param ?? {};
      let sql: string;
      let params: Record<string, string | number | bigint | null | Buffer>;
      const looksNamed = /^[a-z][a-z0-9-]*$/.test(arg);
      if (looksNamed) {
        const q = loadNamedQuery(arg);
        sql = q.sql;
        params = bindParams(q, given);
      } else {
        sql = arg;
        params = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, sqlValueOf(v)]));
      }
      if (!o.write) {
        // An older database gets the current views first (a schema upgrade, not a write of data).
        try {
          openDb(o.db).close();
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          if (/no such database|not an xtrace|is a directory|newer than/.test(e.message)) throw e;
        }
      }
      const db = openDb(o.db, o.write ? {} : { readonly: true });
      let text: string;
      try {
        const oneLine = sql.replace(/\s+/g, ' ').trim();
        const shown = oneLine.length > 160 ? oneLine.slice(0, 157) + '…' : oneLine;
        let stmt;
        try {
          stmt = db.prepare<Cell[]>(sql, { raw: false, bigints: true });
        } catch (e) {
          throw new InputError(`SQL: ${(e as Error).message} (in: ${shown})`);
        }
        if (!stmt.readonly && !o.write) throw new UsageError(`this statement writes to the database; add --write if that is what you want (in: ${shown})`);
        const bind = Object.keys(params).length ? [params] : [];
        try {
          if (!stmt.reader) {
            const r = stmt.run(...bind);
            text = `${r.changes} row${r.changes === 1 ? '' : 's'} changed\n`;
          } else {
            const raw = db.prepare<Cell[]>(sql, { raw: true, bigints: true });
            const rows = raw.all(...bind).map((r) => r.map((v) => (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)));
            text = ROWS_REPORTERS[o.format].render(raw.columns(), rows);
          }
        } catch (e) {
          if (e instanceof XtraceError) throw e;
          throw new InputError(`SQL: ${(e as Error).message} (in: ${shown})`);
        }
      } finally {
        db.close();
      }
      writeOutput(text, o.out);
    });

  p.command('compare')
    .description('Compare a candidate with a baseline per stage: exit 1 when a stage regressed (size above threshold and floor, and significant over runs)')
    .argument('<baseline>', 'a database, or a saved `xtrace report --format json`')
    .argument('<candidate>', 'a database, or a saved `xtrace report --format json`')
    .option('-p, --profile <name|file.json>', 'profile for database sides (default: the profile of a JSON side)')
    .addOption(new Option('--threshold <pct>', 'relative change that matters').default(0.05, '5%').argParser(parsePercent))
    .addOption(new Option('--floor <time>', 'absolute change that matters (ns, us, ms)').default(500, '500ns').argParser(parseDuration))
    .addOption(new Option('--alpha <p>', 'significance level').default(0.05).argParser(parseAlpha))
    .addOption(new Option('--format <format>', 'output format').choices(Object.keys(COMPARE_REPORTERS)).default('table'))
    .option('--out <file>', 'write the comparison to a file instead of stdout')
    .addOption(new Option('--warmup <n>', 'as in report (database sides)').default(0).argParser(parseCount))
    .addOption(new Option('--trim <fraction>', 'as in report (database sides)').default(0.1).argParser(parseFraction))
    .addOption(new Option('--trim-by <what>', 'as in report (database sides)').choices(['total', 'stage']).default('total'))
    .addOption(new Option('--offset <domain=ns>', 'as in report (database sides; repeatable)').argParser(collectOffset))
    .option('--fail-on-inconclusive', 'exit 1 also when a stage is inconclusive')
    .option('--allow-per-request', 'with fewer than 3 runs on a side, let the per-request test decide (it overstates significance)')
    .addOption(new Option('--seed <n>', 'bootstrap seed').default(1).argParser(parseCount))
    .addHelpText(
      'after',
      `
Examples:
  xtrace compare baseline.db candidate.db --profile linux-block
  xtrace compare baseline-report.json candidate.db --format markdown >> "$GITHUB_STEP_SUMMARY"
  xtrace compare base.json cand.json --threshold 10% --floor 2us --format junit --out compare.xml
Verdict per stage: regressed / improved (|delta| above --threshold and --floor, Welch t-test over run
means significant at --alpha), inconclusive (large enough but not significant, or fewer than 3 runs a
side), same. Exit 0: nothing regressed; 1: something regressed; 2: error.`,
    )
    .action(
      (
        baseline: string,
        candidate: string,
        o: {
          profile?: string;
          threshold: number;
          floor: number;
          alpha: number;
          format: CompareFormat;
          out?: string;
          warmup: number;
          trim: number;
          trimBy: 'total' | 'stage';
          offset?: Map<string, bigint>;
          failOnInconclusive?: boolean;
          allowPerRequest?: boolean;
          seed: number;
        },
      ) => {
        const sideOpts = { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy, ...(o.offset ? { offsets: o.offset } : {}) };
        const [a, b] = loadSides(baseline, candidate, { ...sideOpts, ...(o.profile ? { profile: o.profile } : {}) });
        const c = compare(a, b, { threshold: o.threshold, floorNs: o.floor, alpha: o.alpha, allowPerRequest: !!o.allowPerRequest, seed: o.seed, resamples: 2000 });
        writeOutput(COMPARE_REPORTERS[o.format].render(c, o.out ? new Chalk({ level: 0 }) : outColor), o.out);
        process.exitCode = c.counts.regressed > 0 || (o.failOnInconclusive && c.counts.inconclusive > 0) ? 1 : 0;
      },
    );

  p.command('simulate')
    .description('Write simulated Xen storage traces that follow shared/specs/xen-probes.md, plus their ground truth (truth.json)')
    .addOption(new Option('--backend <name>', 'back end').choices([...BACKENDS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output directory (created; must be empty)')
    .addOption(new Option('--runs <n>', 'runs').default(10).argParser(parsePositive))
    .addOption(new Option('--requests <n>', 'requests per run').default(100).argParser(parsePositive))
    .addOption(new Option('--depth <n>', 'queue depth (fio threads), 1 to 32').default(1).argParser(parsePositive))
    .addOption(new Option('--seed <n>', 'random seed').default(1).argParser(parseCount))
    .option('--no-noise', 'no other guests, no unrelated lines')
    .option('--lost-events', 'drop a window of kernel events in run 3 (with the kernel\'s LOST EVENTS line)')
    .option('--wrap', 'make the userspace ring buffer wrap (oldest records lost)')
    .option('--no-guest-block', 'no syscalls and block tracepoints in the guest trace')
    .addOption(new Option('--xtbuf-form <form>', 'userspace dump form').choices(['binary', 'text']).default('binary'))
    .addOption(new Option('--scale <stage=factor>', 'multiply one assumed stage latency (e.g. be_submit->be_bio_done=1.2), all else drawn the same: a controlled regression (repeatable)').argParser(collectScale))
    .addHelpText(
      'after',
      `
Examples:
  xtrace simulate --backend blkback --out sim/
  xtrace simulate --backend blktap2 --depth 4 --lost-events --wrap --seed 7 --out sim-tap2/
Then ingest each file with the domain printed, and report:
  xtrace ingest --db sim.db --domain domU sim/guest.trace
  xtrace ingest --db sim.db --domain dom0 sim/dom0.trace
  xtrace report --db sim.db --profile xen-blkback
Stage latencies are documented assumptions (src/simulate/assumptions.ts), not measurements.`,
    )
    .action((o: { backend: Backend; out: string; runs: number; requests: number; depth: number; seed: number; noise: boolean; lostEvents?: boolean; wrap?: boolean; guestBlock: boolean; xtbufForm: 'binary' | 'text'; scale?: Record<string, number> }) => {
      let r: ReturnType<typeof simulate>;
      try {
        r = simulate({
          backend: o.backend,
          out: o.out,
          runs: o.runs,
          requests: o.requests,
          depth: o.depth,
          seed: o.seed,
          noise: o.noise,
          lostEvents: !!o.lostEvents,
          wrap: !!o.wrap,
          guestBlock: o.guestBlock,
          xtbufForm: o.xtbufForm,
          ...(o.scale ? { scale: o.scale } : {}),
        });
      } catch (e) {
        if (e instanceof XtraceError) throw e;
        throw new UsageError((e as Error).message);
      }
      for (const f of r.files) process.stdout.write(`${f.path}\tdomain ${f.domain}\n`);
      process.stdout.write(`${r.truthPath}\tground truth: ${r.requests} requests, ${r.complete} complete\n`);
    });

  p.command('profiles')
    .description('List the built-in profiles, or print one as JSON (a starting point for your own)')
    .option('--show <name>', 'print this profile as JSON')
    .action((o: { show?: string }) => {
      if (o.show) {
        const prof = BUILTIN_PROFILES[o.show];
        if (!prof) throw new UsageError(`unknown profile "${o.show}": built-in profiles are ${builtinProfileNames().join(', ')}`);
        process.stdout.write(JSON.stringify(prof, null, 2) + '\n');
        return;
      }
      for (const n of builtinProfileNames()) {
        const p = loadProfile(n);
        process.stdout.write(`${n.padEnd(14)}${p.description}\n${' '.repeat(14)}${p.points.map((x) => (x.optional ? `[${x.name}]` : x.name)).join(' → ')}\n`);
      }
    });
  return p;
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

function collectScale(v: string, prev: Record<string, number> | undefined): Record<string, number> {
  const m = /^([A-Za-z0-9_]+->[A-Za-z0-9_]+)=(\d*\.?\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected STAGE=FACTOR, e.g. be_submit->be_bio_done=1.2');
  return { ...(prev ?? {}), [m[1]!]: Number(m[2]) };
}

function collectParam(v: string, prev: Record<string, string> | undefined): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.slice(0, i))) throw new InvalidArgumentError('expected KEY=VALUE, e.g. run=3');
  return { ...(prev ?? {}), [v.slice(0, i)]: v.slice(i + 1) };
}

function parsePercent(v: string): number {
  const m = /^(\d*\.?\d+)(%?)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected a percentage such as 5% (or a fraction such as 0.05)');
  const x = Number(m[1]) / (m[2] ? 100 : 1);
  if (!(x >= 0) || (!m[2] && x > 1)) throw new InvalidArgumentError('expected a percentage such as 5% (or a fraction such as 0.05)');
  return x;
}

function parseDuration(v: string): number {
  const m = /^(\d*\.?\d+)\s*(ns|us|µs|ms|s)?$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected a duration such as 500ns, 2us, 1.5ms');
  const unit = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'ns') as 'ns'];
  return Number(m[1]) * unit;
}

function parseAlpha(v: string): number {
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError('expected a probability between 0 and 1, e.g. 0.05');
  return x;
}

function parsePositive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

function parseFraction(v: string): number {
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !(n >= 0 && n < 0.5)) throw new InvalidArgumentError('expected a fraction in [0, 0.5), e.g. 0.1');
  return n;
}

function collectOffset(v: string, prev: Map<string, bigint> | undefined): Map<string, bigint> {
  const m = /^([A-Za-z0-9_.-]+)=([+-]?\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected DOMAIN=NANOSECONDS, e.g. dom0=-52000123456789 (t_reference = t_dom0 + ns)');
  const out = new Map(prev ?? []);
  if (out.has(m[1]!)) throw new InvalidArgumentError(`offset of ${m[1]} given twice`);
  out.set(m[1]!, BigInt(m[2]!));
  return out;
}

async function ingestCommand(files: string[], o: { db: string; domain: string; tscHz?: number; quiet?: boolean; json?: boolean }): Promise<number> {
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('standard input (-) can be given once');
  const db: Db = openDb(o.db, { create: true });
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  // Test hook: a tiny database size limit makes SQLite fail exactly as on a full disk.
  const maxPages = Number(process.env['XTRACE_TEST_MAX_PAGE_COUNT'] ?? 0);
  if (maxPages > 0) db.pragma(`max_page_count = ${maxPages}`);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const results: IngestResult[] = [];
  let failed = 0;
  const abortAfter = Number(process.env['XTRACE_TEST_KILL_AFTER_EVENTS'] ?? 0);
  const testSignal = process.env['XTRACE_TEST_SIGNAL'] ?? 'SIGKILL';
  try {
    for (const f of files) {
      if (ac.signal.aborted) break;
      const showProgress = !o.quiet && process.stderr.isTTY === true;
      try {
        const r = await ingestFile(
          db,
          f === '-' ? { path: '-', stream: process.stdin } : { path: f },
          {
            domain: o.domain,
            ...(o.tscHz !== undefined ? { tscHz: o.tscHz } : {}),
            signal: ac.signal,
            ...(showProgress ? { onProgress: progress(f) } : {}),
            // Test hook (interruption tests): the process signals itself after N events.
            ...(abortAfter > 0 ? { onEvent: onceAfter(abortAfter, () => process.kill(process.pid, testSignal as NodeJS.Signals)) } : {}),
          },
        );
        if (showProgress) process.stderr.write('\r\x1b[K');
        results.push(r);
        if (!o.quiet) process.stderr.write(summaryLine(r) + '\n');
      } catch (e) {
        if (showProgress) process.stderr.write('\r\x1b[K');
        if (e instanceof InterruptedError) throw e;
        if (!(e instanceof InputError)) throw e;
        failed++;
        process.stderr.write(err.red('error: ') + e.message + '\n');
      }
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    db.close();
  }
  if (o.json) {
    const rows = results.map((r) => ({
      path: r.path,
      status: r.status,
      source_id: r.sourceId,
      format: r.format,
      variant: r.variant,
      domain: r.domain,
      clock: r.clock,
      has_time_base: r.hasTimeBase,
      bytes: r.bytes,
      lines: r.lines,
      events: r.events,
      unparsed_lines: r.unparsedLines,
      lost_events: r.lostEvents,
      seconds: Number(r.seconds.toFixed(3)),
      diagnostics: r.diagnostics.map((d) => ({ code: d.code, severity: d.severity, count: d.count, first_line: d.firstLine, detail: d.detail })),
    }));
    process.stdout.write(JSON.stringify({ version: 1, db: o.db, files: rows, failed, peak_rss_bytes: process.resourceUsage().maxRSS * 1024 }, null, 2) + '\n');
  }
  return failed > 0 ? 2 : 0;
}

function onceAfter(n: number, fn: () => void): (count: number) => void {
  let fired = false;
  return (count) => {
    if (!fired && count >= n) {
      fired = true;
      fn();
    }
  };
}

function summaryLine(r: IngestResult): string {
  if (r.status === 'duplicate') return `${r.path}: already ingested as source ${r.sourceId} (same sha256); skipped`;
  const loss = r.unparsedLines > 0 || r.lostEvents > 0;
  const paint = loss ? err.yellow : err.green;
  const mbs = r.seconds > 0 ? ` (${(r.bytes / 1e6 / r.seconds).toFixed(0)} MB/s)` : '';
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

async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (e instanceof InterruptedError) {
      process.stderr.write(err.red('interrupted: ') + e.message + '\n');
      process.exitCode = 2;
      return;
    }
    if (e instanceof XtraceError) {
      process.stderr.write(err.red('error: ') + e.message + '\n');
      process.exitCode = 2;
      return;
    }
    process.stderr.write(err.red('internal error: ') + ((e as Error)?.message ?? String(e)) + ' (set XTRACE_DEBUG=1 for the stack; please report it)\n');
    if (process.env['XTRACE_DEBUG']) process.stderr.write(String((e as Error)?.stack) + '\n');
    process.exitCode = 2;
  }
}

await main(process.argv);
