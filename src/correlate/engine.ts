/**
 * The matcher: follows requests through the points of a profile, one event at a time, in
 * (clock-adjusted) time order. Memory holds only the requests still open and a few "last event"
 * slots, so it does not grow with the trace; finished requests go to a RequestSink.
 *
 * Rules (README "Profiles"):
 *  - nearest: an event joins the open request waiting for its point with equal keys whose previous
 *    point is the latest at or before it; never a finished request (ids are reused);
 *  - first-after (id-less): the first such event with equal keys at or after the previous point,
 *    shared by every waiting request. When a key is only learned from a later point (blkback's
 *    be_irq carries domid, the guest side does not), the first event per value is kept and the
 *    choice is made once the request knows its value;
 *  - last-before-next: resolved when the next point arrives: the last such event (keys related to
 *    the next event) at or after the previous point;
 *  - a repeated event for the point a request just passed (a requeued request issued twice)
 *    replaces it; `opens` points open a request when none waits (orphans: no first point);
 *    `ends` points end a request still waiting for an earlier point (its skipped points missing).
 * Nothing is dropped silently: every classified event that joins nothing is counted.
 */
import type { Profile, ProfilePoint } from './profile.js';
import { joinPairs } from './profile.js';

export type RequestStatus = 'complete' | 'incomplete' | 'orphan';

/** One finished request. `t[i]`: adjusted time of effective point i (NaN when missing). */
export interface FinishedRequest {
  status: RequestStatus;
  /** Index of the point that opened it (0 unless an orphan). */
  opener: number;
  t: Float64Array;
  ev: Float64Array;
  domain: Int32Array;
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
  code: string;
  point: string | null;
  severity: 'info' | 'data_loss';
  count: number;
  firstEvent: number;
}

export const ENGINE_COUNTERS = {
  unmatched_event: { severity: 'info', description: 'An event of this point joined no request (other guests or devices, a request whose earlier points were lost, or the start of the trace).' },
  repeated_point: { severity: 'info', description: 'A second event for the point a request had just passed (a requeued request issued again); the later one is used.' },
  not_a_request: { severity: 'info', description: 'A chain that reached none of the profile\'s required points (e.g. a syscall served from the page cache): not a request.' },
  ended_early: { severity: 'data_loss', description: 'A request ended by a later point while it still waited for an earlier one (points lost or not traced).' },
  open_at_end: { severity: 'data_loss', description: 'A request still open when the trace ended (cut off by the end of the capture).' },
} as const;
export type EngineCounterCode = keyof typeof ENGINE_COUNTERS;

/** Built-in fields any point may use. */
const BUILTINS = new Set(['$pid', '$tgid', '$cpu', '$comm']);

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
  /** first-after: join fields the request knows on arrival (index) vs learns later (pending). */
  idxPos: number[];
  idxReq: string[];
  pendPos: number[];
  pendReq: string[];
  /** ends: request fields needed to register a request for ending. */
}

export interface EvCtx {
  cpu: number | null;
  pid: number | null;
  tgid: number | null;
  comm: string | null;
}

interface Pending {
  point: number;
  /** pending-tuple → first candidate [t, eventId, domain] */
  cands: Map<string, [number, number, number]>;
}

class Req {
  seq = 0;
  opener = 0;
  cursor = 0;
  lastT = -Infinity;
  /** The `ends` point that ended it while it waited for an earlier one, else -1. */
  endedEarly = -1;
  /** Domain of the last point, for the cross-domain tolerance. */
  lastDomain = -1;
  deferred = -1;
  deferredPrevT = 0;
  /** Registration keys, for removal: wait index at `cursor`, collecting first-after points, ends points. */
  waitKey: string | null = null;
  pend: Pending[] | null = null;
  endsKeys: (string | null)[] | null = null;
  lastAtKey: string | null = null;
  lastAtPoint = -1;
  readonly fields = new Map<string, string>();
  readonly t: Float64Array;
  readonly ev: Float64Array;
  readonly domain: Int32Array;
  readonly roleDom: Int32Array;
  constructor(n: number, roles: number) {
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
    this.deferred = -1;
    this.deferredPrevT = 0;
    this.waitKey = null;
    this.pend = null;
    this.endsKeys = null;
    this.lastAtKey = null;
    this.lastAtPoint = -1;
    this.fields.clear();
    this.t.fill(NaN);
    this.ev.fill(NaN);
    this.domain.fill(-1);
    this.roleDom.fill(-1);
    return this;
  }
}

