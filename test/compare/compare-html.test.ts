/**
 * `xtrace compare --format html` (no browser here; test/browser opens it): a regressed pair
 * (simulated blkback, the disk stage raised by 30 %, saved as JSON reports) gives the verdict
 * coloured, baseline and candidate as stacked bars on one scale with the same colour per stage, the
 * total first then every stage as an interval row classed by its verdict, the table and the
 * reasons; every name from a trace or a file escaped; a merged stage of one side in that side's bar
 * only; the layers carried from the reports (derived for reports saved before layers existed).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { tempDir, xtrace } from '../helpers.js';
import { simulate } from '../../src/simulate/simulate.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { loadSide } from '../../src/compare/sides.js';
import { compare, COMPARE_DEFAULTS, type Comparison } from '../../src/compare/compare.js';
import { COMPARE_REPORTERS } from '../../src/compare/reporters.js';
import { toJson } from '../../src/report/format.js';
import type { ReportModel } from '../../src/report/model.js';

const DISK = 'be_submit->be_bio_done';
const SIDE = { warmup: 0, trim: 0.1, trimBy: 'total' as const };
const plain = new Chalk({ level: 0 });
const html = (c: Comparison): string => COMPARE_REPORTERS.html.render(c, plain);

/** The `<svg>` of one figure (by data-figure). */
function figure(page: string, name: string): string {
  const m = new RegExp(`<svg [^>]*data-figure="${name}"[\\s\\S]*?</svg>`).exec(page);
  assert.ok(m, `figure ${name}`);
  return m[0];
}

