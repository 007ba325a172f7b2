/**
 * Correlation: reads the events a profile needs from the database, in clock-adjusted time order
 * across every source and domain, runs the matcher, and settles the clock offsets.
 *
 * With several clock domains it iterates: a coarse alignment from strongly-keyed event pairs (an
 * offset and, when the clocks drift apart, a rate), a matching pass, exact bounds from the complete
 * requests' cross-domain links (clock.ts), and again with the refined clocks until they no longer
 * move (at most MAX_PASSES).
 */
import type { Db } from '../db/db.js';
import { InputError } from '../core/errors.js';
import { severityOf } from '../core/counters.js';
import { blockLayerEvents, Matcher, POINT_AMBIGUOUS, requestFieldValue, type CPoint, type EngineCounter, type EvCtx, type Marker } from './engine.js';
import { BUILTIN_FIELDS, builtinFieldIndex, isBuiltinField, joinPairs, requestAttrNames, unprovidedJoinFields, type Profile, type ProfilePoint } from '../profiles/index.js';
import { RequestStore, type RequestStoreOptions } from './store.js';
import { adjustRel, coarseDrift, densestWindow, formatPpm, LinkCollector, ppmOfRate, rateOfPpm, relOf, solveClocks, type Clock, type CoarseDirection, type DomainShift } from './clock.js';
import { IDENTITY_WINDOW_NS, identityFromPairs, learnFromPass, type Learnt } from './learn.js';
import { chunkSql, readEvents, type ReadPlan, type ReaderMode } from './events.js';
import type { OnProgress } from '../core/progress.js';

export interface SourceInfo {
  id: number;
  path: string;
  domain: number;
  hasTimeBase: boolean;
  firstTs: bigint;
  firstEvent: number;
  lastEvent: number;
  lostEvents: number;
  unparsedLines: number;
}

export interface DomainInfo {
  name: string;
  /** Smallest timestamp of the domain (local clock, ns): `rel` times count from it. */
  base: bigint;
  sources: SourceInfo[];
}

export interface DomainOffset {
  domain: string;
  method: DomainShift['method'] | 'unused';
  /** t_reference = t_local + offset_ns; null when not applicable. */
  offsetNs: bigint | null;
  uncertaintyNs: number | null;
  /** Feasible interval of the offset (at the domain's first event) relative to the domain it was estimated from. */
  lowerNs: bigint | null;
  upperNs: bigint | null;
  relativeTo: string | null;
  links: number;
  /**
   * Drift (ppm): the domain's clock runs this much fast against the reference's, t_reference =
   * first + offsetNs + (t_local − first) / (1 + driftPpm·1e-6), first = the domain's first event;
   * null when not applicable. How it was set: DomainShift['driftMethod'].
   */
  driftPpm: number | null;
  driftMethod: DomainShift['driftMethod'];
  /** Interval of drift the links allow (estimated, or 'constant': a constant offset fits); null otherwise. */
  driftLowerPpm: number | null;
  driftUpperPpm: number | null;
}

export interface CorrelateOptions {
  /** Given offsets: t_reference = t_domain + offset (ns) at the domain's first event (+ the drift's part: see drifts). */
  offsets?: Map<string, bigint>;
  /**
   * Given drifts (ppm: the domain's clock runs this much fast against the reference's; see
   * DomainOffset.driftPpm). With an offset the domain's clock is given; alone, its offset is
   * estimated with that drift. A domain with a given offset and no drift has drift 0.
   */
  drifts?: Map<string, number>;
  onPass?: (pass: number, what: string) => void;
  /** How far each read of the events got (phase `reading and matching events`, `, pass N` with several domains; `aligning clocks` before). */
  onProgress?: OnProgress;
  /** Read events on a worker thread ('thread'), on this one ('inline'), or by size ('auto', the default). */
  reader?: ReaderMode;
  /** The request store's memory budget and spill directory (store.ts; tests force spilling with small chunks). */
  store?: RequestStoreOptions;
}

export interface Correlation {
  profile: Profile;
  /** Points present in the data, in path order. */
  path: ProfilePoint[];
  /** Profile points left out because their event never occurs. */
  absent: string[];
  domains: DomainInfo[];
  reference: number;
  shifts: DomainShift[];
  offsets: DomainOffset[];
  /** Adjusted time 0 in reference-clock ns (absolute = refBase + adjusted). */
  refBase: bigint;
  requests: RequestStore;
  markers: Marker[];
  counters: EngineCounter[];
  passes: number;
}

const MAX_PASSES = 5;
/** Cross-domain tolerance of the first pass, when the offset is only coarsely known. */
const FIRST_PASS_SLACK_NS = 200_000;
/** Width of the coarse-alignment window. */
const COARSE_WINDOW_NS = 1_000_000;
/** A coarse drift moving the offset by less than this over the trace is left to the first pass's tolerance (clock.ts coarseDrift). */
const COARSE_DRIFT_MATTERS_NS = 50_000;
/**
 * Coarse alignment pairs a B event with every A event of its key up to this many; a key with more
 * (runs reading the same blocks again and again, or an id without a sector) pairs the k-th B event
 * of the key with the A events of rank k ± COARSE_MAX_CANDIDATES / 2 only: both come in time order,
 * so its own A event is among them unless over 32 events of the key went unanswered before it.
 */
const COARSE_MAX_CANDIDATES = 64;

/** The A events (in time order) a key's `rank`-th B event is paired with (see COARSE_MAX_CANDIDATES). */
function coarseCandidates<T>(l: readonly T[], rank: number): readonly T[] {
  if (l.length <= COARSE_MAX_CANDIDATES) return l;
  const half = COARSE_MAX_CANDIDATES / 2;
  return l.slice(Math.max(0, rank - half), rank + half + 1);
}

