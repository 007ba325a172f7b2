/**
 * Reader thread (see events.ts): runs the source merge against its own read-only connection and
 * posts batches of events; waits while IN_FLIGHT batches are not consumed.
 */
import { workerData } from 'node:worker_threads';
import { openDb } from '../db/db.js';
import { BATCH, BATCH_FIELDS, batchStride, IN_FLIGHT, mergeSources, type ReaderBatch, type ReaderInit } from './events.js';

const init = workerData as ReaderInit;
const flags = new Int32Array(init.flags);
let produced = 0;

function post(b: ReaderBatch, transfer: ArrayBuffer[]): void {
  // Back-pressure: at most IN_FLIGHT batches between the threads.
  for (;;) {
    const consumed = Atomics.load(flags, 1);
    if (produced - consumed < IN_FLIGHT) break;
    Atomics.wait(flags, 1, consumed, 1000);
  }
  init.port.postMessage(b, transfer);
  produced++;
  Atomics.store(flags, 0, produced);
  Atomics.notify(flags, 0);
}

const stride = batchStride(init.plan);
const fieldColumns = init.plan.fieldColumns;
let nums = new Float64Array(BATCH * stride);
let lens = new Int32Array(BATCH);
let args: string[] = [];
let n = 0;

function flush(done: boolean, count?: number): void {
  post({ n, nums, args: args.join(''), lens, ...(done ? { done: true, count: count! } : {}) }, [nums.buffer as ArrayBuffer, lens.buffer as ArrayBuffer]);
  nums = new Float64Array(BATCH * stride);
  lens = new Int32Array(BATCH);
  args = [];
  n = 0;
}

try {
  const db = openDb(init.dbPath, { readonly: true });
  const count = mergeSources(db, init.plan, (id, domain, t, nameId, a, fields, at) => {
    const k = n * stride;
    nums[k] = id;
    nums[k + 1] = t;
    nums[k + 2] = domain;
    nums[k + 3] = nameId;
    for (let f = 0; f < fieldColumns; f++) nums[k + BATCH_FIELDS + f] = fields[at + f]!;
    lens[n] = a.length;
    if (a.length) args.push(a);
    n++;
    if (n === BATCH) flush(false);
  });
  db.close();
  flush(true, count);
} catch (e) {
  post({ n: 0, nums: new Float64Array(0), args: '', lens: new Int32Array(0), error: (e as Error).message }, []);
}
