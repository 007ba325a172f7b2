/** `xtrace summary`: what a database holds, one block per source. */
import { Command } from 'commander';
import { openDb } from '../../db/db.js';
import { sourceOverview } from '../../analysis/sources.js';
import { formatSummaryTable } from '../../report/summary.js';
import { toJson } from '../../report/format.js';
import { dataColor, writeOutput } from '../output.js';
import { dbOption } from '../options.js';

export function summaryCommand(): Command {
  const cmd = new Command('summary').description('Summarise what a database holds: one line per source, with data-quality counters');
  dbOption(cmd);
  return cmd.option('--json', 'JSON instead of a table').action((o: { db: string; json?: boolean }) => {
    const db = openDb(o.db, { readonly: true });
    let text: string;
    try {
      const s = sourceOverview(db);
      text = o.json ? toJson(s) + '\n' : formatSummaryTable(s, dataColor(undefined));
    } finally {
      db.close();
    }
    writeOutput(text, undefined);
  });
}
