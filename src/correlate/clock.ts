/**
 * Clock domains. Each domain's timestamps are mapped onto the reference domain's clock with an
 * offset and a rate (drift). Given clocks are used as they are; the others are estimated from
 * causality: every cross-domain link of a complete request (A in X, then B in Y) says B happened
 * after A, which bounds Y's clock relative to X's from one side; links in the other direction bound
 * it from the other. An empty feasible set is a contradiction and is reported, never papered over.
 *
 * Internally a domain's time is `rel` (ns since the domain's first event) and its adjusted time is
 * `rel + shift + round(rate · rel)` (`adjustRel`); `shift` and `rate` are what this module computes
 * (rate 0: a constant offset). People see the drift as the simulator and the issue say it: the
 * domain's clock runs `ppm` parts per million fast against the reference's, so a local interval Δ
 * is Δ / (1 + ppm·1e-6) of reference time: 1 + rate = 1 / (1 + ppm·1e-6) (`ppmOfRate`, `rateOfPpm`).
 *
 * Estimation of a domain y from an already placed domain x. With u = rel time in y, each link is a
 * half-plane in (s, r) = (y's shift, y's rate): B in y after A in x ⇒ s + r·u_B ≥ adj_x(A) − u_B;
 * A in y before B in x ⇒ s + r·u_A ≤ adj_x(B) − u_A (the later event's time loosened by its
 * timestamp resolution). Their intersection with |r| ≤ MAX_DRIFT_PPM is a convex polygon
 * (`clockPolygon`, exact: upper/lower envelopes of the links' lines, only the links on the convex
 * hull of each side can matter).
 *  - When a constant offset fits (the polygon meets r = 0) and is about as good as the best clock
 *    (below), the model is the constant offset, as before drift existed: the middle of the feasible
 *    interval of s at r = 0, its half-width the uncertainty; the polygon still gives the interval of
 *    drift the links allow.
 *  - Otherwise the estimate is the minimax centre over the span [0, U] of the links (U = the last
 *    link's time in y): at u = 0 and at u = U the middle of the feasible offsets; the line through
 *    these two points. The offset error of any feasible clock at time u is linear in u, so its
 *    largest value over the span is at an end, and this line minimises it: the uncertainty is half
 *    the wider of the two ranges. The line lies inside the polygon (the centre of the bounding box
 *    of a convex set in the (offset at 0, offset at U) coordinates lies in the set).
 * The uncertainty of a domain is its own plus its parent's (along the estimation path).
 */
import { InputError } from '../core/errors.js';

/**
 * A constant offset that fits the links is kept when its largest error over the span, against every
 * clock the links allow, is within this factor of the minimax clock's (solveClocks). Traces of clocks
 * without drift give 1.00-1.08; a drift of 0.5 ppm over 30 s gives 1.5-2.
 */
const CONSTANT_SLACK = 1.25;

/** The estimated drift is searched within ±this (ppm): far beyond real clocks (tens of ppm). */
export const MAX_DRIFT_PPM = 1000;
const MAX_RATE = MAX_DRIFT_PPM * 1e-6;

/** The drift people read (the clock runs this many ppm fast against the reference) of a rate. */
export function ppmOfRate(rate: number): number {
  return rate === 0 ? 0 : (-rate / (1 + rate)) * 1e6;
}

/** The rate of a drift in ppm (inverse of ppmOfRate). */
export function rateOfPpm(ppm: number): number {
  return ppm === 0 ? 0 : 1 / (1 + ppm * 1e-6) - 1;
}

/** A drift for people: signed, one decimal (+20.1). */
export function formatPpm(ppm: number): string {
  const t = ppm.toFixed(1);
  return Number(t) === 0 ? '0' : ppm > 0 ? `+${t}` : t;
}

/** Adjusted time of a domain's rel time (ns since its first event); ±Infinity stays as it is. */
export function adjustRel(rel: number, shift: number, rate: number): number {
  return rate === 0 || !Number.isFinite(rel) ? rel + shift : rel + shift + Math.round(rate * rel);
}

/** The rel time (an integer) whose adjusted time is `t`: the inverse of adjustRel (a slow clock maps about one rel in 1/|rate| onto its neighbour's adjusted ns: either of the two). */
export function relOf(t: number, shift: number, rate: number): number {
  if (rate === 0) return t - shift;
  const r = Math.round((t - shift) / (1 + rate));
  // Rounding can leave the inverse one off (a half-ns tie); the adjusted time decides.
  if (adjustRel(r, shift, rate) === t) return r;
  if (adjustRel(r - 1, shift, rate) === t) return r - 1;
  if (adjustRel(r + 1, shift, rate) === t) return r + 1;
  return r;
}

