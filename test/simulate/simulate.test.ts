import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile, type IngestResult } from '../../src/ingest/ingest.js';
import { BACKENDS, pathFor, pointDomain, pointEvent, simulate, type Backend, type SimulateOptions } from '../../src/simulate/simulate.js';
import { tempDir, unaccountedLines } from '../helpers.js';
import { trueTime, type TruthClock } from './truth.js';

interface Truth {
  version: number;
  backend: Backend;
  options: Record<string, unknown>;
  files: { file: string; domain: string }[];
  reference_domain: string;
  offsets_ns: Record<string, number>;
  path: string[];
  assumptions: Record<string, { min_us: number; max_us: number }>;
  lost_events: { file: string; dropped_lines: number } | null;
  xtbuf: { file: string; written: number; capacity: number } | null;
  runs: { run: string; begin_ns: number; end_ns: number }[];
  gaps: Gap[];
  requests: TruthRequest[];
  /** Extended truth only. */
  clocks?: Record<string, TruthClock>;
  guests?: { domain: string; domid: number; vdev: number; ring: number; tap_minor?: number; userspace_domain?: string }[];
  xtbufs?: { file: string; written: number; capacity: number }[];
}

interface TruthRequest {
  run: string;
  seq: number;
  pid: number;
  id: number;
  sector: number;
  complete: boolean;
  points: Record<string, number>;
  unknowable?: string[];
  guest?: string;
  domid?: number;
  at?: Record<string, string>;
  batched?: string[];
  skipped?: string[];
}

/** Where a file lost events as its reader knows it (reference clock, null for ±∞). */
interface Gap {
  file: string;
  cpu: number | null;
  from_ns: number | null;
  to_ns: number | null;
}

const tmp = tempDir();
after(() => tmp.cleanup());
let n = 0;

function sim(o: Omit<SimulateOptions, 'out'>): { dir: string; truth: Truth } {
  const dir = join(tmp.dir, `sim-${n++}`);
  const r = simulate({ ...o, out: dir });
  const truth = JSON.parse(readFileSync(r.truthPath, 'utf8')) as Truth;
  assert.equal(r.requests, truth.requests.length);
  assert.equal(r.complete, truth.requests.filter((q) => q.complete).length);
  return { dir, truth };
}

interface Ingested {
  db: Db;
  results: Map<string, IngestResult>;
  sourceOf: Map<string, number>;
}

async function ingest(dir: string, truth: Truth): Promise<Ingested> {
  const db = openDb(join(dir, 'x.db'), { create: true });
  const results = new Map<string, IngestResult>();
  const sourceOf = new Map<string, number>();
  for (const f of truth.files) {
    const r = await ingestFile(db, { path: join(dir, f.file) }, { domain: f.domain });
    results.set(f.domain, r);
    sourceOf.set(f.domain, r.sourceId);
  }
  return { db, results, sourceOf };
}

interface Ev {
  line: number;
  ts: number;
  name: string;
  args: string;
  /** Point name for `xt` lines and xtbuf records. */
  point: string | null;
  kv: Record<string, string>;
}

/** The events of a source; `point` is the probe of an `xt` line or of an xtbuf record. */
function events(db: Db, source: number): Ev[] {
  const { format } = db.prepare<{ format: string }>('SELECT format FROM sources WHERE id = ?').get(source)!;
  const xtbuf = format.startsWith('xtbuf');
  const rows = db.prepare<{ line: number; ts_ns: number; name: string; args: string }>('SELECT line, ts_ns, name, args FROM events WHERE source_id = ? ORDER BY id').all(source);
  return rows.map((r) => {
    const words = r.args.split(' ');
    const xt = !xtbuf && words[0] === 'xt' && words.length > 1;
    const kv: Record<string, string> = {};
    for (const w of xt ? words.slice(2) : words) {
      const i = w.indexOf('=');
      if (i > 0) kv[w.slice(0, i)] = w.slice(i + 1);
    }
    return { line: r.line, ts: r.ts_ns, name: r.name, args: r.args, point: xt ? words[1]! : xtbuf ? r.name : null, kv };
  });
}

/** Does the database hold the event of `point` at local time `ts` in `source`? */
function eventIndex(db: Db, sources: Map<string, number>): Set<string> {
  const ix = new Set<string>();
  for (const [dom, id] of sources) {
    for (const e of events(db, id)) {
      ix.add(`${dom}|${e.ts}|${e.name}|${e.args.startsWith('xt ') ? e.args.split(' ')[1] : ''}`);
    }
  }
  return ix;
}

function hasPoint(ix: Set<string>, truth: Truth, point: string, ref: number): boolean {
  const dom = pointDomain(point);
  const ev = pointEvent(point);
  const local = ref - truth.offsets_ns[dom]!;
  return ix.has(`${dom}|${local}|${ev.name}|${ev.xt ? point : ''}`);
}

function checkIngestClean(x: Ingested): void {
  const diags = x.db.prepare<{ code: string; count: number; detail: string | null }>('SELECT code, count, detail FROM diagnostics').all();
  const unparsed = diags.filter((d) => d.code === 'unparsed_line');
  assert.deepEqual(unparsed, [], 'no line left unparsed');
  assert.deepEqual(unaccountedLines(x.db), []);
}

function checkCausality(truth: Truth): void {
  for (const r of truth.requests) {
    let prev: [string, number] | null = null;
    for (const p of truth.path) {
      const t = r.points[p];
      if (t === undefined) continue;
      assert.ok(Number.isSafeInteger(t), `${p} is an integer`);
      if (prev !== null) {
        assert.ok(t >= prev[1], `run ${r.run} seq ${r.seq}: ${p} (${t}) before ${prev[0]} (${prev[1]})`);
        if (pointDomain(p) !== pointDomain(prev[0]) && r.complete) {
          assert.ok(t - prev[1] >= 1000, `run ${r.run} seq ${r.seq}: cross-domain ${prev[0]}->${p} under 1 µs`);
        }
      }
      prev = [p, t];
    }
  }
}

const ID_LESS = new Set(['fe_notify', 'be_irq', 'fe_irq', 'td_ring_event', 'td_notify', 'qd_event', 'qd_notify']);

/** The spec's rule applied to the ingested events reproduces the truth of every id-less point. */
function checkIdlessRule(x: Ingested, truth: Truth): void {
  const byPoint = new Map<string, number[]>();
  for (const [dom, id] of x.sourceOf) {
    for (const e of events(x.db, id)) {
      if (e.point === null || !ID_LESS.has(e.point)) continue;
      if (e.kv.domid !== undefined && e.kv.domid !== '5') continue;
      if (e.kv.vdev !== undefined && e.kv.vdev !== '51712') continue;
      const ref = e.ts + truth.offsets_ns[dom]!;
      let a = byPoint.get(e.point);
      if (a === undefined) byPoint.set(e.point, (a = []));
      a.push(ref);
    }
  }
  for (const a of byPoint.values()) a.sort((p, q) => p - q);
  let checked = 0;
  for (const r of truth.requests) {
    if (!r.complete) continue;
    for (let i = 1; i < truth.path.length; i++) {
      const p = truth.path[i]!;
      if (!ID_LESS.has(p)) continue;
      const prev = r.points[truth.path[i - 1]!]!;
      const first = (byPoint.get(p) ?? []).find((t) => t >= prev);
      assert.equal(first, r.points[p], `run ${r.run} seq ${r.seq}: ${p} by the rule`);
      checked++;
    }
  }
  assert.ok(checked > 0);
}

function fileLines(dir: string, file: string): string[] {
  return readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.length > 0);
}

/**
 * The gaps a reader derives from an ftrace file on its own: a `CPU:N [LOST M EVENTS]` line spans
 * from the last event of CPU N before it to the first event of CPU N after it (open ends: null).
 */
