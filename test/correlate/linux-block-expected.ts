/**
 * Independent oracle for `xtrace report --profile linux-block`: the per-run, per-stage latency
 * means of the block-I/O requests of an ingested capture, computed in plain SQL over the
 * `events` view. It deliberately shares nothing with src/correlate, src/analysis or src/report,
 * so that the report's JSON can be compared to it to the nanosecond.
 *
 * All of the request matching, run assignment, warm-up, trimming and per-run averaging is the one
 * query LINUX_BLOCK_EXPECTED_SQL below; TypeScript only computes the mean and the sample standard
 * deviation of the run means.
 */
import type { Db } from '../../src/db/db.js';

export interface ExpectedRun {
  run: string;
  complete: number;
  kept: number;
  stages_ns: Record<string, number>;
  total_ns: number;
}
export interface Expected {
  runs: ExpectedRun[];
  stages: { name: string; mean_ns: number; stddev_ns: number | null }[];
  total: { mean_ns: number; stddev_ns: number | null };
}

/** The six stages, in request order; also the column order of the query's stage averages. */
export const STAGES = [
  'syscall_enter->bio_queue',
  'bio_queue->rq_insert',
  'rq_insert->rq_issue',
  'rq_issue->irq',
  'irq->rq_complete',
  'rq_complete->syscall_exit',
] as const;

/**
 * One row per run (runs of every source, in marker order). Parameters, positional:
 *   1. warm-up: number of complete requests dropped at the start of each run (integer ≥ 0);
 *   2. trim: fraction F; k = floor(F·n) requests dropped at each end of the latency order.
 *
 * "Before/after" is always event id order within one source (the file's order); durations are
 * ts_ns differences. Ids are unique across sources, but every comparison is still restricted to
 * the same source_id so that several captures in one database never mix.
 */
