/**
 * The two sides of a comparison: a database (reported here with the given method, nothing
 * stored) or a saved `report --format json`. Either way: per stage (and the total), the per-run
 * means, and for a database also the kept per-request latencies. A stage's values are its
 * contribution per kept request (0 for a request without it: a merged stage, or a split stage a
 * batched request lacks), so a run's mean is the mean of its kept values.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { openDb } from '../db/db.js';
import { InputError } from '../core/errors.js';
import type { BreakdownOptions } from '../analysis/breakdown.js';
import { builtinProfileDocument, loadProfile, type Profile, type ProfilePoint } from '../profiles/index.js';
import { rowLayer, type Layer } from '../profiles/layers.js';
import { analyse } from '../pipeline/analyse.js';
import { parseFilters } from '../pipeline/filters.js';
import type { ReportModel } from '../report/model.js';
import type { OnProgress } from '../core/progress.js';

export interface Side {
  source: string;
  kind: 'db' | 'json';
  profile: string;
  points: string[];
  method: { warmup: number; trim: number; trim_by: 'total' | 'stage'; filters: string[] };
  /** Stage names, then 'total'. */
  names: string[];
  /** [name][run]: the run means. */
  runMeans: number[][];
  /**
   * [name]: how far the clock offsets between domains may move the stage's mean (± ns; the
   * report's uncertainty_ns, 0 within one domain). The total's is 0 when it starts and ends in one
   * domain, else the sum over its stages (a bound).
   */
  clockUncertaintyNs: number[];
  /** [name]: where the stage's time is spent (the report's `layer`; null for the total). Absent: not known (all 'other'). */
  layers?: (Layer | null)[];
  /** [name]: the kept per-request latencies, 0 for a request without the stage (database sides only). */
  requests: Float64Array[] | null;
  runs: number;
  /** Runs the side's report could not average (no complete request), with why; not compared (absent: none). */
  excludedRuns?: { run: string; why: string }[];
}

export interface SideOptions extends BreakdownOptions {
  /** Profile for database sides (a JSON side names its own). */
  profile?: string;
  offsets?: Map<string, bigint>;
  drifts?: Map<string, number>;
  /** `--filter` texts for database sides (parsed against the profile's request fields). */
  filterTexts?: readonly string[];
  /** Refuse a side with a run that cannot be averaged (a database's, or listed in a saved report's excluded_runs). */
  strict?: boolean;
  /** How far a database side's analysis got (its phases prefixed with the database's path). */
  onProgress?: OnProgress;
}

