/**
 * Inputs that report size 0 and still hold data (issue 12): a FIFO, a process substitution
 * (`<(zcat t.gz)`, a /dev/fd pipe), a tracefs `trace` file. They are read as streams; only a regular
 * file that gives no byte is "empty". The tracefs case needs root: it mounts a private tracefs
 * (the global mount and its state are untouched), makes its own instance, writes two run markers
 * into it, ingests the instance's `trace` and removes the instance.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, SAMPLES, tempDir, xtrace } from '../helpers.js';
import { gunzipSync } from 'node:zlib';
import { openDb } from '../../src/db/db.js';

const t = tempDir();
after(() => t.cleanup());
const sample = join(SAMPLES, 'linux-block-default', 'trace.txt.gz');

function events(db: string): number {
  const d = openDb(db, { readonly: true });
  try {
    return d.prepare<{ n: number }>('SELECT count(*) AS n FROM events').get()!.n;
  } finally {
    d.close();
  }
}

describe('ingest from pipes and tracefs', () => {
  const plain = join(t.dir, 'plain.db');
  it('the sample as a file (the count the streams must reach)', () => {
    const r = xtrace(['ingest', '--db', plain, sample]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('a process substitution, <(zcat t.gz): /dev/fd/N, size 0', () => {
    const db = join(t.dir, 'fd.db');
    const r = spawnSync('bash', ['-c', `"$0" --import tsx "$1" ingest --db "$2" <(zcat "$3")`, process.execPath, join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), db, sample], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(events(db), events(plain));
  });

  it('a FIFO, compressed', () => {
    const fifo = join(t.dir, 'trace.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // The writer gives up after 60 s: an ingest that never opens the FIFO must fail the test, not hang it.
    const writer = spawnSync('bash', ['-c', `timeout 60 sh -c 'cat "$0" > "$1"' "$0" "$1" & "$2" --import tsx "$3" ingest --db "$4" "$1"; s=$?; wait; exit $s`, sample, fifo, process.execPath, join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), join(t.dir, 'fifo.db')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(writer.status, 0, writer.stderr);
    assert.equal(events(join(t.dir, 'fifo.db')), events(plain));
  });

  it('a .gz: the rate is of the decompressed trace (textBytes), the stored size the bytes read', async () => {
    const { results, cleanup } = await ingestAll([sample]);
    try {
      assert.equal(results[0]!.textBytes, gunzipSync(readFileSync(sample)).length);
      assert.equal(results[0]!.bytes, readFileSync(sample).length);
    } finally {
      cleanup();
    }
  });

  it('a regular file of 0 bytes is still refused as empty', () => {
    const empty = join(t.dir, 'empty.txt');
    writeFileSync(empty, '');
    const r = xtrace(['ingest', '--db', join(t.dir, 'empty.db'), empty]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /empty\.txt: empty file, not a trace/);
  });

  it('a tracefs trace file (root: a private tracefs mount and an instance of its own)', (tt) => {
    if (process.getuid?.() !== 0) return tt.skip('needs root to mount tracefs');
    const mnt = join(t.dir, 'tracing');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', mnt], { encoding: 'utf8' });
    if (m.status !== 0) return tt.skip(`cannot mount tracefs here: ${m.stderr.trim()}`);
    const instance = join(mnt, 'instances', `xtrace-test-${process.pid}`);
    try {
      mkdirSync(instance);
      writeFileSync(join(instance, 'trace_marker'), 'xtrace: run=1 begin\n');
      writeFileSync(join(instance, 'trace_marker'), 'xtrace: run=1 end\n');
      const file = join(instance, 'trace');
      assert.ok(readFileSync(file, 'utf8').includes('xtrace: run=1 end'), 'the instance holds the markers');
      const db = join(t.dir, 'tracefs.db');
      const r = xtrace(['ingest', '--db', db, file]);
      assert.equal(r.status, 0, r.stderr);
      const d = openDb(db, { readonly: true });
      try {
        const rows = d.prepare<{ args: string }>("SELECT args FROM events WHERE args LIKE 'xtrace: run=%' ORDER BY id").all();
        assert.deepEqual(
          rows.map((x) => x.args),
          ['xtrace: run=1 begin', 'xtrace: run=1 end'],
        );
      } finally {
        d.close();
      }
    } finally {
      if (existsSync(instance)) rmdirSync(instance);
      spawnSync('umount', [mnt]);
    }
  });
});
