/**
 * Profile validation, the one walk every profile goes through (built-in or user file): the zod
 * schema, then what zod cannot check (unique names, joins on fields an earlier point provides,
 * marker groups). Errors are InputErrors naming the field by its path.
 */
import { InputError } from '../core/errors.js';
import { namedGroups } from './fields.js';
import { joinPairs, ProfileSchema, type Profile, type ProfilePoint } from './schema.js';

/** A path of a zod issue, with point names: `points[3](rq_issue).join.on`. */
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

/**
 * The rule "a join refers to request fields that points provide": per point of `path`, the first
 * request field of its join that no point provides where it may come from, else undefined. A
 * nearest point needs it from the keys of an earlier point; an id-less (first-after) point may
 * wait for a later point to supply it (blkback's be_irq learns domid from be_get_req), so any
 * point's keys do. The first point and last-before-next points (whose `on` relates to the next
 * event) are not checked; last-before-next points provide no keys.
 */
export function unprovidedJoinFields(path: readonly ProfilePoint[]): (string | undefined)[] {
  const provided = new Set<string>();
  const anywhere = new Set(path.flatMap((p) => (p.join?.mode === 'last-before-next' ? [] : p.keys)));
  return path.map((p, i) => {
    let missing: string | undefined;
    if (i > 0 && p.join?.mode !== 'last-before-next') {
      const known = p.join?.mode === 'first-after' ? anywhere : provided;
      missing = joinPairs(p).find(([, reqField]) => !known.has(reqField))?.[1];
    }
    if (p.join?.mode !== 'last-before-next') for (const k of p.keys) provided.add(k);
    return missing;
  });
}

/** What zod cannot check: names are unique and resolvable, joins refer to fields an earlier point provides. */
function checkSemantics(p: Profile, where: string): void {
  const fail = (field: string, msg: string): never => {
    throw new InputError(`${where}: profile field ${field}: ${msg}`, where);
  };
  const seen = new Set<string>();
  p.notifications.forEach((n, i) => {
    const at = `notifications[${i}]`;
    const sent = p.points.find((x) => x.name === n.sent);
    const received = p.points.find((x) => x.name === n.received);
    if (!sent) fail(`${at}.sent`, `no point named "${n.sent}"`);
    if (!received) fail(`${at}.received`, `no point named "${n.received}"`);
    if (received!.join?.mode !== 'first-after') fail(`${at}.received`, `${n.received} must be an id-less (first-after) point`);
    if (p.points.indexOf(sent!) >= p.points.indexOf(received!)) fail(`${at}.sent`, `${n.sent} must come before ${n.received} in the path`);
    const sentIdless = sent!.join?.mode === 'first-after';
    if (!sentIdless && n.flag === undefined) fail(`${at}.flag`, `${n.sent} carries an id: give the field that says whether it notified (e.g. "notify")`);
    if (sentIdless && n.flag !== undefined) fail(`${at}.flag`, `${n.sent} is id-less: a flag is only for an id-carrying sent point`);
  });
  const unprovided = unprovidedJoinFields(p.points);
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
    }
    const missing = unprovided[i];
    if (missing !== undefined) fail(`${at}.join.on`, `request field "${missing}" is not in the keys of any ${mode === 'first-after' ? '' : 'earlier '}point`);
    if (mode === 'first-after' && (pt.opens || pt.ends)) fail(`${at}.join.mode`, 'an id-less (first-after) point cannot open or end requests');
    if (pt.match) for (const g of namedGroups(pt.match)) if (g.startsWith('$')) fail(`${at}.match`, `group name "${g}" is reserved`);
  });
  if (p.requires_any) for (const n of p.requires_any) if (!seen.has(n)) fail('requires_any', `no point named "${n}"`);
  const bl = p.block_layer;
  if (bl) {
    const bio = p.points.findIndex((x) => x.name === bl.bio);
    const done = p.points.findIndex((x) => x.name === bl.complete);
    if (bio < 0) fail('block_layer.bio', `no point named "${bl.bio}"`);
    if (done <= bio) fail('block_layer.complete', `"${bl.complete}" must name a point after the bio point "${bl.bio}"`);
    for (const k of ['dev', 'sector']) if (!p.points[bio]!.keys.includes(k)) fail('block_layer.bio', `the bio point "${bl.bio}" must have "${k}" among its keys (block tracepoint args)`);
    if (p.points[done]!.join?.mode !== 'nearest') fail('block_layer.complete', `the completion point "${bl.complete}" must join with mode nearest`);
    if (bl.more_bios === 'request' && bio === 0) fail('block_layer.more_bios', '"request" copies the points before the bio point: there must be one');
  }
  const groups = namedGroups(p.markers.match);
  if (!groups.includes('run') || !groups.includes('edge')) fail('markers.match', 'needs the named groups (?<run>...) and (?<edge>begin|end)');
}