/** A file that starts with `{` is a saved JSON report; anything else is a database. Reads 64 bytes only: a database may be gigabytes. */
function isJsonReport(path: string): boolean {
  try {
    // A missing file is a missing database: openDb says so, as for every other command.
    if (!existsSync(path)) return false;
    if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory; give a database or a report --format json file`, path);
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(64);
      return buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString('latin1').trimStart().startsWith('{');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
}

export function loadSide(path: string, o: SideOptions): Side {
  return isJsonReport(path) ? fromJson(path, o) : fromDb(path, o);
}

/** Both sides; a JSON side is read first so that a database side without --profile takes its profile. */
export function loadSides(baseline: string, candidate: string, o: SideOptions): [Side, Side] {
  const json = [baseline, candidate].map(isJsonReport);
  let profile = o.profile;
  const load = (path: string): Side => {
    const side = loadSide(path, { ...o, ...(profile ? { profile } : {}) });
    profile ??= side.profile;
    return side;
  };
  if (json[1] && !json[0]) {
    const b = load(candidate);
    return [load(baseline), b];
  }
  const a = load(baseline);
  return [a, load(candidate)];
}

/**
 * A saved `xtrace report --format json`, checked (version 1, with stages, runs and a profile), with
 * every stage's `layer`: a report from before layers existed gets them from the built-in profile
 * of its name (its `points` are the path), else 'other'. Refuses, naming the file, anything else.
 */
export function readReport(path: string): ReportModel {
  const what = 'expected the output of `xtrace report --format json`, version 1';
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new InputError(`${path}: is a directory, not a report (${what})`, path);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  if (!text.trimStart().startsWith('{')) throw new InputError(`${path}: not an xtrace report (${what})`, path);
  let m: ReportModel;
  try {
    m = JSON.parse(text) as ReportModel;
  } catch (e) {
    // (The parser's message may quote the file: one line, no control characters.)
    throw new InputError(`${path}: not valid JSON (${(e as Error).message.replace(/[\u0000-\u001f\u007f]+/g, ' ')})`, path);
  }
  if (m.version !== 1 || !Array.isArray(m.stages) || !Array.isArray(m.runs) || typeof m.profile !== 'string' || !Array.isArray(m.points) || typeof m.method !== 'object' || m.method === null) {
    throw new InputError(`${path}: not an xtrace report (${what})`, path);
  }
  withLayers(m);
  return m;
}

/** Fills in the `layer` of the stages (and of the groups' stages) of a report saved before layers existed. */
function withLayers(m: ReportModel): void {
  const all = [m.stages, ...(m.groups ?? []).map((g) => g.stages)].flat();
  if (all.every((s) => typeof s.layer === 'string')) return;
  const builtin = builtinProfileDocument(m.profile) ? loadProfile(m.profile).points : [];
  const path = m.points.map((n) => builtin.find((p) => p.name === n));
  for (const s of all) {
    if (typeof s.layer === 'string') continue;
    const from = m.points.indexOf(s.from);
    const to = m.points.indexOf(s.to);
    const span = from >= 0 && to > from ? path.slice(from, to + 1) : [];
    s.layer = span.length && span.every((p) => p !== undefined) ? rowLayer(span as ProfilePoint[], 0, span.length - 1) : 'other';
  }
}

function fromJson(path: string, o: SideOptions): Side {
  const m = readReport(path);
  const names = [...m.stages.map((s) => s.name), 'total'];
  // (A saved report from before excluded_runs existed has none.)
  const excludedRuns = (m.excluded_runs ?? []).map((e) => ({ run: e.run, why: e.why }));
  if (o.strict && excludedRuns.length)
    throw new InputError(`${path}: --strict: the report lists ${excludedRuns.length} run(s) it could not average (${excludedRuns.map((e) => `run ${e.run}: ${e.why}`).join('; ')}); compare another report, or drop --strict`, path);
  return {
    source: path,
    kind: 'json',
    profile: m.profile,
    points: m.points,
    // (A saved report from before filters existed had none.)
    method: { warmup: m.method.warmup, trim: m.method.trim, trim_by: m.method.trim_by, filters: m.method.filters ?? [] },
    names,
    runMeans: names.map((n) => m.runs.map((r) => (n === 'total' ? r.total_ns : r.stages_ns[n]!))),
    clockUncertaintyNs: clockUncertainty(m),
    layers: layersOf(m),
    requests: null,
    runs: m.runs.length,
    excludedRuns,
  };
}

function fromDb(path: string, o: SideOptions): Side {
  if (!o.profile) throw new InputError(`${path}: a database side needs --profile (which request path to report)`, path);
  const profile: Profile = loadProfile(o.profile);
  const db = openDb(path, { readonly: true });
  try {
    const filters = o.filterTexts?.length ? parseFilters(o.filterTexts, profile) : [];
    const a = analyse(db, { profile, warmup: o.warmup, trim: o.trim, trimBy: o.trimBy, ...(o.offsets ? { offsets: o.offsets } : {}), ...(o.drifts ? { drifts: o.drifts } : {}), filters, save: false, keepValues: true, strict: !!o.strict, ...(o.onProgress ? { onProgress: sideProgress(path, o.onProgress) } : {}) });
    const m = a.model;
    const names = [...m.stages.map((s) => s.name), 'total'];
    // Per stage (then the total): the values the means were taken over, all runs together.
    const requests = names.map((_, s) => joinRuns(a.breakdown.runs.map((r) => r.keptNs!), s));
    return {
      source: path,
      kind: 'db',
      profile: profile.name,
      points: m.points,
      method: { warmup: o.warmup, trim: o.trim, trim_by: o.trimBy, filters: filters.map((f) => f.text) },
      names,
      runMeans: names.map((n) => m.runs.map((r) => (n === 'total' ? r.total_ns : r.stages_ns[n]!))),
      clockUncertaintyNs: clockUncertainty(m),
      layers: layersOf(m),
      requests,
      runs: m.runs.length,
      excludedRuns: m.excluded_runs.map((e) => ({ run: e.run, why: e.why })),
    };
  } finally {
    db.close();
  }
}

/** A database side's progress: its phases prefixed with the path (compare reads two). */
function sideProgress(path: string, onProgress: OnProgress): OnProgress {
  return (phase, done, total) => onProgress(`${path}: ${phase}`, done, total);
}

/** Side.clockUncertaintyNs of a report: per stage, then the total. */
function clockUncertainty(m: ReportModel): number[] {
  // (A saved report from before uncertainty_ns existed counts as exact.)
  const stages = m.stages.map((s) => s.uncertainty_ns ?? 0);
  // The total's bound: over the split stages, a chain from the first point to the last (merged stages run beside them).
  const split = m.stages.filter((s) => !s.merged);
  const first = split[0];
  const last = split[split.length - 1];
  const total = !first || !last || first.from_domain === last.to_domain ? 0 : split.reduce((a, s) => a + (s.uncertainty_ns ?? 0), 0);
  return [...stages, total];
}

/** Side.layers of a report: per stage, then null for the total. */
function layersOf(m: ReportModel): (Layer | null)[] {
  return [...m.stages.map((s) => s.layer), null];
}

const NO_VALUES = new Float64Array(0);

/**
 * Row `s` of every run's kept values, joined; each run's part is let go once copied (replaced by
 * an empty array), so the runs' copy is garbage row by row instead of only once all rows are joined.
 */
function joinRuns(keptNs: Float64Array[][], s: number): Float64Array {
  const out = new Float64Array(keptNs.reduce((n, rows) => n + rows[s]!.length, 0));
  let at = 0;
  for (const rows of keptNs) {
    out.set(rows[s]!, at);
    at += rows[s]!.length;
    rows[s] = NO_VALUES;
  }
  return out;
}
