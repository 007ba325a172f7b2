/**
 * xtrace export --format parquet, proven with an independent reader: DuckDB (@duckdb/node-api, a
 * devDependency; its parquet reader is DuckDB's own C++, nothing of hyparquet-writer's). The files
 * of two reports (the linux-block capture reported as two CI runners with different commits, trims
 * and a --filter) are read back and compared with what SQL on the same databases returns
 * (better-sqlite3, integers as bigint): the same rows, values and types; nulls stay null, start
 * times past 2^53 stay exact. Then the row groups (memory: the rows are read while the file is
 * written), the usage errors, what the directory keeps, and the README's fleet query, run on the
 * exported files and checked against SQL.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { DuckDBInstance, DuckDBMapValue, type DuckDBConnection } from '@duckdb/node-api';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { parseFilters } from '../../src/pipeline/filters.js';
import { loadProfile } from '../../src/profiles/index.js';
import { writeParquet } from '../../src/export/parquet.js';
import type { RequestStageRow, StoredReport } from '../../src/export/records.js';
import { openDirectory } from '../../src/cli/output.js';
import { ROOT, SAMPLES, tempDir, xtrace } from '../helpers.js';

/** 2^53 + 1: the first integer a double cannot hold. */
const PAST_2_53 = 9007199254740993n;

/** The README's query (section "Parquet: leaving one machine"): per-stage history across hosts and commits. */
const FLEET_QUERY = `SELECT stage, host, meta['commit'] AS commit, min(created_at) AS reported,
       count(*) AS requests, round(avg(duration_ns) / 1000, 3) AS mean_us
FROM read_parquet('fleet/**/request_stages.parquet', union_by_name = true)
WHERE kept = 1
GROUP BY ALL
ORDER BY stage, host, reported;`;

const STAGE_COLUMNS = ['correlation_id', 'created_at', 'xtrace_version', 'profile', 'host', 'meta', 'filters', 'run', 'request_id', 'seq', 'status', 'kept', 'filtered', 'stage', 'pos', 'from_point', 'to_point', 'duration_ns', 'start_ts_ns'];
const SUMMARY_COLUMNS = ['correlation_id', 'created_at', 'xtrace_version', 'profile', 'host', 'meta', 'filters', 'warmup', 'trim', 'trim_by', 'run', 'stage', 'pos', 'from_pos', 'population', 'count', 'mean_ns', 'median_ns', 'p90_ns', 'p99_ns', 'min_ns', 'max_ns', 'mean_contribution_ns'];

/** The same rows read with SQL from the database: request_stages with its request's and report's columns. */
const STAGES_SQL = `SELECT c.id AS correlation_id, c.created_at, c.xtrace_version, c.profile, c.host, c.meta, c.filters,
       s.run, s.request_id, r.seq, s.status, r.kept, r.filtered, s.stage, s.pos, s.from_point, s.to_point, s.duration_ns, r.start_ts_ns
FROM request_stages s JOIN requests r ON r.id = s.request_id JOIN correlations c ON c.id = s.correlation_id`;
const SUMMARY_SQL = `SELECT c.id AS correlation_id, c.created_at, c.xtrace_version, c.profile, c.host, c.meta, c.filters, c.warmup, c.trim, c.trim_by,
       s.run, s.stage, s.pos, s.from_pos, s.population, s.count, s.mean_ns, s.median_ns, s.p90_ns, s.p99_ns, s.min_ns, s.max_ns, s.mean_contribution_ns
FROM stage_summary s JOIN correlations c ON c.id = s.correlation_id`;

/** DuckDB's type of each column, from SQLite's: INTEGER → BIGINT, REAL → DOUBLE, TEXT → VARCHAR, meta → a map. */
const DUCK_TYPES: Record<string, string> = {
  meta: 'MAP(VARCHAR, VARCHAR)',
  trim: 'DOUBLE',
  mean_ns: 'DOUBLE',
  mean_contribution_ns: 'DOUBLE',
  ...Object.fromEntries(
    ['correlation_id', 'request_id', 'seq', 'kept', 'filtered', 'pos', 'from_pos', 'duration_ns', 'start_ts_ns', 'warmup', 'count', 'median_ns', 'p90_ns', 'p99_ns', 'min_ns', 'max_ns'].map((c) => [c, 'BIGINT']),
  ),
};
const duckType = (column: string): string => DUCK_TYPES[column] ?? 'VARCHAR';