/** Per B event of an anchor's list: its rank among the B events of its key (0, 1, … in time order). */
function ranksByKey(events: readonly [string, ...unknown[]][]): Int32Array {
  const seen = new Map<string, number>();
  const out = new Int32Array(events.length);
  events.forEach(([key], i) => {
    const r = seen.get(key) ?? 0;
    out[i] = r;
    seen.set(key, r + 1);
  });
  return out;
}

function loadDomains(db: Db): DomainInfo[] {
  const rows = db
    .prepare<{ id: number; path: string; domain: string; has_time_base: bigint; first_ts_ns: bigint | null; first_event_id: bigint | null; last_event_id: bigint | null; lost_events: bigint; unparsed_lines: bigint }>(
      'SELECT id, path, domain, has_time_base, first_ts_ns, first_event_id, last_event_id, lost_events, unparsed_lines FROM sources ORDER BY id',
      { bigints: true },
    )
    .all();
  const domains: DomainInfo[] = [];
  for (const r of rows) {
    if (r.first_ts_ns === null || r.first_event_id === null) continue;
    let d = domains.findIndex((x) => x.name === r.domain);
    if (d < 0) d = domains.push({ name: r.domain, base: r.first_ts_ns, sources: [] }) - 1;
    const dom = domains[d]!;
    if (r.first_ts_ns < dom.base) dom.base = r.first_ts_ns;
    dom.sources.push({
      id: Number(r.id),
      path: r.path,
      domain: d,
      hasTimeBase: Number(r.has_time_base) === 1,
      firstTs: r.first_ts_ns,
      firstEvent: Number(r.first_event_id),
      lastEvent: Number(r.last_event_id),
      lostEvents: Number(r.lost_events),
      unparsedLines: Number(r.unparsed_lines),
    });
  }
  return domains;
}

/**
 * Where each domain lost events, as `rel` intervals: a LOST EVENTS marker of CPU c lost events
 * between the previous and the next event of that CPU; an overwritten buffer lost everything
 * before the first event.
 */
function loadGaps(db: Db, domains: DomainInfo[]): [number, number][][] {
  const out = domains.map(() => [] as [number, number][]);
  // A version-1 database opened read-only has no lost_gaps table (re-ingest to get the positions).
  if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'lost_gaps'").get()) return out;
  const rows = db.prepare<{ source_id: number; line: number; cpu: number | null }>('SELECT source_id, line, cpu FROM lost_gaps').all();
  if (!rows.length) return out;
  const lineAt = db.prepare<{ line: number }>('SELECT line FROM event_data WHERE id = ?');
  const prevOn = db.prepare<{ ts: bigint }>('SELECT ts_ns AS ts FROM event_data WHERE source_id = ? AND id < ? AND (? IS NULL OR cpu = ?) ORDER BY id DESC LIMIT 1', { bigints: true });
  const nextOn = db.prepare<{ ts: bigint }>('SELECT ts_ns AS ts FROM event_data WHERE source_id = ? AND id >= ? AND (? IS NULL OR cpu = ?) ORDER BY id LIMIT 1', { bigints: true });
  for (const g of rows) {
    const src = domains.flatMap((d) => d.sources).find((s) => s.id === g.source_id);
    if (!src) continue;
    const base = domains[src.domain]!.base;
    const rel = (ts: bigint | undefined, dflt: number): number => (ts === undefined ? dflt : Number(ts - base));
    if (g.line === 0) {
      out[src.domain]!.push([-Infinity, rel(src.firstTs, Infinity)]);
      continue;
    }
    const lo = firstEventAfterLine(src, g.line, (id) => lineAt.get(id)!.line);
    const before = prevOn.get(src.id, lo, g.cpu, g.cpu)?.ts;
    const after = nextOn.get(src.id, lo, g.cpu, g.cpu)?.ts;
    out[src.domain]!.push([rel(before, -Infinity), rel(after, Infinity)]);
  }
  return out;
}

