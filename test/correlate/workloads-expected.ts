/**
 * Independent oracle for the workload captures in samples/workloads/<name>/trace.txt.gz: the
 * per-run count of complete fio requests and their plain (untrimmed) per-stage mean latencies, for
 * the profiles `linux-block` (psync), `linux-aio` (libaio) and `io_uring`.
 *
 * It shares NOTHING with the program: it reads the gzip'd ftrace text itself (its own line parser,
 * below), matches requests with its own rules and averages with plain arithmetic. It imports only
 * node:zlib / node:fs. It was written from the definitions of the brief (quoted as "RULE …" in the
 * comments, so that a reviewer can check the code against them line by line), without reading
 * src/correlate, src/analysis, src/pipeline or src/profiles.
 *
 * Order: "before" / "after" / "first" / "last" / "next" are always FILE ORDER (the index of the
 * event in the trace text: ftrace prints the per-CPU buffers merged by time, so this is time order
 * with same-µs ties kept as the kernel recorded them). Durations are timestamp differences in ns.
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 1. Parsing the ftrace text: `comm-pid [cpu] flags ts: event: args`
// ─────────────────────────────────────────────────────────────────────────────────────────────

/** One event line of the trace. `i` is its index among the events (file order). */
export interface Ev {
  i: number;
  comm: string;
  pid: number;
  cpu: number;
  /** Timestamp in ns: `sec.frac` with the fraction's digits taken exactly (µs digits here). */
  ts: number;
  /** 'enter': `sys_X(args)`; 'exit': `sys_X -> ret`; 'tp': `name: args`. */
  kind: 'enter' | 'exit' | 'tp';
  /** Syscall name without `sys_` for enter/exit (`pread64`); tracepoint name for 'tp'. */
  name: string;
  args: string;
  /** Return value of an exit line (`-> 0x1000` = 4096). */
  ret: number;
}

// comm is lazy so that comms with dashes (`kworker/R-dio/v-17760`) keep everything up to the last
// `-<digits> [`; an optional record-tgid column; the flags column is optional.
const LINE = /^\s*(.*?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?(\d+)\.(\d+):\s(.*)$/;
const ENTER = /^sys_(\w+)\((.*)\)\s*$/;
const EXIT = /^sys_(\w+) -> (\S+)\s*$/;
const TP = /^(\w+):\s?(.*)$/;

function toNs(sec: string, frac: string): number {
  const ns = Number(sec) * 1e9 + Number(frac.padEnd(9, '0').slice(0, 9));
  if (!Number.isSafeInteger(ns)) throw new RangeError(`timestamp ${sec}.${frac} does not fit`);
  return ns;
}

function parseRet(s: string): number {
  return s.startsWith('0x') ? parseInt(s.slice(2), 16) : s.startsWith('-0x') ? -parseInt(s.slice(3), 16) : Number(s);
}

/** Parses the trace text. `unparsed` lists lines that are neither comments/blank nor events. */
export function parseTrace(text: string): { events: Ev[]; unparsed: string[] } {
  const events: Ev[] = [];
  const unparsed: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) {
      unparsed.push(line);
      continue;
    }
    const [, comm, pid, cpu, sec, frac, body] = m as unknown as [string, string, string, string, string, string, string];
    const base = { i: events.length, comm, pid: Number(pid), cpu: Number(cpu), ts: toNs(sec, frac), ret: NaN };
    let e: RegExpExecArray | null;
    if ((e = ENTER.exec(body))) events.push({ ...base, kind: 'enter', name: e[1]!, args: e[2]! });
    else if ((e = EXIT.exec(body))) events.push({ ...base, kind: 'exit', name: e[1]!, args: '', ret: parseRet(e[2]!) });
    else if ((e = TP.exec(body))) events.push({ ...base, kind: 'tp', name: e[1]!, args: e[2]! });
    else unparsed.push(line);
  }
  return { events, unparsed };
}

