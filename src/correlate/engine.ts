/**
 * The matcher: follows requests through the points of a profile, one event at a time, in
 * (clock-adjusted) time order. Memory holds only the open requests, a short history of id-less
 * events and a few "last event" slots, so it does not grow with the trace; finished requests go
 * to a RequestSink.
 *
 * Rules (README "Profiles"):
 *  - nearest: an event joins the open request waiting for its point with equal keys whose previous
 *    point is the latest at or before it; never a finished request (ids are reused);
 *  - first-after (id-less): the first such event with equal keys at or after the previous point.
 *    It is chosen when the request's next id-carrying point arrives: by then the request knows
 *    every key (blkback's be_irq carries domid, which the guest side only learns from be_get_req)
 *    and the next point bounds the choice from above (exactly, when in the same clock domain);
 *  - last-before-next: also chosen when the next point arrives: the last such event (keys related
 *    to the next event) at or after the previous point;
 *  - a point of another clock domain than the previous one may look up to `slack` ns too early
 *    (the offset's uncertainty);
 *  - `repeat: replace` points: a second event for the point a request just passed replaces it
 *    (a requeued block request issued again); `opens` points open a request when none waits
 *    (orphans: no first point); `ends` points end a request still waiting for an earlier point.
 * Nothing is dropped silently: every classified event that joins nothing is counted.
 */
import { severityOf, type CorrelateCode, type Severity } from '../core/counters.js';
import { builtinFieldIndex, isBuiltinField, joinPairs, namedGroups, type BuiltinFieldValues, type Profile, type ProfilePoint } from '../profiles/index.js';

export type RequestStatus = 'complete' | 'incomplete' | 'orphan';

/** One finished request. `t[i]`: adjusted time of effective point i (NaN when missing). */
export interface FinishedRequest {
  status: RequestStatus;
  /** Index of the point that opened it (0 unless an orphan). */
  opener: number;
  t: Float64Array;
  ev: Float64Array;
  domain: Int32Array;
  /** POINT_AMBIGUOUS: an id-less point with another candidate within the clock uncertainty (chosen with the estimated offset). */
  flags: Uint8Array;
}

export interface RequestSink {
  request(r: FinishedRequest): void;
}

export interface Marker {
  run: string;
  edge: 'begin' | 'end';
  t: number;
  domain: number;
  eventId: number;
}

/** Correlation counters (Perfetto-style: named, with a severity and the first event concerned). */
export interface EngineCounter {
  code: CorrelateCode;
  point: string | null;
  severity: Severity;
  count: number;
  firstEvent: number;
}

export interface CPoint {
  idx: number;
  def: ProfilePoint;
  re: RegExp | null;
  /** Fields to extract from an event of this point, in order: keys first, then join event fields. */
  need: string[];
  extract: ((args: string, m: RegExpExecArray | null, b: EvCtx) => string | undefined)[];
  keyPos: number[];
  /** Join event-field positions in `need` and the request fields they must equal. */
  joinPos: number[];
  joinReq: string[];
  mode: ProfilePoint['join'] extends infer J ? (J extends { mode: infer M } ? M : never) : never;
  within: number;
  role: number;
}

/** An event's built-in field values, by position in BUILTIN_FIELDS (src/profiles/fields.ts). */
export type EvCtx = BuiltinFieldValues;

/** A recorded event: adjusted time, id, domain, and whether a request took it. */
interface Seen {
  t: number;
  id: number;
  domain: number;
  used: boolean;
}

/** How long id-less events are kept for requests still to choose them (ns), unless `within_ns` says otherwise. */
export const IDLESS_HORIZON_NS = 1_000_000_000;

