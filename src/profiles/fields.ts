/**
 * Built-in fields: the values every event carries besides its args (`$pid`, `$tgid`, `$cpu`,
 * `$comm`). This table is the one place they are defined: the profile schema accepts these names,
 * the matcher looks their values up by position in this table, and the correlation reader selects
 * the events-table column of each one a profile uses. Adding a field (e.g. `$flags` from
 * `flags_id`) is one entry here.
 */
import type { TraceEvent } from '../core/types.js';

export interface BuiltinField {
  /** As written in a profile: `$` then a name. */
  readonly name: `$${string}`;
  /** What the value is. */
  readonly meaning: string;
  /** The `event_data` column it is read from. */
  readonly column: string;
  /** The TraceEvent property the parsers fill it from. */
  readonly property: keyof TraceEvent;
  /** The column holds a `strings.id`: the reader resolves it to its text. */
  readonly interned: boolean;
}

export const BUILTIN_FIELDS = [
  { name: '$pid', meaning: 'the id of the task (thread) that logged the event', column: 'pid', property: 'pid', interned: false },
  { name: '$tgid', meaning: 'the thread-group (process) id, when the trace records it (record-tgid)', column: 'tgid', property: 'tgid', interned: false },
  { name: '$cpu', meaning: 'the CPU the event was logged on', column: 'cpu', property: 'cpu', interned: false },
  { name: '$comm', meaning: 'the task name as printed', column: 'comm_id', property: 'comm', interned: true },
] as const satisfies readonly BuiltinField[];

export type BuiltinFieldName = (typeof BUILTIN_FIELDS)[number]['name'];

/** One event's values of the built-in fields, in BUILTIN_FIELDS order (null: the event does not carry it). */
export type BuiltinFieldValues = (number | string | null)[];

/** Position of a field in BUILTIN_FIELDS, −1 when it is not a built-in field. */
export function builtinFieldIndex(name: string): number {
  return BUILTIN_FIELDS.findIndex((f) => f.name === name);
}

export function isBuiltinField(name: string): boolean {
  return builtinFieldIndex(name) >= 0;
}

/** The built-in field values of a parsed event. */
export function builtinFieldValues(e: Pick<TraceEvent, (typeof BUILTIN_FIELDS)[number]['property']>): BuiltinFieldValues {
  return BUILTIN_FIELDS.map((f) => e[f.property]);
}

/** The names of the groups `(?<name>...)` of a regular expression's text (a point's `match`, the run markers). */
export function namedGroups(re: string): string[] {
  return [...re.matchAll(/\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>/g)].map((m) => m[1]!);
}

/**
 * The request fields a correlation keeps per request (filters, `--group-by`, SQL): the opener's
 * `$comm`, `$pid`, `$tgid`, the block fields `dev` and `rwbs` when a point keys on them, and the
 * profile's `labels`. Identifiers unique to each request (sector, req, id) are not kept: the
 * request's events hold them, and keeping them would make memory grow with the trace.
 */
export function requestAttrNames(profile: { points: readonly { keys: readonly string[] }[]; labels?: readonly string[] }): string[] {
  const keyed = new Set(profile.points.flatMap((p) => p.keys));
  return ['$comm', '$pid', '$tgid', ...new Set([...['dev', 'rwbs'].filter((k) => keyed.has(k)), ...(profile.labels ?? [])])];
}
