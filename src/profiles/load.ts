/**
 * Loading a profile by name (built-in) or from a JSON file; both go through parseProfile.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError, UsageError } from '../core/errors.js';
import { BUILTIN_PROFILES } from './builtin/index.js';
import type { Profile, ProfileInput } from './schema.js';
import { parseProfile } from './validate.js';

export function builtinProfileNames(): string[] {
  return Object.keys(BUILTIN_PROFILES);
}

/** A built-in profile as written (defaults not applied), for `xtrace profiles --show`; undefined when there is none of that name. */
export function builtinProfileDocument(name: string): ProfileInput | undefined {
  return Object.hasOwn(BUILTIN_PROFILES, name) ? BUILTIN_PROFILES[name] : undefined;
}

/** `--profile NAME` (built-in) or `--profile path.json`. */
export function loadProfile(spec: string): Profile {
  const builtin = builtinProfileDocument(spec);
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
