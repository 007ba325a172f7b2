/**
 * The simulator's ground truth as the tests read it, and the study's statistic written again from
 * its definition over the truth's complete requests (shared by the tests that check correlation
 * against the truth; it shares no code with src/analysis).
 */
export interface Truth {
  path: string[];
  /** t_ref = t_local + offset, exact without drift (with drift: the offset at the anchor, see clocks). */
  offsets_ns: Record<string, number>;
  files: { file: string; domain: string }[];
  /** The first guest's domain ("domU" with one guest, else "domU5"). */
  reference_domain?: string;
  /**
   * Extended truth (written with any of the simulator's drift, runGapMs, skip, batching, guests,
   * guestDomid options, or extendedTruth): every domain's clock,
   * t_ref = Math.round(anchor_local_ns + offset_ns + (t_local − anchor_local_ns) / (1 + ppm·1e-6)).
   */
  clocks?: Record<string, TruthClock>;
  /** Extended truth: our guests (domid 5, 7, …) and the domains of their files. */
  guests?: { domain: string; domid: number; vdev: number; ring: number; tap_minor?: number; userspace_domain?: string }[];
  requests: TruthRequest[];
}

export interface TruthClock {
  offset_ns: number;
  anchor_local_ns: number;
  ppm: number;
}

export interface TruthRequest {
  run: string;
  /** Rank in its run (and guest), by the time of its first point. */
  seq: number;
  complete: boolean;
  /** Reference time of each point the files have and a reader can place. */
  points: Record<string, number>;
  /** Extended truth: the guest's domain and domid. */
  guest?: string;
  domid?: number;
  /** Extended truth: where each point of "points" is: `<file>:<line>` (1-based, text files and xtbuf text), `<file>#<record>` (0-based, surviving records oldest first, binary xtbuf). */
  at?: Record<string, string>;
  /** Points absent by design (real batching): the request is complete without them. */
  batched?: string[];
  /** Points whose event was not written (`skip`): the request is incomplete. */
  skipped?: string[];
  /** Id-less (or batched) points a reader cannot place or tell from lost events: the request is incomplete. */
  unknowable?: string[];
}

/** Reference time of a local timestamp of `domain` (the truth's clock; offsets_ns when there are no clocks). */
export function trueTime(t: Pick<Truth, 'offsets_ns' | 'clocks'>, domain: string, local: number): number {
  const c = t.clocks?.[domain];
  if (c === undefined || c.ppm === 0) return local + (c?.offset_ns ?? t.offsets_ns[domain]!);
  return Math.round(c.anchor_local_ns + c.offset_ns + (local - c.anchor_local_ns) / (1 + c.ppm * 1e-6));
}

/** The study's statistic, written again from its definition, over the truth's complete requests. */
export function expected(t: Truth, trim: number, warmup: number): { runs: Map<string, { complete: number; kept: number; stages: number[]; total: number }>; stages: number[] } {
  const runs = new Map<string, { complete: number; kept: number; stages: number[]; total: number }>();
  const labels = [...new Set(t.requests.map((r) => r.run))];
  const P = t.path;
  for (const run of labels) {
    const reqs = t.requests.filter((r) => r.run === run && r.complete).sort((a, b) => a.points[P[0]!]! - b.points[P[0]!]! || a.seq - b.seq);
    const rest = reqs.slice(warmup).map((r, i) => ({ r, i, total: r.points[P[P.length - 1]!]! - r.points[P[0]!]! }));
    rest.sort((a, b) => a.total - b.total || a.i - b.i);
    const k = Math.floor(trim * rest.length);
    const kept = rest.slice(k, rest.length - k);
    const stages = P.slice(1).map((to, s) => kept.reduce((acc, x) => acc + (x.r.points[to]! - x.r.points[P[s]!]!), 0) / kept.length);
    runs.set(run, { complete: reqs.length, kept: kept.length, stages, total: kept.reduce((a, x) => a + x.total, 0) / kept.length });
  }
  const stages = P.slice(1).map((_, s) => [...runs.values()].reduce((a, r) => a + r.stages[s]!, 0) / runs.size);
  return { runs, stages };
}
