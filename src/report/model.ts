/**
 * The report model: everything a reporter prints, as plain data. Its JSON form is a versioned
 * contract (README "JSON report"); field names are snake_case because they are that contract.
 */
import { pctPrecise } from './format.js';
import type { Breakdown, Tail } from '../analysis/breakdown.js';
import { COUNTERS } from '../core/counters.js';
import { rowLayer, type Layer } from '../profiles/layers.js';
import type { Correlation } from '../correlate/correlate.js';
import type { Grouping, RunGroup } from '../correlate/runs.js';
import type { RequestStore } from '../correlate/store.js';

/**
 * The tail beside the headline (README "The tail and the shape"): over the complete requests of
 * the reported runs together, after warm-up, untrimmed; percentiles by nearest rank. Null when
 * there is no such request.
 */
export interface TailFields {
  untrimmed_mean_ns: number | null;
  p50_ns: number | null;
  p90_ns: number | null;
  p99_ns: number | null;
}

/**
 * A row of the breakdown: a split stage (two consecutive points of the path) or a merged stage (a
 * request whose points between `from` and `to` are absent by design, batched: xen-probes.md
 * decision 10). `mean_ns` is the mean contribution per kept request (a request without the row
 * counts 0), so the rows add up to the total (src/analysis/breakdown.ts).
 */
export interface ReportStage {
  name: string;
  from: string;
  to: string;
  /** A merged stage (requests batched between its two points), placed right after the last split stage it spans. */
  merged: boolean;
  /** The split stages the row covers, in path order (a split stage: itself). */
  spans: string[];
  /** Where its time is spent (src/profiles/layers.ts): guest-kernel, handoff, host-kernel, userspace, device or other. */
  layer: Layer;
  /** Of the kept requests of the reported runs, how many have this row (all of them for a split stage when nothing is batched). */
  requests: number;
  mean_ns: number;
  stddev_ns: number | null;
  share: number;
  /** Clock domains of the two points (of the first complete request). */
  from_domain: string | null;
  to_domain: string | null;
  cross_domain: boolean;
  /** For a cross-domain stage: the mean is exact up to ± this (offset uncertainty between the two domains); 0 within one domain. */
  uncertainty_ns: number;
  untrimmed_mean_ns: number | null;
  p50_ns: number | null;
  p90_ns: number | null;
  p99_ns: number | null;
  /** Complete requests after warm-up that have this row: what p50_ns, p90_ns and p99_ns are taken over (untrimmed_mean_ns is per request of shape.requests, 0 for those without it). */
  untrimmed_requests: number;
  /** untrimmed_mean_ns over the total's untrimmed_mean_ns. */
  untrimmed_share: number;
  /** Coarsest timestamp resolution of the sources of its two points' domains: 1000 when they print whole µs, else 1. */
  timestamp_resolution_ns: number;
}

/** A run the breakdown could not average (no complete request, or all of them warm-up), and why. */
export interface ExcludedRun {
  run: string;
  requests: number;
  complete: number;
  incomplete: number;
  orphans: number;
  /** `no_complete_request` or `warmup`. */
  reason: 'no_complete_request' | 'warmup';
  /** For people: what happened in the run. */
  why: string;
  /** Points of the path with no event in the run's time span (null when not examined). */
  points_without_events: string[] | null;
  /** Events the sources say they lost inside the run's time span (null when not examined). */
  lost_events: number | null;
}

/** Which stage has the largest share, trimmed (the headline) and untrimmed. */
export interface Shape {
  /** Complete requests of the reported runs after warm-up (what the tail fields are taken over). */
  requests: number;
  dominant_stage_trimmed: string | null;
  dominant_share_trimmed: number | null;
  dominant_stage_untrimmed: string | null;
  dominant_share_untrimmed: number | null;
  /** True when the two differ: the untrimmed shares would change which stage dominates. */
  dominant_differs: boolean;
}

