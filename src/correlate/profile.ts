/**
 * Profiles: the declaration of a request path. The zod schema below is the single source of the
 * profile types (as knip does for its config): built-in profiles and user JSON files go through
 * the same validation, and a bad field is reported with its path.
 */
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { InputError, UsageError } from '../core/errors.js';
import { BUILTIN_PROFILES } from './builtin.js';

/** A field of an event: a named group of `match`, a `key=value` pair of its arguments, or a built-in (`$pid`, `$tgid`, `$cpu`, `$comm`). */
const FieldName = z.string().regex(/^(\$(pid|tgid|cpu|comm)|[A-Za-z_][A-Za-z0-9_]*)$/, 'a field name (letters, digits, _) or one of $pid $tgid $cpu $comm');

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
  /** Must have named groups `run` and `edge` (`begin` | `end`). */
  match: RegexText.default('^xtrace: run=(?<run>\\S+) (?<edge>begin|end)\\s*$'),
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
  markers: MarkersSchema.default({ event: '*', match: '^xtrace: run=(?<run>\\S+) (?<edge>begin|end)\\s*$' }),
});

/** What a profile file may contain (defaults not yet applied). */
export type ProfileInput = z.input<typeof ProfileSchema>;
export type Profile = z.output<typeof ProfileSchema>;
export type ProfilePoint = z.output<typeof PointSchema>;

/** Join fields as pairs [event field, request field]. */
export function joinPairs(p: ProfilePoint): [string, string][] {
  const on = p.join?.on ?? [];
  return Array.isArray(on) ? on.map((f) => [f, f]) : Object.entries(on);
}

function issuePath(path: readonly PropertyKey[], profile: unknown): string {
  let cur: unknown = profile;
  const parts: string[] = [];
  for (const k of path) {
    if (typeof k === 'number') {
      const name = Array.isArray(cur) && cur[k] && typeof cur[k] === 'object' ? (cur[k] as { name?: unknown }).name : undefined;
      parts.push(typeof name === 'string' ? `[${k}](${name})` : `[${k}]`);
    } else parts.push((parts.length ? '.' : '') + String(k));
    cur = cur && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  }
  return parts.join('') || '(top level)';
}

/** Validates a parsed profile document; `where` names it in messages. Throws InputError naming the field. */
export function parseProfile(doc: unknown, where: string): Profile {
  const r = ProfileSchema.safeParse(doc);
  if (!r.success) {
    const first = r.error.issues[0]!;
    let msg = first.message;
    if (first.code === 'unrecognized_keys') msg = `unknown field${first.keys.length > 1 ? 's' : ''} ${first.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; see README "Profiles")`;
    throw new InputError(`${where}: profile field ${issuePath(first.path, doc)}: ${msg}`, where);
  }
  checkSemantics(r.data, where);
  return r.data;
}

/** What zod cannot check: names are unique and resolvable, joins refer to fields an earlier point provides. */
function checkSemantics(p: Profile, where: string): void {
  const fail = (field: string, msg: string): never => {
    throw new InputError(`${where}: profile field ${field}: ${msg}`, where);
  };
  const seen = new Set<string>();
  const provided = new Set<string>();
  const anywhere = new Set(p.points.flatMap((pt) => (pt.join?.mode === 'last-before-next' ? [] : pt.keys)));
  p.points.forEach((pt, i) => {
    const at = `points[${i}](${pt.name})`;
    if (seen.has(pt.name)) fail(`${at}.name`, `duplicate point name "${pt.name}"`);
    seen.add(pt.name);
    if (i === 0 && pt.join) fail(`${at}.join`, 'the first point opens requests and has no join');
    if (i > 0 && !pt.join) fail(`${at}.join`, 'required on every point but the first (how does it attach to a request?)');
    const mode = pt.join?.mode;
    if (mode === 'last-before-next') {
      if (i === p.points.length - 1) fail(`${at}.join.mode`, 'last-before-next needs a next point');
      if (pt.opens || pt.ends) fail(`${at}.join.mode`, 'a last-before-next point cannot open or end requests');
      if (p.points[i + 1]?.join?.mode !== 'nearest') fail(`${at}.join.mode`, 'the point after a last-before-next point must join with mode nearest');
    } else {
      // An id-less point may wait for a later point to supply a field (blkback's be_irq learns domid from be_get_req).
      const known = mode === 'first-after' ? anywhere : provided;
      for (const [, reqField] of joinPairs(pt)) {
        if (!known.has(reqField)) fail(`${at}.join.on`, `request field "${reqField}" is not in the keys of any ${mode === 'first-after' ? '' : 'earlier '}point`);
      }
    }
    if (mode === 'first-after' && (pt.opens || pt.ends)) fail(`${at}.join.mode`, 'an id-less (first-after) point cannot open or end requests');
    if (mode !== 'last-before-next') for (const k of pt.keys) provided.add(k);
    if (pt.match) {
      const groups = [...pt.match.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
      for (const g of groups) if (g.startsWith('$')) fail(`${at}.match`, `group name "${g}" is reserved`);
    }
  });
  if (p.requires_any) for (const n of p.requires_any) if (!seen.has(n)) fail('requires_any', `no point named "${n}"`);
  const groups = [...p.markers.match.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]);
  if (!groups.includes('run') || !groups.includes('edge')) fail('markers.match', 'needs the named groups (?<run>...) and (?<edge>begin|end)');
}

export function builtinProfileNames(): string[] {
  return Object.keys(BUILTIN_PROFILES);
}

/** `--profile NAME` (built-in) or `--profile path.json`. */
export function loadProfile(spec: string): Profile {
  const builtin = BUILTIN_PROFILES[spec];
  if (builtin) return parseProfile(builtin, `built-in profile ${spec}`);
  const looksLikePath = spec.includes('/') || spec.includes('\\') || spec.endsWith('.json');
  if (!looksLikePath) {
    throw new UsageError(`unknown profile "${spec}": built-in profiles are ${builtinProfileNames().join(', ')}; or give a JSON file (path.json)`);
  }
  let text: string;
  try {
    if (statSync(spec).isDirectory()) throw new InputError(`${spec}: is a directory, not a profile file`, spec);
    text = readFileSync(spec, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${spec}: cannot read the profile (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, spec);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${spec}: the profile is not valid JSON (${(e as Error).message})`, spec);
  }
  return parseProfile(doc, spec);
}
