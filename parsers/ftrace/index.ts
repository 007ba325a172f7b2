import { LineTokenizer } from '../../src/core/lines.js';
import { parseTicks, scannedSecondsToNs, secondsToNs, ticksToNs } from '../../src/core/time.js';
import type { ChunkParser, ParseOptions, Parser, RecordSink, Timestamp, TraceEvent } from '../../src/core/types.js';
import {
  CPU_STARTED_RE,
  LOOKS_LIKE_EVENT_RE,
  TRACECMD_HEADER_RE,
  looksTruncated,
  parseKernelPrefix,
  parseKernelPrefixByRegex,
  parseLatencyPrefix,
  parseLost,
  PrefixScan,
  scanKernelPrefix,
  scannedPrefix,
  splitEvent,
  splitEventAt,
  type EventBody,
  type LatencyPrefix,
  type LinePrefix,
} from './line.js';

const PREFIXED_RE = /^\s*(\S+):\s+(.*)$/;
const PART_IN_COMM_RE = /^(\S+):\s+(\S.*)$/;
const ENTRIES_RE = /entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)\s+#P:(\d+)/;
const TRACER_RE = /^#\s*tracer:\s*(\S+)/;
const LATENCY_HEADER_RE = /^#\s*\S+ latency trace v\d/;

/** Decimal microseconds → ns, exactly: a number while it is below 2^53, a bigint beyond (never a rounded double). */
function microsToNs(us: string): Timestamp {
  const n = parseTicks(us);
  return typeof n === 'number' && n * 1000 <= Number.MAX_SAFE_INTEGER ? n * 1000 : BigInt(n) * 1000n;
}

/**
 * Line-level state machine for ftrace text: events, headers, lost-event markers, continuation
 * and stack lines. Shared by the plain-text parser and the systrace HTML unwrapper.
 */
export class FtraceLines {
  private pending: TraceEvent | null = null;
  private latency = false;
  private sawTraceCmd = false;
  private variantSet = false;
  private clockSet = false;
  private lastLineParsed = true;
  private lastLineText = '';
  private lastLineNo = 0;
  /** Last timestamp per CPU: an array for the usual CPU numbers, a map for absurd ones. */
  private readonly lastTsBySmallCpu: (Timestamp | undefined)[] = [];
  private readonly lastTsByCpu = new Map<number, Timestamp>();
  private readonly scan = new PrefixScan();

  constructor(
    private readonly sink: RecordSink,
    private readonly opts: ParseOptions,
    private readonly variant: string,
  ) {}

  /** `noLineTerminators`: the caller knows that `text` holds no `\r`, U+2028 or U+2029 (see LineHandler). */
  line(text: string, n: number, noLineTerminators = false): void {
    this.lastLineNo = n;
    this.lastLineText = text;
    this.lastLineParsed = true;
    const c0 = text.charCodeAt(0);
    if (c0 === 35 /* # */) return this.header(text, n);
    // Fastest path: the common kernel event line, read without a regex.
    const s = this.scan;
    if (!this.latency && scanKernelPrefix(text, s, noLineTerminators)) {
      if (s.restStart === text.length) return this.other(text, n);
      return this.scannedEvent(text, s, n);
    }
    // Fast path: an event line.
    const p = this.latency ? parseLatencyPrefix(text) ?? parseKernelPrefix(text) : parseKernelPrefixByRegex(text);
    if (p !== null && p.rest.length > 0) return this.prefixedEvent(p, n);
    this.other(text, n);
  }

  private other(text: string, n: number): void {
    const sink = this.sink;
    if (text.trim().length === 0) return sink.diag('blank_line', n);
    const lost = parseLost(text);
    if (lost !== null) {
      this.flush();
      sink.diag('lost_events_line', n);
      return sink.diag('lost_events', n, `line ${n}: CPU ${lost.cpu} lost ${lost.lost} events`, lost.lost, { line: n, cpu: lost.cpu });
    }
    const pre = PREFIXED_RE.exec(text);
    const unprefixed = pre !== null && TRACECMD_HEADER_RE.test(pre[2]!) ? pre[2]! : text;
    if (TRACECMD_HEADER_RE.test(unprefixed)) {
      this.sawTraceCmd = true;
      const cpus = /^cpus=(\d+)/.exec(unprefixed);
      if (cpus) sink.facts({ cpus: +cpus[1]! });
      return sink.diag('tracecmd_header', n);
    }
    const trimmed = text.trimStart();
    if (trimmed.startsWith('=>') && this.pending !== null) {
      this.pending.args += '\n' + trimmed;
      return sink.diag('stack_line', n);
    }
    // Multi-file / multi-instance trace-cmd report: `file.dat: comm-pid [cpu] ...`.
    if (pre !== null) {
      const p = parseKernelPrefix(pre[2]!);
      if (p !== null && p.rest.length > 0) return this.event(p, pre[1]!, n);
    }
    if (this.pending !== null && !LOOKS_LIKE_EVENT_RE.test(text)) {
      this.pending.args += '\n' + text;
      return sink.diag('continuation_line', n);
    }
    this.lastLineParsed = false;
    sink.diag('unparsed_line', n, `line ${n}: ${text}`);
  }

