/**
 * `npm run bench` — the speed and memory figures of issue 13, each with its target, from one run
 * (a benchmark, not a test).
 *
 * Input: bench-data/linux-block-<N>mb.txt, the real capture samples/linux-block-default (fio
 * O_DIRECT reads with the event mix of a real capture: pread64 syscalls, block, irq,
 * sched_switch/sched_wakeup with their long args, trace_marker run markers) replicated with
 * shifted timestamps until it is at least BENCH_MB (default 1024) MB.
 * 1. `xtrace ingest` of it into a fresh database; the sqlite3 shell's `.import` of the same events
 *    as a 7-column TSV (comm, pid, cpu, flags, ts_ns, name, args; no index, journal off) is the
 *    yardstick every time target is a fraction of.
 * 2. `xtrace report` (correlate, statistic, store every request with its stage rows), its peak RSS.
 * 3. SQL on that database: every named query with its defaults, and two ad hoc questions.
 * 4. `xtrace compare` of the database with itself; `xtrace export --format chrome-json`.
 * 5. Size (BENCH_BIG_MB, default 5000; 0 skips it): ingest and report of a ≥ 4 GB input (≥ 4 M
 *    requests); peak RSS must not grow with the trace.
 * BENCH_PARTS=speed (1-4) or size (5) runs one part.
 * Generated data lives in bench-data/ (git-ignored) and is reused when already there.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dataDir = join(root, 'bench-data');
const targetMb = Number(process.env['BENCH_MB'] ?? 1024);
const bigMb = Number(process.env['BENCH_BIG_MB'] ?? 5000);
/** BENCH_PARTS=speed or size: only that part (the size part measures memory, which another load does not change). */
const parts = (process.env['BENCH_PARTS'] ?? 'speed,size').split(',');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const TS_RE = /^(.*?\]\s+\S*\s*)(\d+)\.(\d{6})(:.*)$/;

async function makeInput(mb: number): Promise<string> {
  const out = join(dataDir, `linux-block-${mb}mb.txt`);
  if (existsSync(out) && statSync(out).size >= mb * 1e6) return out;
  mkdirSync(dataDir, { recursive: true });
  const src = gunzipSync(readFileSync(join(root, 'samples', 'linux-block-default', 'trace.txt.gz'))).toString('utf8');
  const lines = src.split('\n').filter((l) => l.length > 0);
  const header = lines.filter((l) => l.startsWith('#'));
  const body = lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      const m = TS_RE.exec(l);
      if (!m) throw new Error(`bench: cannot shift line: ${l}`);
      return { pre: m[1]!, us: Number(m[2]) * 1e6 + Number(m[3]), post: m[4]! };
    });
  const first = body[0]!.us;
  const span = body[body.length - 1]!.us - first + 1000;
  const w = createWriteStream(out);
  w.write(header.filter((l) => !l.includes('entries-in-buffer')).join('\n') + '\n');
  let bytes = 0;
  for (let rep = 0; bytes < mb * 1e6; rep++) {
    let chunk = '';
    const shift = rep * span;
    for (const b of body) {
      const us = b.us + shift;
      const sec = Math.floor(us / 1e6);
      chunk += `${b.pre}${sec}.${String(us - sec * 1e6).padStart(6, '0')}${b.post}\n`;
    }
    bytes += Buffer.byteLength(chunk);
    if (!w.write(chunk)) await once(w, 'drain');
  }
  w.end();
  await once(w, 'finish');
  return out;
}

interface Timed {
  secs: number;
  rssMiB: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time: wall time, the child's peak RSS; throws on failure. */
function timed(what: string, cmd: string, args: string[], input?: string): Timed {
  console.error(`bench: ${what} …`);
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, ...(input !== undefined ? { input } : {}) });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`bench: ${what} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const lines = r.stderr.trim().split('\n');
  return { secs, rssMiB: Number(lines.pop()) / 1024, stdout: r.stdout, stderr: lines.join('\n') };
}

const xtrace = (what: string, args: string[]): Timed => timed(what, process.execPath, [cli, ...args]);

interface Figure {
  name: string;
  value: string;
  target: string;
  met: boolean | null;
}

const figures: Figure[] = [];
function figure(name: string, value: string, target = '', met: boolean | null = null): void {
  figures.push({ name, value, target, met });
}
const s2 = (x: number): string => `${x.toFixed(2)} s`;
const mib = (x: number): string => `${x.toFixed(0)} MiB`;
/** A time against a fraction of the import's. */
function vsImport(name: string, t: Timed, importSecs: number, fraction: number, extra = ''): void {
  figure(name, `${s2(t.secs)} (${(t.secs / importSecs).toFixed(2)}× import)${extra}`, `≤ ${fraction}× import = ${s2(fraction * importSecs)}`, t.secs <= fraction * importSecs);
}
function rss(name: string, t: Timed, limitMiB: number): void {
  figure(`  peak RSS`, mib(t.rssMiB), `≤ ${limitMiB} MiB`, t.rssMiB <= limitMiB);
  void name;
}

/** The time of the sqlite3 shell importing the database's events as the 7-column TSV. */
function sqliteImport(db: string): { t: Timed; rows: number } {
  const tsv = join(dataDir, 'events.tsv');
  timed('exporting the events as a 7-column TSV', 'sqlite3', [db, '-cmd', '.mode tabs', '-cmd', `.output ${tsv}`, 'SELECT comm, pid, cpu, flags, ts_ns, name, args FROM events ORDER BY id']);
  const sdb = join(dataDir, 'sqlite-import.db');
  rmSync(sdb, { force: true });
  const t = timed(
    'sqlite3 .import',
    'sqlite3',
    [sdb],
    `PRAGMA journal_mode = OFF;