function ftraceGaps(dir: string, file: string, offset: number): Gap[] {
  const gaps: Gap[] = [];
  const last = new Map<number, number>();
  const open = new Map<number, Gap[]>();
  for (const l of fileLines(dir, file)) {
    if (l.startsWith('#')) continue;
    const lost = /^CPU:(\d+) \[LOST \d+ EVENTS\]$/.exec(l);
    if (lost !== null) {
      const cpu = Number(lost[1]);
      const g: Gap = { file, cpu, from_ns: last.get(cpu) ?? null, to_ns: null };
      gaps.push(g);
      open.set(cpu, [...(open.get(cpu) ?? []), g]);
      continue;
    }
    const m = /\[(\d{3})\] \S{5} +(\d+)\.(\d{6}): /.exec(l)!;
    const cpu = Number(m[1]);
    const t = Number(m[2]) * 1e9 + Number(m[3]) * 1000 + offset;
    last.set(cpu, t);
    for (const g of open.get(cpu) ?? []) g.to_ns = t;
    open.delete(cpu);
  }
  return gaps;
}

/** Does the gap meet the closed interval [a, b] (the engine's test: from < b and to > a)? */
function meets(g: Gap, a: number, b: number): boolean {
  return (g.from_ns ?? -Infinity) < b && (g.to_ns ?? Infinity) > a;
}

function fileOfPoint(truth: Truth, point: string): string {
  return truth.files.find((f) => f.domain === pointDomain(point))!.file;
}

/**
 * The "knowably complete" rule, checked against the times of the same requests without loss
 * (`full`) and the events that survived (`survived`): an id-less point whose window [previous
 * point, point] meets a gap of its file is unknowable (left out, request incomplete), and no
 * complete request has such a window. Returns how many requests have an unknowable point.
 */
function checkUnknowable(truth: Truth, full: Truth, survived: (point: string, ref: number) => boolean): number {
  assert.equal(truth.requests.length, full.requests.length);
  let unknowable = 0;
  for (let k = 0; k < truth.requests.length; k++) {
    const r = truth.requests[k]!;
    const f = full.requests[k]!;
    assert.equal(f.seq, r.seq);
    for (const p of r.unknowable ?? []) {
      assert.ok(ID_LESS.has(p), `${p} is id-less`);
      assert.equal(r.points[p], undefined, `unknowable ${p} is not in points`);
      assert.ok(survived(p, f.points[p]!), `unknowable ${p} survived in its file`);
      // the last point the reader has before p
      const before = truth.path.slice(0, truth.path.indexOf(p)).filter((q) => r.points[q] !== undefined);
      const from = r.points[before.at(-1)!]!;
      assert.ok(truth.gaps.some((g) => g.file === fileOfPoint(truth, p) && meets(g, from, f.points[p]!)), `run ${r.run} seq ${r.seq}: a gap meets the window of ${p}`);
    }
    if (r.unknowable !== undefined) {
      assert.ok(r.unknowable.length > 0);
      assert.equal(r.complete, false);
      unknowable++;
    }
    for (let i = 1; i < truth.path.length; i++) {
      const p = truth.path[i]!;
      if (!ID_LESS.has(p)) continue;
      const a = f.points[truth.path[i - 1]!]!;
      const b = f.points[p]!;
      const hit = truth.gaps.some((g) => g.file === fileOfPoint(truth, p) && meets(g, a, b));
      if (r.complete) assert.ok(!hit, `run ${r.run} seq ${r.seq}: complete, yet a gap meets the window of ${p}`);
      if (hit && survived(p, b)) {
        assert.equal(r.complete, false);
        assert.ok(r.unknowable?.includes(p), `run ${r.run} seq ${r.seq}: ${p} survived in a gap's window: unknowable`);
      }
    }
  }
  return unknowable;
}