/** The first event of a source after input line `line` (ids follow lines within a source; lastEvent + 1 when none). */
export function firstEventAfterLine(src: Pick<SourceInfo, 'firstEvent' | 'lastEvent'>, line: number, lineOf: (id: number) => number): number {
  let lo = src.firstEvent;
  let hi = src.lastEvent + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (lineOf(mid) <= line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Strings {
  names: Map<number, string>;
  idsOf(values: Iterable<string>): number[];
  get(id: number | null): string | null;
}

function loadStringTable(db: Db): Strings {
  const names = new Map<number, string>();
  for (const [id, v] of db.prepare<[number, string]>('SELECT id, value FROM strings', { raw: true }).iterate()) names.set(id, v);
  const byValue = new Map<string, number>();
  for (const [id, v] of names) byValue.set(v, id);
  return {
    names,
    idsOf: (values) => [...values].map((v) => byValue.get(v)).filter((x): x is number => x !== undefined),
    get: (id) => (id === null ? null : (names.get(id) ?? null)),
  };
}

/** A literal prefix of an anchored regex (`^xt fe_queue…` → `xt fe_queue`), for a cheap SQL pre-filter. */
function literalPrefix(re: string): string | null {
  const m = /^\^((?:[A-Za-z0-9 _:=,-]|\\[.\\/ ])+)/.exec(re);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : null;
}

/** Does the matcher need this point's args text (regex or key=value fields), or only the event's columns? */
function needsArgs(path: ProfilePoint[], i: number): boolean {
  const p = path[i]!;
  const prev = path[i - 1];
  return (
    !!p.match ||
    p.keys.some((k) => !isBuiltinField(k)) ||
    joinPairs(p).some(([e]) => !isBuiltinField(e)) ||
    (p.join?.takes !== undefined && !isBuiltinField(p.join.takes)) ||
    (prev?.join?.mode === 'last-before-next' && joinPairs(prev).some(([, r]) => !isBuiltinField(r)))
  );
}

interface EventFilter {
  /** WHERE condition (null: every event). */
  where: string | null;
  /** Select expression for args: NULL-free '' when the matcher does not need the text. */
  args: string;
  params: (string | number)[];
  argsParams: (string | number)[];
}

/** The SQL selecting the events a profile may use, and their args only where they are needed. */
function eventFilter(path: ProfilePoint[], profile: Profile, strings: Strings): EventFilter {
  const ids = new Set<number>();
  const argIds = new Set<number>();
  const prefixes = new Set<string>();
  let all = false;
  let allArgs = false;
  const add = (event: string | string[], match: string | undefined, args: boolean): void => {
    for (const n of Array.isArray(event) ? event : [event]) {
      if (n !== '*') {
        for (const i of strings.idsOf([n])) {
          ids.add(i);
          if (args) argIds.add(i);
        }
      } else {
        const pre = match ? literalPrefix(match) : null;
        if (pre === null) all = allArgs = true;
        else prefixes.add(pre);
      }
    }
  };
  path.forEach((p, i) => add(p.event, p.match, needsArgs(path, i)));
  add(profile.markers.event, profile.markers.match, true);
  for (const n of blockEvents(profile)) add(n, undefined, true);
  // irq_by_device reads the interrupt number (`irq=`) of the point before the completion.
  const bl = profile.block_layer;
  const done = bl?.irq_by_device ? path.findIndex((p) => p.name === bl.complete) : -1;
  if (done > 0 && path[done - 1]!.join?.mode === 'last-before-next') add(path[done - 1]!.event, path[done - 1]!.match, true);
  const parts: string[] = [];
  const params: string[] = [];
  if (ids.size) parts.push(`+name_id IN (${[...ids].join(',')})`);
  for (const p of prefixes) {
    parts.push(`substr(args, 1, ${p.length}) = ?`);
    params.push(p);
  }
  if (allArgs) return { where: all ? null : `(${parts.join(' OR ') || '0'})`, args: 'args', params: all ? [] : params, argsParams: [] };
  const argParts: string[] = [];
  if (argIds.size) argParts.push(`name_id IN (${[...argIds].join(',')})`);
  for (const p of prefixes) argParts.push(`substr(args, 1, ${p.length}) = ?`);
  return {
    where: all ? null : `(${parts.join(' OR ') || '0'})`,
    args: argParts.length ? `CASE WHEN ${argParts.join(' OR ')} THEN args ELSE '' END` : "''",
    params: all ? [] : params,
    argsParams: [...prefixes],
  };
}

/** The block layer's own events (merges, splits, requeues, the end of more bios). */
function blockEvents(profile: Profile): string[] {
  return profile.block_layer ? [...blockLayerEvents(profile.block_layer).keys()] : [];
}

/** Does any event of this point occur in the database? (optional points that never occur leave the path) */
function pointOccurs(db: Db, p: ProfilePoint, strings: Strings): boolean {
  const names = Array.isArray(p.event) ? p.event : [p.event];
  if (names.includes('*')) {
    const pre = p.match ? literalPrefix(p.match) : null;
    if (pre === null) return true;
    return db.prepare('SELECT 1 FROM event_data WHERE substr(args, 1, ?) = ? LIMIT 1').get(pre.length, pre) !== undefined;
  }
  const ids = strings.idsOf(names);
  if (!ids.length) return false;
  return db.prepare(`SELECT 1 FROM event_data WHERE name_id IN (${ids.join(',')}) LIMIT 1`).get() !== undefined;
}

/** The read plan of one pass: which events, from which sources, on which clock (adjusted = rel + shift + round(rate · rel)). */
function readPlan(domains: DomainInfo[], shifts: number[], rates: number[], filter: EventFilter, fields: BuiltinFieldReader): ReadPlan {
  return {
    sql: chunkSql(fields.columns, filter.args, filter.where),
    orderedSql: chunkSql(fields.columns, filter.args, filter.where, true),
    fieldColumns: fields.columns.length,
    argsParams: filter.argsParams,
    params: filter.params,
    sources: domains.flatMap((d) =>
      d.sources.map((s) => ({ id: s.id, domain: s.domain, firstTs: s.firstTs, firstEvent: s.firstEvent, lastEvent: s.lastEvent, rel0: Number(s.firstTs - d.base), shift: shifts[s.domain]!, rate: rates[s.domain]! })),
    ),
  };
}

function matchPass(
  db: Db,
  profile: Profile,
  path: ProfilePoint[],
  domains: DomainInfo[],
  strings: Strings,
  shifts: number[],
  rates: number[],
  slack: number,
  gaps: [number, number][][],
  mode: ReaderMode,
  learnt: Learnt = {},
  onRead?: (done: number, total: number) => void,
  storeOptions?: RequestStoreOptions,
): { matcher: Matcher; store: RequestStore; seen: number } {
  const store = new RequestStore(path.length, requestAttrNames({ points: path, labels: profile.labels }), storeOptions);
  const matcher = new Matcher(profile, path, store, {
    slack,
    present: new Set(blockEvents(profile).filter((n) => strings.idsOf([n]).length > 0)),
    commName: (id) => strings.get(id),
    gaps: gaps.map((g, d) => g.map(([a, b]) => [adjustRel(a, shifts[d]!, rates[d]!), adjustRel(b, shifts[d]!, rates[d]!)] as [number, number])),
    ...learnt,
  });
  const filter = eventFilter(path, profile, strings);
  const fields = builtinFieldReader(path, strings);
  const names = strings.names;
  const seen = readEvents(
    db,
    readPlan(domains, shifts, rates, filter, fields),
    (id, domain, t, nameId, args, columns, at) => {
      fields.read(columns, at);
      matcher.push(id, domain, t, names.get(nameId)!, args, fields.values);
    },
    mode,
    onRead,
  );
  matcher.end();
  return { matcher, store, seen };
}

/**
 * Coarse clocks from strongly-keyed cross-role point pairs (see clock.ts densestWindow and
 * coarseDrift): a shift per domain and, where the pairs' differences drift over the trace, a rate.
 * `fixedRates`: given drifts, used as they are.
 */
function coarseShifts(
  db: Db,
  profile: Profile,
  path: ProfilePoint[],
  domains: DomainInfo[],
  strings: Strings,
  mode: ReaderMode,
  fixedRates: ReadonlyMap<number, number>,
  onRead?: (done: number, total: number) => void,
): { shifts: number[]; rates: number[]; pairs: number; reference: number; identity: Learnt['domainIdentity'] } {
  const firstCounts = new Array(domains.length).fill(0) as number[];
  const classifier = new Matcher(profile, path, { request() {} }, { slack: 0 });
  const pts = classifier.points;
  // Consecutive id-carrying points of different roles, where B's join keys are all carried by A.
  // Only where the path first enters a role: those links inherit the strongest keys (op, sector
  // from the guest's request); the way back (an id alone) would pair almost anything.
  const anchors: { a: CPoint; b: CPoint }[] = [];
  const entered = new Set<string>();
  let prev: CPoint | null = null;
  for (const p of pts) {
    if (p.mode !== 'nearest') continue;
    if (prev && prev.def.role !== p.def.role && !entered.has(p.def.role) && p.joinReq.every((f) => prev!.def.keys.includes(f) || prev!.joinReq.includes(f))) anchors.push({ a: prev, b: p });
    entered.add(p.def.role);
    prev = p;
  }
  // Per A event: time, domain, and the values of the profile's identity fields it carries.
  const aTimes = anchors.map(() => new Map<string, [number, number, (string | undefined)[]][]>());
  const bEvents = anchors.map(() => [] as [string, number, number, (string | undefined)[]][]);
  // Profile `identity` (domid, a tap minor): several guests read the same sectors; which value each
  // domain's events go with is learnt from the pairs (the right guest's cluster), both ways: an
  // opening domain from the value its pairs' B events carry (a guest's domid), a B domain from the
  // value its pairs' A events carry (a guest's own tapdisk: its tap minor).
  const idFields = profile.identity;
  const idsOf = (p: CPoint, vals: (string | undefined)[]): (string | undefined)[] => idFields.map((f) => requestFieldValue(p, f, vals));
  const filter = eventFilter(path, profile, strings);
  const fields = builtinFieldReader(path, strings);
  readEvents(
    db,
    readPlan(
      domains,
      domains.map(() => 0),
      domains.map(() => 0),
      filter,
      fields,
    ),
    (_id, domain, t, nameId, args, columns, at) => {
      fields.read(columns, at);
      for (const [p, vals] of classifier.classify(strings.names.get(nameId)!, args, fields.values)) {
        if (p.idx === 0) firstCounts[domain]!++;
        anchors.forEach(({ a, b }, k) => {
          if (p === a) {
            const key = b.joinReq.map((f) => requestFieldValue(a, f, vals));
            if (key.every((v) => v !== undefined)) {
              const ks = key.join('\u0001');
              const l = aTimes[k]!.get(ks);
              if (l) l.push([t, domain, idsOf(a, vals)]);
              else aTimes[k]!.set(ks, [[t, domain, idsOf(a, vals)]]);
            }
          }
          if (p === b) {
            const key = b.joinPos.map((i) => vals[i]);
            if (key.every((v) => v !== undefined)) bEvents[k]!.push([key.join('\u0001'), t, domain, idsOf(b, vals)]);
          }
        });
      }
    },
    mode,
    onRead,
  );
  let identity: Learnt['domainIdentity'];
  if (idFields.length) {
    const learnt: Map<string, string>[] = domains.map(() => new Map());
    idFields.forEach((f, fi) => {
      const byA = new Map<number, Map<string, [number, number][]>>();
      const byB = new Map<number, Map<string, [number, number][]>>();
      const add = (m: Map<number, Map<string, [number, number][]>>, d: number, v: string, ta: number, diff: number): void => {
        let byV = m.get(d);
        if (!byV) m.set(d, (byV = new Map()));
        const arr = byV.get(v);
        if (arr) arr.push([ta, diff]);
        else byV.set(v, [[ta, diff]]);
      };
      anchors.forEach((_, k) => {
        const ranks = ranksByKey(bEvents[k]!);
        bEvents[k]!.forEach(([key, tb, db_, bIds], j) => {
          const l = aTimes[k]!.get(key);
          if (!l) return;
          for (const [ta, da, aIds] of coarseCandidates(l, ranks[j]!)) {
            if (da === db_) continue;
            if (bIds[fi] !== undefined && aIds[fi] === undefined) add(byA, da, bIds[fi]!, ta, tb - ta);
            if (aIds[fi] !== undefined && bIds[fi] === undefined) add(byB, db_, aIds[fi]!, ta, tb - ta);
          }
        });
      });
      for (const m of [byA, byB]) identityFromPairs(m, domains.length, f, IDENTITY_WINDOW_NS, densestWindow).forEach((x, d) => x?.forEach((v, key) => learnt[d]!.set(key, v)));
    });
    if (learnt.some((m) => m.size)) identity = learnt.map((m) => (m.size ? m : undefined));
  }
  // Candidate pairs per ordered domain pair (A's domain, B's domain): their rel times; with a
  // learnt identity, only pairs that agree with it.
  const agrees = (d: number, ids: (string | undefined)[]): boolean => {
    const want = identity?.[d];
    return !want || idFields.every((f, fi) => ids[fi] === undefined || !want.has(f) || want.get(f) === ids[fi]);
  };
  const cand = new Map<string, { da: number; db: number; ta: number[]; tb: number[] }>();
  anchors.forEach((_, k) => {
    const ranks = ranksByKey(bEvents[k]!);
    for (let j = 0; j < bEvents[k]!.length; j++) {
      const [key, tb, db_, bIds] = bEvents[k]![j]!;
      const l0 = aTimes[k]!.get(key);
      if (!l0) continue;
      // A key shared by many events (the same sectors read run after run, an id alone) pairs by rank.
      const l = coarseCandidates(l0, ranks[j]!);
      for (let i = 0; i < l.length; i++) {
        const [ta, da, aIds] = l[i]!;
        if (da === db_ || !agrees(da, bIds) || !agrees(db_, aIds)) continue;
        const pk = `${da},${db_}`;
        let c = cand.get(pk);
        if (!c) cand.set(pk, (c = { da, db: db_, ta: [], tb: [] }));
        c.ta.push(ta);
        c.tb.push(tb);
      }
    }
  });
  // The reference domain is the one where requests start (most first-point events).
  const reference = firstCounts.indexOf(Math.max(...firstCounts));
  return { ...coarseSolve(domains.length, reference, [...cand.values()], fixedRates), pairs: cand.size, reference, identity };
}

/**
 * Coarse clocks, breadth-first from the reference: a domain from a placed one by their candidate
 * pairs (one list per direction). Its rate: given, else coarseDrift's (0 unless the pairs drift
 * enough to matter). Per direction the closest pair of the densest window of the (rate-corrected) differences
 * is taken as simultaneous; with both directions, the middle of the two.
 */
function coarseSolve(
  n: number,
  reference: number,
  cand: { da: number; db: number; ta: number[]; tb: number[] }[],
  fixedRates: ReadonlyMap<number, number>,
): { shifts: number[]; rates: number[] } {
  const pairs: { x: number; y: number; dirs: typeof cand }[] = [];
  for (const c of cand) {
    const x = Math.min(c.da, c.db);
    const y = Math.max(c.da, c.db);
    let p = pairs.find((q) => q.x === x && q.y === y);
    if (!p) pairs.push((p = { x, y, dirs: [] }));
    p.dirs.push(c);
  }
  const shifts: (number | null)[] = new Array(n).fill(null);
  const rates = new Array(n).fill(0) as number[];
  shifts[reference] = 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of pairs) {
      const known = shifts[p.x] !== null && shifts[p.y] === null ? p.x : shifts[p.y] !== null && shifts[p.x] === null ? p.y : null;
      if (known === null) continue;
      const unknown = known === p.x ? p.y : p.x;
      const rx = rates[known]!;
      // x: the unknown domain's time; d: the pair's difference, the known clock's rate applied.
      const dirs: CoarseDirection[] = p.dirs.map((c) => {
        const m = c.ta.length;
        const x = new Float64Array(m);
        const d = new Float64Array(m);
        const fwd = c.da === known;
        for (let i = 0; i < m; i++) {
          const ta = c.ta[i]!;
          const tb = c.tb[i]!;
          x[i] = fwd ? tb : ta;
          d[i] = rx === 0 ? tb - ta : fwd ? tb - (ta + rx * ta) : tb + rx * tb - ta;
        }
        return { x, d, sign: fwd ? 1 : -1 };
      });
      const rate = fixedRates.get(unknown) ?? coarseDrift(dirs, undefined, COARSE_WINDOW_NS, COARSE_DRIFT_MATTERS_NS).rate;
      // Unknown's shift − known's: ≥ −(closest difference) from A-in-known pairs, ≤ +(closest) from the others.
      let lo = -Infinity;
      let hi = Infinity;
      for (const dir of dirs) {
        const e = rate === 0 ? Float64Array.from(dir.d) : dir.d.map((v, i) => v + dir.sign * rate * dir.x[i]!);
        const w = densestWindow(e, COARSE_WINDOW_NS);
        if (!w) continue;
        if (dir.sign === 1) lo = -w.min;
        else hi = w.min;
      }
      if (!Number.isFinite(lo) && !Number.isFinite(hi)) continue;
      const delta = Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(lo) ? lo : hi;
      shifts[unknown] = shifts[known]! + delta;
      rates[unknown] = rate;
      changed = true;
    }
  }
  return { shifts: shifts.map((s) => s ?? 0), rates };
}