class Req {
  seq = 0;
  opener = 0;
  cursor = 0;
  lastT = -Infinity;
  /** The `ends` point that ended it while it waited for an earlier one, else -1. */
  endedEarly = -1;
  /** Domain of the last point, for the cross-domain tolerance. */
  lastDomain = -1;
  /** Id-less and last-before-next points passed over, chosen when the next point arrives. */
  readonly deferred: number[] = [];
  /** Registration keys, for removal: wait index at `cursor`, ends points. */
  waitKey: string | null = null;
  endsKeys: (string | null)[] | null = null;
  lastAtKey: string | null = null;
  lastAtPoint = -1;
  readonly fields = new Map<string, string>();
  readonly t: Float64Array;
  readonly ev: Float64Array;
  readonly domain: Int32Array;
  readonly roleDom: Int32Array;
  /** Time of the request's last point of each role: within one clock, points never go back in time. */
  readonly roleLastT: Float64Array;
  readonly flags: Uint8Array;
  constructor(n: number, roles: number) {
    this.roleLastT = new Float64Array(roles).fill(-Infinity);
    this.flags = new Uint8Array(n);
    this.t = new Float64Array(n).fill(NaN);
    this.ev = new Float64Array(n).fill(NaN);
    this.domain = new Int32Array(n).fill(-1);
    this.roleDom = new Int32Array(roles).fill(-1);
  }
  /** Back to a blank request (finished requests are recycled: the sink copies what it keeps). */
  reset(seq: number, opener: number): this {
    this.seq = seq;
    this.opener = opener;
    this.cursor = 0;
    this.lastT = -Infinity;
    this.endedEarly = -1;
    this.lastDomain = -1;
    this.deferred.length = 0;
    this.waitKey = null;
    this.endsKeys = null;
    this.lastAtKey = null;
    this.lastAtPoint = -1;
    this.fields.clear();
    this.t.fill(NaN);
    this.ev.fill(NaN);
    this.domain.fill(-1);
    this.roleDom.fill(-1);
    this.roleLastT.fill(-Infinity);
    this.flags.fill(0);
    return this;
  }
}

const SEP = '\u0001';

function kvExtractor(field: string): (args: string) => string | undefined {
  const re = new RegExp(`(?:^|[\\s,])${field.replace(/[^A-Za-z0-9_]/g, '')}=([^\\s,]+)`);
  return (args) => re.exec(args)?.[1];
}

function builtinExtractor(field: string): (args: string, m: RegExpExecArray | null, b: EvCtx) => string | undefined {
  const k = builtinFieldIndex(field);
  return (_a, _m, b) => {
    const v = b[k];
    return v === null || v === undefined ? undefined : String(v);
  };
}

export interface EngineOptions {
  /** Cross-domain ordering tolerance (ns): a point in another domain than the previous one may appear up to this much earlier. */
  slack: number;
  /** Per domain: adjusted-time intervals where events were lost (LOST EVENTS, overwritten buffers). */
  gaps?: [number, number][][];
}

/** Per-point flags of a finished request. */
export const POINT_AMBIGUOUS = 1;

export class Matcher {
  readonly points: CPoint[];
  private readonly byName = new Map<string, CPoint[]>();
  private readonly wildcard: CPoint[] = [];
  private readonly markerNames: Set<string> | null;
  private readonly markerRe: RegExp;
  /** Per point: key tuple → requests waiting there (nearest / first-after). */
  private readonly wait: Map<string, Slot>[];
  /** Per `ends` point: key tuple → requests that may be ended by it. */
  private readonly endsIdx: (Map<string, Slot> | null)[];
  /** Per nearest point: key tuple → the request that just passed it (repeats replace). */
  private readonly lastAt: Map<string, Req>[];
  /** Per last-before-next point: next-event key tuple → last event. */
  private readonly lastSeen: Map<string, Seen>[];
  /** Per first-after point: key tuple → its events of the last `within` ns, in time order. */
  private readonly history: Map<string, Seen[]>[];
  private readonly open = new Set<Req>();
  private readonly pool: Req[] = [];
  /** Per nearest point: recent events nobody took yet (only with a cross-domain slack). */
  private readonly recent: { t: number; id: number; domain: number; vals: (string | undefined)[]; used: boolean }[][];
  /** Adjusted time of the latest event offered. */
  private now = -Infinity;
  private readonly counters = new Map<string, EngineCounter>();
  private readonly required: Set<number> | null;
  private seq = 0;
  readonly markers: Marker[] = [];
  private readonly nRoles: number;

