/**
 * Renderers for the rows of an ad hoc query (`xtrace query`): plain objects in one registry. Each
 * streams: rows are read from an iterable one at a time and written to `out` in chunks of about
 * 64 KiB (the first row, or the first block of a table, is written at once), so memory does not
 * grow with the row count and `xtrace query … | head` sees its first line at once.
 */
import type { SqlValue } from '../core/types.js';
import { csvField, markdownCell, plural, toJson } from './format.js';

/** A value of a row: what SQLite returns (src/core/types.ts). */
export type Cell = SqlValue;

/** Receives the output, chunk after chunk (stdout, a file, a test's array). */
export type Sink = (chunk: string) => void;

export interface RowsReporter {
  readonly name: string;
  /** Writes the columns and every row of `rows` to `out`; returns the number of rows. */
  write(columns: string[], rows: Iterable<Cell[]>, out: Sink): number;
}

/** Rows of a table whose widths are measured before the first line is written. */
export const TABLE_WIDTH_BLOCK = 1000;
const FLUSH_AT = 64 * 1024;

/** Joins small writes into chunks of about `flushAt` characters (the query rows' and the exporters' streaming). */
export class Batcher {
  private buf = '';
  constructor(
    private readonly out: Sink,
    private readonly flushAt = FLUSH_AT,
  ) {}
  push(s: string): void {
    this.buf += s;
    if (this.buf.length >= this.flushAt) this.flush();
  }
  flush(): void {
    if (this.buf.length === 0) return;
    const chunk = this.buf;
    this.buf = '';
    this.out(chunk);
  }
}

/**
 * Writes `head`, then `line(row, index)` for each row, then `tail(count)`; the first row is flushed at
 * once, the rest in batches.
 */
function streamLines(rows: Iterable<Cell[]>, out: Sink, head: string, line: (r: Cell[], index: number) => string, tail: (count: number) => string): number {
  const b = new Batcher(out);
  b.push(head);
  let n = 0;
  for (const r of rows) {
    b.push(line(r, n));
    if (++n === 1) b.flush();
  }
  b.push(tail(n));
  b.flush();
  return n;
}

function text(v: Cell): string {
  if (v === null) return '';
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  return String(v);
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const table: RowsReporter = {
  name: 'table',
  write(columns, rows, out) {
    const cellsOf = (r: Cell[]): string[] => r.map((v) => text(v).replace(/\n/g, '⏎'));
    // Widths and alignment come from the first TABLE_WIDTH_BLOCK rows; a later, wider cell widens
    // its own line only, and a later text cell in a numeric column is right-aligned like the rest.
    const it = rows[Symbol.iterator]();
    try {
      const block: Cell[][] = [];
      while (block.length < TABLE_WIDTH_BLOCK) {
        const r = it.next();
        if (r.done) break;
        block.push(r.value);
      }
      const blockCells = block.map(cellsOf);
      const w = columns.map((c, i) => {
        let max = codePoints(c);
        for (const r of blockCells) max = Math.max(max, codePoints(r[i]!));
        return max;
      });
      const numeric = columns.map((_, i) => block.length > 0 && block.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'));
      const line = (vals: string[]): string => vals.map((v, i) => (numeric[i] ? v.padStart(w[i]!) : v.padEnd(w[i]!))).join('  ').trimEnd() + '\n';

      const b = new Batcher(out);
      b.push(line(columns) + w.map((n) => '-'.repeat(n)).join('  ') + '\n');
      for (const cells of blockCells) b.push(line(cells));
      b.flush();
      let n = block.length;
      if (n === TABLE_WIDTH_BLOCK) {
        for (let r = it.next(); !r.done; r = it.next()) {
          b.push(line(cellsOf(r.value)));
          n++;
        }
      }
      b.push(`(${plural(n, 'row')})\n`);
      b.flush();
      return n;
    } finally {
      it.return?.(); // releases the rows (e.g. the query's statement) when `out` throws
    }
  },
};

const csvCell = (v: Cell): string => csvField(text(v));

const csv: RowsReporter = {
  name: 'csv',
  write(columns, rows, out) {
    return streamLines(rows, out, columns.map(csvCell).join(',') + '\n', (r) => r.map(csvCell).join(',') + '\n', () => '');
  },
};

const json: RowsReporter = {
  name: 'json',
  write(columns, rows, out) {
    // The array toJson would write for all the rows at once, one element at a time.
    const element = (r: Cell[]): string => '  ' + toJson(Object.fromEntries(columns.map((c, i) => [c, Buffer.isBuffer(r[i]) ? (r[i] as Buffer).toString('hex') : r[i]]))).replace(/\n/g, '\n  ');
    return streamLines(rows, out, '[', (r, i) => (i === 0 ? '\n' : ',\n') + element(r), (n) => (n === 0 ? ']\n' : '\n]\n'));
  },
};

const markdown: RowsReporter = {
  name: 'markdown',
  write(columns, rows, out) {
    const mdLine = (vals: Cell[]): string => `| ${vals.map((v) => markdownCell(text(v))).join(' | ')} |\n`;
    return streamLines(rows, out, mdLine(columns) + `|${columns.map(() => '---').join('|')}|\n`, mdLine, () => '');
  },
};

export const ROWS_REPORTERS = { table, csv, json, markdown } as const satisfies Record<string, RowsReporter>;
export type RowsFormat = keyof typeof ROWS_REPORTERS;

/** The whole output as one string (small results, tests). */
export function renderRows(format: RowsFormat, columns: string[], rows: Iterable<Cell[]>): string {
  const chunks: string[] = [];
  ROWS_REPORTERS[format].write(columns, rows, (c) => chunks.push(c));
  return chunks.join('');
}

/** What a statement that changes rows reports: `1 row changed`. */
export function changedRowsText(changes: number): string {
  return `${plural(changes, 'row')} changed\n`;
}
