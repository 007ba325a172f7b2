/**
 * The workload captures (samples/workloads/<name>) through the CLI, as a user runs it:
 *
 *   xtrace ingest samples/workloads/<name>/trace.txt.gz --db <tmp>.db
 *   xtrace report --db <tmp>.db -p <profile> --filter 'comm=fio*' --trim 0 --format json
 *
 * compared run by run with the independent oracle of ./workloads-expected.ts (its own parser and
 * matcher, nothing shared with src/): the number of complete fio requests exactly, every stage
 * mean and the total mean within 0.5 % or 1 µs, whichever is larger (the timestamps are whole µs).
 * The oracle's counts are also checked against fio's own count of the same runs (fio-runN.json).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPTURES, expectedForCapture, expectedFromEvents, parseTrace, stagesOf, type Expected } from './workloads-expected.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORKLOADS = join(ROOT, 'samples', 'workloads');

/** The CLI from source, as `xtrace` (tsx), without colours. */
function xtrace(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
  });
}

/**
 * One ingest and one report per capture, each into its own temporary database. The eight
 * pipelines run a few at a time (each is two CLI processes, one after the other), started once
 * for the whole file so that the captures do not wait for each other.
 */
interface Pipeline {
  report?: ReportJson;
  failure: string;
}
const TMP = mkdtempSync(join(tmpdir(), 'xtrace-workloads-'));
async function pipeline(name: string, profile: string): Promise<Pipeline> {
  const trace = join(WORKLOADS, name, 'trace.txt.gz');
  const db = join(TMP, `${name}.db`);
  const ing = await xtrace(['ingest', trace, '--db', db, '--quiet']);
  if (ing.status !== 0) return { failure: `xtrace ingest exited ${ing.status}: ${ing.stderr.trim()}` };
  const rep = await xtrace(['report', '--db', db, '-p', profile, '--filter', 'comm=fio*', '--trim', '0', '--format', 'json']);
  if (rep.status !== 0) return { failure: `xtrace report exited ${rep.status}: ${rep.stderr.trim()}` };
  try {
    return { report: JSON.parse(rep.stdout) as ReportJson, failure: '' };
  } catch (err) {
    return { failure: `xtrace report printed no JSON (${(err as Error).message}): ${rep.stdout.slice(0, 200)}` };
  }
}
const pipelines = new Map<string, Promise<Pipeline>>();
function startPipelines(): void {
  if (pipelines.size) return;
  const queue = [...CAPTURES];
  const done = new Map<string, (p: Pipeline) => void>();
  for (const c of CAPTURES) pipelines.set(c.name, new Promise((resolve) => done.set(c.name, resolve)));
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) done.get(c.name)!(await pipeline(c.name, c.profile));
  };
  for (let k = 0; k < Math.max(2, Math.min(4, availableParallelism())); k++) void worker();
}
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The part of `xtrace report --format json` compared here. */
interface ReportJson {
  runs: { run: string; complete: number; stages_ns: Record<string, number>; total_ns: number }[];
}

/** fio's count of the I/Os of one run: total_ios summed over jobs and over read and write. */
function fioTotalIos(capture: string, run: string): number {
  const j = JSON.parse(readFileSync(join(WORKLOADS, capture, `fio-run${run}.json`), 'utf8')) as {
    jobs: { read: { total_ios: number }; write: { total_ios: number } }[];
  };
  return j.jobs.reduce((a, job) => a + job.read.total_ios + job.write.total_ios, 0);
}

/** Within 0.5 % of the oracle's figure, or 1 µs, whichever is larger. */
function assertClose(got: number | undefined, want: number, what: string): void {
  assert.equal(typeof got, 'number', `${what}: missing in the report`);
  const tol = Math.max(0.005 * Math.abs(want), 1000);
  assert.ok(Math.abs(got! - want) <= tol, `${what}: report ${got} ns, oracle ${want.toFixed(1)} ns (|Δ| ${Math.abs(got! - want).toFixed(1)} > ${tol.toFixed(1)})`);
}

for (const cap of CAPTURES) {
  describe(`workload ${cap.name} (profile ${cap.profile})`, () => {
    const trace = join(WORKLOADS, cap.name, 'trace.txt.gz');
    let exp: Expected & { unparsed: string[] };
    let report: ReportJson | undefined;
    let failure = '';

    before(async () => {
      startPipelines();
      exp = expectedForCapture(trace, cap.profile);
      ({ report, failure } = await pipelines.get(cap.name)!);
    });

    it('oracle: every line parses, five runs in marker order, stage means add up to the total', () => {
      assert.deepEqual(exp.unparsed, []);
      assert.deepEqual(
        exp.runs.map((r) => r.run),
        ['1', '2', '3', '4', '5'],
      );
      for (const r of exp.runs) {
        assert.ok(r.complete > 0, `run ${r.run}: no complete request`);
        assert.deepEqual(Object.keys(r.stages_ns), stagesOf(cap.profile));
        const sum = Object.values(r.stages_ns).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - r.total_ns) < 1e-6, `run ${r.run}: stages ${sum} ≠ total ${r.total_ns}`);
        for (const [s, v] of Object.entries(r.stages_ns)) assert.ok(v >= 0, `run ${r.run} ${s} = ${v}`);
      }
    });

    if (cap.compareToFio) {
      it("oracle: complete fio requests of each run = fio's total_ios", () => {
        for (const r of exp.runs) assert.equal(r.complete, fioTotalIos(cap.name, r.run), `run ${r.run}`);
      });
    }

    it("xtrace report (comm=fio*, untrimmed) = the oracle, run by run", () => {
      assert.ok(report, failure);
      const runs: ReportJson['runs'] = report.runs;
      assert.deepEqual(
        runs.map((r) => r.run),
        exp.runs.map((r) => r.run),
        'runs',
      );
      for (const want of exp.runs) {
        const got = runs.find((r) => r.run === want.run)!;
        assert.equal(got.complete, want.complete, `run ${want.run}: complete requests`);
        for (const s of stagesOf(cap.profile)) assertClose(got.stages_ns?.[s], want.stages_ns[s]!, `run ${want.run} ${s}`);
        assertClose(got.total_ns, want.total_ns, `run ${want.run} total`);
      }
    });
  });
}

