/**
 * Request filters (`--filter`): the parse rules, one test per bad filter, and on real captures
 * against fio's own counts (a direction filter on a mixed read/write capture keeps exactly fio's
 * reads, or its writes), the report's account of what was left out, and compare's refusal of
 * sides filtered differently.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { parseFilters } from '../../src/pipeline/filters.js';
import { loadProfile } from '../../src/profiles/index.js';
import { InputError } from '../../src/core/errors.js';

const linuxBlock = loadProfile('linux-block');

describe('--filter parsing', () => {
  it('a key the profile does not have is refused with the keys it has', () => {
    assert.throws(
      () => parseFilters(['opcode=READ'], linuxBlock),
      (e: unknown) => e instanceof InputError && /--filter opcode=READ: no request field "opcode" in this profile \(keys: comm, pid, tgid, dev, op, rwbs\)/.test(e.message),
    );
    // io_uring labels its opcode.
    assert.equal(parseFilters(['opcode=READ'], loadProfile('io_uring')).length, 1);
  });
  it('KEY=VALUE is required, and a value', () => {
    assert.throws(() => parseFilters(['fio'], linuxBlock), /--filter fio: expected KEY=VALUE/);
    assert.throws(() => parseFilters(['comm='], linuxBlock), /--filter comm=: empty value/);
  });
});

describe('--filter on real captures', () => {
  let dir: { dir: string; cleanup: () => void };
  const db = (name: string): string => join(dir.dir, `${name}.db`);
  before(() => {
    dir = tempDir();
    for (const name of ['randrw', 'randread-4jobs']) assert.equal(xtrace(['ingest', join(SAMPLES, 'workloads', name, 'trace.txt.gz'), '--db', db(name), '--quiet']).status, 0);
  });
  after(() => dir.cleanup());

  const fioCounts = (name: string, run: number): { read: number; write: number } => {
    const j = JSON.parse(readFileSync(join(SAMPLES, 'workloads', name, `fio-run${run}.json`), 'utf8')) as { jobs: { read: { total_ios: number }; write: { total_ios: number } }[] };
    return { read: j.jobs.reduce((a, x) => a + x.read.total_ios, 0), write: j.jobs.reduce((a, x) => a + x.write.total_ios, 0) };
  };

  for (const [op, dir_] of [
    ['R', 'read'],
    ['W', 'write'],
  ] as const) {
    it(`op=${op} keeps exactly fio's ${dir_}s of each run (randrw)`, () => {
      const r = xtrace(['report', '--db', db('randrw'), '-p', 'linux-block', '--filter', 'comm=fio*', '--filter', `op=${op}`, '--format', 'json']);
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout) as { runs: { run: string; complete: number }[]; method: { filters: string[] }; requests: { filtered_out: number } };
      assert.deepEqual(m.method.filters, ['comm=fio*', `op=${op}`]);
      assert.ok(m.requests.filtered_out > 0);
      assert.deepEqual(
        m.runs.map((x) => x.complete),
        m.runs.map((x) => fioCounts('randrw', Number(x.run))[dir_]),
      );
    });
  }

  it('the table says what the filter left out and whose requests are averaged', () => {
    const r = xtrace(['report', '--db', db('randread-4jobs'), '-p', 'linux-block', '--filter', 'comm=fio*']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^filter: comm=fio\* \(left out \d+ requests\)$/m);
    assert.match(r.stdout, /^tasks: fio 2000$/m);
  });

  it('a filter that leaves nothing is named in the refusal', () => {
    const r = xtrace(['report', '--db', db('randread-4jobs'), '-p', 'linux-block', '--filter', 'comm=nosuchtask']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--filter comm=nosuchtask removed every complete request/);
  });

  it('compare refuses sides filtered differently, and compares sides filtered alike', () => {
    const saved = join(dir.dir, 'fio.json');
    assert.equal(xtrace(['report', '--db', db('randread-4jobs'), '-p', 'linux-block', '--filter', 'comm=fio*', '--format', 'json', '--out', saved]).status, 0);
    const differ = xtrace(['compare', saved, db('randread-4jobs'), '-p', 'linux-block']);
    assert.equal(differ.status, 2);
    assert.match(differ.stderr, /cannot compare: the baseline's requests were filtered with --filter comm=fio\*, the candidate's with no --filter/);
    const alike = xtrace(['compare', saved, db('randread-4jobs'), '-p', 'linux-block', '--filter', 'comm=fio*']);
    assert.ok(alike.status === 0 || alike.status === 1, alike.stderr);
  });
});
