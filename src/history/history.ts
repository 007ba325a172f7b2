/**
 * `xtrace history`: saved reports (`xtrace report --format json`) in order → one series per stage
 * and the total (each report's per-run means as its replicates) → change points
 * (src/analysis/changepoints.ts) → the model the history reporters render (the JSON contract,
 * README "history in CI"). Reads files only; never the database.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import { readReport } from '../compare/sides.js';
import type { ReportModel } from '../report/model.js';
import { CHANGE_POINT_DEFAULTS, changePoints, pooledTTest, type ChangePointOptions } from '../analysis/changepoints.js';

export interface HistoryOptions {
  /** 'args' (as given; a directory's files by name) or 'meta.KEY'. */
  order: string;
  /** Only these series ('total' or stage names); default the total and every stage. */
  stages?: readonly string[];
  thresholdPct: number;
  floorNs: number;
  alpha: number;
  minReports: number;
}

export const HISTORY_DEFAULTS: HistoryOptions = { order: 'args', thresholdPct: CHANGE_POINT_DEFAULTS.thresholdPct, floorNs: CHANGE_POINT_DEFAULTS.floorNs, alpha: CHANGE_POINT_DEFAULTS.alpha, minReports: CHANGE_POINT_DEFAULTS.minReports };

export interface HistoryChangePoint {
  /** First report after the change (index in `reports`). */
  index: number;
  before_ns: number;
  after_ns: number;
  delta_pct: number;
  ci_pct: [number, number];
  /** The t-test's p (Student, pooled variance), Bonferroni-adjusted over the series (× tests). */
  p_value: number;
  direction: 'regressed' | 'improved';
}

export interface HistorySeries {
  name: string;
  /** Per report: the mean of its run means (what the report's breakdown shows). */
  values_ns: number[];
  change_points: HistoryChangePoint[];
}

export interface HistoryReport {
  file: string;
  meta: Record<string, string>;
  /** Runs averaged (the replicates). */
  runs: number;
}

export interface HistoryModel {
  version: 1;
  profile: string;
  method: { warmup: number; trim: number; trim_by: string; filters: string[]; group_by: string | null };
  options: { order: string; threshold_pct: number; floor_ns: number; alpha: number; tests: number; min_reports: number; ci_level: number; test: string };
  reports: HistoryReport[];
  series: HistorySeries[];
  /** Series whose latest segment regressed against the one before it (exit 1). */
  regressed: string[];
  /**
   * Series whose newest report alone differs from the rest of its segment as a step would (at
   * least the threshold and the floor, the t-test's p below alpha / tests): one report is not a change
   * point (yet); the next reports tell.
   */
  unconfirmed: { name: string; delta_pct: number }[];
}

/** The report files: each argument a JSON report, or a directory whose *.json files are taken by name. */
export function reportFiles(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const a of args) {
    let dir = false;
    try {
      dir = statSync(a).isDirectory();
    } catch (e) {
      throw new InputError(`${a}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, a);
    }
    if (!dir) files.push(a);
    else {
      const inDir = readdirSync(a)
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => join(a, f));
      if (!inDir.length) throw new InputError(`${a}: no *.json report in this directory; save reports with \`xtrace report --format json --out ${a}/NAME.json\``, a);
      files.push(...inDir);
    }
  }
  return files;
}

