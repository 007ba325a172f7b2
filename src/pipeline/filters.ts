/**
 * Request filters (`--filter KEY=VALUE`, repeatable, all must hold): they act on correlated
 * requests, never on events (a filter on events would break the joins). Keys: `comm`, `pid`,
 * `tgid` (of the event that opened the request: the submitting task), `dev` (`253,0`), `op` (the
 * rwbs direction: R, W, D, F …), and any request field the profile labels (`labels`: `opcode`,
 * `op`, `domid` …). Values are globs (`fio*`, `25?`); `a|b` accepts either.
 */
import { rwbsOp } from '../core/block.js';
import { InputError } from '../core/errors.js';
import type { RequestStore } from '../correlate/store.js';
import { requestAttrNames, type Profile } from '../profiles/index.js';
import type { RequestFilter } from './analyse.js';

/** Keys with a meaning of their own → the request field they read (null: derived); any other key must be a request field of the profile. */
const SPECIAL: Record<string, string | null> = {
  comm: '$comm', // task name of the submitting task
  pid: '$pid', // its thread id
  tgid: '$tgid', // its process id (needs record-tgid)
  dev: 'dev', // block device, major,minor
  op: null, // direction from rwbs: R read, W write, D discard, E secure erase, F flush, N none
};

/** The data direction of a request, from its `rwbs` field (`RS` → R, `FWS` → W, `F` → F); undefined without block points. */
export function requestOp(store: RequestStore, i: number): string | undefined {
  const rwbs = store.attr(i, 'rwbs');
  return rwbs === undefined ? undefined : rwbsOp(rwbs);
}

/** Bytes of a request's bios (sectors × 512), undefined when unknown. */
export function requestBytes(store: RequestStore, i: number): number | undefined {
  const s = store.sectors(i);
  return s > 0 ? s * 512 : undefined;
}

function globRegex(glob: string): RegExp {
  const alts = glob.split('|').map((g) => g.replace(/[.+^${}()[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.'));
  return new RegExp(`^(?:${alts.join('|')})$`);
}

/**
 * Parses `--filter` texts against the request fields a profile's requests keep. Throws an
 * InputError naming the bad filter and the keys that exist.
 */
export function parseFilters(texts: readonly string[], profile: Pick<Profile, 'points' | 'labels'>): RequestFilter[] {
  const attrNames = requestAttrNames(profile);
  const fields = attrNames.filter((n) => !n.startsWith('$'));
  const known = [...Object.keys(SPECIAL), ...fields.filter((f) => !(f in SPECIAL))];
  return texts.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new InputError(`--filter ${text}: expected KEY=VALUE, e.g. --filter comm='fio*' (keys: ${known.join(', ')})`);
    const key = text.slice(0, eq).trim();
    const value = text.slice(eq + 1).trim();
    if (value === '') throw new InputError(`--filter ${text}: empty value; give a value or a glob (fio*)`);
    const re = globRegex(value);
    if (key === 'op') return { text, keep: (s: RequestStore, i: number) => re.test(requestOp(s, i) ?? '') };
    const attr = SPECIAL[key] ?? key;
    if (!attrNames.includes(attr))
      throw new InputError(`--filter ${text}: no request field "${key}" in this profile (keys: ${known.join(', ')})`);
    return { text, keep: (s: RequestStore, i: number) => re.test(s.attr(i, attr) ?? '') };
  });
}
