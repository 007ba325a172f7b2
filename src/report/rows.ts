/**
 * Renderers for the rows of an ad hoc query (`xtrace query`): plain objects in one registry.
 */
import { toJson } from './reporters.js';

export type Cell = number | bigint | string | null | Buffer;

export interface RowsReporter {
  readonly name: string;
  render(columns: string[], rows: Cell[][]): string;
}

function text(v: Cell): string {
  if (v === null) return '';
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  return String(v);
}

const table: RowsReporter = {
  name: 'table',
  render(columns, rows) {
    const cells = rows.map((r) => r.map((v) => text(v).replace(/\n/g, '⏎')));
    const w = columns.map((c, i) => Math.max([...c].length, ...cells.map((r) => [...r[i]!].length)));
    const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'));
    const line = (vals: string[]): string => vals.map((v, i) => (numeric[i] ? v.padStart(w[i]!) : v.padEnd(w[i]!))).join('  ').trimEnd();
    const out = [line(columns), w.map((n) => '-'.repeat(n)).join('  '), ...cells.map(line)];
    out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
    return out.join('\n') + '\n';
  },
};

function csvField(v: Cell): string {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csv: RowsReporter = {
  name: 'csv',
  render(columns, rows) {
    return [columns.map(csvField), ...rows.map((r) => r.map(csvField))].map((r) => r.join(',')).join('\n') + '\n';
  },
};

const json: RowsReporter = {
  name: 'json',
  render(columns, rows) {
    return toJson(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, Buffer.isBuffer(r[i]) ? (r[i] as Buffer).toString('hex') : r[i]])))) + '\n';
  },
};

const markdown: RowsReporter = {
  name: 'markdown',
  render(columns, rows) {
    const esc = (v: Cell): string => text(v).replace(/\|/g, '\\|').replace(/\n/g, '<br>');
    return [`| ${columns.map(esc).join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
  },
};

export const ROWS_REPORTERS = { table, csv, json, markdown } as const satisfies Record<string, RowsReporter>;
export type RowsFormat = keyof typeof ROWS_REPORTERS;
