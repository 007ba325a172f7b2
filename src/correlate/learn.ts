/**
 * What one matching pass teaches the next (profiles with `skips` or `identity`, several clock
 * domains: the pass loop of correlate.ts):
 *  - how long a request plausibly waits for each id-carrying point: far beyond what nearly every
 *    complete request waited (10 × the 99th percentile, and at least 1 ms more) (spec decision 8: a request never waits 10 ms for a point whose
 *    stage lasts 5 µs, to take a later request's event);
 *  - which identity (Xen: domid) each domain's requests carry, when they agree: a guest's trace
 *    does not say its domid, dom0's does; with several guests reading the same sectors the first
 *    pass may pair a few requests across guests, the next one cannot.
 */
import type { Profile, ProfilePoint } from '../profiles/index.js';
import type { RequestStore } from './store.js';

/** The wait bound: this many times the 99th percentile of the waits of complete requests, and at least this much more (ns). */
export const WAIT_BOUND_FACTOR = 10;
/** Complete requests needed before a bound is set. */
export const WAIT_BOUND_MIN_REQUESTS = 100;
export const WAIT_BOUND_MIN_EXTRA_NS = 1_000_000;
/** A domain's identity is learnt when at least this share of its requests agree on it. */
const IDENTITY_AGREEMENT = 0.9;

export interface Learnt {
  waitBound?: Float64Array;
  domainIdentity?: (ReadonlyMap<string, string> | undefined)[];
}

export function learnFromPass(store: RequestStore, path: ProfilePoint[], profile: Profile, domains: number): Learnt {
  const out: Learnt = {};
  const P = path.length;
  if (profile.skips) {
    const waits: number[][] = path.map(() => []);
    for (let i = 0; i < store.length; i++) {
      if (store.status(i) !== 'complete') continue;
      let prev = NaN;
      for (let p = 0; p < P; p++) {
        const t = store.t(i, p);
        if ((path[p]!.join?.mode ?? 'nearest') !== 'nearest' || Number.isNaN(t)) continue;
        if (!Number.isNaN(prev)) waits[p]!.push(t - prev);
        prev = t;
      }
    }
    // The 99th percentile (nearest rank), not the maximum: a request of the previous pass that took
    // a later request's event (what this bound prevents) must not set it. Too few requests to say
    // what is plausible: no bound.
    out.waitBound = Float64Array.from(waits, (w) => {
      if (w.length < WAIT_BOUND_MIN_REQUESTS) return Infinity;
      w.sort((a, b) => a - b);
      const p99 = Math.max(0, w[Math.ceil(0.99 * w.length) - 1]!);
      return Math.max(WAIT_BOUND_FACTOR * p99, p99 + WAIT_BOUND_MIN_EXTRA_NS);
    });
  }
  if (profile.identity.length) {
    const identity: (Map<string, string> | undefined)[] = new Array(domains).fill(undefined);
    for (const f of profile.identity) {
      const k = store.attrPosition(f);
      if (k < 0) continue;
      const votes = Array.from({ length: domains }, () => new Map<string, number>());
      const totals = new Array(domains).fill(0) as number[];
      // Every domain a request has events in votes (a guest, its own tapdisk; dom0, shared, agrees on nothing).
      const seenD = new Set<number>();
      for (let i = 0; i < store.length; i++) {
        if (store.status(i) === 'orphan') continue;
        const v = store.attrAt(i, k);
        if (v === undefined) continue;
        seenD.clear();
        for (let p = 0; p < P; p++) {
          const d = store.domain(i, p);
          if (d < 0 || seenD.has(d)) continue;
          seenD.add(d);
          votes[d]!.set(v, (votes[d]!.get(v) ?? 0) + 1);
          totals[d]!++;
        }
      }
      votes.forEach((m, d) => {
        let best: string | undefined;
        let n = 0;
        for (const [v, c] of m) if (c > n) [best, n] = [v, c];
        if (best !== undefined && n >= IDENTITY_AGREEMENT * totals[d]!) (identity[d] ??= new Map()).set(f, best);
      });
    }
    if (identity.some((m) => m !== undefined)) out.domainIdentity = identity;
  }
  return out;
}

/**
 * Before any matching (coarse alignment): which identity value (domid) each domain's requests
 * carry, from the strongly-keyed pairs of the coarse alignment. `pairs` holds, per (domain of the
 * opening side, identity value the other side carries), the pairs' times [ta, tb − ta]. Guests
 * running the same workload at once read the same sectors at nearly the same times, so pairs with
 * the wrong guest cluster too, only less tightly: their differences wander by every request's
 * latency, the right guest's stay within one stage's spread. So the score is, per burst of pairs
 * (a gap of more than 10 ms between two A times starts a new one: a run), the densest window of
 * `width` ns, summed over bursts. The value with the best score wins when it beats the runner-up
 * by half again; otherwise the domain stays unknown (the passes learn it from their requests).
 */
export function identityFromPairs(pairs: Map<number, Map<string, [number, number][]>>, domains: number, field: string, width: number, densest: (d: Float64Array, w: number) => { count: number } | null): (ReadonlyMap<string, string> | undefined)[] {
  const out: (Map<string, string> | undefined)[] = new Array(domains).fill(undefined);
  const score = (arr: [number, number][]): number => {
    arr.sort((x, y) => x[0] - y[0]);
    let total = 0;
    let from = 0;
    for (let i = 1; i <= arr.length; i++) {
      if (i < arr.length && arr[i]![0] - arr[i - 1]![0] <= IDENTITY_BURST_GAP_NS) continue;
      total += densest(Float64Array.from(arr.slice(from, i), (x) => x[1]), width)?.count ?? 0;
      from = i;
    }
    return total;
  };
  for (const [d, byValue] of pairs) {
    let best: string | undefined;
    let n = 0;
    let second = 0;
    for (const [v, arr] of byValue) {
      const c = score(arr);
      if (c > n) [best, n, second] = [v, c, n];
      else if (c > second) second = c;
    }
    if (best !== undefined && n >= 1.5 * second) out[d] = new Map([[field, best]]);
  }
  return out;
}

/** A gap between the opening events of coarse pairs that starts a new burst (identityFromPairs). */
const IDENTITY_BURST_GAP_NS = 10_000_000;
/** Window of identityFromPairs: the spread of one stage's latency. */
export const IDENTITY_WINDOW_NS = 30_000;
