/**
 * `npm run bench` — ingestion benchmark (a benchmark, not a test).
 *
 * 1. Builds bench-data/linux-block-<N>mb.txt: the real capture samples/linux-block-default
 *    replicated with shifted timestamps until it is at least BENCH_MB (default 1024) MB.
 * 2. Times `xtrace ingest` on it (fresh db): MB/s, events/s, peak RSS (the child's own maxRSS).
 * 3. Exports the same events pre-split as TSV and times the sqlite3 shell's `.mode tabs` +
 *    `.import` of them into a table of the same columns; prints the ratio xtrace / sqlite3.
 * 4. Times `xtrace report` (correlate and store every request) and `xtrace export --format
 *    chrome-json` of every stored request (and of the first 1000: peak RSS must not grow with them).
 * Generated data lives in bench-data/ (git-ignored) and is reused when already there.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dataDir = join(root, 'bench-data');
const targetMb = Number(process.env['BENCH_MB'] ?? 1024);
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const TS_RE = /^(.*?\]\s+\S*\s*)(\d+)\.(\d{6})(:.*)$/;

async function makeInput(): Promise<string> {
  const out = join(dataDir, `linux-block-${targetMb}mb.txt`);
  if (existsSync(out) && statSync(out).size >= targetMb * 1e6) return out;
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
  for (let rep = 0; bytes < targetMb * 1e6; rep++) {
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

function run(cmd: string, args: string[], input?: string): { secs: number; stdout: string; stderr: string; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...(input !== undefined ? { input } : {}) });
  return { secs: (performance.now() - t0) / 1000, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function peakRssOfSqlite(args: string[], input: string): { secs: number; rssKb: number } {
  const r = run('/usr/bin/time', ['-f', '%M', 'sqlite3', ...args], input);
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  return { secs: r.secs, rssKb: Number(lines[lines.length - 1]) };
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error('build first: npm run build');
  console.error(`bench: preparing ≥ ${targetMb} MB input …`);
  const input = await makeInput();
  const size = statSync(input).size;
  const db = join(dataDir, 'bench.db');
  rmSync(db, { force: true });
  console.error(`bench: xtrace ingest ${(size / 1e6).toFixed(0)} MB …`);
  const x = run(process.execPath, [cli, 'ingest', '--quiet', '--json', '--db', db, input]);
  if (x.status !== 0) throw new Error(`xtrace ingest failed: ${x.stderr}`);
  const summary = JSON.parse(x.stdout) as { files: { events: number; unparsed_lines: number; lines: number }[]; peak_rss_bytes: number };
  const f = summary.files[0]!;

  console.error('bench: exporting the same events as TSV …');
  const tsv = join(dataDir, 'events.tsv');
  const exp = run('sqlite3', [db, '-cmd', '.mode tabs', '-cmd', `.output ${tsv}`, 'SELECT source_id, line, ts_ns, cpu, pid, tgid, comm, name, flags, args FROM events']);
  if (exp.status !== 0) throw new Error(`export failed: ${exp.stderr}`);
  const sdb = join(dataDir, 'sqlite-import.db');
  rmSync(sdb, { force: true });
  console.error('bench: sqlite3 .import …');
  const imp = peakRssOfSqlite(
    [sdb],
    `CREATE TABLE events(source_id INTEGER, line INTEGER, ts_ns INTEGER, cpu INTEGER, pid INTEGER, tgid INTEGER, comm TEXT, name TEXT, flags TEXT, args TEXT);
.mode tabs
.import ${tsv} events
`,
  );
  const imported = Number(run('sqlite3', [sdb, 'SELECT count(*) FROM events']).stdout.trim());
  rmSync(tsv, { force: true });
  rmSync(sdb, { force: true });

  console.error('bench: xtrace report --profile linux-block (correlate, statistic, store every request) …');
  const rep = join(dataDir, 'report.json');
  const r = run('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'report', '--db', db, '--profile', 'linux-block', '--format', 'json', '--out', rep]);
  if (r.status !== 0) throw new Error(`xtrace report failed: ${r.stderr}`);
  const repRssKb = Number(r.stderr.trim().split('\n').pop());
  const model = JSON.parse(readFileSync(rep, 'utf8')) as { requests: { total: number; complete: number }; runs: unknown[] };
  rmSync(rep, { force: true });

  // The export streams: its peak RSS with every request should be that of the first thousand.
  const exported = (limit: number | null): { secs: number; rssKb: number; line: string; bytes: number } => {
    console.error(`bench: xtrace export --format chrome-json${limit ? ` --limit ${limit}` : ''} …`);
    const out = join(dataDir, 'trace.json');
    const e = run('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'export', '--db', db, '--out', out, ...(limit ? ['--limit', String(limit)] : [])]);
    if (e.status !== 0) throw new Error(`xtrace export failed: ${e.stderr}`);
    const lines = e.stderr.trim().split('\n');
    const bytes = statSync(out).size;
    rmSync(out, { force: true });
    return { secs: e.secs, rssKb: Number(lines.pop()), line: lines.pop() ?? '', bytes };
  };
  const few = exported(1000);
  const all = exported(null);

  const mbs = size / 1e6 / x.secs;
  const evs = f.events / x.secs;
  const rows = [
    ['input', `${(size / 1e6).toFixed(0)} MB, ${f.lines} lines, ${f.events} events, ${f.unparsed_lines} lines not understood`],
    ['xtrace ingest', `${x.secs.toFixed(2)} s  ${mbs.toFixed(1)} MB/s  ${(evs / 1e3).toFixed(0)}k events/s  peak RSS ${(summary.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`],
    ['sqlite3 .import (pre-split TSV)', `${imp.secs.toFixed(2)} s  ${(imported / imp.secs / 1e3).toFixed(0)}k rows/s  peak RSS ${(imp.rssKb / 1024).toFixed(0)} MiB  (${imported} rows)`],
    ['ratio xtrace / sqlite3', (x.secs / imp.secs).toFixed(2)],
    ['targets', '≥ 80 MB/s, ≥ 700k events/s, ratio ≤ 1.0, peak RSS ≤ 400 MiB'],
    ['xtrace report (linux-block)', `${r.secs.toFixed(2)} s  ${model.requests.total} requests (${model.requests.complete} complete, ${model.runs.length} runs)  ${(model.requests.total / r.secs / 1e3).toFixed(0)}k requests/s  peak RSS ${(repRssKb / 1024).toFixed(0)} MiB`],
    ['targets', '≤ 15 s, peak RSS ≤ 400 MB'],
    ['xtrace export (chrome-json, all)', `${all.secs.toFixed(2)} s  ${(all.bytes / 1e6).toFixed(0)} MB written  peak RSS ${(all.rssKb / 1024).toFixed(0)} MiB  (${all.line.replace(/^[^:]*: /, '')})`],
    ['xtrace export --limit 1000', `${few.secs.toFixed(2)} s  ${(few.bytes / 1e6).toFixed(1)} MB written  peak RSS ${(few.rssKb / 1024).toFixed(0)} MiB`],
  ];
  for (const [k, v] of rows) console.log(`${k!.padEnd(34)} ${v}`);
}

await main();
