/**
 * stream → (gunzip) → format sniffing → parser → batched inserts, one transaction per file.
 * A file is ingested whole or not at all: any error, an interrupt (AbortSignal), a kill -9 or a
 * full disk leaves the database as it was before the file (SQLite's rollback journal).
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pickParser, SNIFF_BYTES } from '../../parsers/index.js';
import { DiagnosticCounter, type DiagnosticCount } from '../core/diagnostics.js';
import { InputError, InterruptedError, ParseError } from '../core/errors.js';
import { XTRACE_VERSION } from '../core/version.js';
import type { LostPlace, Parser, SourceFacts } from '../core/types.js';
import type { Db } from '../db/db.js';
import { deferNameIndex, EventWriter, findSourceBySha, finishSource, insertSource, loadStrings, rebuildNameIndex } from '../db/writer.js';
import { parseInWorker } from './parse-thread.js';

const READ_CHUNK = 1 << 20;

export interface IngestInput {
  /** Path as given by the user; '-' with `stream` for standard input. */
  path: string;
  /** Readable to use instead of opening `path` (standard input). */
  stream?: AsyncIterable<Buffer>;
}

export interface IngestOptions {
  domain: string;
  tscHz?: number;
  signal?: AbortSignal;
  /** Called with raw bytes read so far and the file size (null when unknown). */
  onProgress?: (bytesRead: number, total: number | null) => void;
  /** Test hook: called after every event handed to the writer. */
  onEvent?: (count: number) => void;
}

export interface IngestResult {
  path: string;
  /** 'ingested', or 'duplicate' when the same bytes were already in the database. */
  status: 'ingested' | 'duplicate';
  sourceId: number;
  format: string;
  variant: string | null;
  domain: string;
  clock: string | null;
  hasTimeBase: boolean;
  lines: number;
  events: number;
  unparsedLines: number;
  lostEvents: number;
  bytes: number;
  /** Bytes of trace parsed (after gunzip): what a rate in MB/s is of (0 for a duplicate: nothing parsed). */
  textBytes: number;
  diagnostics: DiagnosticCount[];
  seconds: number;
}

/** The document `xtrace ingest --json` prints (version 1): one entry per ingested file. */
export interface IngestSummaryJson {
  version: 1;
  db: string;
  files: {
    path: string;
    status: IngestResult['status'];
    source_id: number;
    format: string;
    variant: string | null;
    domain: string;
    clock: string | null;
    has_time_base: boolean;
    bytes: number;
    lines: number;
    events: number;
    unparsed_lines: number;
    lost_events: number;
    seconds: number;
    diagnostics: { code: string; severity: string; count: number; first_line: number; detail: string | null }[];
  }[];
  /** Files that could not be ingested (each reported on stderr). */
  failed: number;
  peak_rss_bytes: number;
}

/** The `ingest --json` document of a run over several files (serialise it with toJson). */
export function ingestSummaryJson(results: IngestResult[], run: { db: string; failed: number; peakRssBytes: number }): IngestSummaryJson {
  const files = results.map((r) => ({
    path: r.path,
    status: r.status,
    source_id: r.sourceId,
    format: r.format,
    variant: r.variant,
    domain: r.domain,
    clock: r.clock,
    has_time_base: r.hasTimeBase,
    bytes: r.bytes,
    lines: r.lines,
    events: r.events,
    unparsed_lines: r.unparsedLines,
    lost_events: r.lostEvents,
    seconds: Number(r.seconds.toFixed(3)),
    diagnostics: r.diagnostics.map((d) => ({ code: d.code, severity: d.severity, count: d.count, first_line: d.firstLine, detail: d.detail })),
  }));
  return { version: 1, db: run.db, files, failed: run.failed, peak_rss_bytes: run.peakRssBytes };
}

