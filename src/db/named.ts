/**
 * Named queries: queries/named/<name>.sql, one parametrised SELECT each, with a header that says
 * what it does and what its parameters are (`xtrace query NAME --param k=v` reads it):
 *
 *   -- name: slowest
 *   -- description: The slowest complete requests, with their full timeline.
 *   -- param: profile =                -- profile name (empty: every profile)
 *   -- param: limit = 10               -- how many
 *   SELECT … WHERE (:profile = '' OR profile = :profile) … LIMIT :limit;
 *
 * The header is the comment block at the top of the file. Its `-- key: value` lines are `name`
 * (once, equal to the file name), `description` (once) and `param` (`NAME = DEFAULT -- DOC`; the
 * default may be empty, it cannot contain ` -- `); any other `-- word:` line there is an error.
 * Other comment lines are free text. The SQL is one SELECT (or WITH … SELECT) whose named
 * parameters (`:name`) are exactly the declared ones; they are bound, never interpolated.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import { queriesDir, type SqlValue } from './db.js';

export interface NamedParam {
  name: string;
  /** The default as written in the header ('' when empty). */
  default: string;
  doc: string;
}

export interface NamedQuery {
  name: string;
  description: string;
  params: NamedParam[];
  /** The statement, without the header and the final semicolon. */
  sql: string;
  /** Absolute path of the .sql file. */
  file: string;
}

/** queries/named/ of this installation. */
export function namedQueriesDir(): string {
  return join(queriesDir(), 'named');
}

