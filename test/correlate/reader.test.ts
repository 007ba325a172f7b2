/**
 * The event reader (events.ts) has SQLite format each chunk of events as one text and parses it.
 * What it hands over must be exactly the stored rows: the oracle is the same rows selected column
 * by column (better-sqlite3), over any args text (spaces, newlines, NULs, characters beyond the
 * BMP), negative relative times, NULL fields, a REAL where an integer was expected, chunks of the
 * full size, and the case SQLite never showed but does not exclude: a chunk concatenated out of
 * id order (read again with the order spelled out).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { tempDir } from '../helpers.js';
import { openDb, type Db } from '../../src/db/db.js';
import { chunkSql, mergeSources, READ_CHUNK, type ReadPlan } from '../../src/correlate/events.js';

interface Ev {
  ts: number;
  pid: number | null;
  cpu: number | null;
  comm: number | null;
  name: number;
  args: string;
}

const FIELDS = ['pid', 'cpu', 'comm_id'];

function withDb(events: Ev[], body: (db: Db, first: number, last: number) => void): void {
  const t = tempDir();
  const db = openDb(`${t.dir}/r.db`, { create: true });
  try {
    db.exec("INSERT INTO sources(id, path, sha256, bytes, format, domain, has_time_base, lines, events, unparsed_lines, lost_events, ingested_at, xtrace_version) VALUES (1, 'x', 'x', 0, 'ftrace', 'default', 1, 0, 0, 0, 0, 'now', 'test')");
    const ins = db.prepare('INSERT INTO event_data(source_id, line, ts_ns, cpu, pid, comm_id, name_id, args) VALUES (1, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => events.forEach((e, k) => ins.run(k + 1, e.ts, e.cpu, e.pid, e.comm, e.name, e.args)));
    const ids = db.prepare<{ lo: number; hi: number }>('SELECT min(id) AS lo, max(id) AS hi FROM event_data').get()!;
    body(db, ids.lo, ids.hi);
  } finally {
    db.close();
    t.cleanup();
  }
}

function plan(first: number, last: number, firstTs: bigint): ReadPlan {
  return {
    sql: chunkSql(FIELDS, 'args', null),
    orderedSql: chunkSql(FIELDS, 'args', null, true),
    fieldColumns: FIELDS.length,
    argsParams: [],
    params: [],
    sources: [{ id: 1, domain: 0, firstTs, firstEvent: first, lastEvent: last, rel0: 0, shift: 0, rate: 0 }],
  };
}

type Got = [number, number, number, ...(number | null)[], string];

function read(db: Db, p: ReadPlan): Got[] {
  const got: Got[] = [];
  mergeSources(db, p, (id, _d, t, name, args, fields, at) => {
    const f = Array.from({ length: FIELDS.length }, (_, k) => (Number.isNaN(fields[at + k]!) ? null : fields[at + k]!));
    got.push([id, t, name, ...f, args] as Got);
  });
  return got;
}

function oracle(db: Db, firstTs: bigint): Got[] {
  return db.prepare<Got>('SELECT id, ts_ns - ?, name_id, pid, cpu, comm_id, args FROM event_data ORDER BY id', { raw: true }).all(firstTs);
}

const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: fc.constantFrom(' ', '\n', '\0', '😀', 'é', 'a', '1', '-'), maxLength: 20 }), fc.constant(''));
const ev: fc.Arbitrary<Ev> = fc.record({
  ts: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }),
  pid: fc.option(fc.integer({ min: 0, max: 2 ** 31 }), { nil: null }),
  cpu: fc.option(fc.integer({ min: 0, max: 4096 }), { nil: null }),
  comm: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null }),
  name: fc.integer({ min: 1, max: 1000 }),
  args: text,
});

describe('event reader: the chunk text gives back the stored rows', () => {
  it('any args text, times and NULL fields (property)', () => {
    fc.assert(
      fc.property(fc.array(ev, { minLength: 1, maxLength: 60 }), (events) => {
        withDb(events, (db, first, last) => {
          const firstTs = BigInt(events[0]!.ts);
          assert.deepEqual(read(db, plan(first, last, firstTs)), oracle(db, firstTs));
        });
      }),
      { numRuns: 60 },
    );
  });

  it('several full chunks, and a REAL in an integer column', () => {
    const events: Ev[] = Array.from({ length: 2 * READ_CHUNK + 17 }, (_, k) => ({ ts: k * 1000 - 5000, pid: k % 7 === 0 ? null : k, cpu: k % 4, comm: 3, name: 1 + (k % 5), args: k % 3 === 0 ? '' : `254,0 R ${k} + 8 [fio]\n😀` }));
    withDb(events, (db, first, last) => {
      db.exec('UPDATE event_data SET cpu = 2.5 WHERE id = 10');
      assert.deepEqual(read(db, plan(first, last, 0n)), oracle(db, 0n));
    });
  });

  it('a chunk concatenated out of id order is read again in order', () => {
    const events: Ev[] = Array.from({ length: 50 }, (_, k) => ({ ts: k, pid: k, cpu: 0, comm: 1, name: 2, args: `e${k}` }));
    withDb(events, (db, first, last) => {
      let reordered = 0;
      // The fast statement (no ORDER BY in the aggregate) returns its first two events swapped.
      const swapped: Db = Object.create(db) as Db;
      swapped.prepare = (<Row>(sql: string, o?: { raw?: boolean }) => {
        const st = db.prepare<Row>(sql, o);
        if (sql.includes('ORDER BY id)')) return st;
        return {
          ...st,
          get: (...p: unknown[]) => {
            const row = st.get(...(p as [])) as unknown as [string | null] | undefined;
            if (!row?.[0]) return row as Row | undefined;
            const lines = row[0].split('\n');
            if (lines.length > 1) [lines[0], lines[1]] = [lines[1]!, lines[0]!];
            reordered++;
            return [lines.join('\n')] as unknown as Row;
          },
        };
      }) as Db['prepare'];
      assert.deepEqual(read(swapped, plan(first, last, 0n)), oracle(db, 0n));
      assert.ok(reordered > 0, 'the fast statement was used and gave a reordered chunk');
    });
  });
});