  constructor(
    readonly profile: Profile,
    /** The effective path: profile points present in the data. */
    readonly path: ProfilePoint[],
    private readonly sink: RequestSink,
    private readonly opts: EngineOptions,
  ) {
    const roles = [...new Set(path.map((p) => p.role))];
    this.nRoles = roles.length;
    // A last-before-next point relates its fields to the next point's event: that point extracts them too.
    const extraNeed = path.map((_, i) => (i > 0 && path[i - 1]!.join?.mode === 'last-before-next' ? joinPairs(path[i - 1]!).map(([, r]) => r) : []));
    this.points = path.map((def, idx) => {
      const re = def.match ? new RegExp(def.match) : null;
      const groups = new Set(def.match ? namedGroups(def.match) : []);
      const pairs = joinPairs(def);
      const need: string[] = [];
      const pos = (f: string): number => {
        let i = need.indexOf(f);
        if (i < 0) i = need.push(f) - 1;
        return i;
      };
      const keyPos = def.keys.map(pos);
      const joinPos = pairs.map(([e]) => pos(e));
      const joinReq = pairs.map(([, r]) => r);
      for (const f of extraNeed[idx]!) pos(f);
      const extract = need.map((f) => {
        if (isBuiltinField(f)) return builtinExtractor(f);
        if (groups.has(f)) return (_a: string, m: RegExpExecArray | null) => m?.groups?.[f];
        const kv = kvExtractor(f);
        return (a: string) => kv(a);
      });
      const mode = def.join?.mode ?? 'nearest';
      return {
        idx,
        def,
        re,
        need,
        extract,
        keyPos,
        joinPos,
        joinReq,
        mode,
        within: def.join?.within_ns ?? (mode === 'first-after' ? IDLESS_HORIZON_NS : Infinity),
        role: roles.indexOf(def.role),
      } as CPoint;
    });
    for (const p of this.points) {
      const names = Array.isArray(p.def.event) ? p.def.event : [p.def.event];
      for (const n of names) {
        if (n === '*') this.wildcard.push(p);
        else {
          const l = this.byName.get(n) ?? [];
          l.push(p);
          this.byName.set(n, l);
        }
      }
    }
    const me = profile.markers.event;
    const mnames = Array.isArray(me) ? me : [me];
    this.markerNames = mnames.includes('*') ? null : new Set(mnames);
    this.markerRe = new RegExp(profile.markers.match);
    this.wait = this.points.map(() => new Map());
    this.endsIdx = this.points.map((p) => (p.def.ends ? new Map() : null));
    this.lastAt = this.points.map(() => new Map());
    this.lastSeen = this.points.map(() => new Map());
    this.history = this.points.map(() => new Map());
    this.recent = this.points.map(() => []);
    const req = profile.requires_any?.map((n) => path.findIndex((p) => p.name === n)).filter((i) => i >= 0);
    this.required = req ? new Set(req) : null;
  }

  private count(code: CorrelateCode, point: number | null, eventId: number, n = 1): void {
    const key = code + SEP + (point ?? '');
    const c = this.counters.get(key);
    if (c) c.count += n;
    else this.counters.set(key, { code, point: point === null ? null : this.points[point]!.def.name, severity: severityOf(code), count: n, firstEvent: eventId });
  }

  counterList(): EngineCounter[] {
    return [...this.counters.values()];
  }

