/**
 * The profile format: a profile declares a request path. This zod schema is the single source of
 * the profile types (as knip does for its config); built-in profiles and user JSON files go
 * through the same validation (validate.ts), and a bad field is reported with its path.
 */
import { z } from 'zod';
import { BUILTIN_FIELDS } from './fields.js';
import { DEFAULT_MARKER_MATCH } from './markers.js';

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A field of an event: a named group of `match`, a `key=value` pair of its arguments, or a built-in field (fields.ts). */
const FieldName = z
  .string()
  .regex(
    new RegExp(`^(${BUILTIN_FIELDS.map((f) => escapeRegex(f.name)).join('|')}|[A-Za-z_][A-Za-z0-9_]*)$`),
    `a field name (letters, digits, _) or one of ${BUILTIN_FIELDS.map((f) => f.name).join(' ')}`,
  );

const RegexText = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

export const JoinSchema = z.strictObject({
  /** Fields that must be equal: a list (same name on the event and the request) or `{ "<event field>": "<request field>" }`. */
  on: z.union([z.array(FieldName), z.record(FieldName, FieldName)]).default([]),
  /**
   * nearest: the open request waiting for this point whose previous point is the latest at or before the event;
   * first-after: id-less point, the first such event at or after the previous point (shared by every request waiting for it);
   * last-before-next: the last such event at or after the previous point and at or before the next point's event,
   *   with `on` relating this event's fields to the NEXT point's event (e.g. the irq on the CPU that completes the request).
   */
  mode: z.enum(['nearest', 'first-after', 'last-before-next']).default('nearest'),
  /** Largest allowed time from the previous point (ns). */
  within_ns: z.number().int().positive().optional(),
});

export const PointSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a point name is letters, digits and _'),
  description: z.string().optional(),
  /** Event name(s), exactly as stored in `events.name`; `*` matches any event (then `match` should be given). */
  event: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Regular expression the event's args must match; its named groups become fields. */
  match: RegexText.optional(),
  /** Fields this point adds to the request, for later points to join on. */
  keys: z.array(FieldName).default([]),
  /** Points of one role come from one clock domain within a request (guest, dom0, user ...). */
  role: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('main'),
  /** An optional point whose event never occurs in the data is left out of the path. */
  optional: z.boolean().default(false),
  /** May open a request when no request waits for it (e.g. a block request with no syscall). The first point always opens. */
  opens: z.boolean().default(false),
  /** May end a request still waiting for an earlier point (its skipped points are missing), e.g. the syscall returned. */
  ends: z.boolean().default(false),
  /**
   * A second event for the point a request has just passed, with the same keys: `replace` it (the
   * later one counts: a requeued block request is issued again) or treat it as a `new` event
   * (joins or opens another request, or is counted as unmatched).
   */
  repeat: z.enum(['new', 'replace']).default('new'),
  /** How the point attaches to a request; required on every point but the first. */
  join: JoinSchema.optional(),
});

export const MarkersSchema = z.strictObject({
  event: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('*'),
  /** Must have named groups `run` and `edge` (`begin` | `end`); see markers.ts. */
  match: RegexText.default(DEFAULT_MARKER_MATCH),
});

export const ProfileSchema = z.strictObject({
  xtrace_profile: z.literal(1),
  name: z.string().min(1),
  description: z.string().default(''),
  points: z.array(PointSchema).min(2),
  /** A chain that reached none of these points is not a request (a syscall served from the page cache). Default: any point. */
  requires_any: z.array(z.string()).optional(),
  /** How requests opened after the first point are named in reports (e.g. "no syscall (readahead, writeback)"). */
  orphan_label: z.string().default('opened without the first point'),
  markers: MarkersSchema.default({ event: '*', match: DEFAULT_MARKER_MATCH }),
});

/** What a profile file may contain (defaults not yet applied). */
export type ProfileInput = z.input<typeof ProfileSchema>;
export type ProfilePointInput = ProfileInput['points'][number];
export type Profile = z.output<typeof ProfileSchema>;
export type ProfilePoint = z.output<typeof PointSchema>;

/** Join fields as pairs [event field, request field]. */
export function joinPairs(p: ProfilePoint): [string, string][] {
  const on = p.join?.on ?? [];
  return Array.isArray(on) ? on.map((f) => [f, f]) : Object.entries(on);
}
