/**
 * The one catalogue of data-quality counters: everything that can go wrong with (or is worth
 * knowing about) an input while it is ingested, and everything the matcher could not use while it
 * correlates. Modelled on Perfetto's stats table: every data problem is a named counter with a
 * severity, never a silent skip. Ingest counters are stored per source in `diagnostics`, matcher
 * counters per correlation in `correlation_diagnostics`; the catalogue itself is copied into
 * `diagnostic_codes` on every writable open of a database (src/db/db.ts).
 *
 * Severities:
 *  - info:      understood and stored, or pure decoration (headers, blank lines), or worth knowing;
 *  - data_loss: some trace data is missing or damaged (lost events, lines not understood, requests
 *               the matcher could not complete);
 *  - error:     the input could not be used (only recorded when ingestion still went on).
 * Stages: `ingest` (counted while a file is read), `correlate` (counted by the matcher).
 * `line: true` (ingest counters only) marks counters whose every occurrence is one input line that
 * is not an event, so that `sources.lines = events + Σ count of line counters` holds for every
 * text source.
 */
export type Severity = 'info' | 'data_loss' | 'error';
export type CounterStage = 'ingest' | 'correlate';

type CounterDef =
  | { stage: 'ingest'; severity: Severity; description: string; line: boolean }
  | { stage: 'correlate'; severity: Severity; description: string };

