/**
 * Request by request against the simulator's ground truth (extended truth: `at`, `clocks`,
 * `batched`, `skipped`), written from truth.json and the database's own tables, sharing no code
 * with the engine: which event each point of each stored request is (events.source_id/line, the
 * truth's `<file>:<line>` / `<file>#<record>`), the status of every request per run, and each
 * stage between id-carrying points of every complete request, in the clock of the report's
 * reference domain.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import type { Db } from '../../src/db/db.js';
import type { ReportModel } from '../../src/report/model.js';
import type { Truth, TruthRequest } from './truth.js';

/** Id-less points of the Xen paths (the spec's list): their event may be shared and their choice is the rule's. */
const IDLESS = new Set(['fe_notify', 'be_irq', 'fe_irq', 'td_ring_event', 'td_notify', 'qd_event', 'qd_notify']);

export interface PerRequestResult {
  complete: number;
  incomplete: number;
  /** Stages compared (id-carrying neighbours of complete requests), within one clock and across. */
  sameClock: number;
  crossClock: number;
  /** Largest |error| of a same-clock stage (ns). */
  worstSameClockNs: number;
}

/** The truth's time of a point converted to the local clock of `dom` (the report's reference). */
function toLocal(t: Truth, dom: string, ref: number): number {
  const c = t.clocks?.[dom];
  if (!c) return ref - t.offsets_ns[dom]!;
  // t_ref = anchor + offset + (local − anchor) / (1 + ppm e-6)
  return c.anchor_local_ns + (ref - c.anchor_local_ns - c.offset_ns) * (1 + c.ppm * 1e-6);
}

/**
 * `sameClockNs`: tolerance of a same-clock stage (1 µs printed resolution is already in the truth;
 * what remains is the rate's estimate applied to a short span: a few ns at most).
 */
