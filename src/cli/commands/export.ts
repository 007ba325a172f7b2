/** `xtrace export`: the options → the stored requests (src/pipeline/stored.ts) → an exporter, streamed to stdout or a file. */
import { Command, Option } from 'commander';
import { openDb } from '../../db/db.js';
import { UsageError } from '../../core/errors.js';
import { loadProfile } from '../../profiles/index.js';
import { requestsForExport, type ExportSelection } from '../../pipeline/stored.js';
import { EXPORTERS, type ExporterName, type ExportSummary } from '../../export/exporters.js';
import { plural } from '../../report/format.js';
import { openOutput } from '../output.js';
import { dbOption, methodOf, methodOptions, outputOptions, parsePositive, profileOption, type MethodFlags } from '../options.js';

interface ExportFlags extends MethodFlags {
  db: string;
  format: ExporterName;
  out?: string;
  profile?: string;
  run?: string[];
  limit?: number;
  events?: boolean;
}

/** The method flags that only mean something when the export correlates first (--profile). */
const CORRELATION_FLAGS = ['warmup', 'trim', 'trimBy', 'offset', 'drift'] as const;

export function exportCommand(): Command {
  const cmd = new Command('export').description(
    'Write the requests stored by the last report as a trace for a timeline viewer (chrome-json: ui.perfetto.dev, chrome://tracing): a slice per stage, a track per layer and clock domain, a flow along each request',
  );
  dbOption(cmd);
  outputOptions(cmd, Object.keys(EXPORTERS), 'the trace');
  profileOption(cmd, { required: false, note: 'correlate with it first, as xtrace report does, and export what it stores (default: the requests stored by the last report)' });
  methodOptions(cmd);
  return cmd
    .addOption(new Option('--run <label>', 'only the requests of this run (repeatable)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--limit <n>', 'at most N requests, the first ones in start order').argParser(parsePositive))
    .option('--events', 'also the event each point took, as an instant event (name, task, CPU, line, source file, args)')
    .addHelpText(
      'after',
      `
Examples:
  xtrace export --db run.db --out trace.json                  # the requests of the last report; open in ui.perfetto.dev
  xtrace export --db run.db --run 3 --limit 100 --events --out run3.json
  xtrace export --db run.db --filter comm='fio*' | gzip > trace.json.gz
  xtrace export --db run.db -p xen-blktap2 --offset dom0=-52000123456789 --out trace.json
Times are µs since the start of the first exported request (otherData.time_base_ns, reference clock).
The requests a --filter of the report left out are not exported. Without --profile, --filter is
re-applied to the stored requests; --warmup, --trim, --trim-by, --offset and --drift need --profile.`,
    )
    .action((o: ExportFlags, command: Command) => {
      if (!o.profile) {
        const given = CORRELATION_FLAGS.filter((f) => command.getOptionValueSource(f) === 'cli');
        if (given.length) throw new UsageError(`${given.map((f) => `--${f.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`).join(', ')}: only with --profile (the export correlates again); without it the stored requests are exported as the report made them`);
      }
      const profile = o.profile ? loadProfile(o.profile) : undefined;
      const selection: ExportSelection = {
        ...(profile ? { correlate: { profile, ...methodOf(o, profile) } } : { filters: o.filter ?? [] }),
        ...(o.run ? { runs: o.run } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
        events: !!o.events,
      };
      const db = openDb(o.db, { readonly: !profile });
      let summary: ExportSummary;
      try {
        const input = requestsForExport(db, selection);
        const out = openOutput(o.out);
        try {
          summary = EXPORTERS[o.format].write(input, out.write);
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
    });
}
