/** `xtrace simulate`: the options → the simulator → the files written (stdout). */
import { Command, Option } from 'commander';
import { UsageError, XtraceError } from '../../core/errors.js';
import { BACKENDS, simulate, type Backend } from '../../simulate/simulate.js';
import { writeOutput } from '../output.js';
import { collectScale, parseCount, parsePositive } from '../options.js';

interface SimulateFlags {
  backend: Backend;
  out: string;
  runs: number;
  requests: number;
  depth: number;
  seed: number;
  noise: boolean;
  lostEvents?: boolean;
  wrap?: boolean;
  guestBlock: boolean;
  xtbufForm: 'binary' | 'text';
  scale?: Record<string, number>;
}

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('Write simulated Xen storage traces that follow the instrumentation contract (xen-probes.md), plus their ground truth (truth.json)')
    .addOption(new Option('--backend <name>', 'back end').choices([...BACKENDS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output directory (created; must be empty)')
    .addOption(new Option('--runs <n>', 'runs').default(10).argParser(parsePositive))
    .addOption(new Option('--requests <n>', 'requests per run').default(100).argParser(parsePositive))
    .addOption(new Option('--depth <n>', 'queue depth (fio threads), 1 to 32').default(1).argParser(parsePositive))
    .addOption(new Option('--seed <n>', 'random seed').default(1).argParser(parseCount))
    .option('--no-noise', 'no other guests, no unrelated lines')
    .option('--lost-events', "drop a window of kernel events in run 3 (with the kernel's LOST EVENTS line)")
    .option('--wrap', 'make the userspace ring buffer wrap (oldest records lost)')
    .option('--no-guest-block', 'no syscalls and block tracepoints in the guest trace')
    .addOption(new Option('--xtbuf-form <form>', 'userspace dump form').choices(['binary', 'text']).default('binary'))
    .addOption(
      new Option('--scale <stage=factor>', 'multiply one assumed stage latency (e.g. be_submit->be_bio_done=1.2), all else drawn the same: a controlled regression (repeatable)').argParser(collectScale),
    )
    .addHelpText(
      'after',
      `
Examples:
  xtrace simulate --backend blkback --out sim/
  xtrace simulate --backend blktap2 --depth 4 --lost-events --wrap --seed 7 --out sim-tap2/
Then ingest each file with the domain printed, and report:
  xtrace ingest --db sim.db --domain domU sim/guest.trace
  xtrace ingest --db sim.db --domain dom0 sim/dom0.trace
  xtrace report --db sim.db --profile xen-blkback
Stage latencies are documented assumptions (src/simulate/assumptions.ts), not measurements.`,
    )
    .action((o: SimulateFlags) => {
      let r: ReturnType<typeof simulate>;
      try {
        r = simulate({
          backend: o.backend,
          out: o.out,
          runs: o.runs,
          requests: o.requests,
          depth: o.depth,
          seed: o.seed,
          noise: o.noise,
          lostEvents: !!o.lostEvents,
          wrap: !!o.wrap,
          guestBlock: o.guestBlock,
          xtbufForm: o.xtbufForm,
          ...(o.scale ? { scale: o.scale } : {}),
        });
      } catch (e) {
        if (e instanceof XtraceError) throw e;
        throw new UsageError((e as Error).message);
      }
      const lines = r.files.map((f) => `${f.path}\tdomain ${f.domain}\n`);
      lines.push(`${r.truthPath}\tground truth: ${r.requests} requests, ${r.complete} complete\n`);
      writeOutput(lines.join(''), undefined);
    });
}
