/**
 * The grammar of one ftrace text line (kernel `trace`, `trace_pipe`, `per_cpu/cpuN/trace`,
 * `trace-cmd report`, latency-format). Pure functions: a line in, a parsed shape or null out.
 *
 * Context prefix, kernel:     `  comm-pid  (tgid) [cpu] flags  sec.usec: rest`
 *   tgid `(  1234)` / `(-------)` only with record-tgid; flags (0–7 chars) absent with noirq-info.
 * Context prefix, trace-cmd:  `  comm-pid [cpu] [flags] sec.usec[nsec]: rest`
 * Latency format:             `comm8-pid7 cpu3flags time(us)mark: rest`
 * Timestamps without a dot are raw ticks (counter, uptime, x86-tsc clocks).
 */

export interface LinePrefix {
  comm: string;
  pid: number;
  tgid: number | null;
  cpu: number;
  flags: string | null;
  /** Seconds part, or the whole tick count when `frac` is null. */
  sec: string;
  frac: string | null;
  /** Everything after `timestamp: `. */
  rest: string;
}

// comm is lazy so that the first `-pid` followed by the cpu column wins; comms may contain
// spaces, dashes, digits and brackets (`Web Content-2711`, `kworker/5:2-1497`, `<...>-4083`).
const KERNEL_RE =
  /^\s*(.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\s*\)\s+)?\[(\d+)\]\s+(?:([^\s:]{1,8})\s+)?(\d+)(?:\.(\d+))?:(?:\s+|$)(.*)$/;

// latency-format: "%8.8s-%-7d %3d" then the flags, then " %4lldus%c: " (ns clocks) or " %4lld: ".
const LATENCY_RE = /^\s*(.*?)-(\d+)\s+(\d+)(\D[^\s:]{0,6})\s+(\d+)(?:us(.))?:(?:\s+|$)(.*)$/;

export function parseKernelPrefix(line: string): LinePrefix | null {
  const m = KERNEL_RE.exec(line);
  if (m === null) return null;
  const t = m[3];
  return {
    comm: m[1]!,
    pid: +m[2]!,
    tgid: t === undefined || t.charCodeAt(0) === 45 /* - */ ? null : +t,
    cpu: +m[4]!,
    flags: m[5] ?? null,
    sec: m[6]!,
    frac: m[7] ?? null,
    rest: m[8]!,
  };
}

export interface LatencyPrefix extends LinePrefix {
  /** Delay mark after `us` (`!`, `#`, `$`, `@`, `*`, `+`, ` `), null on non-ns clocks. */
  mark: string | null;
}

export function parseLatencyPrefix(line: string): LatencyPrefix | null {
  const m = LATENCY_RE.exec(line);
  if (m === null) return null;
  return {
    comm: m[1]!,
    pid: +m[2]!,
    tgid: null,
    cpu: +m[3]!,
    flags: m[4]!,
    sec: m[5]!,
    frac: null,
    mark: m[6] ?? null,
    rest: m[7]!,
  };
}

export interface EventBody {
  name: string;
  args: string;
}

const SYSCALL_EXIT_RE = /^sys_(\w+) -> (\S+)$/;
const SYSCALL_ENTER_RE = /^sys_(\w+)\((.*)\)$/;

/**
 * Splits `rest` into the event name and its payload, normalising renderings that differ
 * between the kernel and trace-cmd so that the same event gets the same name and keys:
 *  - kernel syscalls `sys_read(fd: 3, ...)` / `sys_read -> 0x10` and trace-cmd
 *    `sys_enter_read: fd: 0x00000003, ...` / `sys_exit_read: 0x10` all become
 *    `sys_enter_read` with `fd=0x3 ...` and `sys_exit_read` with `ret=0x10`
 *    (values are hexadecimal in every rendering; they are written as canonical `0x` hex);
 *  - trace-cmd's `print:` / `bprint:` / `bputs:` wrappers are removed so that the name is the
 *    caller, as in the kernel's own output (`tracing_mark_write`, `__do_block_io_op`);
 *  - function-tracer lines without `name:` (`do_sys_open <-sys_open`) are named `function`.
 */
