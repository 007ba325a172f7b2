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
 *    (orphans: no first point); `ends` points end a request still waiting for an earlier point;
 *  - a trailing first-after point (reaped) is waited for like an id-carrying one, and `takes` says
 *    how many waiting requests one event serves (io_getevents' return value), earliest first;
 *  - block layer (profile.block_layer, README "Block I/O as the block layer does it"): a request
 *    follows its first bio itself; further bios (`more_bios`) and split pieces are chains that
 *    fold into it (first bio, insert, issue; the last completion with its interrupt); a merged
 *    bio follows the block request it joined (extents tracked from the bios' sectors); a requeued
 *    request waits for its issue again; block I/O still running when its syscall returned goes on
 *    as a detached chain (async readahead), counted when it completes; the interrupt is one of the
 *    device's (learnt as the trace goes).
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
  /** The request's fields: its points' keys. */
  fields: ReadonlyMap<string, string>;
  /** `$comm`, `$pid`, `$tgid` of the event that opened it (null when the trace lacks them). */
  comm: string | number | null;
  pid: string | number | null;
  tgid: string | number | null;
  /** Block I/O it had: bios queued (splits included) and block requests they became (README "Block I/O as the block layer does it"). */
  bios: number;
  blockRequests: number;
  /** Sectors (512 B) of its bios, 0 when the profile has no `nsec` key. */
  sectors: number;
}

/** Receives each finished request; the request object and its arrays are reused afterwards: copy what you keep. */
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
  /** Position in `need` of the join's `takes` field, −1 without. */
  takesPos: number;
}

/** An event's built-in field values, by position in BUILTIN_FIELDS (src/profiles/fields.ts). */
export type EvCtx = BuiltinFieldValues;

/** A recorded event: adjusted time, id, domain, and whether a request took it. */
interface Seen {
  t: number;
  id: number;
  domain: number;
  used: boolean;
  /** The interrupt number of an interrupt event (block_layer.irq_by_device). */
  irq: string | undefined;
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
  skipKeys: (string | null)[] | null = null;
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
  // --- block layer (profile.block_layer) ---
  /** A chain of one bio (branch): the request it belongs to; null for requests themselves. */
  parent: Req | null = null;
  /** Of a request: its chains still on their way to the completion point. */
  readonly branches: Req[] = [];
  /** A chain whose request returned before it completed (async readahead): counted, not reported. */
  detached = false;
  /** A request whose path ends at the completion point: it finishes when its last chain folds in. */
  holding = false;
  /** Chains whose bio merged into this chain's block request (they complete with it). */
  followers: Req[] | null = null;
  /** Of a request: bios queued (splits included), block requests they became, their sectors. */
  bios = 0;
  blockRequests = 0;
  sectors = 0;
  /** Extent keys (dev, start / dev, end) while merges may extend this chain's block request. */
  extStart: string | null = null;
  extEnd: string | null = null;
  /** Key under which it is the source of more bios (block_layer.more_bios). */
  fanKey: string | null = null;
  /** `$comm`, `$pid`, `$tgid` of the event that opened it (raw values: converted only when a store keeps them). */
  openerComm: string | number | null = null;
  openerPid: string | number | null = null;
  openerTgid: string | number | null = null;
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
    this.skipKeys = null;
    this.lastAtKey = null;
    this.lastAtPoint = -1;
    this.fields.clear();
    this.t.fill(NaN);
    this.ev.fill(NaN);
    this.domain.fill(-1);
    this.roleDom.fill(-1);
    this.roleLastT.fill(-Infinity);
    this.flags.fill(0);
    this.parent = null;
    if (this.branches.length) this.branches.length = 0;
    this.detached = false;
    this.holding = false;
    this.followers = null;
    this.bios = 0;
    this.blockRequests = 0;
    this.sectors = 0;
    this.extStart = null;
    this.extEnd = null;
    this.fanKey = null;
    this.openerComm = this.openerPid = this.openerTgid = null;
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
  /** Event names present in the data (when known): block-layer work for events that never occur is skipped. */
  present?: ReadonlySet<string>;
  /** `$comm` values may come as string ids (read only for openers): their text. */
  commName?: (id: number) => string | null;
  /**
   * Profile `skips`: per effective point, the longest plausible wait from the request's previous
   * id-carrying point (ns; Infinity: unbounded). Learnt from the complete requests of a previous
   * pass (correlate.ts): a request never takes an event later than that, and one still waiting
   * past it has skipped the point.
   */
  waitBound?: Float64Array;
  /** Profile `identity`: per domain, the identity fields every request it opens has (learnt from a previous pass: one guest domain is one domid). */
  domainIdentity?: (ReadonlyMap<string, string> | undefined)[];
}

/** irq_by_device: completions of a device before its interrupt numbers are trusted, and the share that keeps a number. */
const IRQ_LEARN_MIN = 16;
const IRQ_SHARE_MIN = 0.1;
const IRQ_SAMPLE_FROM = 4096;
const IRQ_SAMPLE_EVERY = 8;

/** Block tracepoint args: `254,0 RS 59678720 + 8 [fio]`, `254,0 RS 4096 () 59678720 + 8 be,0,4 [fio]`, `254,0 RA () 71669784 + 1440 be,0,4 [0]`. */
const BLOCK_RE = /^(\d+,\d+) (\S+) (?:\d+ )?(?:\(.*?\) )?(\d+) \+ (\d+)/;
/** block_split args: `254,0 RS 71688192 / 71688224 [fio]`. */
const SPLIT_RE = /^(\d+,\d+) (\S+) (\d+) \/ (\d+)/;

type BlockEventKind = 'split' | 'back' | 'front' | 'rqmerge' | 'requeue' | 'until';

/** The events the block layer reads besides the path's (merges, splits, requeues, more_bios_until), by name. */
export function blockLayerEvents(b: NonNullable<Profile['block_layer']>): Map<string, BlockEventKind> {
  const until = b.more_bios_until === undefined ? [] : Array.isArray(b.more_bios_until) ? b.more_bios_until : [b.more_bios_until];
  return new Map<string, BlockEventKind>([
    [b.split_event, 'split'],
    [b.backmerge_event, 'back'],
    [b.frontmerge_event, 'front'],
    ['block_rq_requeue', 'requeue'],
    ['block_rq_merge', 'rqmerge'],
    ...until.map((n) => [n, 'until'] as [string, BlockEventKind]),
  ]);
}

