import { isAscii, isUtf8 } from 'node:buffer';
import { ParseError } from './errors.js';

/** No trace line is anywhere near this long; a longer one means the input is not a trace. */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * `noLineTerminators`: the line holds no `\r` (a CRLF's is already stripped), U+2028 or U+2029,
 * known from one look at the whole block; a line never holds `\n`. Parsers may ignore it.
 */
export type LineHandler = (line: string, lineNo: number, noLineTerminators: boolean) => void;

/**
 * The tokenizer of every text format: splits a byte stream into lines, whatever the chunking.
 * Validates UTF-8 (an invalid byte is a ParseError naming the line), strips `\r` of CRLF,
 * and reports a last line without a trailing newline through `endedWithoutNewline`.
 */
export class LineTokenizer {
  private carry: Buffer | null = null;
  private lineNo = 0;
  /** True after end() when the input's last line had no newline. */
  endedWithoutNewline = false;

  constructor(private readonly onLine: LineHandler) {}

  /** Lines delivered so far. */
  get lines(): number {
    return this.lineNo;
  }

  write(chunk: Buffer): void {
    const lastNl = chunk.lastIndexOf(10);
    if (lastNl < 0) {
      this.carry = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
      if (this.carry.length > MAX_LINE_BYTES) this.tooLong();
      return;
    }
    let block: Buffer;
    if (this.carry) {
      block = Buffer.concat([this.carry, chunk.subarray(0, lastNl + 1)]);
    } else {
      block = chunk.subarray(0, lastNl + 1);
    }
    this.carry = lastNl + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNl + 1)) : null;
    this.emitBlock(block);
    if (this.carry && this.carry.length > MAX_LINE_BYTES) this.tooLong();
  }

  end(): void {
    if (this.carry && this.carry.length > 0) {
      this.endedWithoutNewline = true;
      const block = this.carry;
      this.carry = null;
      this.emitBlock(block);
    }
  }

  private tooLong(): never {
    throw new ParseError(`line ${this.lineNo + 1} is longer than ${MAX_LINE_BYTES >> 20} MiB: this is not a trace line`, this.lineNo + 1);
  }

  /** `block` holds whole lines; it ends with `\n` unless it is the unterminated last line. */
  private emitBlock(block: Buffer): void {
    let text: string;
    let plain: boolean;
    if (isAscii(block)) {
      // The same string as UTF-8 decoding gives, made by a plain copy.
      text = block.toString('latin1');
      plain = block.indexOf(13) < 0;
    } else {
      if (!isUtf8(block)) this.invalidUtf8(block);
      text = block.toString('utf8');
      plain = text.indexOf('\r') < 0 && text.indexOf('\u2028') < 0 && text.indexOf('\u2029') < 0;
    }
    const len = text.length;
    const onLine = this.onLine;
    let start = 0;
    while (start < len) {
      let nl = text.indexOf('\n', start);
      if (nl < 0) nl = len;
      // UTF-16 length ≤ byte length ≤ 3 × UTF-16 length: measure bytes only when it matters.
      if (nl - start > MAX_LINE_BYTES / 3 && Buffer.byteLength(text.slice(start, nl)) > MAX_LINE_BYTES) this.tooLong();
      let stop = nl;
      if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
      onLine(text.slice(start, stop), ++this.lineNo, plain);
      start = nl + 1;
    }
  }

  private invalidUtf8(block: Buffer): never {
    const at = firstInvalidUtf8(block);
    let line = this.lineNo + 1;
    for (let i = 0; i < at; i++) if (block[i] === 10) line++;
    throw new ParseError(`line ${line} is not valid UTF-8 (byte 0x${(block[at] ?? 0).toString(16).padStart(2, '0')}): not a text trace`, line);
  }
}

/** Offset of the first byte that makes `b` invalid UTF-8 (b is known to be invalid). */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n: number;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) n = 2;
    else if (c >= 0xf0 && c <= 0xf4) n = 3;
    else return i;
    if (i + n >= b.length && n > 0) return i;
    for (let k = 1; k <= n; k++) if (((b[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    if (n > 0 && !isUtf8(b.subarray(i, i + n + 1))) return i;
    i += n + 1;
  }
  return b.length;
}