export const LINUX_BLOCK_EXPECTED_SQL = `
WITH
params AS (
  SELECT CAST(? AS INTEGER) AS warmup, CAST(? AS REAL) AS trim
),

-- Read the view once: only the events the matching needs. MATERIALIZED so that the view's
-- string joins run once, not once per correlated subquery below.
ev AS MATERIALIZED (
  SELECT id, source_id, ts_ns, cpu, pid, name, args
  FROM events
  WHERE name IN ('sys_enter_read', 'sys_enter_pread64', 'sys_enter_readv', 'sys_enter_preadv', 'sys_enter_preadv2',
                 'sys_enter_write', 'sys_enter_pwrite64', 'sys_enter_writev', 'sys_enter_pwritev', 'sys_enter_pwritev2',
                 'block_bio_queue', 'block_rq_insert', 'block_rq_issue', 'block_rq_complete',
                 'irq_handler_entry', 'tracing_mark_write')
     OR name GLOB 'sys_exit_*'
),

-- 1. syscall_enter candidates: the read/write family only.
sys_enter AS MATERIALIZED (
  SELECT id, source_id, ts_ns, pid FROM ev WHERE name GLOB 'sys_enter_*'
),
-- every syscall exit (any syscall): bounds the search for bio_queue and gives syscall_exit.
sys_exit AS MATERIALIZED (
  SELECT id, source_id, ts_ns, pid FROM ev WHERE name GLOB 'sys_exit_*'
),

-- Block events with dev (first token of args) and sector (the number just before ' + ';
-- rtrim of the digits finds where that last word starts, whatever the format puts before it:
-- '254,0 RS 59678720 + 8 [fio]', '254,0 RS 4096 () 59678720 + 8 be,0,4 [fio]',
-- '254,0 RS () 59678720 + 8 0x2,0,4 [0]').
blk AS MATERIALIZED (
  SELECT id, source_id, ts_ns, cpu, pid, name,
         substr(args, 1, instr(args, ' ') - 1) AS dev,
         CAST(substr(pre, length(rtrim(pre, '0123456789')) + 1) AS INTEGER) AS sector
  FROM (SELECT ev.*, substr(args, 1, instr(args, ' + ') - 1) AS pre
        FROM ev WHERE name GLOB 'block_*')
),
bio AS MATERIALIZED (SELECT * FROM blk WHERE name = 'block_bio_queue'),
ins AS MATERIALIZED (SELECT * FROM blk WHERE name = 'block_rq_insert'),
iss AS MATERIALIZED (SELECT * FROM blk WHERE name = 'block_rq_issue'),
cmp AS MATERIALIZED (SELECT * FROM blk WHERE name = 'block_rq_complete'),
irq AS MATERIALIZED (
  SELECT id, source_id, ts_ns, cpu FROM ev WHERE name = 'irq_handler_entry'
),

-- Runs: 'xtrace: run=<label> begin' paired with the first 'xtrace: run=<label> end' after it.
-- 'xtrace: run=' is 12 characters, ' begin' 6, ' end' 4.
marks AS MATERIALIZED (
  SELECT id, source_id,
         CASE WHEN args GLOB 'xtrace: run=* begin' THEN 'begin' ELSE 'end' END AS kind,
         CASE WHEN args GLOB 'xtrace: run=* begin' THEN substr(args, 13, length(args) - 18)
              ELSE substr(args, 13, length(args) - 16) END AS label
  FROM ev
  WHERE name = 'tracing_mark_write' AND (args GLOB 'xtrace: run=* begin' OR args GLOB 'xtrace: run=* end')
),
runs AS MATERIALIZED (
  SELECT b.source_id, b.id AS begin_id, b.label,
         (SELECT min(e.id) FROM marks e
           WHERE e.source_id = b.source_id AND e.kind = 'end' AND e.label = b.label AND e.id > b.id) AS end_id
  FROM marks b
  WHERE b.kind = 'begin'
),

-- 2. bio_queue: the first block_bio_queue of the same pid after syscall_enter and before that
--    pid's next sys_exit_*. None: a page-cache hit, not a request (dropped by the inner join).
r_next AS MATERIALIZED (
  SELECT s.source_id, s.pid, s.id AS enter_id,
         (SELECT min(x.id) FROM sys_exit x
           WHERE x.source_id = s.source_id AND x.pid = s.pid AND x.id > s.id) AS next_exit_id
  FROM sys_enter s
),
r_bio AS (
  SELECT r.source_id, r.pid, r.enter_id,
         (SELECT min(b.id) FROM bio b
           WHERE b.source_id = r.source_id AND b.pid = r.pid AND b.id > r.enter_id
             AND b.id < coalesce(r.next_exit_id, 9223372036854775807)) AS bio_id
  FROM r_next r
),
req AS MATERIALIZED (
  SELECT r.source_id, r.pid, r.enter_id, r.bio_id, b.dev, b.sector
  FROM r_bio r JOIN bio b ON b.id = r.bio_id
),
-- 3. rq_insert: the first block_rq_insert after bio_queue with the same dev and sector.
r_ins AS MATERIALIZED (
  SELECT r.*,
         (SELECT min(i.id) FROM ins i
           WHERE i.source_id = r.source_id AND i.dev = r.dev AND i.sector = r.sector AND i.id > r.bio_id) AS ins_id
  FROM req r
),
-- 6. rq_complete: the first block_rq_complete after rq_insert with the same dev and sector.
r_cmp AS MATERIALIZED (
  SELECT r.*,
         (SELECT min(c.id) FROM cmp c
           WHERE c.source_id = r.source_id AND c.dev = r.dev AND c.sector = r.sector AND c.id > r.ins_id) AS cmp_id
  FROM r_ins r
),
-- 4. rq_issue: the LAST block_rq_issue with the same dev and sector between rq_insert and
--    rq_complete (a requeued request is issued again; the last issue counts).
-- 7. syscall_exit: the first sys_exit_* of the pid after rq_complete.
r_iss AS MATERIALIZED (
  SELECT r.*,
         (SELECT max(i.id) FROM iss i
           WHERE i.source_id = r.source_id AND i.dev = r.dev AND i.sector = r.sector
             AND i.id > r.ins_id AND i.id < r.cmp_id) AS iss_id,
         (SELECT min(x.id) FROM sys_exit x
           WHERE x.source_id = r.source_id AND x.pid = r.pid AND x.id > r.cmp_id) AS exit_id
  FROM r_cmp r
),
-- 5. irq: the last irq_handler_entry on rq_complete's CPU between rq_issue and rq_complete.
r_irq AS MATERIALIZED (
  SELECT r.*,
         (SELECT max(q.id) FROM irq q
           WHERE q.source_id = r.source_id AND q.cpu = c.cpu AND q.id > r.iss_id AND q.id < r.cmp_id) AS irq_id
  FROM r_iss r JOIN cmp c ON c.id = r.cmp_id
),

-- Complete requests (all seven points found) with their timestamps, in the run whose markers
-- enclose syscall_enter; requests outside every run are not counted.
complete AS MATERIALIZED (
  SELECT u.begin_id, r.enter_id,
         se.ts_ns AS t_enter, b.ts_ns AS t_bio, i.ts_ns AS t_ins, s.ts_ns AS t_iss,
         q.ts_ns AS t_irq, c.ts_ns AS t_cmp, x.ts_ns AS t_exit,
         x.ts_ns - se.ts_ns AS total
  FROM r_irq r
  JOIN runs u ON u.source_id = r.source_id AND u.begin_id < r.enter_id AND r.enter_id < u.end_id
  JOIN sys_enter se ON se.id = r.enter_id
  JOIN bio b ON b.id = r.bio_id
  JOIN ins i ON i.id = r.ins_id
  JOIN iss s ON s.id = r.iss_id
  JOIN irq q ON q.id = r.irq_id
  JOIN cmp c ON c.id = r.cmp_id
  JOIN sys_exit x ON x.id = r.exit_id
),

-- Warm-up: number the complete requests of each run by syscall_enter, drop the first N.
numbered AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.begin_id ORDER BY c.enter_id) AS seq
  FROM complete c
),
warm AS (
  SELECT n.* FROM numbered n, params p WHERE n.seq > p.warmup
),
-- Trim: rank by total latency (ties: earlier syscall_enter first), n = requests left after
-- warm-up, k = floor(F·n); keep ranks k+1 .. n-k. (CAST of a non-negative REAL truncates = floor.)
ranked AS (
  SELECT w.*,
         row_number() OVER (PARTITION BY w.begin_id ORDER BY w.total, w.enter_id) AS rnk,
         count(*) OVER (PARTITION BY w.begin_id) AS n
  FROM warm w
),
kept AS (
  SELECT r.* FROM ranked r, params p
  WHERE r.rnk > CAST(p.trim * r.n AS INTEGER) AND r.rnk <= r.n - CAST(p.trim * r.n AS INTEGER)
),
per_run AS (
  SELECT begin_id, count(*) AS kept,
         avg(t_bio - t_enter) AS s1, avg(t_ins - t_bio) AS s2, avg(t_iss - t_ins) AS s3,
         avg(t_irq - t_iss) AS s4, avg(t_cmp - t_irq) AS s5, avg(t_exit - t_cmp) AS s6,
         avg(total) AS total
  FROM kept GROUP BY begin_id
)

-- One row per run in marker order (runs without any complete request too: complete = 0).
SELECT u.label AS run,
       (SELECT count(*) FROM complete c WHERE c.begin_id = u.begin_id) AS complete,
       coalesce(p.kept, 0) AS kept,
       p.s1, p.s2, p.s3, p.s4, p.s5, p.s6, p.total
FROM runs u
LEFT JOIN per_run p ON p.begin_id = u.begin_id
ORDER BY u.source_id, u.begin_id
`;

