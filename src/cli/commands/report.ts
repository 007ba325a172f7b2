/** `xtrace report`: the options → `analyse` → a reporter. */
import { Command, Option } from 'commander';
import { openDb } from '../../db/db.js';
import { loadProfile } from '../../profiles/index.js';
import { analyse } from '../../pipeline/analyse.js';
import { GROUP_BY, type GroupBy } from '../../pipeline/groups.js';
import { REPORTERS, type Reporter, type ReporterName } from '../../report/reporters.js';
import { figuresOf } from '../../pipeline/figures.js';
import { dataColor, writeOutput } from '../output.js';
import { stderrProgress } from '../progress.js';
import { hostname } from 'node:os';
import { dbOption, metaOption, methodOf, methodOptions, outputOptions, profileOption, type MethodFlags } from '../options.js';

export function reportCommand(): Command {
  const cmd = new Command('report').description("Correlate each request through the profile's points and print the per-stage latency breakdown (and store the requests in the database)");
  profileOption(cmd, { required: true });
  dbOption(cmd);
  methodOptions(cmd);
  metaOption(cmd);
  outputOptions(cmd, Object.keys(REPORTERS), 'the report');
  return cmd
    .addOption(new Option('--group-by <what>', 'also one breakdown per request direction (op: R, W …), size (size: bytes) or Xen guest (domid)').choices([...GROUP_BY]))
    .option('--strict', 'refuse (exit 2) when a run has no complete request, instead of listing it and reporting the others (CI)')
    .option('-q, --quiet', 'no progress line on stderr (shown on a terminal after a second)')
    .addHelpText(
      'after',
      `
Examples:
  xtrace report --profile linux-block                        # table on stdout
  xtrace report --db run.db -p xen-blkback --format json --out report.json
  xtrace report -p linux-block --warmup 5 --trim 0.1 --trim-by stage
  xtrace report -p xen-blktap2 --offset dom0=-52000123456789
  xtrace report -p ./my-profile.json --format markdown
  xtrace report -p linux-block --group-by op                 # one table per direction (R, W …)
  xtrace report -p linux-block --strict                      # CI: a run without a complete request fails
  xtrace report -p linux-block --format html --out report.html   # pictures, one self-contained page
  xtrace report -p linux-block --format json --meta commit=$(git rev-parse --short HEAD) --meta date=$(date -u +%FT%TZ) --out r.json
Runs are delimited by 'xtrace: run=<label> begin|end' markers (trace_marker or trace_printk); no markers = one run.
A run with no complete request is listed with why (points without events in it, events lost) and the
other runs are reported; when no run can be, the refusal says what to change (profile, --domain,
set_event, buffer_size_kb). The requests are stored either way: SELECT * FROM request_stages WHERE run = '1';`,
    )
    .action((o: MethodFlags & { profile: string; db: string; format: ReporterName; out?: string; groupBy?: GroupBy; strict?: boolean; quiet?: boolean; meta?: Record<string, string> }) => {
      const profile = loadProfile(o.profile);
      const db = openDb(o.db);
      const progress = stderrProgress(o.quiet);
      let text: string;
      try {
        const a = analyse(db, { profile, ...methodOf(o, profile), meta: o.meta ?? {}, host: hostname(), strict: !!o.strict, ...(o.groupBy ? { groupBy: o.groupBy } : {}), ...(progress ? { onProgress: progress.onProgress } : {}) });
        const reporter: Reporter = REPORTERS[o.format];
        text = reporter.render(a.model, dataColor(o.out), reporter.figures ? figuresOf(db, a) : undefined);
      } finally {
        progress?.clear();
        db.close();
      }
      writeOutput(text, o.out);
    });
}