export function splitEvent(rest: string): EventBody {
  // `<stack trace>` / `<user stack trace>`: the kernel prints no colon after them.
  if (rest.charCodeAt(0) === 60 /* < */ && rest.charCodeAt(rest.length - 1) === 62 /* > */ && rest.indexOf(':') < 0) {
    return { name: rest, args: '' };
  }
  const c = rest.indexOf(':');
  if (c > 0 && (c + 1 === rest.length || rest.charCodeAt(c + 1) === 32 || rest.charCodeAt(c + 1) === 9)) {
    const name = rest.slice(0, c);
    // Names never contain spaces (except `<stack trace>` / `<user stack trace>`) nor parentheses
    // (the kernel's `sys_read(fd: 3, ...)` has its first colon inside the argument list).
    if ((name.indexOf(' ') < 0 && name.indexOf('(') < 0) || name.charCodeAt(0) === 60 /* < */) {
      let args = skipSpaces(rest, c + 1);
      if (name.charCodeAt(0) === 115 /* s */ && name.startsWith('sys_')) {
        if (name.startsWith('sys_enter_')) return { name, args: syscallArgs(args) };
        if (name.startsWith('sys_exit_')) return { name, args: 'ret=' + hexCanon(args.trim()) };
      }
      if (name === 'print' || name === 'bprint' || name === 'bputs') {
        const inner = args.indexOf(':');
        if (inner > 0 && (inner + 1 === args.length || args.charCodeAt(inner + 1) === 32)) {
          const innerName = args.slice(0, inner);
          if (innerName.indexOf(' ') < 0) return { name: innerName, args: skipSpaces(args, inner + 1) };
        }
        return { name, args };
      }
      return { name, args };
    }
  }
  if (rest.charCodeAt(0) === 115 /* s */ && rest.startsWith('sys_')) {
    let m = SYSCALL_EXIT_RE.exec(rest);
    if (m) return { name: 'sys_exit_' + m[1]!, args: 'ret=' + hexCanon(m[2]!) };
    m = SYSCALL_ENTER_RE.exec(rest);
    if (m) return { name: 'sys_enter_' + m[1]!, args: syscallArgs(m[2]!) };
  }
  return { name: 'function', args: rest };
}

function skipSpaces(s: string, i: number): string {
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return s.slice(i);
}

/** `fd: 3, buf: 0x7ffe, count: 0x310` → `fd=0x3 buf=0x7ffe count=0x310`. */
function syscallArgs(list: string): string {
  if (list.length === 0) return '';
  let out = '';
  for (const part of list.split(', ')) {
    const colon = part.indexOf(': ');
    if (colon < 0) return list; // not the syscall rendering: keep the text as it is
    if (out.length > 0) out += ' ';
    out += part.slice(0, colon) + '=' + hexCanon(part.slice(colon + 2));
  }
  return out;
}

/**
 * A syscall value in any rendering (`3`, `ff`, `0x310`, `0x00000003`, `-11`) → canonical
 * lowercase `0x` hex without leading zeros. Anything that is not a number is returned as is.
 */
export function hexCanon(v: string): string {
  let s = v;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (!/^-\d+$/.test(s)) return v;
    return '0x' + BigInt.asUintN(64, BigInt(s)).toString(16);
  }
  if (s.length > 1 && s.charCodeAt(0) === 48 && (s.charCodeAt(1) === 120 || s.charCodeAt(1) === 88)) s = s.slice(2);
  if (s.length === 0 || !/^[0-9a-fA-F]+$/.test(s)) return v;
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return '0x' + (i > 0 ? s.slice(i) : s).toLowerCase();
}

/** `CPU:1 [LOST 1234 EVENTS]` (kernel) or `CPU:1 [1234 EVENTS DROPPED]` (trace-cmd). */
const LOST_RE = /^\s*CPU:\s*(\d+)\s+\[(?:LOST (\d+) EVENTS|(\d+) EVENTS DROPPED)\]\s*$/;
export function parseLost(line: string): { cpu: number; lost: number } | null {
  const m = LOST_RE.exec(line);
  if (!m) return null;
  return { cpu: +m[1]!, lost: +(m[2] ?? m[3])! };
}

/** `trace-cmd report` preamble lines. */
export const TRACECMD_HEADER_RE = /^(?:version = \d+|cpus=\d+|CPU \d+ is empty|trace-cmd: .*)\s*$/;

/** `##### CPU 3 buffer started ####` */
export const CPU_STARTED_RE = /^#{3,}\s*CPU \d+ buffer started\s*#+\s*$/;

/** A line that starts like an event line (`comm-pid [cpu]`, maybe with a tgid column) but did not parse. */
export const LOOKS_LIKE_EVENT_RE = /^\s*\S.*?-\d+\s+(?:\(\s*(?:\d+|-+)\s*\)\s+)?\[\d{1,4}\]/;

/**
 * Known events whose last field is fixed: an event of these kinds that does not end with it
 * was cut off (checked on the last line of a file, where truncation happens).
 */
const COMPLETE_TAIL: Record<string, RegExp> = {
  sched_switch: /(?:next_prio=-?\d+|\[-?\d+\])\s*$/,
  irq_handler_entry: /name=\S+\s*$/,
  irq_handler_exit: /ret=\S+\s*$/,
  cpu_idle: /cpu_id=\d+\s*$/,
  block_rq_issue: /\]\s*$/,
  block_rq_insert: /\]\s*$/,
  block_rq_complete: /\]\s*$/,
  block_bio_queue: /\]\s*$/,
};

export function looksTruncated(name: string, args: string): boolean {
  const re = COMPLETE_TAIL[name];
  return re !== undefined && !re.test(args);
}
