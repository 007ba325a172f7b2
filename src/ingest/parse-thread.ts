/**
 * Runs a parser in a worker thread and feeds it chunks with bounded data in flight, so that
 * parsing (worker) and inserting (this thread, in `onBatch`) overlap on two cores while memory
 * stays flat whatever the input size.
 */
import { createHash } from 'node:crypto';
import { startModuleWorker } from '../core/threads.js';
import type { EventBatch, BatchTotals } from '../core/event-batch.js';
import { InterruptedError, ParseError } from '../core/errors.js';
import type { SourceFacts } from '../core/types.js';
import type { DiagMessage } from './batch-encoder.js';
import type { WorkerInit } from './worker.js';

/** Chunks sent but not yet acknowledged (each ≤ 1 MiB, a few batches each). */
const MAX_IN_FLIGHT = 3;

export interface ParseThreadOptions {
  init: WorkerInit;
  chunks: AsyncIterable<Buffer>;
  onBatch: (b: EventBatch) => void;
  onDiag: (d: DiagMessage) => void;
  onFacts: (f: SourceFacts) => void;
  signal?: AbortSignal;
  interruptedMessage: string;
}

type FromWorker =
  | { type: 'batch'; batch: EventBatch }
  | { type: 'ack' }
  | { type: 'diag'; diag: DiagMessage }
  | { type: 'facts'; facts: SourceFacts }
  | ({ type: 'done' } & BatchTotals)
  | { type: 'error'; parse: boolean; message: string; line?: number; stack?: string };

/**
 * Also hashes the (decompressed) content on this thread, which waits on SQLite less than the
 * worker waits on parsing: sources.sha256 identifies a trace whatever its compression.
 */
export async function parseInWorker(o: ParseThreadOptions): Promise<BatchTotals & { sha256: string }> {
  const hash = createHash('sha256');
  const worker = startModuleWorker(import.meta.url, './worker', { workerData: o.init });
  let inFlight = 0;
  let wake: (() => void) | null = null;
  const done = new Promise<BatchTotals>((resolve, reject) => {
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'batch':
          try {
            o.onBatch(m.batch);
          } catch (e) {
            reject(e);
          }
          break;
        case 'ack':
          inFlight--;
          wake?.();
          wake = null;
          break;
        case 'diag':
          o.onDiag(m.diag);
          break;
        case 'facts':
          o.onFacts(m.facts);
          break;
        case 'done':
          resolve({ count: m.count, minTs: m.minTs, maxTs: m.maxTs });
          break;
        case 'error': {
          if (m.parse) reject(new ParseError(m.message, m.line ?? 0));
          else {
            const e = new Error(m.message);
            if (m.stack) e.stack = m.stack;
            reject(e);
          }
          break;
        }
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`parser worker exited with code ${code}`)));
  });
  done.catch(() => undefined); // observed below; avoid an unhandled rejection while feeding
  const check = () => {
    if (o.signal?.aborted) throw new InterruptedError(o.interruptedMessage);
  };
  try {
    for await (const c of o.chunks) {
      check();
      while (inFlight >= MAX_IN_FLIGHT) await Promise.race([new Promise<void>((r) => (wake = r)), done]);
      check();
      hash.update(c);
      const whole = c.byteOffset === 0 && c.byteLength === c.buffer.byteLength && c.buffer instanceof ArrayBuffer;
      const ab = whole ? (c.buffer as ArrayBuffer) : (c.buffer.slice(c.byteOffset, c.byteOffset + c.byteLength) as ArrayBuffer);
      inFlight++;
      worker.postMessage({ type: 'chunk', buf: ab, len: c.byteLength }, [ab]);
    }
    check();
    worker.postMessage({ type: 'end' });
    const totals = await done;
    check();
    return { ...totals, sha256: hash.digest('hex') };
  } finally {
    await worker.terminate();
  }
}
