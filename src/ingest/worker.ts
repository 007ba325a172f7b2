/**
 * Parsing worker: bytes in (transferred chunks), batches of interned events out. Runs the parser
 * on the second core while the main thread inserts, so parse and insert overlap.
 * Protocol (main → worker): {type:'chunk', buf} ... {type:'end'}; the worker answers every chunk
 * with {type:'ack'} after posting the batches it produced, so the main thread can bound the
 * data in flight. Worker → main: batch, diag, facts, ack, done, error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parserByName } from '../../parsers/index.js';
import { ParseError } from '../core/errors.js';
import { BatchEncoder, type Batch } from './batch-encoder.js';

export interface WorkerInit {
  parser: string;
  path: string;
  tscHz?: number;
  strings: [string, number][];
  nextStringId: number;
}

const port = parentPort!;
const init = workerData as WorkerInit;
const parser = parserByName(init.parser)!;
const enc = new BatchEncoder(
  init.strings,
  init.nextStringId,
  (b: Batch) => port.postMessage({ type: 'batch', batch: b }, [b.nums.buffer as ArrayBuffer, b.argLens.buffer as ArrayBuffer]),
  (d) => port.postMessage({ type: 'diag', diag: d }),
  (f) => port.postMessage({ type: 'facts', facts: f }),
);
const p = parser.open(enc, { path: init.path, ...(init.tscHz !== undefined ? { tscHz: init.tscHz } : {}) });

function fail(e: unknown): void {
  if (e instanceof ParseError) port.postMessage({ type: 'error', parse: true, message: e.message, line: e.line });
  else port.postMessage({ type: 'error', parse: false, message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack });
}

let failed = false;
port.on('message', (m: { type: 'chunk'; buf: ArrayBuffer; len: number } | { type: 'end' }) => {
  if (failed) return;
  try {
    if (m.type === 'chunk') {
      p.write(Buffer.from(m.buf, 0, m.len));
      enc.flush();
      port.postMessage({ type: 'ack' });
    } else {
      p.end();
      enc.flush();
      port.postMessage({ type: 'done', count: enc.count, minTs: enc.minTs, maxTs: enc.maxTs });
    }
  } catch (e) {
    failed = true;
    fail(e);
  }
});
