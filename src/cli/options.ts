/**
 * Option parsers and the option groups several commands share (as sqlite-utils' `output_options`):
 * each group is defined once and added to every command that takes it, so a new command gets the
 * same flags, defaults, help and validation.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { BreakdownOptions } from '../analysis/breakdown.js';
import { builtinProfileNames, type Profile } from '../profiles/index.js';
import { parseFilters } from '../pipeline/filters.js';
import type { RequestFilter } from '../pipeline/analyse.js';

export function parseCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

export function parsePositive(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

export function parseFraction(v: string): number {
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !(n >= 0 && n < 0.5)) throw new InvalidArgumentError('expected a fraction in [0, 0.5), e.g. 0.1');
  return n;
}

export function parsePercent(v: string): number {
  const m = /^(\d*\.?\d+)(%?)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected a percentage such as 5% (or a fraction such as 0.05)');
  const x = Number(m[1]) / (m[2] ? 100 : 1);
  if (!(x >= 0) || (!m[2] && x > 1)) throw new InvalidArgumentError('expected a percentage such as 5% (or a fraction such as 0.05)');
  return x;
}

export function parseDuration(v: string): number {
  const m = /^(\d*\.?\d+)\s*(ns|us|µs|ms|s)?$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected a duration such as 500ns, 2us, 1.5ms');
  const unit = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'ns') as 'ns'];
  return Number(m[1]) * unit;
}

export function parseAlpha(v: string): number {
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError('expected a probability between 0 and 1, e.g. 0.05');
  return x;
}

export function parseHz(v: string): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n <= 0 || !Number.isInteger(n)) throw new InvalidArgumentError('expected a positive whole number of cycles per second, e.g. 2893299000');
  return n;
}

export function parseDomain(v: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(v)) throw new InvalidArgumentError('a domain name is letters, digits, _ . - (e.g. dom0, domU, tapdisk)');
  return v;
}

/** Repeatable `KEY=VALUE` into a record; `what` names the example in the message. */
export function collectKeyValue(example: string) {
  return (v: string, prev: Record<string, string> | undefined): Record<string, string> => {
    const i = v.indexOf('=');
    if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.slice(0, i))) throw new InvalidArgumentError(`expected KEY=VALUE, e.g. ${example}`);
    return { ...(prev ?? {}), [v.slice(0, i)]: v.slice(i + 1) };
  };
}

