/**
 * The kernel side of `xtrace record`: finding (or mounting) tracefs, carrying out the steps of a
 * plan (plan.ts) while remembering how to undo each of them, reading an instance's buffer to a
 * file, and its per-CPU statistics (how many events the ring buffer overwrote, and the buffer size
 * that would have held them). All file access goes through `TracefsIo`, so the same code runs on
 * the real tracefs and on a fake directory in tests (no root needed there).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InputError } from '../core/errors.js';
import { restoreSteps, type TracefsStep } from './plan.js';

/** File operations on a tracefs tree, paths relative to `root`. */
export interface TracefsIo {
  readonly root: string;
  read(path: string): string;
  /** `echo value > path` (`>>` with append): one write of `value` and a newline; an empty value only opens (O_TRUNC clears). */
  write(path: string, value: string, append?: boolean): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  exists(path: string): boolean;
  list(path: string): string[];
}

/** TracefsIo on a directory through node:fs (the real tracefs, or a plain directory). */
export function directoryIo(root: string): TracefsIo {
  const abs = (p: string): string => join(root, p);
  return {
    root,
    read: (p) => readFileSync(abs(p), 'utf8'),
    write(p, value, append) {
      const fd = openSync(abs(p), append ? 'a' : 'w');
      try {
        if (value !== '') writeSync(fd, `${value}\n`);
      } finally {
        closeSync(fd);
      }
    },
    mkdir: (p) => mkdirSync(abs(p)),
    rmdir: (p) => rmdirSync(abs(p)),
    exists: (p) => existsSync(abs(p)),
    list: (p) => readdirSync(abs(p)),
  };
}

/** Where tracefs is, and whether this process mounted it (then it unmounts it when done). */
export interface TracefsMount {
  root: string;
  mountedByUs: boolean;
}

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;

/** A mounted tracefs among the usual places, or null. */
export function findTracefs(): string | null {
  return TRACEFS_CANDIDATES.find((r) => existsSync(join(r, 'available_events'))) ?? null;
}

/** Finds tracefs or mounts it on /sys/kernel/tracing; refuses (InputError) without root or tracefs. */
export function openTracefs(): TracefsMount {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new InputError('xtrace record needs root: tracefs (/sys/kernel/tracing) is writable by root only; run it as root, or use --dry-run to print the tracefs commands');
  }
  const found = findTracefs();
  if (found) return { root: found, mountedByUs: false };
  const root = TRACEFS_CANDIDATES[0];
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', root], { encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(join(root, 'available_events'))) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n')[0];
    throw new InputError(`${root}: no tracefs, and mounting it failed${why ? ` (${why})` : ''}: this kernel needs CONFIG_FTRACE (tracefs), or use --dry-run to print the tracefs commands`, root);
  }
  return { root, mountedByUs: true };
}

/** Unmounts what openTracefs mounted; an error is returned, not thrown (teardown goes on). */
export function closeTracefs(m: TracefsMount): string | null {
  if (!m.mountedByUs) return null;
  const r = spawnSync('umount', [m.root], { encoding: 'utf8' });
  return r.status === 0 ? null : `umount ${m.root}: ${(r.stderr || r.error?.message || '').trim()}`;
}

/**
 * Carries out steps in order and returns their undo, latest first: a write's undo puts back the
 * content the file had (restoreSteps), a mkdir's is its rmdir. On a failing step the steps done so
 * far are undone and the error is thrown.
 */
export function applySteps(io: TracefsIo, steps: readonly TracefsStep[], undo: TracefsStep[] = []): TracefsStep[] {
  const restored = new Set<string>();
  try {
    for (const s of steps) {
      if (s.op === 'write') {
        // The first write to a file decides its undo (its content as found).
        if (!restored.has(s.path) && io.exists(s.path)) undo.unshift(...restoreSteps(s.path, io.read(s.path)));
        restored.add(s.path);
        io.write(s.path, s.value, s.append);
      } else if (s.op === 'mkdir') {
        io.mkdir(s.path);
        undo.unshift({ op: 'rmdir', path: s.path });
      } else {
        io.rmdir(s.path);
      }
    }
  } catch (e) {
    undoSteps(io, undo);
    throw e;
  }
  return undo;
}

/** Carries out steps with no undo (the steps of a run, inside the instance its teardown removes). */
export function doSteps(io: TracefsIo, steps: readonly TracefsStep[]): void {
  for (const s of steps) {
    if (s.op === 'write') io.write(s.path, s.value, s.append);
    else if (s.op === 'mkdir') io.mkdir(s.path);
    else io.rmdir(s.path);
  }
}

/** Carries out undo steps, each whatever the others did; returns what failed (one line each). */
export function undoSteps(io: TracefsIo, undo: readonly TracefsStep[]): string[] {
  const failed: string[] = [];
  for (const s of undo) {
    try {
      if (s.op === 'write') io.write(s.path, s.value, s.append);
      else if (s.op === 'rmdir') io.rmdir(s.path);
      else io.mkdir(s.path);
    } catch (e) {
      failed.push(`${s.op} ${join(io.root, s.path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return failed;
}

/** Streams an instance's `trace` (read while tracing is off) to a file. */
export async function readBuffer(io: TracefsIo, instance: string, out: string): Promise<void> {
  await pipeline(createReadStream(join(io.root, instance, 'trace')), createWriteStream(out));
}

/** One CPU's ring buffer after a run (per_cpu/cpuN/stats). */
export interface CpuBufferStats {
  cpu: number;
  /** Events in the buffer now. */
  entries: number;
  /** Events overwritten by newer ones (the buffer was full). */
  overrun: number;
  /** Events refused (non-overwrite mode) or lost to a commit overrun. */
  dropped: number;
}

export function parseCpuStats(cpu: number, text: string): CpuBufferStats {
  const num = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { cpu, entries: num('entries'), overrun: num('overrun'), dropped: num('dropped events') + num('commit overrun') };
}

export function bufferStats(io: TracefsIo, instance: string): CpuBufferStats[] {
  const dir = `${instance}/per_cpu`;
  return io
    .list(dir)
    .filter((d) => /^cpu\d+$/.test(d))
    .map((d) => parseCpuStats(Number(d.slice(3)), io.read(`${dir}/${d}/stats`)))
    .sort((a, b) => a.cpu - b.cpu);
}

/** A run that did not fit the buffer: events lost, and the per-CPU size that would have held it. */
export interface Overflow {
  lostEvents: number;
  bufferKb: number;
  neededKb: number;
}

/**
 * Events lost in a run, and the buffer_size_kb that would have held it. The estimate: a CPU that
 * lost events had a full buffer, so `entries` events took `bufferKb` KB (bytes per event measured
 * on this very workload); the CPU wrote `entries + overrun + dropped` events, which need that many
 * times as much, plus 25 % headroom (runs vary), rounded up to a whole MB. The busiest CPU decides
 * (buffer_size_kb is per CPU). Null when nothing was lost.
 */
export function overflowOf(stats: readonly CpuBufferStats[], bufferKb: number): Overflow | null {
  let lost = 0;
  let needed = bufferKb;
  for (const s of stats) {
    const cpuLost = s.overrun + s.dropped;
    if (cpuLost === 0) continue;
    lost += cpuLost;
    const kbPerEvent = bufferKb / Math.max(1, s.entries);
    needed = Math.max(needed, Math.ceil((((s.entries + cpuLost) * kbPerEvent * 1.25) / 1024)) * 1024);
  }
  return lost === 0 ? null : { lostEvents: lost, bufferKb, neededKb: needed };
}