/** Links of one direction between two domains: A (time `a`, rel in A's domain) before B (time `b`, rel in B's domain, loosened). */
export class Links {
  a = new Float64Array(64);
  b = new Float64Array(64);
  tag = new Int32Array(64);
  tag2 = new Int32Array(64);
  n = 0;
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}
  push(a: number, b: number, tag: number, tag2: number): void {
    if (this.n === this.a.length) {
      const grow = <T extends Float64Array | Int32Array>(x: T): T => {
        const y = new (x.constructor as new (n: number) => T)(x.length * 2);
        y.set(x);
        return y;
      };
      this.a = grow(this.a);
      this.b = grow(this.b);
      this.tag = grow(this.tag);
      this.tag2 = grow(this.tag2);
    }
    this.a[this.n] = a;
    this.b[this.n] = b;
    this.tag[this.n] = tag;
    this.tag2[this.n] = tag2;
    this.n++;
  }
}

/** Every link between domains x < y: `xy` from x to y, `yx` from y to x. */
export interface PairLinks {
  x: number;
  y: number;
  xy: Links;
  yx: Links;
}

export class LinkCollector {
  private readonly pairs = new Map<string, PairLinks>();
  /**
   * `resolution[d]`: how coarse domain d's printed timestamps are (ns; 1000 for µs ftrace text).
   * A printed time may be up to that much before the true instant, so each bound from a later event
   * of d is loosened by it.
   */
  constructor(private readonly resolution: readonly number[] = []) {}

  /** A happened (rel time ta in domain da) before B (rel time tb in domain db); `tag`, `tag2` name the link for messages. */
  link(da: number, ta: number, db: number, tbPrinted: number, tag = 0, tag2 = 0): void {
    if (da === db) return;
    // The true instant of B is in [tb, tb + resolution): B after A bounds with its latest possible time.
    const tb = tbPrinted + (this.resolution[db] ?? 0);
    const x = Math.min(da, db);
    const y = Math.max(da, db);
    const k = `${x},${y}`;
    let p = this.pairs.get(k);
    if (!p) this.pairs.set(k, (p = { x, y, xy: new Links(x, y), yx: new Links(y, x) }));
    (da === x ? p.xy : p.yx).push(ta, tb, tag, tag2);
  }

  list(): PairLinks[] {
    return [...this.pairs.values()];
  }
}

/** A domain's clock: adjusted = rel + shift + rate · rel. */
export interface Clock {
  shift: number;
  rate: number;
}

export type DriftMethod = 'reference' | 'given' | 'constant' | 'estimated';

export interface DomainShift {
  shift: number;
  /** Drift (ppm = rate · 1e6); 0 for a constant offset. */
  rate: number;
  /** The offset is within ± this (ns) at every time of the span, relative to the reference (summed along the estimation path). */
  uncertainty: number;
  method: 'reference' | 'given' | 'estimated' | 'unlinked';
  /** How the rate was set: the reference's 0, given, 0 because a constant offset fits ('constant'), estimated; null when unlinked. */
  driftMethod: DriftMethod | null;
  /** Interval of rates the links allow (over the feasible polygon, the parent's own drift interval added); null unless estimated. */
  rateLo: number | null;
  rateHi: number | null;
  /** Bounds on the shift at the domain's first event (rel 0) relative to the parent's. */
  lo: number | null;
  hi: number | null;
  parent: number | null;
  links: number;
  /** The uncertainty holds over rel times [0, span] (the last link's time; 0 when not estimated). */
  span: number;
}

/** The half-planes bounding one domain's (shift, rate) from one placed domain. */
export interface Constraints {
  /** s + r·u ≥ val */
  lower: { u: Float64Array; val: Float64Array; link: Int32Array; n: number };
  /** s + r·u ≤ val */
  upper: { u: Float64Array; val: Float64Array; link: Int32Array; n: number };
}

/** A feasible polygon in (s, r): s = shift at u = 0. */
export type ClockPolygon =
  | {
      empty: false;
      /** Vertices (s, r): the lower chain then the upper chain. */
      vertices: [number, number][];
      rateLo: number;
      rateHi: number;
    }
  | {
      empty: true;
      /** The lower and upper half-planes closest to being satisfied together (indexes into the inputs), at rate `rate`. */
      lower: number;
      upper: number;
      rate: number;
    };

