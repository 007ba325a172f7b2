/**
 * The ingest side of the counters (catalogue: src/core/counters.ts): a source's diagnostics are
 * aggregated in memory while it is read, one row per code, then stored in the `diagnostics` table.
 */
import { severityOf, type IngestCode, type Severity } from './counters.js';

/** One aggregated diagnostic counter of a source. */
export interface DiagnosticCount {
  code: IngestCode;
  severity: Severity;
  count: number;
  firstLine: number;
  detail: string | null;
}

/** Aggregates diagnostics in memory while a file is read (a handful of counters, never per line). */
export class DiagnosticCounter {
  private readonly byCode = new Map<IngestCode, DiagnosticCount>();

  add(code: IngestCode, line: number, detail?: string, count = 1): void {
    const d = this.byCode.get(code);
    if (d) {
      d.count += count;
      return;
    }
    this.byCode.set(code, {
      code,
      severity: severityOf(code),
      count,
      firstLine: line,
      detail: detail === undefined ? null : truncateDetail(detail),
    });
  }

  get(code: IngestCode): number {
    return this.byCode.get(code)?.count ?? 0;
  }

  list(): DiagnosticCount[] {
    return [...this.byCode.values()];
  }
}

function truncateDetail(s: string): string {
  return s.length > 200 ? s.slice(0, 200) + '…' : s;
}