/** The block-layer plan of a profile (profile.block_layer), by effective path position. */
interface BlockPlan {
  bio: number;
  done: number;
  /** First point taken from the chain that completes last (the completion and the id-less points just before it). */
  lastFrom: number;
  /** The point after the bio point (where a bio waits to become a request), and whether it is the insertion (a merge stands for it). */
  next: number;
  nextIsInsert: boolean;
  /** The last id-carrying point before the completion (the issue): where a requeued request waits again; −1 none. */
  reissue: number;
  irq: number;
  more: 'branch' | 'request' | 'separate';
  /** The bio point's join fields (built-in): the key of `until` events. */
  untilFields: number[];
  events: Map<string, BlockEventKind>;
  /** Merge events occur in the data: extents are tracked. */
  merges: boolean;
  /** Request fields set before the bio point (a new request of `more: request` copies them). */
  preBioFields: string[];
}

/** Per-point flags of a finished request. */
export const POINT_AMBIGUOUS = 1;
/** A point absent by design (a suppressed notification: the request rode on another's, spec decision 10); the request is complete without it. */
export const POINT_BATCHED = 2;

/** An id-less point's choice for a request, before the notification rules (resolveDeferred). */
interface Found {
  d: number;
  hit: Seen | undefined;
  candidates: number;
  lost: boolean;
  batched: boolean;
  /** Found only within the clock uncertainty after the next point. */
  viaSlack: boolean;
  /** Another request's notification that r rode on: kept, but its link does not bound clocks. */
  shared?: boolean;
  /** Start of its window (the previous point's time). */
  from: number;
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
  /** Profile `skips`: per id-carrying point, key tuple → requests waiting for an earlier point that this point's event would show skipped it. */
  private readonly skipIdx: (Map<string, Slot> | null)[];
  /** Per point: positions in `need` of its keys that are identity fields, with the field names. */
  private readonly identPos: [number, string][][];
  private pushes = 0;
  /** Events waiting in `recent` at skip-indexed points (expired as time goes, expireRecent). */
  private recentSkips = 0;
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
  /** Profile `notifications` by effective path position (sent −1: not in the path). */
  private readonly notices: { sent: number; received: number; flag: string | null }[];
  /** Scratch of resolveDeferred. */
  private readonly found: Found[] = [];
  private readonly counters = new Map<string, EngineCounter>();
  private readonly required: Set<number> | null;
  private seq = 0;
  readonly markers: Marker[] = [];
  private readonly nRoles: number;
  private readonly bl: BlockPlan | null;
  /** Block layer: join key → the request further bios of that key belong to (more_bios). */
  private readonly fanSrc = new Map<string, Req>();
  /** Block layer: dev + start / dev + end sector → the chain whose block request has that extent (merges). */
  private readonly extStartIdx = new Map<string, Req>();
  private readonly extEndIdx = new Map<string, Req>();
  /** Block layer: per cpu key, per irq number, the last interrupt (irq_by_device). */
  private readonly lastIrqBy = new Map<string, Map<string, Seen>>();
  /** Per device: how often each interrupt number was the last one before its completions. */
  private readonly irqCounts = new Map<string, { counts: Map<string, number>; total: number; seen: number; top: number; allowed: Set<string> | undefined }>();
  private irqPos = -1;
  /** Built-in field values of the event being offered (for the opener's $comm, $pid, $tgid). */
  private curCtx: EvCtx = [];
  private readonly out: FinishedRequest = {
    status: 'complete',
    opener: 0,
    t: new Float64Array(0),
    ev: new Float64Array(0),
    domain: new Int32Array(0),
    flags: new Uint8Array(0),
    fields: new Map(),
    comm: null,
    pid: null,
    tgid: null,
    bios: 0,
    blockRequests: 0,
    sectors: 0,
  };

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
      const takesPos = def.join?.takes === undefined ? -1 : pos(def.join.takes);
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
        takesPos,
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
    this.skipIdx = this.points.map((p) => (profile.skips && p.idx > 0 && p.mode === 'nearest' ? new Map() : null));
    const identity = new Set(profile.identity);
    this.identPos = this.points.map((p) => p.def.keys.flatMap((k, i) => (identity.has(k) ? [[p.keyPos[i]!, k] as [number, string]] : [])));
    this.lastAt = this.points.map(() => new Map());
    this.lastSeen = this.points.map(() => new Map());
    this.history = this.points.map(() => new Map());
    this.recent = this.points.map(() => []);
    const req = profile.requires_any?.map((n) => path.findIndex((p) => p.name === n)).filter((i) => i >= 0);
    this.required = req ? new Set(req) : null;
    this.bl = this.blockPlan();
    const at = (name: string): number => this.points.findIndex((p) => p.def.name === name);
    this.notices = profile.notifications
      .map((n) => ({ sent: at(n.sent), received: at(n.received), flag: n.flag ?? null }))
      .filter((n) => n.received >= 0);
  }

  private blockPlan(): BlockPlan | null {
    const b = this.profile.block_layer;
    if (!b) return null;
    const bio = this.points.findIndex((p) => p.def.name === b.bio);
    const done = this.points.findIndex((p) => p.def.name === b.complete);
    if (bio < 0 || done <= bio + 1) return null;
    let lastFrom = done;
    while (lastFrom - 1 > bio && this.points[lastFrom - 1]!.mode !== 'nearest') lastFrom--;
    let reissue = -1;
    for (let q = bio + 1; q < done; q++) if (this.points[q]!.mode === 'nearest') reissue = q;
    const irq = b.irq_by_device && this.points[done - 1]!.mode === 'last-before-next' ? done - 1 : -1;
    if (irq >= 0) {
      const ip = this.points[irq]!;
      this.irqPos = ip.need.indexOf('irq');
      if (this.irqPos < 0) {
        const kv = kvExtractor('irq');
        this.irqPos = ip.need.push('irq') - 1;
        // `irq=36 name=virtio1-req.0`: read the number without a regular expression or a new string
        // when the args start so (the stock format); the few distinct numbers' strings are reused.
        const names: string[] = [];
        ip.extract.push((a: string) => {
          if (!a.startsWith('irq=')) return kv(a);
          let n = 0;
          let i = 4;
          for (let c = a.charCodeAt(i); c >= 48 && c <= 57; c = a.charCodeAt(++i)) n = n * 10 + (c - 48);
          if (i === 4 || n > 65535) return kv(a);
          return (names[n] ??= String(n));
        });
      }
    }
    const events = blockLayerEvents(b);
    const nextEvents = this.points[bio + 1]!.def.event;
    return {
      bio,
      done,
      lastFrom,
      next: bio + 1,
      nextIsInsert: (Array.isArray(nextEvents) ? nextEvents : [nextEvents]).includes('block_rq_insert'),
      reissue,
      irq,
      more: b.more_bios,
      untilFields: joinPairs(this.points[bio]!.def).map(([e]) => builtinFieldIndex(e)),
      events,
      merges: !this.opts.present || [b.backmerge_event, b.frontmerge_event, 'block_rq_merge'].some((n) => this.opts.present!.has(n)),
      preBioFields: [...new Set(this.points.slice(0, bio).flatMap((p) => p.def.keys))],
    };
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
    this.curCtx = ctx;
    if (this.opts.waitBound !== undefined && (++this.pushes & 1023) === 0) this.overdue();
    // Profile `skips`: an event nobody took may prove a skip once it has waited the clock uncertainty out.
    if (this.recentSkips > 0 && t > this.now) this.expireRecent(t);
    const named = this.byName.get(name);
    if (named) for (const p of named) this.offer(p, eventId, domain, t, args, ctx);
    else if (this.bl) {
      const kind = this.bl.events.get(name);
      if (kind !== undefined) {
        if (t > this.now) this.now = t;
        this.blockEvent(kind, eventId, domain, t, args, ctx);
        return;
      }
    }
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
          const irq = this.bl && p.idx === this.bl.irq ? vals[this.irqPos] : undefined;
          // One object shape for every Seen (irq set at creation), so property reads stay monomorphic.
          const seen: Seen = { t, id: eventId, domain, used: false, irq };
          this.lastSeen[p.idx]!.set(k, seen);
          if (this.bl && p.idx === this.bl.irq) {
            if (irq !== undefined) {
              let m = this.lastIrqBy.get(k);
              if (!m) this.lastIrqBy.set(k, (m = new Map()));
              m.set(irq, seen);
            }
          }
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
    const e: Seen = { t, id: eventId, domain, used: false, irq: undefined };
    // A trailing id-less point (the reaping syscall's return): every request waiting for it takes it.
    const waiting = this.wait[p.idx]!.get(k);
    if (waiting !== undefined) {
      // Not before its block I/O completed (a request's chains fold their completion in first).
      const ready = (Array.isArray(waiting) ? [...waiting] : [waiting]).filter((r) => r.branches.length === 0 && this.fits(r, p, domain, t));
      let n = ready.length;
      if (p.takesPos >= 0) {
        const v = vals[p.takesPos];
        n = v === undefined ? 0 : Math.max(0, Number(v.startsWith('0x') || v.startsWith('-0x') ? parseInt(v, 16) : v) || 0);
        ready.sort((a, b) => a.lastT - b.lastT || a.seq - b.seq);
      }
      for (const r of ready.slice(0, n)) {
        e.used = true;
        this.advance(r, p, eventId, domain, t, vals);
      }
    }
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

  private fits(r: Req, p: CPoint, domain: number, t: number, vals?: (string | undefined)[]): boolean {
    const rd = r.roleDom[p.role]!;
    if (rd !== -1 && rd !== domain) return false;
    const prevDom = r.lastDomain;
    const tol = prevDom !== -1 && prevDom !== domain ? this.opts.slack : 0;
    if (!(r.lastT <= t + tol && t >= r.roleLastT[p.role]! && t - r.lastT <= p.within)) return false;
    const wb = this.opts.waitBound;
    if (wb !== undefined && t - r.lastT > wb[p.idx]!) return false;
    // An event of a domain whose requests all have one identity (a guest's own tapdisk: its minor) is only theirs.
    const di = this.opts.domainIdentity?.[domain];
    if (di !== undefined) for (const [f, v] of di) {
      const rv = r.fields.get(f);
      if (rv !== undefined && rv !== v) return false;
    }
    if (vals !== undefined) for (const [pos, f] of this.identPos[p.idx]!) {
      const v = vals[pos];
      if (v !== undefined && r.fields.has(f) && r.fields.get(f) !== v) return false;
    }
    return true;
  }

  private nearest(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    if (p.idx === 0) {
      this.openReq(p, eventId, domain, t, vals);
      return;
    }
    const key = tuple(vals, p.joinPos);
    if (key !== null) {
      const best = pick(this.wait[p.idx]!.get(key), (r) => this.fits(r, p, domain, t, vals));
      if (best) {
        this.advance(best, p, eventId, domain, t, vals);
        return;
      }
      // A request's own later point while it waits for an earlier one, in the clock of both: it skipped them.
      if (this.skipIdx[p.idx] && this.skipTo(p, key, eventId, domain, t, vals, true)) return;
      // Another bio of a request that already passed the bio point (block_layer.more_bios).
      if (this.bl && p.idx === this.bl.bio && this.bl.more !== 'separate') {
        const src = this.fanSrc.get(key);
        if (src && this.open.has(src) && src.lastT <= t) {
          if (this.bl.more === 'branch') this.addBranch(src, p, eventId, domain, t, vals);
          else this.spawnRequest(src, p, eventId, domain, t, vals);
          return;
        }
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
    if (this.skipIdx[p.idx]) this.recentSkips++;
  }

  /** A recent event that waited the slack out: it may still end a request (an `ends` point), else it is unmatched. */
  private expire(p: CPoint, e: { t: number; id: number; domain: number; vals: (string | undefined)[]; used: boolean }): void {
    if (e.used) return;
    const key = tuple(e.vals, p.joinPos);
    if (key !== null && this.endEarly(p, key, e.id, e.domain, e.t, e.vals)) return;
    // Nobody reached this point within the clock uncertainty: a request still waiting before it skipped those points.
    if (key !== null && this.skipIdx[p.idx] && this.skipTo(p, key, e.id, e.domain, e.t, e.vals, false)) return;
    this.count('unmatched_event', p.idx, e.id);
  }

  /** An `ends` point event ends the nearest request still waiting for an earlier point (its skipped points missing). */
  private endEarly(p: CPoint, key: string, eventId: number, domain: number, t: number, vals: (string | undefined)[]): boolean {
    const endsIdx = this.endsIdx[p.idx];
    if (!endsIdx) return false;
    const e = pick(endsIdx.get(key), (r) => this.fits(r, p, domain, t, vals));
    if (!e) return false;
    if (this.bl && !Number.isNaN(e.t[this.bl.bio]!) && e.cursor <= this.bl.done) this.detachOwnChain(e);
    else e.endedEarly = p.idx;
    this.advance(e, p, eventId, domain, t, vals);
    return true;
  }

  /**
   * Profile `skips` (spec decision 8): the event of point p with keys only a request still waiting
   * for an earlier point can have is that request's: it skipped the points in between (incomplete)
   * and takes this event, so that no later request does. `immediate`: only when the point it waits
   * for and p are of one role, in the event's clock (the skipped point cannot come after p's event);
   * otherwise once the event has waited the clock uncertainty out (expire).
   */
  private skipTo(p: CPoint, key: string, eventId: number, domain: number, t: number, vals: (string | undefined)[], immediate: boolean): boolean {
    if (this.bl) return false;
    const r = pick(this.skipIdx[p.idx]!.get(key), (x) => {
      if (x.cursor >= p.idx || x.holding || !this.fits(x, p, domain, t, vals)) return false;
      if (!immediate) return true;
      const w = this.points[x.cursor]!;
      // The point it waits for is of p's clock: had it come, it would have come before p's event.
      return w.role === p.role && x.roleDom[p.role] === domain;
    });
    if (!r) return false;
    this.count('point_skipped', r.cursor, eventId);
    this.advance(r, p, eventId, domain, t, vals);
    return true;
  }

  /**
   * Requests that waited for their point longer than the data makes plausible (opts.waitBound,
   * plus the clock uncertainty): they skipped it; they end incomplete rather than take a later
   * request's event or stay open to the end of the trace.
   */
  /** Expires the recent unmatched events of skip-indexed points older than `t` − slack. */
  private expireRecent(t: number): void {
    let left = 0;
    this.recent.forEach((buf, i) => {
      if (!this.skipIdx[i]) return;
      while (buf.length && buf[0]!.t < t - this.opts.slack) this.expire(this.points[i]!, buf.shift()!);
      left += buf.length;
    });
    this.recentSkips = left;
  }

  private overdue(): void {
    const wb = this.opts.waitBound!;
    const n = this.points.length;

    for (const r of this.open) {
      const c = r.cursor;
      if (c >= n || r.holding || r.parent !== null || r.detached) continue;
      if (this.now - r.lastT > wb[c]! + this.opts.slack) {
        this.count('point_skipped', c, r.ev[r.opener]!);
        this.finish(r, false);
      }
    }
  }

  /** A request now waiting at point c: does a recent unmatched event (another domain, within the slack) belong to it? */
  private fromRecent(r: Req, c: number, key: string): void {
    const p = this.points[c]!;
    for (const e of this.recent[c]!) {
      if (e.used || tuple(e.vals, p.joinPos) !== key || !this.fits(r, p, e.domain, e.t, e.vals)) continue;
      e.used = true;
      this.advance(r, p, e.id, e.domain, e.t, e.vals);
      return;
    }
  }

  private openReq(p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const r = this.newReq(p.idx);
    r.openerComm = this.curCtx[COMM] ?? null;
    r.openerPid = this.curCtx[PID] ?? null;
    r.openerTgid = this.curCtx[TGID] ?? null;
    r.cursor = p.idx;
    // What the domain says of every request it opens (one guest domain, one domid), unless the event says it.
    const implied = this.opts.domainIdentity?.[domain];
    if (implied) for (const [f, v] of implied) if (!this.identPos[p.idx]!.some(([pos, k]) => k === f && vals[pos] !== undefined)) r.fields.set(f, v);
    this.advance(r, p, eventId, domain, t, vals);
  }

  private newReq(opener: number): Req {
    const r = (this.pool.pop() ?? new Req(this.points.length, this.nRoles)).reset(this.seq++, opener);
    this.open.add(r);
    return r;
  }

  // ---------------------------------------------------------------- block layer
  /**
   * A request reaches the bio point: its block I/O is followed as chains (one per bio, branches),
   * and the request itself moves on to the point after the completion (or holds, when the path
   * ends there) while its chains run; each chain folds its times in when it completes (fold).
   */
  private enterBlock(r: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const bl = this.bl!;
    // Only a request that passed the first point (the syscall) gathers more bios; an orphan bio is its own.
    if (bl.more !== 'separate' && r.opener === 0 && bl.bio > 0) {
      const k = tuple(vals, p.joinPos);
      if (k !== null) {
        this.fanSrc.set(k, r);
        r.fanKey = k;
      }
    }
    r.bios++;
    r.blockRequests = 1;
    r.sectors += Number(r.fields.get('nsec') ?? 0);
    this.trackExtent(r);
    // The request follows its first bio itself; further bios and pieces are chains that fold in.
    this.settle(r);
  }

  private trackExtent(r: Req): void {
    if (!this.bl!.merges) return;
    const dev = r.fields.get('dev');
    const start = Number(r.fields.get('sector'));
    const n = Number(r.fields.get('nsec'));
    if (dev !== undefined && Number.isFinite(start) && Number.isFinite(n)) this.setExtent(r, dev, start, start + n);
  }

  /**
   * The syscall returned while its own bio was still on its way (asynchronous readahead): that
   * block I/O goes on as a detached chain (counted when it completes), and the request ends without
   * its block points.
   */
  private detachOwnChain(r: Req): void {
    const bl = this.bl!;
    if (r.parent !== null || r.detached || Number.isNaN(r.t[bl.bio]!) || r.cursor > bl.done || r.cursor <= bl.bio) return;
    const b = this.newReq(r.opener);
    b.detached = true;
    for (const [k, v] of r.fields) b.fields.set(k, v);
    for (let q = 0; q < this.points.length; q++) copyPoint(b, r, q);
    b.roleDom.set(r.roleDom);
    b.roleLastT.set(r.roleLastT);
    b.lastT = r.lastT;
    b.lastDomain = r.lastDomain;
    b.cursor = r.cursor;
    b.deferred.push(...r.deferred);
    b.followers = r.followers;
    r.followers = null;
    r.deferred.length = 0;
    this.unregisterWait(r);
    this.removeExtent(r);
    for (let q = bl.bio + 1; q <= bl.done; q++) {
      r.t[q] = NaN;
      r.ev[q] = NaN;
      r.domain[q] = -1;
    }
    this.trackExtent(b);
    this.settle(b);
  }

  /** A new chain of request `owner` for the bio event at point p (`from` supplies fields and clock state). */
  private chain(owner: Req, from: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): Req {
    const b = this.newReq(owner.opener);
    b.parent = owner;
    owner.branches.push(b);
    for (const [k, v] of from.fields) b.fields.set(k, v);
    b.roleDom.set(from.roleDom);
    b.roleLastT.set(from.roleLastT);
    b.lastT = from.lastT;
    b.lastDomain = from.lastDomain;
    b.blockRequests = 1;
    b.cursor = p.idx;
    // Its own keys (dev, sector, nsec of this bio), not the first bio's.
    for (let i = 0; i < p.keyPos.length; i++) {
      const v = vals[p.keyPos[i]!];
      if (v !== undefined) b.fields.set(p.def.keys[i]!, v);
    }
    this.advance(b, p, eventId, domain, t, vals);
    return b;
  }

  private addBranch(owner: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const b = this.chain(owner, owner, p, eventId, domain, t, vals);
    owner.bios++;
    owner.sectors += Number(b.fields.get('nsec') ?? 0);
  }

  /** `more_bios: request`: a request of its own sharing `src`'s points before the bio point (another iocb of one io_submit). */
  private spawnRequest(src: Req, p: CPoint, eventId: number, domain: number, t: number, vals: (string | undefined)[]): void {
    const bl = this.bl!;
    const r = this.newReq(src.opener);
    r.openerComm = src.openerComm;
    r.openerPid = src.openerPid;
    r.openerTgid = src.openerTgid;
    for (const f of bl.preBioFields) {
      const v = src.fields.get(f);
      if (v !== undefined) r.fields.set(f, v);
    }
    for (let q = 0; q < bl.bio; q++) {
      copyPoint(r, src, q);
      const v = src.t[q]!;
      if (Number.isNaN(v)) continue;
      const role = this.points[q]!.role;
      if (r.roleDom[role] === -1) r.roleDom[role] = src.domain[q]!;
      if (v > r.roleLastT[role]!) r.roleLastT[role] = v;
      r.lastT = v;
      r.lastDomain = src.domain[q]!;
    }
    r.cursor = bl.bio;
    this.advance(r, p, eventId, domain, t, vals);
  }

  private blockEvent(kind: BlockEventKind, eventId: number, domain: number, t: number, args: string, ctx: EvCtx): void {
    const bl = this.bl!;
    if (kind === 'until') {
      let k = '';
      for (let i = 0; i < bl.untilFields.length; i++) {
        const v = ctx[bl.untilFields[i]!];
        if (v === null || v === undefined) return;
        k += i ? SEP + String(v) : String(v);
      }
      const src = this.fanSrc.get(k);
      if (src) {
        this.fanSrc.delete(k);
        src.fanKey = null;
      }
      // A request still waiting for its first bio when the submitting call returned had none (not block I/O).
      const w = this.wait[bl.bio]!.get(k);
      if (w !== undefined) for (const r of Array.isArray(w) ? [...w] : [w]) if (r.lastT <= t) this.finish(r, false);
      return;
    }
    if (kind === 'split') {
      const m = SPLIT_RE.exec(args);
      const key = m ? this.keyFor(bl.next, { dev: m[1]!, rwbs: m[2]!, sector: m[3]! }) : null;
      const c = key === null ? undefined : pick(this.wait[bl.next]!.get(key), (r) => this.fits(r, this.points[bl.next]!, domain, t));
      if (!m || !c) {
        this.count('split_unmatched', bl.bio, eventId);
        return;
      }
      // The piece belongs to the request of the bio split (a detached chain's piece is detached too).
      const owner = c.detached ? null : (c.parent ?? c);
      const b = this.newReq(c.opener);
      if (owner) {
        b.parent = owner;
        owner.branches.push(b);
      } else b.detached = true;
      for (const [k, v] of c.fields) b.fields.set(k, v);
      b.fields.set('sector', m[4]!);
      for (let q = 0; q <= bl.bio; q++) copyPoint(b, c, q);
      b.roleDom.set(c.roleDom);
      b.roleLastT.set(c.roleLastT);
      b.lastT = c.lastT;
      b.lastDomain = c.lastDomain;
      b.blockRequests = 1;
      b.cursor = bl.next;
      if (owner) owner.bios++;
      this.removeExtent(c);
      this.count('bio_split', bl.bio, eventId);
      this.settle(b);
      return;
    }
    const m = BLOCK_RE.exec(args);
    if (!m) {
      this.count('merge_unmatched', bl.bio, eventId);
      return;
    }
    const [, dev, rwbs, sector, nsec] = m as unknown as [string, string, string, string, string];
    if (kind === 'requeue') {
      const key = this.keyFor(bl.done, { dev, rwbs, sector, nsec });
      const c = key === null || bl.reissue < 0 ? undefined : pick(this.wait[bl.done]!.get(key), (r) => this.fits(r, this.points[bl.done]!, domain, t));
      if (!c) {
        this.count('requeue_unmatched', bl.done, eventId);
        return;
      }
      // Requeued after its issue: it waits for its issue again (the last issue counts).
      this.unregisterWait(c);
      c.deferred.length = 0;
      c.cursor = bl.reissue;
      this.count('requeued', bl.reissue, eventId);
      this.settle(c);
      return;
    }
    // A merge: the bio at (dev, sector) joined another block request instead of becoming one
    // (block_rq_merge: a whole request merged into another, before or after its insertion).
    const fields = { dev, rwbs, sector, nsec };
    const waitsAt = kind === 'rqmerge' && bl.reissue > bl.next ? [bl.next, bl.reissue] : [bl.next];
    let mb: Req | undefined;
    for (const q of waitsAt) {
      const key = this.keyFor(q, fields);
      mb ??= key === null ? undefined : pick(this.wait[q]!.get(key), (r) => this.fits(r, this.points[q]!, domain, t));
    }
    if (!mb) {
      this.count('merge_unmatched', bl.bio, eventId);
      return;
    }
    const s0 = Number(sector);
    const n0 = Number(nsec);
    const back = this.extEndIdx.get(dev + SEP + s0);
    const target = kind === 'back' ? back : kind === 'front' ? this.extStartIdx.get(dev + SEP + (s0 + n0)) : back && back !== mb ? back : this.extStartIdx.get(dev + SEP + (s0 + n0));
    const front = kind === 'front' || (kind === 'rqmerge' && target !== back);
    this.unregisterWait(mb);
    this.removeExtent(mb);
    if (!target || target === mb || !this.open.has(target)) {
      // Its block request is one this trace does not follow (queued before the capture began).
      this.count('merge_target_unknown', bl.bio, eventId);
      if (mb.parent !== null || mb.detached) this.finish(mb, false);
      else {
        // The request itself: it goes on without its block points (incomplete), to its return.
        mb.blockRequests = 0;
        mb.deferred.length = 0;
        mb.cursor = bl.done + 1;
        this.settle(mb);
      }
      return;
    }
    if (mb.parent === null && !mb.detached && mb.opener > 0 && mb.branches.length === 0 && !mb.followers) {
      // An orphan bio (no syscall) merged into a block request: it is part of that request's I/O,
      // not an orphan of its own (one readahead request is often dozens of merged bios).
      const owner = target.parent ?? target;
      owner.bios++;
      owner.sectors += n0;
      this.open.delete(mb);
      this.recycle(mb);
      this.extendAfterMerge(target, dev, s0, n0, front);
      this.count('bio_merged', bl.bio, eventId);
      return;
    }
    mb.blockRequests = 0;
    if (bl.nextIsInsert) copyEvent(mb, bl.next, t, eventId, domain);
    (target.followers ??= []).push(mb);
    if (mb.followers) {
      target.followers.push(...mb.followers);
      mb.followers = null;
    }
    this.extendAfterMerge(target, dev, s0, n0, front);
    this.count('bio_merged', bl.bio, eventId);
  }

  /** The target block request grew by a merged bio (dev, s0, n0): its extent, and its start sector after a front merge. */
  private extendAfterMerge(target: Req, dev: string, s0: number, n0: number, front: boolean): void {
    const [ts, te] = parseExtent(target);
    if (!front) this.setExtent(target, dev, ts, s0 + n0);
    else {
      this.setExtent(target, dev, s0, te);
      // Its block request now starts at the merged bio's sector: later block events carry that one.
      target.fields.set('sector', String(s0));
      if (target.waitKey !== null && target.cursor < this.points.length) {
        this.unregisterWait(target);
        const k = reqTuple(target, this.points[target.cursor]!.joinReq);
        if (k !== null) {
          push(this.wait[target.cursor]!, k, target);
          target.waitKey = k;
        }
      }
    }
  }

  /**
   * irq_by_device, learnt as the trace goes: each completion counts the interrupt number that ran
   * last on its CPU; once a device has IRQ_LEARN_MIN completions, only the numbers seen at least
   * IRQ_SHARE_MIN times as often as its most frequent one are its own (every queue of a multi-queue
   * device; never a network card's interrupt that slipped in between). Until then: the last one.
   */
  private lastDev: string | null = null;
  private lastDevIrqs: { counts: Map<string, number>; total: number; seen: number; top: number; allowed: Set<string> | undefined } | null = null;

  private deviceIrqs(dev: string, last: Seen | undefined): Set<string> | undefined {
    let d = dev === this.lastDev ? this.lastDevIrqs : this.irqCounts.get(dev);
    if (!d) this.irqCounts.set(dev, (d = { counts: new Map(), total: 0, seen: 0, top: 0, allowed: undefined }));
    this.lastDev = dev;
    this.lastDevIrqs = d;
    const irq = last?.irq;
    // Past IRQ_SAMPLE_FROM completions of a device, one in IRQ_SAMPLE_EVERY is enough to keep the shares.
    if (irq !== undefined && (d.total < IRQ_SAMPLE_FROM || (++d.seen & (IRQ_SAMPLE_EVERY - 1)) === 0)) {
      const n = (d.counts.get(irq) ?? 0) + 1;
      d.counts.set(irq, n);
      d.total++;
      if (n > d.top) d.top = n;
      // Recomputed when this number crosses the bar, and every 256 completions (as the bar rises).
      const bar = IRQ_SHARE_MIN * d.top;
      if (d.total >= IRQ_LEARN_MIN && (d.allowed === undefined || (d.total & 255) === 0 || d.allowed.has(irq) !== n >= bar)) {
        d.allowed = new Set();
        for (const [k, c] of d.counts) if (c >= bar) d.allowed.add(k);
      }
    }
    return d.allowed;
  }

  private keyFor(q: number, v: Record<string, string>): string | null {
    const f = this.points[q]!.joinReq;
    let s = '';
    for (let i = 0; i < f.length; i++) {
      const x = v[f[i]!];
      if (x === undefined) return null;
      s += i ? SEP + x : x;
    }
    return s;
  }

  private setExtent(r: Req, dev: string, start: number, end: number): void {
    this.removeExtent(r);
    r.extStart = dev + SEP + start;
    r.extEnd = dev + SEP + end;
    this.extStartIdx.set(r.extStart, r);
    this.extEndIdx.set(r.extEnd, r);
  }

  private removeExtent(r: Req): void {
    if (r.extStart !== null && this.extStartIdx.get(r.extStart) === r) this.extStartIdx.delete(r.extStart);
    if (r.extEnd !== null && this.extEndIdx.get(r.extEnd) === r) this.extEndIdx.delete(r.extEnd);
    r.extStart = r.extEnd = null;
  }

  /** A chain passed the completion point: chains merged into its block request complete with it. */
  private propagate(c: Req): void {
    const bl = this.bl!;
    const fs = c.followers;
    c.followers = null;
    if (!fs) return;
    for (const f of fs) {
      if (!this.open.has(f)) continue;
      for (let q = bl.next; q <= bl.done; q++) {
        // The insertion of a merged bio: when it joined the request, or the request's insertion if later (a plug merge).
        if (q === bl.next && bl.nextIsInsert && !Number.isNaN(f.t[q]!)) {
          if (c.t[q]! > f.t[q]!) copyPoint(f, c, q);
          continue;
        }
        copyPoint(f, c, q);
      }
      f.lastT = c.t[bl.done]!;
      f.lastDomain = c.domain[bl.done]!;
      f.cursor = bl.done + 1;
      if (f.parent !== null || f.detached) this.fold(f);
      else this.settle(f);
    }
  }

  /** A chain completed: its times go into its request (first bio, insert, issue; the last completion with its interrupt). */
  private fold(b: Req): void {
    const bl = this.bl!;
    const owner = b.parent;
    this.open.delete(b);
    this.unregisterWait(b);
    this.clearLastAt(b);
    this.removeExtent(b);
    if (owner === null) {
      this.count('completed_after_return', bl.done, b.ev[bl.bio]!);
      this.recycle(b);
      return;
    }
    for (let q = bl.bio; q < bl.lastFrom; q++) {
      const v = b.t[q]!;
      if (!Number.isNaN(v) && (Number.isNaN(owner.t[q]!) || v < owner.t[q]!)) copyPoint(owner, b, q);
    }
    const end = b.t[bl.done]!;
    if (Number.isNaN(owner.t[bl.done]!) || end > owner.t[bl.done]!) for (let q = bl.lastFrom; q <= bl.done; q++) copyPoint(owner, b, q);
    owner.blockRequests += b.blockRequests;
    for (const [k, v] of b.fields) if (!owner.fields.has(k)) owner.fields.set(k, v);
    const role = this.points[bl.done]!.role;
    if (owner.cursor > bl.done) {
      if (end > owner.roleLastT[role]!) owner.roleLastT[role] = end;
      if (end > owner.lastT) owner.lastT = end;
    }
    const i = owner.branches.indexOf(b);
    if (i >= 0) owner.branches.splice(i, 1);
    this.recycle(b);
    if (owner.holding && owner.branches.length === 0) this.finish(owner, false);
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
    const bl = this.bl;
    if (bl !== null) {
      if (p.idx === bl.bio) {
        if (r.parent === null && !r.detached) {
          this.enterBlock(r, p, eventId, domain, t, vals);
          return;
        }
        this.trackExtent(r);
      } else if (p.idx === bl.done) {
        if (r.followers !== null) this.propagate(r);
        if (r.parent !== null || r.detached) {
          this.fold(r);
          return;
        }
      }
    }
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
    const found = this.found;
    found.length = 0;
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
      /** The window met a place where events were lost: the point cannot be absent by design. */
      let lost = false;
      if (dp.mode === 'last-before-next') {
        const lk = tuple(vals, relPositions(dp, p)) ?? '';
        let e = this.lastSeen[d]!.get(lk);
        // The device's interrupt: the last one on that CPU of an interrupt number that completes this device's requests.
        const allowed = this.bl && d === this.bl.irq ? this.deviceIrqs(vals[p.need.indexOf('dev')] ?? '', e) : undefined;
        if (allowed) {
          e = undefined;
          const byIrq = this.lastIrqBy.get(lk);
          if (byIrq) for (const irq of allowed) {
            const c = byIrq.get(irq);
            if (c && (!e || c.t > e.t)) e = c;
          }
        }
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
          if (hit && this.inGap(hit.domain, prevT, hit.t)) {
            hit = undefined;
            lost = true;
          }
        }
        if (!hit && !lost) lost = bound === -1 ? this.inAnyGap(prevT, nextT) : this.inGap(bound!, prevT, nextT);
      }
      found.push({ d, hit, candidates, lost, batched: false, viaSlack: hit !== undefined && hit.domain !== nextDomain && hit.t > nextT, from: prevT });
      if (hit) {
        prevT = hit.t;
        prevDom = hit.domain;
      }
    }
    if (this.notices.length && found.length) this.applyNotifications(r, found);
    for (const f of found) {
      const d = f.d;
      const dp = this.points[d]!;
      if (f.batched) {
        r.flags[d] = POINT_BATCHED;
        this.count('point_batched', d, NaN);
        continue;
      }
      const hit = f.hit;
      if (!hit) {
        this.count('point_lost_or_absent', d, NaN);
        continue;
      }
      if (f.candidates > 1 || f.shared) {
        r.flags[d] = POINT_AMBIGUOUS;
        this.count('idless_ambiguous', d, hit.id);
      }
      hit.used = true;
      r.t[d] = hit.t;
      r.ev[d] = hit.id;
      r.domain[d] = hit.domain;
      if (r.roleDom[dp.role] === -1) r.roleDom[dp.role] = hit.domain;
      if (hit.t > r.roleLastT[dp.role]!) r.roleLastT[dp.role] = hit.t;
    }
    r.deferred.length = 0;
  }

  /**
   * Suppressed notifications (profile `notifications`, spec decision 10), on the id-less points
   * just chosen for r: a notification whose sent point is absent (no event in its window, no loss
   * there) was not sent for r when its received point is absent too, or is an event another
   * request already took (r rode on that request's notification): batched, by design. A received
   * point alone (nobody else's) proves a notification r's trace lacks: the sent point is missing.
   * A received point absent after a sent one found only within the clock uncertainty past the next
   * point: that sent event is a later request's, r was batched. With a flag (be_rsp notify=0|1):
   * no received event and flag 0 is batched; flag 1 is a missing point.
   */
  /**
   * Is received event `e` the effect of a notification sent before `from` (r's window for the sent
   * point)? Yes when the last sent event before `from` has no received event of its own between it
   * and `e`: `e` is its wake-up, which r rode on. Otherwise `e` was caused by a notification within
   * r's window that the trace lacks.
   */
  private causedBefore(r: Req, n: { sent: number; received: number }, from: number, e: Seen): boolean {
    const sk = reqTuple(r, this.points[n.sent]!.joinReq);
    const rk = reqTuple(r, this.points[n.received]!.joinReq);
    const sent = sk === null ? undefined : this.history[n.sent]!.get(sk);
    if (!sent) return false;
    const j = lowerBound(sent, from) - 1;
    if (j < 0) return false;
    const last = sent[j]!;
    const rec = rk === null ? undefined : this.history[n.received]!.get(rk);
    if (rec) for (let j = lowerBound(rec, last.t); j < rec.length && rec[j]!.t < e.t; j++) if (rec[j] !== e) return false;
    return true;
  }

  /**
   * Was another request of r's ring (the sent point's keys, r's clock) pushed before r (`at`) and
   * still open? Without one, nobody's notification could carry r: at depth 1 a request always
   * notifies, so one lacking both ends of its notification lost them.
   */
  private othersInFlight(r: Req, sent: number, at: number): boolean {
    const sp = this.points[sent]!;
    const key = reqTuple(r, sp.joinReq);
    if (key === null) return false;
    const dom = r.roleDom[sp.role];
    for (const q of this.open) {
      if (q === r || q.opener !== r.opener || q.roleDom[sp.role] !== dom || !(q.roleLastT[sp.role]! <= at)) continue;
      if (reqTuple(q, sp.joinReq) === key) return true;
    }
    return false;
  }

  private applyNotifications(r: Req, found: Found[]): void {
    for (const n of this.notices) {
      const rec = found.find((f) => f.d === n.received);
      if (!rec || rec.lost) continue;
      if (n.sent === -1) continue;
      const sent = n.flag === null ? found.find((f) => f.d === n.sent) : undefined;
      if (n.flag !== null) {
        if (r.fields.get(n.flag) !== '0' || Number.isNaN(r.t[n.sent]!)) continue;
        // r raised no interrupt: one still pending delivers its response (after it), or the one
        // being handled does (before it, no event of its own): no clock link either way.
        if (!rec.hit) rec.batched = true;
        else rec.shared = true;
        continue;
      }
      if (!sent || sent.lost) continue;
      if (!sent.hit) {
        // Neither: r rode on a notification only if another request of its ring was in flight when r was pushed.
        if (!rec.hit) {
          if (this.othersInFlight(r, n.sent, sent.from)) sent.batched = rec.batched = true;
        }
        else if (rec.hit.used || this.causedBefore(r, n, sent.from, rec.hit)) {
          // r rode on another request's notification: pushed before that wake-up, or while it was
          // being handled (the event then precedes r's previous point, within the clock
          // uncertainty). Either way its time says nothing certain about r: no clock link.
          sent.batched = true;
          // Before r's previous point (seen only within the clock uncertainty): r was pushed while
          // that wake-up was being handled, it has no received point of its own either.
          if (rec.hit.t < sent.from) rec.batched = true;
          else rec.shared = true;
        }
      } else if (!rec.hit && sent.viaSlack) {
        sent.hit = undefined;
        sent.batched = rec.batched = true;
      }
    }
  }

  /** Registers r in `index` at every point after c whose join keys it now knows (once per point); returns its registration keys. */
  private registerLater(r: Req, c: number, index: (Map<string, Slot> | null)[], keys: (string | null)[] | null): (string | null)[] | null {
    for (let j = c + 1; j < this.points.length; j++) {
      const m = index[j];
      if (!m) continue;
      keys ??= new Array(this.points.length).fill(null);
      if (keys[j] !== null) continue;
      const k = reqTuple(r, this.points[j]!.joinReq);
      if (k !== null) {
        push(m, k, r);
        keys[j] = k;
      }
    }
    return keys;
  }

  /** Registers r where it now waits, or finishes it. */
  private settle(r: Req): void {
    let c = r.cursor;
    let key: string | null = null;
    const n = this.points.length;
    for (;;) {
      if (c < n && this.points[c]!.mode !== 'nearest') {
        // A trailing id-less point (reaped: the next return of the submitting task's syscall) waits like an id-carrying one.
        if (c === n - 1 && this.points[c]!.mode === 'first-after' && r.deferred.length === 0) {
          key = reqTuple(r, this.points[c]!.joinReq);
          if (key !== null) break;
        }
        r.deferred.push(c);
        c = r.cursor = c + 1;
        continue;
      }
      if (c >= n) {
        // A request whose path ends at the completion waits for its last chain.
        if (r.branches.length && this.bl && !this.passedAfter(r, this.bl.done)) {
          r.holding = true;
          return;
        }
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
    // Later `ends` points, and (profile `skips`) later points that would show a skip: register once
    // their keys are known (a chain of one bio never ends its request).
    if (r.parent === null && !r.detached) {
      r.endsKeys = this.registerLater(r, c, this.endsIdx, r.endsKeys);
      r.skipKeys = this.registerLater(r, c, this.skipIdx, r.skipKeys);
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
    // Block points after the insertion: two block requests of one sector may be in flight at once
    // (two tasks reading it): neither can be declared dead. (A bio still waiting for its insertion
    // when another bio of its sector does was merged: a trace without merge events.)
    if (this.bl && c > this.bl.next && c <= this.bl.done) return;
    for (const old of Array.isArray(slot) ? [...slot] : [slot]) {
      if (old === r || old.lastT > r.lastT || old.roleDom[p.role] !== r.roleDom[p.role]) continue;
      this.count('superseded', c, old.ev[old.opener]!);
      this.finish(old, false);
    }
  }

  /** Did any domain lose events between adjusted times a and b? */
  private inAnyGap(a: number, b: number): boolean {
    const gs = this.opts.gaps;
    if (!gs) return false;
    for (let d = 0; d < gs.length; d++) if (this.inGap(d, a, b)) return true;
    return false;
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

  private passedAfter(r: Req, q: number): boolean {
    for (let i = q + 1; i < this.points.length; i++) if (!Number.isNaN(r.t[i]!)) return true;
    return false;
  }

  private finish(r: Req, atEnd: boolean): void {
    if (!this.open.delete(r)) return;
    this.unregisterWait(r);
    r.deferred.length = 0;
    this.clearLastAt(r);
    if (r.endsKeys) r.endsKeys.forEach((k, j) => k !== null && remove(this.endsIdx[j]!, k, r));
    if (r.skipKeys) r.skipKeys.forEach((k, j) => k !== null && remove(this.skipIdx[j]!, k, r));
    if (r.extStart !== null) this.removeExtent(r);
    if (r.parent !== null || r.detached) {
      // A chain of one bio that never completed: cut by the end of the trace, or superseded (counted there).
      if (atEnd) this.count(this.endCode(r, r.t[this.bl!.bio]!), r.cursor < this.points.length ? r.cursor : null, r.ev[this.bl!.bio]!);
      const owner = r.parent;
      if (owner) {
        const i = owner.branches.indexOf(r);
        if (i >= 0) owner.branches.splice(i, 1);
        if (owner.holding && owner.branches.length === 0) this.finish(owner, atEnd);
      }
      this.recycle(r);
      return;
    }
    if (r.fanKey !== null && this.fanSrc.get(r.fanKey) === r) this.fanSrc.delete(r.fanKey);
    // Chains still running when their request returned: async I/O (readahead), counted when they complete.
    if (r.branches.length) {
      for (const b of r.branches) {
        b.parent = null;
        b.detached = true;
      }
      r.branches.length = 0;
    }
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
    if (atEnd && !r.holding) this.count(this.endCode(r, r.t[r.opener]!), r.cursor < this.points.length ? r.cursor : null, r.ev[r.opener]!);
    let complete = true;
    for (let i = 0; i < r.t.length; i++) if (Number.isNaN(r.t[i]!) && !(r.flags[i]! & POINT_BATCHED)) complete = false;
    // One FinishedRequest object for all (the sink copies what it keeps, as it does the arrays).
    const out = this.out;
    out.status = r.opener > 0 ? 'orphan' : complete ? 'complete' : 'incomplete';
    out.opener = r.opener;
    out.t = r.t;
    out.ev = r.ev;
    out.domain = r.domain;
    out.flags = r.flags;
    out.fields = r.fields;
    out.comm = typeof r.openerComm === 'number' && this.opts.commName ? this.opts.commName(r.openerComm) : r.openerComm;
    out.pid = r.openerPid;
    out.tgid = r.openerTgid;
    out.bios = r.bios;
    out.blockRequests = r.blockRequests;
    out.sectors = r.sectors;
    this.sink.request(out);
    this.recycle(r);
  }

  /** Why a request is still open at the end of the trace. */
  private endCode(r: Req, start: number): 'open_at_end' | 'open_outside_run' | 'merge_not_traced' {
    // A bio still waiting for its insertion in a trace without merge events: merged, most likely.
    if (this.bl && !this.bl.merges && r.cursor === this.bl.next && !Number.isNaN(r.t[this.bl.bio]!)) return 'merge_not_traced';
    return this.inRun(start) ? 'open_at_end' : 'open_outside_run';
  }

  /** Is adjusted time t inside a run (between a begin and an end marker seen so far), or are there no markers? */
  private inRun(t: number): boolean {
    if (this.markers.length === 0) return true;
    const open = new Map<string, number>();
    for (const m of this.markers) {
      if (m.edge === 'begin') open.set(m.run, m.t);
      else {
        const b = open.get(m.run);
        if (b !== undefined && t >= b && t <= m.t) return true;
        open.delete(m.run);
      }
    }
    for (const b of open.values()) if (t >= b) return true;
    return false;
  }

  private recycle(r: Req): void {
    if (this.pool.length < 1024) this.pool.push(r);
  }

  /** The input is over: every request still open ends incomplete. */
  end(): void {
    this.recent.forEach((buf, i) => buf.splice(0).forEach((e) => this.expire(this.points[i]!, e)));
    this.history.forEach((h, i) => h.forEach((list) => list.forEach((e) => e.used || this.count('unmatched_event', i, e.id))));
    this.lastSeen.forEach((m, i) => m.forEach((e) => e.used || this.count('unmatched_event', i, e.id)));
    // Waits already past what is plausible when the trace ends were skipped points, not a cut-off capture.
    if (this.opts.waitBound !== undefined) this.overdue();
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



function copyPoint(to: Req, from: Req, q: number): void {
  to.t[q] = from.t[q]!;
  to.ev[q] = from.ev[q]!;
  to.domain[q] = from.domain[q]!;
  to.flags[q] = from.flags[q]!;
}

function copyEvent(to: Req, q: number, t: number, eventId: number, domain: number): void {
  to.t[q] = t;
  to.ev[q] = eventId;
  to.domain[q] = domain;
}

/** [start, end] sectors of a chain's tracked extent. */
function parseExtent(r: Req): [number, number] {
  return [Number((r.extStart ?? '').split(SEP)[1]), Number((r.extEnd ?? '').split(SEP)[1])];
}

const COMM = builtinFieldIndex('$comm');
const PID = builtinFieldIndex('$pid');
const TGID = builtinFieldIndex('$tgid');

