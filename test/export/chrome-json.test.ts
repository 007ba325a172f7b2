/**
 * xtrace export --format chrome-json: the Trace Event Format laws checked on real samples (the
 * linux-block capture, the simulated three-clock blktap2 trace, a batched blkback correlation)
 * against the stored requests read with plain SQL (xt_stage_times, xt_request_events), never with
 * the exporter's code: every slice is one stage of one request (a unique (request, stage) key), it
 * begins before it ends, it sits where the stored points say; slices of different requests never
 * overlap on one thread (neither viewer can nest them into each other); each request's flow joins
 * its own slices in path order; the counts equal the stored requests × stages; every process and
 * thread is named. Then what chooses the requests (--run, --limit, --filter), the outputs, and one
 * test per bad input.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { micros, requestStages, writeChromeJson } from '../../src/export/chrome-json.js';
import type { ExportInput, ExportRequest } from '../../src/export/records.js';
import { batchedReport } from '../report/batched.js';
import { ROOT, SAMPLES, tempDir, xtrace } from '../helpers.js';

interface TraceEvent {
  name: string;
  ph: string;
  cat?: string;
  ts?: number;
  dur?: number;
  pid?: number;
  tid?: number;
  s?: string;
  bind_id?: number;
  flow_in?: boolean;
  flow_out?: boolean;
  args?: Record<string, unknown>;
}
interface Trace {
  otherData: { profile: string; path: string[]; time_base_ns: number; runs: unknown };
  traceEvents: TraceEvent[];
  xtraceSummary: { requests: number; slices: number; flows: number; instants: number; tracks: number; lanes: number };
}

const METHOD = { warmup: 0, trim: 0.1, trimBy: 'total' as const };

/** Exports through the CLI (stdout) and parses the JSON. */
function exported(args: string[]): Trace {
  const r = xtrace(['export', ...args]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as Trace;
}

/** ts/dur (µs) back to whole ns. */
const ns = (us: number): number => Math.round(us * 1000);

interface SqlStage {
  request_id: number;
  stage: string;
  from_ns: number;
  duration_ns: number;
}

/**
 * Every law of the trace against the stored requests `where` selects (SQL on `requests r`),
 * read independently from the database. Returns the X events.
 */
function checkLaws(db: Db, t: Trace, where: string, withEvents: boolean): TraceEvent[] {
  const ev = t.traceEvents;
  const slices = ev.filter((e) => e.ph === 'X');
  const base = t.otherData.time_base_ns;
  const corr = `r.correlation_id = (SELECT id FROM correlations WHERE profile = '${t.otherData.profile}') AND r.filtered = 0 AND ${where}`;

  // The exported requests: how many, and the time base (the start of the first).
  const reqs = db.prepare<{ n: number; first: number }>(`SELECT count(*) AS n, (SELECT start_ts_ns FROM requests r WHERE ${corr} ORDER BY seq LIMIT 1) AS first FROM requests r WHERE ${corr}`).get()!;
  assert.equal(t.xtraceSummary.requests, reqs.n);
  assert.equal(base, reqs.first);

  // One slice per stage with both points present, no more, no less, each where the points say.
  const sql = db
    .prepare<SqlStage>(
      `SELECT s.request_id, s.stage, s.duration_ns, r.start_ts_ns + json_extract(r.points, '$[' || s.from_pos || ']') AS from_ns
       FROM xt_stage_times s JOIN requests r ON r.id = s.request_id WHERE s.duration_ns IS NOT NULL AND ${corr}`,
    )
    .all();
  const want = new Map(sql.map((s) => [`${s.request_id}|${s.stage}`, s]));
  const seen = new Set<string>();
  for (const x of slices) {
    const key = `${x.args!['request']}|${x.name}`;
    assert.ok(!seen.has(key), `slice ${key} twice`);
    seen.add(key);
    const s = want.get(key);
    assert.ok(s, `slice ${key} is no stored stage`);
    assert.ok(typeof x.ts === 'number' && typeof x.dur === 'number' && x.dur >= 0, `slice ${key} begins before it ends`);
    assert.equal(ns(x.ts) + base, Math.round(s.from_ns), key);
    assert.equal(ns(x.dur), Math.max(0, Math.round(s.duration_ns)), key);
    assert.equal(x.args!['duration_ns'], Math.round(s.duration_ns), key);
  }
  assert.equal(slices.length, want.size, 'slices = stored stages with both points present');
  assert.equal(t.xtraceSummary.slices, slices.length);

  // Requests in flight at once never share a thread in overlapping time: nothing nests wrongly.
  const byThread = new Map<string, TraceEvent[]>();
  for (const x of slices) byThread.set(`${x.pid}/${x.tid}`, [...(byThread.get(`${x.pid}/${x.tid}`) ?? []), x]);
  for (const [thread, xs] of byThread) {
    xs.sort((a, b) => a.ts! - b.ts!);
    for (let k = 1; k < xs.length; k++) {
      const a = xs[k - 1]!;
      const b = xs[k]!;
      const end = ns(a.ts!) + ns(a.dur!);
      if (a.args!['request'] === b.args!['request']) assert.ok(end <= ns(b.ts!), `${thread}: a request's own slices overlap`);
      else assert.ok(end < ns(b.ts!), `${thread}: request ${a.args!['request']} and ${b.args!['request']} overlap`);
    }
  }

  // Flows: each joins the slices of one request, in path order, out of the first, into the last.
  const pos = (x: TraceEvent): number => t.otherData.path.indexOf(x.name.split('->')[0]!);
  const byRequest = new Map<unknown, TraceEvent[]>();
  for (const x of slices) byRequest.set(x.args!['request'], [...(byRequest.get(x.args!['request']) ?? []), x]);
  let arrows = 0;
  for (const [request, xs] of byRequest) {
    if (xs.length === 1) {
      assert.equal(xs[0]!.bind_id, undefined, `request ${request}: a lone slice has no flow`);
      continue;
    }
    xs.sort((a, b) => pos(a) - pos(b));
    xs.forEach((x, k) => {
      assert.equal(x.bind_id, request, `request ${request}: its flow id`);
      assert.equal(x.flow_in, k > 0);
      assert.equal(x.flow_out, k < xs.length - 1);
      if (k) assert.ok(ns(x.ts!) >= ns(xs[k - 1]!.ts!), `request ${request}: path order in time`);
    });
    arrows += xs.length - 1;
  }
  assert.equal(t.xtraceSummary.flows, arrows);
  const flowIds = new Set(slices.filter((x) => x.bind_id !== undefined).map((x) => x.bind_id));
  assert.equal(flowIds.size, [...byRequest.values()].filter((xs) => xs.length > 1).length, 'one flow id per request');

  // The events the points took, each at its point's time, as the database has it.
  const instants = ev.filter((e) => e.ph === 'i');
  if (withEvents) {
    const points = db
      .prepare<{ event_id: number; point: string; ts_ns: number; name: string; line: number; cpu: number | null }>(
        `SELECT x.event_id, x.point, x.ts_ns, x.event AS name, x.line, x.cpu FROM xt_request_events x JOIN requests r ON r.id = x.request_id WHERE x.event_id IS NOT NULL AND ${corr}`,
      )
      .all();
    assert.equal(instants.length, points.length, 'one instant per point present');
    assert.equal(t.xtraceSummary.instants, points.length);
    const byEvent = new Map(points.map((p) => [`${p.event_id}|${p.point}`, p]));
    for (const i of instants) {
      const p = byEvent.get(`${i.args!['event_id']}|${i.args!['point']}`);
      assert.ok(p, `instant of event ${i.args!['event_id']}`);
      assert.equal(i.name, p.name);
      assert.equal(i.args!['line'], p.line);
      assert.equal(i.args!['cpu'], p.cpu);
      assert.equal(i.s, 't');
      assert.equal(ns(i.ts!) + base, Math.round(p.ts_ns));
    }
  } else assert.equal(instants.length, 0);

  // Every process and thread an event uses is named (and ordered).
  const meta = ev.filter((e) => e.ph === 'M');
  const procNames = new Set(meta.filter((m) => m.name === 'process_name' && m.args!['name']).map((m) => m.pid));
  const procOrder = new Set(meta.filter((m) => m.name === 'process_sort_index').map((m) => m.pid));
  const threadNames = new Set(meta.filter((m) => m.name === 'thread_name' && m.args!['name']).map((m) => `${m.pid}/${m.tid}`));
  for (const e of [...slices, ...instants]) {
    assert.ok(procNames.has(e.pid) && procOrder.has(e.pid), `process ${e.pid} named and ordered`);
    assert.ok(threadNames.has(`${e.pid}/${e.tid}`), `thread ${e.pid}/${e.tid} named`);
    assert.ok(!procNames.has(e.tid), 'no thread id is a process id');
  }
  assert.equal(procNames.size, t.xtraceSummary.tracks);
  assert.equal(threadNames.size, t.xtraceSummary.lanes);
  return slices;
}

describe('xtrace export --format chrome-json', () => {
  let dir: { dir: string; cleanup: () => void };
  let lbPath: string;
  let xenPath: string;
  let batchedPath: string;
  let lb: Db;
  let xen: Db;

  before(async () => {
    dir = tempDir();
    lbPath = join(dir.dir, 'lb.db');
    xenPath = join(dir.dir, 'xen.db');
    batchedPath = join(dir.dir, 'batched.db');
    const a = openDb(lbPath, { create: true });
    await ingestFile(a, { path: join(SAMPLES, 'linux-block-default', 'trace.txt.gz') }, { domain: 'default' });
    analyse(a, { profile: loadProfile('linux-block'), ...METHOD });
    a.close();
    const b = openDb(xenPath, { create: true });
    for (const [file, domain] of [
      ['guest.trace.gz', 'domU'],
      ['dom0.trace.gz', 'dom0'],
      ['tapdisk.xtbuf.gz', 'tapdisk'],
    ] as const)
      await ingestFile(b, { path: join(SAMPLES, 'sim-blktap2', file) }, { domain });
    analyse(b, { profile: loadProfile('xen-blktap2'), ...METHOD });
    b.close();
    const c = openDb(batchedPath, { create: true });
    await batchedReport(c, METHOD, true);
    c.close();
    lb = openDb(lbPath, { readonly: true });
    xen = openDb(xenPath, { readonly: true });
  });
  after(() => {
    lb.close();
    xen.close();
    dir.cleanup();
  });

  it('linux-block capture: every law, complete requests × 6 stages, and each point’s event', () => {
    const t = exported(['--db', lbPath, '--events']);
    const slices = checkLaws(lb, t, '1', true);
    const stored = lb.prepare<{ complete: number; stages: number }>("SELECT count(*) AS complete, (SELECT json_array_length(path) - 1 FROM correlations) AS stages FROM requests WHERE status = 'complete' AND filtered = 0").get()!;
    assert.equal(stored.stages, 6);
    assert.equal(slices.filter((x) => x.args!['status'] === 'complete').length, stored.complete * stored.stages);
    // Tracks: the host kernel and the device, one clock domain.
    const procs = t.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!['name']);
    assert.deepEqual(procs, ['host / dom0 kernel · default', 'device · default']);
    assert.ok(slices.filter((x) => x.name === 'rq_issue->irq').every((x) => x.cat === 'device'));
  });

  it('blktap2 (three clocks): every law; a track per layer and domain; flows cross the domains', () => {
    const t = exported(['--db', xenPath, '--events']);
    const slices = checkLaws(xen, t, '1', true);
    const procs = t.traceEvents.filter((e) => e.name === 'process_name').map((e) => String(e.args!['name']));
    for (const p of ['guest kernel · domU', 'host / dom0 kernel · dom0', 'userspace back end · tapdisk', 'hand-off between layers · domU→dom0']) assert.ok(procs.includes(p), p);
    // A complete request's flow visits the guest, dom0 and tapdisk tracks.
    const complete = slices.filter((x) => x.args!['status'] === 'complete' && x.args!['request'] === slices[0]!.args!['request']);
    const tracks = new Set(complete.map((x) => procs[x.pid! - 1]!.split(' · ')[1]));
    assert.ok(['domU', 'dom0', 'tapdisk'].every((d) => tracks.has(d)), [...tracks].join(', '));
    const incomplete = xen.prepare<{ n: number }>("SELECT count(*) AS n FROM requests WHERE status <> 'complete'").get()!.n;
    assert.ok(incomplete > 0, 'the sample has incomplete requests (their stages around a missing point are left out)');
  });

  it('batched requests: a merged stage slice where points are absent by design, as SQL counts them', () => {
    const db = openDb(batchedPath, { readonly: true });
    try {
      const t = exported(['--db', batchedPath]);
      const slices = checkLaws(db, t, '1', false);
      const merged = slices.filter((x) => x.args!['merged']);
      assert.ok(merged.some((x) => x.name === 'fe_queue->be_get_req'));
      const feToBe = merged.find((x) => x.name === 'fe_queue->be_get_req')!;
      assert.equal(feToBe.cat, 'handoff', 'a merged stage spanning the guest, the hand-off and dom0 is a hand-off');
      assert.match(String(feToBe.args!['merged']), /^fe_notify, be_irq absent by design/);
    } finally {
      db.close();
    }
  });

  it('--run and --limit choose what they say', () => {
    const runs = exported(['--db', lbPath, '--run', '3', '--run', '5']);
    checkLaws(lb, runs, "r.run IN ('3', '5')", false);
    assert.deepEqual(new Set(runs.traceEvents.filter((e) => e.ph === 'X').map((x) => x.args!['run'])), new Set(['3', '5']));
    assert.deepEqual(runs.otherData.runs, ['3', '5']);
    const limited = exported(['--db', xenPath, '--limit', '10']);
    checkLaws(xen, limited, 'r.seq IN (SELECT seq FROM requests ORDER BY seq LIMIT 10)', false);
    assert.equal(limited.xtraceSummary.requests, 10);
  });

  it('--filter on the stored requests keeps exactly what the same filter keeps when correlating', () => {
    const filters = ['--filter', 'comm=fio*', '--filter', 'op=R|W'];
    const stored = exported(['--db', lbPath, ...filters]);
    const where = "r.task_id IN (SELECT id FROM request_tasks WHERE comm GLOB 'fio*' AND op IN ('R', 'W'))";
    checkLaws(lb, stored, where, false);
    const notFio = lb.prepare<{ n: number }>("SELECT count(*) AS n FROM requests r JOIN request_tasks t ON t.id = r.task_id WHERE t.comm NOT GLOB 'fio*'").get()!.n;
    assert.ok(notFio > 0, 'the filter leaves requests out');
    const seqs = (t: Trace): number[] => [...new Set(t.traceEvents.filter((e) => e.ph === 'X').map((x) => x.args!['seq'] as number))].sort((a, b) => a - b);
    // Correlating again with the filter (a copy: this rewrites the stored requests).
    const copy = join(dir.dir, 'lb-copy.db');
    lb.prepare(`VACUUM INTO '${copy}'`).run();
    const again = exported(['--db', copy, '-p', 'linux-block', ...filters]);
    assert.deepEqual(seqs(again), seqs(stored));
    assert.equal(again.xtraceSummary.slices, stored.xtraceSummary.slices);

    const raw = xtrace(['export', '--db', lbPath, '--filter', 'rwbs=RS']);
    assert.equal(raw.status, 2);
    assert.match(raw.stderr, /^error: --filter rwbs=RS: the stored requests keep their direction \(op\), not the rwbs text; filter on op=…, or pass --profile linux-block/);
    assert.equal(raw.stdout, '');
  });

  it('--out writes the file whole (no temp file left); stdout closed early (| head) is not an error', () => {
    const out = join(dir.dir, 'trace.json');
    const r = xtrace(['export', '--db', lbPath, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /trace\.json: \d+ requests, \d+ stage slices, \d+ flow arrows on 2 tracks \(\d+ lanes\)\n$/);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), exported(['--db', lbPath]));
    assert.deepEqual(
      readdirSync(dir.dir).filter((f) => f.endsWith('.tmp')),
      [],
    );
    const head = spawnSync('bash', ['-c', `node --import tsx src/cli/main.ts export --db '${xenPath}' --events | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(head.stdout.trim(), '0', head.stderr);
    assert.doesNotMatch(head.stderr, /EPIPE|Error|error/);
  });

  it('bad input: no stored requests, an unknown run, a method flag without --profile (exit 2, one line)', () => {
    const bare = join(dir.dir, 'bare.db');
    assert.equal(xtrace(['ingest', '--db', bare, '--quiet', join(SAMPLES, 'linux-block-default', 'trace.txt.gz')]).status, 0);
    const cases: [string[], RegExp][] = [
      [['--db', bare], /^error: .*bare\.db: no stored requests to export; run `xtrace report --db .*bare\.db --profile NAME` first, or pass --profile NAME\n$/],
      [['--db', lbPath, '--run', '99'], /^error: --run 99: no such run in the stored requests of linux-block \(runs: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10\)\n$/],
      [['--db', lbPath, '--trim', '0.2'], /^error: --trim: only with --profile/],
      [['--db', lbPath, '--filter', 'comm=nosuch'], /^error: .*: no stored request of linux-block is left by --filter comm=nosuch/],
      [['--db', join(dir.dir, 'none.db')], /no such database/],
    ];
    for (const [args, message] of cases) {
      const r = xtrace(['export', ...args]);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
    assert.ok(!existsSync(join(dir.dir, 'none.db')));
  });
});

describe('chrome-json, the writer alone', () => {
  it('times are exact decimals of whole ns', () => {
    assert.equal(micros(0), '0');
    assert.equal(micros(1), '0.001');
    assert.equal(micros(1500), '1.5');
    assert.equal(micros(123456789012345), '123456789012.345');
    assert.equal(micros(-2001), '-2.001');
    assert.equal(micros(10.6), '0.011');
  });

  it('the stages of a request: merged across a gap of a complete request, split around a missing point otherwise', () => {
    const points = [0, null, null, 30, 40];
    assert.deepEqual(requestStages({ points, status: 'complete' }), [
      { from: 0, to: 3 },
      { from: 3, to: 4 },
    ]);
    assert.deepEqual(requestStages({ points, status: 'incomplete' }), [{ from: 3, to: 4 }]);
    assert.deepEqual(requestStages({ points: [null, 5, 9], status: 'orphan' }), [{ from: 1, to: 2 }]);
  });

  it('200 requests in flight at once (queue depth 8): no two requests share a lane at one time, each flow is its own', () => {
    // Deterministic durations: request i starts at i × 3 µs and its four stages last 1–20 µs each.
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const requests: ExportRequest[] = [];
    for (let i = 0; i < 200; i++) {
      const points: number[] = [0];
      for (let s = 0; s < 4; s++) points.push(points[s]! + 1000 + Math.floor(rand() * 19000));
      requests.push({ id: i + 1, seq: i, run: '1', status: 'complete', kept: 1, startNs: 10n ** 15n + BigInt(i * 3000), totalNs: points[4]!, points, domains: ['domU', 'domU', 'dom0', 'dom0', 'domU'], task: null, events: null });
    }
    const input: ExportInput = {
      correlation: {
        profile: 'synthetic',
        correlationId: 1,
        createdAt: '',
        xtraceVersion: '0',
        referenceDomain: 'domU',
        path: [
          { name: 'a', role: 'guest' },
          { name: 'b', role: 'guest' },
          { name: 'c', role: 'dom0' },
          { name: 'd', role: 'dom0' },
          { name: 'e', role: 'guest' },
        ],
        selection: { runs: null, limit: null, filters: [], correlatedNow: false },
      },
      requests,
    };
    const chunks: string[] = [];
    const summary = writeChromeJson(input, (c) => chunks.push(c));
    const text = chunks.join('');
    assert.match(text, /"time_base_ns":1000000000000000\}/, 'the base exactly, beyond 2^53');
    const t = JSON.parse(text) as Trace;
    const slices = t.traceEvents.filter((e) => e.ph === 'X');
    assert.equal(slices.length, 200 * 4);
    assert.equal(summary.flows, 200 * 3);
    // Lanes: one request at a time each.
    const lanes = new Map<string, TraceEvent[]>();
    for (const x of slices) lanes.set(`${x.pid}/${x.tid}`, [...(lanes.get(`${x.pid}/${x.tid}`) ?? []), x]);
    assert.ok(lanes.size > 4, 'overlapping requests spread over lanes');
    for (const xs of lanes.values()) {
      xs.sort((a, b) => a.ts! - b.ts!);
      for (let k = 1; k < xs.length; k++) {
        const a = xs[k - 1]!;
        const b = xs[k]!;
        if (a.args!['request'] !== b.args!['request']) assert.ok(ns(a.ts!) + ns(a.dur!) < ns(b.ts!));
      }
    }
    for (const x of slices) {
      assert.equal(x.bind_id, x.args!['request']);
      const r = requests[(x.args!['request'] as number) - 1]!;
      const from = ['a', 'b', 'c', 'd', 'e'].indexOf(x.name.split('->')[0]!);
      assert.equal(ns(x.ts!), Number(r.startNs - 10n ** 15n) + r.points[from]!);
    }
    // Tracks per layer and domain: guest kernel (domU), host kernel (dom0) and the two hand-offs.
    assert.deepEqual(t.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!['name']), [
      'guest kernel · domU',
      'hand-off between layers · domU→dom0',
      'host / dom0 kernel · dom0',
      'hand-off between layers · dom0→domU',
    ]);
  });
});
