import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile, type IngestResult } from '../../src/ingest/ingest.js';
import { BACKENDS, pointDomain, pointEvent, simulate, type Backend, type SimulateOptions } from '../../src/simulate/simulate.js';
import { tempDir, unaccountedLines } from '../helpers.js';

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
