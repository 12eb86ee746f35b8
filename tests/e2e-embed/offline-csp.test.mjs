// Offline after the first visit (service worker; then the network is blocked and the server is
// gone), and the Content-Security-Policy the server sends is really enforced (no eval, no inline).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveRepo, launch, capture, screenshot, until } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

test('the demo page reloads offline after the first visit', async () => {
  const site = await serveRepo();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${site.origin}/www/embed/demo.html`);
  await page.locator('#lab-conv form[data-check="convolution-mults"]').waitFor();
  await page.frameLocator('#lab-frame').locator('form[data-check="sp-32-5"]').waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready);
  await until(() => page.evaluate(() => !!navigator.serviceWorker.controller), { what: 'service worker in control' });
  // the worker caches what the page and the iframe loaded before it took control, each URL as its
  // own fetch: wait for every one of them (a few named ones were not enough: the rest could still be
  // in flight when the network went off, and the iframe then could not load offline)
  const loaded = (await Promise.all(page.frames().map((f) => f.evaluate(() =>
    [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]
      .map((u) => new URL(u))
      .filter((u) => u.origin === location.origin)
      .map((u) => u.pathname + u.search))))).flat();
  for (const p of ['/www/embed/demo.html', '/www/embed/frame.html', '/www/lab/lab.js', '/www/lab/widgets/check.js', '/www/store.js']) {
    assert.ok(loaded.some((u) => u.startsWith(p)), `${p} was loaded`);
  }
  await until(
    () => page.evaluate(async (urls) => {
      const keys = (await (await caches.open('cnn-lab-v1')).keys()).map((r) => new URL(r.url)).map((u) => u.pathname + u.search);
      return urls.every((u) => keys.includes(u));
    }, loaded),
    { what: 'every URL the page and the iframe loaded, cached', timeout: 30_000 },
  );

  await ctx.setOffline(true);
  await site.close();
  const log = capture(page);
  await page.reload();
  await page.locator('#lab-conv form[data-check="convolution-mults"]').waitFor({ timeout: 10000 });
  await page.locator('#lab-sharing form[data-check="ps-27"]').waitFor();
  await page.frameLocator('#lab-frame').locator('form[data-check="sp-32-5"]').waitFor();
  // and it still works offline
  const frame = page.frameLocator('#lab-frame');
  await frame.locator('form[data-check="sp-32-5"] input').fill('28');
  await frame.locator('form[data-check="sp-32-5"] button').click();
  await until(async () => (await page.locator('#events li').count()) >= 2, { what: 'events offline' });
  await screenshot(page, 'offline');
  assert.deepEqual(log.errors, []);
  await ctx.close();
});

test('the server CSP blocks eval and inline scripts on the page', async () => {
  const site = await serveRepo();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const res = await page.goto(`${site.origin}/www/embed/demo.html`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
  assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
  await page.locator('#lab-conv form').first().waitFor();

  const violations = [];
  await page.exposeFunction('reportViolation', (d) => violations.push(d));
  await page.evaluate(() => document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.effectiveDirective)));
  // the page's own script tries eval, new Function and a string setTimeout
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.src = '/tests/e2e-embed/csp-probe.js';
    document.body.append(s);
  });
  await until(() => page.evaluate(() => document.documentElement.dataset.evalProbe), { what: 'the probe' });
  await page.waitForTimeout(200);
  const probe = await page.evaluate(() => ({ ...document.documentElement.dataset }));
  assert.match(probe.evalProbe, /^EvalError: .*Content Security Policy/);
  assert.match(probe.functionProbe, /^EvalError: .*Content Security Policy/);
  assert.equal(probe.timeoutProbe, 'not run');
  assert.ok(violations.filter((d) => d === 'script-src').length >= 2, violations.join());

  const inline = await page.evaluate(
    () => new Promise((resolve) => {
      window.inlineRan = false;
      document.addEventListener('securitypolicyviolation', (e) => resolve({ directive: e.effectiveDirective, ran: window.inlineRan }), { once: true });
      const s = document.createElement('script');
      s.textContent = 'window.inlineRan = true;';
      document.body.append(s);
    }),
  );
  assert.deepEqual(inline, { directive: 'script-src-elem', ran: false });
  await ctx.close();
  await site.close();
});
