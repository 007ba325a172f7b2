/**
 * Where the CLI's output goes: stdout or a file written whole or not at all (temp file + rename),
 * colours that honour NO_COLOR and terminals, and a streaming sink for outputs that must not be
 * held in memory (query rows). `xtrace … | head` closing stdout early is not an error: a write to
 * a closed stdout raises `OutputClosed`, which main turns into exit 0. A directory output (the
 * Parquet export) writes files of given names into a directory, each to a temporary file renamed
 * once every one is written.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { InputError } from '../core/errors.js';

const noColor = (): boolean => !!process.env['NO_COLOR'];
/** Colours for messages on stderr. */
export const errColor: ChalkInstance = new Chalk({ level: !noColor() && process.stderr.isTTY === true ? 1 : 0 });
const outColorTty: ChalkInstance = new Chalk({ level: !noColor() && process.stdout.isTTY === true ? 1 : 0 });
const plain: ChalkInstance = new Chalk({ level: 0 });
/** Colours for data: none in a file, else as the terminal allows. */
export function dataColor(out: string | undefined): ChalkInstance {
  return out ? plain : outColorTty;
}

/** stdout was closed by the reader (`| head`): stop writing, exit 0. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
}

function tempPath(out: string): string {
  return join(dirname(out), `.${basename(out)}.${process.pid}.tmp`);
}

function cannotWrite(out: string, e: unknown): InputError {
  return new InputError(`${out}: cannot write the output (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, out);
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes to file descriptor 1 synchronously, so that nothing queues in memory behind a slow reader
 * and a closed pipe is seen at the write that meets it. stdout may be a non-blocking pipe: EAGAIN
 * waits a millisecond and tries again.
 */
function toStdout(text: string): void {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') throw new OutputClosed();
      else throw e;
    }
  }
}

/** Writes to stdout, or to a file whole or not at all (temp file + rename). */
export function writeOutput(text: string, out: string | undefined): void {
  if (!out) return toStdout(text);
  const tmp = tempPath(out);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw cannotWrite(out, e);
  }
}

/** A streaming output: `write` as data comes, then `finish` (a file appears whole at its name) or `abort` (no file is left). */
export interface OutputSink {
  write(chunk: string): void;
  finish(): void;
  abort(): void;
}

export function openOutput(out: string | undefined): OutputSink {
  if (!out) return { write: toStdout, finish: () => {}, abort: () => {} };
  const tmp = tempPath(out);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw cannotWrite(out, e);
  }
  let open = true;
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    write(chunk) {
      try {
        writeSync(fd, chunk);
      } catch (e) {
        close();
        rmSync(tmp, { force: true });
        throw cannotWrite(out, e);
      }
    },
    finish() {
      try {
        close();
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw cannotWrite(out, e);
      }
    },
    abort() {
      close();
      rmSync(tmp, { force: true });
    },
  };
}

/**
 * Files of given names written into a directory (created when missing): `file(name)` opens one (a
 * temporary file beside it) and returns the function that appends bytes to it; `finish` renames
 * every one to its name (replacing a file of that name, touching no other), `abort` removes them.
 */
export interface DirectoryOutput {
  file(name: string): (chunk: Uint8Array) => void;
  finish(): void;
  abort(): void;
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdir spins for ever where mkdir answers
 * ENOENT under an existing parent (/proc).
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (e) {
    const parent = dirname(dir);
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir || existsSync(parent)) throw e;
  }
  makeDirectory(dirname(dir));
  mkdirSync(dir);
}

export function openDirectory(dir: string): DirectoryOutput {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(dir, e);
  }
  if (!isDir) {
    try {
      makeDirectory(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new InputError(`${dir}: exists and is not a directory; give --out a directory (created when missing)`, dir);
      throw new InputError(`${dir}: cannot create the directory (${code ?? (e as Error).message}); give --out a directory you can write`, dir);
    }
  }
  const files: { fd: number; tmp: string; path: string; open: boolean }[] = [];
  const close = (f: (typeof files)[number]): void => {
    if (f.open) closeSync(f.fd);
    f.open = false;
  };
  const abort = (): void => {
    for (const f of files) {
      close(f);
      rmSync(f.tmp, { force: true });
    }
  };
  return {
    file(name) {
      const path = join(dir, name);
      const tmp = tempPath(path);
      let fd: number;
      try {
        fd = openSync(tmp, 'w');
      } catch (e) {
        abort();
        throw cannotWrite(path, e);
      }
      const f = { fd, tmp, path, open: true };
      files.push(f);
      return (chunk) => {
        try {
          let off = 0;
          while (off < chunk.length) off += writeSync(f.fd, chunk, off, chunk.length - off);
        } catch (e) {
          abort();
          throw cannotWrite(path, e);
        }
      };
    },
    finish() {
      for (const f of files) {
        try {
          close(f);
          renameSync(f.tmp, f.path);
        } catch (e) {
          abort();
          throw cannotWrite(f.path, e);
        }
      }
    },
    abort,
  };
}
