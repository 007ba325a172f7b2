/**
 * The simulator's ground truth as the tests read it, and the study's statistic written again from
 * its definition over the truth's complete requests (shared by the tests that check correlation
 * against the truth; it shares no code with src/analysis).
 */
export interface Truth {
  path: string[];
  offsets_ns: Record<string, number>;
  files: { file: string; domain: string }[];
  requests: { run: string; seq: number; complete: boolean; points: Record<string, number> }[];
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
