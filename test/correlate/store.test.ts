/**
 * The request store spills full chunks to a temporary file beyond its memory budget: what it gives
 * back must be what it was given, whatever the chunk size, the budget and the order of reading.
 * The oracle is the input itself (plain objects), not the store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RequestStore, STATUS_CODES } from '../../src/correlate/store.js';
import type { FinishedRequest } from '../../src/correlate/engine.js';

const P = 4;
const ATTRS = ['$comm', '$pid', '$tgid', 'dev', 'rwbs'];

interface Input {
  status: number;
  t: (number | null)[];
  ev: (number | null)[];
  dom: number[];
  flags: number[];
  comm: string | null;
  pid: number | null;
  dev: string | null;
  io: [number, number, number];
}

const time = fc.option(fc.double({ min: -1e15, max: 1e15, noNaN: true }), { nil: null });
const input: fc.Arbitrary<Input> = fc.record({
  status: fc.integer({ min: 0, max: 2 }),
  t: fc.array(time, { minLength: P, maxLength: P }),
  ev: fc.array(fc.option(fc.integer({ min: 0, max: 0xffff_fffe }), { nil: null }), { minLength: P, maxLength: P }),
  dom: fc.array(fc.integer({ min: -1, max: 5 }), { minLength: P, maxLength: P }),
  flags: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: P, maxLength: P }),
  comm: fc.option(fc.constantFrom('fio', 'kworker/0:1', 'dd'), { nil: null }),
  pid: fc.option(fc.integer({ min: 1, max: 1 << 22 }), { nil: null }),
  dev: fc.option(fc.constantFrom('8,0', '254,0', '259,1'), { nil: null }),
  io: fc.tuple(fc.nat(100), fc.nat(100), fc.nat(0xffff_ffff)),
});

function finished(x: Input): FinishedRequest {
  return {
    status: STATUS_CODES[x.status]!,
    opener: 0,
    t: Float64Array.from(x.t, (v) => v ?? NaN),
    ev: Float64Array.from(x.ev, (v) => v ?? NaN),
    domain: Int32Array.from(x.dom),
    flags: Uint8Array.from(x.flags),
    fields: new Map(x.dev === null ? [['rwbs', 'R']] : [['dev', x.dev], ['rwbs', 'R']]),
    comm: x.comm,
    pid: x.pid,
    tgid: x.pid,
    bios: x.io[0],
    blockRequests: x.io[1],
    sectors: x.io[2],
  };
}

function check(store: RequestStore, inputs: Input[], i: number): void {
  const x = inputs[i]!;
  assert.equal(store.status(i), STATUS_CODES[x.status]);
  for (let p = 0; p < P; p++) {
    assert.deepEqual(store.t(i, p), x.t[p] ?? NaN, `t(${i}, ${p})`);
    assert.deepEqual(store.event(i, p), x.ev[p] ?? NaN, `event(${i}, ${p})`);
    assert.equal(store.domain(i, p), x.dom[p]);
    assert.equal(store.flags(i, p), x.flags[p]);
  }
  assert.equal(store.attr(i, '$comm'), x.comm ?? undefined);
  assert.equal(store.attr(i, '$pid'), x.pid === null ? undefined : String(x.pid));
  assert.equal(store.attr(i, 'dev'), x.dev ?? undefined);
  assert.equal(store.attr(i, 'rwbs'), 'R');
  assert.deepEqual([store.bios(i), store.blockRequests(i), store.sectors(i)], x.io);
  const first = x.t.find((v) => v !== null);
  assert.deepEqual(store.start(i), first ?? NaN);
}

describe('request store: spilling to disk changes nothing', () => {
  it('every value comes back, in any reading order, with chunks of 1 to 8 requests and 2 to 4 chunks in memory', () => {
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 120 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 2, max: 4 }), fc.array(fc.nat(), { maxLength: 200 }), (inputs, bits, chunks, reads) => {
        // The budget in bytes that keeps `chunks` chunks in memory.
        const bytesPerChunk = new RequestStore(P, ATTRS, { chunkBits: bits }).chunkBytes;
        const store = new RequestStore(P, ATTRS, { chunkBits: bits, residentBytes: chunks * bytesPerChunk });
        try {
          for (const x of inputs) store.request(finished(x));
          assert.equal(store.length, inputs.length);
          for (let i = 0; i < inputs.length; i++) check(store, inputs, i);
          for (const r of reads) check(store, inputs, r % inputs.length);
          for (let i = inputs.length - 1; i >= 0; i--) check(store, inputs, i);
          const full = Math.floor(inputs.length / 2 ** bits);
          if (full > chunks) assert.ok(store.spills > 0, 'beyond its budget the store spilled');
        } finally {
          store.dispose();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a store within its budget writes nothing', () => {
    const store = new RequestStore(P, ATTRS);
    const x: Input = { status: 0, t: [1, 2, 3, 4], ev: [1, 2, 3, 4], dom: [0, 0, 0, 0], flags: [0, 0, 0, 0], comm: 'fio', pid: 7, dev: '8,0', io: [1, 1, 8] };
    for (let i = 0; i < 70_000; i++) store.request(finished(x));
    check(store, [x], 0);
    assert.equal(store.spills, 0);
    store.dispose();
  });

  it('a spill directory that cannot be written is a clear error naming it and TMPDIR', () => {
    const store = new RequestStore(P, ATTRS, { chunkBits: 0, residentBytes: 0, spillDir: '/nonexistent/xtrace-spill' });
    const x: Input = { status: 0, t: [1, 2, 3, 4], ev: [1, 2, 3, 4], dom: [0, 0, 0, 0], flags: [0, 0, 0, 0], comm: 'fio', pid: 7, dev: '8,0', io: [1, 1, 8] };
    assert.throws(
      () => {
        for (let i = 0; i < 4; i++) store.request(finished(x));
      },
      /cannot create the request store's spill file in \/nonexistent\/xtrace-spill \(ENOENT\); set TMPDIR to a writable directory/,
    );
  });
});
