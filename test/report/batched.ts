/**
 * A correlation with batched requests, for the tests of the breakdown's merged stages through the
 * report, compare, --group-by and SQL: the bundled simulated Xen blkback trace (two clocks),
 * correlated as usual, with points then made absent by design in some complete requests as the
 * matcher marks them (NaN time, POINT_BATCHED; xen-probes.md decision 10): every third request
 * (store index ≡ 1 mod 3) has no fe_notify and no be_irq of its own (pushed while the back end was
 * awake), every fifth (≡ 2 mod 5) no fe_irq (its response delivered by another request's
 * interrupt). Total times and so trimming by total are those of the plain correlation.
 */
import { join } from 'node:path';
import { breakdown, type Breakdown, type BreakdownOptions } from '../../src/analysis/breakdown.js';
import type { Correlation } from '../../src/correlate/correlate.js';
import { POINT_BATCHED } from '../../src/correlate/engine.js';
import { groupRuns, type Grouping } from '../../src/correlate/runs.js';
import { saveCorrelation } from '../../src/correlate/save.js';
import type { RequestStore } from '../../src/correlate/store.js';
import type { Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse, type Analysis } from '../../src/pipeline/analyse.js';
import { groupBreakdowns } from '../../src/pipeline/groups.js';
import { loadProfile } from '../../src/profiles/index.js';
import { buildReport, type ReportModel } from '../../src/report/model.js';
import { SAMPLES } from '../helpers.js';

/** The points a request of store index i lacks by design (empty: none). */
export function batchedPoints(i: number): string[] {
  return [...(i % 3 === 1 ? ['fe_notify', 'be_irq'] : []), ...(i % 5 === 2 ? ['fe_irq'] : [])];
}

/** The store seen through the batching: its complete requests lack batchedPoints(i). */
export function batchStore(s: RequestStore, path: string[]): RequestStore {
  const gone = (i: number, p: number): boolean => s.status(i) === 'complete' && batchedPoints(i).includes(path[p]!);
  return Object.create(s, {
    t: { value: (i: number, p: number) => (gone(i, p) ? NaN : s.t(i, p)) },
    event: { value: (i: number, p: number) => (gone(i, p) ? NaN : s.event(i, p)) },
    flags: { value: (i: number, p: number) => (gone(i, p) ? POINT_BATCHED : s.flags(i, p)) },
  }) as RequestStore;
}

export interface BatchedReport {
  /** The plain report (nothing batched), not stored. */
  plain: Analysis;
  correlation: Correlation;
  grouping: Grouping;
  breakdown: Breakdown;
  /** With `--group-by op`. */
  model: ReportModel;
}

/** Ingests the sample into `db` (a new database), correlates it, batches it; `save`: stores the batched requests as `xtrace report` does. */
export async function batchedReport(db: Db, method: BreakdownOptions, save = false): Promise<BatchedReport> {
  for (const [file, domain] of [
    ['guest.trace.gz', 'domU'],
    ['dom0.trace.gz', 'dom0'],
  ] as const)
    await ingestFile(db, { path: join(SAMPLES, 'sim-blkback', file) }, { domain });
  const plain = analyse(db, { profile: loadProfile('xen-blkback'), ...method, save: false });
  const path = plain.correlation.path.map((p) => p.name);
  const correlation: Correlation = { ...plain.correlation, requests: batchStore(plain.correlation.requests, path) };
  const grouping = groupRuns(correlation.requests, correlation.markers);
  const b = breakdown(path, grouping.runs, { ...method, keepValues: true });
  let id: number | null = null;
  if (save) {
    const totals = grouping.runs.map(() => 0);
    const kept = grouping.runs.map(() => 0);
    for (const r of b.runs) {
      totals[r.index] = r.totalNs;
      kept[r.index] = r.kept;
    }
    id = saveCorrelation(db, { correlation, grouping, keptFlags: b.keptFlags, runTotals: totals, runKept: kept, options: method, version: 'test' });
  }
  const groups = groupBreakdowns(correlation, grouping, 'op', method, {});
  const model = buildReport(correlation, grouping, b, id, { groupBy: 'op', groups });
  return { plain, correlation, grouping, breakdown: b, model };
}

