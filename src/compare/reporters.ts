/**
 * Comparison reporters, plain objects in one registry: table (terminal), markdown (for
 * $GITHUB_STEP_SUMMARY), json (the versioned contract), junit (one testcase per stage), html (the
 * file a CI job uploads beside the Markdown: the same table and reasons, with pictures, html.ts).
 */
import type { ChalkInstance } from 'chalk';
import { formatNs, formatP, formatSignedNs, pct, pctPrecise, signedPct, toJson } from '../report/format.js';
import { esc, page } from '../report/svg.js';
import type { Comparison, StageComparison, Verdict } from './compare.js';
import { compareBars, compareIntervals } from './html.js';

export interface CompareReporter {
  readonly name: string;
  readonly description: string;
  render(c: Comparison, color: ChalkInstance): string;
}

const MARK: Record<Verdict, string> = { regressed: '❌ regressed', improved: '✅ improved', inconclusive: '⚠️ inconclusive', same: 'same' };

function rows(c: Comparison): StageComparison[] {
  return [{ ...c.total, name: 'total' }, ...c.stages];
}
function headline(c: Comparison): string {
  const n = c.counts;
  return `${c.verdict.toUpperCase()}: ${n.regressed} regressed, ${n.improved} improved, ${n.inconclusive} inconclusive, ${n.same} same (threshold ${pct(c.options.threshold)} and ${c.options.floor_ns} ns, alpha ${c.options.alpha} family-wise (Holm), same: the ${pctPrecise(c.options.equivalence_level)} interval within that size; baseline ${c.baseline.runs} runs, candidate ${c.candidate.runs} runs)`;
}
/** Runs a side's report could not average (not compared). */
function excludedLines(c: Comparison): string[] {
  return (['baseline', 'candidate'] as const).flatMap((side) => c[side].excluded_runs.map((e) => `${side}: run ${e.run} not averaged (not compared): ${e.why}`));
}
/** The stages of one side only (merged stages: batched requests on that side), not compared. */
function oneSidedLines(c: Comparison, name: (n: string) => string): string[] {
  // (A saved comparison from before one_sided_stages existed has none.)
  return (c.one_sided_stages ?? []).map((s) => `${name(s.name)}: ${formatNs(s.mean_ns)} ${s.why}`);
}
/** Why each stage that is not `same` got its verdict, the stage's name written by `name`. */
function reasons(c: Comparison, name: (n: string) => string): string[] {
  return rows(c)
    .filter((r) => r.verdict !== 'same')
    .map((r) => `${name(r.name)}: ${r.verdict}: ${r.why}`);
}

/** The headings of the table's number columns (markdown and html), after the stage's name. */
function numberHeads(c: Comparison): string[] {
  return ['baseline', 'candidate', 'delta', 'Δ%', 'p (runs)', 'p (Holm)', 'p (requests)', '95% CI of delta', `${pctPrecise(c.options.equivalence_level)} interval (± size that matters)`];
}
/** A row's number columns (markdown and html), as numberHeads names them. */
function numberCells(r: StageComparison): string[] {
  const interval = (v: [number, number] | null): string => (v ? `${formatSignedNs(v[0])} … ${formatSignedNs(v[1])}` : '–');
  const ci = r.ci_ns ? `${interval(r.ci_ns)} (${r.ci_unit})` : '–';
  const eq = r.equivalence_ci_ns ? `${interval(r.equivalence_ci_ns)} (±${formatNs(r.margin_ns)}, ${r.equivalence_unit})` : '–';
  return [formatNs(r.baseline_ns), formatNs(r.candidate_ns), formatSignedNs(r.delta_ns), signedPct(r.delta_pct), formatP(r.p_value), formatP(r.p_adjusted), formatP(r.p_value_requests), ci, eq];
}

const table: CompareReporter = {
  name: 'table',
  description: 'aligned text (colour on a terminal)',
  render(c, k) {
    const w = Math.max(5, ...rows(c).map((r) => [...r.name].length)) + 2;
    const paint = (v: Verdict, s: string): string => (v === 'regressed' ? k.red(s) : v === 'improved' ? k.green(s) : v === 'inconclusive' ? k.yellow(s) : s);
    const out = [k.bold(`xtrace compare · profile ${c.profile}`), paint(c.verdict, headline(c)), ''];
    out.push(k.dim(`${'stage'.padEnd(w)}${'baseline'.padStart(14)}${'candidate'.padStart(14)}${'delta'.padStart(14)}${'Δ%'.padStart(9)}${'p (runs)'.padStart(10)}${'p (Holm)'.padStart(10)}${'p (req.)'.padStart(10)}  verdict`));
    for (const r of rows(c)) {
      out.push(
        `${r.name.padEnd(w)}${formatNs(r.baseline_ns).padStart(14)}${formatNs(r.candidate_ns).padStart(14)}${formatSignedNs(r.delta_ns).padStart(14)}${signedPct(r.delta_pct).padStart(9)}${formatP(r.p_value).padStart(10)}${formatP(r.p_adjusted).padStart(10)}${formatP(r.p_value_requests).padStart(10)}  ${paint(r.verdict, r.verdict)}`,
      );
    }
    const why = reasons(c, (n) => n);
    if (why.length) out.push('', ...why);
    const one = oneSidedLines(c, (n) => n);
    if (one.length) out.push('', ...one.map((l) => k.dim(l)));
    const excluded = excludedLines(c);
    if (excluded.length) out.push('', ...excluded.map((l) => k.yellow(l)));
    return out.join('\n') + '\n';
  },
};