  /** The points an event belongs to, with its field values, without matching anything (coarse clock pass). */
  classify(name: string, args: string, ctx: EvCtx): [CPoint, (string | undefined)[]][] {
    const out: [CPoint, (string | undefined)[]][] = [];
    const each = (p: CPoint): void => {
      let m: RegExpExecArray | null = null;
      if (p.re) {
        m = p.re.exec(args);
        if (!m) return;
      }
      out.push([p, p.need.map((_, i) => p.extract[i]!(args, m, ctx))]);
    };
    this.byName.get(name)?.forEach(each);
    this.wildcard.forEach(each);
    return out;
  }

  /** Offers one event. `t` is the clock-adjusted time; events must come in (approximately) time order. */
  push(eventId: number, domain: number, t: number, name: string, args: string, ctx: EvCtx): void {
    if ((this.markerNames === null || this.markerNames.has(name)) && args.length > 6) {
      const m = this.markerRe.exec(args);
      if (m) {
        const edge = m.groups!['edge'];
        this.markers.push({ run: m.groups!['run']!, edge: edge === 'end' ? 'end' : 'begin', t, domain, eventId });
        return;
      }
    }
    const named = this.byName.get(name);
    if (named) for (const p of named) this.offer(p, eventId, domain, t, args, ctx);
    for (const p of this.wildcard) this.offer(p, eventId, domain, t, args, ctx);
  }

  private offer(p: CPoint, eventId: number, domain: number, t: number, args: string, ctx: EvCtx): void {
    let m: RegExpExecArray | null = null;
    if (p.re) {
      m = p.re.exec(args);
      if (!m) return;
    }
    const vals: (string | undefined)[] = new Array(p.need.length);
    for (let i = 0; i < p.need.length; i++) vals[i] = p.extract[i]!(args, m, ctx);
    if (t > this.now) this.now = t;
    switch (p.mode) {
      case 'last-before-next': {
        const k = tuple(vals, p.joinPos);
        if (k !== null) {
          const prev = this.lastSeen[p.idx]!.get(k);
          if (prev && !prev.used) this.count('unmatched_event', p.idx, prev.id);
          this.lastSeen[p.idx]!.set(k, { t, id: eventId, domain, used: false });
        } else this.count('unmatched_event', p.idx, eventId);
        return;
      }
      case 'first-after':
        this.record(p, eventId, domain, t, vals);
        return;
      default:
        this.nearest(p, eventId, domain, t, vals);
    }
  }

  /** Keeps an id-less event for the requests that will choose it; events older than the horizon leave (counted if nobody took them). */
  private record(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const k = tuple(vals, p.joinPos);
    if (k === null) {
      this.count('unmatched_event', p.idx, eventId);
      return;
    }
    const h = this.history[p.idx]!;
    const list = h.get(k);
    const e = { t, id: eventId, domain, used: false };
    if (!list) {
      h.set(k, [e]);
      return;
    }
    let drop = 0;
    while (drop < list.length && list[drop]!.t < t - p.within) {
      if (!list[drop]!.used) this.count('unmatched_event', p.idx, list[drop]!.id);
      drop++;
    }
    if (drop) list.splice(0, drop);
    list.push(e);
  }

  private fits(r: Req, p: CPoint, domain: number, t: number): boolean {
    const rd = r.roleDom[p.role]!;
    if (rd !== -1 && rd !== domain) return false;
    const prevDom = r.lastDomain;
    const tol = prevDom !== -1 && prevDom !== domain ? this.opts.slack : 0;
    return r.lastT <= t + tol && t >= r.roleLastT[p.role]! && t - r.lastT <= p.within;
  }

