/**
 * Small hand-made ftrace texts for the report tests: synchronous Linux block requests whose every
 * time is known (profile linux-block), run markers, lost-events lines.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One ftrace event line: time in µs after 1000 s. */
export function ev(us: number, task: string, cpu: number, body: string): string {
  const ts = (1000 + us / 1e6).toFixed(6);
  return `${task.padStart(22)} [${String(cpu).padStart(3, '0')}] ..... ${ts.padStart(12)}: ${body}`;
}

export const mark = (us: number, what: string): string => ev(us, 'bash-100', 0, `tracing_mark_write: xtrace: run=${what}`);

/** A `CPU:N [LOST M EVENTS]` line, placed at `us` (sorted with the events). */
export const lost = (us: number, n: number, cpu = 0): string => `@${us}@CPU:${cpu} [LOST ${n} EVENTS]`;

export interface Req {
  /** Start (syscall entry), µs. */
  t0: number;
  /** `R` (pread64) or `W` (pwrite64). */
  op?: 'R' | 'W';
  sector: number;
  /** 512-byte sectors (default 8: 4096 bytes). */
  nsec?: number;
  pid?: number;
  /** µs of each stage: enter→bio, bio→insert, insert→issue, issue→irq, irq→complete, complete→exit (default 2 1 1 40 1 5). */
  stages?: [number, number, number, number, number, number];
  /** Leave out these points' events (e.g. ['irq']). */
  without?: string[];
}

export const POINTS = ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'syscall_exit'] as const;

/** The events of one request of the linux-block profile, every time known. */
export function request(r: Req): string[] {
  const op = r.op ?? 'R';
  const nsec = r.nsec ?? 8;
  const pid = r.pid ?? 300;
  const fio = `fio-${pid}`;
  const st = r.stages ?? [2, 1, 1, 40, 1, 5];
  const t = [r.t0];
  for (const d of st) t.push(t[t.length - 1]! + d);
  const sys = op === 'R' ? 'pread64' : 'pwrite64';
  const bytes = nsec * 512;
  const blk = `254,0 ${op}`;
  const lines: [string, string][] = [
    ['syscall_enter', ev(t[0]!, fio, 0, `sys_${sys}(fd: 3, buf: 0x7f0000, count: 0x${bytes.toString(16)}, pos: 0x0)`)],
    ['bio_queue', ev(t[1]!, fio, 0, `block_bio_queue: ${blk} ${r.sector} + ${nsec} [fio]`)],
    ['rq_insert', ev(t[2]!, fio, 0, `block_rq_insert: ${blk} ${bytes} () ${r.sector} + ${nsec} be,0,4 [fio]`)],
    ['rq_issue', ev(t[3]!, fio, 0, `block_rq_issue: ${blk} ${bytes} () ${r.sector} + ${nsec} be,0,4 [fio]`)],
    ['irq', ev(t[4]!, '<idle>-0', 1, 'irq_handler_entry: irq=36 name=virtio1-req.0')],
    ['rq_complete', ev(t[5]!, '<idle>-0', 1, `block_rq_complete: ${blk} () ${r.sector} + ${nsec} be,0,4 [0]`)],
    ['syscall_exit', ev(t[6]!, fio, 0, `sys_${sys} -> 0x${bytes.toString(16)}`)],
  ];
  return lines.filter(([p]) => !r.without?.includes(p)).map(([, l]) => l);
}

const tsOf = (l: string): number => (l.startsWith('@') ? Number(l.split('@')[1]) : (Number(/ (\d+\.\d{6}):/.exec(l)![1]) - 1000) * 1e6);

/** An ftrace text file: lines sorted by time (stable), lost-events lines in their place. */
export function trace(lines: string[]): string {
  const sorted = [...lines].sort((a, b) => tsOf(a) - tsOf(b));
  return '# tracer: nop\n#\n' + sorted.map((l) => (l.startsWith('@') ? l.split('@')[2]! : l)).join('\n') + '\n';
}

export function writeTrace(dir: string, name: string, lines: string[]): string {
  const f = join(dir, name);
  writeFileSync(f, trace(lines));
  return f;
}

/** `n` requests `every` µs apart (default 100) from `t0`, one task: each must end before the next begins. */
export function requests(t0: number, n: number, r: Omit<Req, 't0' | 'sector'> & { sector?: number; every?: number } = {}): string[] {
  const { every = 100, ...req } = r;
  return Array.from({ length: n }, (_, k) => request({ ...req, t0: t0 + every * k, sector: (r.sector ?? 1000) + 64 * k })).flat();
}
