/** `xtrace query`: the options → `executeQuery` → rows streamed through a rows reporter as they are read. */
import { Command } from 'commander';
import { namedQueryListing, executeQuery } from '../../db/query.js';
import { changedRowsText, ROWS_REPORTERS, type RowsFormat } from '../../report/rows.js';
import { openOutput, writeOutput } from '../output.js';
import { collectKeyValue, dbOption, outputOptions } from '../options.js';

interface QueryFlags {
  db: string;
  param?: Record<string, string>;
  format: RowsFormat;
  out?: string;
  list?: boolean;
  write?: boolean;
}

export function queryCommand(): Command {
  const cmd = new Command('query')
    .description('Run SQL on a database: a named query from queries/named/ or an SQL string, with bound parameters')
    .argument('[sql-or-name]', 'an SQL statement, or the name of a query (see --list)');
  dbOption(cmd);
  cmd.option('--param <key=value>', 'bind :key (repeatable)', collectKeyValue('run=3'));
  outputOptions(cmd, Object.keys(ROWS_REPORTERS), 'the result');
  return cmd
    .option('--list', 'list the named queries with their parameters')
    .option('--write', 'allow a statement that writes to the database')
    .addHelpText(
      'after',
      `
Examples:
  xtrace query --list
  xtrace query --db run.db stage-summary --param profile=linux-block --param run=3
  xtrace query --db run.db slowest --param limit=5 --format markdown
  xtrace query --db run.db around-request --param request_id=42
  xtrace query --db run.db "SELECT name, count(*) AS n FROM events GROUP BY name ORDER BY n DESC" --format csv
  xtrace query --db run.db "SELECT * FROM xt_stage_times WHERE stage = :s AND duration_ns > :min" --param 's=be_get_req->be_map' --param min=50000
Parameters are bound, never pasted into the SQL. Read-only unless --write. Rows are written as they
are read (the table format measures its column widths on the first 1000 rows).`,
    )
    .action((query: string | undefined, o: QueryFlags) => {
      if (o.list) return writeOutput(namedQueryListing(), o.out);
      const r = executeQuery({ db: o.db, query: query ?? '', params: o.param ?? {}, write: !!o.write });
      if (r.kind === 'changes') return writeOutput(changedRowsText(r.changes), o.out);
      const out = openOutput(o.out);
      try {
        ROWS_REPORTERS[o.format].write(r.columns, r.rows, out.write);
        out.finish();
      } catch (e) {
        out.abort();
        throw e;
      } finally {
        r.close();
      }
    });
}