/**
 * The oracle's own rules on a hand-made trace, where the real captures are silent or too regular
 * to tell a wrong rule from a right one (times are µs after 100 s):
 *   libaio, one fio task, three io_submit (A sector 8 at t=10, B sector 16 at 20, C sector 24 at
 *   30); they complete B (52), A (55), C (80): out of submission order. io_getevents returns 1 at
 *   60 and 2 at 90. FIFO by completion: B (1st completion) is reaped at 60, A (2nd) and C (3rd)
 *   at 90.
 */
const AIO = `# tracer: nop
            bash-1       [000] ...1. 100.000001: tracing_mark_write: xtrace: run=x begin
             fio-7       [000] ..... 100.000010: sys_io_submit(ctx_id: 0x1, nr: 1, iocbpp: 0x2)
             fio-7       [000] ..... 100.000011: block_bio_queue: 8,0 RS 8 + 8 [fio]
             fio-7       [000] ...1. 100.000012: block_rq_insert: 8,0 RS 4096 () 8 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000013: block_rq_issue: 8,0 RS 4096 () 8 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000014: sys_io_submit -> 0x1
             fio-7       [000] ..... 100.000020: sys_io_submit(ctx_id: 0x1, nr: 1, iocbpp: 0x2)
             fio-7       [000] ..... 100.000021: block_bio_queue: 8,0 RS 16 + 8 [fio]
             fio-7       [000] ...1. 100.000022: block_rq_insert: 8,0 RS 4096 () 16 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000023: block_rq_issue: 8,0 RS 4096 () 16 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000024: sys_io_submit -> 0x1
             fio-7       [000] ..... 100.000030: sys_io_submit(ctx_id: 0x1, nr: 1, iocbpp: 0x2)
             fio-7       [000] ..... 100.000031: block_bio_queue: 8,0 RS 24 + 8 [fio]
             fio-7       [000] ...1. 100.000032: block_rq_insert: 8,0 RS 4096 () 24 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000033: block_rq_issue: 8,0 RS 4096 () 24 + 8 be,0,4 [fio]
             fio-7       [000] ..... 100.000034: sys_io_submit -> 0x1
             fio-7       [000] ..... 100.000040: sys_io_getevents(ctx_id: 0x1, min_nr: 1, nr: 1, events: 0x3, timeout: 0)
          <idle>-0       [001] d.h1. 100.000050: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [001] d.h1. 100.000051: irq_handler_entry: irq=37 name=eth0
          <idle>-0       [001] ..s1. 100.000052: block_rq_complete: 8,0 RS () 16 + 8 be,0,4 [0]
          <idle>-0       [001] ..s1. 100.000055: block_rq_complete: 8,0 RS () 8 + 8 be,0,4 [0]
             fio-7       [000] ..... 100.000060: sys_io_getevents -> 0x1
             fio-7       [000] ..... 100.000070: sys_io_getevents(ctx_id: 0x1, min_nr: 2, nr: 2, events: 0x3, timeout: 0)
          <idle>-0       [000] d.h1. 100.000078: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1. 100.000080: block_rq_complete: 8,0 RS () 24 + 8 be,0,4 [0]
             fio-7       [000] ..... 100.000090: sys_io_getevents -> 0x2
            bash-1       [000] ...1. 100.000099: tracing_mark_write: xtrace: run=x end
`;

describe('workload oracle: hand-made libaio trace', () => {
  it('reaps completions first in, first out by completion, and takes the disk interrupt by name', () => {
    const { events, unparsed } = parseTrace(AIO);
    assert.deepEqual(unparsed, []);
    const e = expectedFromEvents(events, 'linux-aio');
    // A: 10 → 11 → 12 → 13 → irq 50 (not eth0 at 51) → 55 → reaped 90  = 1, 1, 1, 37, 5, 35 = 80
    // B: 20 → 21 → 22 → 23 → irq 50 → 52 → reaped 60                 = 1, 1, 1, 27, 2, 8 = 40
    // C: 30 → 31 → 32 → 33 → irq 78 → 80 → reaped 90                 = 1, 1, 1, 45, 2, 10 = 60
    const us = (...xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length) * 1000;
    assert.equal(e.runs.length, 1);
    const r = e.runs[0]!;
    assert.equal(r.complete, 3);
    assert.deepEqual(r.stages_ns, {
      'submit->bio_queue': us(1, 1, 1),
      'bio_queue->rq_insert': us(1, 1, 1),
      'rq_insert->rq_issue': us(1, 1, 1),
      'rq_issue->irq': us(37, 27, 45),
      'irq->rq_complete': us(5, 2, 2),
      'rq_complete->reaped': us(35, 8, 10),
    });
    assert.equal(r.total_ns, us(80, 40, 60));
  });
});