describe('simulate', () => {
  it('is deterministic: same seed, same bytes; another seed, other bytes', () => {
    const o = { backend: 'blktap2' as const, runs: 3, requests: 20, depth: 2, seed: 7 };
    const a = sim(o);
    const b = sim(o);
    const c = sim({ ...o, seed: 8 });
    const files = readdirSync(a.dir).sort();
    assert.deepEqual(files, ['dom0.trace', 'guest.trace', 'tapdisk.xtbuf', 'truth.json']);
    assert.deepEqual(readdirSync(b.dir).sort(), files);
    for (const f of files) assert.ok(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f))), `${f} identical`);
    for (const f of ['guest.trace', 'dom0.trace', 'tapdisk.xtbuf', 'truth.json']) assert.ok(!readFileSync(join(a.dir, f)).equals(readFileSync(join(c.dir, f))), `${f} differs with another seed`);
  });

  for (const backend of BACKENDS) {
    it(`${backend}: files ingest cleanly and every truth point is an event of the right source`, async () => {
      const { dir, truth } = sim({ backend, runs: 3, requests: 20 });
      const expected = backend === 'blkback' ? ['domU', 'dom0'] : backend === 'blktap2' ? ['domU', 'dom0', 'tapdisk'] : backend === 'blktap3' ? ['domU', 'tapdisk'] : ['domU', 'qemu'];
      assert.deepEqual(truth.files.map((f) => f.domain), expected);
      assert.equal(truth.offsets_ns.domU, 0);
      for (const d of expected.slice(1)) assert.notEqual(truth.offsets_ns[d]! % 1000, 0, `offset of ${d} is not whole µs`);
      assert.equal(truth.requests.length, 60);
      assert.ok(truth.requests.every((r) => r.complete && r.id === 0 && r.unknowable === undefined), 'depth 1: all complete, id always 0');
      assert.deepEqual(truth.gaps, []);
      assert.deepEqual(truth.requests.map((r) => r.seq), [...Array(3)].flatMap(() => [...Array(20).keys()]));
      assert.equal(truth.path[0], 'syscall_enter');
      assert.equal(truth.path.at(-1), 'syscall_exit');
      checkCausality(truth);

      const x = await ingest(dir, truth);
      try {
        checkIngestClean(x);
        for (const r of x.results.values()) assert.equal(r.lostEvents, 0);
        const ix = eventIndex(x.db, x.sourceOf);
        for (const r of truth.requests) {
          assert.deepEqual(Object.keys(r.points), truth.path);
          for (const p of truth.path) assert.ok(hasPoint(ix, truth, p, r.points[p]!), `run ${r.run} seq ${r.seq}: ${p} at ${r.points[p]} is in the database`);
        }
        checkIdlessRule(x, truth);
        // run markers, and the same sectors in every run
        const guest = events(x.db, x.sourceOf.get('domU')!);
        assert.deepEqual(guest.filter((e) => e.name === 'tracing_mark_write').map((e) => e.args), ['xtrace: run=1 begin', 'xtrace: run=1 end', 'xtrace: run=2 begin', 'xtrace: run=2 end', 'xtrace: run=3 begin', 'xtrace: run=3 end']);
        const sectors = (run: string): number[] => truth.requests.filter((r) => r.run === run).map((r) => r.sector);
        assert.deepEqual(sectors('2'), sectors('1'));
        // warm-up: be_map reports new grants for the first 5 requests of a run
        if (backend === 'blkback' || backend === 'blktap2') {
          const maps = events(x.db, x.sourceOf.get('dom0')!).filter((e) => e.point === 'be_map' && e.kv.domid === '5');
          assert.equal(maps.length, 60);
          assert.deepEqual(maps.slice(0, 6).map((e) => e.kv.persistent), ['0', '0', '0', '0', '0', '1']);
        }
      } finally {
        x.db.close();
      }
    });
  }

  it('ftrace layout follows the kernel: header, right-aligned comm, 6-digit µs, syscalls and block lines', () => {
    const { dir } = sim({ backend: 'blkback', runs: 2, requests: 3 });
    const lines = fileLines(dir, 'guest.trace');
    assert.equal(lines[0], '# tracer: nop');
    assert.match(lines[2]!, /^# entries-in-buffer\/entries-written: (\d+)\/\1 {3}#P:2$/);
    const events = lines.filter((l) => !l.startsWith('#'));
    assert.equal(Number(/: (\d+)\//.exec(lines[2]!)![1]), events.length);
    for (const l of events) assert.match(l, /^ {0,15}\S.{0,15}-\d+ +\[\d{3}\] [.dNhs0-9]{5} +\d+\.\d{6}: /);
    const q = events.find((l) => l.includes('xt fe_queue'))!;
    assert.match(q, /^ {13}fio-1234 {4}\[000\] \.{5} {2}1\d{3}\.\d{6}: blkif_queue_rw_req: xt fe_queue vdev=51712 ring=0 id=0 op=R sector=2048 nsec=8$/);
    assert.ok(events.some((l) => / fio-1234 .*: sys_pread64\(fd: 6, buf: 0x[0-9a-f]+, count: 0x1000, pos: 0\)$/.test(l)));
    assert.ok(events.some((l) => l.endsWith('sys_pread64(fd: 6, buf: 0x55bad34a3000, count: 0x1000, pos: 0x1000)')));
    assert.ok(events.some((l) => l.endsWith(': sys_pread64 -> 0x1000')));
    assert.ok(events.some((l) => l.endsWith(': block_rq_issue: 202,0 R 4096 () 2048 + 8 be,0,4 [fio]')));
    assert.ok(events.some((l) => l.endsWith(': block_rq_complete: 202,0 R () 2048 + 8 be,0,4 [0]')));
    assert.ok(events.some((l) => / bash-1000 {4}\[000\] \.\.\.1\. .*: tracing_mark_write: xtrace: run=1 begin$/.test(l)));
    const irq = events.findIndex((l) => l.includes('xt fe_irq'));
    assert.match(events[irq - 1]!, /irq_handler_entry: irq=45 name=blkif$/);
    const dom0 = fileLines(dir, 'dom0.trace').filter((l) => !l.startsWith('#'));
    assert.ok(dom0.some((l) => /^ {2}blkback\.5\.xvda-1830 {4}\[001\] \.{5} 5\d{4}\.\d{6}: __do_block_io_op: xt be_get_req domid=5 vdev=51712 ring=0 id=0 op=R sector=2048 nsec=8$/.test(l)));
    // noise: other guests, non-xt printk lines, xt points outside the path
    assert.ok(dom0.some((l) => l.includes('xt be_get_req domid=7 ')));
    assert.ok(dom0.some((l) => l.includes('xt be_rsp domid=9 ')));
    assert.ok(dom0.some((l) => l.endsWith('xen_blkif_schedule: blkback.5 tick')));
    assert.ok(dom0.some((l) => l.includes(': xt be_stats domid=5 ')));
  });

  it('depth 4: up to 4 requests in flight, ids taken LIFO, notifies and interrupts batched', async () => {
    const { dir, truth } = sim({ backend: 'blkback', runs: 2, requests: 40, depth: 4, noise: false });
    checkCausality(truth);
    assert.equal(new Set(truth.requests.map((r) => r.pid)).size, 4);
    const x = await ingest(dir, truth);
    try {
      checkIngestClean(x);
      checkIdlessRule(x, truth);
      const guest = events(x.db, x.sourceOf.get('domU')!);
      const free: number[] = [];
      for (let i = 31; i >= 0; i--) free.push(i);
      let inflight = 0;
      let maxInflight = 0;
      let queuedSinceNotify = 0;
      let biggestBatch = 0;
      let rspSinceIrq = 0;
      let biggestIrq = 0;
      for (const e of guest) {
        if (e.point === 'fe_queue') {
          assert.equal(Number(e.kv.id), free.pop(), `line ${e.line}: id taken from the top of the free list`);
          inflight++;
          maxInflight = Math.max(maxInflight, inflight);
          queuedSinceNotify++;
        } else if (e.point === 'fe_notify') {
          biggestBatch = Math.max(biggestBatch, queuedSinceNotify);
          queuedSinceNotify = 0;
        } else if (e.point === 'fe_irq') {
          rspSinceIrq = 0;
        } else if (e.point === 'fe_rsp') {
          free.push(Number(e.kv.id));
          inflight--;
          biggestIrq = Math.max(biggestIrq, ++rspSinceIrq);
        }
      }
      assert.equal(maxInflight, 4);
      assert.ok(biggestBatch >= 2, 'some fe_notify covers several fe_queue');
      assert.ok(biggestIrq >= 2, 'some fe_irq delivers several fe_rsp');
      assert.ok(truth.requests.some((r) => r.id > 0));
      // one be_irq per fe_notify
      const dom0 = events(x.db, x.sourceOf.get('dom0')!);
      assert.equal(dom0.filter((e) => e.point === 'be_irq').length, guest.filter((e) => e.point === 'fe_notify').length);
    } finally {
      x.db.close();
    }
  });

  it('lostEvents: a LOST line counting the dropped lines, its gaps, requests made incomplete or unknowable', async () => {
    const o = { backend: 'blkback' as const, runs: 3, requests: 20, depth: 2, seed: 3 };
    const full = sim(o);
    const lossy = sim({ ...o, lostEvents: true });
    const count = (dir: string): number => fileLines(dir, 'dom0.trace').filter((l) => !l.startsWith('#') && !l.startsWith('CPU:')).length;
    const lostLines = fileLines(lossy.dir, 'dom0.trace').filter((l) => l.startsWith('CPU:'));
    assert.ok(lostLines.length >= 1);
    const lost = lostLines.reduce((s, l) => s + Number(/^CPU:\d+ \[LOST (\d+) EVENTS\]$/.exec(l)![1]), 0);
    assert.equal(lost, count(full.dir) - count(lossy.dir));
    assert.equal(lost, lossy.truth.lost_events!.dropped_lines);
    assert.equal(lossy.truth.lost_events!.file, 'dom0.trace');
    // the gaps are what a reader derives from the file: one per LOST line, around the lost window
    assert.deepEqual(full.truth.gaps, []);
    assert.deepEqual(lossy.truth.gaps, ftraceGaps(lossy.dir, 'dom0.trace', lossy.truth.offsets_ns.dom0!));
    assert.equal(lossy.truth.gaps.length, lostLines.length);
    const [w0, w1] = (lossy.truth.lost_events as unknown as { window_ns: [number, number] }).window_ns;
    for (const g of lossy.truth.gaps) assert.ok(g.from_ns !== null && g.from_ns < w0 && g.to_ns !== null && g.to_ns > w1, 'a gap spans the lost window');
    const incomplete = lossy.truth.requests.filter((r) => !r.complete);
    assert.ok(incomplete.length > 0 && incomplete.every((r) => r.run === '3'));
    // the guest file and the generated requests are the same as without loss
    assert.ok(readFileSync(join(full.dir, 'guest.trace')).equals(readFileSync(join(lossy.dir, 'guest.trace'))));
    for (let i = 0; i < full.truth.requests.length; i++) {
      const a = full.truth.requests[i]!;
      const b = lossy.truth.requests[i]!;
      for (const [p, t] of Object.entries(b.points)) assert.equal(t, a.points[p]);
    }
    const x = await ingest(lossy.dir, lossy.truth);
    try {
      checkIngestClean(x);
      assert.equal(x.results.get('dom0')!.lostEvents, lost);
      const ix = eventIndex(x.db, x.sourceOf);
      for (const r of incomplete) for (const [p, t] of Object.entries(r.points)) assert.ok(hasPoint(ix, lossy.truth, p, t));
      // a request whose id-less point survived inside a gap's window is incomplete, the point unknowable
      const unknowable = checkUnknowable(lossy.truth, full.truth, (p, t) => hasPoint(ix, lossy.truth, p, t));
      assert.ok(unknowable >= 1, 'some request has an unknowable point');
      assert.ok(lossy.truth.requests.some((r) => r.unknowable !== undefined && Object.keys(r.points).length + r.unknowable.length === lossy.truth.path.length), 'some request lost no point, yet is incomplete');
      checkIdlessRule(x, lossy.truth);
    } finally {
      x.db.close();
    }
    // without a dom0 file the guest trace loses events
    const qo = { backend: 'qdisk' as const, runs: 3, requests: 20 };
    const q = sim({ ...qo, lostEvents: true });
    const qfull = sim(qo);
    assert.equal(q.truth.lost_events!.file, 'guest.trace');
    assert.ok(fileLines(q.dir, 'guest.trace').some((l) => /^CPU:\d+ \[LOST \d+ EVENTS\]$/.test(l)));
    assert.ok(q.truth.requests.some((r) => !r.complete));
    assert.deepEqual(q.truth.gaps, ftraceGaps(q.dir, 'guest.trace', 0));
    assert.ok(q.truth.gaps.length >= 1);
    const qx = await ingest(q.dir, q.truth);
    try {
      const ix = eventIndex(qx.db, qx.sourceOf);
      assert.ok(checkUnknowable(q.truth, qfull.truth, (p, t) => hasPoint(ix, q.truth, p, t)) >= 1);
      checkIdlessRule(qx, q.truth);
    } finally {
      qx.db.close();
    }
  });

  it('wrap: the xtbuf ring loses part of run 1 only; its gap makes early points unknowable', async () => {
    const o = { backend: 'blktap3' as const, runs: 3, requests: 20 };
    const plain = sim(o);
    assert.ok(plain.truth.xtbuf!.capacity >= plain.truth.xtbuf!.written);
    assert.deepEqual(plain.truth.gaps, []);
    for (const xtbufForm of ['binary', 'text'] as const) {
      const { dir, truth } = sim({ ...o, wrap: true, xtbufForm });
      const { written, capacity } = truth.xtbuf!;
      assert.ok(written > capacity);
      const incomplete = truth.requests.filter((r) => !r.complete);
      assert.ok(incomplete.length > 0, 'some requests of run 1 are incomplete');
      assert.ok(incomplete.every((r) => r.run === '1'), 'only run 1 loses requests');
      for (const run of truth.runs) assert.ok(truth.requests.some((r) => r.run === run.run && r.complete), `run ${run.run} has complete requests`);
      assert.ok(truth.requests.filter((r) => r.run === '1' && r.complete).length >= 5, 'run 1 keeps some of its requests');
      const x = await ingest(dir, truth);
      try {
        checkIngestClean(x);
        const src = x.db.prepare<{ variant: string; entries_in_buffer: number; entries_written: number; lost_events: number }>('SELECT variant, entries_in_buffer, entries_written, lost_events FROM sources WHERE id = ?').get(x.sourceOf.get('tapdisk')!)!;
        assert.equal(src.variant, xtbufForm === 'binary' ? 'xtbuf' : 'xtbuf-text');
        assert.equal(src.entries_written, written);
        assert.equal(src.entries_in_buffer, capacity);
        assert.equal(src.lost_events, written - capacity);
        const ix = eventIndex(x.db, x.sourceOf);
        for (const r of truth.requests) for (const [p, t] of Object.entries(r.points)) assert.ok(hasPoint(ix, truth, p, t), `${p} survives`);
        // about half of the records up to the end of run 1 were overwritten: as many as survive (± 1)
        const recs = events(x.db, x.sourceOf.get('tapdisk')!);
        const off = truth.offsets_ns.tapdisk!;
        const run1Left = recs.filter((e) => e.ts + off <= truth.runs[0]!.end_ns).length;
        assert.ok(run1Left - (written - capacity) >= 0 && run1Left - (written - capacity) <= 1, `${written - capacity} overwritten, ${run1Left} of run 1 left`);
        // the reader's gap: everything before the first surviving record
        assert.deepEqual(truth.gaps, [{ file: 'tapdisk.xtbuf', cpu: null, from_ns: null, to_ns: recs[0]!.ts + off }]);
        const unknowable = checkUnknowable(truth, plain.truth, (p, t) => hasPoint(ix, truth, p, t));
        assert.ok(unknowable >= 1, 'some request has an unknowable point');
        checkIdlessRule(x, truth);
      } finally {
        x.db.close();
      }
    }
  });

  it('noise and guestBlock change the files, not the requests', () => {
    const o = { backend: 'qdisk' as const, runs: 2, requests: 10, depth: 2, seed: 11 };
    const a = sim(o);
    const b = sim({ ...o, noise: false });
    assert.deepEqual(b.truth.requests, a.truth.requests);
    assert.ok(!fileLines(b.dir, 'guest.trace').some((l) => l.includes('sched_') || l.includes('fe_stats')));
    const c = sim({ ...o, guestBlock: false });
    assert.deepEqual(c.truth.path, ['fe_queue', 'fe_notify', 'qd_event', 'qd_get_req', 'qd_map', 'qd_aio_submit', 'qd_aio_done', 'qd_rsp', 'qd_notify', 'fe_irq', 'fe_rsp', 'fe_end']);
    assert.ok(!fileLines(c.dir, 'guest.trace').some((l) => l.includes('block_') || l.includes('sys_pread64')));
    for (const r of c.truth.requests) assert.deepEqual(Object.keys(r.points), c.truth.path);
    assert.ok(c.truth.requests.every((r) => Object.keys(r.points).length === c.truth.path.length));
    assert.deepEqual(Object.keys(c.truth.assumptions).filter((k) => k.startsWith('syscall_enter')), []);
  });

  it('refuses bad options with a message naming the option', () => {
    const out = join(tmp.dir, 'bad');
    const bad: [Partial<SimulateOptions>, RegExp][] = [
      [{ depth: 0 }, /"depth"/],
      [{ depth: 33 }, /"depth"/],
      [{ runs: 0 }, /"runs"/],
      [{ requests: 1.5 }, /"requests"/],
      [{ seed: -1 }, /"seed"/],
      [{ backend: 'nbd' as Backend }, /"backend"/],
      [{ xtbufForm: 'json' as 'text' }, /"xtbufForm"/],
      [{ noise: 'yes' as unknown as boolean }, /"noise"/],
    ];
    for (const [o, re] of bad) assert.throws(() => simulate({ backend: 'blkback', out, ...o }), re);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'x'), 'x');
    assert.throws(() => simulate({ backend: 'blkback', out, runs: 1, requests: 1 }), /not empty/);
  });
});

