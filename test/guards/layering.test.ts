/**
 * The architecture, checked: data flows file → parser → sink → db → correlate (profile) →
 * pipeline → reporter → cli, and each layer imports only from the layers it may use. Parsers never
 * touch the database, the correlation, the CLI or `process`; reporters never touch the database;
 * only src/cli reads argv or exits. Every import of every source file is read (static, dynamic and
 * re-exports, type-only ones too: a type import still ties the layers).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Which layers each layer may import from (besides itself and packages). */
export const ALLOWED: Record<string, readonly string[]> = {
  'src/core': [],
  parsers: ['src/core'],
  'src/db': ['src/core'],
  'src/ingest': ['src/core', 'src/db', 'parsers'],
  'src/profiles': ['src/core'],
  'src/correlate': ['src/core', 'src/db', 'src/profiles'],
  'src/analysis': ['src/core', 'src/db'],
  'src/report': ['src/core', 'src/analysis', 'src/correlate', 'src/profiles'],
  'src/pipeline': ['src/core', 'src/db', 'src/profiles', 'src/correlate', 'src/analysis', 'src/report', 'src/export'],
  // Exporters: the pipeline hands them stored requests (src/export/records.ts); they write a format.
  'src/export': ['src/core', 'src/profiles', 'src/report'],
  'src/compare': ['src/core', 'src/db', 'src/profiles', 'src/analysis', 'src/pipeline', 'src/report'],
  // History: saved JSON reports (read and checked by compare's readReport) → change points; never the database.
  'src/history': ['src/core', 'src/analysis', 'src/compare', 'src/report'],
  'src/simulate': ['src/core', 'src/profiles', 'parsers'],
  // Recording: tracefs (files, mount) and the workload; the profile's events (and the block layer's, from the correlation).
  'src/record': ['src/core', 'src/profiles', 'src/correlate'],
  'src/cli': ['*'],
};

/** Reporters and exporters: they render what the pipeline gives them and never reach the database. */
const REPORTER_FILES = (f: string): boolean => f.startsWith('src/report/') || f.startsWith('src/export/') || f === 'src/compare/reporters.ts' || f === 'src/compare/html.ts' || f === 'src/history/reporters.ts';

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of a file: `import … from`, `export … from`, `import('…')`, `import '…'`. */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3])!);
  return specs;
}

/** The layer of a repository-relative path: `parsers`, or `src/<dir>`. */
export function layerOf(rel: string): string | null {
  const parts = rel.split('/');
  if (parts[0] === 'parsers') return 'parsers';
  if (parts[0] === 'src' && parts.length > 2) return `src/${parts[1]}`;
  return null;
}

/** Every violation in the given files (repository-relative path → text). */
export function violations(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [rel, text] of files) {
    const from = layerOf(rel);
    if (!from) continue;
    const allowed = ALLOWED[from];
    if (!allowed) {
      bad.push(`${rel}: layer ${from} is not in the layering table (add it to ALLOWED with what it may import)`);
      continue;
    }
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(rel), spec)).split(sep).join('/');
      const to = layerOf(target);
      if (!to || to === from) continue;
      if (REPORTER_FILES(rel) && to === 'src/db') bad.push(`${rel}: a reporter imports ${spec} (reporters never touch the database)`);
      else if (!allowed.includes('*') && !allowed.includes(to)) bad.push(`${rel}: ${from} may not import ${to} (${spec})`);
    }
    if (from !== 'src/cli') {
      // Only the CLI reads argv or decides the exit.
      for (const m of text.matchAll(/process\.(argv|exit\b|exitCode)/g)) bad.push(`${rel}: uses process.${m[1]} (only src/cli reads argv or exits)`);
    }
    if (from === 'parsers' && /\bprocess\./.test(text)) bad.push(`${rel}: a parser touches process`);
  }
  return bad;
}

function repositoryFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const top of ['src', 'parsers']) {
    for (const p of sourceFiles(join(ROOT, top))) files.set(relative(ROOT, p).split(sep).join('/'), readFileSync(p, 'utf8'));
  }
  return files;
}

describe('layering', () => {
  it('every import of src/ and parsers/ follows the layering table; only src/cli reads argv or exits', () => {
    assert.deepEqual(violations(repositoryFiles()), []);
  });

  it('the check sees what it must see (a parser importing the database, a reporter the database, a library exiting)', () => {
    const files = new Map([
      ['parsers/ftrace/x.ts', "import { openDb } from '../../src/db/db.js';\nexport const a = 1;"],
      ['parsers/xtbuf/y.ts', "import type { Profile } from '../../src/profiles/index.js';"],
      ['src/report/z.ts', "const { openDb } = await import('../db/db.js');"],
      ['src/compare/reporters.ts', "export { openDb } from '../db/db.js';"],
      ['src/correlate/w.ts', 'if (bad) process.exit(2);'],
      ['src/db/v.ts', "import '../cli/main.js';"],
      ['src/newlayer/u.ts', 'export {};'],
      ['parsers/ftrace/ok.ts', "import { LineTokenizer } from '../../src/core/lines.js';"],
    ]);
    const v = violations(files);
    assert.equal(v.length, 7, v.join('\n'));
    for (const f of ['parsers/ftrace/x.ts', 'parsers/xtbuf/y.ts', 'src/report/z.ts', 'src/compare/reporters.ts', 'src/correlate/w.ts', 'src/db/v.ts', 'src/newlayer/u.ts']) {
      assert.ok(v.some((x) => x.startsWith(f)), f);
    }
  });
});
