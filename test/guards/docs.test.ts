/**
 * The README keeps up with the program: it names every command (as `xtrace NAME`), every built-in
 * profile and every counter code the program can emit (ingest and matcher), each in backticks.
 * A new command, profile or counter without its line in the README fails here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { builtinProfileNames } from '../../src/profiles/index.js';
import { COUNTERS } from '../../src/core/counters.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

/** What `names` the text does not mention in the form `form(name)`. */
export function undocumented(text: string, names: readonly string[], form: (n: string) => RegExp): string[] {
  return names.filter((n) => !form(n).test(text));
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `xtrace NAME` in backticks, or a line of a code block that starts with it (a usage line). */
const commandForm = (n: string): RegExp => new RegExp(`(^|\`)xtrace ${esc(n)}[\\s\`]`, 'm');
const codeForm = (n: string): RegExp => new RegExp(`\`${esc(n)}\``);

describe('README', () => {
  const text = readFileSync(README, 'utf8');

  it('names every command as `xtrace NAME`', () => {
    const names = COMMANDS.map((make) => make().name());
    assert.ok(names.length >= 7);
    assert.deepEqual(undocumented(text, names, commandForm), []);
  });

  it('names every built-in profile', () => {
    assert.deepEqual(undocumented(text, builtinProfileNames(), codeForm), []);
  });

  it('names every counter code of the catalogue (ingest and matcher)', () => {
    const codes = Object.keys(COUNTERS);
    assert.ok(codes.length > 20);
    assert.deepEqual(undocumented(text, codes, codeForm), []);
  });

  it('the check fails on what is missing', () => {
    assert.deepEqual(undocumented('`xtrace report` and `xtrace query --list`\nxtrace ingest t.txt\nsee xtrace history', ['report', 'query', 'ingest', 'history'], commandForm), ['history']);
    assert.deepEqual(undocumented('`lost_events` and lost_gaps', ['lost_events', 'lost_gaps'], codeForm), ['lost_gaps']);
  });
});
