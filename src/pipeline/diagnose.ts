/**
 * Why a run has no complete request, and why nothing can be reported, in terms the user can act
 * on. A run that cannot be averaged is listed with what happened in its time span (points of the
 * path with no event there, events lost there, where its incomplete requests stop); when no run
 * can be reported the refusal names the cause, one message per cause:
 *  - the wrong profile: its first points have no event, another built-in profile's have (name it);
 *  - files of several clock domains ingested into one (`--domain` not given);
 *  - points with no event in the whole database (and the `set_event` line that records them);
 *  - events lost (a buffer overrun: a bigger `buffer_size_kb`).
 * Only reached when a run is excluded: a good report costs nothing here.
 */
import type { Db } from '../db/db.js';
import { InputError } from '../core/errors.js';
import type { Breakdown } from '../analysis/breakdown.js';
import { firstEventAfterLine, type Correlation } from '../correlate/correlate.js';
import { adjustRel } from '../correlate/clock.js';
import type { Grouping } from '../correlate/runs.js';
import { builtinProfileNames, loadProfile, type Profile, type ProfilePoint } from '../profiles/index.js';
import { runCounts, type ExcludedRun } from '../report/model.js';
import { plural } from '../report/format.js';

const TRACEFS = '/sys/kernel/tracing';

/** A literal prefix of an anchored regex (`^xt fe_queue…` → `xt fe_queue`): the SQL pre-filter of a `"*"` point. */
function literalPrefix(re: string): string | null {
  const m = /^\^((?:[A-Za-z0-9 _:=,-]|\\[.\\/ ])+)/.exec(re);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : null;
}

/** Which events a point takes: by name, or any event (`"*"`) whose args match. */
interface Selector {
  names: string[];
  star: boolean;
  prefix: string | null;
  re: RegExp | null;
}

function selectorOf(p: ProfilePoint): Selector {
  const names = Array.isArray(p.event) ? p.event : [p.event];
  const star = names.includes('*');
  return { names: names.filter((n) => n !== '*'), star, prefix: star && p.match ? literalPrefix(p.match) : null, re: star && p.match ? new RegExp(p.match) : null };
}

/** Whether a point has any event in the database (the names present are read once). */
class EventPresence {
  private present: Set<string> | null = null;
  private readonly byPattern = new Map<string, boolean>();
  constructor(private readonly db: Db) {}

  private names(): Set<string> {
    this.present ??= new Set(this.db.prepare<[string]>('SELECT value FROM strings WHERE id IN (SELECT DISTINCT name_id FROM event_data)', { raw: true }).all().map((r) => r[0]));
    return this.present;
  }

  has(p: ProfilePoint): boolean {
    const s = selectorOf(p);
    if (s.names.some((n) => this.names().has(n))) return true;
    if (!s.star) return false;
    // "*" with no pattern, or one without a literal prefix: any event may be one (not worth a scan of every args text).
    if (!s.re || s.prefix === null) return true;
    const key = `${s.prefix}\u0000${s.re.source}`;
    let found = this.byPattern.get(key);
    if (found === undefined) {
      found = false;
      for (const [args] of this.db.prepare<[string]>('SELECT args FROM event_data WHERE substr(args, 1, ?) = ?', { raw: true }).iterate(s.prefix.length, s.prefix))
        if (s.re.test(args)) {
          found = true;
          break;
        }
      this.byPattern.set(key, found);
    }
    return found;
  }
}

/** The ftrace system of well-known tracepoints (events are stored by name only). */
const SYSTEMS: [RegExp, string][] = [
  [/^sys_(enter|exit)_/, 'syscalls'],
  [/^block_/, 'block'],
  [/^(irq_handler_|softirq_)/, 'irq'],
  [/^io_uring_/, 'io_uring'],
  [/^sched_/, 'sched'],
  [/^writeback_/, 'writeback'],
  [/^nvme_/, 'nvme'],
  [/^scsi_/, 'scsi'],
  [/^(ext4|xfs|btrfs|f2fs)_/, '$1'],
];

function systemOf(name: string): string | null {
  for (const [re, sys] of SYSTEMS) {
    const m = re.exec(name);
    if (m) return sys.startsWith('$') ? m[1]! : sys;
  }
  return null;
}