// ---- drift, run gap, skipped points, real batching, several guests, event locations ----------

/** The domain of a request's point (extended truth: the domains of its guest). */
function domOf(truth: Truth, r: TruthRequest, point: string): string {
  const g = truth.guests!.find((x) => x.domain === r.guest)!;
  const d = pointDomain(point);
  return d === 'domU' ? g.domain : d === 'dom0' ? 'dom0' : g.userspace_domain!;
}

/** The local timestamp (ns) of a text line: ftrace `sec.usec:` or xtbuf text `<ts> <probe>`. */
function localOf(line: string): number {
  const m = /\[\d{3}\] \S{5} +(\d+)\.(\d{6}): /.exec(line);
  if (m !== null) return Number(m[1]) * 1e9 + Number(m[2]) * 1000;
  return Number(line.split(' ')[0]);
}

/** All lines of a file, header included, 1-based: lines[n - 1] is line n. */
function allLines(dir: string, file: string, cache: Map<string, string[]>): string[] {
  let a = cache.get(file);
  if (a === undefined) cache.set(file, (a = readFileSync(join(dir, file), 'utf8').split('\n')));
  return a;
}

/** Text files only: every point's `at` is a line of that point, whose time maps back to the truth. */
function checkAtText(dir: string, truth: Truth): number {
  const cache = new Map<string, string[]>();
  const domainOf = new Map(truth.files.map((f) => [f.file, f.domain]));
  let n = 0;
  for (const r of truth.requests) {
    assert.deepEqual(Object.keys(r.at!), Object.keys(r.points), `run ${r.run} ${r.guest} seq ${r.seq}: at for every point`);
    for (const [p, at] of Object.entries(r.at!)) {
      const m = /^(.+):(\d+)$/.exec(at)!;
      const file = m[1]!;
      assert.equal(domainOf.get(file), domOf(truth, r, p), `${p} is in its guest's file`);
      const line = allLines(dir, file, cache)[Number(m[2]) - 1]!;
      const ev = pointEvent(p);
      assert.ok(ev.xt ? line.includes(`: xt ${p} `) || line.split(' ')[1] === p : line.includes(` ${ev.name}`) || line.includes(`${ev.name.replace('sys_enter_', 'sys_').replace('sys_exit_', 'sys_')}`), `${at} is a ${p}: ${line}`);
      assert.equal(trueTime(truth, domainOf.get(file)!, localOf(line)), r.points[p], `${at}: its time maps back to the truth of ${p}`);
      n++;
    }
  }
  return n;
}

