/** `xtrace chart`: saved reports (`LABEL=REPORT.json` or `REPORT.json`) → one stacked bar each → an SVG or HTML figure. */
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Command, Option } from 'commander';
import { InputError, UsageError } from '../../core/errors.js';
import { readReport } from '../../compare/sides.js';
import { CHART_FORMATS, chartLabels, renderChart, type ChartFormat } from '../../report/chart.js';
import { writeOutput } from '../output.js';

/** The format an --out file name says (.svg, .html or .htm); anything else is refused. */
function formatOfOut(out: string, given: ChartFormat | undefined): ChartFormat {
  const ext = extname(out).toLowerCase();
  const format: ChartFormat | undefined = ext === '.svg' ? 'svg' : ext === '.html' || ext === '.htm' ? 'html' : undefined;
  if (!format) throw new UsageError(`--out ${out}: the file name must end in .svg or .html (it decides the format)`);
  if (given && given !== format) throw new UsageError(`--format ${given} but --out ${out} is ${format}: give one of them, or make them agree`);
  return format;
}

/** `LABEL=FILE` or `FILE` (an existing file whose name holds `=` is a file). */
function parseSpec(spec: string): { label?: string; path: string } {
  const eq = spec.indexOf('=');
  if (eq < 0 || existsSync(spec)) return { path: spec };
  const label = spec.slice(0, eq);
  if (!label.trim()) throw new UsageError(`${spec}: the label before = is empty; write LABEL=REPORT.json or just REPORT.json`);
  return { label, path: spec.slice(eq + 1) };
}

export function chartCommand(): Command {
  return new Command('chart')
    .description("The study's figure from saved reports (different profiles allowed): one stacked bar per report, stages coloured by layer, on one time axis from the request's start")
    .argument('<reports...>', 'saved `xtrace report --format json` files, each as REPORT.json or LABEL=REPORT.json (default label: its profile, with the file name when two bars share one)')
    .option('--out <file>', 'write the figure to FILE.svg or FILE.html (the extension decides the format; written whole or not at all)')
    .addOption(new Option('--format <format>', 'svg or html (default: from --out, else svg on stdout)').choices([...CHART_FORMATS]))
    .option('--title <text>', 'heading of the figure')
    .addHelpText(
      'after',
      `
Examples:
  xtrace chart bare.json xen-blkback.json xen-blktap2.json --out figure.svg
  xtrace chart "bare metal=lb.json" "blkback=bb.json" "blktap2=t2.json" --out figure.html --title "4 KiB reads"
  xtrace chart report.json > figure.svg
Each bar is a report's stages in path order (their means, per request), on one axis from 0 so the
starts line up and each bar ends at its mean latency; colours: the stage's layer (guest kernel,
hand-off, dom0/host kernel, userspace back end, device), a shade per stage; error bars: the clock
uncertainty of stages across clock domains. A note says when a report's stages do not add up
(--trim-by stage) or runs were not averaged. The same reports give the same bytes.`,
    )
    .action((specs: string[], o: { out?: string; format?: ChartFormat; title?: string }) => {
      const format = o.out ? formatOfOut(o.out, o.format) : (o.format ?? 'svg');
      const loaded = specs.map(parseSpec).map(({ label, path }) => {
        const report = readReport(path);
        if (!report.stages.length) throw new InputError(`${path}: the report has no stages; nothing to draw (report a profile with at least two points)`, path);
        if (!report.runs.length) throw new InputError(`${path}: the report averaged no run; nothing to draw (see its excluded_runs)`, path);
        return { ...(label !== undefined ? { label } : {}), file: basename(path), profile: report.profile, report };
      });
      const labels = chartLabels(loaded);
      const items = loaded.map((l, k) => ({ label: labels[k]!, file: l.file, report: l.report }));
      writeOutput(renderChart(format, items, o.title !== undefined ? { title: o.title } : {}), o.out);
    });
}
