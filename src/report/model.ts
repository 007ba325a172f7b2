/**
 * The report model: everything a reporter prints, as plain data. Its JSON form is a versioned
 * contract (README "JSON report"); field names are snake_case because they are that contract.
 */
import { pctPrecise } from './format.js';
import type { Breakdown } from '../analysis/breakdown.js';
import { COUNTERS } from '../core/counters.js';
import type { Correlation } from '../correlate/correlate.js';
import type { Grouping } from '../correlate/runs.js';

export interface ReportStage {
  name: string;
  from: string;
  to: string;
  mean_ns: number;
  stddev_ns: number | null;
  share: number;
  /** Clock domains of the two points (of the first complete request). */
  from_domain: string | null;
  to_domain: string | null;
  cross_domain: boolean;
  /** For a cross-domain stage: the mean is exact up to ± this (offset uncertainty between the two domains); 0 within one domain. */
  uncertainty_ns: number;
}

export interface ReportModel {
  version: 1;
  profile: string;
  description: string;
  points: string[];
  absent_points: string[];
  method: {
    warmup: number;
    trim: number;
    trim_by: 'total' | 'stage';
    stages_add_up: boolean;
    statistic: string;
  };
  stages: ReportStage[];
  total: { mean_ns: number; stddev_ns: number | null };
  runs: {
    run: string;
    requests: number;
    complete: number;
    incomplete: number;
    orphans: number;
    kept: number;
    stages_ns: Record<string, number>;
    total_ns: number;
  }[];
  domains: {
    name: string;
    method: string;
    offset_ns: bigint | null;
    uncertainty_ns: number | null;
    lower_ns: bigint | null;
    upper_ns: bigint | null;
    relative_to: string | null;
    links: number;
  }[];
  requests: {
    total: number;
    complete: number;
    incomplete: number;
    orphans: number;
    orphan_label: string;
    outside_runs: number;
    not_requests: number;
  };
  data_quality: {
    lost_events: number;
    unparsed_lines: number;
    sources: { path: string; domain: string; lost_events: number; unparsed_lines: number }[];
    runs_not_ended: string[];
    stray_run_ends: string[];
    repeated_run_labels: string[];
  };
  diagnostics: { code: string; point: string | null; severity: string; count: number; first_event_id: number | null; description: string }[];
  correlation_id: number | null;
}

export function buildReport(c: Correlation, g: Grouping, b: Breakdown, correlationId: number | null): ReportModel {
  const store = c.requests;
  // Domains of each point, from the first complete request.
  let sample = -1;
  for (let i = 0; i < store.length && sample < 0; i++) if (store.status(i) === 'complete') sample = i;
  const domOf = (p: number): number => (sample < 0 ? -1 : store.domain(sample, p));
  const pairUnc = (x: number, y: number): number => {
    if (x === y || x < 0 || y < 0) return 0;
    // Sum of the half-widths along the estimation tree between x and y.
    const chain = (d: number): number[] => {
      const out = [d];
      for (let p = c.shifts[d]!.parent; p !== null; p = c.shifts[p]!.parent) out.push(p);
      return out;
    };
    const cx = chain(x);
    const cy = chain(y);
    const lca = cx.find((d) => cy.includes(d));
    const u = (d: number): number => c.shifts[d]!.uncertainty;
    return lca === undefined ? u(x) + u(y) : u(x) - u(lca) + (u(y) - u(lca));
  };
  const names = c.domains.map((d) => d.name);
  let complete = 0;
  let incomplete = 0;
  let orphans = 0;
  for (let i = 0; i < store.length; i++) {
    const s = store.status(i);
    if (s === 'complete') complete++;
    else if (s === 'orphan') orphans++;
    else incomplete++;
  }
  const sources = c.domains.flatMap((d) => d.sources.map((s) => ({ path: s.path, domain: d.name, lost_events: s.lostEvents, unparsed_lines: s.unparsedLines })));
  return {
    version: 1,
    profile: c.profile.name,
    description: c.profile.description,
    points: c.path.map((p) => p.name),
    absent_points: c.absent,
    method: {
      warmup: b.options.warmup,
      trim: b.options.trim,
      trim_by: b.options.trimBy,
      stages_add_up: b.addsUp,
      statistic:
        b.options.trimBy === 'total'
          ? `per run: drop the first ${b.options.warmup} complete requests, sort by total latency, drop the ${pctPrecise(b.options.trim)} fastest and ${pctPrecise(b.options.trim)} slowest, mean of each stage over the rest; then mean and sample stddev of the run means`
          : `per run: drop the first ${b.options.warmup} complete requests, then for each stage on its own drop its ${pctPrecise(b.options.trim)} fastest and slowest values and take the mean; then mean and sample stddev of the run means (stages do not add up to the total)`,
    },
    stages: b.stages.map((s, k) => {
      const fd = domOf(k);
      const td = domOf(k + 1);
      return {
        name: s.name,
        from: s.from,
        to: s.to,
        mean_ns: s.meanNs,
        stddev_ns: s.stddevNs,
        share: s.share,
        from_domain: fd >= 0 ? names[fd]! : null,
        to_domain: td >= 0 ? names[td]! : null,
        cross_domain: fd !== td,
        uncertainty_ns: pairUnc(fd, td),
      };
    }),
    total: { mean_ns: b.total.meanNs, stddev_ns: b.total.stddevNs },
    runs: b.runs.map((r, k) => {
      const grp = g.runs[k]!;
      return {
        run: r.label,
        requests: grp.requests,
        complete: grp.complete,
        incomplete: grp.incomplete,
        orphans: grp.orphans,
        kept: r.kept,
        stages_ns: Object.fromEntries(b.stages.map((s, i) => [s.name, r.stagesNs[i]!])),
        total_ns: r.totalNs,
      };
    }),
    domains: c.offsets.map((o) => ({
      name: o.domain,
      method: o.method,
      offset_ns: o.offsetNs,
      uncertainty_ns: o.uncertaintyNs,
      lower_ns: o.lowerNs,
      upper_ns: o.upperNs,
      relative_to: o.relativeTo,
      links: o.links,
    })),
    requests: {
      total: store.length,
      complete,
      incomplete,
      orphans,
      orphan_label: c.profile.orphan_label,
      outside_runs: g.notes.outside,
      not_requests: c.counters.filter((x) => x.code === 'not_a_request').reduce((a, x) => a + x.count, 0),
    },
    data_quality: {
      lost_events: sources.reduce((a, s) => a + s.lost_events, 0),
      unparsed_lines: sources.reduce((a, s) => a + s.unparsed_lines, 0),
      sources,
      runs_not_ended: g.notes.notEnded,
      stray_run_ends: g.notes.strayEnds,
      repeated_run_labels: g.notes.repeated,
    },
    diagnostics: c.counters.map((d) => ({
      code: d.code,
      point: d.point,
      severity: d.severity,
      count: d.count,
      first_event_id: Number.isNaN(d.firstEvent) ? null : d.firstEvent,
      description: COUNTERS[d.code].description,
    })),
    correlation_id: correlationId,
  };
}