export function readTrace(path: string): { events: Ev[]; unparsed: string[] } {
  const raw = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return parseTrace(text);
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 2. Block-layer field extraction
// ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * dev and start sector of a block event: dev is the first word, the sector the number just
 * before ` + <n>`. Works for block_bio_queue `254,0 RS 71688192 + 8 [fio]`, block_rq_insert /
 * block_rq_issue `254,0 RS 4096 () 71688192 + 8 be,0,4 [fio]`, block_rq_complete / requeue
 * `254,0 RS () 71688192 + 8 be,0,4 [0]`, block_bio_backmerge / frontmerge.
 */
function devSector(args: string): { dev: string; sector: string } | null {
  const m = /^(\S+) .*?(\d+) \+ \d+/.exec(args);
  return m ? { dev: m[1]!, sector: m[2]! } : null;
}
/** block_split `254,0 RS 71688192 / 71688224 [fio]`: the bio at `from` was split, the rest starts at `to`. */
function splitSectors(args: string): { dev: string; from: string; to: string } | null {
  const m = /^(\S+) \S+ (\d+) \/ (\d+)/.exec(args);
  return m ? { dev: m[1]!, from: m[2]!, to: m[3]! } : null;
}
const key = (dev: string, sector: string) => `${dev}/${sector}`;

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 3. Block requests (one instance per insert .. complete of a dev+sector key)
// ─────────────────────────────────────────────────────────────────────────────────────────────

/**
 * RULE "requests keyed by dev+start sector": one instance per life of a key, from its
 * block_rq_insert (or its first block_rq_issue when it had no insert: flushes) to its
 * block_rq_complete.
 *
 * The key is not unique on the real data: in randread-4jobs two fio jobs read the same sector at
 * the same time (same random sequence), so two requests with one key are in flight together. The
 * events of a key then go to its open instances first in, first out: an issue to the oldest one
 * not issued yet (or requeued), a requeue or a completion to the oldest one issued. (When both
 * were issued before either completed, which completion is whose cannot be told from the trace;
 * swapping them moves no stage sum of a run: both complete on one CPU after the same interrupt.)
 */
interface Rq {
  key: string;
  /** index of the block_rq_insert (undefined: issued without an insert) */
  insert: number | undefined;
  /** index of the instance's first event (insert, else first issue): how pieces find it */
  first: number;
  issues: number[];
  requeues: number;
  complete: number | undefined;
  state: 'inserted' | 'issued' | 'requeued';
}

interface BlockIndex {
  /** instances of each key in order of their first event */
  byKey: Map<string, Rq[]>;
  anomalies: {
    /** a key inserted while another request of that key was still in flight (kept apart, FIFO) */
    same_key_in_flight: number;
    /** block_rq_insert of a requeued request (the same request: its first insert is kept) */
    reinsert_after_requeue: number;
    /** block_rq_issue of an issued request without a requeue in between (kept as another issue) */
    reissue_without_requeue: number;
    /** block_rq_complete of a key with no open request (flushes: `18446744073709551615 + 0`) */
    complete_without_request: number;
  };
}

function indexRequests(events: Ev[]): BlockIndex {
  const byKey = new Map<string, Rq[]>();
  const open = new Map<string, Rq[]>(); // open instances of each key, oldest first
  const anomalies = { same_key_in_flight: 0, reinsert_after_requeue: 0, reissue_without_requeue: 0, complete_without_request: 0 };
  const openNew = (k: string, e: Ev, insert: boolean): Rq => {
    const r: Rq = { key: k, insert: insert ? e.i : undefined, first: e.i, issues: [], requeues: 0, complete: undefined, state: insert ? 'inserted' : 'issued' };
    const o = open.get(k) ?? [];
    if (o.length > 0) anomalies.same_key_in_flight++;
    o.push(r);
    open.set(k, o);
    const list = byKey.get(k) ?? [];
    list.push(r);
    byKey.set(k, list);
    return r;
  };
  for (const e of events) {
    if (e.kind !== 'tp') continue;
    if (e.name !== 'block_rq_insert' && e.name !== 'block_rq_issue' && e.name !== 'block_rq_requeue' && e.name !== 'block_rq_complete') continue;
    const ds = devSector(e.args);
    if (!ds) continue;
    const k = key(ds.dev, ds.sector);
    const o = open.get(k) ?? [];
    switch (e.name) {
      case 'block_rq_insert': {
        const rq = o.find((r) => r.state === 'requeued');
        if (rq) anomalies.reinsert_after_requeue++;
        else openNew(k, e, true);
        break;
      }
      case 'block_rq_issue': {
        const rq = o.find((r) => r.state === 'inserted' || r.state === 'requeued');
        if (rq) {
          rq.issues.push(e.i);
          rq.state = 'issued';
        } else if (o.length > 0) {
          anomalies.reissue_without_requeue++;
          o[0]!.issues.push(e.i);
        } else openNew(k, e, false).issues.push(e.i);
        break;
      }
      case 'block_rq_requeue': {
        const rq = o.find((r) => r.state === 'issued');
        if (rq) {
          rq.requeues++;
          rq.state = 'requeued';
        }
        break;
      }
      case 'block_rq_complete': {
        const rq = o.find((r) => r.state === 'issued') ?? o[0];
        if (rq) {
          rq.complete = e.i;
          o.splice(o.indexOf(rq), 1);
        } else anomalies.complete_without_request++;
        break;
      }
    }
  }
  return { byKey, anomalies };
}

/**
 * RULE "rq_issue = the first issue of its requests (if a request is requeued, its LAST issue)":
 * the issue of one request: its only issue, or its last one when it was requeued.
 */
function issueOf(r: Rq): number | undefined {
  if (r.issues.length === 0) return undefined;
  return r.requeues > 0 ? r.issues[r.issues.length - 1] : r.issues[0];
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 4. The part of a request common to every profile: bio_queue .. rq_complete (and irq)
// ─────────────────────────────────────────────────────────────────────────────────────────────

/** Interrupts of the disk by NAME, per CPU, in file order. */
function indexIrqs(events: Ev[]): Map<number, number[]> {
  const byCpu = new Map<number, number[]>();
  for (const e of events) {
    // RULE "irq_handler_entry whose name starts with "virtio1-req" (the disk's interrupt, by NAME)"
    if (e.kind === 'tp' && e.name === 'irq_handler_entry' && /\bname=virtio1-req/.test(e.args)) {
      const l = byCpu.get(e.cpu) ?? [];
      l.push(e.i);
      byCpu.set(e.cpu, l);
    }
  }
  return byCpu;
}

/** Largest element of sorted `xs` that is < `below`, or undefined. */
function lastBelow(xs: number[], below: number): number | undefined {
  let lo = 0;
  let hi = xs.length; // first index with xs[idx] >= below
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < below) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? xs[lo - 1] : undefined;
}

export interface BlockPart {
  bio_queue: number;
  rq_insert: number | undefined;
  rq_issue: number | undefined;
  irq: number | undefined;
  rq_complete: number | undefined;
  /** the block requests found for its pieces (rq_* are undefined when one of them lacks that event) */
  requests: Rq[];
  /** pieces (bios / split parts) that have no request of their own key in the window */
  piecesWithoutRequest: number;
}

/**
 * The block part of one request, given its bios (block_bio_queue events, first one first) and
 * block_split events, all of the submitting task inside the submitting call, and the end of that
 * call (`windowEnd`: the syscall's exit, the io_submit's exit, the io_uring_enter's exit).
 */
function blockPart(events: Ev[], blk: BlockIndex, irqs: Map<number, number[]>, bios: Ev[], splits: Ev[], windowEnd: number): BlockPart {
  // RULE "bio_queue = its FIRST bio"
  const bio_queue = bios[0]!.i;

  // RULE "a split bio's pieces start at the sectors named by block_split": the pieces are the
  // bios' start sectors, plus the `to` sector of every split (of this task in this window) of a
  // piece already known (a chain of splits: 0/32, 32/64, 64/96 → 0, 32, 64, 96).
  const pieces: { k: string; at: number }[] = [];
  const known = new Set<string>();
  const all = [...bios.map((b) => ({ e: b, bio: true })), ...splits.map((s) => ({ e: s, bio: false }))].sort((a, b) => a.e.i - b.e.i);
  for (const { e, bio } of all) {
    if (bio) {
      const ds = devSector(e.args)!;
      const k = key(ds.dev, ds.sector);
      if (!known.has(k)) (known.add(k), pieces.push({ k, at: e.i }));
    } else {
      const sp = splitSectors(e.args);
      if (sp && known.has(key(sp.dev, sp.from))) {
        const k = key(sp.dev, sp.to);
        if (!known.has(k)) (known.add(k), pieces.push({ k, at: e.i }));
      }
    }
  }

  // RULE "requests keyed by dev+start sector": the request of a piece is the first instance of
  // its key that begins after the piece appeared and before the end of the submitting window.
  // RULE (issue 9, README "Merges") "a bio that merges into another block request completes with
  // that request; its insertion is the moment it joined it (or the request's insertion, if later)":
  // a piece with a merge event of its own sector (block_bio_backmerge/frontmerge, block_rq_merge)
  // and no request of its own belongs to the first request of its device that completes after the
  // merge with a range (start + nsec of the block_rq_complete) containing the piece's sector.
  const requests: Rq[] = [];
  const insertOf = new Map<Rq, number | undefined>();
  let piecesWithoutRequest = 0;
  for (const p of pieces) {
    const r = (blk.byKey.get(p.k) ?? []).find((x) => x.first > p.at && x.first < windowEnd);
    if (r) {
      if (!requests.includes(r)) (requests.push(r), insertOf.set(r, r.insert));
      continue;
    }
    const merge = mergeIndex(events).get(p.k)?.find((i) => i > p.at && i < windowEnd);
    const [dev, sector] = p.k.split('/') as [string, string];
    const into = merge === undefined ? undefined : completionsOf(events, blk).find((c) => c.dev === dev && c.at > merge && c.start <= Number(sector) && Number(sector) < c.start + c.nsec);
    if (into) {
      if (!requests.includes(into.r)) requests.push(into.r);
      const ins = into.r.insert === undefined ? undefined : Math.max(merge!, into.r.insert);
      insertOf.set(into.r, ins);
    } else piecesWithoutRequest++;
  }
  const none: BlockPart = { bio_queue, rq_insert: undefined, rq_issue: undefined, irq: undefined, rq_complete: undefined, requests, piecesWithoutRequest };
  if (requests.length === 0) return none;

  // RULE "rq_insert = first block_rq_insert of its requests" (missing if any request has none)
  const inserts = requests.map((r) => insertOf.get(r));
  const rq_insert = inserts.every((x) => x !== undefined) ? Math.min(...(inserts as number[])) : undefined;
  // RULE "rq_issue = the first issue of its requests (if a request is requeued, its LAST issue)"
  const issues = requests.map(issueOf);
  const rq_issue = issues.every((x) => x !== undefined) ? Math.min(...(issues as number[])) : undefined;
  // RULE "rq_complete = the LAST block_rq_complete of its requests" (missing if any is missing)
  const completes = requests.map((r) => r.complete);
  const rq_complete = completes.every((x) => x !== undefined) ? Math.max(...(completes as number[])) : undefined;
  // RULE "irq = the last irq_handler_entry whose name starts with "virtio1-req" on the CPU of
  // that last completion, before it (and after the issue)"
  let irq: number | undefined;
  if (rq_complete !== undefined && rq_issue !== undefined) {
    const cand = lastBelow(irqs.get(events[rq_complete]!.cpu) ?? [], rq_complete);
    if (cand !== undefined && cand > rq_issue) irq = cand;
  }
  return { bio_queue, rq_insert, rq_issue, irq, rq_complete, requests, piecesWithoutRequest };
}

/** Per piece key: the indices of the merge events of that sector (block_bio_backmerge/frontmerge, block_rq_merge). */
const mergeCache = new WeakMap<Ev[], Map<string, number[]>>();
function mergeIndex(events: Ev[]): Map<string, number[]> {
  let m = mergeCache.get(events);
  if (m) return m;
  m = new Map();
  for (const e of events) {
    if (e.kind !== 'tp' || !/^block_(bio_backmerge|bio_frontmerge|rq_merge)$/.test(e.name)) continue;
    const ds = devSector(e.args);
    if (!ds) continue;
    const k = key(ds.dev, ds.sector);
    (m.get(k) ?? m.set(k, []).get(k)!).push(e.i);
  }
  mergeCache.set(events, m);
  return m;
}

/** Every completed request with the range its block_rq_complete names, in completion order. */
const completionCache = new WeakMap<Ev[], { r: Rq; dev: string; start: number; nsec: number; at: number }[]>();
function completionsOf(events: Ev[], blk: BlockIndex): { r: Rq; dev: string; start: number; nsec: number; at: number }[] {
  let l = completionCache.get(events);
  if (l) return l;
  l = [];
  for (const list of blk.byKey.values())
    for (const r of list) {
      if (r.complete === undefined) continue;
      const m = /^(\S+) .*?(\d+) \+ (\d+)/.exec(events[r.complete]!.args);
      if (m) l.push({ r, dev: m[1]!, start: Number(m[2]), nsec: Number(m[3]), at: r.complete });
    }
  l.sort((a, b) => a.at - b.at);
  completionCache.set(events, l);
  return l;
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 5. Runs
// ─────────────────────────────────────────────────────────────────────────────────────────────

export interface Run {
  label: string;
  begin: number;
  end: number;
}

/** `tracing_mark_write: xtrace: run=N begin` .. the next `… run=N end`, in marker order. */
export function findRuns(events: Ev[]): Run[] {
  const runs: Run[] = [];
  const open = new Map<string, number>();
  for (const e of events) {
    if (e.kind !== 'tp' || e.name !== 'tracing_mark_write') continue;
    const m = /^xtrace: run=(\S+) (begin|end)\s*$/.exec(e.args);
    if (!m) continue;
    if (m[2] === 'begin') open.set(m[1]!, e.i);
    else if (open.has(m[1]!)) {
      runs.push({ label: m[1]!, begin: open.get(m[1]!)!, end: e.i });
      open.delete(m[1]!);
    }
  }
  return runs.sort((a, b) => a.begin - b.begin);
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 6. The three request kinds
// ─────────────────────────────────────────────────────────────────────────────────────────────

export type ProfileName = 'linux-block' | 'linux-aio' | 'io_uring';

export const POINTS: Record<ProfileName, readonly string[]> = {
  'linux-block': ['syscall_enter', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'syscall_exit'],
  'linux-aio': ['submit', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'reaped'],
  io_uring: ['submit', 'bio_queue', 'rq_insert', 'rq_issue', 'irq', 'rq_complete', 'cqe', 'reaped'],
};

/** RULE "Stages are consecutive point differences". */
export function stagesOf(profile: ProfileName): string[] {
  const p = POINTS[profile];
  return p.slice(1).map((to, k) => `${p[k]}->${to}`);
}

/** One candidate request: its points (event indices; undefined = missing) in POINTS order. */
export interface Candidate {
  comm: string;
  pid: number;
  points: (number | undefined)[];
  /** why it is not complete although every point exists (the rule that excludes it), if any */
  violation?: string;
  piecesWithoutRequest: number;
  requests: number;
}

export interface Diagnostics {
  candidates: number;
  complete: number;
  incomplete_by_point: Record<string, number>;
  violations: Record<string, number>;
  pieces_without_request: number;
  multi_request: number;
  outside_runs: number;
  block_anomalies: BlockIndex['anomalies'];
  notes: Record<string, number>;
}

/**
 * RULE (sync) "psync: pread64/pwrite64 syscalls": the syscalls a sync request starts with.
 *
 * NOTE: README's linux-block profile also starts requests at read, readv, preadv, preadv2, write,
 * writev, pwritev and pwritev2. On the direct-I/O captures this makes no difference; on
 * buffered-read it does: the page cache is dropped before each run, so fio's own start-up reads
 * (the dynamic loader's `sys_read(fd: 3, …, count: 0x340)` of each shared library's ELF header,
 * and a few 4 KiB reads of fd 3 and 5) queue bios inside the runs — 64 complete requests per run
 * of a task named fio, against 3–4 pread64 requests of the workload. Pass
 * `syncSyscalls: LINUX_BLOCK_PROFILE_SYSCALLS` to count them as the profile does.
 */
export const PSYNC_SYSCALLS: readonly string[] = ['pread64', 'pwrite64'];
export const LINUX_BLOCK_PROFILE_SYSCALLS: readonly string[] = ['read', 'pread64', 'readv', 'preadv', 'preadv2', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2'];

/** RULE (sync) "a syscall of a fio task (enter .. exit by the same pid) that queued ≥ 1 bio". */
function syncCandidates(events: Ev[], blk: BlockIndex, irqs: Map<number, number[]>, notes: Record<string, number>, syscalls: readonly string[]): Candidate[] {
  const SYNC_SYSCALLS = new Set(syscalls);
  interface Open {
    enter: Ev;
    bios: Ev[];
    splits: Ev[];
  }
  const open = new Map<number, Open>();
  const out: Candidate[] = [];
  for (const e of events) {
    if (e.kind === 'enter') {
      if (open.has(e.pid)) notes['sync_enter_while_open'] = (notes['sync_enter_while_open'] ?? 0) + 1;
      open.delete(e.pid);
      if (SYNC_SYSCALLS.has(e.name)) open.set(e.pid, { enter: e, bios: [], splits: [] });
    } else if (e.kind === 'exit') {
      const o = open.get(e.pid);
      if (!o) continue;
      open.delete(e.pid);
      if (o.enter.name !== e.name) continue; // not its exit (a lost line): dropped
      // RULE "that queued ≥ 1 bio (block_bio_queue by that pid between enter and exit)"
      if (o.bios.length === 0) continue;
      const b = blockPart(events, blk, irqs, o.bios, o.splits, e.i);
      const c: Candidate = {
        comm: o.enter.comm,
        pid: o.enter.pid,
        points: [o.enter.i, b.bio_queue, b.rq_insert, b.rq_issue, b.irq, b.rq_complete, e.i],
        piecesWithoutRequest: b.piecesWithoutRequest,
        requests: b.requests.length,
      };
      // RULE "Complete when all points exist and every request completed before the exit"
      if (b.rq_complete !== undefined && b.rq_complete > e.i) c.violation = 'request completed after syscall_exit';
      out.push(c);
    } else if (e.kind === 'tp' && open.has(e.pid)) {
      if (e.name === 'block_bio_queue') open.get(e.pid)!.bios.push(e);
      else if (e.name === 'block_split') open.get(e.pid)!.splits.push(e);
    }
  }
  return out;
}

function aioCandidates(events: Ev[], blk: BlockIndex, irqs: Map<number, number[]>, notes: Record<string, number>): Candidate[] {
  interface Open {
    enter: Ev;
    bios: Ev[];
    splits: Ev[];
  }
  const open = new Map<number, Open>();
  /** per pid: the submitted iocbs (candidates) and the io_getevents exits, in file order */
  const perPid = new Map<number, { subs: Candidate[]; reaps: Ev[] }>();
  const pidState = (pid: number) => {
    let s = perPid.get(pid);
    if (!s) perPid.set(pid, (s = { subs: [], reaps: [] }));
    return s;
  };
  for (const e of events) {
    if (e.kind === 'enter') {
      open.delete(e.pid);
      // RULE "submit = sys_io_submit enter (each fio io_submit here carries nr: 1 iocb → one bio)"
      if (e.name === 'io_submit') {
        if (!/\bnr: 1\b/.test(e.args)) notes['io_submit_nr_not_1'] = (notes['io_submit_nr_not_1'] ?? 0) + 1;
        open.set(e.pid, { enter: e, bios: [], splits: [] });
      }
    } else if (e.kind === 'exit') {
      if (e.name === 'io_getevents') pidState(e.pid).reaps.push(e);
      const o = open.get(e.pid);
      if (!o) continue;
      open.delete(e.pid);
      if (e.name !== 'io_submit') continue;
      if (o.bios.length === 0) {
        notes['io_submit_without_bio'] = (notes['io_submit_without_bio'] ?? 0) + 1;
        continue;
      }
      if (o.bios.length > 1) notes['io_submit_with_several_bios'] = (notes['io_submit_with_several_bios'] ?? 0) + 1;
      // "bio_queue..rq_complete as above for that bio": bios of that pid inside the io_submit call.
      // RULE (README linux-aio) "every bio of one io_submit is a request of its own", all sharing the
      // submit point. (Splits go with a lone bio only: none of these captures splits an aio bio.)
      for (const bio of o.bios) {
        const b = blockPart(events, blk, irqs, [bio], o.bios.length === 1 ? o.splits : [], e.i);
        pidState(o.enter.pid).subs.push({
          comm: o.enter.comm,
          pid: o.enter.pid,
          points: [o.enter.i, b.bio_queue, b.rq_insert, b.rq_issue, b.irq, b.rq_complete, undefined],
          piecesWithoutRequest: b.piecesWithoutRequest,
          requests: b.requests.length,
        });
      }
    } else if (e.kind === 'tp' && open.has(e.pid)) {
      if (e.name === 'block_bio_queue') open.get(e.pid)!.bios.push(e);
      else if (e.name === 'block_split') open.get(e.pid)!.splits.push(e);
    }
  }
  const out: Candidate[] = [];
  for (const { subs, reaps } of perPid.values()) {
    // RULE "completions are handed out in completion order (FIFO per pid): the k-th completion of
    // the task is reaped by the exit that brings the cumulative count of reaped events to ≥ k".
    // "each io_getevents returns `-> 0xN` = N completions".
    const completed = subs.filter((c) => c.points[5] !== undefined).sort((a, b) => a.points[5]! - b.points[5]!);
    let r = 0;
    let cum = 0;
    completed.forEach((c, idx) => {
      const k = idx + 1;
      while (r < reaps.length && cum + Math.max(0, reaps[r]!.ret) < k) cum += Math.max(0, reaps[r++]!.ret);
      if (r < reaps.length) {
        c.points[6] = reaps[r]!.i;
        if (reaps[r]!.i < c.points[5]!) c.violation = 'reaped before rq_complete';
      }
    });
    out.push(...subs);
  }
  return out.sort((a, b) => a.points[0]! - b.points[0]!);
}

function uringCandidates(events: Ev[], blk: BlockIndex, irqs: Map<number, number[]>, notes: Record<string, number>): Candidate[] {
  const REQ = /\breq (\S+?),/;
  // io_uring_complete by req pointer, in file order
  const cqes = new Map<string, number[]>();
  // sys_io_uring_enter exits per pid, in file order
  const enterExits = new Map<number, number[]>();
  // block_bio_queue / block_split / io_uring_submit_req per pid, in file order
  const biosByPid = new Map<number, Ev[]>();
  const splitsByPid = new Map<number, Ev[]>();
  const subsByPid = new Map<number, Ev[]>();
  const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
    const l = m.get(k);
    if (l) l.push(v);
    else m.set(k, [v]);
  };
  for (const e of events) {
    if (e.kind === 'exit' && e.name === 'io_uring_enter') push(enterExits, e.pid, e.i);
    if (e.kind !== 'tp') continue;
    if (e.name === 'io_uring_complete') {
      const m = REQ.exec(e.args);
      if (m) push(cqes, m[1]!, e.i);
    } else if (e.name === 'io_uring_submit_req') push(subsByPid, e.pid, e);
    else if (e.name === 'block_bio_queue') push(biosByPid, e.pid, e);
    else if (e.name === 'block_split') push(splitsByPid, e.pid, e);
  }
  const firstAfter = (xs: number[] | undefined, after: number) => xs?.find((x) => x > after);
  const out: Candidate[] = [];
  for (const [pid, subs] of subsByPid) {
    const bios = biosByPid.get(pid) ?? [];
    const splits = splitsByPid.get(pid) ?? [];
    subs.forEach((s, n) => {
      const req = REQ.exec(s.args)?.[1];
      const nextSub = subs[n + 1]?.i ?? Infinity;
      // RULE "bio_queue = next block_bio_queue of the same pid" (after io_uring_submit_req)
      const bio = bios.find((b) => b.i > s.i);
      const points: (number | undefined)[] = [s.i, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
      const c: Candidate = { comm: s.comm, pid, points, piecesWithoutRequest: 0, requests: 0 };
      out.push(c);
      if (!bio) return;
      // the next bio is shared with a later submission: note it (it is still this one's "next")
      if (bio.i > nextSub) notes['uring_next_bio_after_next_submit'] = (notes['uring_next_bio_after_next_submit'] ?? 0) + 1;
      // the request of that bio: pieces (with splits of the same pid after the bio) whose
      // request begins before the task's next io_uring_enter exit after the bio (the call that
      // submitted it; the plug is flushed before it returns).
      const windowEnd = firstAfter(enterExits.get(pid), bio.i) ?? Infinity;
      const sp = splits.filter((x) => x.i > bio.i && x.i < windowEnd);
      const b = blockPart(events, blk, irqs, [bio], sp, windowEnd);
      points[1] = b.bio_queue;
      points[2] = b.rq_insert;
      points[3] = b.rq_issue;
      points[4] = b.irq;
      points[5] = b.rq_complete;
      c.piecesWithoutRequest = b.piecesWithoutRequest;
      c.requests = b.requests.length;
      // RULE "cqe = the io_uring_complete with the same `req`" (pointers are reused only after
      // completion: the first one after the submission)
      const cqe = req === undefined ? undefined : firstAfter(cqes.get(req), s.i);
      points[6] = cqe;
      // RULE "reaped = the first sys_io_uring_enter exit of the same pid at or after the cqe"
      if (cqe !== undefined) points[7] = firstAfter(enterExits.get(pid), cqe);
      if (cqe !== undefined && b.rq_complete !== undefined && cqe < b.rq_complete) c.violation = 'cqe before rq_complete';
    });
  }
  return out.sort((a, b) => a.points[0]! - b.points[0]!);
}

// ─────────────────────────────────────────────────────────────────────────────────────────────
// 7. Per-run means
// ─────────────────────────────────────────────────────────────────────────────────────────────

export interface ExpectedRun {
  run: string;
  /** complete requests (of tasks whose name starts with the prefix) in this run */
  complete: number;
  /** plain (untrimmed) mean of each stage, ns */
  stages_ns: Record<string, number>;
  /** plain mean of last point − first point, ns */
  total_ns: number;
}

export interface Expected {
  profile: ProfileName;
  runs: ExpectedRun[];
  diagnostics: Diagnostics;
}

/**
 * The expected figures of one capture. `commPrefix` (default 'fio'): RULE "over fio's requests
 * only: task name starting with "fio"" — the task name of the request's first point's line.
 */
export interface OracleOptions {
  /** task-name prefix of the requests counted (default 'fio'; '' = every task) */
  commPrefix?: string;
  /** syscalls a linux-block request starts with (default LINUX_BLOCK_PROFILE_SYSCALLS: the profile's list; PSYNC_SYSCALLS is pread64/pwrite64 only) */
  syncSyscalls?: readonly string[];
}

export function candidatesFromEvents(events: Ev[], profile: ProfileName, opts: OracleOptions = {}): { cands: Candidate[]; blk: BlockIndex; notes: Record<string, number> } {
  const prefix = opts.commPrefix ?? 'fio';
  const blk = indexRequests(events);
  const irqs = indexIrqs(events);
  const notes: Record<string, number> = {};
  const all =
    profile === 'linux-block' ? syncCandidates(events, blk, irqs, notes, opts.syncSyscalls ?? LINUX_BLOCK_PROFILE_SYSCALLS) : profile === 'linux-aio' ? aioCandidates(events, blk, irqs, notes) : uringCandidates(events, blk, irqs, notes);
  return { cands: all.filter((c) => c.comm.startsWith(prefix)), blk, notes };
}

export function expectedFromEvents(events: Ev[], profile: ProfileName, opts: OracleOptions = {}): Expected {
  const { cands, blk, notes } = candidatesFromEvents(events, profile, opts);

  const points = POINTS[profile];
  const stages = stagesOf(profile);
  const runs = findRuns(events);
  const diag: Diagnostics = {
    candidates: cands.length,
    complete: 0,
    incomplete_by_point: {},
    violations: {},
    pieces_without_request: 0,
    multi_request: 0,
    outside_runs: 0,
    block_anomalies: blk.anomalies,
    notes,
  };
  const sums = runs.map(() => ({ n: 0, stage: stages.map(() => 0), total: 0 }));
  for (const c of cands) {
    diag.pieces_without_request += c.piecesWithoutRequest;
    if (c.requests > 1) diag.multi_request++;
    // RULE "Complete when all points exist …"
    const missing = c.points.findIndex((p) => p === undefined);
    if (missing >= 0) {
      diag.incomplete_by_point[points[missing]!] = (diag.incomplete_by_point[points[missing]!] ?? 0) + 1;
      continue;
    }
    if (c.violation) {
      diag.violations[c.violation] = (diag.violations[c.violation] ?? 0) + 1;
      continue;
    }
    // RULE "A request belongs to the run whose begin..end markers contain its first point."
    const first = c.points[0]!;
    const r = runs.findIndex((u) => u.begin < first && first < u.end);
    if (r < 0) {
      diag.outside_runs++;
      continue;
    }
    diag.complete++;
    const ts = c.points.map((p) => events[p!]!.ts);
    const s = sums[r]!;
    s.n++;
    stages.forEach((_, k) => (s.stage[k]! += ts[k + 1]! - ts[k]!));
    s.total += ts[ts.length - 1]! - ts[0]!;
  }
  return {
    profile,
    runs: runs.map((u, r) => {
      const s = sums[r]!;
      return {
        run: u.label,
        complete: s.n,
        stages_ns: s.n ? Object.fromEntries(stages.map((name, k) => [name, s.stage[k]! / s.n])) : {},
        total_ns: s.n ? s.total / s.n : NaN,
      };
    }),
    diagnostics: diag,
  };
}

export function expectedForCapture(tracePath: string, profile: ProfileName, opts: OracleOptions = {}): Expected & { unparsed: string[] } {
  const { events, unparsed } = readTrace(tracePath);
  return { ...expectedFromEvents(events, profile, opts), unparsed };
}

/** The eight captures and the profile of each (capture.env: psync unless ENGINE says otherwise). */
export const CAPTURES: { name: string; profile: ProfileName; compareToFio: boolean }[] = [
  { name: 'randread-4jobs', profile: 'linux-block', compareToFio: true },
  { name: 'randwrite', profile: 'linux-block', compareToFio: true },
  { name: 'randrw', profile: 'linux-block', compareToFio: true },
  { name: 'read-64k', profile: 'linux-block', compareToFio: true },
  { name: 'split-64k', profile: 'linux-block', compareToFio: true },
  // buffered: most reads are page-cache hits, so fio's total_ios is not the request count
  { name: 'buffered-read', profile: 'linux-block', compareToFio: false },
  { name: 'libaio-qd8', profile: 'linux-aio', compareToFio: true },
  // io_submit with up to 8 iocbs (fio iodepth_batch_submit=8)
  { name: 'libaio-batch8', profile: 'linux-aio', compareToFio: true },
  { name: 'io_uring-qd8', profile: 'io_uring', compareToFio: true },
  // depth 1: fio waits for each completion in io_uring_enter (min_complete 1), so `reaped` is fio's reap
  { name: 'io_uring-qd1', profile: 'io_uring', compareToFio: true },
];
