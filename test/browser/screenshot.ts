/**
 * Takes a PNG screenshot of an HTML file in headless Chromium, for the README's pictures and for
 * looking at an output as a person would:
 *
 *   node --import tsx test/browser/screenshot.ts IN.html OUT.png [--width 1200] [--height 800] [--full-page] [--hover SELECTOR]
 *
 * --hover hovers an element first, so its tooltip (a `role="tooltip"` element) is in the picture;
 * a native tooltip (SVG `<title>`, `title` attribute) is printed but never drawn in a screenshot.
 * --full-page takes the whole page (at least the viewport: with a small --height the picture is
 * as tall as the page). Prints the picture's size;
 * console errors and requests the page made are printed on stderr and make the exit status 1
 * (the PNG is written all the same).
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePositive } from '../../src/cli/options.js';
import { formatBytes } from '../../src/report/format.js';
import { closeBrowser, DEFAULT_VIEWPORT, openHtml, pngSize, TOOLTIP_SELECTOR } from './harness.js';

const USAGE = 'usage: node --import tsx test/browser/screenshot.ts IN.html OUT.png [--width N] [--height N] [--full-page] [--hover SELECTOR]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      width: { type: 'string', default: String(DEFAULT_VIEWPORT.width) },
      height: { type: 'string', default: String(DEFAULT_VIEWPORT.height) },
      'full-page': { type: 'boolean', default: false },
      hover: { type: 'string' },
    },
  });
  const [input, output] = positionals;
  if (!input || !output || positionals.length !== 2) throw new Error(USAGE);
  const page = await openHtml(input, { width: parsePositive(values.width), height: parsePositive(values.height) });
  try {
    const hoverText = values.hover === undefined ? undefined : await page.hoverText(values.hover);
    const drawn = hoverText !== undefined && (await page.page.locator(TOOLTIP_SELECTOR).count()) > 0;
    const { width, height } = pngSize(await page.screenshot(output, { fullPage: values['full-page'] }));
    console.log(`${output}: ${width}×${height} px, ${formatBytes(statSync(output).size)}${hoverText === undefined ? '' : `; hover text${drawn ? '' : ' (native tooltip, not in the picture)'}: ${JSON.stringify(hoverText)}`}`);
    for (const e of page.consoleErrors) console.error(`${input}: ${e}`);
    for (const url of page.networkRequests) console.error(`${input}: requested (blocked) ${url}`);
    return page.consoleErrors.length + page.networkRequests.length > 0 ? 1 : 0;
  } finally {
    await page.close();
  }
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
} finally {
  await closeBrowser();
}