export function collectScale(v: string, prev: Record<string, number> | undefined): Record<string, number> {
  const m = /^([A-Za-z0-9_]+->[A-Za-z0-9_]+)=(\d*\.?\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected STAGE=FACTOR, e.g. be_submit->be_bio_done=1.2');
  return { ...(prev ?? {}), [m[1]!]: Number(m[2]) };
}

export function collectOffset(v: string, prev: Map<string, bigint> | undefined): Map<string, bigint> {
  const m = /^([A-Za-z0-9_.-]+)=([+-]?\d+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected DOMAIN=NANOSECONDS, e.g. dom0=-52000123456789 (t_reference = t_dom0 + ns)');
  const out = new Map(prev ?? []);
  if (out.has(m[1]!)) throw new InvalidArgumentError(`offset of ${m[1]} given twice`);
  out.set(m[1]!, BigInt(m[2]!));
  return out;
}

/** Repeatable `--drift DOMAIN=PPM` (a decimal, signed). */
export function collectDrift(v: string, prev: Map<string, number> | undefined): Map<string, number> {
  const m = /^([A-Za-z0-9_.-]+)=([+-]?(?:\d+\.?\d*|\.\d+))$/.exec(v);
  if (!m) throw new InvalidArgumentError("expected DOMAIN=PPM, e.g. dom0=-20.5 (dom0's clock runs 20.5 ppm slow against the reference's)");
  const ppm = Number(m[2]);
  if (!(Math.abs(ppm) <= 1000)) throw new InvalidArgumentError(`drift of ${m[1]}: ${m[2]} ppm is beyond ±1000 ppm`);
  const out = new Map(prev ?? []);
  if (out.has(m[1]!)) throw new InvalidArgumentError(`drift of ${m[1]} given twice`);
  out.set(m[1]!, ppm);
  return out;
}

/** `--db FILE`. */
export function dbOption(cmd: Command, description = 'database file'): Command {
  return cmd.option('--db <file>', description, 'xtrace.db');
}

/** `-p/--profile`: a built-in name or a profile JSON file. */
export function profileOption(cmd: Command, o: { required: boolean; note?: string }): Command {
  const text = `built-in profile (${builtinProfileNames().join(', ')}) or a profile JSON file${o.note ? `; ${o.note}` : ''}`;
  return o.required ? cmd.requiredOption('-p, --profile <name|file.json>', text) : cmd.option('-p, --profile <name|file.json>', text);
}

/** What the method group gives an action. */
export interface MethodFlags {
  warmup: number;
  trim: number;
  trimBy: 'total' | 'stage';
  offset?: Map<string, bigint>;
  drift?: Map<string, number>;
  filter?: string[];
}

/** The report method: warm-up, trimming, clock offsets. `note` qualifies the help (e.g. "database sides"). */
export function methodOptions(cmd: Command, note?: string): Command {
  const q = (s: string): string => (note ? `${s} (${note})` : s);
  return cmd
    .addOption(new Option('--warmup <n>', q('drop the first N complete requests of each run')).default(0).argParser(parseCount))
    .addOption(new Option('--trim <fraction>', q('drop this fraction of the fastest and of the slowest requests of each run')).default(0.1).argParser(parseFraction))
    .addOption(new Option('--trim-by <what>', q('trim by total latency, or each stage on its own')).choices(['total', 'stage']).default('total'))
    .addOption(
      new Option('--offset <domain=ns>', q("clock offset of a domain at its first event: t_reference = t_domain + ns (repeatable); its drift is 0 unless --drift gives it; otherwise both are estimated")).argParser(collectOffset),
    )
    .addOption(
      new Option('--drift <domain=ppm>', q("drift of a domain's clock: it runs PPM parts per million fast (negative: slow) against the reference's (repeatable); with --offset the clock is given, alone its offset is estimated with this drift; otherwise estimated")).argParser(
        collectDrift,
      ),
    )
    .addOption(
      new Option('--filter <key=value>', q("keep only requests whose field matches (repeatable, all must hold): comm='fio*', pid, tgid, dev=254,0, op=R|W, or a field of the profile"))
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    );
}

/** A `--meta` key: a letter, then letters, digits, `_`, `.`, `-` (so that `--order meta.KEY` can name it). */
const META_KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** `--meta KEY=VALUE` (repeatable): labels stored with the report, for `xtrace history` and exports. */
export function metaOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--meta <key=value>', 'label the report (repeatable): commit=…, branch=…, date=… (stored in the JSON report and the database; xtrace history orders by them)').argParser(
      (v: string, prev: Record<string, string> | undefined) => {
        const eq = v.indexOf('=');
        const key = eq < 0 ? v : v.slice(0, eq);
        if (eq < 0 || !META_KEY.test(key)) throw new InvalidArgumentError(`'${v}': give KEY=VALUE, KEY a letter then letters, digits, '_', '.' or '-' (commit=3f2a1c9)`);
        if (prev && key in prev) throw new InvalidArgumentError(`'${v}': --meta ${key} given twice; give each key once`);
        return { ...(prev ?? {}), [key]: v.slice(eq + 1) };
      },
    ),
  );
}

/** The method flags as the pipeline takes them; `profile` resolves `--filter` keys against its request fields. */
export function methodOf(o: MethodFlags, profile?: Profile): BreakdownOptions & { offsets?: Map<string, bigint>; drifts?: Map<string, number>; filters?: RequestFilter[] } {
  const filters = o.filter?.length ? parseFilters(o.filter, profile ?? { points: [], labels: [] }) : undefined;
  return { warmup: o.warmup, trim: o.trim, trimBy: o.trimBy, ...(o.offset ? { offsets: o.offset } : {}), ...(o.drift ? { drifts: o.drift } : {}), ...(filters ? { filters } : {}) };
}

/** `--format` (choices from a registry) and `--out FILE`. */
export function outputOptions(cmd: Command, formats: readonly string[], what = 'the output'): Command {
  return cmd
    .addOption(new Option('--format <format>', 'output format').choices([...formats]).default(formats[0]))
    .option('--out <file>', `write ${what} to a file instead of stdout (written whole or not at all)`);
}
