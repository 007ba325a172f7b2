/**
 * The registry of input formats: the one place a parser is added. Each is a plain object
 * `satisfies Parser`; ingestion picks the one whose `sniff` scores highest on a file's head.
 */
import type { Parser } from '../src/core/types.js';
import { ftraceText } from './ftrace/index.js';
import { systraceHtml } from './systrace/index.js';
import { xtbufBinary } from './xtbuf/binary.js';
import { xtbufText } from './xtbuf/text.js';

export const PARSERS: readonly Parser[] = [xtbufBinary, xtbufText, systraceHtml, ftraceText];

/** Bytes of a file's head that `sniff` sees. */
export const SNIFF_BYTES = 64 * 1024;

export function pickParser(head: Buffer): { parser: Parser; score: number } | null {
  let best: { parser: Parser; score: number } | null = null;
  for (const parser of PARSERS) {
    const score = parser.sniff(head);
    if (score > 0 && (best === null || score > best.score)) best = { parser, score };
  }
  return best;
}

export function parserByName(name: string): Parser | undefined {
  return PARSERS.find((p) => p.name === name);
}