/** The database event at a truth location (`file:line`, or `file#record` for binary xtbuf). */
function eventAtIndex(x: Ingested, truth: Truth): (at: string) => Ev & { dom: string } {
  const byFile = new Map<string, Map<number, Ev>>();
  for (const f of truth.files) byFile.set(f.file, new Map(events(x.db, x.sourceOf.get(f.domain)!).map((e) => [e.line, e])));
  const domainOf = new Map(truth.files.map((f) => [f.file, f.domain]));
  return (at: string) => {
    const m = /^(.+)([:#])(\d+)$/.exec(at)!;
    const line = m[2] === '#' ? Number(m[3]) + 1 : Number(m[3]);
    const e = byFile.get(m[1]!)!.get(line);
    assert.ok(e !== undefined, `an event at ${at}`);
    return { ...e, dom: domainOf.get(m[1]!)! };
  };
}

/** Every id-carrying point's event belongs to one request only; id-less ones may be shared. */
function checkAtUnique(truth: Truth): void {
  const owner = new Map<string, string>();
  for (const r of truth.requests) {
    for (const [p, at] of Object.entries(r.at!)) {
      if (ID_LESS.has(p)) continue;
      const who = `${r.guest} run ${r.run} seq ${r.seq}`;
      assert.equal(owner.get(at) ?? who, who, `${at} (${p}) belongs to one request`);
      owner.set(at, who);
    }
  }
}

/**
 * Real batching, on the ingested files: every present id-less point of a request is the only
 * event of its kind (same file, our guest's domid/vdev) between the request's previous and next
 * present points, and it is the event at its `at`.
 */
function checkIdlessUnique(x: Ingested, truth: Truth): number {
  const at = eventAtIndex(x, truth);
  const byKey = new Map<string, { ref: number; line: number }[]>();
  for (const f of truth.files) {
    for (const e of events(x.db, x.sourceOf.get(f.domain)!)) {
      if (e.point === null || !ID_LESS.has(e.point)) continue;
      const k = `${f.domain}|${e.point}|${e.kv.domid ?? '-'}`;
      let a = byKey.get(k);
      if (a === undefined) byKey.set(k, (a = []));
      a.push({ ref: trueTime(truth, f.domain, e.ts), line: e.line });
    }
  }
  let checked = 0;
  for (const r of truth.requests) {
    const present = truth.path.filter((p) => r.points[p] !== undefined);
    present.forEach((p, i) => {
      if (!ID_LESS.has(p)) return;
      const dom = domOf(truth, r, p);
      const guestPoint = p === 'fe_notify' || p === 'fe_irq';
      const key = `${dom}|${p}|${guestPoint && !truth.options['guestDomid'] ? '-' : String(r.domid)}`;
      const lo = r.points[present[i - 1]!]!;
      const hi = r.points[present[i + 1]!]!;
      const inWindow = (byKey.get(key) ?? []).filter((e) => e.ref >= lo && e.ref <= hi);
      assert.equal(inWindow.length, 1, `run ${r.run} ${r.guest} seq ${r.seq}: one ${p} between ${present[i - 1]} and ${present[i + 1]}`);
      assert.equal(inWindow[0]!.line, at(r.at![p]!).line, `run ${r.run} seq ${r.seq}: it is the ${p} of the truth`);
      checked++;
    });
  }
  return checked;
}

describe('simulate: drift, run gap, skipped points, real batching, several guests', () => {
  const NEW: [string, Partial<SimulateOptions>][] = [
    ['drift', { drift: { dom0: 35.5, domU: -12, tapdisk: 800 } }],
    ['runGapMs', { runGapMs: 20 }],
    ['skip', { skip: { be_map: 2, fe_irq: 1, td_aio_submit: 2 } }],
    ['batching', { batching: 'real', depth: 4 }],
    ['guests', { guests: 3 }],
    ['guestDomid', { guestDomid: true }],
    ['extendedTruth', { extendedTruth: true }],
  ];

  it('each new option is deterministic: same seed, same bytes', () => {
    for (const [name, o] of NEW) {
      const base = { backend: 'blktap2' as const, runs: 3, requests: 12, seed: 4, ...o };
      const a = sim(base);
      const b = sim(base);
      const files = readdirSync(a.dir).sort();
      assert.deepEqual(readdirSync(b.dir).sort(), files, name);
      for (const f of files) assert.ok(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f))), `${name}: ${f} identical`);
      const c = sim({ ...base, seed: 5 });
      assert.ok(!readFileSync(join(a.dir, 'truth.json')).equals(readFileSync(join(c.dir, 'truth.json'))), `${name}: another seed, another truth`);
    }
  });

  it('refuses bad values of the new options with a message naming the option', () => {
    const out = join(tmp.dir, 'bad-new');
    const bad: [Partial<SimulateOptions>, RegExp][] = [
      [{ drift: { dom1: 2 } }, /option "drift": no domain "dom1" in this configuration \(domains: domU, dom0\)/],
      [{ drift: { domU7: 2 } }, /"drift": no domain "domU7"/],
      [{ drift: { dom0: 1000.5 } }, /"drift": ppm of "dom0" must be a number from -1000 to 1000/],
      [{ drift: { dom0: Number.NaN } }, /"drift": ppm of "dom0"/],
      [{ drift: [] as unknown as Record<string, number> }, /"drift" must be an object/],
      [{ runGapMs: 0 }, /"runGapMs" must be an integer from 1 to 600000/],
      [{ runGapMs: 2.5 }, /"runGapMs"/],
      [{ skip: { td_get_req: 1 } }, /"skip": "td_get_req" is not a point of the blkback path/],
      [{ skip: { be_map: 0 } }, /"skip": count of "be_map" must be an integer from 1/],
      [{ skip: { be_map: 1.5 } }, /"skip": count of "be_map"/],
      [{ skip: { fe_notify: 40 } }, /"skip": only 10 requests can lose fe_notify/],
      [{ skip: { be_map: 11 } }, /"skip": only 10 requests can lose be_map \(not warm-up\)/],
      [{ batching: 'fast' as 'real' }, /"batching" must be "serial" or "real"/],
      [{ guests: 0 }, /"guests" must be an integer from 1 to 8/],
      [{ guests: 9 }, /"guests"/],
      [{ guestDomid: 'yes' as unknown as boolean }, /"guestDomid" must be true or false/],
      [{ extendedTruth: 1 as unknown as boolean }, /"extendedTruth"/],
    ];
    for (const [o, re] of bad) assert.throws(() => simulate({ backend: 'blkback', out, runs: 2, requests: 10, ...o }), re);
    assert.throws(() => simulate({ backend: 'blkback', out, runs: 2, requests: 10, guests: 2, drift: { domU: 1 } }), /no domain "domU" in this configuration \(domains: domU5, domU7, dom0\)/);
    assert.throws(() => simulate({ backend: 'blkback', out, runs: 2, requests: 10, guestBlock: false, skip: { rq_issue: 1 } }), /"rq_issue" is not a point/);
    assert.ok(!existsSync(out), 'nothing written');
  });

  it('extendedTruth only adds to truth.json: clocks, guests, and per request guest, domid, at', () => {
    const o = { backend: 'blktap3' as const, runs: 2, requests: 10, depth: 2, seed: 9 };
    const a = sim(o);
    const b = sim({ ...o, extendedTruth: true });
    for (const f of ['guest.trace', 'tapdisk.xtbuf']) assert.ok(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f))), `${f} identical`);
    assert.equal(a.truth.clocks, undefined);
    assert.equal(a.truth.requests[0]!.at, undefined);
    assert.deepEqual(b.truth.clocks, {
      domU: { offset_ns: 0, anchor_local_ns: b.truth.clocks!.domU!.anchor_local_ns, ppm: 0 },
      tapdisk: { offset_ns: a.truth.offsets_ns.tapdisk!, anchor_local_ns: b.truth.clocks!.domU!.anchor_local_ns - a.truth.offsets_ns.tapdisk!, ppm: 0 },
    });
    assert.deepEqual(b.truth.guests, [{ domain: 'domU', domid: 5, vdev: 51712, ring: 0, userspace_domain: 'tapdisk' }]);
    assert.deepEqual(
      b.truth.requests.map(({ guest, domid, at, ...r }) => {
        assert.equal(guest, 'domU');
        assert.equal(domid, 5);
        assert.deepEqual(Object.keys(at!), Object.keys(r.points));
        return r;
      }),
      a.truth.requests,
    );
  });

  it('drift: the printed local times mapped back with the truth’s clocks give the truth; ppm 0 is today’s output', () => {
    const o = { backend: 'blktap2' as const, runs: 3, requests: 20, depth: 2, seed: 6, xtbufForm: 'text' as const };
    const plain = sim(o);
    const d = sim({ ...o, drift: { dom0: 50, tapdisk: -40.5, domU: 20 } });
    assert.deepEqual(
      Object.entries(d.truth.clocks!).map(([k, c]) => [k, c.ppm, c.offset_ns]),
      [
        ['domU', 20, 0],
        ['dom0', 50, plain.truth.offsets_ns.dom0],
        ['tapdisk', -40.5, plain.truth.offsets_ns.tapdisk],
      ],
    );
    assert.deepEqual(d.truth.offsets_ns, plain.truth.offsets_ns, 'offsets_ns: the offsets at the anchor');
    assert.ok(d.truth.requests.every((r) => r.complete));
    checkCausality(d.truth);
    // every point of every request: its line's printed time, mapped back, is the truth
    assert.equal(checkAtText(d.dir, d.truth), d.truth.requests.length * d.truth.path.length);
    // the clocks really drift: over the trace a dom0 local span differs from the true span by ~50 ppm
    const be = d.truth.requests.map((r) => ({ ref: r.points['be_get_req']!, local: localOf(allLines(d.dir, 'dom0.trace', new Map())[Number(r.at!['be_get_req']!.split(':')[1]) - 1]!) }));
    const [f, l] = [be[0]!, be.at(-1)!];
    const trueSpan = l.ref - f.ref;
    const localSpan = l.local - f.local;
    assert.ok(Math.abs(localSpan - trueSpan * (1 + 50e-6)) <= 1, `local span ${localSpan} = true span ${trueSpan} · (1 + 50 ppm)`);
    assert.ok(localSpan - trueSpan > 10_000, 'the offset moved by more than 10 µs');
    // the guest's own clock drifts too: the reference is a virtual clock
    const q = d.truth.requests.at(-1)!;
    const guestLocal = localOf(allLines(d.dir, 'guest.trace', new Map())[Number(q.at!['fe_queue']!.split(':')[1]) - 1]!);
    assert.notEqual(guestLocal, q.points['fe_queue']);
    // ppm 0 everywhere: the files of today, the same truth
    const z = sim({ ...o, drift: { dom0: 0, domU: 0 } });
    for (const file of ['guest.trace', 'dom0.trace', 'tapdisk.xtbuf']) assert.ok(readFileSync(join(plain.dir, file)).equals(readFileSync(join(z.dir, file))), `${file}: ppm 0 is today's output`);
    assert.deepEqual(
      z.truth.requests.map((r) => r.points),
      plain.truth.requests.map((r) => r.points),
    );
    // a slow clock at the limit still generates
    const slow = sim({ backend: 'qdisk', runs: 2, requests: 10, depth: 4, batching: 'real', drift: { domU: -1000, qemu: 1000 } });
    assert.ok(slow.truth.requests.every((r) => r.complete));
  });

  it('runGapMs: 10 runs 3000 ms apart span ~30 s, and the files stay small', () => {
    const { dir, truth } = sim({ backend: 'blktap2', runs: 10, requests: 20, runGapMs: 3000, seed: 2 });
    const span = truth.runs.at(-1)!.end_ns - truth.runs[0]!.begin_ns;
    assert.ok(span > 26.5e9 && span < 28e9, `span ${span / 1e9} s`);
    for (let i = 1; i < truth.runs.length; i++) {
      const gap = truth.runs[i]!.begin_ns - truth.runs[i - 1]!.end_ns;
      assert.ok(gap >= 2.99e9 && gap <= 3.011e9, `gap ${gap / 1e9} s`);
    }
    const bytes = readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
    assert.ok(bytes < 3e6, `${bytes} bytes`);
    assert.ok(truth.requests.every((r) => r.complete));
    // the default gap is today's: runs 190-210 ms apart
    const d = sim({ backend: 'blkback', runs: 3, requests: 5 });
    for (let i = 1; i < d.truth.runs.length; i++) {
      const gap = d.truth.runs[i]!.begin_ns - d.truth.runs[i - 1]!.end_ns;
      assert.ok(gap >= 189e6 && gap <= 211e6);
    }
  });

  it('skip: the skipped lines are not written, no LOST line, the truth says skipped; nothing else changes', () => {
    const o = { backend: 'blktap2' as const, runs: 3, requests: 20, seed: 8, xtbufForm: 'text' as const };
    const plain = sim(o);
    const skip = { td_aio_submit: 3, be_irq: 2, fe_irq: 1, be_rsp: 1 };
    const s = sim({ ...o, skip });
    assert.equal(s.truth.requests.length, plain.truth.requests.length);
    for (const [p, n] of Object.entries(skip)) {
      const hit = s.truth.requests.filter((r) => r.skipped?.includes(p));
      assert.equal(hit.length, n, `${n} requests skip ${p}`);
      for (const r of hit) {
        assert.equal(r.complete, false);
        assert.equal(r.points[p], undefined);
        assert.equal(r.at![p], undefined);
        assert.ok(r.seq >= 5, 'never a warm-up request');
      }
      if (n === 3) assert.deepEqual(hit.map((r) => r.run).sort(), ['1', '2', '3'], 'spread over the runs');
    }
    const skipped = s.truth.requests.filter((r) => r.skipped !== undefined);
    assert.equal(s.truth.requests.filter((r) => !r.complete).length, skipped.length);
    assert.ok(skipped.length >= 4);
    assert.deepEqual(s.truth.gaps, []);
    for (let k = 0; k < s.truth.requests.length; k++) {
      const a = plain.truth.requests[k]!;
      const b = s.truth.requests[k]!;
      assert.deepEqual(b.points, Object.fromEntries(Object.entries(a.points).filter(([p]) => !(b.skipped ?? []).includes(p))), 'the other points are unchanged');
    }
    // the files: the same lines less the skipped ones, no LOST marker
    const body = (dir: string, f: string): string[] => fileLines(dir, f).filter((l) => !l.startsWith('#'));
    const removed = (f: string): string[] => {
      const a = body(plain.dir, f);
      const b = body(s.dir, f);
      assert.ok(!b.some((l) => l.startsWith('CPU:')), `${f}: no LOST line`);
      const out: string[] = [];
      let j = 0;
      for (const l of a) {
        if (j < b.length && b[j] === l) j++;
        else out.push(l);
      }
      assert.equal(j, b.length, `${f}: the lines of the plain file, in order`);
      return out;
    };
    const r0 = removed('dom0.trace');
    assert.equal(r0.length, 3);
    assert.equal(r0.filter((l) => l.includes(': xt be_irq domid=5 ')).length, 2);
    assert.equal(r0.filter((l) => l.includes(': xt be_rsp domid=5 ')).length, 1);
    const rg = removed('guest.trace');
    assert.equal(rg.length, 1);
    assert.match(rg[0]!, /: xt fe_irq vdev=51712 ring=0$/);
    const rt = fileLines(plain.dir, 'tapdisk.xtbuf').slice(1);
    const st = fileLines(s.dir, 'tapdisk.xtbuf').slice(1);
    assert.equal(rt.length - st.length, 3);
    assert.equal(rt.filter((l) => l.split(' ')[1] === 'td_aio_submit').length - st.filter((l) => l.split(' ')[1] === 'td_aio_submit').length, 3);
    checkAtText(s.dir, s.truth);
    // every point of every back end can be skipped, several at once
    for (const backend of BACKENDS) {
      const path = pathFor(backend, true);
      const each = Object.fromEntries(path.map((p) => [p, 1]));
      const all = sim({ backend, runs: 3, requests: 12, seed: 3, skip: each, batching: 'real', depth: 2 });
      const n = all.truth.requests.reduce((a, r) => a + (r.skipped?.length ?? 0), 0);
      assert.equal(n, path.length, `${backend}: one request skips each point`);
      for (const r of all.truth.requests) assert.equal(r.complete, r.skipped === undefined);
    }
  });

  for (const backend of BACKENDS) {
    it(`batching real, ${backend}, depth 4: notifications and interrupts batched as Xen does, every request complete`, async () => {
      const { dir, truth } = sim({ backend, runs: 3, requests: 40, depth: 4, seed: 2, batching: 'real' });
      const wake = backend === 'blktap3' ? 'td_ring_event' : backend === 'qdisk' ? 'qd_event' : 'be_irq';
      const get = backend === 'blktap3' ? 'td_get_req' : backend === 'qdisk' ? 'qd_get_req' : 'be_get_req';
      const rspNotify = backend === 'blktap3' ? 'td_notify' : backend === 'qdisk' ? 'qd_notify' : null;
      assert.ok(truth.requests.every((r) => r.complete), 'every request complete');
      checkCausality(truth);
      const inBatch = truth.requests.filter((r) => r.batched?.includes('fe_notify'));
      const outBatch = truth.requests.filter((r) => r.batched?.includes('fe_irq'));
      assert.ok(inBatch.length >= 5, `${inBatch.length} requests pushed while the back end was awake`);
      assert.ok(outBatch.length >= 1, `${outBatch.length} responses pushed while the guest's handler was busy`);
      for (const r of truth.requests) {
        for (const p of r.batched ?? []) assert.equal(r.points[p], undefined, 'a batched point is not in points');
        const b = r.batched ?? [];
        assert.deepEqual(
          b,
          [...(b.includes('fe_notify') ? ['fe_notify', wake] : []), ...(b.includes('fe_irq') ? [...(rspNotify !== null ? [rspNotify] : []), 'fe_irq'] : [])],
          'batched points come in pairs',
        );
        assert.deepEqual(Object.keys(r.points).length + b.length, truth.path.length);
      }
      const x = await ingest(dir, truth);
      try {
        checkIngestClean(x);
        assert.ok(checkIdlessUnique(x, truth) > 0);
        checkAtUnique(truth);
        const at = eventAtIndex(x, truth);
        for (const r of truth.requests) for (const [p, loc] of Object.entries(r.at!)) assert.equal(trueTime(truth, at(loc).dom, at(loc).ts), r.points[p]);
        const wakeDom = wake === 'be_irq' ? 'dom0' : backend === 'blktap3' ? 'tapdisk' : 'qemu';
        const ours = (dom: string, point: string) => events(x.db, x.sourceOf.get(dom)!).filter((e) => e.point === point && (e.kv.domid === undefined || e.kv.domid === '5'));
        const wakes = ours(wakeDom, wake).map((e) => ({ ref: trueTime(truth, wakeDom, e.ts), loc: `${truth.files.find((f) => f.domain === wakeDom)!.file}${wakeDom === 'dom0' ? ':' : '#'}${wakeDom === 'dom0' ? e.line : e.line - 1}` }));
        const owner = new Map(truth.requests.filter((r) => r.at![wake] !== undefined).map((r) => [r.at![wake]!, r]));
        // one wake-up per fe_notify, each the wake-up of the request that notified
        assert.equal(ours('domU', 'fe_notify').length, truth.requests.length - inBatch.length);
        assert.equal(wakes.length, owner.size);
        for (const w of wakes) assert.ok(owner.has(w.loc), `every ${wake} is some request's`);
        // a batched request was taken by a running loop: the wake-ups between its fe_queue and its
        // get_req are other, earlier requests' (the model attributes none to it)
        for (const r of inBatch) {
          const between = wakes.filter((w) => w.ref > r.points['fe_queue']! && w.ref < r.points[get]!);
          for (const w of between) {
            const o = owner.get(w.loc)!;
            assert.ok(o !== r && o.points['fe_queue']! <= r.points['fe_queue']!, `run ${r.run} seq ${r.seq}: the ${wake} between its fe_queue and ${get} woke the back end for an earlier request`);
          }
        }
        // interrupts: one per notifying response push
        const feIrq = ours('domU', 'fe_irq').length;
        if (rspNotify === null) {
          const rsp = ours('dom0', 'be_rsp');
          assert.equal(rsp.filter((e) => e.kv.notify === '0').length, outBatch.length, 'be_rsp notify=0 count = requests with a batched fe_irq');
          assert.equal(rsp.filter((e) => e.kv.notify === '1').length, feIrq);
          assert.equal(feIrq, truth.requests.length - outBatch.length);
        } else {
          assert.equal(ours(wakeDom, rspNotify).length, feIrq, `one fe_irq per ${rspNotify}`);
          assert.equal(new Set(truth.requests.map((r) => r.at![rspNotify]).filter((a) => a !== undefined)).size, feIrq);
        }
      } finally {
        x.db.close();
      }
    });
  }

  it('batching real: depth 1 batches nothing; lost events and a wrapped ring still give a knowable truth', () => {
    const one = sim({ backend: 'blkback', runs: 2, requests: 15, batching: 'real' });
    assert.ok(one.truth.requests.every((r) => r.complete && r.batched === undefined));
    for (const backend of ['blkback', 'blktap3'] as const) {
      const o = { backend, runs: 3, requests: 30, depth: 4, seed: 5, batching: 'real' as const };
      const full = sim(o);
      const lossy = sim({ ...o, lostEvents: true, wrap: true });
      assert.ok(lossy.truth.gaps.length > 0);
      assert.ok(lossy.truth.requests.some((r) => !r.complete));
      assert.ok(lossy.truth.requests.some((r) => r.complete && r.batched !== undefined));
      for (let k = 0; k < lossy.truth.requests.length; k++) {
        const r = lossy.truth.requests[k]!;
        assert.deepEqual(r.batched, full.truth.requests[k]!.batched);
        // a batched point whose file lost events around it cannot be told from a lost one
        for (const p of r.batched ?? []) {
          const i = lossy.truth.path.indexOf(p);
          const before = lossy.truth.path.slice(0, i).filter((q) => r.points[q] !== undefined);
          const after = lossy.truth.path.slice(i + 1).filter((q) => r.points[q] !== undefined);
          const a = before.length > 0 ? r.points[before.at(-1)!]! : -Infinity;
          const b = after.length > 0 ? r.points[after[0]!]! : Infinity;
          const file = lossy.truth.files.find((f) => f.domain === domOf(lossy.truth, r, p))!.file;
          const hit = lossy.truth.gaps.some((g) => g.file === file && meets(g, a, b));
          assert.equal(r.unknowable?.includes(p) ?? false, hit, `run ${r.run} seq ${r.seq}: ${p} unknowable exactly when a gap meets its window`);
          if (hit) assert.equal(r.complete, false);
        }
      }
    }
  });

  for (const [backend, depth] of [
    ['blkback', 1],
    ['blktap3', 2],
  ] as const) {
    it(`guests 2, ${backend}: a file and a clock per guest, every guest's requests, the same sectors`, async () => {
      const { dir, truth } = sim({ backend, guests: 2, depth, runs: 3, requests: 15, seed: 3 });
      const domains = backend === 'blkback' ? ['domU5', 'domU7', 'dom0'] : ['domU5', 'domU7', 'tapdisk-domU5', 'tapdisk-domU7'];
      assert.deepEqual(truth.files.map((f) => f.domain), domains);
      assert.deepEqual(truth.files.map((f) => f.file), backend === 'blkback' ? ['guest-domU5.trace', 'guest-domU7.trace', 'dom0.trace'] : ['guest-domU5.trace', 'guest-domU7.trace', 'tapdisk-domU5.xtbuf', 'tapdisk-domU7.xtbuf']);
      assert.deepEqual(readdirSync(dir).sort(), [...truth.files.map((f) => f.file), 'truth.json'].sort());
      assert.deepEqual(truth.guests!.map((g) => [g.domain, g.domid]), [
        ['domU5', 5],
        ['domU7', 7],
      ]);
      assert.equal((truth as unknown as { reference_domain: string }).reference_domain, 'domU5');
      assert.equal(truth.clocks!.domU5!.offset_ns, 0);
      for (const d of domains.slice(1)) assert.notEqual(truth.offsets_ns[d]! % 1000, 0, `${d} has its own offset`);
      assert.notEqual(truth.offsets_ns.domU7, 0);
      assert.ok(truth.requests.every((r) => r.complete));
      checkCausality(truth);
      for (const g of ['domU5', 'domU7']) {
        for (const run of ['1', '2', '3']) {
          const reqs = truth.requests.filter((r) => r.guest === g && r.run === run);
          assert.equal(reqs.length, 15, `${g} run ${run}`);
          assert.deepEqual(reqs.map((r) => r.seq), [...Array(15).keys()]);
        }
      }
      const sectors = (g: string, run: string): number[] => truth.requests.filter((r) => r.guest === g && r.run === run).map((r) => r.sector).sort((a, b) => a - b);
      for (const run of ['1', '2', '3']) assert.deepEqual(sectors('domU7', run), sectors('domU5', run), 'the same sectors in every guest');
      assert.equal(checkAtText(dir, { ...truth, requests: truth.requests.map((r) => ({ ...r, points: Object.fromEntries(Object.entries(r.points).filter(([p]) => !p.startsWith('td_'))), at: Object.fromEntries(Object.entries(r.at!).filter(([p]) => !p.startsWith('td_'))) })) }) > 0, true);
      checkAtUnique(truth);
      for (const g of ['domU5', 'domU7']) {
        const marks = fileLines(dir, `guest-${g}.trace`).filter((l) => l.includes('tracing_mark_write: '));
        assert.deepEqual(marks.map((l) => l.split('tracing_mark_write: ')[1]), ['xtrace: run=1 begin', 'xtrace: run=1 end', 'xtrace: run=2 begin', 'xtrace: run=2 end', 'xtrace: run=3 begin', 'xtrace: run=3 end']);
        // run markers at the same true times in every guest (to the µs the files print)
        marks.forEach((l, i) => {
          const t = trueTime(truth, g, localOf(l));
          const want = i % 2 === 0 ? truth.runs[i >> 1]!.begin_ns : truth.runs[i >> 1]!.end_ns;
          assert.ok(Math.abs(t - want) < 1000, `${g} marker ${i}`);
        });
      }
      if (backend !== 'blkback') return;
      const x = await ingest(dir, truth);
      try {
        checkIngestClean(x);
        const at = eventAtIndex(x, truth);
        for (const r of truth.requests) for (const [p, loc] of Object.entries(r.at!)) assert.equal(trueTime(truth, at(loc).dom, at(loc).ts), r.points[p]);
        {
          const dom0 = events(x.db, x.sourceOf.get('dom0')!);
          for (const domid of ['5', '7']) assert.equal(dom0.filter((e) => e.point === 'be_get_req' && e.kv.domid === domid).length, 45);
          assert.deepEqual([...new Set(dom0.filter((e) => e.point === 'be_get_req').map((e) => e.kv.domid))].sort(), ['11', '5', '7', '9'], 'the noise guests take the domids after ours');
          assert.ok(dom0.some((e) => e.args.startsWith('xt be_get_req') && e.name === '__do_block_io_op'));
        }
      } finally {
        x.db.close();
      }
    });
  }

  it('guests 4 at depth 4 with real batching, guestDomid: every guest complete, fe_* lines carry their domid', () => {
    const { dir, truth } = sim({ backend: 'blktap2', guests: 4, depth: 4, runs: 2, requests: 16, seed: 12, batching: 'real', guestDomid: true, noise: false });
    assert.deepEqual(truth.guests!.map((g) => [g.domain, g.domid, g.tap_minor, g.userspace_domain]), [
      ['domU5', 5, 1, 'tapdisk-domU5'],
      ['domU7', 7, 2, 'tapdisk-domU7'],
      ['domU9', 9, 3, 'tapdisk-domU9'],
      ['domU11', 11, 4, 'tapdisk-domU11'],
    ]);
    assert.equal(truth.requests.length, 4 * 2 * 16);
    assert.ok(truth.requests.every((r) => r.complete));
    assert.ok(truth.requests.some((r) => r.batched !== undefined));
    for (const g of truth.guests!) {
      const fe = fileLines(dir, `guest-${g.domain}.trace`).filter((l) => / xt fe_/.test(l));
      assert.ok(fe.length > 0 && fe.every((l) => l.includes(`: xt fe_${/ xt fe_(\w+)/.exec(l)![1]} domid=${g.domid} vdev=51712 ring=0`)), `${g.domain}: fe_* lines carry domid=${g.domid}`);
    }
    checkAtText(dir, { ...truth, requests: truth.requests.map((r) => ({ ...r, points: Object.fromEntries(Object.entries(r.points).filter(([p]) => !p.startsWith('td_'))), at: Object.fromEntries(Object.entries(r.at!).filter(([p]) => !p.startsWith('td_'))) })) });
  });
});