interface Row {
  run: string;
  complete: number;
  kept: number;
  s1: number | null;
  s2: number | null;
  s3: number | null;
  s4: number | null;
  s5: number | null;
  s6: number | null;
  total: number | null;
}

function meanAndSampleStddev(xs: number[]): { mean_ns: number; stddev_ns: number | null } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean_ns: mean, stddev_ns: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { mean_ns: mean, stddev_ns: Math.sqrt(ss / (n - 1)) };
}

/**
 * Expected linux-block figures of every run in `db`. A run with no kept request is listed (with
 * `total_ns` NaN and no stage) but left out of the across-run mean and standard deviation.
 */
export function expectedLinuxBlock(db: Db, opts: { trim?: number; warmup?: number } = {}): Expected {
  const trim = opts.trim ?? 0.1;
  const warmup = opts.warmup ?? 0;
  if (!(trim >= 0 && trim < 0.5)) throw new RangeError(`trim must be in [0, 0.5): ${trim}`);
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new RangeError(`warmup must be an integer ≥ 0: ${warmup}`);

  const rows = db.prepare<Row>(LINUX_BLOCK_EXPECTED_SQL).all(warmup, trim);
  const runs: ExpectedRun[] = rows.map((r) => {
    const stages_ns: Record<string, number> = {};
    const vals = [r.s1, r.s2, r.s3, r.s4, r.s5, r.s6];
    if (r.kept > 0) STAGES.forEach((s, i) => (stages_ns[s] = vals[i]!));
    return { run: r.run, complete: r.complete, kept: r.kept, stages_ns, total_ns: r.total ?? NaN };
  });

  const withData = runs.filter((r) => r.kept > 0);
  return {
    runs,
    stages: STAGES.map((name) => ({ name, ...meanAndSampleStddev(withData.map((r) => r.stages_ns[name]!)) })),
    total: meanAndSampleStddev(withData.map((r) => r.total_ns)),
  };
}

