/**
 * `xtrace export`: the options → the stored requests (src/pipeline/stored.ts) → an exporter: a
 * stream exporter (chrome-json) to stdout or a file, a directory exporter (parquet) into --out DIR.
 */
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { openDb } from '../../db/db.js';
import { UsageError } from '../../core/errors.js';
import { loadProfile } from '../../profiles/index.js';
import { requestsForExport, tablesForExport, type ExportSelection, type TableSelection } from '../../pipeline/stored.js';
import { EXPORTERS, type DirectoryExporter, type ExporterName, type ExportSummary, type StreamExporter, type TablesSummary } from '../../export/exporters.js';
import { ROW_GROUP_ROWS } from '../../export/parquet.js';
import { plural } from '../../report/format.js';
import { openDirectory, openOutput } from '../output.js';
import { dbOption, metaOption, methodOf, methodOptions, outputOptions, parsePositive, profileOption, type MethodFlags } from '../options.js';

interface ExportFlags extends MethodFlags {
  db: string;
  format: ExporterName;
  out?: string;
  profile?: string;
  run?: string[];
  limit?: number;
  events?: boolean;
  rowGroupRows?: number;
  meta?: Record<string, string>;
}

/** The method flags that only mean something when the export correlates first (--profile). */
const CORRELATION_FLAGS = ['warmup', 'trim', 'trimBy', 'offset', 'drift', 'meta'] as const;

export function exportCommand(): Command {
  const cmd = new Command('export').description(
    'Write the requests stored by the last report as a trace for a timeline viewer (chrome-json: ui.perfetto.dev, chrome://tracing): a slice per stage, a track per layer and clock domain, a flow along each request; or as Parquet files for DuckDB, Spark, Trino, BigQuery (parquet: --out DIR)',
  );
  dbOption(cmd);
  outputOptions(cmd, Object.keys(EXPORTERS), 'the trace (parquet: the directory of its files, created when missing)');
  profileOption(cmd, { required: false, note: 'correlate with it first, as xtrace report does, and export what it stores (default: the requests stored by the last report)' });
  methodOptions(cmd);
  metaOption(cmd);
  return cmd
    .addOption(new Option('--run <label>', 'only the requests of this run (repeatable)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--limit <n>', 'at most N requests, the first ones in start order').argParser(parsePositive))
    .option('--events', 'also the event each point took, as an instant event (name, task, CPU, line, source file, args)')
    .addOption(new Option('--row-group-rows <n>', `parquet: rows per row group (default ${ROW_GROUP_ROWS}), the rows held in memory at a time`).argParser(parsePositive))
    .addHelpText(
      'after',
      `
Examples:
  xtrace export --db run.db --out trace.json                  # the requests of the last report; open in ui.perfetto.dev
  xtrace export --db run.db --run 3 --limit 100 --events --out run3.json
  xtrace export --db run.db --filter comm='fio*' | gzip > trace.json.gz
  xtrace export --db run.db -p xen-blktap2 --offset dom0=-52000123456789 --out trace.json
  xtrace export --db run.db --format parquet --out fleet/$(hostname)/$(date -u +%Y%m%dT%H%M%SZ)   # request_stages.parquet, stage_summary.parquet
Times are µs since the start of the first exported request (otherData.time_base_ns, reference clock).
The requests a --filter of the report left out are not exported. Without --profile, --filter is
re-applied to the stored requests; --warmup, --trim, --trim-by, --offset, --drift and --meta need --profile.
parquet writes every stored request × stage (those a --filter of the report left out with filtered = 1)
and the stage summary, each row with its report (host, meta, filters, profile, created_at); in DIR it
replaces request_stages.parquet and stage_summary.parquet and touches nothing else.`,
    )
    .action(async (o: ExportFlags, command: Command) => {
      const given = (f: string): boolean => command.getOptionValueSource(f) === 'cli';
      if (!o.profile) {
        const flags = CORRELATION_FLAGS.filter(given);
        if (flags.length) throw new UsageError(`${flags.map((f) => `--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`).join(', ')}: only with --profile (the export correlates again); without it the stored requests are exported as the report made them`);
      }
      const exporter = EXPORTERS[o.format];
      if (exporter.kind === 'directory') return exportTables(exporter, o, given);
      if (given('rowGroupRows')) throw new UsageError(`--row-group-rows: only with --format parquet (${o.format} writes no row groups)`);
      exportStream(exporter, o);
    });
}