CREATE TABLE events(comm TEXT, pid INTEGER, cpu INTEGER, flags TEXT, ts_ns INTEGER, name TEXT, args TEXT);
.mode tabs
.import ${tsv} events
`,
  );
  const rows = Number(spawnSync('sqlite3', [sdb, 'SELECT count(*) FROM events'], { encoding: 'utf8' }).stdout.trim());
  rmSync(tsv, { force: true });
  rmSync(sdb, { force: true });
  return { t, rows };
}

/**
 * What SQLite alone needs for the rows a command stores or reads, with no parsing, matching or
 * binding from JavaScript: the sqlite3 shell copying them from the bench database into a fresh
 * file (journal off, as the import). No xtrace can be faster than this on the machine; it says
 * how much room a target leaves for everything else.
 */
function sqliteFloor(db: string, what: string, tables: string[], extra: string): number {
  const fdb = join(dataDir, 'floor.db');
  rmSync(fdb, { force: true });
  const schema = (t: string, type: string): string =>
    spawnSync('sqlite3', [db, `SELECT group_concat(sql || ';', char(10)) FROM sqlite_schema WHERE tbl_name = '${t}' AND sql IS NOT NULL AND type = '${type}'`], { encoding: 'utf8' })
      .stdout.trim()
      .replace(/^CREATE (TABLE|INDEX) "?(\w+)"?/gm, 'CREATE $1 main.$2');
  // Tables, rows, then the indexes (sorted once, as ingest builds its index by name).
  const sql = `PRAGMA journal_mode = OFF;
