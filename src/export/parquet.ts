/**
 * The `parquet` exporter: the stored report as two Parquet files that DuckDB, Spark, Trino or
 * BigQuery read as they are, so that the reports of many hosts and commits can be queried together
 * (a directory of them, a glob):
 *  - request_stages.parquet: one row per request × stage (the `request_stages` view with its
 *    request's seq, kept, filtered flag and start time);
 *  - stage_summary.parquet: one row per run × stage × population (the `stage_summary` table).
 * Every row carries its report: correlation_id, created_at, xtrace_version, profile, host, meta (a
 * MAP of the --meta pairs: `meta['commit']`) and filters (the report's --filter texts, a JSON array
 * text); stage_summary also the method that chose the kept population (warmup, trim, trim_by).
 *
 * Types: SQLite's integers are INT64 (exact: a ns clock passes 2^53 after 104 days of uptime),
 * its reals DOUBLE, its texts UTF-8 strings; a column that may be NULL in the database is optional,
 * the others required. A duration a drift-corrected clock made fractional is rounded to the ns.
 *
 * Written with hyparquet-writer (pure JavaScript, Snappy pages): rows are gathered into row
 * groups of `rowGroupRows` and each group is encoded and handed to the file's sink in chunks of
 * about 1 MB, so memory holds one row group, never the table. The library is loaded when a
 * Parquet export runs (an import costs every other command ~65 ms of start-up), hence the Promise.
 */
import type { SchemaElement } from 'hyparquet-writer';
import { REQUEST_STAGE_COLUMNS, STAGE_SUMMARY_COLUMNS, type StoredReport, type TableInput } from './records.js';

/** Bytes out: the sink has written (or copied) the chunk when it returns. */
export type ByteSink = (chunk: Uint8Array) => void;

/** What a table exporter wrote: per file, its rows and row groups. */
export interface TablesSummary {
  files: { name: string; rows: number; rowGroups: number }[];
}

export interface ParquetOptions {
  /** Rows per row group (default ROW_GROUP_ROWS): the rows held in memory at a time. */
  rowGroupRows?: number;
}

/**
 * Rows per row group by default: 16 Ki rows (DuckDB's own are 122,880; readers cope with small
 * groups). What a group costs while it is gathered and encoded sets the export's memory: on the
 * 5 M stage rows of bench.db peak RSS was 296 MB with 16 Ki rows, 456 MB with 64 Ki, 652 MB with
 * 128 Ki (212 MB with 64 Ki under --max-old-space-size=64: most of it is garbage not yet
 * collected), 2026-11-30; 16 Ki keeps the export under the 400 MB the other commands hold to.
 */
export const ROW_GROUP_ROWS = 16 * 1024;

/** The files the exporter writes (the CLI replaces these names in the directory, nothing else). */
export const PARQUET_FILES = ['request_stages.parquet', 'stage_summary.parquet'] as const;

/** Chunks handed to the sink: about 1 MB. */
const FLUSH_AT = 1 << 20;

type Kind = 'int64' | 'double' | 'string' | 'map';

/** A column's Parquet type, whether it may be null, and (an SQLite integer a real may be in) rounding to a whole number. */
interface ColumnType {
  kind: Kind;
  optional: boolean;
  round?: boolean;
}

/**
 * A column of a file: its name and type, and where its value comes from: position `at` of each
 * row, or a `constant` (the report's, the same in every row).
 */
interface Column extends ColumnType {
  name: string;
  at?: number;
  constant?: unknown;
}

const INT: ColumnType = { kind: 'int64', optional: false };
const NS: ColumnType = { kind: 'int64', optional: true, round: true };
const TEXT: ColumnType = { kind: 'string', optional: false };
const RUN: ColumnType = { kind: 'string', optional: true };
const REAL: ColumnType = { kind: 'double', optional: true };

const STAGE_TYPES: Record<(typeof REQUEST_STAGE_COLUMNS)[number], ColumnType> = {
  run: RUN,
  request_id: INT,
  seq: INT,
  status: TEXT,
  kept: INT,
  filtered: INT,
  stage: TEXT,
  pos: INT,
  from_point: TEXT,
  to_point: TEXT,
  duration_ns: NS,
  start_ts_ns: INT,
};

const SUMMARY_TYPES: Record<(typeof STAGE_SUMMARY_COLUMNS)[number], ColumnType> = {
  run: RUN,
  stage: TEXT,
  pos: INT,
  from_pos: INT,
  population: TEXT,
  count: INT,
  mean_ns: REAL,
  median_ns: NS,
  p90_ns: NS,
  p99_ns: NS,
  min_ns: NS,
  max_ns: NS,
  mean_contribution_ns: REAL,
};

/** The columns every row carries: the report it belongs to. */
function reportColumns(r: StoredReport): Column[] {
  return [
    { name: 'correlation_id', ...INT, constant: BigInt(r.correlationId) },
    { name: 'created_at', ...TEXT, constant: r.createdAt },
    { name: 'xtrace_version', ...TEXT, constant: r.xtraceVersion },
    { name: 'profile', ...TEXT, constant: r.profile },
    { name: 'host', kind: 'string', optional: true, constant: r.host },
    { name: 'meta', kind: 'map', optional: false, constant: r.meta },
    { name: 'filters', ...TEXT, constant: JSON.stringify(r.filters) },
  ];
}

