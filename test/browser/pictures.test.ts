/**
 * `xtrace chart` (SVG and HTML) and `xtrace compare --format html` in a real browser: no console
 * error, no request, one segment per stage per bar (counted against the saved JSON reports, not
 * the drawing code), hover text, and labels with HTML (a chart label, a file name) shown as text.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { browserOrSkip, closeBrowser, openHtml } from './harness.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { simulate } from '../../src/simulate/simulate.js';
import { toJson } from '../../src/report/format.js';
import type { ReportModel } from '../../src/report/model.js';

const t = tempDir();
after(() => t.cleanup());
after(closeBrowser);

/** Reports files (path, clock domain) with a profile and saves the JSON report. */
async function saved(name: string, profile: string, files: { path: string; domain: string }[]): Promise<{ file: string; model: ReportModel }> {
  const db = openDb(join(t.dir, `${name}.db`), { create: true });
  try {
    for (const f of files) await ingestFile(db, { path: f.path }, { domain: f.domain });
    const model = analyse(db, { profile: loadProfile(profile), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    const file = join(t.dir, `${name}.json`);
    writeFileSync(file, toJson(model) + '\n');
    return { file, model };
  } finally {
    db.close();
  }
}

let lb: { file: string; model: ReportModel };
let t2: { file: string; model: ReportModel };
let base: { file: string; model: ReportModel };
let cand: { file: string; model: ReportModel };
const chartHtml = join(t.dir, 'chart.html');
const chartSvg = join(t.dir, 'chart.svg');
const compareHtml = join(t.dir, 'compare.html');
const LABEL = '<i>bare</i>';

before(async () => {
  lb = await saved('lb', 'linux-block', [{ path: join(SAMPLES, 'linux-block-default', 'trace.txt.gz'), domain: 'default' }]);
  const sim = join(SAMPLES, 'sim-blktap2');
  t2 = await saved('t2', 'xen-blktap2', [
    { path: join(sim, 'guest.trace.gz'), domain: 'domU' },
    { path: join(sim, 'dom0.trace.gz'), domain: 'dom0' },
    { path: join(sim, 'tapdisk.xtbuf.gz'), domain: 'tapdisk' },
  ]);
  // A regressed pair: the disk stage of a simulated blkback guest 30 % slower.
  const pair = async (name: string, scale: number): Promise<{ file: string; model: ReportModel }> => {
    const s = simulate({ backend: 'blkback', out: join(t.dir, name), runs: 6, requests: 30, seed: 1, scale: { 'be_submit->be_bio_done': scale } });
    return saved(name, 'xen-blkback', s.files.map((f) => ({ path: f.path, domain: f.domain })));
  };
  base = await pair('base', 1);
  cand = await pair('cand', 1.3);
  for (const [out] of [[chartHtml], [chartSvg]]) {
    const r = xtrace(['chart', `${LABEL}=${lb.file}`, t2.file, '--out', out!]);
    assert.equal(r.status, 0, r.stderr);
  }
  // A file name with HTML: the page names its sides.
  const named = join(t.dir, '<b>base.json');
  copyFileSync(base.file, named);
  const c = xtrace(['compare', named, cand.file, '--format', 'html', '--out', compareHtml]);
  assert.equal(c.status, 1, `a regression exits 1: ${c.stderr}`);
});

describe('pictures in Chromium', () => {
  for (const which of ['chart.html', 'chart.svg'] as const) {
    it(`${which}: clean, one segment per stage per bar, hover text, the label escaped`, async (tt) => {
      if (!browserOrSkip(tt)) return;
      const page = await openHtml(which === 'chart.html' ? chartHtml : chartSvg);
      try {
        assert.deepEqual(page.consoleErrors, []);
        assert.deepEqual(page.networkRequests, []);
        const bars = await page.page.$$eval('g.bar', (gs) => gs.map((g) => ({ label: g.getAttribute('data-bar'), segs: [...g.querySelectorAll('rect.seg')].map((r) => r.getAttribute('data-stage')) })));
        assert.deepEqual(
          bars.map((b) => b.label),
          [LABEL, 'xen-blktap2'],
        );
        assert.deepEqual(bars[0]!.segs, lb.model.stages.map((s) => s.name));
        assert.deepEqual(bars[1]!.segs, t2.model.stages.map((s) => s.name));
        const tip = await page.hoverText('g.bar[data-bar="xen-blktap2"] rect.seg[data-stage="td_aio_submit->td_aio_done"]');
        assert.ok(tip?.includes('td_aio_submit->td_aio_done'), `hover text: ${tip}`);
        // The label is text: no <i> element, the characters on the page.
        assert.equal(await page.page.locator('i').count(), 0);
        const text = await page.page.evaluate(() => document.documentElement.textContent ?? '');
        assert.ok(text.includes(LABEL));
      } finally {
        await page.close();
      }
    });
  }

  it('compare.html: clean, two bars of every stage, the total first in the intervals, verdicts coloured, a file name with HTML escaped', async (tt) => {
    if (!browserOrSkip(tt)) return;
    const page = await openHtml(compareHtml);
    try {
      assert.deepEqual(page.consoleErrors, []);
      assert.deepEqual(page.networkRequests, []);
      const bars = await page.page.$$eval('g.bar', (gs) => gs.map((g) => [...g.querySelectorAll('rect.seg')].map((r) => r.getAttribute('data-stage'))));
      const stages = base.model.stages.map((s) => s.name);
      assert.ok(bars.length >= 2);
      assert.deepEqual(bars[0], stages);
      assert.deepEqual(bars[1], cand.model.stages.map((s) => s.name));
      const rows = await page.page.$$eval('g.row', (gs) => gs.map((g) => ({ label: g.getAttribute('data-bar'), cls: g.getAttribute('class') })));
      assert.equal(rows[0]!.label, 'total');
      assert.equal(rows.length, stages.length + 1);
      assert.ok(rows.some((r) => r.label === 'be_submit->be_bio_done' && r.cls!.includes('verdict-regressed')), 'the slowed disk stage is regressed');
      const tip = await page.hoverText('g.row[data-bar="total"]');
      assert.ok(tip && /regressed/.test(tip), `hover text of the total: ${tip}`);
      assert.equal(await page.page.locator('b').count(), 0, 'no <b> from the file name');
      assert.ok((await page.page.evaluate(() => document.body.innerText)).includes('<b>base.json'), 'the file name, as text');
    } finally {
      await page.close();
    }
  });
});