/** Ingests one input into `db`. Throws InputError (naming file and line) or InterruptedError. */
export async function ingestFile(db: Db, input: IngestInput, opts: IngestOptions): Promise<IngestResult> {
  const t0 = performance.now();
  const { path } = input;
  let total: number | null = null;
  if (!input.stream) {
    const st = await fsp.stat(path).catch((e: NodeJS.ErrnoException) => {
      // A tracefs path whose file is missing: tracefs is most likely not mounted.
      const tracefs = e.code === 'ENOENT' && /^\/sys\/kernel\/(debug\/)?tracing\//.test(path) ? ' (is tracefs mounted? mount -t tracefs nodev /sys/kernel/tracing, as root)' : '';
      throw new InputError(`${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}${tracefs}`, path);
    });
    if (st.isDirectory()) throw new InputError(`${path}: is a directory; give the trace files inside it`, path);
    // tracefs files (`trace`, `per_cpu/cpuN/trace`), pipes and /dev/fd/N report size 0 and still hold
    // data: they are read as streams (size unknown); a file that gives no byte is refused below as empty.
    total = st.size > 0 ? st.size : null;
  }

  let bytesRead = 0;
  let textBytes = 0;
  const raw = input.stream ?? createReadStream(path, { highWaterMark: READ_CHUNK });
  const counted = (async function* () {
    for await (const chunk of raw) {
      const b = chunk as Buffer;
      bytesRead += b.length;
      yield b;
    }
  })();
  const chunks = await decompress(counted, path);

  // Sniff the format on the first 64 KiB of decompressed data.
  const headParts: Buffer[] = [];
  let headLen = 0;
  let first = await chunks.next();
  while (!first.done && headLen < SNIFF_BYTES) {
    headParts.push(first.value);
    headLen += first.value.length;
    if (headLen >= SNIFF_BYTES) break;
    first = await chunks.next();
  }
  const head = Buffer.concat(headParts);
  const refuse = (why: string): never => {
    (raw as { destroy?: () => void }).destroy?.(); // release the file now, not at garbage collection
    throw new InputError(`${path}: ${why}`, path);
  };
  if (head.length === 0) refuse('empty file, not a trace');
  const pick = pickParser(head.subarray(0, SNIFF_BYTES));
  if (pick === null) return refuse(whyNotATrace(head));
  const parser: Parser = pick.parser;

  const diags = new DiagnosticCounter();
  /** Where events were lost, for the matcher (queries/002: lost_gaps). */
  const gaps: (LostPlace & { lost: number })[] = [];
  const facts: SourceFacts = {};
  let sourceId = 0;
  db.begin();
  try {
    sourceId = insertSource(db, {
      path,
      sha256: `pending:${process.pid}:${Date.now()}`, // set below: the content is hashed as it streams
      bytes: 0,
      format: parser.name,
      domain: opts.domain,
      ingestedAt: new Date().toISOString(),
      version: XTRACE_VERSION,
    });
    const w = new EventWriter(db, sourceId);
    // ~110 bytes per event line in a real capture (the bench input: 114).
    const deferredIndex = deferNameIndex(db, total === null ? null : total / 110);
    const known = loadStrings(db);
    const onEvent = opts.onEvent;
    let lastProgress = 0;
    const interrupted = `${path}: interrupted; nothing of this file was stored`;
    const allChunks = (async function* () {
      for (const part of headParts) {
        textBytes += part.length;
        yield part;
      }
      if (headLen >= SNIFF_BYTES)
        for await (const part of iterRest(chunks)) {
          textBytes += part.length;
          yield part;
        }
    })();
    const totals0 = await parseInWorker({
      init: {
        parser: parser.name,
        path,
        ...(opts.tscHz !== undefined ? { tscHz: opts.tscHz } : {}),
        strings: known.strings,
        nextStringId: known.nextId,
      },
      chunks: allChunks,
      onBatch: (b) => {
        w.addBatch(b);
        onEvent?.(w.count);
        if (opts.onProgress && bytesRead - lastProgress >= 8 * READ_CHUNK) {
          lastProgress = bytesRead;
          opts.onProgress(bytesRead, total);
        }
      },
      onDiag: (d) => {
        diags.add(d.code, d.line, d.detail, d.count);
        if (d.lostAt) gaps.push({ ...d.lostAt, lost: d.count ?? 1 });
      },
      onFacts: (f) => Object.assign(facts, f),
      ...(opts.signal ? { signal: opts.signal } : {}),
      interruptedMessage: interrupted,
    });
    w.flush();
    opts.onProgress?.(bytesRead, total);

    const dup = findSourceBySha(db, totals0.sha256);
    if (dup) {
      db.rollback();
      return duplicate(db, path, dup.id, t0);
    }
    db.prepare('UPDATE sources SET sha256 = ? WHERE id = ?').run(totals0.sha256, sourceId);
    db.prepare('UPDATE sources SET bytes = ? WHERE id = ?').run(bytesRead, sourceId);
    const lost = diags.get('lost_events') + diags.get('buffer_overrun') + diags.get('xtbuf_ring_wrapped');
    const totals = { lines: facts.lines ?? facts.entriesInBuffer ?? w.count, events: w.count, unparsed: diags.get('unparsed_line'), lost, facts, minTs: totals0.minTs, maxTs: totals0.maxTs };
    finishSource(db, sourceId, w, totals, diags.list());
    const insGap = db.prepare('INSERT INTO lost_gaps(source_id, line, cpu, lost) VALUES (?, ?, ?, ?)');
    for (const g of gaps) insGap.run(sourceId, g.line, g.cpu, g.lost);
    if (deferredIndex) rebuildNameIndex(db);
    db.commit();
    return {
      path,
      status: 'ingested',
      sourceId,
      format: parser.name,
      variant: facts.variant ?? null,
      domain: opts.domain,
      clock: facts.clock ?? null,
      hasTimeBase: facts.clockKind !== 'ticks',
      lines: totals.lines,
      events: w.count,
      unparsedLines: totals.unparsed,
      lostEvents: lost,
      bytes: bytesRead,
      textBytes,
      diagnostics: diags.list(),
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    db.rollback();
    if (e instanceof ParseError) throw new InputError(`${path}:${e.line}: ${e.message}`, path, e.line);
    if (e instanceof InputError || e instanceof InterruptedError) throw e;
    const err = e as NodeJS.ErrnoException & { code?: string };
    if (err.code === 'SQLITE_FULL') throw new InputError(`${db.path}: disk or database full while ingesting ${path}; nothing of this file was stored`, path);
    if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') throw new InputError(`${path}: corrupt gzip data (${err.message})`, path);
    throw e;
  }
}

function duplicate(db: Db, path: string, id: number, t0: number): IngestResult {
  const s = db
    .prepare<{ format: string; variant: string | null; domain: string; clock: string | null; has_time_base: number; lines: number; events: number; unparsed_lines: number; lost_events: number; bytes: number }>(
      'SELECT format, variant, domain, clock, has_time_base, lines, events, unparsed_lines, lost_events, bytes FROM sources WHERE id = ?',
    )
    .get(id)!;
  return {
    path,
    status: 'duplicate',
    sourceId: id,
    format: s.format,
    variant: s.variant,
    domain: s.domain,
    clock: s.clock,
    hasTimeBase: s.has_time_base === 1,
    lines: s.lines,
    events: s.events,
    unparsedLines: s.unparsed_lines,
    lostEvents: s.lost_events,
    bytes: s.bytes,
    textBytes: 0,
    diagnostics: [],
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Yields the decompressed stream when the input starts with the gzip magic, else the input. */
async function decompress(src: AsyncGenerator<Buffer>, path: string): Promise<AsyncGenerator<Buffer>> {
  const first = await src.next();
  if (first.done) return (async function* () {})();
  const b = first.value;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: READ_CHUNK });
    const rawAgain = (async function* () {
      yield b;
      yield* iterRest(src);
    })();
    Readable.from(rawAgain).on('error', (e) => gunzip.destroy(e)).pipe(gunzip);
    return (async function* () {
      try {
        for await (const c of gunzip) yield c as Buffer;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code?.startsWith('Z_')) throw new InputError(`${path}: corrupt gzip data (${err.message})`, path);
        throw e;
      }
    })();
  }
  return (async function* () {
    yield b;
    yield* iterRest(src);
  })();
}

