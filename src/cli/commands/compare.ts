/** `xtrace compare`: the options → two sides (JSON reports or databases through the report pipeline) → the verdict → a reporter; exit 1 on a regression. */
import { Command, Option } from 'commander';
import { loadSides, type Side } from '../../compare/sides.js';
import { compare, COMPARE_DEFAULTS } from '../../compare/compare.js';
import { COMPARE_REPORTERS, type CompareFormat } from '../../compare/reporters.js';
import { dataColor, writeOutput } from '../output.js';
import { stderrProgress } from '../progress.js';
import { methodOf, methodOptions, outputOptions, parseAlpha, parseCount, parseDuration, parsePercent, profileOption, type MethodFlags } from '../options.js';

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description('Compare a candidate with a baseline per stage: exit 1 when a stage regressed (size above threshold and floor, and significant over runs after Holm\'s correction)')
    .argument('<baseline>', 'a database, or a saved `xtrace report --format json`')
    .argument('<candidate>', 'a database, or a saved `xtrace report --format json`');
  profileOption(cmd, { required: false, note: 'for database sides (default: the profile of a JSON side)' });
  cmd
    .addOption(new Option('--threshold <pct>', 'relative change that matters').default(COMPARE_DEFAULTS.threshold, `${COMPARE_DEFAULTS.threshold * 100}%`).argParser(parsePercent))
    .addOption(new Option('--floor <time>', 'absolute change that matters (ns, us, ms)').default(COMPARE_DEFAULTS.floorNs, `${COMPARE_DEFAULTS.floorNs}ns`).argParser(parseDuration))
    .addOption(new Option('--alpha <p>', 'family-wise error rate of regressed/improved (Holm over the stages and the total), and the level of each equivalence test (below 0.5)').default(COMPARE_DEFAULTS.alpha).argParser(parseAlpha));
  outputOptions(cmd, Object.keys(COMPARE_REPORTERS), 'the comparison');
  methodOptions(cmd, 'database sides');
  return cmd
    .option('--fail-on-inconclusive', 'exit 1 also when a stage is inconclusive')
    .option('--allow-per-request', 'with fewer than 3 runs on a side, let the per-request test decide (it overstates significance)')
    .option('--strict', 'refuse (exit 2) a side with a run that has no complete request, instead of comparing its other runs')
    .option('-q, --quiet', 'no progress line on stderr (database sides, on a terminal, after a second)')
    .addOption(new Option('--seed <n>', 'bootstrap seed').default(COMPARE_DEFAULTS.seed).argParser(parseCount))
    .addHelpText(
      'after',
      `
Examples:
  xtrace compare baseline.db candidate.db --profile linux-block
  xtrace compare baseline-report.json candidate.db --format markdown >> "$GITHUB_STEP_SUMMARY"
  xtrace compare base.json cand.json --threshold 10% --floor 2us --format junit --out compare.xml
Verdict per stage and for the total (runs are the unit: at least 3 a side):
  regressed / improved  |delta| above --threshold and --floor, and the Welch t-test over run means
                        significant after Holm's correction over all stages and the total (for a
                        stage across clock domains: a change beyond the clock-offset uncertainty)
  same                  the (1 − 2·alpha) interval of delta over run means (Welch, two one-sided
                        tests) lies inside ± max(threshold · baseline, floor)
  inconclusive          neither (the output says how many runs a side would decide it), or fewer
                        than 3 runs a side (unless --allow-per-request)
Exit 0: nothing regressed; 1: something regressed (or, with --fail-on-inconclusive, was
inconclusive); 2: error.`,
    )
    .action(
      (
        baseline: string,
        candidate: string,
        o: MethodFlags & { profile?: string; threshold: number; floor: number; alpha: number; format: CompareFormat; out?: string; failOnInconclusive?: boolean; allowPerRequest?: boolean; seed: number; strict?: boolean; quiet?: boolean },
      ) => {
        // --filter is parsed per database side, against its profile's request fields.
        const progress = stderrProgress(o.quiet);
        let sides: [Side, Side];
        try {
          sides = loadSides(baseline, candidate, {
            ...methodOf({ ...o, filter: [] }),
            ...(o.filter?.length ? { filterTexts: o.filter } : {}),
            ...(o.profile ? { profile: o.profile } : {}),
            strict: !!o.strict,
            ...(progress ? { onProgress: progress.onProgress } : {}),
          });
        } finally {
          progress?.clear();
        }
        const [a, b] = sides;
        const c = compare(a, b, { ...COMPARE_DEFAULTS, threshold: o.threshold, floorNs: o.floor, alpha: o.alpha, allowPerRequest: !!o.allowPerRequest, seed: o.seed });
        writeOutput(COMPARE_REPORTERS[o.format].render(c, dataColor(o.out)), o.out);
        process.exitCode = c.counts.regressed > 0 || (o.failOnInconclusive && c.counts.inconclusive > 0) ? 1 : 0;
      },
    );
}
