/**
 * The browser harness can fail: small HTML fixtures, one clean and one per fault (console.error,
 * an uncaught exception, an image and a fetch from the web, a WebSocket, a sibling file), each of
 * which it must report; hover text, screenshots, and the skip-or-fail rule without a browser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { browserOrSkip, closeBrowser, findChromium, openHtml, pngSize, type OpenedHtml } from './harness.js';

const FIXTURES: Record<string, string> = {
  'clean.html': `<!doctype html><html><head><meta charset="utf-8"><title>clean</title>
<style>[role=tooltip] { display: none } #styled:hover + [role=tooltip] { display: block }</style></head>
<body>
<svg id="chart" width="300" height="40"><title>the chart</title>
  <g class="bar"><rect id="seg-a" x="0" y="0" width="100" height="20" fill="#48c"><title>guest: 1.2 ms</title></rect>
  <rect id="seg-b" x="100" y="0" width="100" height="20" fill="#c84"></rect></g></svg>
<p><span id="styled">hover me</span><span role="tooltip">dom0 &lt;b&gt;: 3 µs</span></p>
<p id="plain" title="a &lt;title&gt; attribute">plain</p>
<img id="data-img" alt="" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E">
<img id="blob-img" alt="">
<script>document.getElementById('blob-img').src = URL.createObjectURL(new Blob(['<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'], { type: 'image/svg+xml' }));</script>
</body></html>`,
  'console-error.html': `<!doctype html><title>e</title><script>console.error('segment missing for bar 3')</script>`,
  'throws.html': `<!doctype html><title>t</title><script>null.bars.length</script>`,
  'image.html': `<!doctype html><title>i</title><img alt="" src="https://example.com/x.png">`,
  'fetch.html': `<!doctype html><title>f</title><script>
fetch('http://example.com/data.json').then(() => { document.body.dataset.fetch = 'loaded' }, () => { document.body.dataset.fetch = 'blocked' });
</script>`,
  'websocket.html': `<!doctype html><title>w</title><script>
const ws = new WebSocket('ws://example.com/live'); ws.onclose = () => { document.body.dataset.ws = 'closed' };
</script>`,
  'sibling.html': `<!doctype html><title>s</title><link rel="stylesheet" href="style.css"><p>styled</p>`,
  'style.css': `p { color: red }`,
  'tall.html': `<!doctype html><title>tall</title><body style="margin:0"><div style="height:2000px;background:linear-gradient(#fff,#000)"></div></body>`,
};

describe('browser harness', () => {
  const t = tempDir();
  const file = (name: string): string => join(t.dir, name);
  before(() => {
    for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(file(name), text);
  });
  after(async () => {
    await closeBrowser();
    t.cleanup();
  });

  /** Opens a fixture, hands it to `check`, closes it. */
  async function withPage(name: string, check: (p: OpenedHtml) => Promise<void> | void, opts?: { width?: number; height?: number }): Promise<void> {
    const p = await openHtml(file(name), opts);
    try {
      await check(p);
    } finally {
      await p.close();
    }
  }

  it('a clean page: no console error, no request (data: and blob: images are not requests)', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('clean.html', async (p) => {
      assert.deepEqual(p.consoleErrors, []);
      assert.deepEqual(p.networkRequests, []);
      assert.equal(await p.page.locator('#chart rect').count(), 2);
      // both in-memory images did load
      assert.deepEqual(await p.page.$$eval('img', (imgs) => imgs.map((i) => (i as HTMLImageElement).naturalWidth)), [4, 4]);
    });
  });

  it('hover text: a visible role=tooltip element, else the SVG <title> or title attribute of the element or its ancestors', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('clean.html', async (p) => {
      assert.equal(await p.hoverText('#styled'), 'dom0 <b>: 3 µs');
      assert.equal(await p.hoverText('#seg-a'), 'guest: 1.2 ms');
      assert.equal(await p.hoverText('#seg-b'), 'the chart', 'a segment without a title of its own shows its svg ancestor\'s');
      assert.equal(await p.hoverText('#plain'), 'a <title> attribute');
      assert.equal(await p.hoverText('img#data-img'), null);
    });
  });

  it('reports console.error', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('console-error.html', (p) => {
      assert.equal(p.consoleErrors.length, 1, p.consoleErrors.join('\n'));
      assert.match(p.consoleErrors[0]!, /^console\.error: segment missing for bar 3 /);
      assert.deepEqual(p.networkRequests, []);
    });
  });

  it('reports an uncaught exception', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('throws.html', (p) => {
      assert.equal(p.consoleErrors.length, 1, p.consoleErrors.join('\n'));
      assert.match(p.consoleErrors[0]!, /^uncaught TypeError: .*bars/);
    });
  });

  it('reports and blocks an image from the web', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('image.html', (p) => {
      assert.deepEqual(p.networkRequests, ['https://example.com/x.png']);
      assert.ok(p.consoleErrors.some((e) => e.startsWith('failed to load https://example.com/x.png: net::ERR_BLOCKED_BY_CLIENT')), p.consoleErrors.join('\n'));
    });
  });

  it('reports and blocks a fetch', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('fetch.html', async (p) => {
      await p.page.waitForFunction(() => document.body.dataset['fetch'] !== undefined);
      assert.equal(await p.page.evaluate(() => document.body.dataset['fetch']), 'blocked');
      assert.deepEqual(p.networkRequests, ['http://example.com/data.json']);
      assert.ok(p.consoleErrors.length > 0);
    });
  });

  it('reports and closes a WebSocket', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('websocket.html', async (p) => {
      await p.page.waitForFunction(() => document.body.dataset['ws'] === 'closed');
      assert.deepEqual(p.networkRequests, ['ws://example.com/live']);
    });
  });

  it('a sibling file is a request too: a self-contained page loads nothing but itself', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage('sibling.html', (p) => {
      assert.deepEqual(p.networkRequests, [`file://${file('style.css')}`]);
    });
  });

  it('screenshots: the viewport, or the whole page', async (tc) => {
    if (!browserOrSkip(tc)) return;
    await withPage(
      'tall.html',
      async (p) => {
        assert.deepEqual(pngSize(await p.screenshot(file('view.png'))), { width: 640, height: 480 });
        assert.deepEqual(pngSize(await p.screenshot(file('full.png'), { fullPage: true })), { width: 640, height: 2000 });
      },
      { width: 640, height: 480 },
    );
  });
});