/** Indexes of the points (x, y) on the upper (sign 1) or lower (sign −1) convex hull, by increasing x, one per x. */
function hull(x: ArrayLike<number>, y: ArrayLike<number>, n: number, sign: 1 | -1): number[] {
  const idx: number[] = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  // Nearly sorted already (links come in request order): the sort is then close to linear.
  idx.sort((p, q) => x[p]! - x[q]! || sign * (y[p]! - y[q]!));
  const h: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    // One point per x: the last of a run of equal x is the one that bounds (largest y for the upper hull).
    if (k + 1 < n && x[idx[k + 1]!] === x[i]) continue;
    while (h.length >= 2) {
      const o = h[h.length - 2]!;
      const a = h[h.length - 1]!;
      // Upper hull: drop a when o → a → i does not turn right (clockwise).
      const cross = (x[a]! - x[o]!) * (y[i]! - y[o]!) - (y[a]! - y[o]!) * (x[i]! - x[o]!);
      if (sign * cross >= 0) h.pop();
      else break;
    }
    h.push(i);
  }
  return h;
}

/**
 * The feasible set of (s, r) — s + r·u_i ≥ lower_i, s + r·u_j ≤ upper_j, |r| ≤ maxRate — as a
 * convex polygon, or the two half-planes that come closest to being satisfied together when it is
 * empty. Needs at least one half-plane on each side.
 */
export function clockPolygon(lu: ArrayLike<number>, lv: ArrayLike<number>, uu: ArrayLike<number>, uv: ArrayLike<number>, maxRate = MAX_RATE, nl = lu.length, nu = uu.length): ClockPolygon {
  if (nl === 0 || nu === 0) throw new Error('clockPolygon: half-planes on both sides needed');
  // Re-centred, scaled variables: p = r in ppm, b = (u − uc) in ms·1e-3 (so p·b is ns), σ = s + r·uc − s0.
  let umin = Infinity;
  let umax = -Infinity;
  let maxL = -Infinity;
  let minU = Infinity;
  for (let i = 0; i < nl; i++) {
    umin = Math.min(umin, lu[i]!);
    umax = Math.max(umax, lu[i]!);
    maxL = Math.max(maxL, lv[i]!);
  }
  for (let j = 0; j < nu; j++) {
    umin = Math.min(umin, uu[j]!);
    umax = Math.max(umax, uu[j]!);
    minU = Math.min(minU, uv[j]!);
  }
  const uc = (umin + umax) / 2;
  const s0 = (maxL + minU) / 2;
  const P = maxRate * 1e6;
  const lb = new Float64Array(nl);
  const la = new Float64Array(nl);
  for (let i = 0; i < nl; i++) {
    lb[i] = (lu[i]! - uc) * 1e-6;
    la[i] = lv[i]! - s0;
  }
  const ub = new Float64Array(nu);
  const ua = new Float64Array(nu);
  for (let j = 0; j < nu; j++) {
    ub[j] = (uu[j]! - uc) * 1e-6;
    ua[j] = uv[j]! - s0;
  }
  // σ ≥ f(p) = max_i (la_i − p·lb_i): only the upper hull of the points (lb, la) can attain the max;
  // σ ≤ g(p) = min_j (ua_j − p·ub_j): only the lower hull of (ub, ua).
  const L = hull(lb, la, nl, 1);
  const U = hull(ub, ua, nu, -1);
  const f = (p: number): number => {
    let m = -Infinity;
    for (const i of L) m = Math.max(m, la[i]! - p * lb[i]!);
    return m;
  };
  const g = (p: number): number => {
    let m = Infinity;
    for (const j of U) m = Math.min(m, ua[j]! - p * ub[j]!);
    return m;
  };
  // f and g are piecewise linear with breakpoints where consecutive hull points swap: g − f is
  // concave and linear between the candidates below.
  const cand = new Set<number>([-P, 0, P]);
  for (const [H, b, a] of [
    [L, lb, la],
    [U, ub, ua],
  ] as const)
    for (let k = 0; k + 1 < H.length; k++) {
      const p = (a[H[k + 1]!]! - a[H[k]!]!) / (b[H[k + 1]!]! - b[H[k]!]!);
      if (p > -P && p < P) cand.add(p);
    }
  const ps = [...cand].sort((p, q) => p - q);
  const h = ps.map((p) => g(p) - f(p));
  let best = 0;
  for (let k = 1; k < ps.length; k++) if (h[k]! > h[best]! || (h[k] === h[best] && Math.abs(ps[k]!) < Math.abs(ps[best]!))) best = k;
  if (h[best]! < 0) {
    const p = ps[best]!;
    let li = L[0]!;
    for (const i of L) if (la[i]! - p * lb[i]! > la[li]! - p * lb[li]!) li = i;
    let uj = U[0]!;
    for (const j of U) if (ua[j]! - p * ub[j]! < ua[uj]! - p * ub[uj]!) uj = j;
    return { empty: true, lower: li, upper: uj, rate: p * 1e-6 };
  }
  // The feasible rates [pa, pb]: where g − f ≥ 0, found by walking out of the best candidate.
  const root = (k0: number, k1: number): number => {
    // h(k0) ≥ 0 > h(k1), linear in between.
    const t = h[k0]! / (h[k0]! - h[k1]!);
    return ps[k0]! + t * (ps[k1]! - ps[k0]!);
  };
  let ka = best;
  while (ka > 0 && h[ka - 1]! >= 0) ka--;
  let kb = best;
  while (kb + 1 < ps.length && h[kb + 1]! >= 0) kb++;
  const pa = ka > 0 ? root(ka, ka - 1) : ps[0]!;
  const pb = kb + 1 < ps.length ? root(kb, kb + 1) : ps[ps.length - 1]!;
  const inner = ps.slice(ka, kb + 1).filter((p) => p > pa && p < pb);
  const at = [pa, ...inner, ...(pb > pa ? [pb] : [])];
  const back = (sigma: number, p: number): [number, number] => [sigma + s0 - p * 1e-6 * uc, p * 1e-6];
  const vertices = [...at.map((p) => back(f(p), p)), ...at.reverse().map((p) => back(g(p), p))];
  return { empty: false, vertices, rateLo: pa * 1e-6, rateHi: pb * 1e-6 };
}

