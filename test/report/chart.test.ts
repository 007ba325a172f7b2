/**
 * `xtrace chart`: the study's figure from saved reports of different profiles (the bundled
 * linux-block capture, the simulated xen-blktap2 and xen-blkback samples, reported here into a
 * temp dir so they never go stale). Counted from the output: one `rect.seg` per stage per bar in
 * path order, colours of the stage's layer, the starts aligned, error bars on cross-domain stages;
 * every text from a trace escaped; the same reports give the same bytes wherever the files are;
 * the refusals are one line and exit 2. (No golden file: it would change with every change of the
 * samples' numbers; the same-bytes checks hold the determinism.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLES, tempDir, xtrace } from '../helpers.js';
import { openDb } from '../../src/db/db.js';
import { ingestFile } from '../../src/ingest/ingest.js';
import { analyse } from '../../src/pipeline/analyse.js';
import { loadProfile } from '../../src/profiles/index.js';
import { LAYERS, type Layer } from '../../src/profiles/layers.js';
import { readReport } from '../../src/compare/sides.js';
import { toJson } from '../../src/report/format.js';
import type { ReportModel } from '../../src/report/model.js';
import { layerColor } from '../../src/report/svg.js';
import { chartHtml, chartLabels, chartSvg, type ChartReport } from '../../src/report/chart.js';

/** Reports a sample (files with their clock domains) with a built-in profile, writes it as `report --format json` would. */
async function saveReport(dir: string, name: string, profile: string, files: readonly (readonly [string, string])[]): Promise<string> {
  const db = openDb(join(dir, `${name}.db`), { create: true });
  try {
    for (const [path, domain] of files) await ingestFile(db, { path: join(SAMPLES, path) }, { domain });
    const model = analyse(db, { profile: loadProfile(profile), warmup: 0, trim: 0.1, trimBy: 'total', save: false }).model;
    const file = join(dir, `${name}.json`);
    writeFileSync(file, toJson(model) + '\n');
    return file;
  } finally {
    db.close();
  }
}

