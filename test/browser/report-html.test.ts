/**
 * `xtrace report --format html` in a real browser: on the real linux-block capture (its run labels
 * and task names rewritten to HTML, which must show as text) and on the simulated blktap2 guest
 * (three clocks: error bars). What is counted on the page is compared with the JSON report of the
 * same database, not with the HTML reporter's code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { browserOrSkip, closeBrowser, openHtml } from './harness.js';
import type { ReportModel } from '../../src/report/model.js';

const t = tempDir();
after(() => t.cleanup());
after(closeBrowser);

interface Made {
  html: string;
  json: ReportModel;
}

function make(name: string, files: { path: string; domain?: string }[], profile: string): Made {
  const db = join(t.dir, `${name}.db`);
  for (const f of files) {
    const r = xtrace(['ingest', '--db', db, ...(f.domain ? ['--domain', f.domain] : []), f.path]);
    assert.equal(r.status, 0, r.stderr);
  }
  const html = join(t.dir, `${name}.html`);
  const r = xtrace(['report', '--db', db, '-p', profile, '--format', 'html', '--out', html]);
  assert.equal(r.status, 0, r.stderr);
  const j = xtrace(['report', '--db', db, '-p', profile, '--format', 'json']);
  assert.equal(j.status, 0, j.stderr);
  return { html, json: JSON.parse(j.stdout) as ReportModel };
}

let block: Made;
let tap: Made;
before(() => {
  // The real capture with HTML where a trace may put any word: run labels and the task name.
  const text = gunzipSync(readFileSync(join(SAMPLES, 'linux-block-default', 'trace.txt.gz')))
    .toString('utf8')
    .replace(/xtrace: run=1 (begin|end)/g, 'xtrace: run=<b>1</b> $1')
    .replace(/^(\s*)fio-(\d+)/gm, '$1<i>fio</i>-$2');
  const trace = join(t.dir, 'html-labels.txt');
  writeFileSync(trace, text);
  block = make('block', [{ path: trace }], 'linux-block');
  const sim = join(SAMPLES, 'sim-blktap2');
  tap = make('tap', [
    { path: join(sim, 'guest.trace.gz'), domain: 'domU' },
    { path: join(sim, 'dom0.trace.gz'), domain: 'dom0' },
    { path: join(sim, 'tapdisk.xtbuf.gz'), domain: 'tapdisk' },
  ], 'xen-blktap2');
});

describe('report --format html in Chromium', () => {
  it('the trace really carries the HTML labels (else the injection check proves nothing)', () => {
    assert.ok(block.json.runs.some((r) => r.run === '<b>1</b>'), 'run label <b>1</b>');
    assert.ok(block.json.contributors.some((c) => c.comm === '<i>fio</i>'), 'task <i>fio</i>');
  });

  for (const which of ['block', 'tap'] as const) {
    it(`${which}: no console error, no request, one segment per stage per bar, hover text`, async (tt) => {
      if (!browserOrSkip(tt)) return;
      const m = which === 'block' ? block : tap;
      const page = await openHtml(m.html);
      try {
        assert.deepEqual(page.consoleErrors, []);
        assert.deepEqual(page.networkRequests, []);
        const bars = await page.page.$$eval('svg[data-figure="breakdown"] g.bar', (gs) => gs.map((g) => ({ label: g.getAttribute('data-bar'), segs: [...g.querySelectorAll('rect.seg')].map((r) => r.getAttribute('data-stage')) })));
        // The mean of the runs, then one bar per run.
        assert.equal(bars.length, 1 + m.json.runs.length);
        const stages = m.json.stages.map((s) => s.name);
        for (const b of bars) assert.deepEqual(b.segs, stages, `bar ${b.label}`);
        // Error bars: the cross-domain stages of every bar.
        const crossing = m.json.stages.filter((s) => s.cross_domain && s.uncertainty_ns > 0).length;
        assert.equal(await page.page.locator('svg[data-figure="breakdown"] g.err').count(), crossing * bars.length);
        if (which === 'tap') assert.ok(crossing > 0, 'the blktap2 guest has stages across clocks');
        // A histogram per stage and the total; the waterfall's rows.
        assert.equal(await page.page.locator('svg[data-figure^="dist:"]').count(), stages.length + 1);
        const kept = m.json.runs.reduce((a, r) => a + r.kept, 0);
        assert.equal(await page.page.locator('svg[data-figure="waterfall"] g.bar').count(), Math.min(12, kept));
        const tip = await page.hoverText(`svg[data-figure="breakdown"] rect.seg[data-stage="${stages[stages.length - 1]}"]`);
        assert.ok(tip?.includes(stages[stages.length - 1]!), `hover text names the stage: ${tip}`);
        const wtip = await page.hoverText('svg[data-figure="waterfall"] rect.seg');
        assert.match(wtip ?? '', /CPU \d+ .*:\d+/, `a waterfall segment shows its events' CPU and file:line: ${wtip}`);
      } finally {
        await page.close();
      }
    });
  }

  it('a run label and a task name with HTML show as text, never as markup', async (tt) => {
    if (!browserOrSkip(tt)) return;
    const page = await openHtml(block.html);
    try {
      assert.equal(await page.page.locator('b, i').count(), 0, 'no <b> or <i> element made from the trace');
      const text = await page.page.evaluate(() => document.body.innerText);
      assert.ok(text.includes('<b>1</b>'), 'the run label, as text');
      assert.ok(text.includes('<i>fio</i>'), 'the task name, as text');
      assert.ok(await page.page.locator('svg[data-figure="breakdown"] g.bar[data-bar="run <b>1</b>"]').count() === 1);
    } finally {
      await page.close();
    }
  });
});
