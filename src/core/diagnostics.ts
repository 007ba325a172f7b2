/**
 * The catalogue of everything that can go wrong with (or is worth knowing about) an input.
 * Modelled on Perfetto's stats table: every data problem is a named counter with a severity,
 * never a silent skip. Stored per source in the `diagnostics` table.
 *
 * Severities:
 *  - info:      the line was understood and stored or is pure decoration (headers, blank lines);
 *  - data_loss: some trace data is missing or damaged (lost events, lines not understood);
 *  - error:     the input could not be used (only recorded when ingestion still went on).
 * `line: true` marks counters whose every occurrence is one input line that is not an event, so
 * that `sources.lines = events + Σ count of line counters` holds for every text source.
 */
export type Severity = 'info' | 'data_loss' | 'error';

export const DIAGNOSTICS = {
  header_line: { severity: 'info', description: 'Comment/header line (`# ...`) of an ftrace text file; facts it holds are kept in `sources`.', line: true },
  blank_line: { severity: 'info', description: 'Empty or whitespace-only line.', line: true },
  tracecmd_header: { severity: 'info', description: '`trace-cmd report` preamble line (`version = 6`, `cpus=N`, `CPU N is empty`).', line: true },
  cpu_buffer_started: { severity: 'info', description: '`##### CPU N buffer started ####` line: the per-CPU buffer of that CPU begins here (older data was overwritten).', line: true },
  continuation_line: { severity: 'info', description: 'Line without a context prefix that continues the previous event (multi-line print message); appended to its `args` after a newline.', line: true },
  stack_line: { severity: 'info', description: 'Stack-trace line (`=> func`) appended to its `<stack trace>` event.', line: true },
  html_wrapper_line: { severity: 'info', description: 'HTML/JavaScript line of a systrace wrapper around the trace text.', line: true },
  failed_to_parse_event: { severity: 'info', description: 'libtraceevent printed `[FAILED TO PARSE]`: the event is stored with its raw fields.', line: false },
  ts_not_monotonic: { severity: 'info', description: 'Event whose timestamp is earlier than the previous event on the same CPU (stored as is).', line: false },
  xtbuf_comment: { severity: 'info', description: 'Comment line (`# ...`) after the header of an xtbuf text dump.', line: true },
  lost_events_line: { severity: 'info', description: 'A `CPU:N [LOST M EVENTS]` (kernel) or `CPU:N [M EVENTS DROPPED]` (trace-cmd) line; the events lost are counted by lost_events.', line: true },
  lost_events: { severity: 'data_loss', description: 'Events the kernel dropped (`CPU:N [LOST M EVENTS]`); count is the number of events lost.', line: false },
  buffer_overrun: { severity: 'data_loss', description: 'Header says more entries were written than are in the buffer (`entries-in-buffer/entries-written`): the oldest were overwritten; count is how many.', line: false },
  xtbuf_ring_wrapped: { severity: 'data_loss', description: 'The xtbuf ring wrapped: the oldest records were overwritten; count is how many.', line: false },
  unparsed_line: { severity: 'data_loss', description: 'A line that looks like trace data but could not be understood; detail holds the first one.', line: true },
  truncated_last_line: { severity: 'data_loss', description: 'The last line of the input is cut off (no trailing newline and incomplete, or a known event missing its trailing fields).', line: false },
  xtbuf_bad_record: { severity: 'data_loss', description: 'An xtbuf record that cannot be decoded (unknown probe index, reserved bytes set, malformed text line).', line: false },
  xtbuf_empty_slot: { severity: 'data_loss', description: 'An xtbuf slot inside the written range that is all zero (the dump raced the writer).', line: false },
} as const satisfies Record<string, { severity: Severity; description: string; line: boolean }>;

export type DiagCode = keyof typeof DIAGNOSTICS;

export function severityOf(code: DiagCode): Severity {
  return DIAGNOSTICS[code].severity;
}

/** One aggregated diagnostic counter of a source. */
export interface DiagnosticCount {
  code: DiagCode;
  severity: Severity;
  count: number;
  firstLine: number;
  detail: string | null;
}

/** Aggregates diagnostics in memory while a file is read (a handful of counters, never per line). */
export class DiagnosticCounter {
  private readonly byCode = new Map<DiagCode, DiagnosticCount>();

  add(code: DiagCode, line: number, detail?: string, count = 1): void {
    const d = this.byCode.get(code);
    if (d) {
      d.count += count;
      return;
    }
    this.byCode.set(code, {
      code,
      severity: severityOf(code),
      count,
      firstLine: line,
      detail: detail === undefined ? null : truncateDetail(detail),
    });
  }

  get(code: DiagCode): number {
    return this.byCode.get(code)?.count ?? 0;
  }

  list(): DiagnosticCount[] {
    return [...this.byCode.values()];
  }
}

function truncateDetail(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