/** Per bar (`data-bar`), its segments' `data-stage` and fill, and its error bars, as drawn. */
function barsOf(svg: string): Map<string, { stages: string[]; fills: string[]; x: number[]; ends: number[]; errors: string[] }> {
  const out = new Map<string, { stages: string[]; fills: string[]; x: number[]; ends: number[]; errors: string[] }>();
  for (const g of svg.matchAll(/<g class="bar[^"]*" data-bar="([^"]*)">([\s\S]*?)<\/g>\n(?=<g class="bar|<line class="axis")/g)) {
    const segs = [...g[2]!.matchAll(/<rect class="seg" data-stage="([^"]*)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="([^"]*)">/g)];
    out.set(g[1]!, {
      stages: segs.map((m) => m[1]!),
      fills: segs.map((m) => m[4]!),
      x: segs.map((m) => Number(m[2])),
      ends: segs.map((m) => Number(m[2]) + Number(m[3])),
      errors: [...g[2]!.matchAll(/<g class="err" data-stage="([^"]*)">/g)].map((m) => m[1]!),
    });
  }
  return out;
}

const hue = (color: string): number => Number(/^hsl\((\d+)/.exec(color)?.[1]);
/** The text's `&gt;` back to `>` (stage names hold `->`). */
const unesc = (s: string): string => s.replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&');

describe('xtrace chart', () => {
  let dir: string;
  let cleanup: () => void;
  let files: { lb: string; t2: string; bb: string };
  let reports: { lb: ReportModel; t2: ReportModel; bb: ReportModel };
  const items = (...r: [string, ReportModel][]): ChartReport[] => r.map(([label, report]) => ({ label, file: `${label}.json`, report: structuredClone(report) }));

  before(async () => {
    ({ dir, cleanup } = tempDir());
    files = {
      lb: await saveReport(dir, 'lb', 'linux-block', [['linux-block-default/trace.txt.gz', 'default']]),
      t2: await saveReport(dir, 't2', 'xen-blktap2', [
        ['sim-blktap2/guest.trace.gz', 'domU'],
        ['sim-blktap2/dom0.trace.gz', 'dom0'],
        ['sim-blktap2/tapdisk.xtbuf.gz', 'tapdisk'],
      ]),
      bb: await saveReport(dir, 'bb', 'xen-blkback', [
        ['sim-blkback/guest.trace.gz', 'domU'],
        ['sim-blkback/dom0.trace.gz', 'dom0'],
      ]),
    };
    reports = { lb: readReport(files.lb), t2: readReport(files.t2), bb: readReport(files.bb) };
  });
  after(() => cleanup());

  it('mixed profiles: one rect.seg per stage per bar in path order, coloured by layer, starts aligned, error bars on cross-domain stages', () => {
    const svg = chartSvg(items(['bare metal', reports.lb], ['blktap2', reports.t2], ['blkback', reports.bb]));
    const bars = barsOf(svg);
    assert.deepEqual([...bars.keys()], ['bare metal', 'blktap2', 'blkback']);
    for (const [label, m] of [['bare metal', reports.lb], ['blktap2', reports.t2], ['blkback', reports.bb]] as const) {
      const b = bars.get(label)!;
      assert.deepEqual(b.stages.map(unesc), m.stages.map((s) => s.name), label);
      // Each segment has the hue of its stage's layer.
      assert.deepEqual(b.fills.map(hue), m.stages.map((s) => hue(layerColor(s.layer))), label);
      // Segments follow each other from the common start (coordinates are rounded to 0.1 px one by one).
      b.x.slice(1).forEach((x, k) => assert.ok(Math.abs(x - b.ends[k]!) <= 0.2, `${label}: segment ${k + 1} starts where ${k} ends`));
      assert.deepEqual(
        b.errors.map(unesc),
        m.stages.filter((s) => s.cross_domain && s.uncertainty_ns > 0).map((s) => s.name),
        label,
      );
    }
    assert.equal(bars.get('bare metal')!.x[0], bars.get('blktap2')!.x[0]);
    assert.equal(bars.get('blktap2')!.x[0], bars.get('blkback')!.x[0]);
    assert.equal(bars.get('bare metal')!.errors.length, 0);
    assert.ok(bars.get('blktap2')!.errors.length >= 2);
    // Bar lengths follow the totals (bare metal the shortest).
    const end = (l: string): number => bars.get(l)!.ends[bars.get(l)!.ends.length - 1]!;
    assert.ok(end('bare metal') < end('blkback') && end('blkback') < end('blktap2'));
    // The same stage name in two layers (host kernel on bare metal, guest kernel in a Xen guest) is coloured by its layer in each.
    const first = (l: string): string => bars.get(l)!.fills[0]!;
    assert.equal(reports.lb.stages[0]!.layer, 'host-kernel');
    assert.equal(reports.t2.stages[0]!.layer, 'guest-kernel');
    assert.notEqual(hue(first('bare metal')), hue(first('blktap2')));
    assert.equal(first('blktap2'), first('blkback'), 'the same stage of the same layer: the same colour in every bar');
    // A standalone SVG: namespace, its own style, every layer present in the legend, no script, nothing fetched.
    assert.match(svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="fig chart"[^>]* width="900"/);
    assert.match(svg, /<style>[\s\S]*svg\.fig \.seg\{/);
    const present = LAYERS.filter((l) => [reports.lb, reports.t2, reports.bb].some((m) => m.stages.some((s) => s.layer === l)));
    assert.deepEqual([...svg.matchAll(/<g class="key" data-layer="([^"]+)">/g)].map((m) => m[1] as Layer), present);
    assert.doesNotMatch(svg, /<script|\b(?:src|href)=/);
    assert.deepEqual([...new Set(svg.match(/https?:\/\/[^"'\s]+/g))], ['http://www.w3.org/2000/svg']);
  });

  it('everything from a trace is escaped: labels, run labels, profile and stage names, file names', () => {
    const m = structuredClone(reports.lb);
    m.profile = 'p<script>x</script>';
    m.stages[0]!.name = 'a<b>->"c"';
    m.excluded_runs = [{ run: '<img src=x onerror=alert(1)>', requests: 3, complete: 0, incomplete: 3, orphans: 0, reason: 'no_complete_request', why: 'no complete <request>', points_without_events: null, lost_events: null }];
    const input: ChartReport[] = [{ label: '<b>x</b>', file: 'a&<b>.json', report: m }];
    for (const text of [chartSvg(input), chartHtml(input)]) {
      for (const raw of ['<b>x</b>', '<img src=x', 'p<script>', 'a<b>', '"c"', 'a&<b>.json', '<request>']) assert.ok(!text.includes(raw), `raw ${raw}`);
      assert.ok(text.includes('&lt;b&gt;x&lt;/b&gt;'));
      assert.ok(text.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the run label, escaped, in the note on runs not averaged');
      assert.ok(text.includes('p&lt;script&gt;x&lt;/script&gt;'));
      assert.ok(text.includes('data-stage="a&lt;b&gt;-&gt;&quot;c&quot;"'));
    }
    assert.ok(chartHtml(input).includes('a&amp;&lt;b&gt;.json'));
  });

  it('the same reports give the same bytes (twice, and from files in another directory)', () => {
    const a = chartHtml(items(['lb', reports.lb], ['t2', reports.t2]));
    assert.equal(chartHtml(items(['lb', reports.lb], ['t2', reports.t2])), a);
    assert.equal(chartSvg(items(['lb', reports.lb])), chartSvg(items(['lb', reports.lb])));
    const other = join(dir, 'elsewhere', 'deeper');
    mkdirSync(other, { recursive: true });
    copyFileSync(files.lb, join(other, 'lb.json'));
    copyFileSync(files.t2, join(other, 't2.json'));
    const here = xtrace(['chart', files.lb, `Xen=${files.t2}`, '--format', 'html']);
    const there = xtrace(['chart', join(other, 'lb.json'), `Xen=${join(other, 't2.json')}`, '--format', 'html']);
    assert.equal(here.status, 0, here.stderr);
    assert.equal(there.stdout, here.stdout);
    assert.ok(!here.stdout.includes(dir), 'no directory in the output');
  });

  it('HTML: the page with the figure, a table of every bar (stage, layer, mean, share) and the method of each report', () => {
    const html = chartHtml(items(['bare metal', reports.lb], ['blktap2', reports.t2]), { title: 'Study <1>' });
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>Study &lt;1&gt;<\/title>/);
    assert.equal((html.match(/<rect class="seg"/g) ?? []).length, reports.lb.stages.length + reports.t2.stages.length);
    // One table row per stage and the total, per bar; then the method table, one row per report.
    const tables = [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((m) => (m[1]!.match(/<tr>/g) ?? []).length - 1);
    assert.deepEqual(tables, [reports.lb.stages.length + 1, reports.t2.stages.length + 1, 2]);
    assert.match(html, /<td>device \(and the block layer below the back end\)<\/td><td class="num">[\d.]+ µs<\/td>/);
    assert.match(html, /<td>bare metal<\/td><td>bare metal\.json<\/td><td>linux-block<\/td><td class="num">10<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">10%<\/td><td>total<\/td>/);
    assert.doesNotMatch(html, /\b(?:src|href)=/);
    assert.match(html, /<script>/, 'the tooltip script (inline)');
  });

  it('notes: stages that do not add up (--trim-by stage), runs not averaged', () => {
    const m = structuredClone(reports.lb);
    m.method.trim_by = 'stage';
    m.method.stages_add_up = false;
    m.excluded_runs = [{ run: '11', requests: 2, complete: 0, incomplete: 2, orphans: 0, reason: 'no_complete_request', why: 'no complete request', points_without_events: null, lost_events: null }];
    const svg = chartSvg([{ label: 'lb', file: 'lb.json', report: m }]);
    assert.match(svg, /<text class="chart-note"[^>]*>lb: its stages do not add up to the total/);
    assert.match(svg, /1 run not averaged: run 11 \(no complete request\)/);
    assert.doesNotMatch(chartSvg(items(['lb', reports.lb])), /<text class="chart-note"/);
  });

  it('a report saved before layers existed gets them from its built-in profile; an unknown profile: other', () => {
    const old = JSON.parse(readFileSync(files.t2, 'utf8')) as ReportModel;
    for (const s of old.stages) delete (s as Partial<typeof s>).layer;
    const f = join(dir, 'old.json');
    writeFileSync(f, JSON.stringify(old));
    assert.deepEqual(
      readReport(f).stages.map((s) => s.layer),
      reports.t2.stages.map((s) => s.layer),
    );
    assert.ok(new Set(reports.t2.stages.map((s) => s.layer)).size >= 4);
    writeFileSync(f, JSON.stringify({ ...old, profile: 'my-own' }));
    assert.deepEqual(new Set(readReport(f).stages.map((s) => s.layer)), new Set(['other']));
  });

  it('labels: as given, else the profile, with the file name when two bars would share one, and a position when still repeated', () => {
    assert.deepEqual(
      chartLabels([
        { file: 'a.json', profile: 'linux-block' },
        { file: 'b.json', profile: 'xen-blktap2' },
        { file: 'c.json', profile: 'xen-blktap2' },
        { label: 'mine', file: 'd.json', profile: 'xen-blktap2' },
        { label: 'twice', file: 'e.json', profile: 'x' },
        { label: 'twice', file: 'f.json', profile: 'x' },
      ]),
      ['linux-block', 'xen-blktap2 · b.json', 'xen-blktap2 · c.json', 'mine', 'twice #5', 'twice #6'],
    );
  });

  it('CLI: --out decides the format; stdout is SVG by default', () => {
    const svgFile = join(dir, 'fig.svg');
    const htmlFile = join(dir, 'fig.HTML');
    assert.equal(xtrace(['chart', `bare=${files.lb}`, files.t2, '--out', svgFile]).status, 0);
    assert.match(readFileSync(svgFile, 'utf8'), /^<\?xml[^\n]*\n<svg xmlns=/);
    assert.equal(xtrace(['chart', files.lb, '--out', htmlFile, '--title', 'T']).status, 0);
    assert.match(readFileSync(htmlFile, 'utf8'), /^<!DOCTYPE html>[\s\S]*<title>T<\/title>/);
    const out = xtrace(['chart', files.lb]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^<\?xml/);
  });

  it('CLI refusals: one line, exit 2 (not a report, no stages, another extension, formats that disagree, a missing file, an empty label)', () => {
    const notReport = join(dir, 'notes.txt');
    writeFileSync(notReport, 'hello\nworld\n');
    const noStages = join(dir, 'nostages.json');
    writeFileSync(noStages, JSON.stringify({ ...JSON.parse(readFileSync(files.lb, 'utf8')), stages: [] }));
    const compareJson = join(dir, 'compare.json');
    writeFileSync(compareJson, JSON.stringify({ version: 1, profile: 'linux-block', stages: [], verdict: 'same' }));
    const cases: [string[], RegExp][] = [
      [['chart', notReport], /notes\.txt: not an xtrace report \(expected the output of `xtrace report --format json`/],
      [['chart', join(dir, 'lb.db')], /lb\.db: not an xtrace report/],
      [['chart', compareJson], /compare\.json: not an xtrace report/],
      [['chart', files.lb, noStages], /nostages\.json: the report has no stages/],
      [['chart', files.lb, '--out', join(dir, 'fig.png')], /--out .*fig\.png: the file name must end in \.svg or \.html/],
      [['chart', files.lb, '--format', 'html', '--out', join(dir, 'fig.svg')], /--format html but --out .*fig\.svg is svg/],
      [['chart', join(dir, 'missing.json')], /missing\.json: cannot read it \(ENOENT\)/],
      [['chart', `=${files.lb}x`], /the label before = is empty/],
    ];
    for (const [args, message] of cases) {
      const r = xtrace(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });
});