/** The correlation the export makes first (--profile), as xtrace report makes it, with this machine's name and the --meta pairs. */
function correlation(o: ExportFlags): ExportSelection['correlate'] {
  if (!o.profile) return undefined;
  const profile = loadProfile(o.profile);
  return { profile, ...methodOf(o, profile), meta: o.meta ?? {}, host: hostname() };
}

function exportStream(exporter: StreamExporter, o: ExportFlags): void {
  const correlate = correlation(o);
  const selection: ExportSelection = {
    ...(correlate ? { correlate } : { filters: o.filter ?? [] }),
    ...(o.run ? { runs: o.run } : {}),
    ...(o.limit ? { limit: o.limit } : {}),
    events: !!o.events,
  };
  const db = openDb(o.db, { readonly: !correlate });
  let summary: ExportSummary;
  try {
    const input = requestsForExport(db, selection);
    const out = openOutput(o.out);
    try {
      summary = exporter.write(input, out.write);
      out.finish();
    } catch (e) {
      out.abort();
      throw e;
    }
  } finally {
    db.close();
  }
  if (o.out) {
    const s = summary;
    const events = o.events ? `, ${plural(s.instants, 'point event')}` : '';
    process.stderr.write(`${o.out}: ${plural(s.requests, 'request')}, ${plural(s.slices, 'stage slice')}, ${plural(s.flows, 'flow arrow')}${events} on ${plural(s.tracks, 'track')} (${plural(s.lanes, 'lane')})\n`);
  }
}

/**
 * A directory export (parquet): every stored request × stage and the stage summary of the
 * report, into --out DIR (required). What chooses single requests (--limit, --events, a --filter
 * re-applied to the stored requests) is refused: the files hold the report's whole population, as
 * its stage summary does; choose rows in the engine that reads them (WHERE run = …, kept = 1).
 */
async function exportTables(exporter: DirectoryExporter, o: ExportFlags, given: (flag: string) => boolean): Promise<void> {
  const fmt = `--format ${exporter.name}`;
  if (!o.out) throw new UsageError(`${fmt} writes a directory of files (${exporter.files.join(', ')}): give --out DIR (created when missing)`);
  const refused = [given('limit') && '--limit', given('events') && '--events', !o.profile && given('filter') && '--filter'].filter((f): f is string => !!f);
  if (refused.length) {
    throw new UsageError(`${refused.join(', ')}: not with ${fmt}, whose files hold every stored request of the report beside its stage summary; choose rows where you read them (WHERE run = '3' AND kept = 1), or correlate with the filter (--profile NAME --filter …)`);
  }
  const correlate = correlation(o);
  const selection: TableSelection = { ...(correlate ? { correlate } : {}), ...(o.run ? { runs: o.run } : {}) };
  const db = openDb(o.db, { readonly: !correlate });
  let summary: TablesSummary;
  try {
    const input = tablesForExport(db, selection);
    const dir = openDirectory(o.out);
    try {
      summary = await exporter.write(input, dir.file, o.rowGroupRows ? { rowGroupRows: o.rowGroupRows } : {});
      dir.finish();
    } catch (e) {
      dir.abort();
      throw e;
    }
  } finally {
    db.close();
  }
  const files = summary.files.map((f) => `${f.name} ${plural(f.rows, 'row')} (${plural(f.rowGroups, 'row group')})`);
  process.stderr.write(`${o.out}: ${files.join(', ')}\n`);
}