/** Every named query, by name. A malformed file is an error (it names the file and line). */
export function listNamedQueries(): NamedQuery[] {
  const dir = namedQueriesDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => parseNamedQuery(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

/** The named query `name`; an unknown name is a UsageError listing the known ones. */
export function loadNamedQuery(name: string): NamedQuery {
  const dir = namedQueriesDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  if (!files.includes(`${name}.sql`)) {
    const known = files.map((f) => f.slice(0, -4)).sort();
    throw new UsageError(`unknown named query "${name}" (known: ${known.join(', ')})`);
  }
  const file = join(dir, `${name}.sql`);
  return parseNamedQuery(readFileSync(file, 'utf8'), file);
}

const HEADER_KEYS = ['name', 'description', 'param'] as const;
const QUERY_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses a named query file's text; `file` is used in errors (`file:line: …`) and as its name. */
export function parseNamedQuery(text: string, file: string): NamedQuery {
  const lines = text.split('\n');
  const fail = (line: number, msg: string): never => {
    throw new InputError(`${file}:${line}: ${msg}`, file, line);
  };
  let name: string | undefined;
  let description: string | undefined;
  const params: NamedParam[] = [];
  let body = 0; // index of the first line after the header block
  for (; body < lines.length; body++) {
    const raw = lines[body]!.replace(/\r$/, '');
    if (!raw.startsWith('--')) break;
    const ln = body + 1;
    const m = /^--\s*([A-Za-z][\w-]*)\s*:(.*)$/.exec(raw);
    if (!m) continue; // free text
    const key = m[1]!;
    const value = m[2]!.trim();
    if (!(HEADER_KEYS as readonly string[]).includes(key)) fail(ln, `unknown header field "${key}" (known: ${HEADER_KEYS.join(', ')}); a free comment line must not start with "word:"`);
    if (key === 'name') {
      if (name !== undefined) fail(ln, 'second "name" line');
      if (!QUERY_NAME.test(value)) fail(ln, `query name "${value}": lower-case letters, digits and dashes`);
      name = value;
    } else if (key === 'description') {
      if (description !== undefined) fail(ln, 'second "description" line');
      if (!value) fail(ln, 'empty description');
      description = value;
    } else {
      const p = /^([^=\s]*)\s*=(.*?)\s--\s+(\S.*)$/.exec(value) ?? /^([^=\s]*)\s*=()\s*--\s+(\S.*)$/.exec(value);
      if (!p) fail(ln, 'a param line is `-- param: NAME = DEFAULT -- DOC` (the default may be empty, the doc may not)');
      const [, pname, def, doc] = p!;
      if (!PARAM_NAME.test(pname!)) fail(ln, `param name "${pname}": letters, digits and underscores, not starting with a digit`);
      if (params.some((q) => q.name === pname)) fail(ln, `param "${pname}" declared twice`);
      params.push({ name: pname!, default: def!.trim(), doc: doc!.trim() });
    }
  }
  if (name === undefined) fail(1, 'the file must start with a `-- name: NAME` header line');
  const stem = basename(file).replace(/\.sql$/, '');
  if (name !== stem) fail(lines.findIndex((l) => /^--\s*name\s*:/.test(l)) + 1, `query name "${name}" differs from the file name "${stem}.sql"`);
  if (description === undefined) fail(body + 1, 'no `-- description: …` header line');

  // The statement: one SELECT, its named parameters exactly the declared ones.
  const bodyText = lines.slice(body).join('\n');
  const lineOf = (t: SqlToken): number => body + t.line;
  const toks = tokenizeSql(bodyText, (line, msg) => fail(body + line, msg));
  const code = toks.filter((t) => t.kind !== 'comment');
  if (code.length === 0) fail(body + 1, 'no SQL statement after the header');
  const first = code[0]!;
  if (first.kind !== 'word' || !['SELECT', 'WITH'].includes(first.text.toUpperCase())) fail(lineOf(first), `a named query is one SELECT (or WITH … SELECT), not "${first.text}"`);
  let end = bodyText.length;
  const semi = code.findIndex((t) => t.kind === 'punct' && t.text === ';');
  if (semi >= 0) {
    if (semi < code.length - 1) fail(lineOf(code[semi + 1]!), 'more than one statement (a named query is one SELECT)');
    end = code[semi]!.start;
  }
  const used = new Map<string, number>();
  for (const t of code) {
    if (t.kind !== 'param') continue;
    if (!t.text.startsWith(':') || t.text.length < 2) fail(lineOf(t), `parameter "${t.text}": use named parameters (:name) declared in the header`);
    const n = t.text.slice(1);
    if (!params.some((p) => p.name === n)) fail(lineOf(t), `parameter :${n} is not declared by a \`-- param: ${n} = … -- …\` line`);
    if (!used.has(n)) used.set(n, lineOf(t));
  }
  for (const p of params) if (!used.has(p.name)) fail(lines.findIndex((l) => new RegExp(`^--\\s*param\\s*:\\s*${p.name}\\s*=`).test(l)) + 1, `param "${p.name}" is declared but the query does not use :${p.name}`);
  return { name: name!, description: description!, params, sql: bodyText.slice(0, end).trim(), file };
}

/**
 * The object to bind (`stmt.all(bindParams(q, given))`): every declared parameter, given or its
 * default. A value that reads as a number in canonical form is bound as one (an integer as a
 * 64-bit integer, `0.5` as a real), so `LIMIT :limit` and `id = :request_id` work; anything else
 * (`03`, `1e3`, `0.50`, text) is bound as text. Compare text columns with CAST(:p AS TEXT) when a
 * label may look like a number. An unknown name is a UsageError listing the known ones.
 */
export function bindParams(q: NamedQuery, given: Record<string, string>): Record<string, SqlValue> {
  for (const k of Object.keys(given)) {
    if (!q.params.some((p) => p.name === k)) {
      const known = q.params.map((p) => p.name);
      throw new UsageError(`query ${q.name}: unknown parameter "${k}" (${known.length ? `known: ${known.join(', ')}` : 'it takes none'})`);
    }
  }
  const out: Record<string, SqlValue> = {};
  for (const p of q.params) out[p.name] = sqlValueOf(Object.prototype.hasOwnProperty.call(given, p.name) ? given[p.name]! : p.default);
  return out;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** '42' → 42n, '-0.5' → -0.5, anything not in canonical number form stays a string. */
export function sqlValueOf(s: string): SqlValue {
  if (/^-?(?:0|[1-9][0-9]*)$/.test(s) && s !== '-0') {
    const b = BigInt(s);
    return b >= INT64_MIN && b <= INT64_MAX ? b : s;
  }
  if (/^-?(?:0|[1-9][0-9]*)\.[0-9]+$/.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n) && String(n) === s) return n;
  }
  return s;
}

export interface SqlToken {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct' | 'comment';
  text: string;
  /** 1-based line of the token's first character. */
  line: number;
  /** Offsets in the text: [start, end). */
  start: number;
  end: number;
}

/**
 * A small SQLite tokenizer (enough to find statements, parameters, result columns and comments):
 * words, "quoted" / [bracketed] / `backquoted` identifiers, 'strings', numbers, parameters
 * (?NNN, :name, @name, $name), punctuation and comments (`-- …` to the end of the line, `/* … *\/`).
 * Whitespace is dropped. An unterminated string or comment calls `fail`.
 */
export function tokenizeSql(text: string, fail: (line: number, msg: string) => never = (l, m) => { throw new Error(`line ${l}: ${m}`); }): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const push = (kind: SqlToken['kind'], start: number, end: number, l: number): void => {
    out.push({ kind, text: text.slice(start, end), line: l, start, end });
  };
  const closeAt = (start: number, close: string, what: string): number => {
    // Quotes are doubled to escape them in SQL ('it''s', "a""b").
    let j = start + 1;
    for (;;) {
      const k = text.indexOf(close, j);
      if (k < 0) return fail(line, `unterminated ${what}`);
      if (close !== ']' && text[k + 1] === close) {
        j = k + 2;
        continue;
      }
      return k + 1;
    }
  };
  while (i < n) {
    const c = text[i]!;
    const start = i;
    const l = line;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && text[i + 1] === '-') {
      const k = text.indexOf('\n', i);
      i = k < 0 ? n : k;
      push('comment', start, i, l);
    } else if (c === '/' && text[i + 1] === '*') {
      const k = text.indexOf('*/', i + 2);
      if (k < 0) fail(l, 'unterminated /* comment');
      i = k + 2;
      push('comment', start, i, l);
    } else if (c === "'") {
      i = closeAt(i, "'", 'string');
      push('string', start, i, l);
    } else if (c === '"' || c === '`' || c === '[') {
      i = closeAt(i, c === '[' ? ']' : c, 'quoted identifier');
      push('quoted', start, i, l);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.)/.exec(text.slice(i, i + 64))!;
      i += m[0].length;
      push('number', start, i, l);
    } else if (c === '?' || c === ':' || c === '@' || c === '$') {
      const m = c === '?' ? /^\?[0-9]*/.exec(text.slice(i)) : /^[:@$][A-Za-z0-9_]*/.exec(text.slice(i));
      i += m![0].length;
      push('param', start, i, l);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z0-9_$\u0080-\uffff]+/.exec(text.slice(i))!;
      i += m[0].length;
      push('word', start, i, l);
    } else {
      const two = text.slice(i, i + 3) === '->>' ? '->>' : ['||', '<=', '>=', '<>', '!=', '==', '<<', '>>', '->'].find((op) => text.startsWith(op, i));
      i += two ? two.length : 1;
      push('punct', start, i, l);
    }
    if (i > start) for (let k = start; k < i; k++) if (text[k] === '\n' && k !== start) line++;
  }
  return out;
}