/**
 * Bounds from cross-domain links. `trusted`: only links between consecutive id-carrying (nearest)
 * points of any non-orphan request: their matching does not depend on the offsets. Otherwise:
 * every pair of consecutive points of complete requests, id-less ones included (tighter, but
 * the id-less choices were made with the previous offsets).
 */
function linkBounds(store: RequestStore, path: ProfilePoint[], shifts: number[], rates: number[], trusted: boolean, resolution: number[]): LinkCollector {
  const b = new LinkCollector(resolution);
  const P = path.length;
  const usable = path.map((p) => !trusted || (p.join?.mode ?? 'nearest') === 'nearest');
  for (let i = 0; i < store.length; i++) {
    const st = store.status(i);
    if (trusted ? st === 'orphan' : st !== 'complete') continue;
    let pa = -1;
    for (let p = 0; p < P; p++) {
      // An ambiguous id-less point does not bound the offset; its neighbours still bound each other (time order holds).
      if (!usable[p] || Number.isNaN(store.t(i, p)) || store.flags(i, p) & POINT_AMBIGUOUS) continue;
      if (pa >= 0) {
        const da = store.domain(i, pa);
        const d = store.domain(i, p);
        // Each link is tagged with its request and points (pa · P + p), for messages.
        if (da !== d) b.link(da, relOf(store.t(i, pa), shifts[da]!, rates[da]!), d, relOf(store.t(i, p), shifts[d]!, rates[d]!), i, pa * P + p);
      }
      pa = p;
    }
  }
  return b;
}