describe('without a browser', () => {
  /** Runs `fn` with environment variables set (undefined: removed), restoring them after. */
  function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (v: Record<string, string | undefined>): void => {
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) delete process.env[k];
        else process.env[k] = x;
      }
    };
    apply(vars);
    try {
      return fn();
    } finally {
      apply(saved);
    }
  }

  it('XTRACE_CHROMIUM names the browser; naming nothing executable means none, not another one', () => {
    withEnv({ XTRACE_CHROMIUM: '/nonexistent/chromium' }, () => assert.equal(findChromium(), null));
    withEnv({ XTRACE_CHROMIUM: process.execPath }, () => assert.equal(findChromium(), process.execPath));
    withEnv({ XTRACE_CHROMIUM: undefined, PATH: '/nonexistent' }, () => assert.equal(findChromium(), null));
  });

  it('skips with what to install, except on CI (CI=true) where the test fails', () => {
    const skipped: (string | undefined)[] = [];
    const t = { skip: (why?: string) => void skipped.push(why) };
    withEnv({ XTRACE_CHROMIUM: '/nonexistent/chromium', CI: undefined }, () => assert.equal(browserOrSkip(t), false));
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!, /XTRACE_CHROMIUM=\/nonexistent\/chromium is not an executable.*apt-get install chromium/);
    withEnv({ XTRACE_CHROMIUM: '/nonexistent/chromium', CI: 'true' }, () => assert.throws(() => browserOrSkip(t), /CI=true: browser tests must run, not skip/));
    assert.equal(skipped.length, 1);
    withEnv({ XTRACE_CHROMIUM: process.execPath, CI: 'true' }, () => assert.equal(browserOrSkip(t), true));
  });
});
