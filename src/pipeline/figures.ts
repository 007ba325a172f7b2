/**
 * The data of a report's pictures (src/report/figures.ts), from an analysis: per row of the
 * breakdown and for the total, the durations of the complete requests after warm-up of the
 * reported runs that have it, binned on a log axis with the kept and the trimmed apart; and the
 * slowest kept requests with the events their points took (task, CPU, line: read from the
 * database, the one step here that needs it).
 */
import { nearestRank, trimMiddle } from '../analysis/breakdown.js';
import type { Db } from '../db/db.js';
import { stageLayers } from '../profiles/layers.js';
import { logBins, type Distribution, type Figures, type PointEvent, type SlowRequest } from '../report/figures.js';
import type { Analysis } from './analyse.js';

/** How many of the slowest kept requests the waterfall shows. */
export const SLOWEST = 12;

/** A request's duration from point a to point b when it has that row (b the next point present after a), else NaN. */
function rowValue(t: Float64Array, at: number, a: number, b: number): number {
  const ta = t[at + a]!;
  const tb = t[at + b]!;
  if (Number.isNaN(ta) || Number.isNaN(tb)) return NaN;
  for (let p = a + 1; p < b; p++) if (!Number.isNaN(t[at + p]!)) return NaN;
  return tb - ta;
}

function distribution(name: string, values: Float64Array, kept: Uint8Array): Distribution {
  const { bins, nonpositive } = logBins(values, kept);
  const sorted = values.slice().sort();
  let sum = 0;
  let keptSum = 0;
  let keptN = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (kept[i]) {
      keptSum += values[i]!;
      keptN++;
    }
  }
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
  return {
    name,
    requests: values.length,
    kept: keptN,
    nonpositive,
    bins,
    kept_mean_ns: keptN ? keptSum / keptN : null,
    untrimmed_mean_ns: values.length ? sum / values.length : null,
    p50_ns: finite(nearestRank(sorted, 50)),
    p99_ns: finite(nearestRank(sorted, 99)),
  };
}

/** Distributions of every row of the breakdown (its order), then the total. */
function distributions(a: Analysis): Distribution[] {
  const b = a.breakdown;
  const P = b.points.length;
  const byStage = b.options.trimBy === 'stage';
  const rows = [...b.stages.map((s) => ({ name: s.name, from: s.fromIndex, to: s.toIndex })), { name: 'total', from: 0, to: P - 1 }];
  const capacity = b.runs.reduce((n, r) => n + a.grouping.runs[r.index]!.index.length, 0);
  // One pair of typed arrays for every row in turn: a million requests are 9 MB, not a million boxed numbers.
  const values = new Float64Array(capacity);
  const kept = new Uint8Array(capacity);
  return rows.map((row) => {
    let m = 0;
    const isTotal = row.name === 'total';
    for (const r of b.runs) {
      const run = a.grouping.runs[r.index]!;
      const flags = b.keptFlags[r.index]!;
      const times = run.times;
      const n = times.length / P;
      const start = m;
      for (let j = 0; j < n; j++) {
        if (flags[j] === 2) continue;
        const v = isTotal ? times[j * P + P - 1]! - times[j * P]! : rowValue(times, j * P, row.from, row.to);
        if (Number.isNaN(v)) continue;
        values[m] = v;
        kept[m++] = flags[j] === 1 ? 1 : 0;
      }
      // --trim-by stage: the row's own trimming among the run's requests that have it (breakdown.ts).
      if (byStage && !isTotal) {
        kept.fill(0, start, m);
        for (const k of trimMiddle(start, m - start, b.options.trim, (i) => values[i]!)) kept[k] = 1;
      }
    }
    return distribution(row.name, values.subarray(0, m), kept.subarray(0, m));
  });
}

interface Candidate {
  run: number;
  seq: number;
  index: number;
  total: number;
}

/** The `count` slowest kept requests (by total; ties: earlier run, earlier request first), slowest first. */
function slowestKept(a: Analysis, count: number): Candidate[] {
  const b = a.breakdown;
  const P = b.points.length;
  const top: Candidate[] = [];
  for (const r of b.runs) {
    const run = a.grouping.runs[r.index]!;
    const flags = b.keptFlags[r.index]!;
    const times = run.times;
    for (let j = 0; j < run.index.length; j++) {
      if (flags[j] !== 1) continue;
      const total = times[j * P + P - 1]! - times[j * P]!;
      if (top.length === count && total <= top[top.length - 1]!.total) continue;
      const c = { run: r.index, seq: j + 1, index: run.index[j]!, total };
      let k = top.length;
      while (k > 0 && top[k - 1]!.total < total) k--;
      top.splice(k, 0, c);
      if (top.length > count) top.pop();
    }
  }
  return top;
}

interface EventRow {
  id: number;
  line: number;
  cpu: number | null;
  pid: number | null;
  comm: string | null;
  name: string;
  args: string;
  path: string;
}

export function figuresOf(db: Db, a: Analysis, o: { slowest?: number } = {}): Figures {
  const c = a.correlation;
  const store = c.requests;
  const P = c.path.length;
  const picked = slowestKept(a, o.slowest ?? SLOWEST);
  const ids = new Set<number>();
  for (const q of picked)
    for (let p = 0; p < P; p++) {
      const e = store.event(q.index, p);
      if (!Number.isNaN(e)) ids.add(e);
    }
  const events = new Map<number, EventRow>();
  if (ids.size) {
    const rows = db
      .prepare<EventRow>(`SELECT e.id, e.line, e.cpu, e.pid, e.comm, e.name, e.args, s.path FROM events e JOIN sources s ON s.id = e.source_id WHERE e.id IN (${[...ids].join(',')})`)
      .all();
    for (const r of rows) events.set(r.id, r);
  }
  const slowest: SlowRequest[] = picked.map((q) => {
    const start = store.start(q.index);
    const points: PointEvent[] = c.path.map((pt, p) => {
      const t = store.t(q.index, p);
      const ev = store.event(q.index, p);
      const e = Number.isNaN(ev) ? undefined : events.get(ev);
      const d = store.domain(q.index, p);
      return {
        point: pt.name,
        at_ns: Number.isNaN(t) ? null : t - start,
        domain: Number.isNaN(t) || d < 0 ? null : (c.domains[d]?.name ?? null),
        source: e?.path ?? null,
        line: e?.line ?? null,
        cpu: e?.cpu ?? null,
        task: e?.comm ?? null,
        pid: e?.pid ?? null,
        event: e?.name ?? null,
        args: e?.args ?? null,
      };
    });
    return { run: a.grouping.runs[q.run]!.label, seq: q.seq, total_ns: q.total, points };
  });
  return { distributions: distributions(a), slowest, layers: Object.fromEntries(stageLayers(c.path)) };
}
