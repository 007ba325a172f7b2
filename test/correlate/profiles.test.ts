/**
 * src/profiles: the built-in field table reaches the schema and the matcher, the run-marker text
 * and its default regex agree, built-in profiles are looked up by name only.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUILTIN_FIELDS,
  builtinFieldValues,
  builtinProfileDocument,
  builtinProfileNames,
  DEFAULT_MARKER_MATCH,
  loadProfile,
  parseProfile,
  runMarkerText,
  unprovidedJoinFields,
  type ProfileInput,
} from '../../src/profiles/index.js';
import { Matcher, type FinishedRequest } from '../../src/correlate/engine.js';
import { correlate } from '../../src/correlate/correlate.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ingestAll, tempDir } from '../helpers.js';

/** Two points joined on one field: `first` provides it, `second` must carry the same value. */
function twoPoints(field: string): ProfileInput {
  return {
    xtrace_profile: 1,
    name: 'two',
    points: [
      { name: 'first', event: 'ev_first', keys: [field] },
      { name: 'second', event: 'ev_second', join: { on: [field] } },
    ],
  };
}

/** An event's columns carrying a value for every built-in field. */
const carrying = { pid: 4242, tgid: 4200, cpu: 3, comm: 'fio worker' };

describe('built-in fields', () => {
  for (const f of BUILTIN_FIELDS) {
    it(`${f.name} is accepted by the schema and resolved by the matcher from ${f.property}`, () => {
      const profile = parseProfile(twoPoints(f.name), 'test');
      const done: FinishedRequest[] = [];
      const m = new Matcher(profile, profile.points, { request: (r) => done.push(r) }, { slack: 0 });
      const ctx = builtinFieldValues(carrying);
      const classified = m.classify('ev_first', '', ctx);
      assert.equal(classified.length, 1);
      assert.deepEqual(classified[0]![1], [String(carrying[f.property])]);
      m.push(1, 0, 100, 'ev_first', '', ctx);
      // Another value of the field does not join; the same one does.
      const other = builtinFieldValues({ pid: 1, tgid: 2, cpu: 0, comm: 'other' });
      m.push(2, 0, 150, 'ev_second', '', other);
      m.push(3, 0, 200, 'ev_second', '', ctx);
      m.end();
      assert.equal(done.length, 1);
      assert.equal(done[0]!.status, 'complete');
      assert.deepEqual([...done[0]!.ev], [1, 3]);
      assert.deepEqual(m.counterList().map((c) => [c.code, c.point, c.count]), [['unmatched_event', 'second', 1]]);
    });
  }

  it('an event that does not carry the field gives no value (the point cannot join on it)', () => {
    const profile = parseProfile(twoPoints('$tgid'), 'test');
    const m = new Matcher(profile, profile.points, { request() {} }, { slack: 0 });
    assert.deepEqual(m.classify('ev_first', '', builtinFieldValues({ ...carrying, tgid: null }))[0]![1], [undefined]);
  });

  it('the correlation reader fetches the columns a profile uses (interned $comm resolved), on this thread and on the reader thread', async () => {
    const t = tempDir();
    const f = join(t.dir, 'tgid.txt');
    writeFileSync(
      f,
      [
        '# tracer: nop',
        '             fio-201     (    200) [000] .....   100.000010: ev_first: a',
        '              dd-301     (    300) [001] .....   100.000015: ev_second: b',
        '             fio-202     (    200) [001] .....   100.000020: ev_second: b',
        '',
      ].join('\n'),
    );
    const h = await ingestAll([f]);
    try {
      const profile = parseProfile({ ...twoPoints('$comm'), points: [{ name: 'first', event: 'ev_first', keys: ['$comm', '$tgid'] }, { name: 'second', event: 'ev_second', join: { on: ['$comm', '$tgid'] } }] }, 'test');
      for (const reader of ['inline', 'thread'] as const) {
        const c = correlate(h.db, profile, { reader });
        assert.equal(c.requests.length, 1, reader);
        assert.equal(c.requests.status(0), 'complete', reader);
        assert.equal(c.requests.t(0, 1) - c.requests.t(0, 0), 10_000, reader);
        assert.deepEqual(c.counters.map((x) => [x.code, x.point, x.count]), [['unmatched_event', 'second', 1]], reader);
      }
    } finally {
      h.cleanup();
      t.cleanup();
    }
  });

  it('a $name outside the table is refused, naming the fields there are', () => {
    const names = BUILTIN_FIELDS.map((f) => f.name.replace('$', '\\$')).join(' ');
    assert.throws(() => parseProfile(twoPoints('$flags'), 'p.json'), new RegExp(`p\\.json: profile field points\\[0\\]\\(first\\)\\.keys\\[0\\]: a field name \\(letters, digits, _\\) or one of ${names}`));
  });

  it('a match group named like a built-in field ($…) is refused: it would shadow the field', () => {
    const doc = {
      xtrace_profile: 1,
      name: 'p',
      points: [
        { name: 'first', event: 'a', match: '^id=(?<$pid>\\d+)', keys: ['$pid'] },
        { name: 'second', event: 'b', join: { on: ['$pid'] } },
      ],
    };
    assert.throws(() => parseProfile(doc, 'p.json'), /p\.json: profile field points\[0\]\(first\)\.match: group name "\$pid" is reserved/);
  });
});

