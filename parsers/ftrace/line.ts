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
  /^\s*(|\S.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\s*\)\s+)?\[(\d+)\]\s+(?:([^\s:]{1,8})\s+)?(\d+)(?:\.(\d+))?:(?:\s+|$)(.*)$/;

// latency-format: "%8.8s-%-7d %3d" then the flags, then " %4lldus%c: " (ns clocks) or " %4lld: ".
const LATENCY_RE = /^\s*(|\S.*?)-(\d+)\s+(\d+)(\D[^\s:]{0,6})\s+(\d+)(?:us(.))?:(?:\s+|$)(.*)$/;

export function parseKernelPrefix(line: string): LinePrefix | null {
  const s = SCRATCH;
  return scanKernelPrefix(line, s) ? scannedPrefix(line, s) : parseKernelPrefixByRegex(line);
}

/** parseKernelPrefix by KERNEL_RE alone: the reference grammar, for lines the scanner leaves undecided. */
/** Decimal digits whose value is an exact JS number. */
const safeDigits = (d: string): boolean => d.length < 16 || Number.isSafeInteger(+d);

export function parseKernelPrefixByRegex(line: string): LinePrefix | null {
  const m = KERNEL_RE.exec(line);
  if (m === null) return null;
  const t = m[3];
  // A pid, tgid or CPU beyond 2^53 is no task or CPU: the line is not understood (counted), never a rounded number.
  if (!safeDigits(m[2]!) || !safeDigits(m[4]!) || (t !== undefined && t.charCodeAt(0) !== 45 && !safeDigits(t))) return null;
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

/**
 * Where scanKernelPrefix found the columns of a kernel-format prefix: offsets into the line and
 * the numbers, so that the caller makes only the strings it needs. Reused from line to line.
 */
export class PrefixScan {
  commStart = 0;
  commEnd = 0;
  pid = 0;
  tgid: number | null = null;
  cpu = 0;
  /** -1 when there is no flags column. */
  flagsStart = -1;
  flagsEnd = -1;
  secStart = 0;
  secEnd = 0;
  /** -1 when the timestamp has no fraction (raw ticks). */
  fracStart = -1;
  fracEnd = -1;
  restStart = 0;
}

const SCRATCH = new PrefixScan();
/** `.` in KERNEL_RE matches no line terminator: a line holding one is left to the regex. */
function hasLineTerminator(line: string): boolean {
  return line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0 || line.indexOf('\u2028') >= 0 || line.indexOf('\u2029') >= 0;
}
/** Longest digit run read as a number by the scanner (exact below 2^53, like `+digits`). */
const MAX_SCANNED_DIGITS = 15;

function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** JS `\s` outside ASCII (Unicode Zs, line/paragraph separators, BOM). */
function isWideSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Hand-written fast path of KERNEL_RE: fills `o` with exactly what the regex would capture and
 * returns true, or returns false when the line is not the common shape (its first `-` not
 * followed by `pid [cpu]`, a non-ASCII character where whitespace matters, a line terminator,
 * a number of more than 15 digits...): the caller then asks KERNEL_RE, which also tries later
 * dashes. Never returns true for a line the regex reads differently. `noLineTerminators`: the
 * caller knows that the line holds no `\r`, `\n`, U+2028 or U+2029 (the scanner then needn't look).
 */
export function scanKernelPrefix(line: string, o: PrefixScan, noLineTerminators = false): boolean {
  const len = line.length;
  let i = 0;
  let c = 0;
  while (i < len && isAsciiSpace((c = line.charCodeAt(i)))) i++;
  if (i >= len || (c >= 0x80 && isWideSpace(c))) return false;
  o.commStart = i;
  while (i < len && line.charCodeAt(i) !== 45 /* - */) i++;
  if (i >= len) return false;
  o.commEnd = i++;
  // pid, then whitespace
  let v = 0;
  let d0 = i;
  while (i < len && (c = line.charCodeAt(i)) >= 48 && c <= 57) {
    v = v * 10 + (c - 48);
    i++;
  }
  if (i === d0 || i - d0 > MAX_SCANNED_DIGITS || i >= len || !isAsciiSpace(c)) return false;
  o.pid = v;
  while (++i < len && isAsciiSpace((c = line.charCodeAt(i))));
  if (i >= len) return false;
  // optional `(tgid)` / `(-----)`
  o.tgid = null;
  if (c === 40 /* ( */) {
    while (++i < len && isAsciiSpace((c = line.charCodeAt(i))));
    if (c >= 48 && c <= 57) {
      v = 0;
      d0 = i;
      while (i < len && (c = line.charCodeAt(i)) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        i++;
      }
      if (i - d0 > MAX_SCANNED_DIGITS) return false;
      o.tgid = v;
    } else if (c === 45 /* - */) {
      while (i < len && line.charCodeAt(i) === 45) i++;
    } else return false;
    while (i < len && isAsciiSpace((c = line.charCodeAt(i)))) i++;
    if (i >= len || c !== 41 /* ) */) return false;
    if (++i >= len || !isAsciiSpace(line.charCodeAt(i))) return false;
    while (++i < len && isAsciiSpace((c = line.charCodeAt(i))));
    if (i >= len) return false;
  }
  // [cpu], then whitespace
  if (c !== 91 /* [ */) return false;
  v = 0;
  d0 = ++i;
  while (i < len && (c = line.charCodeAt(i)) >= 48 && c <= 57) {
    v = v * 10 + (c - 48);
    i++;
  }
  if (i === d0 || i - d0 > MAX_SCANNED_DIGITS || c !== 93 /* ] */ || i >= len) return false;
  o.cpu = v;
  if (++i >= len || !isAsciiSpace(line.charCodeAt(i))) return false;
  while (++i < len && isAsciiSpace(line.charCodeAt(i)));
  // flags: a run of non-space non-colon characters of 1–8, followed by whitespace, if the
  // timestamp follows it; else the timestamp is here.
  const q = i;
  while (i < len && (c = line.charCodeAt(i)) !== 58 /* : */ && !isAsciiSpace(c)) {
    if (c >= 0x80) return false;
    i++;
  }
  const flagsLen = i - q;
  if (flagsLen >= 1 && flagsLen <= 8 && i < len && c !== 58) {
    let r = i;
    while (++r < len && isAsciiSpace(line.charCodeAt(r)));
    const t = scanTimestamp(line, r, o);
    if (t === SCAN_UNSURE) return false;
    if (t === SCAN_MATCHED) {
      o.flagsStart = q;
      o.flagsEnd = q + flagsLen;
      return noLineTerminators || !hasLineTerminator(line);
    }
  }
  if (scanTimestamp(line, q, o) !== SCAN_MATCHED) return false;
  o.flagsStart = o.flagsEnd = -1;
  return noLineTerminators || !hasLineTerminator(line);
}

const SCAN_MATCHED = 0;
const SCAN_FAILED = 1;
const SCAN_UNSURE = 2;

/** `(\d+)(?:\.(\d+))?:(?:\s+|$)` at `i`, then the start of the rest. */
function scanTimestamp(line: string, i: number, o: PrefixScan): number {
  const len = line.length;
  const s0 = i;
  let c = 0;
  while (i < len && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
  if (i === s0 || i >= len) return i < len && c >= 0x80 ? SCAN_UNSURE : SCAN_FAILED;
  o.secStart = s0;
  o.secEnd = i;
  o.fracStart = o.fracEnd = -1;
  if (c === 46 /* . */) {
    const f0 = ++i;
    while (i < len && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
    if (i === f0 || i >= len) return SCAN_FAILED;
    o.fracStart = f0;
    o.fracEnd = i;
  }
  if (c !== 58 /* : */) return SCAN_FAILED;
  if (++i < len) {
    c = line.charCodeAt(i);
    if (!isAsciiSpace(c)) return c >= 0x80 && isWideSpace(c) ? SCAN_UNSURE : SCAN_FAILED;
    while (++i < len && isAsciiSpace((c = line.charCodeAt(i))));
    if (i < len && c >= 0x80 && isWideSpace(c)) return SCAN_UNSURE;
  }
  o.restStart = i;
  return SCAN_MATCHED;
}

/** The LinePrefix of a successful scan. */
export function scannedPrefix(line: string, s: PrefixScan): LinePrefix {
  return {
    comm: line.slice(s.commStart, s.commEnd),
    pid: s.pid,
    tgid: s.tgid,
    cpu: s.cpu,
    flags: s.flagsStart < 0 ? null : line.slice(s.flagsStart, s.flagsEnd),
    sec: line.slice(s.secStart, s.secEnd),
    frac: s.fracStart < 0 ? null : line.slice(s.fracStart, s.fracEnd),
    rest: line.slice(s.restStart),
  };
}

export interface LatencyPrefix extends LinePrefix {
  /** Delay mark after `us` (`!`, `#`, `$`, `@`, `*`, `+`, ` `), null on non-ns clocks. */
  mark: string | null;
}

export function parseLatencyPrefix(line: string): LatencyPrefix | null {
  const m = LATENCY_RE.exec(line);
  if (m === null || !safeDigits(m[2]!) || !safeDigits(m[3]!)) return null;
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
  return splitEventAt(rest, 0);
}

/** splitEvent of `line.slice(b)`, without making that string. */
export function splitEventAt(line: string, b: number): EventBody {
  const len = line.length;
  const c0 = line.charCodeAt(b);
  const c = line.indexOf(':', b);
  // `<stack trace>` / `<user stack trace>`: the kernel prints no colon after them.
  if (c0 === 60 /* < */ && line.charCodeAt(len - 1) === 62 /* > */ && c < 0) {
    return { name: line.slice(b), args: '' };
  }
  if (c > b && (c + 1 === len || line.charCodeAt(c + 1) === 32 || line.charCodeAt(c + 1) === 9)) {
    // Names never contain spaces (except `<stack trace>` / `<user stack trace>`) nor parentheses
    // (the kernel's `sys_read(fd: 3, ...)` has its first colon inside the argument list).
    const name = line.slice(b, c);
    if ((name.indexOf(' ') < 0 && name.indexOf('(') < 0) || c0 === 60 /* < */) {
      let a = c + 1;
      while (a < len && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
      if (c0 === 115 /* s */ && name.startsWith('sys_')) {
        if (name.startsWith('sys_enter_')) return { name, args: syscallArgs(line.slice(a)) };
        if (name.startsWith('sys_exit_')) return { name, args: 'ret=' + hexCanon(line.slice(a).trim()) };
      }
      if (name === 'print' || name === 'bprint' || name === 'bputs') {
        const args = line.slice(a);
        const inner = args.indexOf(':');
        if (inner > 0 && (inner + 1 === args.length || args.charCodeAt(inner + 1) === 32)) {
          const innerName = args.slice(0, inner);
          if (innerName.indexOf(' ') < 0) return { name: innerName, args: skipSpaces(args, inner + 1) };
        }
        return { name, args };
      }
      return { name, args: line.slice(a) };
    }
  }
  const rest = b === 0 ? line : line.slice(b);
  if (c0 === 115 /* s */ && rest.startsWith('sys_')) {
    let m = SYSCALL_EXIT_RE.exec(rest);
    if (m) return { name: SYS_EXIT_NAMES.name(m[1]!), args: 'ret=' + hexCanon(m[2]!) };
    m = SYSCALL_ENTER_RE.exec(rest);
    if (m) return { name: SYS_ENTER_NAMES.name(m[1]!), args: syscallArgs(m[2]!) };
  }
  return { name: 'function', args: rest };
}

/** `sys_enter_` / `sys_exit_` + a syscall name, one string object per syscall. */
class PrefixedNames {
  private readonly names = new Map<string, string>();
  constructor(private readonly prefix: string) {}
  name(syscall: string): string {
    let n = this.names.get(syscall);
    if (n === undefined) {
      n = this.prefix + syscall;
      if (this.names.size < 1024) this.names.set(syscall, (' ' + n).slice(1));
    }
    return n;
  }
}

const SYS_ENTER_NAMES = new PrefixedNames('sys_enter_');
const SYS_EXIT_NAMES = new PrefixedNames('sys_exit_');

function skipSpaces(s: string, i: number): string {
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return s.slice(i);
}

/** `fd: 3, buf: 0x7ffe, count: 0x310` → `fd=0x3 buf=0x7ffe count=0x310`. */
function syscallArgs(list: string): string {
  if (list.length === 0) return '';
  let out = '';
  // The parts between `, ` separators, without making an array of them.
  for (let start = 0; ; ) {
    const sep = list.indexOf(', ', start);
    const end = sep < 0 ? list.length : sep;
    const colon = list.indexOf(': ', start);
    if (colon < 0 || colon >= end) return list; // not the syscall rendering: keep the text as it is
    if (out.length > 0) out += ' ';
    out += list.slice(start, colon) + '=' + hexCanon(list.slice(colon + 2, end));
    if (sep < 0) return out;
    start = sep + 2;
  }
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
