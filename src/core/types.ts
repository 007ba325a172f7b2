/**
 * Core record types shared by parsers, ingestion and analysis.
 * Parsers produce these; nothing here knows about SQLite, the CLI or the process.
 */
import type { IngestCode } from './counters.js';

/** A value SQLite stores or returns (a column of a row, a bound parameter). */
export type SqlValue = number | bigint | string | null | Buffer;

/** A timestamp in integer nanoseconds (or raw ticks when the clock has no time base).
 * A `number` while it is exactly representable (< 2^53), a `bigint` beyond. */
export type Timestamp = number | bigint;

/**
 * One trace event, whatever the input format.
 * `name` is normalised: syscalls are `sys_enter_<call>` / `sys_exit_<call>`, trace_printk and
 * trace_marker lines are named after the caller (`tracing_mark_write`, `__do_block_io_op`),
 * trace-cmd's `print:` / `bprint:` / `bputs:` wrappers are removed.
 */
export interface TraceEvent {
  /** 1-based line number in the (decompressed) input where the event starts; record index + 1 for binary input. */
  line: number;
  ts: Timestamp;
  cpu: number | null;
  pid: number | null;
  tgid: number | null;
  comm: string | null;
  /** irq-info / latency flags column exactly as printed (`d..2.`), null when the format has none. */
  flags: string | null;
  name: string;
  /** The event's payload text. Continuation lines (multi-line prints, `=> func` stack lines) are appended after `\n`. */
  args: string;
  /** Prefix of a multi-file / multi-instance `trace-cmd report` line (the file or instance name), else null. */
  part: string | null;
}

/** What a clock's timestamps mean. */
export type ClockKind =
  /** Nanoseconds since some epoch (local, global, mono, boot, perf, CLOCK_MONOTONIC ...). */
  | 'ns'
  /** Raw x86 TSC ticks converted to ns with a user-supplied frequency. */
  | 'tsc-converted'
  /** Raw ticks without a known frequency (`counter`, `uptime`, `x86-tsc` without --tsc-hz): no time base. */
  | 'ticks'
  /** Microseconds relative to the start of the buffer (`latency-format`), stored as ns. */
  | 'relative-us';

/** Facts a parser learns about its input (header lines, xtbuf header). Merged into the `sources` row. */
export interface SourceFacts {
  /** Detected format variant, e.g. `ftrace`, `ftrace-latency`, `trace-cmd`, `systrace-html`, `xtbuf`, `xtbuf-text`. */
  variant?: string;
  /** Clock name as far as it is known (`local`, `x86-tsc`, `counter`, `monotonic`, ...) */
  clock?: string;
  clockKind?: ClockKind;
  tscHz?: number;
  /** Number of CPUs announced by a header (`#P:2`, `cpus=2`). */
  cpus?: number;
  /** Userspace buffer owner. */
  pid?: number;
  comm?: string;
  /** entries-in-buffer / entries-written header, xtbuf capacity / written. */
  entriesInBuffer?: number;
  entriesWritten?: number;
  tracer?: string;
  /** Lines read (text formats) or records read (binary); reported at the end. */
  lines?: number;
}

export interface ParseOptions {
  /** Cycles per second for raw `x86-tsc` timestamps (ftrace) or TSC xtbuf dumps lacking one. */
  tscHz?: number;
  /** Human name of the input, for messages. */
  path: string;
}

/** Where in a source trace data is missing (the matcher never chains a request across it). */
export interface LostPlace {
  /** Input line of the lost-events marker; 0 = before the first event (overwritten buffer or ring). */
  line: number;
  /** CPU whose events are missing; null = every CPU (or not known). */
  cpu: number | null;
}

/** Where a parser delivers what it reads. Parsers never touch the database. */
export interface RecordSink {
  event(e: TraceEvent): void;
  /**
   * Count one occurrence (or `count` occurrences) of a data problem or notable line at `line`.
   * `lostAt`: the counter is events lost (`count` of them) and this is where they are missing.
   */
  diag(code: IngestCode, line: number, detail?: string, count?: number, lostAt?: LostPlace): void;
  facts(f: SourceFacts): void;
}

/** A streaming decoder for one input: chunk boundaries never matter. */
export interface ChunkParser {
  write(chunk: Buffer): void;
  /** Flush: the input is complete. */
  end(): void;
}

/** An input format. Plain objects registered in `parsers/index.ts`. */
export interface Parser {
  readonly name: string;
  readonly description: string;
  /**
   * How sure the parser is that `head` (the first bytes of the decompressed input, up to 64 KiB)
   * is its format: 0 = not at all, 1 = certain (magic number). The highest score wins; 0 everywhere
   * is an error.
   */
  sniff(head: Buffer): number;
  open(sink: RecordSink, opts: ParseOptions): ChunkParser;
}