export interface ReportRun {
  run: string;
  requests: number;
  complete: number;
  incomplete: number;
  orphans: number;
  kept: number;
  stages_ns: Record<string, number>;
  total_ns: number;
  /** End marker − begin marker (ns); null without markers or without an end marker. */
  duration_ns: number | null;
  /** Complete requests per second of duration. */
  requests_per_s: number | null;
  /** Bytes of its complete requests (sectors × 512); null when a request's size is unknown. */
  bytes: number | null;
  /** bytes / duration, MB = 10^6 bytes (as fio's MB/s). */
  mb_per_s: number | null;
}

/** The breakdown of one group of requests (`--group-by`): the same fields as the whole report's. */
export interface ReportGroup {
  by: 'op' | 'size' | 'domid';
  /** The direction (`R`, `W` …) or the size in bytes (`4096`); `unknown` when the request does not say. */
  key: string;
  requests: { total: number; complete: number; incomplete: number; orphans: number };
  stages: ReportStage[];
  total: ReportModel['total'];
  shape: Shape;
  runs: ReportRun[];
  excluded_runs: ExcludedRun[];
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
    /** How untrimmed_mean_ns and the percentiles are taken. */
    tail_statistic: string;
    /** `--group-by`: null, 'op' or 'size'. */
    group_by: 'op' | 'size' | 'domid' | null;
    /** `--strict`: a run that cannot be averaged refuses the report. */
    strict: boolean;
    /** `--filter` texts, as given (compare refuses sides filtered differently). */
    filters: string[];
  };
  stages: ReportStage[];
  total: { mean_ns: number; stddev_ns: number | null; timestamp_resolution_ns: number } & TailFields;
  shape: Shape;
  runs: ReportRun[];
  /** Runs not averaged, with why; the other runs are reported (`--strict` refuses instead). */
  excluded_runs: ExcludedRun[];
  domains: {
    name: string;
    method: string;
    /** t_reference = t_local + offset_ns at the domain's first event (then the drift: t_reference = first + offset_ns + (t_local − first) / (1 + drift_ppm·1e-6)). */
    offset_ns: bigint | null;
    /** The offset is within ± this at every time of the requests (relative to the reference, along the estimation path). */
    uncertainty_ns: number | null;
    lower_ns: bigint | null;
    upper_ns: bigint | null;
    relative_to: string | null;
    links: number;
    /** How much faster the domain's clock runs than the reference's (ppm; negative: slower; 0 for a constant offset); null when not linked. */
    drift_ppm: number | null;
    /** 'reference', 'given' (--drift, or 0 with --offset alone), 'constant' (a constant offset fits the links: drift 0), 'estimated'; null when not linked. */
    drift_method: string | null;
    /** Drift the links allow (estimated or constant); null otherwise. */
    drift_lower_ppm: number | null;
    drift_upper_ppm: number | null;
  }[];
  requests: {
    total: number;
    complete: number;
    incomplete: number;
    orphans: number;
    orphan_label: string;
    outside_runs: number;
    not_requests: number;
    /** Requests the filters removed (any status). */
    filtered_out: number;
  };
  /** The tasks whose complete requests the runs average (most first; the rest summed as `others`): other processes mixed in are visible. */
  contributors: { comm: string; complete: number }[];
  /** When the requests do not look like this profile's (mostly orphans): the profile that fits the events present, else null. */
  hint: string | null;
  data_quality: {
    lost_events: number;
    unparsed_lines: number;
    sources: { path: string; domain: string; lost_events: number; unparsed_lines: number; timestamp_resolution_ns: number }[];
    runs_not_ended: string[];
    stray_run_ends: string[];
    repeated_run_labels: string[];
  };
  diagnostics: { code: string; point: string | null; severity: string; count: number; first_event_id: number | null; description: string }[];
  correlation_id: number | null;
  /** One breakdown per group with `--group-by` (in key order), else null. */
  groups: ReportGroup[] | null;
  /** `--meta KEY=VALUE` pairs as given (commit, branch, date …; `xtrace history` orders and labels reports by them), {} when none. */
  meta: Record<string, string>;
}