/** Points with no event, and how to record them: one `set_event` line for the known tracepoints, the probes or a path pattern otherwise. */
function howToRecord(points: ProfilePoint[]): string {
  const tokens: string[] = [];
  const other: string[] = [];
  const xtProbes: string[] = [];
  const named = points.map((p) => {
    const s = selectorOf(p);
    if (s.star) {
      if (p.match?.startsWith('^xt ')) xtProbes.push(p.name);
      else other.push(`${p.name}: a trace_printk or trace_marker line matching /${p.match ?? '.*'}/`);
      return p.name;
    }
    for (const n of s.names) {
      const sys = systemOf(n);
      if (sys) tokens.push(`${sys}:${n}`);
      else if (p.role === 'user') other.push(`${p.name}: the userspace probe ${n} (an xtbuf dump)`);
      else other.push(`${p.name}: echo 1 > ${TRACEFS}/events/*/${n}/enable`);
    }
    const shown = s.names.length > 3 ? `${s.names.slice(0, 3).join(', ')}, …` : s.names.join(', ');
    return `${p.name} (${shown})`;
  });
  const how = [
    ...(tokens.length ? [`echo '${[...new Set(tokens)].join(' ')}' >> ${TRACEFS}/set_event`] : []),
    ...(xtProbes.length ? [`${xtProbes.length === points.length ? 'they are' : `${xtProbes.join(', ')} are`} the 'xt <point>' kernel probes of src/profiles/builtin/xen-probes.md`] : []),
    ...new Set(other),
  ];
  return `no event in the database for ${named.join(', ')}: record ${points.length === 1 ? 'it' : 'them'} (${how.join('; ')})`;
}

/** The points that say a profile's requests are there: its first required point and its `requires_any`. */
function requiredFirst(profile: Profile): ProfilePoint[] {
  const first = profile.points.find((p) => !p.optional);
  const wanted = new Set([...(first ? [first.name] : []), ...(profile.requires_any ?? [])]);
  return profile.points.filter((p) => wanted.has(p.name));
}

/**
 * The other built-in profiles whose first required points have events in the database: `all`, and
 * `distinct`, those whose first point is an event `profile` does not use at all (another way of
 * submitting I/O: io_uring, libaio), not a part of its own path (block).
 */
function fittingProfiles(presence: EventPresence, profile: Profile): { all: string[]; distinct: string[] } {
  const own = new Set(profile.points.flatMap((p) => selectorOf(p).names));
  const all: string[] = [];
  const distinct: string[] = [];
  for (const n of builtinProfileNames()) {
    if (n === profile.name) continue;
    const other = loadProfile(n);
    const req = requiredFirst(other);
    if (!req.length || !req.every((p) => presence.has(p))) continue;
    all.push(n);
    const first = other.points.find((p) => !p.optional)!;
    const names = selectorOf(first).names;
    if (names.length && names.every((e) => !own.has(e))) distinct.push(n);
  }
  return { all, distinct };
}

/** Adjusted (reference-clock) time of a local timestamp of domain d. */
function adjusted(c: Correlation, d: number, ts: bigint): number {
  return adjustRel(Number(ts - c.domains[d]!.base), c.shifts[d]!.shift, c.shifts[d]!.rate);
}

interface Span {
  lo: number;
  hi: number;
}

/** Index of the span holding t (spans sorted, disjoint), −1 when none. */
function spanAt(spans: Span[], t: number): number {
  let lo = 0;
  let hi = spans.length - 1;
  let k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.lo <= t) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return k >= 0 && t <= spans[k]!.hi ? k : -1;
}