const markdown: CompareReporter = {
  name: 'markdown',
  description: 'a table for $GITHUB_STEP_SUMMARY or a PR comment',
  render(c) {
    const out = [`### xtrace compare: \`${c.profile}\` — ${MARK[c.verdict]}`, '', headline(c) + '.', ''];
    out.push(`| stage | ${numberHeads(c).join(' | ')} | verdict |`, '|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|');
    for (const r of rows(c)) {
      const name = r.name === 'total' ? '**total**' : `\`${r.name}\``;
      out.push(`| ${name} | ${numberCells(r).join(' | ')} | ${MARK[r.verdict]} |`);
    }
    const why = reasons(c, (n) => `\`${n}\``);
    if (why.length) out.push('', ...why.map((w) => `- ${w}`));
    const one = oneSidedLines(c, (n) => `\`${n}\``);
    if (one.length) out.push('', ...one.map((w) => `- ${w}`));
    out.push('', `Baseline: \`${c.baseline.source}\` (${c.baseline.kind}). Candidate: \`${c.candidate.source}\` (${c.candidate.kind}).`);
    for (const l of excludedLines(c)) out.push('', `⚠️ ${l}`);
    return out.join('\n') + '\n';
  },
};

const json: CompareReporter = {
  name: 'json',
  description: 'the versioned JSON contract (README "Use in CI")',
  render(c) {
    return toJson(c) + '\n';
  },
};

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const junit: CompareReporter = {
  name: 'junit',
  description: 'JUnit XML: one testcase per stage, <failure> when regressed, <skipped> when inconclusive (improved and same pass)',
  render(c) {
    const all = rows(c);
    const failures = all.filter((r) => r.verdict === 'regressed').length;
    const skipped = all.filter((r) => r.verdict === 'inconclusive').length;
    const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="xtrace compare" tests="${all.length}" failures="${failures}" skipped="${skipped}">`];
    out.push(`  <testsuite name="${xml(`xtrace compare ${c.profile}`)}" tests="${all.length}" failures="${failures}" skipped="${skipped}" errors="0">`);
    for (const r of all) {
      const msg = `${formatNs(r.baseline_ns)} → ${formatNs(r.candidate_ns)} (${formatSignedNs(r.delta_ns)}, ${signedPct(r.delta_pct)}); ${r.why}`;
      out.push(`    <testcase classname="${xml(`xtrace.${c.profile}`)}" name="${xml(r.name)}">`);
      if (r.verdict === 'regressed') out.push(`      <failure message="${xml(`regressed: ${msg}`)}"/>`);
      else if (r.verdict === 'inconclusive') out.push(`      <skipped message="${xml(`inconclusive: ${msg}`)}"/>`);
      else out.push(`      <system-out>${xml(`${r.verdict}: ${msg}`)}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>', '</testsuites>');
    return out.join('\n') + '\n';
  },
};

/** A verdict as a coloured badge (the page's `verdict-…` classes). */
function badge(v: Verdict, text: string = v): string {
  return `<span class="verdict verdict-${v}">${esc(text)}</span>`;
}

const html: CompareReporter = {
  name: 'html',
  description: 'a self-contained page (no network): the verdict coloured, baseline and candidate as stacked bars, per stage the interval of the change against the size that matters, the table and the reasons',
  render(c) {
    // Numbers do not break between value and unit.
    const cell = (t: string, num = false): string => (num ? `<td class="num">${esc(t).replace(/ /g, '&nbsp;')}</td>` : `<td>${esc(t)}</td>`);
    const list = (items: string[], cls = ''): string => (items.length ? `<ul${cls ? ` class="${cls}"` : ''}>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>` : '');
    const source = (side: 'baseline' | 'candidate'): string => `${side}: ${c[side].source} (${c[side].kind}, ${c[side].runs} runs)`;
    const body = [
      `<h1>xtrace compare · profile <code>${esc(c.profile)}</code> ${badge(c.verdict, c.verdict.toUpperCase())}</h1>`,
      `<p class="headline">${esc(headline(c))}</p>`,
      ...excludedLines(c).map((l) => `<p class="warn">${esc(l)}</p>`),
      '<h2>Baseline and candidate</h2>',
      compareBars(c),
      '<h2>Change per stage</h2>',
      compareIntervals(c),
      '<h2>Table</h2>',
      '<table class="compare">',
      `<tr><th>stage</th>${numberHeads(c)
        .map((h, k) => `<th${k < 7 ? ' class="num"' : ''}>${esc(h)}</th>`)
        .join('')}<th>verdict</th></tr>`,
      ...rows(c).map(
        (r) =>
          `<tr class="verdict-row-${r.verdict}" data-stage="${esc(r.name)}"><td>${r.name === 'total' ? '<strong>total</strong>' : `<code>${esc(r.name)}</code>`}</td>${numberCells(r)
            .map((t, k) => cell(t, k < 7))
            .join('')}<td>${badge(r.verdict)}</td></tr>`,
      ),
      '</table>',
      ...(reasons(c, (n) => n).length ? ['<h2>Why</h2>', list(reasons(c, (n) => n))] : []),
      ...(oneSidedLines(c, (n) => n).length ? ['<h2>Stages of one side only</h2>', list(oneSidedLines(c, (n) => n), 'note')] : []),
      '<h2>Sources</h2>',
      list([source('baseline'), source('candidate')]),
      `<footer>${esc(`xtrace compare: threshold ${pct(c.options.threshold)}, floor ${c.options.floor_ns} ns, alpha ${c.options.alpha} (Holm), --warmup ${c.options.warmup} --trim ${c.options.trim} --trim-by ${c.options.trim_by}`)}</footer>`,
    ];
    return page(`xtrace compare: ${c.profile}: ${c.verdict}`, body.join('\n'));
  },
};

export const COMPARE_REPORTERS = { table, markdown, json, junit, html } as const satisfies Record<string, CompareReporter>;
export type CompareFormat = keyof typeof COMPARE_REPORTERS;