  private nearest(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    if (p.idx === 0) {
      this.openReq(p, eventId, domain, t, vals);
      return;
    }
    const key = tuple(vals, p.joinPos);
    if (key !== null) {
      const best = pick(this.wait[p.idx]!.get(key), (r) => this.fits(r, p, domain, t));
      if (best) {
        this.advance(best, p, eventId, domain, t, vals);
        return;
      }
      // With clock uncertainty, an ending event may only look early: it waits the slack out (unmatched()) first.
      if (this.opts.slack <= 0 && this.endEarly(p, key, eventId, domain, t, vals)) return;
      const last = p.def.repeat === 'replace' ? this.lastAt[p.idx]!.get(key) : undefined;
      if (last && last.lastAtPoint === p.idx && this.open.has(last) && (last.roleDom[p.role] === -1 || last.roleDom[p.role] === domain)) {
        last.t[p.idx] = t;
        last.ev[p.idx] = eventId;
        if (last.cursor === p.idx + 1 || last.deferred[0] === p.idx + 1) last.lastT = t;
        this.count('repeated_point', p.idx, eventId);
        return;
      }
    }
    if (p.def.opens) {
      this.openReq(p, eventId, domain, t, vals);
      return;
    }
    this.unmatched(p, eventId, domain, t, vals);
  }

  /**
   * An event nobody took. With several clock domains, an event of another domain may appear up to
   * `slack` too early (offset uncertainty): it waits that long for a request to get there before it
   * is counted as unmatched.
   */
  private unmatched(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    if (this.opts.slack <= 0) {
      this.count('unmatched_event', p.idx, eventId);
      return;
    }
    const buf = this.recent[p.idx]!;
    while (buf.length && buf[0]!.t < t - this.opts.slack) this.expire(p, buf.shift()!);
    buf.push({ t, id: eventId, domain, vals, used: false });
  }

  /** A recent event that waited the slack out: it may still end a request (an `ends` point), else it is unmatched. */
  private expire(p: CPoint, e: { t: number; id: number; domain: number; vals: (string | undefined)[]; used: boolean }): void {
    if (e.used) return;
    const key = tuple(e.vals, p.joinPos);
    if (key !== null && this.endEarly(p, key, e.id, e.domain, e.t, e.vals)) return;
    this.count('unmatched_event', p.idx, e.id);
  }

  /** An `ends` point event ends the nearest request still waiting for an earlier point (its skipped points missing). */
  private endEarly(p: CPoint, key: string, eventId: number, domain: number, t: number, vals: (string | undefined)[]): boolean {
    const endsIdx = this.endsIdx[p.idx];
    if (!endsIdx) return false;
    const e = pick(endsIdx.get(key), (r) => this.fits(r, p, domain, t));
    if (!e) return false;
    e.endedEarly = p.idx;
    this.advance(e, p, eventId, domain, t, vals);
    return true;
  }

  /** A request now waiting at point c: does a recent unmatched event (another domain, within the slack) belong to it? */
  private fromRecent(r: Req, c: number, key: string): void {
    const p = this.points[c]!;
    for (const e of this.recent[c]!) {
      if (e.used || tuple(e.vals, p.joinPos) !== key || !this.fits(r, p, e.domain, e.t)) continue;
      e.used = true;
      this.advance(r, p, e.id, e.domain, e.t, e.vals);
      return;
    }
  }

  private openReq(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const r = (this.pool.pop() ?? new Req(this.points.length, this.nRoles)).reset(this.seq++, p.idx);
    this.open.add(r);
    r.cursor = p.idx;
    this.advance(r, p, eventId, domain, t, vals);
  }

  /** Records point p on r and moves r on to its next point. */
  private advance(r: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    this.unregisterWait(r);
    // The next point's keys first: the deferred id-less points may need them (be_irq needs domid).
    for (let i = 0; i < p.keyPos.length; i++) {
      const k = p.def.keys[i]!;
      const v = vals[p.keyPos[i]!];
      if (v !== undefined && !r.fields.has(k)) r.fields.set(k, v);
    }
    if (r.deferred.length) this.resolveDeferred(r, p, domain, t, vals);
    r.t[p.idx] = t;
    r.ev[p.idx] = eventId;
    r.domain[p.idx] = domain;
    if (r.roleDom[p.role] === -1) r.roleDom[p.role] = domain;
    r.roleLastT[p.role] = t;
    // The time of the last point (not the largest time: a point of another domain may look earlier within the slack).
    r.lastT = t;
    r.lastDomain = domain;
    // Repeats of this point replace it while the request has not passed another one.
    this.clearLastAt(r);
    if (p.def.repeat === 'replace') {
      const k = tuple(vals, p.joinPos);
      if (k !== null) {
        this.lastAt[p.idx]!.set(k, r);
        r.lastAtKey = k;
        r.lastAtPoint = p.idx;
      }
    }
    if (p.idx >= r.cursor) r.cursor = p.idx + 1;
    this.settle(r);
  }

