/** `xtrace report`: the options → `analyse` → a reporter. */
import { Command } from 'commander';
import { openDb } from '../../db/db.js';
import { loadProfile } from '../../profiles/index.js';
import { analyse } from '../../pipeline/analyse.js';
import { REPORTERS, type ReporterName } from '../../report/reporters.js';
import { dataColor, writeOutput } from '../output.js';
import { dbOption, methodOf, methodOptions, outputOptions, profileOption, type MethodFlags } from '../options.js';

export function reportCommand(): Command {
  const cmd = new Command('report').description("Correlate each request through the profile's points and print the per-stage latency breakdown (and store the requests in the database)");
  profileOption(cmd, { required: true });
  dbOption(cmd);
  methodOptions(cmd);
  outputOptions(cmd, Object.keys(REPORTERS), 'the report');
  return cmd
    .addHelpText(
      'after',
      `
Examples:
  xtrace report --profile linux-block                        # table on stdout
  xtrace report --db run.db -p xen-blkback --format json --out report.json
  xtrace report -p linux-block --warmup 5 --trim 0.1 --trim-by stage
  xtrace report -p xen-blktap2 --offset dom0=-52000123456789
  xtrace report -p ./my-profile.json --format markdown
Runs are delimited by 'xtrace: run=<label> begin|end' markers (trace_marker or trace_printk); no markers = one run.
The requests are stored in the database: SELECT * FROM request_stages WHERE run = '1';`,
    )
    .action((o: MethodFlags & { profile: string; db: string; format: ReporterName; out?: string }) => {
      const profile = loadProfile(o.profile);
      const db = openDb(o.db);
      let text: string;
      try {
        text = REPORTERS[o.format].render(analyse(db, { profile, ...methodOf(o) }).model, dataColor(o.out));
      } finally {
        db.close();
      }
      writeOutput(text, o.out);
    });
}