/** Per span: which path points have an event in it (one pass over the path's events of each source). */
function pointsInSpans(db: Db, c: Correlation, spans: Span[]): boolean[][] {
  const seen = spans.map(() => c.path.map(() => false));
  const sel = c.path.map(selectorOf);
  const everything = sel.some((s) => s.star && s.prefix === null);
  const allNames = [...new Set(sel.flatMap((s) => s.names))];
  const ids = new Map<number, string>();
  if (allNames.length)
    for (const [id, v] of db.prepare<[number, string]>(`SELECT id, value FROM strings WHERE value IN (${allNames.map(() => '?').join(',')})`, { raw: true }).all(...allNames)) ids.set(id, v);
  const pointsOfName = new Map<number, number[]>();
  for (const [id, name] of ids) pointsOfName.set(id, sel.flatMap((s, p) => (s.names.includes(name) ? [p] : [])));
  const starPoints = sel.flatMap((s, p) => (s.star ? [p] : []));
  const prefixes = [...new Set(sel.flatMap((s) => (s.star && s.prefix !== null ? [s.prefix] : [])))];
  const idList = [...ids.keys()].join(',');
  const conds = [...(ids.size ? [`name_id IN (${idList})`] : []), ...prefixes.map(() => 'substr(args, 1, ?) = ?')];
  if (!everything && conds.length === 0) return seen;
  const where = everything ? '' : ` AND (${conds.join(' OR ')})`;
  const argsExpr = starPoints.length === 0 ? "''" : ids.size ? `CASE WHEN name_id IN (${idList}) THEN '' ELSE args END` : 'args';
  const stmt = db.prepare<[number, number, string]>(`SELECT ts_ns - ?, name_id, ${argsExpr} FROM event_data WHERE id BETWEEN ? AND ?${where}`, { raw: true });
  const prefixParams = everything ? [] : prefixes.flatMap((p) => [p.length, p]);
  c.domains.forEach((dom, d) => {
    const { shift, rate } = c.shifts[d]!;
    for (const s of dom.sources) {
      for (const [rel, nameId, args] of stmt.iterate(dom.base, s.firstEvent, s.lastEvent, ...prefixParams)) {
        const k = spanAt(spans, adjustRel(rel, shift, rate));
        if (k < 0) continue;
        const row = seen[k]!;
        for (const p of pointsOfName.get(nameId) ?? []) row[p] = true;
        if (args) for (const p of starPoints) if (!row[p] && (sel[p]!.re?.test(args) ?? true)) row[p] = true;
      }
    }
  });
  return seen;
}

/** Per span: events the sources lost inside it (lost_gaps placed in time; a lost start of a buffer counts for the spans that begin before its first event). */
function lostInSpans(db: Db, c: Correlation, spans: Span[]): number[] {
  const lost = spans.map(() => 0);
  if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'lost_gaps'").get()) return lost;
  const gaps = db.prepare<{ source_id: number; line: number; lost: number }>('SELECT source_id, line, lost FROM lost_gaps').all();
  if (!gaps.length) return lost;
  const lineAt = db.prepare<{ line: number }>('SELECT line FROM event_data WHERE id = ?');
  const tsAt = db.prepare<{ ts: bigint }>('SELECT ts_ns AS ts FROM event_data WHERE id = ?', { bigints: true });
  for (const g of gaps) {
    const d = c.domains.findIndex((x) => x.sources.some((s) => s.id === g.source_id));
    if (d < 0) continue;
    const src = c.domains[d]!.sources.find((s) => s.id === g.source_id)!;
    if (g.line === 0) {
      const t = adjusted(c, d, src.firstTs);
      spans.forEach((s, k) => {
        if (s.lo <= t) lost[k]! += g.lost;
      });
      continue;
    }
    const lo = firstEventAfterLine(src, g.line, (id) => lineAt.get(id)!.line);
    const at = tsAt.get(Math.min(lo, src.lastEvent));
    if (!at) continue;
    const k = spanAt(spans, adjusted(c, d, at.ts));
    if (k >= 0) lost[k]! += g.lost;
  }
  return lost;
}

/** Per run (g.runs index) of `runs`: how many of its incomplete requests stop before each point (the first missing one after their first point). */
function stopCounts(c: Correlation, g: Grouping, runs: number[]): Map<number, number[]> {
  const want = new Set(runs);
  const counts = new Map<number, number[]>();
  const store = c.requests;
  const P = c.path.length;
  for (let i = 0; i < store.length; i++) {
    const r = g.runOf[i]!;
    if (!want.has(r) || store.status(i) !== 'incomplete') continue;
    let p = 0;
    while (p < P && Number.isNaN(store.t(i, p))) p++;
    while (p < P && !Number.isNaN(store.t(i, p))) p++;
    if (p >= P) continue;
    let row = counts.get(r);
    if (!row) counts.set(r, (row = new Array(P).fill(0) as number[]));
    row[p]!++;
  }
  return counts;
}

