/**
 * Exporters: plain objects in one registry (as the reporters). Each writes what it is handed
 * (src/export/records.ts, read by src/pipeline/stored.ts) in a format other tools open, chunk after
 * chunk, holding neither all the requests nor all the output; none reads the database, prints,
 * exits or reads options beyond what it is given. Two kinds:
 *  - 'stream': the stored requests (ExportInput) as one text, through a Sink (stdout or a file);
 *  - 'directory': the stored report's tables (TableInput) as binary files of fixed names in a
 *    directory, each opened by name through `file` (the CLI creates them, and puts them in place
 *    only when the whole export succeeded).
 */
import type { Sink } from '../report/rows.js';
import { writeChromeJson, type ExportSummary } from './chrome-json.js';
import { PARQUET_FILES, writeParquet, type ByteSink, type ParquetOptions, type TablesSummary } from './parquet.js';
import type { ExportInput, TableInput } from './records.js';

export type { ExportSummary } from './chrome-json.js';
export type { ByteSink, TablesSummary } from './parquet.js';

interface ExporterBase {
  readonly name: string;
  readonly description: string;
}

/** Writes one text (a trace) as it goes. */
export interface StreamExporter extends ExporterBase {
  readonly kind: 'stream';
  /** Writes the whole export to `out` as it goes; returns what it wrote. */
  write(input: ExportInput, out: Sink): ExportSummary;
}

/** Writes files of fixed names into a directory. */
export interface DirectoryExporter extends ExporterBase {
  readonly kind: 'directory';
  /** The names of the files it writes (and the only ones an export replaces in the directory). */
  readonly files: readonly string[];
  /** Writes every file, each through `file(name)`; resolves to what it wrote. */
  write(input: TableInput, file: (name: string) => ByteSink, options?: ParquetOptions): Promise<TablesSummary>;
}

export type Exporter = StreamExporter | DirectoryExporter;

const chromeJson: StreamExporter = {
  kind: 'stream',
  name: 'chrome-json',
  description: 'Trace Event Format JSON (ui.perfetto.dev, chrome://tracing): a slice per stage, a track per layer and clock domain, a flow along each request',
  write: writeChromeJson,
};

const parquet: DirectoryExporter = {
  kind: 'directory',
  name: 'parquet',
  description: 'Parquet files (DuckDB, Spark, Trino, BigQuery): request_stages.parquet (request × stage) and stage_summary.parquet, each row with its report (host, meta, filters, profile, created_at)',
  files: PARQUET_FILES,
  write: writeParquet,
};

export const EXPORTERS = { 'chrome-json': chromeJson, parquet } as const satisfies Record<string, Exporter>;
export type ExporterName = keyof typeof EXPORTERS;