/**
 * One value as a text that keeps its type: a bigint `12n`, a double `12d`, a string quoted, a map
 * its [key, value] pairs in order. SQLite's meta (a JSON object text) is compared as the map it is.
 */
function canon(v: unknown, column: string): string {
  if (v === null) return 'null';
  if (column === 'meta') {
    const pairs = v instanceof DuckDBMapValue ? v.entries.map((e) => [e.key, e.value]) : Object.entries(JSON.parse(v as string) as Record<string, string>);
    return 'map' + JSON.stringify(pairs);
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return `${v}d`;
  if (typeof v === 'string') return JSON.stringify(v);
  throw new Error(`${column}: unexpected value ${String(v)} (${typeof v})`);
}

/** The CLI as `xtrace` in helpers.ts, without waiting: the usage cases run side by side. */
function xtraceAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (e, stdout, stderr) => {
      resolve({ status: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const rowText = (r: Record<string, unknown>, columns: readonly string[]): string => columns.map((c) => canon(r[c], c)).join(' | ');
const sqlPath = (p: string): string => `'${p.replace(/'/g, "''")}'`;

describe('xtrace export --format parquet', () => {
  let dir: ReturnType<typeof tempDir>;
  let duck: DuckDBInstance;
  let q: DuckDBConnection;
  let dbA: string;
  let dbB: string;
  let fleet: string;
  /** Rows of a DuckDB query, as objects (BIGINT as bigint). */
  const duckRows = async (sql: string): Promise<Record<string, unknown>[]> => (await q.runAndReadAll(sql)).getRowObjects();

  before(async () => {
    dir = tempDir();
    duck = await DuckDBInstance.create(':memory:');
    q = await duck.connect();
    const base = join(dir.dir, 'base.db');
    const db = openDb(base, { create: true });
    await ingestFile(db, { path: join(SAMPLES, 'linux-block-default', 'trace.txt.gz') }, { domain: 'default' });
    db.close();
    dbA = join(dir.dir, 'a.db');
    dbB = join(dir.dir, 'b.db');
    copyFileSync(base, dbA);
    copyFileSync(base, dbB);
    const profile = loadProfile('linux-block');
    const a = openDb(dbA);
    analyse(a, { profile, warmup: 0, trim: 0.1, trimBy: 'total', meta: { commit: '3f2a1c9', branch: 'main' }, host: 'ci-runner-1' });
    a.close();
    // The second runner: another commit, another trim, a --filter (its filtered-out requests are
    // exported with filtered = 1), and a machine up for 105 days: its ns clock is past 2^53.
    const b = openDb(dbB);
    analyse(b, { profile, warmup: 1, trim: 0.2, trimBy: 'stage', filters: parseFilters(['comm=fio*'], profile), meta: { commit: '9d8e7f6', 'run.kind': 'nightly' }, host: 'ci-runner-2' });
    b.exec(`UPDATE requests SET start_ts_ns = start_ts_ns + ${PAST_2_53}`);
    b.close();
    fleet = join(dir.dir, 'fleet');
    for (const [db, out] of [
      [dbA, join(fleet, 'ci-runner-1', 'r1')],
      [dbB, join(fleet, 'ci-runner-2', 'r1')],
    ] as const) {
      const r = xtrace(['export', '--db', db, '--format', 'parquet', '--out', out]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^.*: request_stages\.parquet \d+ rows \(1 row group\), stage_summary\.parquet \d+ rows \(1 row group\)\n$/);
    }
  });
  after(() => {
    q?.closeSync();
    duck?.closeSync();
    dir.cleanup();
  });

  /** Every row of `table` in the exported file equals SQL's (sorted lists), columns and types included. */
  async function sameAsSql(db: Db, file: string, sql: string, columns: readonly string[]): Promise<{ rows: Record<string, unknown>[]; sqlRows: Record<string, unknown>[] }> {
    const described = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(file)})`);
    assert.deepEqual(
      described.map((d) => `${String(d['column_name'])} ${String(d['column_type'])}`),
      columns.map((c) => `${c} ${duckType(c)}`),
    );
    const rows = await duckRows(`SELECT * FROM read_parquet(${sqlPath(file)})`);
    const sqlRows = db.prepare<Record<string, unknown>>(sql, { bigints: true }).all();
    assert.ok(sqlRows.length > 0);
    assert.equal(rows.length, sqlRows.length);
    const got = rows.map((r) => rowText(r, columns)).sort();
    const want = sqlRows.map((r) => rowText(r, columns)).sort();
    assert.deepEqual(got, want);
    return { rows, sqlRows };
  }

  it('request_stages.parquet: every request × stage row of SQL, same values and types (both reports)', async () => {
    for (const [path, out] of [
      [dbA, join(fleet, 'ci-runner-1', 'r1')],
      [dbB, join(fleet, 'ci-runner-2', 'r1')],
    ] as const) {
      const db = openDb(path, { readonly: true });
      try {
        const { rows } = await sameAsSql(db, join(out, 'request_stages.parquet'), STAGES_SQL, STAGE_COLUMNS);
        const stored = db.prepare<{ n: number }>('SELECT count(*) AS n FROM request_stage_data').get()!.n;
        assert.equal(rows.length, stored, 'every stored stage row, filtered-out requests included');
      } finally {
        db.close();
      }
    }
  });

  it('stage_summary.parquet: every stage_summary row of SQL, same values and types, with the method of the kept population', async () => {
    for (const [path, out] of [
      [dbA, join(fleet, 'ci-runner-1', 'r1')],
      [dbB, join(fleet, 'ci-runner-2', 'r1')],
    ] as const) {
      const db = openDb(path, { readonly: true });
      try {
        const { rows } = await sameAsSql(db, join(out, 'stage_summary.parquet'), SUMMARY_SQL, SUMMARY_COLUMNS);
        assert.ok(rows.some((r) => r['population'] === 'kept') && rows.some((r) => r['stage'] === 'total'));
      } finally {
        db.close();
      }
    }
  });

  it('nulls stay null, integers stay BIGINT, start times past 2^53 come back exact, the report labels are there', async () => {
    const a = await duckRows(`SELECT duration_ns, status, meta['commit'] AS commit, meta['branch'] AS branch, host, filters FROM read_parquet(${sqlPath(join(fleet, 'ci-runner-1', 'r1', 'request_stages.parquet'))})`);
    const nulls = a.filter((r) => r['duration_ns'] === null);
    assert.ok(nulls.length > 0 && nulls.every((r) => r['status'] !== 'complete'), 'requests without a point have null durations');
    assert.ok(a.every((r) => r['duration_ns'] === null || typeof r['duration_ns'] === 'bigint'));
    assert.ok(a.every((r) => r['commit'] === '3f2a1c9' && r['branch'] === 'main' && r['host'] === 'ci-runner-1' && r['filters'] === '[]'));

    const fileB = sqlPath(join(fleet, 'ci-runner-2', 'r1', 'request_stages.parquet'));
    const b = await duckRows(`SELECT request_id, start_ts_ns, filtered, kept, run, meta['run.kind'] AS kind, filters FROM read_parquet(${fileB})`);
    const db = openDb(dbB, { readonly: true });
    try {
      const starts = new Map(db.prepare<{ id: bigint; start: bigint }>('SELECT id, start_ts_ns AS start FROM requests', { bigints: true }).all().map((r) => [r.id, r.start]));
      for (const r of b) assert.equal(r['start_ts_ns'], starts.get(r['request_id'] as bigint));
    } finally {
      db.close();
    }
    const beyond = b.filter((r) => (r['start_ts_ns'] as bigint) > PAST_2_53);
    assert.ok(beyond.length > 0);
    assert.ok(beyond.some((r) => BigInt(Number(r['start_ts_ns'])) !== r['start_ts_ns']), 'values a double would round (a path through Number would fail this test)');
    assert.ok(b.some((r) => r['filtered'] === 1n) && b.filter((r) => r['filtered'] === 1n).every((r) => r['kept'] === 0n && r['run'] === null));
    assert.ok(b.every((r) => r['kind'] === 'nightly' && r['filters'] === '["comm=fio*"]'));
    // DuckDB reads the filters as JSON text.
    const f = await duckRows(`SELECT DISTINCT json_extract_string(filters, '$[0]') AS f FROM read_parquet(${fileB})`);
    assert.deepEqual(f, [{ f: 'comm=fio*' }]);
  });

  it('the exporter alone: a fractional duration rounded to the ns, int64 extremes, a null host, meta keys and filters of any text', async () => {
    const out = join(dir.dir, 'synthetic');
    const report: StoredReport = {
      correlationId: 7,
      profile: 'p',
      createdAt: '2026-01-02T03:04:05.678Z',
      xtraceVersion: '9.9.9',
      meta: { commit: 'abc', 'key.with-dots': 'é ✓ "quoted", comma' },
      host: null,
      filters: ["comm='fio*'", 'op=R'],
      warmup: 3,
      trim: 0.25,
      trimBy: 'stage',
      runs: null,
    };
    const row = (k: number, duration: bigint | number | null, start: bigint): RequestStageRow => [k % 2 ? null : 'r1', BigInt(k), BigInt(k), 'complete', 1n, 0n, 'a->b', 1n, 'a', 'b', duration, start];
    const rows = [row(1, 12.4, 1n), row(2, -12.6, 2n), row(3, 2n ** 62n, 2n ** 63n - 1n), row(4, null, -(2n ** 63n)), row(5, 0n, PAST_2_53)];
    const d = openDirectory(out);
    const summary = await writeParquet({ report, requestStages: rows, stageSummary: [] }, d.file);
    d.finish();
    assert.deepEqual(summary.files, [
      { name: 'request_stages.parquet', rows: 5, rowGroups: 1 },
      { name: 'stage_summary.parquet', rows: 0, rowGroups: 0 },
    ]);
    const back = await duckRows(`SELECT request_id, run, duration_ns, start_ts_ns, host, meta, filters, correlation_id FROM read_parquet(${sqlPath(join(out, 'request_stages.parquet'))}) ORDER BY request_id`);
    assert.deepEqual(
      back.map((r) => [r['request_id'], r['run'], r['duration_ns'], r['start_ts_ns'], r['host'], r['correlation_id']]),
      [
        [1n, null, 12n, 1n, null, 7n],
        [2n, 'r1', -13n, 2n, null, 7n],
        [3n, null, 2n ** 62n, 2n ** 63n - 1n, null, 7n],
        [4n, 'r1', null, -(2n ** 63n), null, 7n],
        [5n, null, 0n, PAST_2_53, null, 7n],
      ],
    );
    assert.equal(canon(back[0]!['meta'], 'meta'), canon(JSON.stringify(report.meta), 'meta'));
    assert.deepEqual(JSON.parse(back[0]!['filters'] as string), report.filters);
    const empty = await duckRows(`SELECT count(*) AS n FROM read_parquet(${sqlPath(join(out, 'stage_summary.parquet'))})`);
    assert.deepEqual(empty, [{ n: 0n }]);
    const trim = await duckRows(`DESCRIBE SELECT warmup, trim, trim_by FROM read_parquet(${sqlPath(join(out, 'stage_summary.parquet'))})`);
    assert.deepEqual(trim.map((t) => t['column_type']), ['BIGINT', 'DOUBLE', 'VARCHAR']);
  });

  it('row groups: --row-group-rows N makes groups of N rows; the rows are read while the file is written, not all first', async () => {
    const out = join(dir.dir, 'groups');
    const r = xtrace(['export', '--db', dbA, '--format', 'parquet', '--out', out, '--row-group-rows', '1000']);
    assert.equal(r.status, 0, r.stderr);
    const file = join(out, 'request_stages.parquet');
    const groups = await duckRows(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlPath(file)}) ORDER BY row_group_id`);
    const db = openDb(dbA, { readonly: true });
    const n = db.prepare<{ n: number }>('SELECT count(*) AS n FROM request_stage_data').get()!.n;
    db.close();
    assert.ok(n > 5000, `${n} rows`);
    const expected = Array.from({ length: Math.ceil(n / 1000) }, (_, k) => ({ row_group_id: BigInt(k), row_group_num_rows: BigInt(Math.min(1000, n - k * 1000)) }));
    assert.deepEqual(groups, expected);
    assert.match(r.stderr, new RegExp(`request_stages\\.parquet ${n} rows \\(${expected.length} row groups\\)`));
    // Still the same rows.
    const count = await duckRows(`SELECT count(*) AS n, count(DISTINCT (request_id, stage)) AS k FROM read_parquet(${sqlPath(file)})`);
    assert.deepEqual(count, [{ n: BigInt(n), k: BigInt(n) }]);

    // Streaming: 200,000 rows in groups of 10,000; the file's first megabyte is written before
    // half of them have been read (the rows are never all held at once).
    let pulled = 0;
    let pulledAtFirstWrite = -1;
    function* many(): Generator<RequestStageRow> {
      for (let k = 0; k < 200_000; k++) {
        pulled++;
        yield [String(k % 7), BigInt(k), BigInt(k), 'complete', 1n, 0n, `s${k % 5}->t`, BigInt(k % 5), `s${k % 5}`, 't', BigInt((k * 7919) % 100_003), BigInt(k) * 1_000_003n];
      }
    }
    const synthetic = join(dir.dir, 'stream');
    const d = openDirectory(synthetic);
    const report: StoredReport = { correlationId: 1, profile: 'p', createdAt: 'now', xtraceVersion: '0', meta: {}, host: 'h', filters: [], warmup: 0, trim: 0, trimBy: 'total', runs: null };
    const file2 = (name: string): ((chunk: Uint8Array) => void) => {
      const write = d.file(name);
      return (chunk) => {
        if (pulledAtFirstWrite < 0 && name === 'request_stages.parquet') pulledAtFirstWrite = pulled;
        write(chunk);
      };
    };
    const s = await writeParquet({ report, requestStages: many(), stageSummary: [] }, file2, { rowGroupRows: 10_000 });
    d.finish();
    assert.deepEqual(s.files[0], { name: 'request_stages.parquet', rows: 200_000, rowGroups: 20 });
    assert.ok(pulledAtFirstWrite > 0 && pulledAtFirstWrite <= 100_000, `the first bytes were written after ${pulledAtFirstWrite} of 200000 rows were read`);
    const meta = await duckRows(`SELECT count(DISTINCT row_group_id) AS groups, sum(DISTINCT row_group_num_rows) AS per FROM parquet_metadata(${sqlPath(join(synthetic, 'request_stages.parquet'))})`);
    assert.deepEqual(meta, [{ groups: 20n, per: 10_000n }]);
  });

  it('usage: --out is required; --limit, --events and a re-applied --filter are refused; --row-group-rows is parquet only (exit 2, one line)', async () => {
    const cases: [string[], RegExp][] = [
      [['--format', 'parquet'], /^error: --format parquet writes a directory of files \(request_stages\.parquet, stage_summary\.parquet\): give --out DIR \(created when missing\)\n$/],
      [['--format', 'parquet', '--out', join(dir.dir, 'x'), '--limit', '3', '--events', '--filter', 'comm=fio*'], /^error: --limit, --events, --filter: not with --format parquet, .*WHERE run = '3' AND kept = 1.*\n$/],
      [['--out', join(dir.dir, 'x.json'), '--row-group-rows', '10'], /^error: --row-group-rows: only with --format parquet/],
      [['--format', 'parquet', '--out', join(dir.dir, 'x'), '--row-group-rows', '0'], /--row-group-rows.*expected a whole number ≥ 1/],
      [['--format', 'parquet', '--out', join(dir.dir, 'x'), '--run', 'nope'], /^error: --run nope: no such run in the stored requests of linux-block/],
    ];
    const file = join(dir.dir, 'a-file');
    writeFileSync(file, '');
    cases.push([['--format', 'parquet', '--out', file], new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: exists and is not a directory; give --out a directory \\(created when missing\\)\n$`)]);
    const results = await Promise.all(cases.map(([args]) => xtraceAsync(['export', '--db', dbA, ...args])));
    for (const [k, [args, message]] of cases.entries()) {
      const r = results[k]!;
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length <= 2, true, r.stderr);
    }
    assert.equal(existsSync(join(dir.dir, 'x')), false, 'a refused export creates no directory');
  });

  it('the directory: created when missing; its two files replaced, nothing else touched, no temporary file left; --run chooses both files', async () => {
    const out = join(dir.dir, 'existing');
    const first = xtrace(['export', '--db', dbA, '--format', 'parquet', '--out', out]);
    assert.equal(first.status, 0, first.stderr);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, 'stage_summary.parquet'), 'not parquet');
    const again = xtrace(['export', '--db', dbA, '--format', 'parquet', '--out', out, '--run', '3', '--run', '5']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['notes.txt', 'request_stages.parquet', 'stage_summary.parquet']);
    assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
    for (const f of ['request_stages.parquet', 'stage_summary.parquet']) {
      const runs = await duckRows(`SELECT DISTINCT run FROM read_parquet(${sqlPath(join(out, f))}) ORDER BY run`);
      assert.deepEqual(runs, [{ run: '3' }, { run: '5' }], f);
    }
  });

  it("the README's fleet query runs on a directory of exports and gives SQL's numbers, per stage, host and commit", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    // Once the README shows the query, it must be this one (the one run here).
    if (readme.includes("read_parquet('fleet/")) assert.ok(readme.includes(FLEET_QUERY), 'the README shows the fleet query this test runs');
    const here = FLEET_QUERY.replace("'fleet/", `'${fleet.replace(/'/g, "''")}/`);
    const got = await duckRows(here);
    // The same query with the mean unrounded, to compare with SQL's to the last digits.
    const exact = await duckRows(here.replace('round(avg(duration_ns) / 1000, 3)', 'avg(duration_ns)'));
    const want: Record<string, unknown>[] = [];
    for (const [path, host] of [
      [dbA, 'ci-runner-1'],
      [dbB, 'ci-runner-2'],
    ] as const) {
      const db = openDb(path, { readonly: true });
      try {
        const c = db.prepare<{ commit: string; created_at: string }>("SELECT json_extract(meta, '$.commit') AS \"commit\", created_at FROM correlations").get()!;
        for (const s of db.prepare<{ stage: string; n: number; mean: number }>('SELECT s.stage, count(*) AS n, avg(s.duration_ns) AS mean FROM request_stages s JOIN requests r ON r.id = s.request_id WHERE r.kept = 1 GROUP BY s.stage').all()) {
          want.push({ stage: s.stage, host, commit: c.commit, reported: c.created_at, requests: BigInt(s.n), mean_us: s.mean });
        }
      } finally {
        db.close();
      }
    }
    assert.ok(want.length >= 12);
    const key = (r: Record<string, unknown>): string => `${String(r['stage'])}|${String(r['host'])}`;
    want.sort((x, y) => (key(x) < key(y) ? -1 : 1));
    assert.equal(got.length, want.length);
    got.forEach((g, k) => {
      const w = want[k]!;
      assert.deepEqual({ ...g, mean_us: 0 }, { ...w, mean_us: 0 });
      const mean = exact[k]!['mean_us'] as number;
      const sql = w['mean_us'] as number;
      assert.ok(Math.abs(mean - sql) <= 1e-9 * Math.abs(sql), `${key(w)}: mean ${mean} ns, SQL ${sql} ns`);
      assert.ok(Math.abs((g['mean_us'] as number) - sql / 1000) <= 0.0005 + 1e-9, `${key(w)}: ${String(g['mean_us'])} µs shown, SQL ${sql} ns`);
    });
    // The two commits differ in what they kept (trim 0.1 against 0.2 by stage, a filter).
    const hosts = new Set(got.map((g) => `${String(g['host'])} ${String(g['commit'])}`));
    assert.deepEqual([...hosts].sort(), ['ci-runner-1 3f2a1c9', 'ci-runner-2 9d8e7f6']);
  });
});
