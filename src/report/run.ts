/**
 * The whole `xtrace report` job as a library call (the CLI, the tests and the bench use it):
 * correlate → group into runs → the study's statistic → store in the database → report model.
 */
import type { Db } from '../db/db.js';
import { breakdown, validateBreakdownOptions, type BreakdownOptions } from '../analysis/breakdown.js';
import { correlate } from '../correlate/correlate.js';
import type { Profile } from '../correlate/profile.js';
import { groupRuns } from '../correlate/runs.js';
import { saveCorrelation } from '../correlate/save.js';
import { buildReport, type ReportModel } from './model.js';

export interface ReportOptions extends BreakdownOptions {
  profile: Profile;
  /** Given clock offsets: t_reference = t_domain + offset (ns). */
  offsets?: Map<string, bigint>;
  /** Store the correlated requests in the database (default true). */
  save?: boolean;
  version: string;
  onStep?: (what: string) => void;
}

export function runReport(db: Db, o: ReportOptions): ReportModel {
  validateBreakdownOptions(o);
  const c = correlate(db, o.profile, { ...(o.offsets ? { offsets: o.offsets } : {}), onPass: (p, w) => o.onStep?.(`pass ${p}: ${w}`) });
  const g = groupRuns(c.requests, c.markers);
  const b = breakdown(
    c.path.map((p) => p.name),
    g.runs,
    { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy },
  );
  let id: number | null = null;
  if (o.save !== false) {
    o.onStep?.('storing requests');
    id = saveCorrelation(db, {
      correlation: c,
      grouping: g,
      keptFlags: b.runs.map((r) => r.keptFlags),
      runTotals: b.runs.map((r) => r.totalNs),
      runKept: b.runs.map((r) => r.kept),
      options: { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy },
      version: o.version,
    });
  }
  return buildReport(c, g, b, id);
}
