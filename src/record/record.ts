/**
 * `xtrace record`'s recording: a tracefs instance of its own set up from the plan, the command
 * run N times between `xtrace: run=<n> begin|end` markers, the buffer read to a file after each
 * run (never while the workload runs: a reader of trace_pipe competes with the workload for the
 * CPU and perturbs what it measures), overflow detected per run (with the buffer size that would
 * have held it, and a retry at that size when asked), and everything undone on success, on error
 * and on SIGINT/SIGTERM. It neither reads argv nor exits: the CLI ingests and reports the files.
 */
import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { InputError, InterruptedError } from '../core/errors.js';
import type { Profile } from '../profiles/index.js';
import { clocksOf, planRecording, runSteps, type RecordPlan } from './plan.js';
import {
  applySteps,
  bufferStats,
  closeTracefs,
  directoryIo,
  doSteps,
  openTracefs,
  overflowOf,
  readBuffer,
  undoSteps,
  type Overflow,
  type TracefsIo,
  type TracefsMount,
} from './tracefs.js';

export interface RecordOptions {
  profile: Profile;
  /** The workload: program and arguments. */
  command: readonly string[];
  runs: number;
  /** Ring buffer per CPU, KB. */
  bufferKb: number;
  clock: string;
  /** Run again, with the buffer size that would have held it, a run that overflowed. */
  autoBuffer: boolean;
  /** Where the run files go (`run-<n>.txt`). */
  outDir: string;
  /** Progress and warnings, one line each. */
  onMessage?: (line: string) => void;
}

export interface RecordedRun {
  label: string;
  file: string;
  /** Times the workload ran for this run (more than 1: retried with a larger buffer). */
  attempts: number;
  /** Events lost in the kept attempt (null: none). */
  overflow: Overflow | null;
}

export interface Recording {
  root: string;
  plan: RecordPlan;
  runs: RecordedRun[];
}

/** Attempts of one run with --auto-buffer (the first and two larger buffers). */
const MAX_ATTEMPTS = 3;

/** The instance name of this process. */
export function instanceName(): string {
  return `xtrace-${process.pid}`;
}

/** Records; throws InputError (refusal, workload failure) or InterruptedError, tracefs restored either way. */
export async function record(o: RecordOptions): Promise<Recording> {
  const say = o.onMessage ?? (() => {});
  const mount = openTracefs();
  const io = directoryIo(mount.root);
  let undo: ReturnType<typeof applySteps> = [];
  let child: ReturnType<typeof spawn> | null = null;
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    child?.kill(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const plan = planRecording(o.profile, io.read('available_events'), { instanceName: instanceName(), bufferKb: o.bufferKb, clock: o.clock }, clocksOf(io.read('trace_clock')).clocks);
    for (const m of plan.missing) say(`no ${m.event}: ${m.consequence}`);
    for (const n of plan.instrumented) say(n);
    if (plan.events.length === 0) throw new InputError(`${mount.root}/available_events: this kernel has none of the events profile ${o.profile.name} needs; nothing to record`);
    if (!io.exists('instances')) throw new InputError(`${mount.root}/instances: this kernel has no tracefs instances (Linux 3.10 or later); record with samples/capture-linux-block.sh instead`);
    undo = applySteps(io, plan.setup);
    say(`recording in ${mount.root}/${plan.instance}: ${plan.events.length} events, ${o.bufferKb} KB per CPU, clock ${o.clock}`);
    const runs: RecordedRun[] = [];
    let bufferKb = o.bufferKb;
    for (let n = 1; n <= o.runs; n++) {
      const label = String(n);
      const file = join(o.outDir, `run-${label}.txt`);
      let overflow: Overflow | null = null;
      let attempts = 0;
      for (;;) {
        attempts++;
        if (interrupted) throw new InterruptedError(`${interrupted} before run ${label}: tracefs restored, nothing ingested`);
        const steps = runSteps(plan, label);
        doSteps(io, steps.before);
        const status = await runWorkload(o.command, (c) => (child = c));
        child = null;
        doSteps(io, steps.after);
        if (interrupted) throw new InterruptedError(`${interrupted} in run ${label}: tracefs restored, nothing ingested`);
        if (status !== 0) throw new InputError(`run ${label}: ${o.command.join(' ')} exited with ${status}; nothing ingested (tracefs restored)`);
        await readBuffer(io, plan.instance, file);
        overflow = overflowOf(bufferStats(io, plan.instance), bufferKb);
        if (!overflow) break;
        const fits = overflow.neededKb * 1024 * bufferStats(io, plan.instance).length <= totalmem() / 4;
        if (!o.autoBuffer || attempts >= MAX_ATTEMPTS || !fits) {
          say(
            `run ${label} overflowed the buffer: ${overflow.lostEvents} events lost; --buffer-kb ${overflow.neededKb} would have held it` +
              (o.autoBuffer ? (fits ? ` (kept after ${attempts} attempts)` : ' (more than a quarter of memory: not retried)') : ' (or --auto-buffer)'),
          );
          break;
        }
        say(`run ${label} overflowed the buffer (${overflow.lostEvents} events lost): again with --buffer-kb ${overflow.neededKb}`);
        bufferKb = overflow.neededKb;
        io.write(`${plan.instance}/buffer_size_kb`, String(bufferKb));
      }
      runs.push({ label, file, attempts, overflow });
      say(`run ${label}: recorded${overflow ? ` (${overflow.lostEvents} events lost)` : ''}`);
    }
    return { root: mount.root, plan, runs };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const f of restore(io, undo, mount)) say(`could not restore: ${f}`);
  }
}

/** Undoes the setup (the instance's writes, then its removal) and unmounts what was mounted. */
function restore(io: TracefsIo, undo: Parameters<typeof undoSteps>[1], mount: TracefsMount): string[] {
  const failed = undoSteps(io, undo);
  const u = closeTracefs(mount);
  return u ? [...failed, u] : failed;
}

/** Runs the workload with the terminal's stdin and stderr, its stdout on our stderr (stdout carries the report); resolves its exit status. */
function runWorkload(command: readonly string[], started: (c: ReturnType<typeof spawn>) => void): Promise<number | string> {
  return new Promise((resolve, reject) => {
    const c = spawn(command[0]!, command.slice(1), { stdio: ['inherit', process.stderr, 'inherit'] });
    started(c);
    c.once('error', (e: NodeJS.ErrnoException) => reject(new InputError(`cannot run ${command[0]}: ${e.code === 'ENOENT' ? 'no such program' : e.message}`)));
    c.once('exit', (code, signal) => resolve(signal ?? code ?? 0));
  });
}
