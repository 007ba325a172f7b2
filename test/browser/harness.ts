/**
 * Headless-browser test harness: opens a self-contained HTML output (a file on disk) in the
 * system's Chromium through playwright-core (which downloads no browser of its own) and reports
 * what a person would notice — console errors, uncaught exceptions, failed loads, any request to
 * anything but the file itself (blocked, so no test ever touches the network) — and lets a test
 * query the DOM, read hover text and take screenshots.
 *
 * Usage in a test file (one browser per test file: launched at the first `openHtml`, closed in `after`):
 *
 *   after(closeBrowser);
 *   it('…', async (t) => {
 *     if (!browserOrSkip(t)) return;
 *     const page = await openHtml(file);
 *     try { assert.deepEqual(page.consoleErrors, []); … } finally { await page.close(); }
 *   });
 *
 * Without a browser the test is skipped with a reason saying what to install, except on CI
 * (CI=true, as .ci/run sets it, the same rule as test/helpers.ts `hasShell`), where it fails.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Browser commands looked up on PATH, in order, when XTRACE_CHROMIUM is not set. */
const CHROMIUM_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'] as const;

/** Generous for a 2-core machine running other test files at the same time. */
const LAUNCH_TIMEOUT_MS = 120_000;
const ACTION_TIMEOUT_MS = 60_000;
/** A hover waits for its element to be visible: on a static page that is at once, or never. */
const HOVER_TIMEOUT_MS = 15_000;

export const DEFAULT_VIEWPORT = { width: 1200, height: 800 } as const;

/** What the harness takes for a drawn tooltip (native `title` tooltips are never in a screenshot). */
export const TOOLTIP_SELECTOR = '[role="tooltip"]:visible';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium (or Chrome) executable to drive: XTRACE_CHROMIUM when set (a path, or a command on
 * PATH; when it names nothing executable the answer is null, never another browser), otherwise
 * the first of chromium, chromium-browser, google-chrome-stable, google-chrome found on PATH.
 */
export function findChromium(): string | null {
  const onPath = (command: string): string | null => {
    if (command.includes('/')) return isExecutableFile(command) ? resolve(command) : null;
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      if (dir && isExecutableFile(join(dir, command))) return join(dir, command);
    }
    return null;
  };
  const chosen = process.env['XTRACE_CHROMIUM'];
  if (chosen) return onPath(chosen);
  for (const command of CHROMIUM_COMMANDS) {
    const found = onPath(command);
    if (found) return found;
  }
  return null;
}

/** Why there is no browser, and what to do about it. */
function noBrowserReason(): string {
  const chosen = process.env['XTRACE_CHROMIUM'];
  const what = chosen ? `XTRACE_CHROMIUM=${chosen} is not an executable` : `no ${CHROMIUM_COMMANDS.join(' / ')} on PATH`;
  return `no headless browser (${what}): apt-get install chromium, or set XTRACE_CHROMIUM to a Chromium or Chrome executable`;
}

/**
 * Whether a browser test can run: true when a browser is there; otherwise the test is skipped with
 * the reason (and false is returned: the caller returns), except on CI (CI=true), where a missing
 * browser throws, failing the test: .ci/run installs chromium, so CI never skips these tests.
 */
export function browserOrSkip(t: Pick<TestContext, 'skip'>): boolean {
  if (findChromium() !== null) return true;
  if (process.env['CI'] === 'true') throw new Error(`${noBrowserReason()} (CI=true: browser tests must run, not skip; .ci/run installs chromium)`);
  t.skip(noBrowserReason());
  return false;
}

let launched: Promise<Browser> | undefined;

function browser(): Promise<Browser> {
  if (!launched) {
    const executablePath = findChromium();
    if (executablePath === null) throw new Error(noBrowserReason());
    launched = chromium.launch({
      executablePath,
      headless: true,
      // Chromium's sandbox cannot start as root: --no-sandbox then (what playwright-core passes without it).
      chromiumSandbox: process.getuid?.() !== 0,
      timeout: LAUNCH_TIMEOUT_MS,
      // Belt and braces beside the request blocking: no host name resolves, so nothing can leave the machine.
      args: ['--host-resolver-rules=MAP * ~NOTFOUND'],
    });
  }
  return launched;
}

