/** `xtrace history`: saved JSON reports in order → change points per stage and the total → a reporter; exit 1 when the latest segment of a series regressed. */
import { Command, Option } from 'commander';
import { history, HISTORY_DEFAULTS, reportFiles } from '../../history/history.js';
import { HISTORY_REPORTERS, type HistoryFormat } from '../../history/reporters.js';
import { dataColor, writeOutput } from '../output.js';
import { outputOptions, parseAlpha, parseDuration, parsePercent, parsePositive } from '../options.js';

export function historyCommand(): Command {
  const cmd = new Command('history')
    .description('Find where each stage and the total stepped up or down over a series of saved reports (change points: E-Divisive means and a t-test); exit 1 when the latest segment of any of them regressed')
    .argument('<reports...>', 'saved `xtrace report --format json` files, or directories of them (their *.json by name)')
    .addOption(new Option('--order <how>', 'report order: as given (args), or by a --meta value of the reports (meta.date, meta.commit …; numbers numerically)').default('args'))
    .addOption(new Option('--stage <name>', 'only this series (repeatable; a stage name or total); default the total and every stage').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--threshold <pct>', 'smallest relative step that counts').default(HISTORY_DEFAULTS.thresholdPct / 100, `${HISTORY_DEFAULTS.thresholdPct}%`).argParser(parsePercent))
    .addOption(new Option('--floor <time>', 'smallest absolute step that counts (ns, us, ms)').default(HISTORY_DEFAULTS.floorNs, `${HISTORY_DEFAULTS.floorNs}ns`).argParser(parseDuration))
    .addOption(new Option('--alpha <p>', 'significance level over all the series together (Bonferroni)').default(HISTORY_DEFAULTS.alpha).argParser(parseAlpha))
    .addOption(new Option('--min-reports <n>', 'reports at least on each side of a change point').default(HISTORY_DEFAULTS.minReports).argParser(parsePositive));
  outputOptions(cmd, Object.keys(HISTORY_REPORTERS), 'the history');
  return cmd
    .addHelpText(
      'after',
      `
Examples:
  xtrace history reports/ --order meta.date                       # every *.json of reports/, oldest first
  xtrace history r1.json r2.json r3.json r4.json --stage total
  xtrace history reports/ --order meta.date --format markdown >> "$GITHUB_STEP_SUMMARY"
  xtrace history reports/ --format html --out history.html
Each report's run means are its replicates. A change point is kept when Student's t-test (pooled
variance) of the two sides gives p < alpha / (number of series), the step is at least --threshold
and --floor, each side has --min-reports reports, and with any one report left out the step stays
as big, the same way and significant at alpha (a lone outlier is not a change point). Exit 0: no series ends in a regression; 1: the latest segment of a series regressed
against the one before it; 2: usage or input error. Reports of another profile, stages, warm-up,
trimming, filters or grouping are refused, naming the one that differs.`,
    )
    .action((args: string[], o: { order: string; stage?: string[]; threshold: number; floor: number; alpha: number; minReports: number; format: HistoryFormat; out?: string }) => {
      const h = history(reportFiles(args), { order: o.order, ...(o.stage ? { stages: o.stage } : {}), thresholdPct: o.threshold * 100, floorNs: o.floor, alpha: o.alpha, minReports: o.minReports });
      writeOutput(HISTORY_REPORTERS[o.format].render(h, dataColor(o.out)), o.out);
      process.exitCode = h.regressed.length ? 1 : 0;
    });
}