  private header(text: string, n: number): void {
    const sink = this.sink;
    if (CPU_STARTED_RE.test(text)) {
      this.flush();
      return sink.diag('cpu_buffer_started', n);
    }
    const e = ENTRIES_RE.exec(text);
    if (e) {
      const inBuf = +e[1]!;
      const written = +e[2]!;
      sink.facts({ entriesInBuffer: inBuf, entriesWritten: written, cpus: +e[3]! });
      if (written > inBuf) sink.diag('buffer_overrun', n, `entries-in-buffer ${inBuf} < entries-written ${written}`, written - inBuf, { line: 0, cpu: null });
    }
    const t = TRACER_RE.exec(text);
    if (t) sink.facts({ tracer: t[1]! });
    if (LATENCY_HEADER_RE.test(text)) {
      this.latency = true;
      sink.facts({ variant: this.variant + '-latency' });
      this.variantSet = true;
    }
    sink.diag('header_line', n);
  }

  /** An event line as scanned by scanKernelPrefix: the same as event(scannedPrefix(...)), with fewer strings made. */
  private scannedEvent(text: string, s: PrefixScan, n: number): void {
    const comm = text.slice(s.commStart, s.commEnd);
    if (s.fracStart < 0 || s.secEnd - s.secStart > 15 || comm.indexOf(': ') > 0) {
      const p = scannedPrefix(text, s);
      p.comm = comm;
      return this.prefixedEvent(p, n);
    }
    this.beginEvent();
    if (!this.clockSet) this.setClock('ns', 'ns');
    let sec = 0;
    for (let i = s.secStart; i < s.secEnd; i++) sec = sec * 10 + (text.charCodeAt(i) - 48);
    let frac = 0;
    const fracEnd = Math.min(s.fracEnd, s.fracStart + 9);
    for (let i = s.fracStart; i < fracEnd; i++) frac = frac * 10 + (text.charCodeAt(i) - 48);
    const ts =
      scannedSecondsToNs(sec, frac, fracEnd - s.fracStart) ??
      secondsToNs(text.slice(s.secStart, s.secEnd), text.slice(s.fracStart, s.fracEnd));
    const flags = s.flagsStart < 0 ? null : text.slice(s.flagsStart, s.flagsEnd);
    this.store(n, ts, s.cpu, s.pid, s.tgid, comm, flags, splitEventAt(text, s.restStart), null);
  }

  /** A parsed prefix; in a multi-file trace-cmd report (`trace.dat: bash-123 [001] ...`) the lazy comm took the file part. */
  private prefixedEvent(p: LinePrefix, n: number): void {
    if (p.comm.indexOf(': ') > 0) {
      const m = PART_IN_COMM_RE.exec(p.comm);
      if (m !== null) {
        p.comm = m[2]!;
        return this.event(p, m[1]!, n);
      }
    }
    this.event(p, null, n);
  }

  private beginEvent(): void {
    this.flush();
    if (!this.variantSet) {
      this.variantSet = true;
      this.sink.facts({ variant: this.sawTraceCmd ? 'trace-cmd' : this.variant });
    }
  }