  /**
   * Chooses the points passed over (id-less, last-before-next) now that the next point `p` is
   * known: each lies at or after the point before it and at or before p's event; the tolerance
   * `slack` applies across clock domains only.
   */
  private resolveDeferred(r: Req, p: CPoint, nextDomain: number, nextT: number, vals: (string | undefined)[]): void {
    let prevT = r.lastT;
    let prevDom = r.lastDomain;
    const slack = this.opts.slack;
    const skipped = p.idx > r.cursor; // ended early: the deferred points are not p's neighbours
    for (const d of r.deferred) {
      if (skipped) break;
      const dp = this.points[d]!;
      const bound = r.roleDom[dp.role];
      const floor = r.roleLastT[dp.role]!;
      const ok = (e: Seen): boolean => (bound === -1 || bound === e.domain) && e.t >= floor;
      const lo = (e: Seen): number => prevT - (e.domain !== prevDom ? slack : 0);
      const hi = (e: Seen): number => nextT + (e.domain !== nextDomain ? slack : 0);
      let hit: Seen | undefined;
      let candidates = 0;
      if (dp.mode === 'last-before-next') {
        const e = this.lastSeen[d]!.get(tuple(vals, relPositions(dp, p)) ?? '');
        if (e && ok(e) && e.t >= lo(e) && e.t <= hi(e)) {
          hit = e;
          candidates = 1;
          // The true last one may be among lost events between it and the next point.
          if (this.inGap(e.domain, e.t, nextT)) hit = undefined;
        }
      } else {
        const key = reqTuple(r, dp.joinReq);
        const list = key === null ? undefined : this.history[d]!.get(key);
        if (list) {
          // Candidates the rule could pick for some offset within the uncertainty: from prev − slack
          // (another domain) up to the first one certainly after prev, and never after the next point.
          const compatible: Seen[] = [];
          for (let j = lowerBound(list, prevT - slack); j < list.length; j++) {
            const e = list[j]!;
            const tol = e.domain !== prevDom ? slack : 0;
            if (e.t > nextT + slack) break;
            if (!ok(e) || e.t < prevT - tol || e.t > hi(e)) continue;
            compatible.push(e);
            if (e.t >= prevT + tol) break;
          }
          candidates = compatible.length;
          if (candidates === 1) hit = compatible[0];
          else if (candidates > 1) {
            // The clock cannot tell which came first after prev. Same clock as the next point: the
            // last one before it (the interrupt whose handler went on to the next point); else the
            // first at or after prev with the estimated offset.
            const sameAsNext = compatible.filter((e) => e.domain === nextDomain);
            hit = sameAsNext.length ? sameAsNext[sameAsNext.length - 1] : (compatible.find((e) => e.t >= prevT) ?? compatible[compatible.length - 1]);
          }
          // The true first one may be among events lost before the one found.
          if (hit && this.inGap(hit.domain, prevT, hit.t)) hit = undefined;
        }
      }
      if (!hit) {
        this.count('point_lost_or_absent', d, NaN);
        continue;
      }
      if (candidates > 1) {
        r.flags[d] = POINT_AMBIGUOUS;
        this.count('idless_ambiguous', d, hit.id);
      }
      if (!hit) continue;
      hit.used = true;
      r.t[d] = hit.t;
      r.ev[d] = hit.id;
      r.domain[d] = hit.domain;
      if (bound === -1) r.roleDom[dp.role] = hit.domain;
      if (hit.t > r.roleLastT[dp.role]!) r.roleLastT[dp.role] = hit.t;
      prevT = hit.t;
      prevDom = hit.domain;
    }
    r.deferred.length = 0;
  }

