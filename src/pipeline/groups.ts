/**
 * `--group-by op|size`: one breakdown per group of requests (the direction, or the size in
 * bytes), each as if the report had been filtered to that group: the group's requests of each
 * run, the same warm-up and trimming, the same tail statistics. A run with no complete request of
 * a group is listed in that group's `excluded_runs` (not a reason to refuse: a run of reads has
 * no writes). A group's rows are its own: the merged stages of its batched requests (with their
 * counts among its kept requests), so they may differ from the whole report's.
 */
import { breakdown, type BreakdownOptions } from '../analysis/breakdown.js';
import type { Correlation } from '../correlate/correlate.js';
import { groupRuns, type Grouping } from '../correlate/runs.js';
import type { RequestStore } from '../correlate/store.js';
import { breakdownSection, type ReportExtras, type ReportGroup } from '../report/model.js';
import { plural } from '../report/format.js';
import { requestBytes, requestOp } from './filters.js';

export type GroupBy = 'op' | 'size' | 'domid';
export const GROUP_BY: readonly GroupBy[] = ['op', 'size', 'domid'];

/** The group key of request i: its direction (`R`, `W` …), its size in bytes, or its guest's domid (Xen, several guests); `unknown` when the request does not say. */
export function groupKey(by: GroupBy, store: RequestStore, i: number): string {
  if (by === 'op') return requestOp(store, i) ?? 'unknown';
  if (by === 'domid') return store.attr(i, 'domid') ?? 'unknown';
  const bytes = requestBytes(store, i);
  return bytes === undefined ? 'unknown' : String(bytes);
}

/** Keys in report order: directions alphabetically, sizes by value; `unknown` last. */
function order(by: GroupBy, keys: Iterable<string>): string[] {
  const known = [...keys].filter((k) => k !== 'unknown');
  known.sort(by !== 'op' ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...known, ...([...keys].includes('unknown') ? ['unknown'] : [])];
}

/**
 * The groups of the requests the report kept in its runs (`g.runOf` ≥ 0: in a run, through the
 * filters), one per key of a complete request.
 */
export function groupBreakdowns(c: Correlation, g: Grouping, by: GroupBy, o: BreakdownOptions, extras: ReportExtras): ReportGroup[] {
  const store = c.requests;
  const keyOf = new Array<string | undefined>(store.length);
  const keys = new Set<string>();
  for (let i = 0; i < store.length; i++) {
    if (g.runOf[i]! < 0) continue;
    const k = groupKey(by, store, i);
    keyOf[i] = k;
    if (store.status(i) === 'complete') keys.add(k);
  }
  const points = c.path.map((p) => p.name);
  return order(by, keys).map((key) => {
    const gg = groupRuns(store, c.markers, (i) => keyOf[i] === key);
    const b = breakdown(points, gg.runs, o);
    const section = breakdownSection(c, gg, b, { ...extras, excludedRuns: undefined });
    const excluded = section.excluded_runs.map((e) => ({
      ...e,
      why: e.reason === 'warmup' ? e.why : `no complete request with ${by === 'op' ? `op ${key}` : by === 'domid' ? `domid ${key}` : `size ${key === 'unknown' ? key : plural(Number(key), 'byte')}`} in this run`,
    }));
    let total = 0;
    let complete = 0;
    let incomplete = 0;
    let orphans = 0;
    for (const r of gg.runs) {
      total += r.requests;
      complete += r.complete;
      incomplete += r.incomplete;
      orphans += r.orphans;
    }
    return { by, key, requests: { total, complete, incomplete, orphans }, ...section, excluded_runs: excluded };
  });
}
