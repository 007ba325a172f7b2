/** `xtrace record`: the options → a recording in a tracefs instance (src/record) → ingest of each run's file → the report, as `xtrace report` prints it. */
import { Command, Option } from 'commander';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIngestSession } from '../../ingest/session.js';
import { analyse } from '../../pipeline/analyse.js';
import { figuresOf } from '../../pipeline/figures.js';
import { loadProfile, type Profile } from '../../profiles/index.js';
import { REPORTERS, type Reporter, type ReporterName } from '../../report/reporters.js';
import { openDb } from '../../db/db.js';
import { planRecording, runSteps, shellCommand, shellQuote } from '../../record/plan.js';
import { instanceName, record } from '../../record/record.js';
import { findTracefs, TRACEFS_CANDIDATES } from '../../record/tracefs.js';
import { dataColor, errColor, writeOutput } from '../output.js';
import { hostname } from 'node:os';
import { dbOption, metaOption, methodOf, methodOptions, outputOptions, parseDomain, parsePositive, profileOption, type MethodFlags } from '../options.js';

interface RecordFlags extends MethodFlags {
  meta?: Record<string, string>;
  profile: string;
  db: string;
  runs: number;
  bufferKb: number;
  clock: string;
  domain: string;
  autoBuffer?: boolean;
  report: boolean;
  dryRun?: boolean;
  format: ReporterName;
  out?: string;
}

export function recordCommand(): Command {
  const cmd = new Command('record')
    .description("Record a workload with the kernel events a profile needs, in xtrace's own tracefs instance (root), ingest it and print the breakdown")
    .argument('<command...>', 'the workload, after --: program and arguments');
  profileOption(cmd, { required: true });
  dbOption(cmd, 'database the recording is ingested into');
  cmd
    .addOption(new Option('--runs <n>', 'run the command N times, each between run markers').default(1).argParser(parsePositive))
    .addOption(new Option('--buffer-kb <kb>', 'ring buffer per CPU, KB').default(4096).argParser(parsePositive))
    .option('--clock <clock>', 'trace_clock of the instance (local, global, mono, boot …)', 'local')
    .addOption(new Option('--domain <name>', 'clock domain the recording is ingested as').default('default').argParser(parseDomain))
    .option('--auto-buffer', 'run again, with the buffer that would have held it, a run that overflowed the buffer')
    .option('--no-report', 'record and ingest only')
    .option('--dry-run', 'print the tracefs commands it would run, and run nothing (no root needed)');
  methodOptions(cmd);
  metaOption(cmd);
  outputOptions(cmd, Object.keys(REPORTERS), 'the report');
  return cmd
    .addHelpText(
      'after',
      `
Examples:
  xtrace record -p linux-block --runs 10 --db r.db -- fio job.fio
  xtrace record -p linux-block --runs 3 --filter comm='fio*' -- fio --name=x --filename=F --direct=1 --rw=randread --bs=4k --ioengine=psync --size=64m --number_ios=200
  xtrace record -p linux-block --auto-buffer -- ./my-benchmark      # a run that overflows is run again with a buffer that holds it
  xtrace record -p linux-block --dry-run -- fio job.fio              # the tracefs commands, for recording by other means
Needs root and tracefs (mounted on /sys/kernel/tracing if it is not). Records in its own instance
(instances/xtrace-<pid>): the global buffer and other tools are neither disturbed nor disturbing;
the instance is removed on success, on error and on Ctrl-C, which restores everything it changed.
Each run is COMMAND between 'xtrace: run=<n> begin|end' markers. The buffer is read after each run,
never while the workload runs: reading trace_pipe during the run competes with the workload and
perturbs it (a trace_pipe capture doubled rq_complete->syscall_exit on the same workload). So a run
must fit the buffer: one that overflows is named with the --buffer-kb that would have held it.
The command's standard output goes to standard error: standard output carries the report.`,
    )
    .action(async (command: string[], o: RecordFlags) => {
      const profile = loadProfile(o.profile);
      if (o.dryRun) return writeOutput(dryRun(profile, command, o), undefined);
      const dir = mkdtempSync(join(tmpdir(), 'xtrace-record-'));
      try {
        const rec = await record({
          profile,
          command,
          runs: o.runs,
          bufferKb: o.bufferKb,
          clock: o.clock,
          autoBuffer: !!o.autoBuffer,
          outDir: dir,
          onMessage: (line) => process.stderr.write(`${line}\n`),
        });
        await ingestRuns(rec.runs.map((r) => r.file), o);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if (o.report) report(profile, o);
    });
}

/** Each run's file into the database, one summary line each on stderr. */
async function ingestRuns(files: string[], o: RecordFlags): Promise<void> {
  const session = openIngestSession(o.db);
  try {
    for (const [i, f] of files.entries()) {
      const r = await session.ingest({ path: f }, { domain: o.domain });
      const lost = r.lostEvents > 0 || r.unparsedLines > 0;
      process.stderr.write(`run ${i + 1}: ` + (lost ? errColor.yellow : errColor.green)(`${r.events} events, ${r.unparsedLines} lines not understood, ${r.lostEvents} events lost`) + ` → ${o.db} (source ${r.sourceId})\n`);
    }
  } finally {
    session.close();
  }
}

/** The report of the database, as `xtrace report` prints it. */
function report(profile: Profile, o: RecordFlags): void {
  const db = openDb(o.db);
  let text: string;
  try {
    const a = analyse(db, { profile, ...methodOf(o, profile), meta: o.meta ?? {}, host: hostname() });
    const reporter: Reporter = REPORTERS[o.format];
    text = reporter.render(a.model, dataColor(o.out), reporter.figures ? figuresOf(db, a) : undefined);
  } finally {
    db.close();
  }
  writeOutput(text, o.out);
}

/** The tracefs commands of a recording, as a shell script; available_events is read when it can be. */
function dryRun(profile: Profile, command: string[], o: RecordFlags): string {
  const found = findTracefs();
  let available: string | null = null;
  try {
    available = found ? readFileSync(join(found, 'available_events'), 'utf8') : null;
  } catch {
    available = null;
  }
  const root = found ?? TRACEFS_CANDIDATES[0];
  const plan = planRecording(profile, available, { instanceName: instanceName(), bufferKb: o.bufferKb, clock: o.clock });
  const sh = (steps: Parameters<typeof shellCommand>[0][]): string[] => steps.map((s) => shellCommand(s, root));
  const lines = [
    `# xtrace record --dry-run: profile ${profile.name}, ${o.runs} run(s), ${o.bufferKb} KB per CPU, clock ${o.clock}`,
    available === null ? `# ${root}/available_events not readable: every event the profile names is listed, without its system` : `# events from ${root}/available_events`,
    ...plan.missing.map((m) => `# no ${m.event}: ${m.consequence}`),
    ...plan.instrumented.map((n) => `# ${n}`),
    ...(found ? [] : [`mount -t tracefs nodev ${root}`]),
    ...sh(plan.setup),
  ];
  for (let n = 1; n <= o.runs; n++) {
    const r = runSteps(plan, n);
    lines.push(...sh(r.before), command.map(shellQuote).join(' '), ...sh(r.after), `cat ${shellQuote(`${root}/${plan.instance}/trace`)} > run-${n}.txt`);
  }
  lines.push(...sh(plan.teardown), ...(found ? [] : [`umount ${root}`]));
  lines.push(`xtrace ingest --db ${shellQuote(o.db)} --domain ${o.domain} ${Array.from({ length: o.runs }, (_, i) => `run-${i + 1}.txt`).join(' ')}`);
  return lines.join('\n') + '\n';
}