  /** Registers r where it now waits, or finishes it. */
  private settle(r: Req): void {
    let c = r.cursor;
    let key: string | null = null;
    for (;;) {
      if (c < this.points.length && this.points[c]!.mode !== 'nearest') {
        r.deferred.push(c);
        c = r.cursor = c + 1;
        continue;
      }
      if (c >= this.points.length) {
        this.finish(r, false);
        return;
      }
      const p = this.points[c]!;
      key = reqTuple(r, p.joinReq);
      if (key !== null) break;
      // An orphan lacks the fields of the points it never had (no syscall: no $pid to wait for its
      // return): that point cannot come; it is missing, the request moves on.
      r.deferred.length = 0;
      c = r.cursor = c + 1;
    }
    const waiting = this.wait[c]!;
    const slot = waiting.get(key);
    if (slot === undefined) waiting.set(key, r);
    else {
      if (this.opts.slack <= 0) this.supersede(c, slot, r);
      push(waiting, key, r);
    }
    r.waitKey = key;
    // Later `ends` points: register once their keys are known.
    for (let j = c + 1; j < this.points.length; j++) {
      const idx = this.endsIdx[j];
      if (!idx) continue;
      r.endsKeys ??= new Array(this.points.length).fill(null);
      if (r.endsKeys[j] !== null) continue;
      const k = reqTuple(r, this.points[j]!.joinReq);
      if (k !== null) {
        push(idx, k, r);
        r.endsKeys[j] = k;
      }
    }
    if (this.opts.slack > 0 && this.recent[c]!.length) this.fromRecent(r, c, key);
  }

  /**
   * With one clock (events strictly in time order), an older request waiting at point c with the
   * same keys and clock as r can never be chosen again: `nearest` always prefers r. It is finished
   * now (its missing points stay missing) instead of holding memory until the end of the trace:
   * a bio merged into another request waits for an rq_insert of its own sector that never comes.
   */
  private supersede(c: number, slot: Slot, r: Req): void {
    const p = this.points[c]!;
    if (p.within !== Infinity) return;
    for (const old of Array.isArray(slot) ? [...slot] : [slot]) {
      if (old === r || old.lastT > r.lastT || old.roleDom[p.role] !== r.roleDom[p.role]) continue;
      this.count('superseded', c, old.ev[old.opener]!);
      this.finish(old, false);
    }
  }

  /** Did the domain lose events between adjusted times a and b? */
  private inGap(domain: number, a: number, b: number): boolean {
    const g = this.opts.gaps?.[domain];
    if (!g) return false;
    for (const [s, e] of g) if (s < b && e > a) return true;
    return false;
  }

  private unregisterWait(r: Req): void {
    if (r.waitKey !== null && r.cursor < this.points.length) remove(this.wait[r.cursor]!, r.waitKey, r);
    r.waitKey = null;
  }

  private clearLastAt(r: Req): void {
    if (r.lastAtKey !== null) {
      const m = this.lastAt[r.lastAtPoint]!;
      if (m.get(r.lastAtKey) === r) m.delete(r.lastAtKey);
      r.lastAtKey = null;
      r.lastAtPoint = -1;
    }
  }

  private finish(r: Req, atEnd: boolean): void {
    if (!this.open.delete(r)) return;
    this.unregisterWait(r);
    r.deferred.length = 0;
    this.clearLastAt(r);
    if (r.endsKeys) r.endsKeys.forEach((k, j) => k !== null && remove(this.endsIdx[j]!, k, r));
    if (this.required) {
      let reached = false;
      for (const i of this.required) if (!Number.isNaN(r.t[i]!)) reached = true;
      if (!reached) {
        this.count('not_a_request', r.opener, r.ev[r.opener]!);
        this.recycle(r);
        return;
      }
    }
    if (r.endedEarly >= 0) this.count('ended_early', r.endedEarly, r.ev[r.endedEarly]!);
    if (atEnd) this.count('open_at_end', r.cursor < this.points.length ? r.cursor : null, r.ev[r.opener]!);
    let complete = true;
    for (let i = 0; i < r.t.length; i++) if (Number.isNaN(r.t[i]!)) complete = false;
    this.sink.request({ status: r.opener > 0 ? 'orphan' : complete ? 'complete' : 'incomplete', opener: r.opener, t: r.t, ev: r.ev, domain: r.domain, flags: r.flags });
    this.recycle(r);
  }