/** The point most incomplete requests stop before, of these counts per point. */
function mostStopBefore(c: Correlation, row: number[] | undefined): { point: string; count: number } | null {
  if (!row) return null;
  const best = row.indexOf(Math.max(...row));
  return row[best]! > 0 ? { point: c.path[best]!.name, count: row[best]! } : null;
}

/** The excluded runs of a breakdown, each with why (what happened in its time span). */
export function describeExcludedRuns(db: Db, c: Correlation, g: Grouping, b: Breakdown): ExcludedRun[] {
  if (b.excluded.length === 0) return [];
  const empty = b.excluded.filter((e) => e.why === 'no-complete-request').map((e) => e.index);
  const spans = empty.map((r) => ({ lo: g.runs[r]!.begin ?? -Infinity, hi: g.runs[r]!.end ?? Infinity }));
  const seen = empty.length ? pointsInSpans(db, c, spans) : [];
  const lost = empty.length ? lostInSpans(db, c, spans) : [];
  const stops = stopCounts(c, g, empty);
  return b.excluded.map((e) => {
    const run = g.runs[e.index]!;
    const base = { run: e.label, ...runCounts(run) };
    if (e.why === 'warmup')
      return { ...base, reason: 'warmup', why: `--warmup ${b.options.warmup} drops all its ${plural(e.complete, 'complete request')}; use a smaller --warmup`, points_without_events: null, lost_events: null };
    const k = empty.indexOf(e.index);
    const missing = c.path.filter((_, p) => !seen[k]![p]).map((p) => p.name);
    const parts: string[] = [];
    if (missing.length) parts.push(`no event of ${missing.join(', ')} in its time span`);
    if (lost[k]! > 0) parts.push(`${plural(lost[k]!, 'event')} lost in it`);
    if (run.requests === 0) parts.push('no request started in it');
    else {
      const stop = mostStopBefore(c, stops.get(e.index));
      const inc = run.incomplete ? `${run.incomplete} incomplete${stop ? ` (${stop.count} stop before ${stop.point})` : ''}` : '';
      parts.push(`${plural(run.requests, 'request')} started in it: ${[inc, run.orphans ? `${run.orphans} orphans` : ''].filter(Boolean).join(', ')}`);
    }
    return { ...base, reason: 'no_complete_request', why: `no complete request: ${parts.join('; ')}`, points_without_events: missing, lost_events: lost[k]! };
  });
}

/** `--strict`: a report with an excluded run is refused (after the requests are stored). */
export function strictRefusal(db: Db, excluded: ExcludedRun[]): InputError {
  const list = excluded.map((e) => `run ${e.run}: ${e.why}`).join('; ');
  return new InputError(`${db.path}: --strict: ${plural(excluded.length, 'run')} cannot be averaged (${list}); fix the capture, or drop --strict to report the other runs`, db.path);
}