export const COUNTERS = {
  // --- ingest: lines and events of a source ---
  header_line: { stage: 'ingest', severity: 'info', description: 'Comment/header line (`# ...`) of an ftrace text file; facts it holds are kept in `sources`.', line: true },
  blank_line: { stage: 'ingest', severity: 'info', description: 'Empty or whitespace-only line.', line: true },
  tracecmd_header: { stage: 'ingest', severity: 'info', description: '`trace-cmd report` preamble line (`version = 6`, `cpus=N`, `CPU N is empty`).', line: true },
  cpu_buffer_started: { stage: 'ingest', severity: 'info', description: '`##### CPU N buffer started ####` line: the per-CPU buffer of that CPU begins here (older data was overwritten).', line: true },
  continuation_line: { stage: 'ingest', severity: 'info', description: 'Line without a context prefix that continues the previous event (multi-line print message); appended to its `args` after a newline.', line: true },
  stack_line: { stage: 'ingest', severity: 'info', description: 'Stack-trace line (`=> func`) appended to its `<stack trace>` event.', line: true },
  html_wrapper_line: { stage: 'ingest', severity: 'info', description: 'HTML/JavaScript line of a systrace wrapper around the trace text.', line: true },
  failed_to_parse_event: { stage: 'ingest', severity: 'info', description: 'libtraceevent printed `[FAILED TO PARSE]`: the event is stored with its raw fields.', line: false },
  ts_not_monotonic: { stage: 'ingest', severity: 'info', description: 'Event whose timestamp is earlier than the previous event on the same CPU (stored as is).', line: false },
  xtbuf_comment: { stage: 'ingest', severity: 'info', description: 'Comment line (`# ...`) after the header of an xtbuf text dump.', line: true },
  lost_events_line: { stage: 'ingest', severity: 'info', description: 'A `CPU:N [LOST M EVENTS]` (kernel) or `CPU:N [M EVENTS DROPPED]` (trace-cmd) line; the events lost are counted by lost_events.', line: true },
  lost_events: { stage: 'ingest', severity: 'data_loss', description: 'Events the kernel dropped (`CPU:N [LOST M EVENTS]`); count is the number of events lost.', line: false },
  buffer_overrun: { stage: 'ingest', severity: 'data_loss', description: 'Header says more entries were written than are in the buffer (`entries-in-buffer/entries-written`): the oldest were overwritten; count is how many.', line: false },
  xtbuf_ring_wrapped: { stage: 'ingest', severity: 'data_loss', description: 'The xtbuf ring wrapped: the oldest records were overwritten; count is how many.', line: false },
  unparsed_line: { stage: 'ingest', severity: 'data_loss', description: 'A line that looks like trace data but could not be understood; detail holds the first one.', line: true },
  truncated_last_line: { stage: 'ingest', severity: 'data_loss', description: 'The last line of the input is cut off (no trailing newline and incomplete, or a known event missing its trailing fields).', line: false },
  xtbuf_bad_record: { stage: 'ingest', severity: 'data_loss', description: 'An xtbuf record that cannot be decoded (unknown probe index, reserved bytes set, malformed text line).', line: false },
  xtbuf_empty_slot: { stage: 'ingest', severity: 'data_loss', description: 'An xtbuf slot inside the written range that is all zero (the dump raced the writer).', line: false },

  // --- correlate: what the matcher could not use (src/correlate/engine.ts, correlate.ts) ---
  unmatched_event: { stage: 'correlate', severity: 'info', description: 'An event of this point joined no request (other guests or devices, a request whose earlier points were lost, or the start of the trace).' },
  repeated_point: { stage: 'correlate', severity: 'info', description: 'A second event for the point a request had just passed (a requeued request issued again); the later one is used.' },
  not_a_request: { stage: 'correlate', severity: 'info', description: "A chain that reached none of the profile's required points (e.g. a syscall served from the page cache): not a request." },
  ended_early: { stage: 'correlate', severity: 'data_loss', description: 'A request ended by a later point while it still waited for an earlier one (points lost or not traced).' },
  point_lost_or_absent: { stage: 'correlate', severity: 'data_loss', description: 'No event for this passed-over (id-less or last-before-next) point between its neighbours, or only one found after a place where events were lost: the point is missing, not guessed.' },
  point_batched: { stage: 'correlate', severity: 'info', description: 'A suppressed notification (spec decision 10): the request was pushed while the other side was already awake, or its response delivered by an interrupt already being handled, so this point is absent by design. The request is complete; its stage spans the missing point (README "Batched requests").' },
  point_skipped: { stage: 'correlate', severity: 'data_loss', description: "A request's own later point arrived (keys only it could have) while it still waited for this point, or it waited far longer than complete requests take for this stage (10 × their 99th percentile): it skipped the point (a path it did not take, or an event lost without a LOST marker). It is incomplete, and keeps its later events so that no other request takes them." },
  idless_ambiguous: { stage: 'correlate', severity: 'info', description: 'An id-less point had more than one candidate within the clock-offset uncertainty; the one first after the previous point with the estimated offset was chosen, and its link does not narrow the offset.' },
  idless_links_inconsistent: { stage: 'correlate', severity: 'info', description: 'Clock offsets: the links through id-less points contradicted each other (an id-less event chosen with too rough an offset); the offsets come from the links between id-carrying points only (a wider interval).' },
  superseded: { stage: 'correlate', severity: 'data_loss', description: 'A request still waiting for this point when a newer one with the same keys began to wait for it (one clock): it can never be matched and is ended incomplete (a bio merged into another request, lost events).' },
  open_at_end: { stage: 'correlate', severity: 'data_loss', description: 'A request still open when the trace ended, started inside a run (or in a trace without run markers): cut off by the end of the capture.' },
  open_outside_run: { stage: 'correlate', severity: 'info', description: 'A request still open when the trace ended that started outside every run (before the first or after the last marker): not part of any measurement.' },
  merge_not_traced: { stage: 'correlate', severity: 'info', description: 'A bio still waiting for its insertion when the trace ended, in a trace without merge events: its block request was most likely formed by a merge the trace does not record (trace block_bio_backmerge and block_bio_frontmerge; samples/capture-linux-block.sh does).' },
  bio_merged: { stage: 'correlate', severity: 'info', description: "A bio merged into another block request (block_bio_backmerge/frontmerge, or block_rq_merge: a request merged into another): its request completes with that one (its insertion: when it joined, or the request's insertion if later)." },
  bio_split: { stage: 'correlate', severity: 'info', description: 'A bio split into pieces (block_split): each piece is followed; the request completes with its last piece.' },
  requeued: { stage: 'correlate', severity: 'info', description: 'A block request requeued by the driver (block_rq_requeue): it waits for its issue again; the last issue counts.' },
  completed_after_return: { stage: 'correlate', severity: 'info', description: "Block I/O that completed after its syscall had returned (asynchronous readahead): not part of that syscall's latency." },
  merge_unmatched: { stage: 'correlate', severity: 'info', description: 'A merge event for a bio no request was following (queued before the capture, or by a task outside the profile).' },
  merge_target_unknown: { stage: 'correlate', severity: 'info', description: 'A bio merged into a block request this trace does not follow (created before the capture began): its request misses its later block points and stays incomplete.' },
  split_unmatched: { stage: 'correlate', severity: 'info', description: 'A block_split event for a bio no request was following.' },
  requeue_unmatched: { stage: 'correlate', severity: 'info', description: 'A block_rq_requeue event for a block request no request was following.' },
} as const satisfies Record<string, CounterDef>;

export type CounterCode = keyof typeof COUNTERS;
type CodeOfStage<S extends CounterStage> = { [K in CounterCode]: (typeof COUNTERS)[K]['stage'] extends S ? K : never }[CounterCode];
/** Counters of a source, counted while it is ingested (the `diagnostics` table). */
export type IngestCode = CodeOfStage<'ingest'>;
/** Counters of the matcher (the `correlation_diagnostics` table). */
export type CorrelateCode = CodeOfStage<'correlate'>;

export function severityOf(code: CounterCode): Severity {
  return COUNTERS[code].severity;
}

/** True when every occurrence of `code` is one input line that is not an event. */
export function countsLines(code: CounterCode): boolean {
  const c: CounterDef = COUNTERS[code];
  return c.stage === 'ingest' && c.line;
}
