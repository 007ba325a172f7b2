/** `xtrace profiles`: the built-in profiles, or one as JSON. */
import { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { builtinProfileDocument, builtinProfileNames, loadProfile } from '../../profiles/index.js';
import { toJson } from '../../report/format.js';
import { writeOutput } from '../output.js';

export function profilesCommand(): Command {
  return new Command('profiles')
    .description('List the built-in profiles, or print one as JSON (a starting point for your own)')
    .option('--show <name>', 'print this profile as JSON')
    .action((o: { show?: string }) => {
      if (o.show) {
        const doc = builtinProfileDocument(o.show);
        if (!doc) throw new UsageError(`unknown profile "${o.show}": built-in profiles are ${builtinProfileNames().join(', ')}`);
        writeOutput(toJson(doc) + '\n', undefined);
        return;
      }
      const lines = builtinProfileNames().map((n) => {
        const p = loadProfile(n);
        return `${n.padEnd(14)}${p.description}\n${' '.repeat(14)}${p.points.map((x) => (x.optional ? `[${x.name}]` : x.name)).join(' → ')}\n`;
      });
      writeOutput(lines.join(''), undefined);
    });
}