  private event(p: LinePrefix, part: string | null, n: number): void {
    this.beginEvent();
    let ts: Timestamp;
    if (this.latency && (p as LatencyPrefix).mark !== undefined) {
      // Latency format: µs relative to the start of the buffer (`123us!:`) on ns clocks, raw
      // ticks relative to it (`123:`) on counter / tsc clocks.
      if ((p as LatencyPrefix).mark === null) {
        if (!this.clockSet) this.setClock('ticks', 'latency-relative-ticks');
        ts = parseTicks(p.sec);
      } else {
        if (!this.clockSet) this.setClock('relative-us', 'latency-relative');
        ts = microsToNs(p.sec);
      }
    } else if (p.frac !== null) {
      if (!this.clockSet) this.setClock('ns', 'ns');
      ts = secondsToNs(p.sec, p.frac);
    } else {
      const hz = this.opts.tscHz;
      if (!this.clockSet) hz ? this.setClock('tsc-converted', 'x86-tsc') : this.setClock('ticks', 'counter');
      ts = hz ? ticksToNs(parseTicks(p.sec), hz) : parseTicks(p.sec);
    }
    this.store(n, ts, p.cpu, p.pid, p.tgid, p.comm, p.flags, splitEvent(p.rest), part);
  }

  /** The common tail of every event: monotonicity and parse-failure diagnostics, then the pending event. */
  private store(
    n: number,
    ts: Timestamp,
    cpu: number,
    pid: number,
    tgid: number | null,
    comm: string,
    flags: string | null,
    body: EventBody,
    part: string | null,
  ): void {
    let prev: Timestamp | undefined;
    if (cpu < 1024) {
      prev = this.lastTsBySmallCpu[cpu];
      this.lastTsBySmallCpu[cpu] = ts;
    } else {
      prev = this.lastTsByCpu.get(cpu);
      this.lastTsByCpu.set(cpu, ts);
    }
    if (prev !== undefined && ts < prev) this.sink.diag('ts_not_monotonic', n, `CPU ${cpu}`);
    if (body.args.charCodeAt(0) === 91 /* [ */ && body.args.startsWith('[FAILED TO PARSE]')) this.sink.diag('failed_to_parse_event', n, body.name);
    this.pending = {
      line: n,
      ts,
      cpu,
      pid,
      tgid,
      comm,
      flags,
      name: body.name,
      args: body.args,
      part,
    };
  }

  private setClock(kind: 'ns' | 'tsc-converted' | 'ticks' | 'relative-us', clock: string): void {
    this.clockSet = true;
    this.sink.facts({ clockKind: kind, clock, ...(kind === 'tsc-converted' ? { tscHz: this.opts.tscHz } : {}) });
  }

  private flush(): void {
    if (this.pending !== null) {
      this.sink.event(this.pending);
      this.pending = null;
    }
  }

  /** Input complete. `noNewline`: the last line had no trailing newline. */
  finish(noNewline: boolean): void {
    const last = this.pending;
    if (last !== null && last.line === this.lastLineNo && looksTruncated(last.name, last.args)) {
      this.sink.diag('truncated_last_line', last.line, `line ${last.line}: ${last.name} is missing its last fields (stored as is)`);
    } else if (!this.lastLineParsed && noNewline) {
      this.sink.diag('truncated_last_line', this.lastLineNo, `line ${this.lastLineNo}: ${this.lastLineText}`);
    }
    this.flush();
  }
}

const EVENT_LINE_SNIFF = /^[^\S\n]*(?:|\S.*?)-\d+\s+(?:\(\s*(?:\d+|-+)\s*\)\s+)?\[\d+\]\s+(?:[^\s:]{1,8}\s+)?\d+(?:\.\d+)?:\s/m;
const LATENCY_SNIFF = /^#\s*\S+ latency trace v\d/m;

export const ftraceText = {
  name: 'ftrace',
  description: 'ftrace text: kernel trace / trace_pipe / per_cpu files, trace-cmd report output, latency-format',
  sniff(head: Buffer): number {
    const text = head.toString('utf8');
    if (/^\s*<(?:!DOCTYPE|html|\?xml|!--)/i.test(text)) return 0; // HTML / XML: the systrace parser's job
    if (/^# tracer: /m.test(text) || LATENCY_SNIFF.test(text)) return 0.9;
    if (/^(?:version = \d+|cpus=\d+)\s*$/m.test(text)) return 0.8;
    if (EVENT_LINE_SNIFF.test(text)) return 0.7;
    return 0;
  },
  open(sink: RecordSink, opts: ParseOptions): ChunkParser {
    const lines = new FtraceLines(sink, opts, 'ftrace');
    const tok = new LineTokenizer((l, n, plain) => lines.line(l, n, plain));
    return {
      write: (chunk) => tok.write(chunk),
      end: () => {
        tok.end();
        lines.finish(tok.endedWithoutNewline);
        sink.facts({ lines: tok.lines });
      },
    };
  },
} satisfies Parser;