/** What the pipeline adds to a model (it needs the database): timestamp resolutions, why runs were excluded, groups. */
export interface ReportExtras {
  /** Per domain (Correlation.domains order): the coarsest timestamp resolution of its sources (ns). */
  domainResolutionNs?: number[];
  /** Per source id. */
  sourceResolutionNs?: ReadonlyMap<number, number>;
  /** The breakdown's excluded runs, in its order, as the model lists them. */
  excludedRuns?: ExcludedRun[];
  groupBy?: 'op' | 'size' | 'domid' | null;
  strict?: boolean;
  groups?: ReportGroup[] | null;
  filters?: readonly string[];
  meta?: Readonly<Record<string, string>>;
  filteredOut?: number;
  hint?: string | null;
}

/** How many contributors a report lists before summing the rest as `others`. */
const CONTRIBUTORS = 5;

/** The tasks (opener `$comm`) of the complete requests in the runs, most first. */
function contributorsOf(c: Correlation, g: Grouping): { comm: string; complete: number }[] {
  const n = new Map<string, number>();
  for (const r of g.runs)
    for (const i of r.index) {
      const comm = c.requests.attr(i, '$comm') ?? '?';
      n.set(comm, (n.get(comm) ?? 0) + 1);
    }
  const all = [...n].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([comm, complete]) => ({ comm, complete }));
  if (all.length <= CONTRIBUTORS + 1) return all;
  const rest = all.slice(CONTRIBUTORS).reduce((a, x) => a + x.complete, 0);
  return [...all.slice(0, CONTRIBUTORS), { comm: `others (${all.length - CONTRIBUTORS} tasks)`, complete: rest }];
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function tailFields(t: Tail): TailFields {
  return { untrimmed_mean_ns: finite(t.untrimmedMeanNs), p50_ns: finite(t.p50Ns), p90_ns: finite(t.p90Ns), p99_ns: finite(t.p99Ns) };
}

/** The largest share of `stages` by `share` (first on ties); null without stages or runs. */
function dominant<T extends { name: string }>(stages: T[], share: (s: T) => number): { name: string; share: number } | null {
  let best: { name: string; share: number } | null = null;
  for (const s of stages) {
    const v = share(s);
    if (Number.isFinite(v) && (best === null || v > best.share)) best = { name: s.name, share: v };
  }
  return best;
}

export function shapeOf(b: Breakdown): Shape {
  const reported = b.runs.length > 0;
  const t = reported ? dominant(b.stages, (s) => s.share) : null;
  const u = reported && b.tailRequests > 0 ? dominant(b.stages, (s) => s.untrimmedShare) : null;
  return {
    requests: b.tailRequests,
    dominant_stage_trimmed: t?.name ?? null,
    dominant_share_trimmed: t?.share ?? null,
    dominant_stage_untrimmed: u?.name ?? null,
    dominant_share_untrimmed: u?.share ?? null,
    dominant_differs: t !== null && u !== null && t.name !== u.name,
  };
}

/** A run's throughput: duration between its markers, complete requests per second, their bytes and MB/s. */
export function runThroughput(store: RequestStore, run: RunGroup): Pick<ReportRun, 'duration_ns' | 'requests_per_s' | 'bytes' | 'mb_per_s'> {
  const duration = run.begin !== null && run.end !== null ? run.end - run.begin : null;
  let bytes: number | null = 0;
  for (const i of run.index) {
    const sectors = store.sectors(i);
    if (sectors === 0) {
      bytes = null;
      break;
    }
    bytes += sectors * 512;
  }
  const perS = (x: number | null): number | null => (x === null || duration === null || duration <= 0 ? null : x / (duration / 1e9));
  return { duration_ns: duration, requests_per_s: perS(run.complete), bytes, mb_per_s: bytes === null ? null : perS(bytes / 1e6) };
}

