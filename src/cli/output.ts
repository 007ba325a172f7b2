import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { InputError } from '../core/errors.js';

/** Writes to stdout, or to a file whole or not at all (temp file + rename). */
export function writeOutput(text: string, out: string | undefined): void {
  if (!out) {
    process.stdout.write(text);
    return;
  }
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError(`${out}: cannot write the output (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, out);
  }
}