describe('run markers', () => {
  it('the text runMarkerText writes is matched by the default regex, with its run and edge', () => {
    const re = new RegExp(DEFAULT_MARKER_MATCH);
    for (const [label, edge] of [['1', 'begin'], ['warm-up.2', 'end']] as const) {
      const m = re.exec(runMarkerText(label, edge));
      assert.ok(m, `${label} ${edge}`);
      assert.equal(m.groups!['run'], label);
      assert.equal(m.groups!['edge'], edge);
    }
    assert.equal(runMarkerText(7, 'end'), 'xtrace: run=7 end');
    assert.throws(() => runMarkerText('two words', 'begin'), /one word/);
  });

  it('is the default of every profile, and the matcher takes such an event as a marker', () => {
    const profile = parseProfile(twoPoints('$pid'), 'test');
    assert.equal(profile.markers.match, DEFAULT_MARKER_MATCH);
    const m = new Matcher(profile, profile.points, { request() {} }, { slack: 0 });
    m.push(5, 0, 10, 'tracing_mark_write', runMarkerText('r1', 'begin'), builtinFieldValues(carrying));
    assert.deepEqual(m.markers, [{ run: 'r1', edge: 'begin', t: 10, domain: 0, eventId: 5 }]);
  });
});

describe('profiles', () => {
  it('built-in documents by name; anything else is not one', () => {
    for (const name of builtinProfileNames()) {
      assert.equal(builtinProfileDocument(name)!.name, name);
      assert.equal(loadProfile(name).name, name);
    }
    assert.equal(builtinProfileDocument('nope'), undefined);
    assert.equal(builtinProfileDocument('constructor'), undefined);
    assert.throws(() => loadProfile('constructor'), /unknown profile "constructor"/);
  });

  it('unprovidedJoinFields: nearest joins need an earlier key, id-less ones any key', () => {
    const profile = parseProfile(builtinProfileDocument('xen-blkback'), 'test');
    assert.ok(unprovidedJoinFields(profile.points).every((f) => f === undefined));
    // be_irq (id-less) joins on domid, which only the later be_get_req provides: allowed.
    assert.equal(unprovidedJoinFields(profile.points)[profile.points.findIndex((p) => p.name === 'be_irq')], undefined);
    // Without fe_queue no point provides vdev: neither the id-less fe_notify nor the nearest be_get_req can join.
    const path = profile.points.filter((p) => p.name !== 'fe_queue');
    const missing = unprovidedJoinFields(path);
    assert.equal(missing[path.findIndex((p) => p.name === 'fe_notify')], 'vdev');
    assert.equal(missing[path.findIndex((p) => p.name === 'be_get_req')], 'vdev');
  });
});
