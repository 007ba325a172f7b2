/**
 * Runs: requests grouped by the `xtrace: run=<label> begin|end` markers (any domain; the text is
 * defined in src/profiles/markers.ts, a profile's `markers` may match another), each run's
 * complete requests in start order as one flat array of point times (the input of the analysis;
 * a batched request's absent points are NaN there). No markers: one run, labelled `all`.
 */
import type { Marker } from './engine.js';
import type { RequestStore } from './store.js';

export interface RunGroup {
  label: string;
  /** Adjusted times of the markers (null: no marker, the whole trace). */
  begin: number | null;
  end: number | null;
  /** Requests (of any status) that started inside the run. */
  requests: number;
  complete: number;
  incomplete: number;
  orphans: number;
  /** Store indices of the complete requests, in start order. */
  index: Int32Array;
  /**
   * Point times of the complete requests, request after request (index.length × points). NaN at a
   * point a complete request lacks by design (batched: RequestStore.flags has POINT_BATCHED), never
   * at its first or last point; the breakdown gives such a request the merged stage.
   *
   * Built from the store on each access, not kept (every run's times at once would hold 56 bytes
   * per complete request of a 7-point path: 224 MB for 4 M requests): read it once per pass.
   */
  readonly times: Float64Array;
}

export interface RunNotes {
  /** Requests that started outside every run (markers present). */
  outside: number;
  /** Begin markers with no end (the run extends to the end of the trace). */
  notEnded: string[];
  /** End markers with no begin. */
  strayEnds: string[];
  /** Labels seen more than once (renamed `label#2` ...). */
  repeated: string[];
}

export interface Grouping {
  runs: RunGroup[];
  notes: RunNotes;
  /** Store indices in start order (ties: finish order). */
  order: Int32Array;
  /** Store index → run index, −1 outside every run (or removed by a request filter). */
  runOf: Int32Array;
  /** With request filters: store index → 1 when a filter removed it. */
  filtered?: Uint8Array;
}

/** `include`: a request filter; a request it rejects belongs to no run and is not counted (store index → keep?). */
export function groupRuns(store: RequestStore, markers: Marker[], include?: (i: number) => boolean): Grouping {
  const notes: RunNotes = { outside: 0, notEnded: [], strayEnds: [], repeated: [] };
  const sorted = [...markers].sort((a, b) => a.t - b.t || a.eventId - b.eventId);
  const spans: { label: string; begin: number | null; end: number | null }[] = [];
  // Several traces may mark the same run (each guest records its own markers): a run is open from
  // its first begin to the end of the last domain that began it.
  const open = new Map<string, { span: { label: string; begin: number | null; end: number | null }; domains: Set<number> }>();
  const used = new Map<string, number>();
  for (const m of sorted) {
    if (m.edge === 'begin') {
      const o = open.get(m.run);
      if (o && !o.domains.has(m.domain)) {
        o.domains.add(m.domain);
        continue;
      }
      if (o) notes.notEnded.push(m.run);
      const n = (used.get(m.run) ?? 0) + 1;
      used.set(m.run, n);
      if (n === 2) notes.repeated.push(m.run);
      const span = { label: n > 1 ? `${m.run}#${n}` : m.run, begin: m.t, end: Infinity as number | null };
      spans.push(span);
      open.set(m.run, { span, domains: new Set([m.domain]) });
    } else {
      const o = open.get(m.run);
      if (!o || !o.domains.has(m.domain)) notes.strayEnds.push(m.run);
      else {
        o.domains.delete(m.domain);
        if (o.domains.size === 0) {
          o.span.end = m.t;
          open.delete(m.run);
        }
      }
    }
  }
  for (const o of open.values()) notes.notEnded.push(o.span.label);
  if (spans.length === 0) spans.push({ label: 'all', begin: null, end: null });

  const P = store.points;
  const n = store.length;
  const starts = new Float64Array(n);
  for (let i = 0; i < n; i++) starts[i] = store.start(i);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => starts[a]! - starts[b]! || a - b);

  const runOf = (t: number): number => {
    if (spans[0]!.begin === null) return 0;
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (t >= s.begin! && t <= s.end!) return k;
    }
    return -1;
  };
  const runOfReq = new Int32Array(n).fill(-1);
  const filtered = new Uint8Array(include ? n : 0);
  const counts = spans.map(() => ({ requests: 0, complete: 0, incomplete: 0, orphans: 0 }));
  let k = 0;
  for (const i of order) {
    if (include && !include(i)) {
      filtered[i] = 1;
      continue;
    }
    // Runs do not overlap and starts are sorted: advance k instead of searching (with a fallback).
    const t = starts[i]!;
    let r: number;
    const s = spans[k]!;
    if (s.begin === null) r = 0;
    else if (t >= s.begin && t <= s.end!) r = k;
    else {
      r = runOf(t);
      if (r >= 0) k = r;
    }
    if (r < 0) {
      notes.outside++;
      continue;
    }
    runOfReq[i] = r;
    const c = counts[r]!;
    c.requests++;
    const st = store.status(i);
    if (st === 'complete') c.complete++;
    else if (st === 'orphan') c.orphans++;
    else c.incomplete++;
  }
  // Each run's complete requests (store indices) in start order, in arrays of the counted size.
  const members = counts.map((c) => new Int32Array(c.complete));
  const filled = new Int32Array(spans.length);
  for (const i of order) {
    const r = runOfReq[i]!;
    if (r >= 0 && store.status(i) === 'complete') members[r]![filled[r]!++] = i;
  }
  const runs = spans.map((s, r): RunGroup => {
    const idx = members[r]!;
    return {
      label: s.label,
      begin: s.begin,
      end: s.end === Infinity ? null : s.end,
      ...counts[r]!,
      index: idx,
      get times() {
        const times = new Float64Array(idx.length * P);
        for (let j = 0; j < idx.length; j++) for (let p = 0; p < P; p++) times[j * P + p] = store.t(idx[j]!, p);
        return times;
      },
    };
  });
  return { runs, notes, order, runOf: runOfReq, ...(include ? { filtered } : {}) };
}
