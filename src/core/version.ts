/**
 * xtrace's version, read from the one place it is written: package.json (found upwards from this
 * module, so it works from src/ under tsx and from dist/ once built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const doc = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (doc.name === 'xtrace' && typeof doc.version === 'string') return doc.version;
    }
    dir = dirname(dir);
  }
  throw new Error('xtrace installation is incomplete: its package.json was not found');
}

export const XTRACE_VERSION: string = readVersion();
