/** `xtrace simulate`: the options → the simulator → the files written (stdout). */
import { Command, InvalidArgumentError, Option } from 'commander';
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
  driftPpm?: Record<string, number>;
  runGapMs?: number;
  skip?: Record<string, number>;
  batching?: 'serial' | 'real';
  guests?: number;
  guestDomid?: boolean;
  extendedTruth?: boolean;
}

/** Repeatable `KEY=NUMBER` into a record (a key given twice is refused). */
function collectNumber(re: RegExp, expected: string) {
  return (v: string, prev: Record<string, number> | undefined): Record<string, number> => {
    const m = re.exec(v);
    if (!m) throw new InvalidArgumentError(`expected ${expected}`);
    if (prev !== undefined && m[1]! in prev) throw new InvalidArgumentError(`${m[1]} given twice`);
    return { ...(prev ?? {}), [m[1]!]: Number(m[2]) };
  };
}

const collectDrift = collectNumber(/^([A-Za-z0-9_.-]+)=([+-]?(?:\d+\.?\d*|\.\d+))$/, 'DOMAIN=PPM, e.g. dom0=20 or domU=-12.5');
const collectSkip = collectNumber(/^([a-z0-9_]+)=(\d+)$/, 'POINT=N, e.g. td_aio_submit=3');

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('Write simulated Xen storage traces that follow the instrumentation contract (xen-probes.md), plus their ground truth (truth.json)')
    .addOption(new Option('--backend <name>', 'back end').choices([...BACKENDS]).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output directory (created; must be empty)')
    .addOption(new Option('--runs <n>', 'runs').default(10).argParser(parsePositive))
    .addOption(new Option('--requests <n>', 'requests per run (and guest)').default(100).argParser(parsePositive))
    .addOption(new Option('--depth <n>', 'queue depth (fio threads per guest), 1 to 32').default(1).argParser(parsePositive))
    .addOption(new Option('--seed <n>', 'random seed').default(1).argParser(parseCount))
    .option('--no-noise', 'no other guests, no unrelated lines')
    .option('--lost-events', "drop a window of kernel events in run 3 (with the kernel's LOST EVENTS line)")
    .option('--wrap', 'make the userspace ring buffer wrap (oldest records lost)')
    .option('--no-guest-block', 'no syscalls and block tracepoints in the guest trace')
    .addOption(new Option('--xtbuf-form <form>', 'userspace dump form').choices(['binary', 'text']).default('binary'))
    .addOption(
      new Option('--scale <stage=factor>', 'multiply one assumed stage latency (e.g. be_submit->be_bio_done=1.2), all else drawn the same: a controlled regression (repeatable)').argParser(collectScale),
    )
    .addOption(
      new Option('--drift-ppm <domain=ppm>', "a domain's clock runs PPM parts per million fast (negative: slow) relative to the reference, -1000 to 1000 (repeatable)").argParser(collectDrift),
    )
    .addOption(new Option('--run-gap-ms <n>', 'idle time between runs in ms (default 200; 10 runs 3000 ms apart span ~30 s)').argParser(parsePositive))
    .addOption(new Option('--skip <point=n>', 'N requests silently lose POINT: no line, no LOST marker (repeatable)').argParser(collectSkip))
    .addOption(new Option('--batching <mode>', 'serial (default): the serialised model; real: notifications and interrupts batched as blkfront/blkback do').choices(['serial', 'real']))
    .addOption(new Option('--guests <n>', 'guests doing I/O at once through the same dom0, 1 to 8 (default 1)').argParser(parsePositive))
    .option('--guest-domid', 'fe_* lines carry domid= (the guest\'s own domid)')
    .option('--extended-truth', 'truth.json with clocks, guests and per request guest, domid, at (on by default with any option above)')
    .addHelpText(
      'after',
      `
Examples:
  xtrace simulate --backend blkback --out sim/
  xtrace simulate --backend blktap2 --depth 4 --lost-events --wrap --seed 7 --out sim-tap2/
  xtrace simulate --backend blkback --depth 4 --batching real --guests 2 --drift-ppm dom0=20 --run-gap-ms 3000 --out sim-real/
  xtrace simulate --backend blktap2 --skip td_aio_submit=3 --skip be_irq=1 --out sim-skip/
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
          ...(o.driftPpm ? { drift: o.driftPpm } : {}),
          ...(o.runGapMs !== undefined ? { runGapMs: o.runGapMs } : {}),
          ...(o.skip ? { skip: o.skip } : {}),
          ...(o.batching !== undefined ? { batching: o.batching } : {}),
          ...(o.guests !== undefined ? { guests: o.guests } : {}),
          ...(o.guestDomid ? { guestDomid: true } : {}),
          ...(o.extendedTruth ? { extendedTruth: true } : {}),
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