export function correlate(db: Db, profile: Profile, opts: CorrelateOptions = {}): Correlation {
  const domains = loadDomains(db);
  if (domains.length === 0) throw new InputError(`${db.path}: the database holds no event; ingest a trace first`, db.path);
  const strings = loadStringTable(db);

  // Effective path: optional points whose event never occurs are left out.
  const absent: string[] = [];
  const path = profile.points.filter((p) => {
    if (!p.optional || pointOccurs(db, p, strings)) return true;
    absent.push(p.name);
    return false;
  });
  checkEffectivePath(profile, path);

  // Sources without a time base cannot be used for latencies.
  const filter = eventFilter(path, profile, strings);
  for (const d of domains)
    for (const s of d.sources) {
      if (s.hasTimeBase) continue;
      const uses = filter.where === null || db.prepare(`SELECT 1 FROM event_data WHERE source_id = ? AND ${filter.where} LIMIT 1`).get(s.id, ...filter.params) !== undefined;
      if (uses)
        throw new InputError(
          `${s.path}: domain ${d.name} has no time base (raw counter ticks); latencies cannot be computed. Re-ingest it with --tsc-hz (x86-tsc) or record with a nanosecond trace clock (local, global, mono)`,
          s.path,
        );
    }

  const givenOffsets = new Map<number, bigint>();
  for (const [name, off] of opts.offsets ?? []) {
    const d = domains.findIndex((x) => x.name === name);
    if (d < 0) throw new InputError(`--offset ${name}=…: no domain named ${name} in the database (domains: ${domains.map((x) => x.name).join(', ')})`);
    givenOffsets.set(d, off);
  }
  const givenDrifts = new Map<number, number>();
  const givenPpm = new Map<number, number>();
  for (const [name, ppm] of opts.drifts ?? []) {
    const d = domains.findIndex((x) => x.name === name);
    if (d < 0) throw new InputError(`--drift ${name}=…: no domain named ${name} in the database (domains: ${domains.map((x) => x.name).join(', ')})`);
    givenDrifts.set(d, rateOfPpm(ppm));
    givenPpm.set(d, ppm);
  }

  const roles = new Set(path.map((p) => p.role));
  const gaps = loadGaps(db, domains);
  const mode = opts.reader ?? 'auto';
  const onProgress = opts.onProgress;
  /** A read's progress under `phase` (undefined: nobody listens). */
  const progress = (phase: string): ((done: number, total: number) => void) | undefined => (onProgress ? (done, total) => onProgress(phase, done, total) : undefined);
  let shifts = domains.map(() => 0);
  /** Each domain's rate: adjusted = rel + shift + round(rate · rel). */
  let rates = domains.map(() => 0);
  let slack = 0;
  let reference = 0;
  let givenShifts = new Map<number, number>();
  let resolution: number[] = domains.map(() => 0);
  /** Identity (domid) per domain from the coarse pairs (several guests), until a pass knows better. */
  let coarseIdentity: Learnt['domainIdentity'];
  if (roles.size > 1) {
    resolution = timestampResolution(db, domains);
    const coarse = coarseShifts(db, profile, path, domains, strings, mode, givenDrifts, progress('aligning clocks'));
    reference = coarse.reference;
    coarseIdentity = coarse.identity;
    if (givenOffsets.has(reference)) throw new InputError(`--offset ${domains[reference]!.name}=…: ${domains[reference]!.name} is the reference domain (where requests start; its offset is 0); give the other domains' offsets relative to it`);
    if (givenDrifts.has(reference)) throw new InputError(`--drift ${domains[reference]!.name}=…: ${domains[reference]!.name} is the reference domain (where requests start; its drift is 0); give the other domains' drifts relative to it`);
    givenShifts = new Map([...givenOffsets].map(([d, off]) => [d, givenShift(domains, reference, d, off)] as [number, number]));
    shifts = coarse.shifts;
    rates = coarse.rates;
    for (const [d, s] of givenShifts) shifts[d] = s;
    for (const [d, r] of givenDrifts) rates[d] = r;
    slack = FIRST_PASS_SLACK_NS;
    const drifting = rates.flatMap((r, d) => (r !== 0 && !givenDrifts.has(d) ? [`${domains[d]!.name} ${formatPpm(ppmOfRate(r))} ppm`] : []));
    opts.onPass?.(0, `coarse alignment from ${coarse.pairs} domain pair(s)${drifting.length ? `, drift ${drifting.join(', ')}` : ''}`);
  }

  let pass = 0;
  const matching = (): ((done: number, total: number) => void) | undefined => progress(roles.size > 1 ? `reading and matching events, pass ${pass}` : 'reading and matching events');
  let result: ReturnType<typeof matchPass>;
  /** What the previous pass taught this one (learn.ts). */
  let learnt: Learnt = coarseIdentity ? { domainIdentity: coarseIdentity } : {};
  let solved: DomainShift[] = [];
  let idlessInconsistent = false;
  for (;;) {
    pass++;
    // The previous pass's requests are done with: its spill file (store.ts) goes now, not at a GC.
    const previous: RequestStore | undefined = pass > 1 ? result!.store : undefined;
    result = matchPass(db, profile, path, domains, strings, shifts, rates, slack, gaps, mode, learnt, matching(), opts.store);
    previous?.dispose();
    opts.onPass?.(pass, `${result.store.length} requests`);
    learnt = roles.size > 1 ? learnFromPass(result.store, path, profile, domains.length) : {};
    if (coarseIdentity) learnt.domainIdentity = domains.map((_, d) => learnt.domainIdentity?.[d] ?? coarseIdentity![d]);
    if (roles.size <= 1) {
      const perDomain = new Array(domains.length).fill(0) as number[];
      for (let i = 0; i < result.store.length; i++) if (result.store.status(i) === 'complete') perDomain[result.store.domain(i, 0)]!++;
      reference = Math.max(0, perDomain.indexOf(Math.max(...perDomain)));
      solved = domains.map((_, d) => ({
        shift: 0,
        rate: 0,
        uncertainty: 0,
        method: d === reference ? 'reference' : 'unlinked',
        driftMethod: d === reference ? 'reference' : null,
        rateLo: null,
        rateHi: null,
        lo: null,
        hi: null,
        parent: null,
        links: 0,
        span: 0,
      }));
      break;
    }
    const needed = new Set<number>();
    for (let i = 0; i < result.store.length; i++) {
      if (result.store.status(i) !== 'complete') continue;
      for (let p = 0; p < path.length; p++) needed.add(result.store.domain(i, p));
    }
    const store = result.store;
    const witness = (i: number, k: number): string => {
      const a = Math.floor(k / path.length);
      const p = k % path.length;
      return `${path[a]!.name}→${path[p]!.name} of the request with events ${store.event(i, a)} and ${store.event(i, p)}`;
    };
    const solve = (trusted: boolean, robust?: { frac: number; guess: Clock[] }): DomainShift[] =>
      solveClocks({
        n: domains.length,
        reference,
        givenShift: givenShifts,
        givenRate: givenDrifts,
        pairs: linkBounds(store, path, shifts, rates, trusted, resolution).list(),
        names: domains.map((d) => d.name),
        needed,
        bases: domains.map((d) => d.base),
        witness,
        ...(robust ? { robust } : {}),
      });
    if (pass === 1) {
      // The first pass matched with a loose tolerance: a few links may pair neighbours. Its
      // (trimmed) solution only sets the next pass's clocks and tolerance.
      solved = solve(true, { frac: 0.01, guess: shifts.map((shift, d) => ({ shift, rate: rates[d]! })) });
    } else {
      // Links between id-carrying points never depend on the offsets: a contradiction there is real.
      solved = solve(true);
    }
    idlessInconsistent = false;
    if (pass > 1) {
      // The id-less links tighten the interval, unless they contradict (an id-less choice made with
      // too rough an offset): then the id-carrying links alone decide, and the report says so.
      try {
        solved = solve(false);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        idlessInconsistent = true;
      }
    }
    // Round shifts to whole ns (stored times stay integers); the rounding joins the uncertainty.
    // A domain not estimated yet (no complete request in a first pass) keeps its coarse clock.
    const next = solved.map((s, d) => (s.method === 'unlinked' ? shifts[d]! : Math.round(s.shift)));
    const nextRates = solved.map((s, d) => (s.method === 'unlinked' ? rates[d]! : s.rate));
    // A rate that moves no time of the domain's span by half a ns is no move.
    const moved = next.some((s, d) => s !== shifts[d] || Math.round((nextRates[d]! - rates[d]!) * solved[d]!.span) !== 0);
    const usedRates = moved ? nextRates : rates;
    // The uncertainty holds for the clock used: the rounded shift and the rate the pass read with.
    solved = solved.map((s, d) => ({
      ...s,
      uncertainty: s.method === 'estimated' ? Math.ceil(s.uncertainty + Math.abs(s.shift - next[d]!) + Math.abs(s.rate - usedRates[d]!) * s.span) : s.uncertainty,
    }));
    if ((!moved && pass > 1) || pass >= MAX_PASSES) {
      if (moved) {
        // Last pass: use the final clocks for the stored times.
        shifts = next;
        rates = nextRates;
        pass++;
        const previous = result.store;
        result = matchPass(db, profile, path, domains, strings, shifts, rates, Math.max(...solved.map((s) => s.uncertainty)) + 1, gaps, mode, learnt, matching(), opts.store);
        previous.dispose();
      }
      break;
    }
    shifts = next;
    rates = nextRates;
    slack = Math.max(...solved.map((s) => s.uncertainty)) + 1;
  }

  // A domain where requests start that no link places on the reference's clock: several guests
  // with no trace in common (blktap3, qemu: each guest with its own back end, no dom0 trace). Its
  // requests cannot be timed against the runs, and would only come out incomplete.
  if (roles.size > 1) {
    const islands = new Set<number>();
    for (let i = 0; i < result.store.length; i++) {
      if (result.store.status(i) === 'orphan') continue;
      const d = result.store.domain(i, 0);
      if (d >= 0 && solved[d]?.method === 'unlinked') islands.add(d);
    }
    if (islands.size) {
      const names = [...islands].map((d) => domains[d]!.name);
      throw new InputError(
        `domain${names.length > 1 ? 's' : ''} ${names.join(', ')} start${names.length > 1 ? '' : 's'} requests but no request links ${names.length > 1 ? 'them' : 'it'} with the reference domain ${domains[reference]!.name}: no trace is shared between them (several guests on blktap3 or qemu, each with its own back end and no dom0 trace). Ingest each guest with its back end into a database of its own`,
      );
    }
  }

  if (result.seen === 0) {
    const looked = [...new Set(path.flatMap((p) => (Array.isArray(p.event) ? p.event : [p.event]).map((e) => (e === '*' ? (p.match ?? '*') : e))))];
    throw new InputError(`no event in ${db.path} matches profile ${profile.name} (it looks for ${looked.slice(0, 8).join(', ')}${looked.length > 8 ? ', …' : ''}); is this the right profile? \`xtrace summary --db ${db.path}\` shows what the database holds`, db.path);
  }

  const refBase = domains[reference]!.base;
  const used = new Set<number>();
  for (let i = 0; i < result.store.length; i++) for (let p = 0; p < path.length; p++) {
    const d = result.store.domain(i, p);
    if (d >= 0) used.add(d);
  }
  const offsets: DomainOffset[] = domains.map((d, k) => {
    const s = solved[k]!;
    const method = !used.has(k) && s.method !== 'reference' && s.method !== 'given' ? 'unused' : s.method;
    const known = method === 'reference' || method === 'given' || method === 'estimated';
    const toOffset = (shift: number): bigint => BigInt(Math.round(shift)) + refBase - d.base;
    const parent = s.parent === null ? null : domains[s.parent]!;
    return {
      domain: d.name,
      method,
      offsetNs: known ? (method === 'given' ? givenOffsets.get(k)! : toOffset(shifts[k]!)) : null,
      uncertaintyNs: known ? s.uncertainty : null,
      lowerNs: s.lo === null || parent === null ? null : BigInt(Math.floor(s.lo)) + parent.base - d.base,
      upperNs: s.hi === null || parent === null ? null : BigInt(Math.ceil(s.hi)) + parent.base - d.base,
      relativeTo: parent?.name ?? null,
      links: s.links,
      driftPpm: known ? (givenPpm.get(k) ?? ppmOfRate(rates[k]!)) : null,
      driftMethod: known ? s.driftMethod : null,
      // The ppm falls as the rate rises; rounded outwards to 0.001 ppm.
      driftLowerPpm: known && s.rateHi !== null ? Math.floor(ppmOfRate(s.rateHi) * 1000) / 1000 : null,
      driftUpperPpm: known && s.rateLo !== null ? Math.ceil(ppmOfRate(s.rateLo) * 1000) / 1000 : null,
    };
  });
  return {
    profile,
    path,
    absent,
    domains,
    reference,
    shifts: solved.map((s, d) => ({ ...s, shift: shifts[d]!, rate: rates[d]! })),
    offsets,
    refBase,
    requests: result.store,
    markers: result.matcher.markers,
    counters: [
      ...result.matcher.counterList(),
      ...(idlessInconsistent ? [{ code: 'idless_links_inconsistent', point: null, severity: severityOf('idless_links_inconsistent'), count: 1, firstEvent: NaN } satisfies EngineCounter] : []),
    ],
    passes: pass,
  };
}