/**
 * A hand-made ftrace text where every number is known. Times are µs after 100 s; "t=12" below
 * means 100.000012 s. Stages of each request (µs):
 *   run a, req 1 (enter 10): bio 12, insert 15, issue 20 and again 30 (requeued: last counts),
 *     irqs on CPU 0 at 40 and 45 (the last counts), irq on CPU 1 at 47 (not rq_complete's CPU:
 *     ignored), complete 50 (CPU 0), exit 60 → 2, 3, 15, 15, 5, 10 = 50
 *   run a, page-cache hit (enter 70, exit 72): the bio of another pid in between (sector 900,
 *     inserted 82, issued 92, irq 93, completed 95) is not its request
 *   run a, req 2 (enter 80): the insert of sector 900 at 82 is ignored → 1, 2, 1, 6, 1, 9 = 20
 *   run a, req 3 (enter 110) → 2, 1, 2, 5, 2, 18 = 30
 *   between runs, a complete request (enter 160): not counted
 *   run b, req 4 (enter 210) → 1, 1, 1, 1, 1, 1 = 6
 *   run b, req 5 (enter 220): inserted, never completed → incomplete, not counted
 */
export const SYNTHETIC = `# tracer: nop
#
            bash-100     [000] ...1.   100.000000: tracing_mark_write: xtrace: run=a begin
             fio-200     [000] .....   100.000010: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0)
             fio-200     [000] .....   100.000012: block_bio_queue: 8,0 RS 100 + 8 [fio]
             fio-200     [000] ...1.   100.000015: block_rq_insert: 8,0 RS 4096 () 100 + 8 be,0,4 [fio]
             fio-200     [000] .....   100.000020: block_rq_issue: 8,0 RS 4096 () 100 + 8 be,0,4 [fio]
    kworker/0:1H-50      [000] .....   100.000030: block_rq_issue: 8,0 RS 4096 () 100 + 8 be,0,4 [kworker/0:1H]
          <idle>-0       [000] d.h1.   100.000040: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] d.h1.   100.000045: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [001] d.h1.   100.000047: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000050: block_rq_complete: 8,0 RS () 100 + 8 be,0,4 [0]
             fio-200     [000] .....   100.000060: sys_pread64 -> 0x1000
             fio-200     [000] .....   100.000070: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x1000)
    kworker/0:1H-50      [000] .....   100.000071: block_bio_queue: 8,0 W 900 + 8 [kworker/0:1H]
             fio-200     [000] .....   100.000072: sys_pread64 -> 0x1000
             fio-200     [000] .....   100.000080: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x2000)
             fio-200     [000] .....   100.000081: block_bio_queue: 8,0 RS 200 + 8 [fio]
    kworker/0:1H-50      [000] ...1.   100.000082: block_rq_insert: 8,0 W 4096 () 900 + 8 be,0,4 [kworker/0:1H]
             fio-200     [000] ...1.   100.000083: block_rq_insert: 8,0 RS 4096 () 200 + 8 be,0,4 [fio]
             fio-200     [000] .....   100.000084: block_rq_issue: 8,0 RS 4096 () 200 + 8 be,0,4 [fio]
          <idle>-0       [000] d.h1.   100.000090: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000091: block_rq_complete: 8,0 RS () 200 + 8 be,0,4 [0]
    kworker/0:1H-50      [000] .....   100.000092: block_rq_issue: 8,0 W 4096 () 900 + 8 be,0,4 [kworker/0:1H]
          <idle>-0       [000] d.h1.   100.000093: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000095: block_rq_complete: 8,0 W () 900 + 8 be,0,4 [0]
             fio-200     [000] .....   100.000100: sys_pread64 -> 0x1000
             fio-200     [000] .....   100.000110: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x3000)
             fio-200     [000] .....   100.000112: block_bio_queue: 8,0 RS 300 + 8 [fio]
             fio-200     [000] ...1.   100.000113: block_rq_insert: 8,0 RS 4096 () 300 + 8 be,0,4 [fio]
             fio-200     [000] .....   100.000115: block_rq_issue: 8,0 RS 4096 () 300 + 8 be,0,4 [fio]
          <idle>-0       [000] d.h1.   100.000120: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000122: block_rq_complete: 8,0 RS () 300 + 8 be,0,4 [0]
             fio-200     [000] .....   100.000140: sys_pread64 -> 0x1000
            bash-100     [000] ...1.   100.000150: tracing_mark_write: xtrace: run=a end
             fio-200     [000] .....   100.000160: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x4000)
             fio-200     [000] .....   100.000161: block_bio_queue: 8,0 RS 400 + 8 [fio]
             fio-200     [000] ...1.   100.000162: block_rq_insert: 8,0 RS 4096 () 400 + 8 be,0,4 [fio]
             fio-200     [000] .....   100.000163: block_rq_issue: 8,0 RS 4096 () 400 + 8 be,0,4 [fio]
          <idle>-0       [000] d.h1.   100.000164: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000165: block_rq_complete: 8,0 RS () 400 + 8 be,0,4 [0]
             fio-200     [000] .....   100.000170: sys_pread64 -> 0x1000
            bash-100     [000] ...1.   100.000200: tracing_mark_write: xtrace: run=b begin
             fio-200     [000] .....   100.000210: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x5000)
             fio-200     [000] .....   100.000211: block_bio_queue: 8,0 RS 500 + 8 [fio]
             fio-200     [000] ...1.   100.000212: block_rq_insert: 8,0 RS 4096 () 500 + 8 be,0,4 [fio]
             fio-200     [000] .....   100.000213: block_rq_issue: 8,0 RS 4096 () 500 + 8 be,0,4 [fio]
          <idle>-0       [000] d.h1.   100.000214: irq_handler_entry: irq=36 name=virtio1-req.0
          <idle>-0       [000] ..s1.   100.000215: block_rq_complete: 8,0 RS () 500 + 8 be,0,4 [0]
             fio-200     [000] .....   100.000216: sys_pread64 -> 0x1000
             fio-200     [000] .....   100.000220: sys_pread64(fd: 6, buf: 0x1000, count: 0x1000, pos: 0x6000)
             fio-200     [000] .....   100.000221: block_bio_queue: 8,0 RS 600 + 8 [fio]
             fio-200     [000] ...1.   100.000222: block_rq_insert: 8,0 RS 4096 () 600 + 8 be,0,4 [fio]
            bash-100     [000] ...1.   100.000230: tracing_mark_write: xtrace: run=b end
`;
