/**
 * The profile format: a profile declares a request path. This zod schema is the single source of
 * the profile types (as knip does for its config); built-in profiles and user JSON files go
 * through the same validation (validate.ts), and a bad field is reported with its path.
 */
import { z } from 'zod';
import { BUILTIN_FIELDS } from './fields.js';
import { DEFAULT_MARKER_MATCH } from './markers.js';
import { LAYERS } from './layers.js';

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
  /**
   * The last point, first-after: one event is taken by this many of the requests waiting for it,
   * earliest previous point first (a numeric field of the event, decimal or 0x hex: io_getevents'
   * return value, the completions it reaped). Without it, every waiting request takes the event.
   */
  takes: FieldName.optional(),
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
  /**
   * Where the time from this point to the next point of the path is spent, for pictures
   * (src/profiles/layers.ts): by default the role's layer, or a hand-off between two roles.
   */
  layer: z.enum(LAYERS).optional(),
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

/**
 * Block-layer semantics (README "Profiles", block I/O): how bios become requests. The fields
 * `dev`, `sector` and `nsec` of the bio point (block tracepoint args) identify a bio; merges and
 * splits are read from the stock block_bio_backmerge / block_bio_frontmerge / block_split events.
 */
export const BlockLayerSchema = z.strictObject({
  /** The point whose event queues a bio (keys dev, sector, nsec). */
  bio: z.string(),
  /** The point that completes a block request (its end: where the pieces of a request rejoin). */
  complete: z.string(),
  /**
   * Another bio queued with the bio point's join keys while a request that passed the bio point is
   * open: `branch`: more I/O of the same request (one syscall's several bios), followed on its own
   * and combined (first bio, first insert, first issue; the last completion with its interrupt);
   * `request`: a request of its own sharing the earlier points (several iocbs of one io_submit);
   * `separate`: nothing special (the bio point opens requests itself, or such a bio is an orphan).
   */
  more_bios: z.enum(['branch', 'request', 'separate']).default('separate'),
  /** Events (with the bio point's join keys) after which no more bios belong to the request that passed the bio point (io_submit's return). */
  more_bios_until: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  split_event: z.string().default('block_split'),
  backmerge_event: z.string().default('block_bio_backmerge'),
  frontmerge_event: z.string().default('block_bio_frontmerge'),
  /**
   * The last-before-next point before `complete` is the device's interrupt: only interrupt numbers
   * (its `irq=` field) that precede this device's completions are used (learnt from the trace), so
   * another device's interrupt is never taken.
   */
  irq_by_device: z.boolean().default(true),
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
  block_layer: BlockLayerSchema.optional(),
  /** Request fields to show when a report lists what contributed requests, and to offer as `--filter` keys (besides comm, pid, tgid, dev, op). */
  labels: z.array(z.string()).default([]),
  /**
   * Notifications that can be suppressed by design (README "Batched requests"): `sent` is the
   * point that notifies (an id-less point, or an id-carrying one whose `flag` field says whether
   * it notified: blkback's be_rsp notify=0|1), `received` the id-less point the notification
   * causes on the other side. A request with neither (no sent event in its window, and no received
   * one that is not another request's) was batched: the points are absent by design, the request
   * is complete. One without the other is a point missing: the request is incomplete.
   */
  notifications: z.array(z.strictObject({ sent: z.string(), received: z.string(), flag: FieldName.optional() })).default([]),
  /**
   * A request never takes another request's event (spec decision 8): an id-carrying event of a
   * later point whose keys match a request still waiting for an earlier point, when no request
   * waits for it there, proves the request skipped the points in between (incomplete,
   * `point_skipped`); a request waits for a point at most what the data makes plausible.
   */
  skips: z.boolean().default(false),
  /**
   * Request fields that name where a request comes from (Xen: `domid`): an event carrying one of
   * them with another value than the request's never joins it. A domain whose requests all carry
   * one value (learnt per correlation pass) gives it to every request it opens.
   */
  identity: z.array(FieldName).default([]),
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
