// A GPU lost in the middle of training, in the browser (SwiftShader's WebGPU): the test hook
// `loseGpuForTest` calls device.destroy() on the model's GPU after its first progress event; the run
// must finish on the CPU (every step done, finite held-out metrics), the worker must say so once
// (deviceLost, "The GPU was lost (...); training continues on the CPU from step N"), the page's
// backend badge must show that sentence, and models created afterwards run on the CPU. A dense
// autoencoder keeps it short (SwiftShader needs ~10 s per CNN step). Skipped while the engine is not
// built (dist/pkg/, scripts/build-web.sh).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { builtEngine, instrument, openPage, screenshotPath, serve } from './helpers.mjs';

const ENGINE = builtEngine();
const SKIP = ENGINE ? false : 'the engine is not built: run ./scripts/build-web.sh';
const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan', '--use-webgpu-adapter=swiftshader'];

let server;
let base;
before(async () => {
  if (SKIP) return;
  ({ server, base } = await serve({ extra: ENGINE }));
});
after(() => server?.close());

test('a GPU lost mid-run: the run finishes on the CPU and the page says so', { skip: SKIP, timeout: 5 * 60 * 1000 }, async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: [...FLAGS, ...WEBGPU] });
  try {
    const { page, problems } = await openPage(browser, base, '/www/lab/dev.html?exercise=train-cnn', { init: instrument });
    page.setDefaultTimeout(90 * 1000);
    await page.waitForFunction(() => !document.querySelector('.backend-badge').textContent.includes('starting'));
    assert.match(await page.locator('.backend-badge').innerText(), /WebGPU/, 'SwiftShader flags should give a WebGPU adapter');

    const r = await page.evaluate(async () => {
      const call = window.__call;
      const w = window.__workers[0];
      const slot = 'gpu-loss';
      await call('loadData', {});
      const created = await call('createModel', { slot, spec: { kind: 'ae', latent: 8 }, seed: 4 });
      const events = [];
      let lose = null;
      const on = (e) => {
        if (e.data?.type === 'backend') events.push({ type: 'backend', backend: e.data.backend });
        if (e.data?.slot !== slot) return;
        if (e.data.type === 'progress') {
          events.push({ type: 'progress', step: e.data.step, loss: e.data.losses.loss });
          lose ??= call('loseGpuForTest', { slot });
        }
        if (e.data.type === 'deviceLost') events.push({ ...e.data });
      };
      w.addEventListener('message', on);
      // 40 steps of batch 12: the loss lands long before the end
      const done = await call('train', { slot, epochs: 1, batch: 12, lr: 0.002, optimizer: 'adam', trainSize: 480, testSize: 48 })
        .finally(() => w.removeEventListener('message', on));
      await lose;
      const again = await call('createModel', { slot: 'after', spec: { kind: 'ae', latent: 8 }, seed: 4 });
      return { created: created.backend, again: again.backend, done, events };
    });
    console.log('GPU loss in the browser:', JSON.stringify(r.events.filter((e) => e.type !== 'progress')), 'steps seen:', r.events.filter((e) => e.type === 'progress').map((e) => e.step).join(','));
    assert.equal(r.created, 'webgpu');
    const lost = r.events.filter((e) => e.type === 'deviceLost');
    assert.equal(lost.length, 1, 'one deviceLost event');
    assert.match(lost[0].message, /^The GPU was lost \(.+\); training continues on the CPU from step \d+$/);
    assert.equal(lost[0].message.endsWith(`step ${lost[0].step}`), true);
    const steps = r.events.filter((e) => e.type === 'progress');
    assert.equal(steps.at(-1).step, 40, 'every step of the run was done');
    assert.ok(steps.every((e) => Number.isFinite(e.loss) && e.loss > 0), 'finite losses');
    assert.equal(r.done.stopped, false);
    assert.equal(r.done.epochs, 1);
    assert.ok(Number.isFinite(r.done.metrics.loss), `held-out loss ${r.done.metrics.loss}`);
    assert.equal(r.again, 'cpu', 'models created after the loss run on the CPU');
    const badge = await page.locator('.backend-badge').innerText();
    assert.match(badge, /CPU.*The GPU was lost/s, badge);
    await page.screenshot({ path: screenshotPath('gpu-loss.png') });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