/** No run can be reported: the causes the user can act on (after the requests are stored). `filters`: the `--filter` texts given. */
export function noRunRefusal(db: Db, c: Correlation, g: Grouping, b: Breakdown, excluded: ExcludedRun[], filters: readonly string[] = []): InputError {
  const head = `${db.path}: no run has a complete request (${plural(g.runs.length, 'run')}), nothing to report`;
  // The request filters removed them.
  if (filters.length && g.filtered) {
    let removed = 0;
    for (let i = 0; i < c.requests.length; i++) if (g.filtered[i] && c.requests.status(i) === 'complete') removed++;
    if (removed > 0)
      return new InputError(`${head}: --filter ${filters.join(' --filter ')} removed every complete request (${removed}); check its values (the tasks of the complete requests: xtrace query "SELECT t.comm, count(*) FROM requests r JOIN request_tasks t ON t.id = r.task_id WHERE r.status = 'complete' GROUP BY t.comm")`, db.path);
  }
  if (excluded.every((e) => e.reason === 'warmup')) {
    const most = Math.max(...excluded.map((e) => e.complete));
    return new InputError(`${head}: --warmup ${b.options.warmup} drops every complete request (the fullest run has ${most}); use a smaller --warmup`, db.path);
  }
  const causes: string[] = [];
  const presence = new EventPresence(db);
  const profile = c.profile;

  // 5. The wrong profile: its first points have no event, another built-in profile's have; or
  // its requests are orphans (the I/O went another way) and another profile's events are there.
  const absentFirst = requiredFirst(profile).filter((p) => !presence.has(p));
  const fitting = fittingProfiles(presence, profile);
  const store = c.requests;
  const { incomplete, orphan: orphans } = store.statusCounts();
  if (absentFirst.length && fitting.all.length)
    causes.push(
      `profile ${profile.name} finds no event of ${absentFirst.map((p) => p.name).join(', ')}, but the events of profile ${fitting.all.join(', ')} are present: try --profile ${fitting.all[0]}`,
    );
  else if (orphans > 0 && orphans >= incomplete && fitting.distinct.length)
    causes.push(
      `its ${plural(store.length, 'correlated request')} are ${orphans === store.length ? 'all' : 'mostly'} orphans (${profile.orphan_label}): the I/O was not submitted the way profile ${profile.name} follows, and the events of profile ${fitting.distinct.join(', ')} are present: try --profile ${fitting.distinct[0]}`,
    );

  // 4. Files of several domains ingested into one.
  const roles = [...new Set(c.path.map((p) => p.role))];
  if (c.domains.length === 1 && c.domains[0]!.sources.length > 1 && roles.length > 1) {
    const d = c.domains[0]!;
    causes.push(
      `the ${d.sources.length} files (${d.sources.map((s) => s.path).join(', ')}) are all in clock domain ${d.name}, but profile ${profile.name} spans the roles ${roles.join(', ')}: ingest each domain's file with --domain NAME into a new database (e.g. --domain domU for the guest's trace, --domain dom0 for dom0's)`,
    );
  }

  // 2, 3. Points with no event in the whole database (the irq among them).
  const missing = c.path.filter((p) => !presence.has(p));
  if (missing.length) causes.push(howToRecord(missing));

  // 1. Events lost.
  const lossy = c.domains.flatMap((d) => d.sources).filter((s) => s.lostEvents > 0);
  if (lossy.length) {
    const formats = new Map(db.prepare<[number, string]>('SELECT id, format FROM sources', { raw: true }).all());
    const total = lossy.reduce((a, s) => a + s.lostEvents, 0);
    const ring = lossy.some((s) => formats.get(s.id)?.startsWith('xtbuf'));
    causes.push(
      `${plural(total, 'event')} lost (${lossy.map((s) => `${s.path}: ${s.lostEvents}`).join(', ')}): the trace buffer overflowed; record with a bigger buffer (echo 65536 > ${TRACEFS}/buffer_size_kb${ring ? '; for an xtbuf dump, a bigger ring' : ''})`,
    );
  }

  if (!causes.length) {
    const total = new Array(c.path.length).fill(0) as number[];
    for (const row of stopCounts(
      c,
      g,
      g.runs.map((_, r) => r),
    ).values())
      row.forEach((n, p) => (total[p]! += n));
    const stop = mostStopBefore(c, total);
    causes.push(
      store.length === 0
        ? 'no request was correlated: check that the run markers enclose the I/O, and the profile'
        : `of its ${plural(store.length, 'correlated request')}, ${incomplete} are incomplete${stop ? ` (${stop.count} in the runs stop before ${stop.point})` : ''} and ${orphans} are orphans (${profile.orphan_label}); they are stored: xtrace query "SELECT run, status, points FROM requests LIMIT 20"`,
    );
  }
  return new InputError(`${head}: ${causes.join('; also ')}`, db.path);
}

/**
 * When most of a report's requests in the runs are orphans (the I/O went another way: libaio or
 * io_uring under linux-block), the built-in profile that fits the events present, as a sentence;
 * null when the requests look like the profile's.
 */
export function profileHint(db: Db, c: Correlation, g: Grouping): string | null {
  let complete = 0;
  let orphans = 0;
  for (const r of g.runs) {
    complete += r.complete;
    orphans += r.orphans;
  }
  if (orphans <= complete) return null;
  const fitting = fittingProfiles(new EventPresence(db), c.profile);
  const what = `${plural(orphans, 'request')} of the runs are orphans (${c.profile.orphan_label}) against ${complete} complete`;
  if (fitting.distinct.length) return `${what}: the I/O went another way; the events of profile ${fitting.distinct.join(', ')} are present: try --profile ${fitting.distinct[0]}`;
  if (fitting.all.length) return `${what}: the averages cover only the I/O ${c.profile.name} follows; --profile ${fitting.all[0]} reports the rest too`;
  return `${what}: the averages may not be the I/O you meant`;
}
