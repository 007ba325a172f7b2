/**
 * Exporters: plain objects in one registry (as the reporters). Each writes the stored requests it
 * is handed (src/export/records.ts, read by src/pipeline/stored.ts) in a format other tools open,
 * chunk after chunk through `out`, holding neither all the requests nor all the output; none reads
 * the database, prints, exits or reads options beyond what it is given.
 */
import type { Sink } from '../report/rows.js';
import { writeChromeJson, type ExportSummary } from './chrome-json.js';
import type { ExportInput } from './records.js';

export type { ExportSummary } from './chrome-json.js';

export interface Exporter {
  readonly name: string;
  readonly description: string;
  /** Writes the whole export to `out` as it goes; returns what it wrote. */
  write(input: ExportInput, out: Sink): ExportSummary;
}

const chromeJson: Exporter = {
  name: 'chrome-json',
  description: 'Trace Event Format JSON (ui.perfetto.dev, chrome://tracing): a slice per stage, a track per layer and clock domain, a flow along each request',
  write: writeChromeJson,
};

export const EXPORTERS = { 'chrome-json': chromeJson } as const satisfies Record<string, Exporter>;
export type ExporterName = keyof typeof EXPORTERS;