/** Smallest and largest offset s + r·u over the polygon at time u. */
export function offsetRange(vertices: readonly (readonly [number, number])[], u: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const [s, r] of vertices) {
    const v = s + r * u;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

/**
 * The clock that minimises the largest offset error over [u0, u1] against every clock of the
 * polygon: through the middle of the feasible offsets at u0 and at u1. `half`: that largest error.
 */
export function minimaxCentre(vertices: readonly (readonly [number, number])[], u0: number, u1: number): { shift: number; rate: number; half: number } {
  const [a0, b0] = offsetRange(vertices, u0);
  const [a1, b1] = offsetRange(vertices, u1);
  const m0 = (a0 + b0) / 2;
  const m1 = (a1 + b1) / 2;
  const rate = u1 > u0 ? (m1 - m0) / (u1 - u0) : 0;
  return { shift: m0 - rate * u0, rate, half: Math.max(b0 - a0, b1 - a1) / 2 };
}

/** The largest |offset difference| over [u0, u1] between the clock (shift, rate) and any clock of the polygon. */
export function maxDeviation(vertices: readonly (readonly [number, number])[], c: Clock, u0: number, u1: number): number {
  let m = 0;
  for (const [s, r] of vertices) for (const u of [u0, u1]) m = Math.max(m, Math.abs(s + r * u - (c.shift + c.rate * u)));
  return m;
}

export interface SolveInput {
  n: number;
  reference: number;
  /** Domains whose clock is given: shift (the rate is givenRate's, else 0). */
  givenShift: ReadonlyMap<number, number>;
  /** Given rates (with or without a given shift). */
  givenRate: ReadonlyMap<number, number>;
  pairs: PairLinks[];
  /** Domain names, for messages. */
  names: readonly string[];
  /** Domains complete requests use: they must be placed. */
  needed: ReadonlySet<number>;
  /** Each domain's `rel` origin (local ns), to state bounds as real offsets in messages. */
  bases: readonly bigint[];
  /** Describes a link (its tags) in messages. */
  witness?: (tag: number, tag2: number) => string;
  /**
   * A first pass's links (matched with a loose tolerance, a few may pair neighbours): drop the
   * `frac` of each side's links (at least one) that most violate `guess` (the clocks the pass used)
   * before solving. A real contradiction involves most links and survives this.
   */
  robust?: { frac: number; guess: readonly Clock[] };
}

/** The half-planes bounding `unknown`'s clock from `known`'s, shifts relative to the known domain's shift. */
function constraintsOf(p: PairLinks, known: number, k: Clock): Constraints {
  const mk = (n: number) => ({ u: new Float64Array(n), val: new Float64Array(n), link: new Int32Array(n), n: 0 });
  const sets = [p.xy, p.yx];
  const lower = mk(sets.reduce((a, l) => a + (l.to !== known ? l.n : 0), 0));
  const upper = mk(sets.reduce((a, l) => a + (l.to === known ? l.n : 0), 0));
  const r = k.rate;
  sets.forEach((l, si) => {
    for (let i = 0; i < l.n; i++) {
      const a = l.a[i]!;
      const b = l.b[i]!;
      // link ids: set index in the low bit
      const id = i * 2 + si;
      if (l.to !== known) {
        // A in the known domain before B in the unknown one: s + r_y·b ≥ a + r_x·a − b.
        const c = lower;
        c.u[c.n] = b;
        c.val[c.n] = r === 0 ? a - b : a + r * a - b;
        c.link[c.n++] = id;
      } else {
        // A in the unknown domain before B in the known one: s + r_y·a ≤ b + r_x·b − a.
        const c = upper;
        c.u[c.n] = a;
        c.val[c.n] = r === 0 ? b - a : b + r * b - a;
        c.link[c.n++] = id;
      }
    }
  });
  return { lower, upper };
}

/** Drops the `frac` (at least one, never all) of each side's half-planes most violated by the clock `g` (relative shift). */
function trim(c: Constraints, frac: number, g: Clock): Constraints {
  const side = (s: Constraints['lower'], sign: 1 | -1): Constraints['lower'] => {
    if (s.n <= 1) return s;
    const k = Math.min(s.n - 1, Math.max(1, Math.floor(frac * s.n)));
    const viol = (i: number): number => sign * (s.val[i]! - (g.shift + g.rate * s.u[i]!));
    const order = Array.from({ length: s.n }, (_, i) => i).sort((p, q) => viol(q) - viol(p));
    const keep = order.slice(k).sort((p, q) => p - q);
    const out = { u: new Float64Array(keep.length), val: new Float64Array(keep.length), link: new Int32Array(keep.length), n: keep.length };
    keep.forEach((i, j) => {
      out.u[j] = s.u[i]!;
      out.val[j] = s.val[i]!;
      out.link[j] = s.link[i]!;
    });
    return out;
  };
  return { lower: side(c.lower, 1), upper: side(c.upper, -1) };
}

/**
 * Clocks for every domain from the links: breadth-first from the reference over pairs with links
 * on both sides (or a given clock).
 */
export function solveClocks(o: SolveInput): DomainShift[] {
  const { n, reference, names, bases } = o;
  const out: (DomainShift | null)[] = new Array(n).fill(null);
  const none = { rateLo: null, rateHi: null, lo: null, hi: null, parent: null, links: 0, span: 0 };
  out[reference] = { shift: 0, rate: 0, uncertainty: 0, method: 'reference', driftMethod: 'reference', ...none };
  for (const [d, s] of o.givenShift)
    if (d !== reference) out[d] = { shift: s, rate: o.givenRate.get(d) ?? 0, uncertainty: 0, method: 'given', driftMethod: 'given', ...none };
  const witness = (p: PairLinks, id: number): string => {
    const l = id % 2 === 0 ? p.xy : p.yx;
    const i = id >> 1;
    return o.witness ? o.witness(l.tag[i]!, l.tag2[i]!) : `link ${i}`;
  };
  // t_known = t_unknown + offset: the offset for a shift of the unknown relative to the known one.
  const real = (known: number, unknown: number, d: number): string => String(BigInt(Math.round(d)) + bases[known]! - bases[unknown]!);
  const at = (unknown: number, u: number): string => `${(u / 1e9).toFixed(6)} s into ${names[unknown]}'s trace`;
  const place = (p: PairLinks, known: number, unknown: number): DomainShift | null => {
    const k = out[known]!;
    let c = constraintsOf(p, known, k);
    if (c.lower.n === 0 || c.upper.n === 0) return null;
    if (o.robust) {
      const g = o.robust.guess[unknown]!;
      c = trim(c, o.robust.frac, { shift: g.shift - k.shift, rate: g.rate });
    }
    const { lower, upper } = c;
    let span = 0;
    for (let i = 0; i < lower.n; i++) span = Math.max(span, lower.u[i]!);
    for (let j = 0; j < upper.n; j++) span = Math.max(span, upper.u[j]!);
    const links = p.xy.n + p.yx.n;
    const kn = names[known]!;
    const un = names[unknown]!;
    const given = o.givenRate.get(unknown);
    if (given !== undefined) {
      // The rate is given: the shift's interval as for a constant offset.
      let lo = -Infinity;
      let hi = Infinity;
      let li = 0;
      let uj = 0;
      for (let i = 0; i < lower.n; i++) {
        const v = lower.val[i]! - given * lower.u[i]!;
        if (v > lo) [lo, li] = [v, i];
      }
      for (let j = 0; j < upper.n; j++) {
        const v = upper.val[j]! - given * upper.u[j]!;
        if (v < hi) [hi, uj] = [v, j];
      }
      if (lo > hi)
        throw new InputError(
          `inconsistent clocks between domains ${kn} and ${un} with the given drift of ${un} (--drift ${un}=${+ppmOfRate(given).toPrecision(12)}): causality needs t_${kn} = t_${un} + offset with offset ≥ ${real(known, unknown, lo)} ns at ${un}'s first event (${witness(p, lower.link[li]!)}) and ≤ ${real(known, unknown, hi)} ns (${witness(p, upper.link[uj]!)}); no offset satisfies both with that drift. Check the --drift, or give the offset too with --offset ${un}=NS`,
        );
      return { shift: k.shift + (lo + hi) / 2, rate: given, uncertainty: k.uncertainty + (hi - lo) / 2, method: 'estimated', driftMethod: 'given', rateLo: null, rateHi: null, lo, hi, parent: known, links, span };
    }
    const poly = clockPolygon(lower.u, lower.val, upper.u, upper.val, MAX_RATE, lower.n, upper.n);
    if (poly.empty) {
      const li = poly.lower;
      const uj = poly.upper;
      throw new InputError(
        `inconsistent clocks between domains ${kn} and ${un}: causality needs t_${kn} = t_${un} + offset with offset ≥ ${real(known, unknown, lower.val[li]!)} ns at ${at(unknown, lower.u[li]!)} (${witness(p, lower.link[li]!)}) and ≤ ${real(known, unknown, upper.val[uj]!)} ns at ${at(unknown, upper.u[uj]!)} (${witness(p, upper.link[uj]!)}); no offset satisfies both, and no drift within ±${MAX_DRIFT_PPM} ppm either: no offset and rate satisfy both. Check that each file was ingested with the right --domain, or give the clock with --offset ${un}=NS (and --drift ${un}=PPM)`,
      );
    }
    // Links of the parent's own drift interval widen this one (its rate is only known that well).
    const widen = k.driftMethod === 'estimated' && k.rateLo !== null && k.rateHi !== null ? [k.rateLo - k.rate, k.rateHi - k.rate] : [0, 0];
    const rateLo = poly.rateLo + widen[0]!;
    const rateHi = poly.rateHi + widen[1]!;
    let maxL = -Infinity;
    let minU = Infinity;
    for (let i = 0; i < lower.n; i++) maxL = Math.max(maxL, lower.val[i]!);
    for (let j = 0; j < upper.n; j++) minU = Math.min(minU, upper.val[j]!);
    const m = minimaxCentre(poly.vertices, 0, span);
    // A constant offset that fits and is about as good as the best clock over the span (its largest
    // error against any clock the links allow within CONSTANT_SLACK of the minimax one's) is the
    // model: the answer of a clock without drift, the middle of the interval at rate 0 and its
    // half-width. A constant that fits only at the edge of what the links allow is not: they point
    // to a drift (a small one still moves the offset by more than the constant's half-width).
    if (maxL <= minU && maxDeviation(poly.vertices, { shift: (maxL + minU) / 2, rate: 0 }, 0, span) <= CONSTANT_SLACK * m.half)
      return { shift: k.shift + (maxL + minU) / 2, rate: 0, uncertainty: k.uncertainty + (minU - maxL) / 2, method: 'estimated', driftMethod: 'constant', rateLo, rateHi, lo: maxL, hi: minU, parent: known, links, span };
    const [lo, hi] = offsetRange(poly.vertices, 0);
    return { shift: k.shift + m.shift, rate: m.rate, uncertainty: k.uncertainty + m.half, method: 'estimated', driftMethod: 'estimated', rateLo, rateHi, lo, hi, parent: known, links, span };
  };
  for (;;) {
    let progressed = false;
    for (const p of o.pairs) {
      const known = out[p.x] && !out[p.y] ? p.x : out[p.y] && !out[p.x] ? p.y : null;
      if (known === null) continue;
      const unknown = known === p.x ? p.y : p.x;
      const s = place(p, known, unknown);
      if (!s) continue;
      out[unknown] = s;
      progressed = true;
    }
    if (!progressed) break;
  }
  // A pair of domains both placed otherwise must still be consistent on its own (relative clocks).
  for (const p of o.pairs) {
    if (!out[p.x] || !out[p.y] || out[p.x]!.parent === p.y || out[p.y]!.parent === p.x) continue;
    const c = constraintsOf(p, p.x, { shift: 0, rate: 0 });
    if (c.lower.n === 0 || c.upper.n === 0) continue;
    const poly = clockPolygon(c.lower.u, c.lower.val, c.upper.u, c.upper.val, 2 * MAX_RATE, c.lower.n, c.upper.n);
    if (poly.empty && !o.robust) {
      const li = poly.lower;
      const uj = poly.upper;
      throw new InputError(
        `inconsistent clocks between domains ${names[p.x]} and ${names[p.y]}: causality needs t_${names[p.x]} = t_${names[p.y]} + offset with offset ≥ ${real(p.x, p.y, c.lower.val[li]!)} ns at ${at(p.y, c.lower.u[li]!)} (${witness(p, c.lower.link[li]!)}) and ≤ ${real(p.x, p.y, c.upper.val[uj]!)} ns at ${at(p.y, c.upper.u[uj]!)} (${witness(p, c.upper.link[uj]!)}); no offset satisfies both, and no drift within ±${MAX_DRIFT_PPM} ppm either: no offset and rate satisfy both. Check that each file was ingested with the right --domain, or give the clocks with --offset and --drift`,
      );
    }
  }
  return out.map((s, d) => {
    if (s) return s;
    if (o.needed.has(d)) {
      const one = o.pairs.find((p) => p.x === d || p.y === d);
      const why = one
        ? `its requests only bound the offset from one side (${(d === one.y ? one.yx : one.xy).n === 0 ? 'no link back' : 'no link towards it'})`
        : 'no complete request links it with the reference domain';
      throw new InputError(`cannot estimate the clock offset of domain ${names[d]}: ${why}; give it with --offset ${names[d]}=NS (t_ref = t_${names[d]} + NS)`);
    }
    return { shift: 0, rate: 0, uncertainty: 0, method: 'unlinked', driftMethod: null, ...none };
  });
}

/**
 * Coarse alignment before any matching: for pairs of events that must belong to the same request
 * (equal strong keys) in two domains, the differences of their local times cluster around the true
 * offset (plus a small latency) while pairs from different requests (the same sector read in
 * another run) scatter. The densest window of differences wins; its smallest difference bounds
 * the offset from one side, which is all the first matching pass needs.
 */
export function densestWindow(diffs: Float64Array, width: number): { min: number; count: number } | null {
  if (diffs.length === 0) return null;
  diffs.sort();
  let best = 0;
  let bestStart = 0;
  let j = 0;
  for (let i = 0; i < diffs.length; i++) {
    while (diffs[j]! < diffs[i]! - width) j++;
    const c = i - j + 1;
    if (c > best) {
      best = c;
      bestStart = j;
    }
  }
  return { min: diffs[bestStart]!, count: best };
}

/**
 * Coarse pairs of one direction, for a drifting clock: the pairs of the same request satisfy
 * `d + sign·rate·x ≈ constant + latency` (x: the unknown domain's time, d: the difference of the
 * two times, the known domain's clock applied), the others scatter.
 */
export interface CoarseDirection {
  x: Float64Array;
  d: Float64Array;
  sign: 1 | -1;
}

/** Points of a direction the drift search uses at most (evenly spread over the pairs). */
const FIT_SAMPLE = 4000;

function sample(dir: CoarseDirection): CoarseDirection {
  const n = dir.x.length;
  if (n <= FIT_SAMPLE) return dir;
  const x = new Float64Array(FIT_SAMPLE);
  const d = new Float64Array(FIT_SAMPLE);
  for (let k = 0; k < FIT_SAMPLE; k++) {
    const i = Math.floor((k * n) / FIT_SAMPLE);
    x[k] = dir.x[i]!;
    d[k] = dir.d[i]!;
  }
  return { x, d, sign: dir.sign };
}

/** Pairs in the densest window of width `w` of `d + sign·rate·x`, summed over the directions. */
function score(dirs: CoarseDirection[], rate: number, w: number): number {
  let s = 0;
  for (const dir of dirs) {
    const e = new Float64Array(dir.x.length);
    for (let i = 0; i < e.length; i++) e[i] = dir.d[i]! + dir.sign * rate * dir.x[i]!;
    s += densestWindow(e, w)?.count ?? 0;
  }
  return s;
}

/** Median of a non-empty list. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The drift of the unknown domain from coarse pairs. First a Hough search: the rate on a grid over
 * ±maxRate whose corrected differences cluster the most within `wide` ns (the grid is fine enough
 * for the cluster to stay within it). Then a line through the cluster: its pairs binned by time,
 * each bin's low quantile (the pairs of the same request with the shortest latency, a few wrong
 * pairs below ignored), and the median slope between bins (Theil–Sen) corrects the rate. The rate
 * is 0 unless it moves the offset by more than `matters` ns over the pairs' span: then the first
 * matching pass needs it.
 */
export function coarseDrift(all: CoarseDirection[], maxRate = MAX_RATE, wide = 1_000_000, matters = 50_000): { rate: number; hough: number } {
  const full = all.filter((d) => d.x.length > 0);
  const dirs = full.map(sample);
  let xmin = Infinity;
  let xmax = -Infinity;
  for (const d of dirs)
    for (const v of d.x) {
      xmin = Math.min(xmin, v);
      xmax = Math.max(xmax, v);
    }
  const span = xmax - xmin;
  if (!(span > 0)) return { rate: 0, hough: 0 };
  const step = Math.max(wide / (2 * span), maxRate / 2000);
  let hough = 0;
  let best = -1;
  for (let i = -Math.ceil(maxRate / step); i * step <= maxRate; i++) {
    const rate = i * step;
    const s = score(dirs, rate, wide);
    if (s > best || (s === best && Math.abs(rate) < Math.abs(hough))) [best, hough] = [s, rate];
  }
  // Per direction: e = d + sign·rate·x is flat at the true rate, so its slope at `hough` is sign·(hough − true).
  const BINS = 16;
  let wsum = 0;
  let rsum = 0;
  for (const dir of full) {
    const n = dir.x.length;
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = dir.d[i]! + dir.sign * hough * dir.x[i]!;
    const w = densestWindow(Float64Array.from(e), wide);
    if (!w) continue;
    const bins: { x: number[]; e: number[] }[] = Array.from({ length: BINS }, () => ({ x: [], e: [] }));
    let cmin = Infinity;
    let cmax = -Infinity;
    const inCluster = (i: number): boolean => e[i]! >= w.min - wide && e[i]! <= w.min + 2 * wide;
    for (let i = 0; i < n; i++)
      if (inCluster(i)) {
        cmin = Math.min(cmin, dir.x[i]!);
        cmax = Math.max(cmax, dir.x[i]!);
      }
    if (!(cmax > cmin)) continue;
    for (let i = 0; i < n; i++) {
      if (!inCluster(i)) continue;
      const b = bins[Math.min(BINS - 1, Math.floor(((dir.x[i]! - cmin) / (cmax - cmin)) * BINS))]!;
      b.x.push(dir.x[i]!);
      b.e.push(e[i]!);
    }
    const pts = bins
      .filter((b) => b.e.length >= 3)
      .map((b) => {
        const order = b.e.map((_, k) => k).sort((p, q) => b.e[p]! - b.e[q]!);
        const k = order[Math.floor(0.1 * order.length)]!;
        return [median(b.x), b.e[k]!] as const;
      });
    const slopes: number[] = [];
    for (let p = 0; p < pts.length; p++) for (let q = p + 1; q < pts.length; q++) if (pts[q]![0] !== pts[p]![0]) slopes.push((pts[q]![1] - pts[p]![1]) / (pts[q]![0] - pts[p]![0]));
    if (!slopes.length) continue;
    const weight = w.count;
    rsum += weight * (hough - dir.sign * median(slopes));
    wsum += weight;
  }
  const rate = wsum > 0 ? Math.max(-maxRate, Math.min(maxRate, rsum / wsum)) : hough;
  return { rate: Math.abs(rate) * span > matters ? rate : 0, hough };
}