/**
 * Clock domain of each path point: of the first complete request that has the point (a complete
 * request may lack a point absent by design); −1 when there is none.
 */
function pointDomains(store: RequestStore, points: number): number[] {
  const dom = new Array<number>(points).fill(-1);
  let missing = points;
  for (let i = 0; i < store.length && missing > 0; i++) {
    if (store.status(i) !== 'complete') continue;
    for (let p = 0; p < points; p++) {
      if (dom[p]! >= 0 || Number.isNaN(store.t(i, p))) continue;
      dom[p] = store.domain(i, p);
      missing--;
    }
  }
  return dom;
}

/** The fields a breakdown gives the whole report and each group alike: stages, total, shape, runs, excluded runs. */
export function breakdownSection(c: Correlation, g: Grouping, b: Breakdown, x: ReportExtras = {}): Pick<ReportModel, 'stages' | 'total' | 'shape' | 'runs' | 'excluded_runs'> {
  const store = c.requests;
  const dom = pointDomains(store, c.path.length);
  const resOf = (d: number): number => (d < 0 ? 1 : (x.domainResolutionNs?.[d] ?? 1));
  const names = c.domains.map((d) => d.name);
  const pairUnc = (xd: number, yd: number): number => {
    if (xd === yd || xd < 0 || yd < 0) return 0;
    // Sum of the half-widths along the estimation tree between x and y.
    const chain = (d: number): number[] => {
      const out = [d];
      for (let p = c.shifts[d]!.parent; p !== null; p = c.shifts[p]!.parent) out.push(p);
      return out;
    };
    const cx = chain(xd);
    const cy = chain(yd);
    const lca = cx.find((d) => cy.includes(d));
    const u = (d: number): number => c.shifts[d]!.uncertainty;
    return lca === undefined ? u(xd) + u(yd) : u(xd) - u(lca) + (u(yd) - u(lca));
  };
  return {
    stages: b.stages.map((s) => {
      const fd = dom[s.fromIndex]!;
      const td = dom[s.toIndex]!;
      return {
        name: s.name,
        from: s.from,
        to: s.to,
        merged: s.merged,
        spans: s.spans,
        layer: rowLayer(c.path, s.fromIndex, s.toIndex),
        requests: s.requests,
        mean_ns: s.meanNs,
        stddev_ns: s.stddevNs,
        share: s.share,
        from_domain: fd >= 0 ? names[fd]! : null,
        to_domain: td >= 0 ? names[td]! : null,
        cross_domain: fd !== td,
        uncertainty_ns: pairUnc(fd, td),
        ...tailFields(s.tail),
        untrimmed_requests: s.tailRequests,
        untrimmed_share: s.untrimmedShare,
        timestamp_resolution_ns: Math.max(resOf(fd), resOf(td)),
      };
    }),
    total: { mean_ns: b.total.meanNs, stddev_ns: b.total.stddevNs, timestamp_resolution_ns: Math.max(1, ...dom.map(resOf)), ...tailFields(b.total.tail) },
    shape: shapeOf(b),
    runs: b.runs.map((r) => {
      const grp = g.runs[r.index]!;
      return {
        run: r.label,
        ...runCounts(grp),
        kept: r.kept,
        stages_ns: Object.fromEntries(b.stages.map((s, i) => [s.name, r.stagesNs[i]!])),
        total_ns: r.totalNs,
        ...runThroughput(store, grp),
      };
    }),
    excluded_runs:
      x.excludedRuns ??
      b.excluded.map((e) => {
        const grp = g.runs[e.index]!;
        return {
          run: e.label,
          ...runCounts(grp),
          reason: e.why === 'warmup' ? 'warmup' : 'no_complete_request',
          why: e.why === 'warmup' ? `--warmup ${b.options.warmup} drops all its ${e.complete} complete requests` : 'no complete request',
          points_without_events: null,
          lost_events: null,
        };
      }),
  };
}