/** Loaded reports in history order (refusing those that cannot be compared), then their change points. */
export function history(files: readonly string[], o: HistoryOptions): HistoryModel {
  if (files.length < 2) throw new UsageError(`history needs 2 reports at least (got ${files.length}); give report files or a directory of them`);
  const loaded = files.map((file) => ({ file, m: readReport(file) }));
  checkComparable(loaded);
  const ordered = orderReports(loaded, o.order);
  const first = ordered[0]!.m;
  const all = ['total', ...first.stages.map((s) => s.name)];
  const names = o.stages?.length ? o.stages : all;
  for (const n of names) if (!all.includes(n)) throw new UsageError(`--stage ${n}: not a stage of these reports (${all.join(', ')})`);
  const cp: ChangePointOptions = { alpha: o.alpha, tests: names.length, minReports: o.minReports, thresholdPct: o.thresholdPct, floorNs: o.floorNs, ciLevel: CHANGE_POINT_DEFAULTS.ciLevel };
  const n = ordered.length;
  const level = o.alpha / names.length;
  // A run without the stage (a merged stage of batched requests lives in some runs only) adds no replicate.
  const groups = names.map((name) =>
    ordered.map(({ file, m }) => {
      const g = m.runs.map((r) => (name === 'total' ? r.total_ns : r.stages_ns[name])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (!g.length) throw new InputError(`${file}: no run of this report has a value for ${name}; leave the report out, or name the other series with --stage`, file);
      return g;
    }),
  );
  const series = names.map((name, k): HistorySeries => {
    const g = groups[k]!;
    return {
      name,
      values_ns: g.map((r) => r.reduce((a, v) => a + v, 0) / r.length),
      change_points: changePoints(g, cp).map((c) => ({ index: c.index, before_ns: c.beforeMean, after_ns: c.afterMean, delta_pct: c.deltaPct, ci_pct: c.ciPct, p_value: c.pValue, direction: c.direction })),
    };
  });
  return {
    version: 1,
    profile: first.profile,
    method: { warmup: first.method.warmup, trim: first.method.trim, trim_by: first.method.trim_by, filters: first.method.filters ?? [], group_by: first.method.group_by ?? null },
    options: {
      order: o.order,
      threshold_pct: o.thresholdPct,
      floor_ns: o.floorNs,
      alpha: o.alpha,
      tests: names.length,
      min_reports: o.minReports,
      ci_level: cp.ciLevel,
      test: `E-Divisive means (the split maximising the energy distance), kept when Student's t-test (pooled variance) over the run means of the two sides gives p < alpha / ${names.length} (Bonferroni over the series), the step is at least ${o.thresholdPct}% and ${o.floorNs} ns, with ${o.minReports} reports at least on each side, and still as big, the same way and significant at alpha with any one report left out; then each change point re-tested against its final neighbours`,
    },
    reports: ordered.map(({ file, m }) => ({ file, meta: { ...(m.meta ?? {}) }, runs: m.runs.length })),
    series,
    regressed: series.filter((s) => s.change_points.at(-1)?.direction === 'regressed').map((s) => s.name),
    unconfirmed: series.flatMap((s, k) => {
      // The newest report against the rest of the latest segment: as big as a step and as clear as one (the same t-test at the same level).
      const g = groups[k]!;
      const from = s.change_points.at(-1)?.index ?? 0;
      if (n - 1 - from < 2) return [];
      const seg = g.slice(from, n - 1).flat();
      const last = g[n - 1]!;
      if (last.length < 2) return [];
      const w = pooledTTest(seg, last);
      const d = (100 * w.delta) / w.meanA;
      return w.p < level && Math.abs(d) >= o.thresholdPct && Math.abs(w.delta) >= o.floorNs ? [{ name: s.name, delta_pct: d }] : [];
    }),
  };
}

type Loaded = { file: string; m: ReportModel };

/** Same profile, stages, warm-up, trimming, filters and grouping everywhere: the first report that differs is named. */
function checkComparable(loaded: readonly Loaded[]): void {
  const { file: f0, m: m0 } = loaded[0]!;
  const facts = (m: ReportModel): [string, string][] => [
    ['profile', m.profile],
    ['stages', m.stages.map((s) => s.name).join(', ')],
    ['--warmup', String(m.method.warmup)],
    ['--trim', String(m.method.trim)],
    ['--trim-by', m.method.trim_by],
    ['--filter', (m.method.filters ?? []).join(' ') || '(none)'],
    ['--group-by', m.method.group_by ?? '(none)'],
  ];
  const want = facts(m0);
  for (const { file, m } of loaded.slice(1)) {
    const got = facts(m);
    got.forEach(([what, v], i) => {
      if (v !== want[i]![1]) throw new InputError(`${file}: ${what} ${v}, but ${f0} has ${want[i]![1]}; a history compares reports made the same way (report them again alike, or leave this one out)`, file);
    });
    if (!m.runs.length) throw new InputError(`${file}: no averaged run; it cannot be part of a history (see its excluded_runs)`, file);
  }
  if (!m0.runs.length) throw new InputError(`${f0}: no averaged run; it cannot be part of a history (see its excluded_runs)`, f0);
}

/** `args`: as given; `meta.KEY`: by that --meta value (numbers numerically when all are numbers, else as text), ties as given. */
function orderReports(loaded: readonly Loaded[], order: string): Loaded[] {
  if (order === 'args') return [...loaded];
  if (!order.startsWith('meta.') || order.length === 5) throw new UsageError(`--order ${order}: give args or meta.KEY (meta.date, meta.commit …)`);
  const key = order.slice(5);
  const vals = loaded.map(({ file, m }) => {
    const v = m.meta?.[key];
    if (v === undefined) throw new InputError(`${file}: no --meta ${key} in this report, so --order ${order} cannot place it; report it again with --meta ${key}=…, or order by args`, file);
    return v;
  });
  const numeric = vals.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  const idx = loaded.map((_, i) => i);
  idx.sort((a, b) => {
    const x = vals[a]!;
    const y = vals[b]!;
    const c = numeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    return c || a - b;
  });
  return idx.map((i) => loaded[i]!);
}
