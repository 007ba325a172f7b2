/**
 * Progress of long commands: the report pipeline tells its listener how far it got (reading and
 * matching the events per pass, the statistic, storing the requests, a final call), with `done`
 * never going back within a phase and each phase with a total ending at it, on both event
 * readers; and the CLI's progress line (its text, shown only after a second, at most four times a
 * second, erased at the end). The terminal itself is not tested: a spawned process has no TTY.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { READERS, analyseWith, tempDir } from '../helpers.js';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { loadProfile } from '../../src/profiles/index.js';
import { PROGRESS_DELAY_MS, PROGRESS_INTERVAL_MS, progressLine, progressText } from '../../src/cli/progress.js';

type Call = [phase: string, done: number, total: number | null];

describe('progress of the report pipeline', () => {
  let dir: { dir: string; cleanup: () => void };
  let db: Db;
  let events = 0;

  before(async () => {
    dir = tempDir();
    // Two domains (several passes), and more events than one progress report's worth (65536).
    const sim = simulate({ backend: 'blkback', out: join(dir.dir, 'sim'), runs: 3, requests: 2000, seed: 1 });
    db = openDb(join(dir.dir, 'sim.db'), { create: true });
    for (const f of sim.files) events += (await ingestFile(db, { path: f.path }, { domain: f.domain })).events;
  });
  after(() => {
    db.close();
    dir.cleanup();
  });

  for (const reader of READERS) {
    it(`calls back with increasing done per phase, each phase ending at its total, then a final call (${reader} reader)`, async () => {
      assert.ok(events > 65536, `the fixture has ${events} events`);
      const calls: Call[] = [];
      await analyseWith(db, reader, { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total', onProgress: (...c) => calls.push(c) });
      const phases = calls.map((c) => c[0]).filter((p, i, all) => p !== all[i - 1]);
      assert.equal(new Set(phases).size, phases.length, `a phase comes back: ${phases.join(' → ')}`);
      assert.equal(phases[0], 'aligning clocks');
      assert.ok(phases.includes('reading and matching events, pass 1') && phases.includes('reading and matching events, pass 2'), phases.join(' → '));
      assert.deepEqual(phases.slice(-3), ['computing the statistic', 'storing requests', 'done']);
      assert.deepEqual(calls.at(-1), ['done', 1, 1]);
      for (const phase of phases) {
        const mine = calls.filter((c) => c[0] === phase);
        for (let k = 1; k < mine.length; k++) assert.ok(mine[k]![1] >= mine[k - 1]![1], `${phase}: done went back from ${mine[k - 1]![1]} to ${mine[k]![1]}`);
        const last = mine.at(-1)!;
        if (last[2] !== null) {
          assert.equal(last[1], last[2], `${phase} ends at its total`);
          assert.ok(mine.every((c) => c[2] === last[2] && c[1] <= last[2]!), `${phase}: one total, never passed`);
        }
      }
      // The reading moves: reports along the way, not only the final one.
      const pass1 = calls.filter((c) => c[0] === 'reading and matching events, pass 1');
      assert.ok(pass1.length >= 2, `${pass1.length} calls while reading`);
      assert.ok(pass1[0]![1] > 0 && pass1[0]![1] < pass1[0]![2]!, `first report ${pass1[0]![1]} of ${pass1[0]![2]}`);
      assert.ok(calls.some((c) => c[0] === 'storing requests' && c[1] === 0));
    });
  }

  it('without a listener, nothing changes: the same report', async () => {
    const o = { profile: loadProfile('xen-blkback'), warmup: 0, trim: 0.1, trimBy: 'total' as const, save: false };
    const quiet = await analyseWith(db, 'inline', o);
    const told = await analyseWith(db, 'inline', { ...o, onProgress: () => {} });
    assert.deepEqual(told.model.stages, quiet.model.stages);
  });
});

describe('the progress line', () => {
  it('says the phase, done of total with thousands separated, and the percentage', () => {
    assert.equal(progressText('reading and matching events', 1_234_567, 9_876_543), 'reading and matching events: 1,234,567 of 9,876,543 (12.5%)');
    assert.equal(progressText('storing requests', 0, 826_000), 'storing requests: 0 of 826,000 (0.0%)');
    assert.equal(progressText('storing requests', 5, 5), 'storing requests: 5 of 5 (100.0%)');
    assert.equal(progressText('computing the statistic', 0, null), 'computing the statistic…');
    assert.equal(progressText('empty', 0, 0), 'empty: 0 of 0 (100.0%)');
  });

  it('appears after a second, is rewritten at most every 250 ms, and is erased at the end', () => {
    let now = 0;
    const out: string[] = [];
    const line = progressLine((t) => out.push(t), { now: () => now });
    line.onProgress('reading', 1, 10);
    now = PROGRESS_DELAY_MS - 1;
    line.onProgress('reading', 2, 10);
    assert.deepEqual(out, [], 'nothing in the first second');
    now = PROGRESS_DELAY_MS;
    line.onProgress('reading', 3, 10);
    assert.deepEqual(out, ['\rreading: 3 of 10 (30.0%)\x1b[K']);
    now += PROGRESS_INTERVAL_MS - 1;
    line.onProgress('reading', 4, 10);
    assert.equal(out.length, 1, 'not again within 250 ms');
    now += 1;
    line.onProgress('storing requests', 0, null);
    assert.equal(out.at(-1), '\rstoring requests…\x1b[K');
    line.clear();
    assert.equal(out.at(-1), '\r\x1b[K');
    line.clear();
    assert.equal(out.length, 3, 'erased once');
  });

  it('erases nothing when nothing was shown (a quick command), and cuts a line wider than the terminal', () => {
    const out: string[] = [];
    const quick = progressLine((t) => out.push(t), { now: () => 0 });
    quick.onProgress('reading', 1, 2);
    quick.clear();
    assert.deepEqual(out, []);
    let now = 0;
    const cut: string[] = [];
    const narrow = progressLine((t) => cut.push(t), { now: () => now, width: 10 });
    now = PROGRESS_DELAY_MS;
    narrow.onProgress('reading', 1, 2);
    assert.deepEqual(cut, ['\rreading: \x1b[K']);
  });
});