/** Closes the test file's browser (pass it to node:test's `after`); a later `openHtml` launches a new one. */
export async function closeBrowser(): Promise<void> {
  const current = launched;
  launched = undefined;
  if (current) await (await current).close();
}

export interface OpenHtmlOptions {
  /** Viewport size in CSS pixels (default 1200 × 800); screenshots are taken at 1 device pixel per CSS pixel. */
  width?: number;
  height?: number;
}

export interface OpenedHtml {
  /** The playwright page, to query the DOM (`page.locator`, `page.evaluate`). */
  page: Page;
  /** console.error / console.assert messages, uncaught exceptions and failed loads, as they happen. */
  consoleErrors: string[];
  /** Every request for anything but the file itself and data:, about:, blob: URLs (all blocked), WebSockets included. */
  networkRequests: string[];
  /**
   * Hovers the first element matching `selector` and returns the hover text a person sees: the
   * text of the visible `role="tooltip"` elements when there are any, otherwise the native
   * tooltip — the SVG `<title>` child or the `title` attribute of the element or its nearest
   * ancestor that has one. null when there is none.
   */
  hoverText(selector: string): Promise<string | null>;
  /** Writes a PNG of the viewport (or of the whole page) and returns its bytes. */
  screenshot(path: string, opts?: { fullPage?: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}

/** URLs a self-contained page may load: itself and in-memory ones. */
function isOwnUrl(url: string, fileUrl: string): boolean {
  return url === fileUrl || /^(data|about|blob):/.test(url);
}

/**
 * Opens an HTML file in a fresh browser context (nothing shared with other pages) and waits until
 * it has loaded and the network is idle, so errors and requests made while loading are all there.
 */
export async function openHtml(file: string, opts: OpenHtmlOptions = {}): Promise<OpenedHtml> {
  const fileUrl = pathToFileURL(resolve(file)).href;
  const context: BrowserContext = await (await browser()).newContext({
    viewport: { width: opts.width ?? DEFAULT_VIEWPORT.width, height: opts.height ?? DEFAULT_VIEWPORT.height },
    deviceScaleFactor: 1,
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const consoleErrors: string[] = [];
  const networkRequests: string[] = [];
  context.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'assert') consoleErrors.push(`console.${m.type()}: ${m.text()}${m.location().url ? ` (${m.location().url}:${m.location().lineNumber})` : ''}`);
  });
  context.on('weberror', (e) => consoleErrors.push(`uncaught ${e.error().name}: ${e.error().message}`));
  context.on('requestfailed', (r) => consoleErrors.push(`failed to load ${r.url()}: ${r.failure()?.errorText ?? 'unknown error'}`));
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isOwnUrl(url, fileUrl)) return route.continue();
    networkRequests.push(url);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/./, (ws) => {
    networkRequests.push(ws.url());
    return ws.close({ code: 1008, reason: 'blocked by the test harness' });
  });
  const page = await context.newPage();
  try {
    await page.goto(fileUrl, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle');
  } catch (e) {
    await context.close();
    throw e;
  }

  return {
    page,
    consoleErrors,
    networkRequests,
    async hoverText(selector) {
      const element = page.locator(selector).first();
      await element.hover({ timeout: HOVER_TIMEOUT_MS });
      const tooltips = await page.locator(TOOLTIP_SELECTOR).allInnerTexts();
      if (tooltips.some((t) => t.trim() !== '')) return tooltips.map((t) => t.trim()).filter(Boolean).join('\n');
      return element.evaluate((hovered) => {
        for (let node: Element | null = hovered; node; node = node.parentElement) {
          const svgTitle = Array.from(node.children).find((c) => c instanceof SVGTitleElement);
          if (svgTitle) return svgTitle.textContent;
          const attribute = node.getAttribute('title');
          if (attribute !== null && !(node instanceof SVGElement)) return attribute;
        }
        return null;
      });
    },
    screenshot: (path, o = {}) => page.screenshot({ path, fullPage: o.fullPage ?? false, type: 'png' }),
    close: () => context.close(),
  };
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