const SEP = '\u0001';

function kvExtractor(field: string): (args: string) => string | undefined {
  const re = new RegExp(`(?:^|[\\s,])${field.replace(/[^A-Za-z0-9_]/g, '')}=([^\\s,]+)`);
  return (args) => re.exec(args)?.[1];
}

function builtinExtractor(field: string): (args: string, m: RegExpExecArray | null, b: EvCtx) => string | undefined {
  const k = field.slice(1) as keyof EvCtx;
  return (_a, _m, b) => {
    const v = b[k];
    return v === null ? undefined : String(v);
  };
}

export interface EngineOptions {
  /** Cross-domain ordering tolerance (ns): a point in another domain than the previous one may appear up to this much earlier. */
  slack: number;
}

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
  /** Per last-before-next point: next-event key tuple → last event [t, id, domain]. */
  private readonly lastSeen: Map<string, [number, number, number]>[];
  private readonly open = new Set<Req>();
  private readonly pool: Req[] = [];
  /** Per point: recent events nobody took yet (only with a cross-domain slack). */
  private readonly recent: { t: number; id: number; domain: number; vals: (string | undefined)[]; used: boolean }[][];
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
    const provided = new Set<string>();
    // A last-before-next point relates its fields to the next point's event: that point extracts them too.
    const extraNeed = path.map((_, i) => (i > 0 && path[i - 1]!.join?.mode === 'last-before-next' ? joinPairs(path[i - 1]!).map(([, r]) => r) : []));
    this.points = path.map((def, idx) => {
      const re = def.match ? new RegExp(def.match) : null;
      const groups = new Set(def.match ? [...def.match.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!) : []);
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
        if (BUILTINS.has(f)) return builtinExtractor(f);
        if (groups.has(f)) return (_a: string, m: RegExpExecArray | null) => m?.groups?.[f];
        const kv = kvExtractor(f);
        return (a: string) => kv(a);
      });
      const mode = def.join?.mode ?? 'nearest';
      const idxPos: number[] = [];
      const idxReq: string[] = [];
      const pendPos: number[] = [];
      const pendReq: string[] = [];
      pairs.forEach(([, r], i) => {
        if (mode === 'first-after' && !provided.has(r)) {
          pendPos.push(joinPos[i]!);
          pendReq.push(r);
        } else {
          idxPos.push(joinPos[i]!);
          idxReq.push(r);
        }
      });
      if (mode !== 'last-before-next') for (const k of def.keys) provided.add(k);
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
        within: def.join?.within_ns ?? Infinity,
        role: roles.indexOf(def.role),
        idxPos,
        idxReq,
        pendPos,
        pendReq,
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
    this.recent = this.points.map(() => []);
    const req = profile.requires_any?.map((n) => path.findIndex((p) => p.name === n)).filter((i) => i >= 0);
    this.required = req ? new Set(req) : null;
  }

  /** Event names the matcher looks at, or null when some point or the markers take any event. */
  eventNames(): Set<string> | null {
    if (this.wildcard.length || !this.markerNames) return null;
    return new Set([...this.byName.keys(), ...this.markerNames]);
  }

  private count(code: EngineCounterCode, point: number | null, eventId: number, n = 1): void {
    const key = code + SEP + (point ?? '');
    const c = this.counters.get(key);
    if (c) c.count += n;
    else this.counters.set(key, { code, point: point === null ? null : this.points[point]!.def.name, severity: ENGINE_COUNTERS[code].severity, count: n, firstEvent: eventId });
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
    switch (p.mode) {
      case 'last-before-next':
      {
        const k = tuple(vals, p.joinPos);
        if (k !== null) this.lastSeen[p.idx]!.set(k, [t, eventId, domain]);
        return;
      }
      case 'first-after':
        this.firstAfter(p, eventId, domain, t, vals);
        return;
      default:
        this.nearest(p, eventId, domain, t, vals);
    }
  }

  private fits(r: Req, p: CPoint, domain: number, t: number): boolean {
    const rd = r.roleDom[p.role]!;
    if (rd !== -1 && rd !== domain) return false;
    const prevDom = r.lastDomain;
    const tol = prevDom !== -1 && prevDom !== domain ? this.opts.slack : 0;
    return r.lastT <= t + tol && t - r.lastT <= p.within;
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
      const endsIdx = this.endsIdx[p.idx];
      if (endsIdx) {
        const e = pick(endsIdx.get(key), (r) => this.fits(r, p, domain, t));
        if (e) {
          e.endedEarly = p.idx;
          this.advance(e, p, eventId, domain, t, vals);
          return;
        }
      }
      const last = p.def.repeat === 'replace' ? this.lastAt[p.idx]!.get(key) : undefined;
      if (last && last.lastAtPoint === p.idx && this.open.has(last) && (last.roleDom[p.role] === -1 || last.roleDom[p.role] === domain)) {
        last.t[p.idx] = t;
        last.ev[p.idx] = eventId;
        if (last.cursor === p.idx + 1 || last.deferred === p.idx + 1) last.lastT = t;
        if (last.deferred === p.idx + 1) last.deferredPrevT = t;
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

  private firstAfter(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const key = tuple(vals, p.idxPos);
    let used = false;
    for (const r of members(key === null ? undefined : this.wait[p.idx]!.get(key))) {
      if (this.fits(r, p, domain, t) && this.joinFirstAfter(r, p, eventId, domain, t, vals)) used = true;
    }
    if (!used) this.unmatched(p, eventId, domain, t, vals);
  }

  /** An id-less event offered to one waiting request; true when it took it. */
  private joinFirstAfter(r: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): boolean {
    if (p.pendPos.length === 0) {
      this.advance(r, p, eventId, domain, t, vals);
      return true;
    }
    const pk = tuple(vals, p.pendPos);
    if (pk === null) return false;
    let used = false;
    let pend = r.pend?.find((x) => x.point === p.idx);
    if (!pend) {
      pend = { point: p.idx, cands: new Map() };
      (r.pend ??= []).push(pend);
    }
    if (!pend.cands.has(pk)) {
      pend.cands.set(pk, [t, eventId, domain]);
      used = true;
    }
    if (r.cursor === p.idx) {
      // Move on to the next point, but stay registered here to collect first events of other values.
      r.cursor = p.idx + 1;
      r.waitKey = null;
      this.settle(r);
    }
    return used;
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
    while (buf.length && buf[0]!.t < t - this.opts.slack) {
      const old = buf.shift()!;
      if (!old.used) this.count('unmatched_event', p.idx, old.id);
    }
    buf.push({ t, id: eventId, domain, vals, used: false });
  }

  /** A request now waiting at point c: does a recent unmatched event (another domain, within the slack) belong to it? */
  private fromRecent(r: Req, c: number, key: string): void {
    const p = this.points[c]!;
    const buf = this.recent[c]!;
    for (const e of buf) {
      if (e.used || tuple(e.vals, p.mode === 'first-after' ? p.idxPos : p.joinPos) !== key || !this.fits(r, p, e.domain, e.t)) continue;
      if (p.mode === 'first-after') {
        if (this.joinFirstAfter(r, p, e.id, e.domain, e.t, e.vals)) e.used = true;
        if (p.pendPos.length === 0) return;
      } else {
        e.used = true;
        this.advance(r, p, e.id, e.domain, e.t, e.vals);
        return;
      }
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
    if (r.deferred >= 0) {
      const d = this.points[r.deferred]!;
      if (d.idx === p.idx - 1) {
        const hit = this.lastSeen[d.idx]!.get(tuple(vals, relPositions(d, p)) ?? '');
        if (hit && hit[0] >= r.deferredPrevT && hit[0] <= t && (r.roleDom[d.role] === -1 || r.roleDom[d.role] === hit[2])) {
          r.t[d.idx] = hit[0];
          r.ev[d.idx] = hit[1];
          r.domain[d.idx] = hit[2];
        }
      }
      r.deferred = -1;
    }
    r.t[p.idx] = t;
    r.ev[p.idx] = eventId;
    r.domain[p.idx] = domain;
    if (r.roleDom[p.role] === -1) r.roleDom[p.role] = domain;
    // The time of the last point (not the largest time: a point of another domain may look earlier within the slack).
    r.lastT = t;
    r.lastDomain = domain;
    for (let i = 0; i < p.keyPos.length; i++) {
      const k = p.def.keys[i]!;
      const v = vals[p.keyPos[i]!];
      if (v !== undefined && !r.fields.has(k)) r.fields.set(k, v);
    }
    if (r.pend) this.resolvePending(r, false);
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

  /** Registers r where it now waits, or finishes it. */
  private settle(r: Req): void {
    let c = r.cursor;
    let key: string | null = null;
    for (;;) {
      if (c < this.points.length && this.points[c]!.mode === 'last-before-next') {
        r.deferred = c;
        r.deferredPrevT = r.lastT;
        c = r.cursor = c + 1;
      }
      if (c >= this.points.length) {
        this.finish(r, false);
        return;
      }
      const p = this.points[c]!;
      key = reqTuple(r, p.mode === 'first-after' ? p.idxReq : p.joinReq);
      if (key !== null) break;
      // An orphan lacks the fields of the points it never had (no syscall: no $pid to wait for its
      // return): that point cannot come; it is missing, the request moves on.
      r.deferred = -1;
      c = r.cursor = c + 1;
    }
    push(this.wait[c]!, key, r);
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

  /** Chooses, for each id-less point still pending, the first candidate with the request's values. */
  private resolvePending(r: Req, final: boolean): void {
    const rest: Pending[] = [];
    for (const pend of r.pend!) {
      const p = this.points[pend.point]!;
      const k = reqTuple(r, p.pendReq);
      if (k === null) {
        if (!final) rest.push(pend);
        else this.unregisterCollect(r, p);
        continue;
      }
      const c = pend.cands.get(k);
      const prevT = prevTime(r, pend.point);
      const nextT = nextTime(r, pend.point);
      if (c && c[0] >= prevT - this.opts.slack && c[0] <= nextT + this.opts.slack && (r.roleDom[p.role] === -1 || r.roleDom[p.role] === c[2])) {
        r.t[pend.point] = c[0];
        r.ev[pend.point] = c[1];
        r.domain[pend.point] = c[2];
        if (r.roleDom[p.role] === -1) r.roleDom[p.role] = c[2];
      }
      this.unregisterCollect(r, p);
    }
    r.pend = rest.length ? rest : null;
  }

  private unregisterCollect(r: Req, p: CPoint): void {
    const k = reqTuple(r, p.idxReq);
    if (k !== null) remove(this.wait[p.idx]!, k, r);
  }

  private finish(r: Req, atEnd: boolean): void {
    if (!this.open.delete(r)) return;
    this.unregisterWait(r);
    if (r.pend) this.resolvePending(r, true);
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
    this.sink.request({ status: r.opener > 0 ? 'orphan' : complete ? 'complete' : 'incomplete', opener: r.opener, t: r.t, ev: r.ev, domain: r.domain });
    this.recycle(r);
  }

  private recycle(r: Req): void {
    if (this.pool.length < 1024) this.pool.push(r);
  }

  /** The input is over: every request still open ends incomplete. */
  end(): void {
    this.recent.forEach((buf, i) => buf.forEach((e) => e.used || this.count('unmatched_event', i, e.id)));
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

function prevTime(r: Req, i: number): number {
  for (let j = i - 1; j >= 0; j--) if (!Number.isNaN(r.t[j]!)) return r.t[j]!;
  return -Infinity;
}
function nextTime(r: Req, i: number): number {
  for (let j = i + 1; j < r.t.length; j++) if (!Number.isNaN(r.t[j]!)) return r.t[j]!;
  return Infinity;
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

function members(slot: Slot | undefined): Req[] {
  return slot === undefined ? [] : Array.isArray(slot) ? [...slot] : [slot];
}