ATTACH '${db}' AS src;
${tables.map((t) => schema(t, 'table')).join('\n')}
BEGIN;
${tables.map((t) => `INSERT INTO main.${t} SELECT * FROM src.${t};`).join('\n')}
${tables.map((t) => schema(t, 'index')).join('\n')}
${extra}
COMMIT;
`;
  const t = timed(`sqlite3 alone: ${what}`, 'sqlite3', [fdb], sql);
  rmSync(fdb, { force: true });
  return t.secs;
}

interface IngestJson {
  files: { events: number; unparsed_lines: number; lines: number }[];
  peak_rss_bytes: number;
}

function ingest(db: string, input: string): { t: Timed; f: IngestJson['files'][number] } {
  rmSync(db, { force: true });
  const t = xtrace(`xtrace ingest ${(statSync(input).size / 1e6).toFixed(0)} MB`, ['ingest', '--quiet', '--json', '--db', db, input]);
  return { t, f: (JSON.parse(t.stdout) as IngestJson).files[0]! };
}

function report(db: string): { t: Timed; total: number; complete: number; runs: number } {
  const out = join(dataDir, 'report.json');
  const t = xtrace('xtrace report --profile linux-block (correlate, statistic, store every request and its stage rows)', ['report', '--quiet', '--db', db, '--profile', 'linux-block', '--format', 'json', '--out', out]);
  const m = JSON.parse(readFileSync(out, 'utf8')) as { requests: { total: number; complete: number }; runs: unknown[] };
  rmSync(out, { force: true });
  return { t, total: m.requests.total, complete: m.requests.complete, runs: m.runs.length };
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error('build first: npm run build');
  if (parts.includes('speed')) await speed();
  if (parts.includes('size') && bigMb > 0) await size();
  const width = Math.max(...figures.map((f) => f.name.length)) + 2;
  for (const f of figures) {
    const mark = f.met === null ? '' : f.met ? '  ✓' : '  ✗ NOT MET';
    console.log(`${f.name.padEnd(width)}${f.value}${f.target ? `   [target ${f.target}]` : ''}${mark}`);
  }
  const missed = figures.filter((f) => f.met === false).length;
  console.log(missed === 0 ? 'every target met' : `${missed} target(s) not met`);
  writeFileSync(join(dataDir, `bench-results-${parts.join('-')}.json`), JSON.stringify({ date: new Date().toISOString(), figures }, null, 2));
}

async function speed(): Promise<void> {
  console.error(`bench: preparing ≥ ${targetMb} MB input …`);
  const input = await makeInput(targetMb);
  const size = statSync(input).size;
  const db = join(dataDir, 'bench.db');

  const ing = ingest(db, input);
  const mix = spawnSync('sqlite3', [db, 'SELECT name, count(*) FROM events GROUP BY name ORDER BY 2 DESC'], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => l.replace('|', ' ')).join(', ');
  const imp = sqliteImport(db);
  const I = imp.t.secs;
  figure('input', `${(size / 1e6).toFixed(0)} MB, ${ing.f.lines} lines, ${ing.f.events} events, ${ing.f.unparsed_lines} lines not understood`);
  figure('  event mix', mix);
  figure('sqlite3 .import (7-column TSV)', `${s2(I)}  ${(imp.rows / I / 1e3).toFixed(0)}k rows/s  (${imp.rows} rows, no index, journal off)`, 'the yardstick');
  vsImport('xtrace ingest', ing.t, I, 0.7, `  ${(size / 1e6 / ing.t.secs).toFixed(1)} MB/s  ${(ing.f.events / ing.t.secs / 1e3).toFixed(0)}k events/s`);
  rss('ingest', ing.t, 400);

  const rep = report(db);
  vsImport('xtrace report (linux-block)', rep.t, I, 0.4, `  ${rep.total} requests (${rep.complete} complete, ${rep.runs} runs)`);
  rss('report', rep.t, 400);

  // The floors: SQLite's share of ingest (the events and their index) and of a report (reading the
  // events linux-block needs with their values, storing the requests and their stage rows).
  const fIngest = sqliteFloor(db, 'the events table and its index by name', ['event_data'], '');
  figure('  SQLite alone, ingest\'s rows', `${s2(fIngest)} (${(fIngest / I).toFixed(2)}× import): the sqlite3 shell copying event_data and its index, no parsing`, `room left under 0.7× import: ${s2(0.7 * I - fIngest)}`);
  const fReport = sqliteFloor(
    db,
    "the report's events read, its requests and stage rows stored",
    ['requests', 'request_stage_data'],
    "SELECT total(ts_ns), total(length(args)) FROM src.event_data WHERE name_id NOT IN (SELECT id FROM src.strings WHERE value IN ('sched_switch', 'sched_wakeup'));",
  );
  figure('  SQLite alone, report\'s rows', `${s2(fReport)} (${(fReport / I).toFixed(2)}× import): reading its 5.5 M events' values, copying requests and stage rows, no matching`, `room left under 0.4× import: ${s2(0.4 * I - fReport)}`);

  const named = readdirSync(join(root, 'queries', 'named')).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
  for (const q of named) vsImport(`query ${q}`, xtrace(`xtrace query ${q}`, ['query', '--db', db, q]), I, 0.1);
  for (const sql of ["SELECT stage, avg(duration_ns) FROM request_stages WHERE status = 'complete' GROUP BY stage", 'SELECT name, count(*) FROM events GROUP BY name'])
    vsImport(`query "${sql}"`, xtrace(`xtrace query "${sql}"`, ['query', '--db', db, sql]), I, 0.1);

  const cmp = xtrace('xtrace compare of the database with itself', ['compare', '--quiet', '-p', 'linux-block', '--format', 'json', db, db]);
  figure('xtrace compare (bench db with itself)', s2(cmp.secs));
  rss('compare', cmp, 400);

  const exported = (limit: number | null): void => {
    const out = join(dataDir, 'trace.json');
    const e = xtrace(`xtrace export --format chrome-json${limit ? ` --limit ${limit}` : ''}`, ['export', '--db', db, '--out', out, ...(limit ? ['--limit', String(limit)] : [])]);
    const bytes = statSync(out).size;
    rmSync(out, { force: true });
    figure(`xtrace export${limit ? ` --limit ${limit}` : ' (chrome-json, all)'}`, `${s2(e.secs)}  ${(bytes / 1e6).toFixed(1)} MB written  peak RSS ${mib(e.rssMiB)}`);
  };
  exported(1000);
  exported(null);

}

async function size(): Promise<void> {
  console.error(`bench: preparing ≥ ${bigMb} MB input …`);
  const bigInput = await makeInput(bigMb);
  const bigDb = join(dataDir, 'bench-big.db');
  const big = ingest(bigDb, bigInput);
  figure(`size: ingest ${(statSync(bigInput).size / 1e9).toFixed(2)} GB`, `${s2(big.t.secs)}  ${big.f.events} events`);
  rss('big ingest', big.t, 400);
  const bigRep = report(bigDb);
  figure(`size: report ${(bigRep.total / 1e6).toFixed(2)} M requests`, `${s2(bigRep.t.secs)}`, '≥ 4 M requests', bigRep.total >= 4e6);
  rss('big report', bigRep.t, 600);
  rmSync(bigDb, { force: true });
}

await main();
