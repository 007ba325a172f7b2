/**
 * The output helpers of src/report/format.ts against hand-written expected strings.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, formatBytes, formatNs, formatP, formatRate, formatSignedNs, markdownCell, pct, pctPrecise, plural, signedPct, toJson } from '../../src/report/format.js';

describe('output helpers', () => {
  it('csvField quotes ", comma, newline and carriage return; null is empty', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(''), '');
    assert.equal(csvField(-1.5), '-1.5');
    assert.equal(csvField(2n ** 63n - 1n), '9223372036854775807');
  });

  it('toJson writes a bigint above 2^53 exactly, non-finite numbers as null, indented by 2', () => {
    assert.equal(toJson({ id: 9007199254740993n, small: 1n, x: 0.5, bad: Infinity, nan: NaN }), '{\n  "id": 9007199254740993,\n  "small": 1,\n  "x": 0.5,\n  "bad": null,\n  "nan": null\n}');
    assert.equal(toJson([-(2n ** 63n)]), '[\n  -9223372036854775808\n]');
    assert.equal(toJson(12345678901234567890n), '12345678901234567890');
    assert.equal(toJson([]), '[]');
  });

  it('toJson: a string that looks like its internal marker stays a string', () => {
    assert.equal(toJson({ s: '\u00000\u0000', n: 5n }), '{\n  "s": "\\u00000\\u0000",\n  "n": 5\n}');
    assert.equal(toJson({ '\u00000\u0000': 1n }), '{\n  "\\u00000\\u0000": 1\n}');
  });

  it('pct, signedPct, pctPrecise', () => {
    assert.equal(pct(0.1234), '12.3%');
    assert.equal(pct(1), '100.0%');
    assert.equal(pct(0), '0.0%');
    assert.equal(signedPct(0.05), '+5.0%');
    assert.equal(signedPct(-0.125), '-12.5%');
    assert.equal(signedPct(0), '+0.0%');
    assert.equal(signedPct(Infinity), '–');
    assert.equal(pctPrecise(0.1), '10%');
    assert.equal(pctPrecise(0.00125), '0.125%');
    assert.equal(pctPrecise(0.123456789), '12.3457%');
  });

  it('formatNs at the ns / µs / ms / s boundaries', () => {
    assert.equal(formatNs(0), '0.000 µs');
    assert.equal(formatNs(1), '0.001 µs');
    assert.equal(formatNs(999), '0.999 µs');
    assert.equal(formatNs(1000), '1.000 µs');
    assert.equal(formatNs(999_999), '999.999 µs');
    assert.equal(formatNs(1_000_000), '1000.000 µs');
    assert.equal(formatNs(9_999_999), '9999.999 µs');
    assert.equal(formatNs(10_000_000), '10.000 ms');
    assert.equal(formatNs(999_999_999), '1000.000 ms');
    assert.equal(formatNs(1_000_000_000), '1000.000 ms');
    assert.equal(formatNs(-10_000_000), '-10.000 ms');
    assert.equal(formatNs(null), '–');
    assert.equal(formatNs(NaN), '–');
    assert.equal(formatSignedNs(1500), '+1.500 µs');
    assert.equal(formatSignedNs(-20_000_000), '−20.000 ms');
  });

  it('formatP, plural, markdownCell', () => {
    assert.equal(formatP(null), '–');
    assert.equal(formatP(0.05), '0.0500');
    assert.equal(formatP(0.0001), '0.0001');
    assert.equal(formatP(0.00001234), '1.2e-5');
    assert.equal(plural(0, 'row'), '0 rows');
    assert.equal(plural(1, 'row'), '1 row');
    assert.equal(plural(2, 'run'), '2 runs');
    assert.equal(markdownCell('a|b\nc'), 'a\\|b<br>c');
  });

  it('formatRate and formatBytes (decimal units, as fio\'s MB/s)', () => {
    assert.equal(formatRate(null), '–');
    assert.equal(formatRate(5.0487028), '5.049');
    assert.equal(formatRate(1232.5934), '1232.6');
    assert.equal(formatBytes(null), '–');
    assert.equal(formatBytes(4096), '4096 B');
    assert.equal(formatBytes(409_600), '409.6 kB');
    assert.equal(formatBytes(1_638_400), '1.64 MB');
    assert.equal(formatBytes(2_500_000_000), '2.5 GB');
  });
});