describe('compare --format html', () => {
  let dir: string;
  let cleanup: () => void;
  let baseFile: string;
  let candFile: string;
  let base: ReportModel;
  let cand: ReportModel;

  /** A simulated blkback capture with the disk stage scaled, reported and saved as `report --format json`. */
  async function savedReport(name: string, scale: number): Promise<[string, ReportModel]> {
    const sim = simulate({ backend: 'blkback', out: join(dir, name), runs: 6, requests: 30, seed: 1, scale: { [DISK]: scale } });
    const db = openDb(join(dir, `${name}.db`), { create: true });
    try {
      for (const f of sim.files) await ingestFile(db, { path: f.path }, { domain: f.domain });
      const model = analyse(db, { profile: loadProfile('xen-blkback'), ...SIDE, save: false }).model;
      const file = join(dir, `${name}.json`);
      writeFileSync(file, toJson(model) + '\n');
      return [file, model];
    } finally {
      db.close();
    }
  }

  /** A copy of a saved report, changed by `edit`, under `name`. */
  function variant(from: string, name: string, edit: (m: ReportModel) => void): string {
    const m = JSON.parse(readFileSync(from, 'utf8')) as ReportModel;
    edit(m);
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(m));
    return file;
  }

  before(async () => {
    ({ dir, cleanup } = tempDir());
    [baseFile, base] = await savedReport('base', 1);
    [candFile, cand] = await savedReport('cand', 1.3);
  });
  after(() => cleanup());

  it('a regression: the verdict coloured, the total first, every interval row classed by its verdict, the table and the reasons', () => {
    const c = compare(loadSide(baseFile, SIDE), loadSide(candFile, SIDE), COMPARE_DEFAULTS);
    assert.equal(c.verdict, 'regressed');
    assert.equal(c.stages.find((s) => s.name === DISK)!.verdict, 'regressed');
    const page = html(c);
    assert.match(page, /^<!DOCTYPE html>/);
    assert.match(page, /<h1>xtrace compare · profile <code>xen-blkback<\/code> <span class="verdict verdict-regressed">REGRESSED<\/span><\/h1>/);
    const all = [c.total, ...c.stages];
    const rows = [...figure(page, 'compare-intervals').matchAll(/<g class="row verdict-(\w+)" data-bar="([^"]*)">/g)].map((m) => [m[2]!.replace(/&gt;/g, '>'), m[1]]);
    assert.deepEqual(
      rows,
      all.map((r) => [r.name, r.verdict]),
    );
    assert.equal(rows.filter((r) => r[1] === 'regressed').length, c.counts.regressed);
    const table = [...page.matchAll(/<tr class="verdict-row-(\w+)" data-stage="([^"]*)">.*?<span class="verdict verdict-(\w+)">/g)].map((m) => [m[2]!.replace(/&gt;/g, '>'), m[1], m[3]]);
    assert.deepEqual(
      table,
      all.map((r) => [r.name, r.verdict, r.verdict]),
    );
    assert.match(page, new RegExp(`<h2>Why</h2>\\n<ul><li>total: regressed: Welch t-test[^<]*</li>.*<li>${DISK.replace('>', '&gt;')}: regressed: `));
    assert.match(page, /<h2>Sources<\/h2>\n<ul><li>baseline: [^<]*base\.json \(json, 6 runs\)<\/li><li>candidate: [^<]*cand\.json \(json, 6 runs\)<\/li><\/ul>/);
    // Self-contained, and the same comparison gives the same bytes.
    assert.doesNotMatch(page, /\b(?:src|href)=/);
    assert.deepEqual([...new Set(page.match(/https?:\/\/[^"'\s]+/g))], ['http://www.w3.org/2000/svg']);
    assert.equal(html(compare(loadSide(baseFile, SIDE), loadSide(candFile, SIDE), COMPARE_DEFAULTS)), page);
  });

  it('baseline and candidate: two stacked bars on one scale, one segment per stage, the same colour per stage, the layers of the reports', () => {
    const c = compare(loadSide(baseFile, SIDE), loadSide(candFile, SIDE), COMPARE_DEFAULTS);
    assert.deepEqual(
      c.stages.map((s) => s.layer),
      base.stages.map((s) => s.layer),
    );
    assert.equal(c.total.layer, null);
    const svg = figure(html(c), 'compare-bars');
    const bars = [...svg.matchAll(/<g class="bar side-(\w+)" data-bar="\w+">([\s\S]*?)<\/g>/g)].map((m) => ({
      side: m[1],
      segs: [...m[2]!.matchAll(/<rect class="seg" data-stage="([^"]*)" x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="([^"]*)">/g)].map((s) => ({ stage: s[1]!.replace(/&gt;/g, '>'), width: Number(s[2]), fill: s[3] })),
    }));
    assert.deepEqual(
      bars.map((b) => b.side),
      ['baseline', 'candidate'],
    );
    for (const b of bars)
      assert.deepEqual(
        b.segs.map((s) => s.stage),
        c.stages.map((s) => s.name),
      );
    assert.deepEqual(
      bars[0]!.segs.map((s) => s.fill),
      bars[1]!.segs.map((s) => s.fill),
    );
    const disk = bars.map((b) => b.segs.find((s) => s.stage === DISK)!.width);
    assert.ok(disk[1]! > disk[0]! * 1.2, `the candidate's disk stage is drawn longer on the same scale: ${disk.join(' vs ')}`);
    // The legend names the layers of the stages (guest kernel, hand-off, dom0 kernel, device).
    assert.match(html(c), /<ul class="legend"><li>[^]*guest kernel[^]*hand-off[^]*host \/ dom0 kernel[^]*device/);
  });

  it('everything from a trace or a file is escaped: run labels, reasons, source names', () => {
    const odd = variant(candFile, 'c<i>&.json', (m) => {
      m.excluded_runs = [{ run: '<b>x</b>', requests: 2, complete: 0, incomplete: 2, orphans: 0, reason: 'no_complete_request', why: 'no <complete> request', points_without_events: null, lost_events: null }];
    });
    const page = html(compare(loadSide(baseFile, SIDE), loadSide(odd, SIDE), COMPARE_DEFAULTS));
    for (const raw of ['<b>x</b>', '<complete>', 'c<i>&.json']) assert.ok(!page.includes(raw), raw);
    assert.match(page, /<p class="warn">candidate: run &lt;b&gt;x&lt;\/b&gt; not averaged \(not compared\): no &lt;complete&gt; request<\/p>/);
    assert.ok(page.includes('c&lt;i&gt;&amp;.json (json, 6 runs)'));
  });

  it("a merged stage of one side: in that side's bar, after the last stage ending where it ends; listed, not compared", () => {
    const merged = 'fe_queue->be_get_req';
    const batched = variant(candFile, 'batched.json', (m) => {
      const at = m.stages.findIndex((s) => s.name === 'be_irq->be_get_req');
      m.stages.splice(at + 1, 0, { ...m.stages[at]!, name: merged, from: 'fe_queue', to: 'be_get_req', merged: true, spans: ['fe_queue->fe_notify', 'fe_notify->be_irq', 'be_irq->be_get_req'], layer: 'handoff', mean_ns: 4000 });
      for (const r of m.runs) r.stages_ns[merged] = 4000;
    });
    const c = compare(loadSide(baseFile, SIDE), loadSide(batched, SIDE), COMPARE_DEFAULTS);
    assert.deepEqual(
      c.one_sided_stages.map((s) => [s.name, s.side, s.layer]),
      [[merged, 'candidate', 'handoff']],
    );
    const svg = figure(html(c), 'compare-bars');
    const stagesOf = (side: string): string[] =>
      [...(new RegExp(`<g class="bar side-${side}"[^>]*>([\\s\\S]*?)</g>`).exec(svg)?.[1] ?? '').matchAll(/data-stage="([^"]*)"/g)].map((m) => m[1]!.replace(/&gt;/g, '>'));
    const names = c.stages.map((s) => s.name);
    assert.deepEqual(stagesOf('baseline'), names);
    const at = names.indexOf('be_irq->be_get_req') + 1;
    assert.deepEqual(stagesOf('candidate'), [...names.slice(0, at), merged, ...names.slice(at)]);
    assert.match(html(c), /<h2>Stages of one side only<\/h2>\n<ul class="note"><li>fe_queue-&gt;be_get_req: 4\.000 µs on the candidate only/);
  });

  it('reports saved before layers existed: the layers derived from the built-in profile, the same comparison', () => {
    const strip = (m: ReportModel): void => {
      for (const s of m.stages) delete (s as Partial<typeof s>).layer;
    };
    const c = compare(loadSide(variant(baseFile, 'old-base.json', strip), SIDE), loadSide(variant(candFile, 'old-cand.json', strip), SIDE), COMPARE_DEFAULTS);
    assert.deepEqual(
      c.stages.map((s) => s.layer),
      cand.stages.map((s) => s.layer),
    );
  });

  it('CLI: --format html --out writes the page; exit 1 on the regression', () => {
    const out = join(dir, 'compare.html');
    const r = xtrace(['compare', baseFile, candFile, '--format', 'html', '--out', out]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(readFileSync(out, 'utf8'), /^<!DOCTYPE html>[\s\S]*verdict-regressed/);
  });
});
