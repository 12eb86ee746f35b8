// The built site (dist/, scripts/build-web.sh) offline: index.html registers the root service
// worker, which caches precache.json's list at install (the wasm engine and the digits included,
// before any exercise asked for them); with the network blocked and the server gone, a reload
// shows the lab, the engine starts and the digits load. Also: answers come back after a reload.
// Skipped, and reported as skipped, while the site is not built.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startServer } from '../../scripts/serve.mjs';
import { launch, capture, screenshot, until } from './helpers.mjs';

const DIST = new URL('../../dist/', import.meta.url).pathname;
const SKIP = existsSync(`${DIST}precache.json`) && existsSync(`${DIST}pkg/cnn-lab_bg.wasm`) ? false : 'the site is not built: run ./scripts/build-web.sh';

let browser;
before(async () => {
  if (!SKIP) browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
});

async function serveDist() {
  const server = await startServer({ root: DIST, port: 0 });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

test('precache.json lists the engine, the scripts, the styles and the digits', { skip: SKIP }, () => {
  const list = JSON.parse(readFileSync(`${DIST}precache.json`, 'utf8'));
  for (const f of ['./', 'index.html', 'pkg/cnn-lab_bg.wasm', 'pkg/cnn-lab.js', 'www/main.js', 'www/worker.js', 'www/style.css', 'www/lab/lab.js', 'assets/mnist-10k.bin']) {
    assert.ok(list.includes(f), `${f} in precache.json`);
  }
  for (const f of list) assert.ok(f === './' || existsSync(DIST + f), `${f} exists in dist/`);
});

test('the built site works offline after the first visit and restores answers', { skip: SKIP, timeout: 180_000 }, async () => {
  const site = await serveDist();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${site.origin}/`);
  await page.locator('#backend').filter({ hasNotText: 'starting' }).waitFor({ timeout: 60_000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  await until(() => page.evaluate(() => !!navigator.serviceWorker.controller), { what: 'service worker in control', timeout: 30_000 });
  await until(
    () => page.evaluate(async () => {
      const keys = (await (await caches.open('cnn-lab-v1')).keys()).map((r) => new URL(r.url).pathname);
      return ['/', '/pkg/cnn-lab_bg.wasm', '/assets/mnist-10k.bin', '/www/lab/exercises/train-cnn.js'].every((p) => keys.includes(p));
    }),
    { what: 'precached engine and digits', timeout: 60_000 },
  );
  // an answer typed before going offline
  const form = page.locator('form[data-check="sp-32-5"]');
  await form.locator('input').fill('28');
  await form.locator('button').click();
  await page.waitForTimeout(500); // saved after a short delay

  await ctx.setOffline(true);
  await site.close();
  const log = capture(page);
  await page.reload();
  const backend = await page.locator('#backend').filter({ hasNotText: 'starting' }).textContent({ timeout: 60_000 });
  assert.match(backend, /^Compute backend: CPU \(wasm SIMD\)/, backend);
  await until(() => form.locator('input').inputValue().then((v) => v === '28'), { what: 'the restored answer' });
  // the engine runs offline: the precached digits load
  const sizes = await page.evaluate(async () => {
    const w = new Worker('./www/worker.js', { type: 'module' });
    const call = (id, type) => new Promise((resolve) => {
      w.addEventListener('message', (e) => { if (e.data.id === id) resolve(e.data); });
      w.postMessage({ id, type });
    });
    await call(1, 'init');
    const r = await call(2, 'loadData');
    w.terminate();
    return r;
  });
  assert.deepEqual({ type: sizes.type, train: sizes.train, test: sizes.test }, { type: 'ok', train: 8000, test: 2000 });
  await screenshot(page, 'site-offline');
  assert.deepEqual(log.errors, []);
  await ctx.close();
});