/** The columns of a row tuple, in its order. */
function rowColumns<K extends string>(names: readonly K[], types: Record<K, ColumnType>): Column[] {
  return names.map((name, at) => ({ name, at, ...types[name] }));
}

function stageColumns(r: StoredReport): Column[] {
  return [...reportColumns(r), ...rowColumns(REQUEST_STAGE_COLUMNS, STAGE_TYPES)];
}

function summaryColumns(r: StoredReport): Column[] {
  return [
    ...reportColumns(r),
    { name: 'warmup', ...INT, constant: BigInt(r.warmup) },
    { name: 'trim', kind: 'double', optional: false, constant: r.trim },
    { name: 'trim_by', ...TEXT, constant: r.trimBy },
    ...rowColumns(STAGE_SUMMARY_COLUMNS, SUMMARY_TYPES),
  ];
}

/** The Parquet schema of the columns (a MAP is the standard three-level group of string keys and values). */
function schemaOf(columns: Column[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    const repetition_type = c.optional ? 'OPTIONAL' : 'REQUIRED';
    if (c.kind === 'int64') out.push({ name: c.name, type: 'INT64', repetition_type });
    else if (c.kind === 'double') out.push({ name: c.name, type: 'DOUBLE', repetition_type });
    else if (c.kind === 'string') out.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type });
    else {
      out.push(
        { name: c.name, repetition_type, converted_type: 'MAP', logical_type: { type: 'MAP' }, num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
        { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'REQUIRED' },
      );
    }
  }
  return out;
}

type Library = typeof import('hyparquet-writer');
type Writer = InstanceType<Library['ByteWriter']>;

/**
 * hyparquet-writer's byte writer, emptied into `out` whenever it holds more than FLUSH_AT bytes
 * (before it grows), as its own file writer does: the file is never held whole.
 */
function sinkWriter(lib: Library, out: ByteSink): Writer {
  const w = new lib.ByteWriter(FLUSH_AT + (FLUSH_AT >> 2));
  const ensure = w.ensure.bind(w);
  const flush = (): void => {
    if (w.index > 0) out(new Uint8Array(w.buffer, 0, w.index));
    w.index = 0;
  };
  w.ensure = (size: number): void => {
    if (w.index > FLUSH_AT) flush();
    ensure(size);
  };
  w.finish = flush;
  return w;
}

/** Writes `rows` as one Parquet file to `out`, a row group every `groupRows` rows; returns the rows and groups written. */
function writeParquetTable(
  lib: Library,
  out: ByteSink,
  table: string,
  columns: Column[],
  rows: Iterable<readonly unknown[]>,
  groupRows: number,
  report: StoredReport,
): { rows: number; rowGroups: number } {
  const writer = new lib.ParquetWriter({
    writer: sinkWriter(lib, out),
    schema: schemaOf(columns),
    codec: 'SNAPPY',
    createdBy: `xtrace version ${report.xtraceVersion}`,
    // Key-value metadata of the file: the table, and the runs when the export chose some.
    kvMetadata: [
      { key: 'xtrace.table', value: table },
      { key: 'xtrace.export', value: '1' },
      { key: 'xtrace.runs', value: report.runs ? JSON.stringify(report.runs) : 'all' },
    ],
  });
  const varying = columns.filter((c) => c.at !== undefined);
  const at = varying.map((c) => c.at!);
  const data: unknown[][] = varying.map(() => []);
  let n = 0;
  let total = 0;
  let groups = 0;
  const flush = (): void => {
    if (n === 0) return;
    varying.forEach((c, k) => {
      if (!c.round) return;
      const d = data[k]!;
      for (let i = 0; i < n; i++) if (typeof d[i] === 'number') d[i] = BigInt(Math.round(d[i] as number));
    });
    let k = 0;
    const columnData = columns.map((c) => ({ name: c.name, data: c.at !== undefined ? data[k++]! : new Array<unknown>(n).fill(c.constant) }));
    const pending = writer.write({ columnData, rowGroupSize: n });
    if (pending) throw new Error('hyparquet-writer wrote asynchronously; this exporter writes synchronously');
    total += n;
    groups++;
    for (const d of data) d.length = 0;
    n = 0;
  };
  for (const row of rows) {
    for (let k = 0; k < at.length; k++) data[k]!.push(row[at[k]!]);
    if (++n === groupRows) flush();
  }
  flush();
  const done = writer.finish();
  if (done) throw new Error('hyparquet-writer finished asynchronously; this exporter writes synchronously');
  return { rows: total, rowGroups: groups };
}

/** `parquet`: see the module comment. `file(name)` opens each file of the directory. */
export async function writeParquet(input: TableInput, file: (name: string) => ByteSink, o: ParquetOptions = {}): Promise<TablesSummary> {
  const groupRows = o.rowGroupRows ?? ROW_GROUP_ROWS;
  if (!Number.isSafeInteger(groupRows) || groupRows < 1) throw new RangeError(`rowGroupRows ${groupRows}: expected a whole number ≥ 1`);
  const lib = await import('hyparquet-writer');
  const r = input.report;
  const [stagesFile, summaryFile] = PARQUET_FILES;
  const stages = writeParquetTable(lib, file(stagesFile), 'request_stages', stageColumns(r), input.requestStages, groupRows, r);
  const summary = writeParquetTable(lib, file(summaryFile), 'stage_summary', summaryColumns(r), input.stageSummary, groupRows, r);
  return {
    files: [
      { name: stagesFile, ...stages },
      { name: summaryFile, ...summary },
    ],
  };
}