export function checkPerRequest(db: Db, m: ReportModel, truth: Truth, o: { sameClockNs?: number } = {}): PerRequestResult {
  const tol = o.sameClockNs ?? 2;
  const P = truth.path;
  assert.deepEqual(m.points, P, 'path');
  const ref = m.domains.find((d) => d.method === 'reference')!.name;
  const unc = new Map(m.domains.map((d) => [d.name, d.uncertainty_ns ?? 0]));
  // A domain's durations are scaled by its estimated rate: within one clock a stage is exact up to
  // the rate's error (at most the width of its drift interval) times its length.
  const rateErr = new Map(m.domains.map((d) => [d.name, d.drift_lower_ppm === null || d.drift_upper_ppm === null ? 0 : (d.drift_upper_ppm - d.drift_lower_ppm) * 1e-6]));
  const domOfFile = new Map(truth.files.map((f) => [f.file, f.domain]));
  const where = new Map<number, string>();
  for (const e of db.prepare<{ id: number; path: string; line: number; binary: number }>("SELECT e.id, s.path, e.line, s.format LIKE 'xtbuf%' AND s.format NOT LIKE '%text%' AS binary FROM event_data e JOIN sources s ON s.id = e.source_id").iterate())
    where.set(e.id, e.binary ? `${basename(e.path)}#${e.line - 1}` : `${basename(e.path)}:${e.line}`);
  // Each id-carrying event belongs to one request of the truth.
  const owner = new Map<string, TruthRequest>();
  for (const r of truth.requests) {
    assert.ok(r.at, 'extended truth (at) needed');
    for (const p of P) if (r.at[p] !== undefined && !IDLESS.has(p)) owner.set(r.at[p], r);
  }
  const rows = db.prepare<{ run: string | null; status: string; points: string; events: string; start_ts_ns: number }>('SELECT run, status, points, events, start_ts_ns FROM requests ORDER BY seq').all();
  const counts = new Map<string, [number, number]>();
  const want = new Map<string, [number, number]>();
  for (const r of truth.requests) {
    const c = want.get(r.run) ?? [0, 0];
    c[r.complete ? 0 : 1]++;
    want.set(r.run, c);
  }
  const res: PerRequestResult = { complete: 0, incomplete: 0, sameClock: 0, crossClock: 0, worstSameClockNs: 0 };
  const seen = new Set<TruthRequest>();
  for (const row of rows) {
    const evs = JSON.parse(row.events) as (number | null)[];
    const pts = JSON.parse(row.points) as (number | null)[];
    const loc = evs.map((e) => (e === null ? null : where.get(e)!));
    const opener = loc.find((l) => l !== null)!;
    // The truth request of its first id-carrying event (an orphan: a request whose first points were skipped).
    const firstId = loc.find((l, i) => l !== null && !IDLESS.has(P[i]!))!;
    const t = owner.get(firstId);
    assert.ok(t, `request opened by ${opener} is no request of the truth`);
    assert.ok(!seen.has(t), `two requests hold events of the truth request of ${firstId}`);
    seen.add(t);
    const label = `request opened by ${opener} (truth: run ${t.run}, ${t.complete ? 'complete' : `incomplete, skipped ${t.skipped ?? []} unknowable ${t.unknowable ?? []}`})`;
    // An orphan is a request that lacks its first point: incomplete in the truth's terms.
    assert.equal(row.status === 'orphan' ? 'incomplete' : row.status, t.complete ? 'complete' : 'incomplete', `${label}: status`);
    const run = row.status === 'orphan' ? t.run : (row.run ?? '(outside)');
    const c = counts.get(run) ?? [0, 0];
    c[row.status === 'complete' ? 0 : 1]++;
    counts.set(run, c);
    // No event of another request: every id-carrying point holds the truth's event of this request.
    P.forEach((p, i) => {
      if (loc[i] === null || IDLESS.has(p)) return;
      assert.equal(loc[i], t.at![p], `${label}: ${p} holds ${loc[i]}, the truth's is ${t.at![p] ?? 'none'}`);
    });
    if (row.status !== 'complete') {
      res.incomplete++;
      continue;
    }
    res.complete++;
    // Batched points are absent by design: never present in the truth, and the request is complete.
    for (const b of t.batched ?? []) assert.equal(t.points[b], undefined, `${label}: batched ${b} has a time in the truth`);
    // Stages between id-carrying points, and the total, in the reference clock.
    const ids = P.flatMap((p, i) => (IDLESS.has(p) ? [] : [i]));
    const domOf = (p: string): string => domOfFile.get(t.at![p]!.replace(/[:#]\d+$/, ''))!;
    const tt = (p: string): number => toLocal(truth, ref, t.points[p]!);
    const pairs: [number, number][] = [];
    for (let k = 1; k < ids.length; k++) pairs.push([ids[k - 1]!, ids[k]!]);
    pairs.push([0, P.length - 1]);
    for (const [a, b] of pairs) {
      const pa = P[a]!;
      const pb = P[b]!;
      assert.notEqual(pts[a], null, `${label}: ${pa} missing in a complete request`);
      assert.notEqual(pts[b], null, `${label}: ${pb} missing in a complete request`);
      const got = pts[b]! - pts[a]!;
      const exp = tt(pb) - tt(pa);
      const err = Math.abs(got - exp);
      const da = domOf(pa);
      const dbb = domOf(pb);
      if (da === dbb) {
        res.sameClock++;
        res.worstSameClockNs = Math.max(res.worstSameClockNs, err);
        assert.ok(err <= tol + Math.abs(exp) * rateErr.get(da)!, `${label}: ${pa}->${pb} (${da}) = ${got} ns, truth ${exp.toFixed(1)} ns`);
      } else {
        res.crossClock++;
        const u = (da === ref ? 0 : unc.get(da)!) + (dbb === ref ? 0 : unc.get(dbb)!);
        assert.ok(err <= u + tol, `${label}: ${pa}->${pb} (${da}→${dbb}) = ${got} ns, truth ${exp.toFixed(1)} ns, beyond ±${u}`);
      }
    }
  }
  // Every request of the truth was found, and the counts per run agree. An orphan has no run (it
  // lacks the first point that places it): counted with the truth request's run.
  for (const r of truth.requests) assert.ok(seen.has(r), `truth request of run ${r.run} (${r.at?.[P[0]!] ?? Object.values(r.at ?? {})[0]}) not found`);
  for (const [run, [cw, iw]] of want) {
    const [cg, ig] = counts.get(run) ?? [0, 0];
    assert.deepEqual([cg, ig], [cw, iw], `run ${run}: complete/incomplete`);
  }
  return res;
}