/**
 * Per domain, how coarse its timestamps are: 1000 ns when every timestamp of a source is a whole
 * µs (ftrace text without ns, latency-format), else 1 ns.
 */
function timestampResolution(db: Db, domains: DomainInfo[]): number[] {
  const fine = db.prepare('SELECT 1 FROM event_data WHERE source_id = ? AND ts_ns % 1000 != 0 LIMIT 1');
  return domains.map((d) => Math.max(0, ...d.sources.map((s) => (fine.get(s.id) === undefined ? 1000 : 1))));
}

/** The built-in fields a path uses: the columns the read plan selects (in this order), and how one read event's values reach the matcher. */
interface BuiltinFieldReader {
  columns: string[];
  /** The matcher's field values of the current event (by BUILTIN_FIELDS position; unused fields stay null). */
  values: EvCtx;
  /** Copies the event's `columns` values (`fields[at]` onwards, NaN: NULL) into `values`, interned strings resolved. */
  read(fields: ArrayLike<number>, at: number): void;
}

function builtinFieldReader(path: ProfilePoint[], strings: Strings): BuiltinFieldReader {
  // The opener's $comm, $pid and $tgid are kept with every request (filters, SQL). A $comm the
  // path does not join on stays a string id here, resolved only for the requests (commName).
  const byPath = new Set(path.flatMap((p) => [...p.keys, ...joinPairs(p).flat()]));
  const named = new Set(['$comm', '$pid', '$tgid', ...byPath]);
  const used = [...named].map(builtinFieldIndex).filter((k) => k >= 0).sort((a, b) => a - b);
  const interned = used.map((k) => BUILTIN_FIELDS[k]!.interned && (BUILTIN_FIELDS[k]!.name !== '$comm' || byPath.has('$comm')));
  const values: EvCtx = BUILTIN_FIELDS.map(() => null);
  return {
    columns: used.map((k) => BUILTIN_FIELDS[k]!.column),
    values,
    read(fields, at) {
      for (let j = 0; j < used.length; j++) {
        const x = fields[at + j]!;
        const v = Number.isNaN(x) ? null : x;
        values[used[j]!] = interned[j] ? strings.get(v) : v;
      }
    },
  };
}

/**
 * A given offset (t_ref = t_d + off at the domain's first event) as a shift: adjusted = rel_d + shift
 * (+ the rate's part) where rel_d = t_d − base_d and adjusted = t_ref − refBase.
 */
function givenShift(domains: DomainInfo[], reference: number, d: number, off: bigint): number {
  return Number(off + domains[d]!.base - domains[reference]!.base);
}

/** After optional points leave the path, every join must still refer to fields an earlier point provides. */
function checkEffectivePath(profile: Profile, path: ProfilePoint[]): void {
  unprovidedJoinFields(path).forEach((f, i) => {
    if (f !== undefined)
      throw new InputError(
        `profile ${profile.name}: point ${path[i]!.name} joins on request field "${f}", but the points that provide it never occur in this database (left out: ${profile.points
          .filter((x) => !path.includes(x))
          .map((x) => x.name)
          .join(', ')}); trace them, or use a profile without them`,
      );
  });
  if (path[0]?.join?.mode && path[0].join.mode !== 'nearest') throw new InputError(`profile ${profile.name}: the first point present (${path[0].name}) is id-less; it cannot open requests`);
}