/** Continues an already-started generator without closing it early. */
async function* iterRest(g: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  for (;;) {
    const r = await g.next();
    if (r.done) return;
    yield r.value;
  }
}

function whyNotATrace(head: Buffer): string {
  const probe = head.subarray(0, 4096);
  const text = probe.toString('utf8').trimStart();
  if (probe.includes(0) || !isUtf8(cutPartialChar(probe))) {
    return 'binary data, not a trace: xtrace reads ftrace text, trace-cmd report output, systrace HTML and xtbuf dumps (magic XTRCBUF1)';
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    return 'JSON, not a trace (`xtrace ingest` reads ftrace text, trace-cmd report output, systrace HTML and xtbuf dumps)';
  }
  const firstLine = text.split('\n', 1)[0]!.slice(0, 60);
  return `not a trace: no ftrace event line, trace-cmd header or xtbuf header in the first ${SNIFF_BYTES / 1024} KiB (line 1: "${firstLine}")`;
}

function cutPartialChar(b: Buffer): Buffer {
  // The probe may end inside a multi-byte character.
  let end = b.length;
  let back = 0;
  while (end > 0 && back < 3 && ((b[end - 1] ?? 0) & 0xc0) === 0x80) {
    end--;
    back++;
  }
  if (end > 0 && (b[end - 1] ?? 0) >= 0xc0) end--;
  return b.subarray(0, end);
}
