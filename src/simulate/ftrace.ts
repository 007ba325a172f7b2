/**
 * Kernel ftrace `trace` file text, laid out exactly as the kernel prints it (and as the real
 * captures in samples/linux-block-default show): the nop tracer header with the irq-info flags
 * legend, then `%16s-%-7d [%03d] %5s %5lu.%06lu: event: payload`.
 */

/** The header the kernel prints for `tracer: nop` with irq-info, without record-tgid. */
export function ftraceHeader(entries: number, cpus: number): string[] {
  return [
    '# tracer: nop',
    '#',
    `# entries-in-buffer/entries-written: ${entries}/${entries}   #P:${cpus}`,
    '#',
    '#                                _-----=> irqs-off/BH-disabled',
    '#                               / _----=> need-resched',
    '#                              | / _---=> hardirq/softirq',
    '#                              || / _--=> preempt-depth',
    '#                              ||| / _-=> migrate-disable',
    '#                              |||| /     delay',
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
    '#              | |         |   |||||     |         |',
  ];
}

/** One event line; `ns` is the local timestamp (printed truncated to µs). */
export function ftraceLine(comm: string, pid: number, cpu: number, flags: string, ns: number, body: string): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns - sec * 1e9) / 1000);
  return `${comm.padStart(16)}-${String(pid).padEnd(7)} [${String(cpu).padStart(3, '0')}] ${flags} ${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}: ${body}`;
}

/** The kernel's rendering of a syscall argument printed with %#lx: `0` for zero, else `0x…`. */
export function hexArg(v: number): string {
  return v === 0 ? '0' : '0x' + v.toString(16);
}