export function buildReport(c: Correlation, g: Grouping, b: Breakdown, correlationId: number | null, extras: ReportExtras = {}): ReportModel {
  const store = c.requests;
  const { complete, incomplete, orphan: orphans } = store.statusCounts();
  const sources = c.domains.flatMap((d) =>
    d.sources.map((s) => ({ path: s.path, domain: d.name, lost_events: s.lostEvents, unparsed_lines: s.unparsedLines, timestamp_resolution_ns: extras.sourceResolutionNs?.get(s.id) ?? 1 })),
  );
  const section = breakdownSection(c, g, b, extras);
  // Said only when a request has points absent by design: with none, the statistic is the plain stage mean.
  const batched = b.stages.some((s) => s.merged);
  const batchedStatistic =
    b.options.trimBy === 'total'
      ? '; a request with points absent by design (batched) counts 0 in the stages through them and its time between the points present around them in the merged stage (merged: true), so each stage is its mean contribution per kept request and the stages add up to the total'
      : '; a request with points absent by design (batched) has the merged stage (merged: true) instead of the stages through them: each stage is trimmed among the requests that have it, the requests without it (0) at the same fraction, and its mean taken over both';
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
          ? `per run: drop the first ${b.options.warmup} complete requests, sort by total latency, drop the ${pctPrecise(b.options.trim)} fastest and ${pctPrecise(b.options.trim)} slowest, mean of each stage over the rest; then mean and sample stddev of the run means${batched ? batchedStatistic : ''}`
          : `per run: drop the first ${b.options.warmup} complete requests, then for each stage on its own drop its ${pctPrecise(b.options.trim)} fastest and slowest values and take the mean; then mean and sample stddev of the run means (stages do not add up to the total)${batched ? batchedStatistic : ''}`,
      tail_statistic: `untrimmed_mean_ns, p50_ns, p90_ns, p99_ns: over the complete requests of all reported runs together after dropping the first ${b.options.warmup} of each run, untrimmed; percentiles by nearest rank (the value of rank ceil(p/100 · n), a value that occurred)${batched ? "; a stage's untrimmed_mean_ns counts 0 for a request without it (batched), its percentiles are over the untrimmed_requests that have it" : ''}`,
      group_by: extras.groupBy ?? null,
      strict: extras.strict ?? false,
      filters: [...(extras.filters ?? [])],
    },
    stages: section.stages,
    total: section.total,
    shape: section.shape,
    runs: section.runs,
    excluded_runs: section.excluded_runs,
    domains: c.offsets.map((o) => ({
      name: o.domain,
      method: o.method,
      offset_ns: o.offsetNs,
      uncertainty_ns: o.uncertaintyNs,
      lower_ns: o.lowerNs,
      upper_ns: o.upperNs,
      relative_to: o.relativeTo,
      links: o.links,
      drift_ppm: o.driftPpm,
      drift_method: o.driftMethod,
      drift_lower_ppm: o.driftLowerPpm,
      drift_upper_ppm: o.driftUpperPpm,
    })),
    requests: {
      total: store.length,
      complete,
      incomplete,
      orphans,
      orphan_label: c.profile.orphan_label,
      outside_runs: g.notes.outside,
      filtered_out: extras.filteredOut ?? 0,
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
    contributors: contributorsOf(c, g),
    hint: extras.hint ?? null,
    correlation_id: correlationId,
    groups: extras.groups ?? null,
    meta: { ...(extras.meta ?? {}) },
  };
}

/** A run's request counts as the model lists them. */
export function runCounts(grp: Grouping['runs'][number]): { requests: number; complete: number; incomplete: number; orphans: number } {
  return { requests: grp.requests, complete: grp.complete, incomplete: grp.incomplete, orphans: grp.orphans };
}