  private recycle(r: Req): void {
    if (this.pool.length < 1024) this.pool.push(r);
  }

  /** The input is over: every request still open ends incomplete. */
  end(): void {
    this.recent.forEach((buf, i) => buf.splice(0).forEach((e) => this.expire(this.points[i]!, e)));
    this.history.forEach((h, i) => h.forEach((list) => list.forEach((e) => e.used || this.count('unmatched_event', i, e.id))));
    this.lastSeen.forEach((m, i) => m.forEach((e) => e.used || this.count('unmatched_event', i, e.id)));
    const rest = [...this.open].sort((a, b) => a.seq - b.seq);
    for (const r of rest) this.finish(r, true);
  }
}

/** The value an event of point p gives to request field f (through its keys or its join), if any. */
export function requestFieldValue(p: CPoint, f: string, vals: (string | undefined)[]): string | undefined {
  const k = p.def.keys.indexOf(f);
  if (k >= 0) return vals[p.keyPos[k]!];
  const j = p.joinReq.indexOf(f);
  return j >= 0 && p.mode !== 'last-before-next' ? vals[p.joinPos[j]!] : undefined;
}

function tuple(vals: (string | undefined)[], pos: number[]): string | null {
  if (pos.length === 1) return vals[pos[0]!] ?? null;
  let s = '';
  for (let i = 0; i < pos.length; i++) {
    const v = vals[pos[i]!];
    if (v === undefined) return null;
    s += i ? SEP + v : v;
  }
  return s;
}

function reqTuple(r: Req, fields: string[]): string | null {
  if (fields.length === 1) return r.fields.get(fields[0]!) ?? null;
  let s = '';
  for (let i = 0; i < fields.length; i++) {
    const v = r.fields.get(fields[i]!);
    if (v === undefined) return null;
    s += i ? SEP + v : v;
  }
  return s;
}

/** For a last-before-next point d followed by p: d's `on` maps d's fields to p's event fields; the lookup key is p's values of those. */
function relPositions(d: CPoint, p: CPoint): number[] {
  return d.joinReq.map((f) => p.need.indexOf(f));
}

/** First index with t ≥ x in a list sorted by t. */
function lowerBound(list: Seen[], x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.t < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Wait lists hold one request most of the time: a bare Req then, an array beyond. */
type Slot = Req | Req[];

function pick(slot: Slot | undefined, ok: (r: Req) => boolean): Req | undefined {
  if (!slot) return undefined;
  if (!Array.isArray(slot)) return ok(slot) ? slot : undefined;
  const list = slot;
  let best: Req | undefined;
  for (const r of list) if (ok(r) && (!best || r.lastT > best.lastT || (r.lastT === best.lastT && r.seq > best.seq))) best = r;
  return best;
}

function push(m: Map<string, Slot>, k: string, r: Req): void {
  const l = m.get(k);
  if (l === undefined) m.set(k, r);
  else if (Array.isArray(l)) l.push(r);
  else m.set(k, [l, r]);
}

function remove(m: Map<string, Slot>, k: string, r: Req): void {
  const l = m.get(k);
  if (l === undefined) return;
  if (!Array.isArray(l)) {
    if (l === r) m.delete(k);
    return;
  }
  const i = l.indexOf(r);
  if (i < 0) return;
  l.splice(i, 1);
  if (l.length === 1) m.set(k, l[0]!);
}


