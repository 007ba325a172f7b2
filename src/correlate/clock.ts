/**
 * Clock domains. Each domain's timestamps are mapped onto the reference domain's clock with one
 * offset. Given offsets are used as they are; the others are estimated from causality: every
 * cross-domain link of a complete request (A in X, then B in Y) says B happened after A, which
 * bounds the offset of Y relative to X from one side; links in the other direction bound it from
 * the other. The estimate is the middle of the feasible interval and its half-width is the
 * uncertainty. An empty interval is a contradiction and is reported, never papered over.
 *
 * Internally a domain's time is `rel` (ns since the domain's first event) and its adjusted time is
 * `rel + shift`; `shift` is what this module computes.
 */
import { InputError } from '../core/errors.js';

/** Bounds on δ = shift[y] − shift[x] for a pair of domains x < y, with the links that set them. */
export interface PairBounds {
  x: number;
  y: number;
  lo: number;
  hi: number;
  loWitness: string | null;
  hiWitness: string | null;
  links: number;
}

export class BoundsCollector {
  private readonly pairs = new Map<string, PairBounds>();
  /** Every bound, when kept for a robust (trimmed) estimate: pair key → [lows, highs]. */
  private readonly all = new Map<string, [number[], number[]]>();
  /**
   * `resolution[d]`: how coarse domain d's printed timestamps are (ns; 1000 for µs ftrace text).
   * A printed time may be up to that much before the true instant, so each bound from a later event
   * of d is loosened by it.
   */
  constructor(
    private readonly keepAll = false,
    private readonly resolution: readonly number[] = [],
  ) {}

  /** A happened (rel time ta in domain da) before B (rel time tb in domain db). */
  link(da: number, ta: number, db: number, tbPrinted: number, witness: () => string): void {
    if (da === db) return;
    // The true instant of B is in [tb, tb + resolution): B after A bounds with its latest possible time.
    const tb = tbPrinted + (this.resolution[db] ?? 0);
    const x = Math.min(da, db);
    const y = Math.max(da, db);
    const k = `${x},${y}`;
    let b = this.pairs.get(k);
    if (!b) this.pairs.set(k, (b = { x, y, lo: -Infinity, hi: Infinity, loWitness: null, hiWitness: null, links: 0 }));
    b.links++;
    let all: [number[], number[]] | undefined;
    if (this.keepAll) {
      all = this.all.get(k);
      if (!all) this.all.set(k, (all = [[], []]));
    }
    if (da === x) {
      // tb + s_y ≥ ta + s_x  ⇒  δ ≥ ta − tb
      const v = ta - tb;
      all?.[0].push(v);
      if (v > b.lo) {
        b.lo = v;
        b.loWitness = witness();
      }
    } else {
      // tb + s_x ≥ ta + s_y  ⇒  δ ≤ tb − ta
      const v = tb - ta;
      all?.[1].push(v);
      if (v < b.hi) {
        b.hi = v;
        b.hiWitness = witness();
      }
    }
  }

  list(): PairBounds[] {
    return [...this.pairs.values()];
  }

  /**
   * Bounds ignoring the `frac` most extreme links on each side (at least one): for a first pass,
   * whose loose tolerance can pair a request with a neighbour's event. A real clock contradiction
   * involves most links and survives this.
   */
  robust(frac: number): PairBounds[] {
    return this.list().map((b) => {
      const [lows, highs] = this.all.get(`${b.x},${b.y}`) ?? [[], []];
      const lo = [...lows].sort((p, q) => q - p);
      const hi = [...highs].sort((p, q) => p - q);
      const k = (n: number): number => Math.min(n - 1, Math.max(1, Math.floor(frac * n)));
      return {
        ...b,
        lo: lo.length > 1 ? lo[k(lo.length)]! : b.lo,
        hi: hi.length > 1 ? hi[k(hi.length)]! : b.hi,
      };
    });
  }
}

export interface DomainShift {
  shift: number;
  /** Half-width of the feasible interval relative to the reference (sum along the estimation path). */
  uncertainty: number;
  method: 'reference' | 'given' | 'estimated' | 'unlinked';
  /** Bounds on the offset from the parent domain it was estimated from. */
  lo: number | null;
  hi: number | null;
  parent: number | null;
  links: number;
}

/**
 * Shifts for every domain from pair bounds: breadth-first from the reference over pairs with a
 * finite interval (or a given shift). `names` for messages.
 */
export function solveShifts(
  n: number,
  reference: number,
  given: Map<number, number>,
  pairs: PairBounds[],
  names: readonly string[],
  needed: Set<number>,
  /** Each domain's `rel` origin (local ns), to state bounds as real offsets in messages. */
  bases: readonly bigint[],
): DomainShift[] {
  for (const p of pairs) {
    if (p.lo > p.hi) {
      // t_x = t_y + (δ + base_x − base_y): the offset that maps y's clock onto x's.
      const real = (d: number): string => String(BigInt(Math.round(d)) + bases[p.x]! - bases[p.y]!);
      throw new InputError(
        `inconsistent clocks between domains ${names[p.x]} and ${names[p.y]}: causality needs t_${names[p.x]} = t_${names[p.y]} + offset with offset ≥ ${real(p.lo)} ns (${p.loWitness}) and ≤ ${real(p.hi)} ns (${p.hiWitness}); no offset satisfies both. Check that each file was ingested with the right --domain, or give the offsets with --offset`,
      );
    }
  }
  const out: (DomainShift | null)[] = new Array(n).fill(null);
  out[reference] = { shift: 0, uncertainty: 0, method: 'reference', lo: null, hi: null, parent: null, links: 0 };
  for (const [d, s] of given) if (d !== reference) out[d] = { shift: s, uncertainty: 0, method: 'given', lo: null, hi: null, parent: null, links: 0 };
  // Given domains also bound nothing further; estimate the rest from anything already placed.
  for (;;) {
    let progressed = false;
    for (const p of pairs) {
      const known = out[p.x] && !out[p.y] ? 'x' : out[p.y] && !out[p.x] ? 'y' : null;
      if (!known || !Number.isFinite(p.lo) || !Number.isFinite(p.hi)) continue;
      const mid = (p.lo + p.hi) / 2;
      const half = (p.hi - p.lo) / 2;
      if (known === 'x') {
        const base = out[p.x]!;
        out[p.y] = { shift: base.shift + mid, uncertainty: base.uncertainty + half, method: 'estimated', lo: p.lo, hi: p.hi, parent: p.x, links: p.links };
      } else {
        const base = out[p.y]!;
        out[p.x] = { shift: base.shift - mid, uncertainty: base.uncertainty + half, method: 'estimated', lo: -p.hi, hi: -p.lo, parent: p.y, links: p.links };
      }
      progressed = true;
    }
    if (!progressed) break;
  }
  return out.map((s, d) => {
    if (s) return s;
    if (needed.has(d)) {
      const one = pairs.find((p) => p.x === d || p.y === d);
      const why = one
        ? `its requests only bound the offset from one side (${Number.isFinite(one.lo) ? 'no link back' : 'no link towards it'})`
        : 'no complete request links it with the reference domain';
      throw new InputError(`cannot estimate the clock offset of domain ${names[d]}: ${why}; give it with --offset ${names[d]}=NS (t_ref = t_${names[d]} + NS)`);
    }
    return { shift: 0, uncertainty: 0, method: 'unlinked', lo: null, hi: null, parent: null, links: 0 };
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
