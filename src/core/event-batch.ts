/**
 * Columnar transport of events between the parsing worker and the inserting thread:
 * numbers in one Float64Array (transferred, not copied; NaN = NULL), all args in one string
 * with their lengths, strings already interned (the new ones travel with the batch).
 */
import type { Timestamp } from './types.js';

/** Numeric columns per event in `nums`: line, ts, cpu, pid, tgid, comm_id, name_id, flags_id, part_id. */
export const NUM_COLS = 9;

export interface EventBatch {
  n: number;
  nums: Float64Array;
  /** Timestamps that are not exact doubles (> 2^53), by index in the batch (their nums slot is NaN); else null. */
  bigTs: (bigint | undefined)[] | null;
  args: string;
  argLens: Int32Array;
  /** Strings first seen in this batch: [id, value]. */
  newStrings: [number, string][];
}

export interface BatchTotals {
  count: number;
  minTs: Timestamp | null;
  maxTs: Timestamp | null;
}
