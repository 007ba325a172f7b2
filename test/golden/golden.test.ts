/**
 * Golden cases as data: each file of test/golden/cases/ names its inputs (files of samples/, each
 * with its clock domain) and a list of checks run in order on one database — an SQL query with
 * the rows it must return, or an xtrace command line (run as a user would, `--db` added) with the
 * exit code and the stdout it must print (a file of test/golden/expected/). A new format, profile
 * or reporter adds files here, not TypeScript.
 *
 * Expected values of the ingest cases were checked independently of xtrace (the kernel header's
 * entries-in-buffer, one CPU column per event line, the raw lines); expected command outputs are
 * reviewed snapshots whose numbers other tests check against independent computations (the
 * linux-block report against test/correlate/linux-block-expected.ts). After an intended change of
 * an output, `XTRACE_GOLDEN_UPDATE=1 npm test` rewrites the expected files: review the diff.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ROOT, tempDir, unaccountedLines, xtrace } from '../helpers.js';
import { openDb, type Db } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';

const DIR = join(ROOT, 'test', 'golden');
const UPDATE = process.env['XTRACE_GOLDEN_UPDATE'] === '1';

const Case = z.strictObject({
  description: z.string().min(1),
  inputs: z.array(z.strictObject({ file: z.string(), domain: z.string().default('default') })).min(1),
  checks: z
    .array(
      z.union([
        z.strictObject({ sql: z.string(), rows: z.array(z.record(z.string(), z.unknown())) }),
        z.strictObject({ command: z.array(z.string()).min(1), db: z.boolean().default(true), exit: z.number().int().default(0), stdout: z.string() }),
      ]),
    )
    .min(1),
});

const cases = readdirSync(join(DIR, 'cases'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => {
    const r = Case.safeParse(JSON.parse(readFileSync(join(DIR, 'cases', f), 'utf8')));
    if (!r.success) throw new Error(`test/golden/cases/${f}: ${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    return { name: f.slice(0, -5), ...r.data };
  });

describe('golden cases (test/golden/cases/*.json)', () => {
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    describe(c.name, () => {
      let t: { dir: string; cleanup: () => void };
      let dbPath: string;
      let db: Db;
      before(async () => {
        t = tempDir();
        dbPath = join(t.dir, 'golden.db');
        db = openDb(dbPath, { create: true });
        for (const input of c.inputs) await ingestFile(db, { path: join(ROOT, input.file) }, { domain: input.domain });
      });
      after(() => {
        db.close();
        t.cleanup();
      });

      it('accounts for every input line (events + line counters = lines)', () => {
        assert.deepEqual(unaccountedLines(db), []);
      });

      c.checks.forEach((check, k) => {
        if ('sql' in check) {
          it(`check ${k + 1}: ${check.sql}`, () => {
            assert.deepEqual(db.prepare(check.sql).all(), check.rows, c.description);
          });
        } else {
          it(`check ${k + 1}: xtrace ${check.command.join(' ')}`, () => {
            const r = xtrace(check.db ? [...check.command, '--db', dbPath] : check.command);
            assert.equal(r.status, check.exit, r.stderr);
            const file = join(DIR, 'expected', check.stdout);
            // Inputs are stored under their absolute path: the checkout's place is not part of the output.
            const stdout = r.stdout.split(`${ROOT}/`).join('');
            if (UPDATE) writeFileSync(file, stdout);
            assert.equal(stdout, readFileSync(file, 'utf8'), `${c.description} (stdout differs from test/golden/expected/${check.stdout})`);
          });
        }
      });
    });
  }
});
