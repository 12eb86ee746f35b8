// The autoencoder exercises (9-13) against a protocol test double (ae-double-worker.js: synthetic
// images, rule-based "models", no learning). The tests check the page's side: the exact commands it
// sends, and that what it shows (errors, PSNR, AUC, precision/recall) equals what node recomputes
// with ae-math.js from the double's own rules. Real training quality is checked by ae-real.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { answer, cleanExit, doubleEngineSuite, drawStrokes, screenshotPath, sent } from './helpers.mjs';
import { testImage, reconstructOne, lossesAt } from './ae-double-worker.js';
import { addNoise, atThreshold, interpolate, mean, perImageMse, psnrPerImage, quantile, roc, slerp } from '../../www/lab/ae-math.js';

const { exercise } = doubleEngineSuite('ae-double-worker.js');
const strip = ({ id, ...rest }) => rest;

function images(start, count) {
  const out = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) out.set(testImage(start + i), i * 784);
  return out;
}

function reconstructAll(model, imgs) {
  const out = new Float32Array(imgs.length);
  for (let i = 0; i < imgs.length / 784; i++) out.set(reconstructOne(model, imgs.subarray(i * 784, (i + 1) * 784)), i * 784);
  return out;
}

const ONE = [[[0.5, 0.15], [0.5, 0.85]]];
const SEVEN = [[[0.26, 0.18], [0.74, 0.18], [0.44, 0.86]]];

test('exercise 9 (undercomplete): latent size by keyboard, training, reconstructions, drawing, comparison', async () => {
  const r = await exercise('ae-undercomplete');
  const { page } = r;
  const sec = page.locator('#ex-ae-undercomplete');
  const slider = sec.getByLabel('latent size k');
  await slider.focus();
  await page.keyboard.press('Home');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
  assert.equal(await sec.locator('.slider-field output').textContent(), '8');
  await sec.getByLabel('epochs').fill('2');
  await sec.getByRole('button', { name: 'Train autoencoder' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-ae-undercomplete [data-mse]').dataset.mse !== '');

  assert.deepEqual((await sent(page, 'createModel')).map(strip), [{ type: 'createModel', slot: 'ae-under', spec: { kind: 'ae', latent: 8 }, seed: 1 }]);
  assert.deepEqual((await sent(page, 'train')).map(strip), [{ type: 'train', slot: 'ae-under', batch: 32, lr: 0.002, optimizer: 'adam', epochs: 2 }]);
  // 500 test digits in two chunks of 250
  assert.deepEqual((await sent(page, 'reconstruct')).map((m) => m.images.length), [250 * 784, 250 * 784]);
  const test = images(0, 500);
  const want = mean(perImageMse(test, reconstructAll({ spec: { latent: 8 }, train: {} }, test)));
  assert.equal(await sec.locator('[data-mse]').first().getAttribute('data-mse'), want.toFixed(4));
  assert.equal(await sec.locator('[aria-label="Test digits (top) and their reconstructions (bottom)"] canvas').count(), 12);

  await drawStrokes(page, sec.locator('canvas.draw-canvas'), ONE);
  await page.waitForFunction(() => document.querySelector('#ex-ae-undercomplete .panel [data-mse]')?.dataset.mse);
  const drawn = (await sent(page, 'reconstruct')).slice(2);
  assert.ok(drawn.length >= 1 && drawn.every((m) => m.images.length === 784 && m.slot === 'ae-under'));
  assert.match(await sec.locator('.panel [data-mse]').textContent(), /Reconstruction error of your digit: \d\.\d{4}/);

  await sec.getByLabel('small latent size').fill('2');
  await sec.getByLabel('large latent size').fill('32');
  await sec.getByRole('button', { name: 'Train both and compare' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#ex-ae-undercomplete .ae-table tbody tr').length === 2);
  const creates = (await sent(page, 'createModel')).slice(1).map((m) => [m.slot, m.spec.latent]);
  assert.deepEqual(creates, [['ae-cmp-a', 2], ['ae-cmp-b', 32]]);
  const cells = await sec.locator('.ae-table tbody td:last-child').allTextContents();
  const mse = (k) => mean(perImageMse(test, reconstructAll({ spec: { latent: k }, train: {} }, test))).toFixed(4);
  assert.deepEqual(cells, [mse(2), mse(32)]);
  assert.ok(Number(cells[0]) > Number(cells[1]));
  assert.match(await sec.locator('.note[role=status]').last().textContent(), /narrower code keeps only the rough shape/);

  assert.equal(await answer(page, 'ae-under-why', 'labels'), 'wrong');
  assert.equal(await answer(page, 'ae-under-why', 'bottleneck'), 'right');
  assert.equal(await answer(page, 'ae-under-params', 4096), 'wrong');
  assert.equal(await answer(page, 'ae-under-params', 4128), 'right');
  assert.equal(await answer(page, 'ae-under-bound', 'small'), 'wrong');
  assert.equal(await answer(page, 'ae-under-bound', 'large'), 'right');
  await sec.screenshot({ path: screenshotPath('ae-undercomplete-trained.png') });
  await cleanExit(r);
});

test('exercise 10 (denoising): noise sent for training, PSNR of noisy / denoised / plain computed in the page', async () => {
  const r = await exercise('ae-denoise');
  const { page } = r;
  const sec = page.locator('#ex-ae-denoise');
  await sec.getByLabel('epochs').fill('1');
  await page.evaluate(() => {
    window.__longtasks = [];
    new PerformanceObserver((l) => window.__longtasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  });
  await sec.getByRole('button', { name: 'Train denoiser and plain AE' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#ex-ae-denoise .ae-table tbody tr').length === 3);
  // progress events for two slots, then noise, two reconstructions and PSNR of 500 digits: no long task
  assert.deepEqual(await page.evaluate(() => window.__longtasks), []);
  const trains = (await sent(page, 'train')).map(strip);
  assert.deepEqual(trains, [
    { type: 'train', slot: 'dn', batch: 32, lr: 0.002, optimizer: 'adam', epochs: 1, noise: { type: 'gaussian', level: 0.5 } },
    { type: 'train', slot: 'dn-plain', batch: 32, lr: 0.002, optimizer: 'adam', epochs: 1 },
  ]);
  // recompute what the page must show from the double's rules and the page's noise seed
  const clean = images(0, 500);
  const expect = (nz) => {
    const noisy = addNoise(clean, nz, 2024);
    const den = reconstructAll({ spec: { latent: 32 }, train: { noise: nz } }, noisy);
    const plain = reconstructAll({ spec: { latent: 32 }, train: {} }, noisy);
    return [noisy, den, plain].map((x) => psnrPerImage(x, clean).mean.toFixed(2));
  };
  const shown = async () => sec.locator('.ae-table tbody tr').evaluateAll((rows) => rows.map((row) => row.dataset.psnr));
  const gauss = expect({ type: 'gaussian', level: 0.5 });
  assert.deepEqual(await shown(), gauss);
  assert.ok(Number(gauss[1]) - Number(gauss[0]) >= 6);
  assert.match(await sec.locator('.ae-table caption').textContent(), /Gaussian σ 0\.50/);
  assert.equal(await sec.locator('[aria-label^="Per digit, top to bottom"] canvas').count(), 10);
  // a different noise at test time, without retraining
  await sec.getByLabel('noise type').selectOption('mask');
  await page.waitForFunction(() => document.querySelector('#ex-ae-denoise .ae-table caption').textContent.includes('masking'));
  assert.deepEqual(await shown(), expect({ type: 'mask', level: 0.5 }));
  assert.match(await sec.locator('p.note[role=status]').textContent(), /differs from the training noise/);
  assert.equal((await sent(page, 'train')).length, 2);

  assert.equal(await answer(page, 'dn-target', 'noisy'), 'wrong');
  assert.equal(await answer(page, 'dn-target', 'clean'), 'right');
  assert.equal(await answer(page, 'dn-psnr', 10), 'wrong');
  assert.equal(await answer(page, 'dn-psnr', 20), 'right');
  await sec.screenshot({ path: screenshotPath('ae-denoise-trained.png') });
  await cleanExit(r);
});

test('exercise 11 (latent space): compression ratio, 2-D scatter with hover, tap and keyboard picks', async () => {
  const r = await exercise('ae-latent');
  const { page } = r;
  const sec = page.locator('#ex-ae-latent');
  await sec.getByLabel('latent size k').fill('16');
  assert.equal(await sec.locator('[data-ratio]').getAttribute('data-ratio'), '49');
  assert.match(await sec.locator('[data-ratio]').textContent(), /3,136 bytes → 64 bytes/);
  await sec.getByLabel('latent size k').fill('3');
  assert.equal(await sec.locator('[data-ratio]').getAttribute('data-ratio'), '261.3');
  await sec.getByLabel('epochs').fill('1');
  await sec.getByRole('button', { name: /Train a 2-D autoencoder/ }).click();
  await page.waitForFunction(() => /Done/.test(document.querySelector('#ex-ae-latent .train-panel .status').textContent));
  assert.deepEqual((await sent(page, 'createModel')).map((m) => m.spec), [{ kind: 'ae', latent: 2 }]);
  assert.deepEqual((await sent(page, 'encode')).map((m) => [m.slot, m.images.length]), [['ae-2d', 1000 * 784]]);

  const info = sec.locator('.ae-metric[role=status]');
  const canvas = sec.locator('.scatter canvas');
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await info.getAttribute('data-index'), '0');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await info.getAttribute('data-index'), '999');
  assert.equal(await info.getAttribute('data-label'), '9');
  // sweep the mouse over the plot: every pick shows the digit with its own label (index % 10)
  const box = await canvas.boundingBox();
  const seen = new Set();
  for (let y = 0.05; y < 0.95; y += 0.06) {
    for (let x = 0.1; x < 1; x += 0.06) {
      await page.mouse.move(box.x + x * box.width, box.y + y * box.height);
      const idx = await info.getAttribute('data-index');
      assert.equal(Number(await info.getAttribute('data-label')), Number(idx) % 10);
      seen.add(await info.getAttribute('data-label'));
    }
  }
  assert.ok(seen.size >= 5, `hover reached ${seen.size} classes`);
  await sec.getByLabel('test digit (0–999)').fill('42');
  await sec.getByRole('button', { name: 'Show this test digit' }).click();
  assert.equal(await info.getAttribute('data-index'), '42');
  assert.match(await sec.locator('.panel figcaption').textContent(), /test digit #42, label 2/);

  assert.equal(await answer(page, 'lat-ratio', 16), 'wrong');
  assert.equal(await answer(page, 'lat-ratio', 49), 'right');
  assert.equal(await answer(page, 'lat-clusters', 'labels'), 'wrong');
  assert.equal(await answer(page, 'lat-clusters', 'similar'), 'right');
  await sec.screenshot({ path: screenshotPath('ae-latent-trained.png') });
  await cleanExit(r);
});

test('exercise 11: tapping a point on a touch screen shows its digit', async () => {
  const r = await exercise('ae-latent', { width: 360, height: 800, hasTouch: true });
  const { page } = r;
  const sec = page.locator('#ex-ae-latent');
  await sec.getByLabel('epochs').fill('1');
  await sec.getByRole('button', { name: /Train a 2-D autoencoder/ }).click();
  await page.waitForFunction(() => /Done/.test(document.querySelector('#ex-ae-latent .train-panel .status').textContent));
  const canvas = sec.locator('.scatter canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  const info = sec.locator('.ae-metric[role=status]');
  let hit = null;
  for (let y = 0.1; y < 0.9 && hit == null; y += 0.05) {
    for (let x = 0.15; x < 0.95 && hit == null; x += 0.05) {
      await page.touchscreen.tap(box.x + x * box.width, box.y + y * box.height);
      hit = await info.getAttribute('data-index');
    }
  }
  assert.ok(hit != null, 'a tap picked a point');
  assert.equal(Number(await info.getAttribute('data-label')), Number(hit) % 10);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), 'no horizontal overflow at 360 px');
  await cleanExit(r);
});

test('exercise 12 (anomaly): trains on one class, AUC / histogram / threshold / ROC / drawing / trap', async () => {
  const r = await exercise('ae-anomaly');
  const { page } = r;
  const sec = page.locator('#ex-ae-anomaly');
  await sec.getByLabel('inlier class').selectOption('1');
  await sec.getByLabel('epochs').fill('2');
  await sec.getByRole('button', { name: 'Train on the inlier class' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-ae-anomaly [data-auc]').dataset.auc !== '');
  assert.deepEqual((await sent(page, 'train')).map(strip), [{ type: 'train', slot: 'anom', batch: 32, lr: 0.002, optimizer: 'adam', epochs: 2, classes: [1] }]);
  assert.deepEqual((await sent(page, 'testImages')).map(strip), [{ type: 'testImages', start: 0, count: 2000 }]);
  assert.equal((await sent(page, 'reconstruct')).length, 8);

  const test = images(0, 2000);
  const model = { spec: { latent: 16 }, train: { classes: [1] } };
  const errors = perImageMse(test, reconstructAll(model, test));
  const positive = Array.from({ length: 2000 }, (_, i) => (i % 10 === 1 ? 0 : 1));
  const auc = roc(errors, positive).auc;
  assert.equal(await sec.locator('[data-auc]').getAttribute('data-auc'), auc.toFixed(4));
  assert.match(await sec.locator('[data-auc]').textContent(), /ROC AUC, inlier class 1: \d\.\d{3} \(200 inliers, 1800 others\)/);

  const pr = sec.locator('[data-precision]');
  const thr = sec.getByLabel('threshold');
  await thr.focus();
  await page.keyboard.press('Home'); // threshold 0: everything flagged
  assert.equal(await pr.getAttribute('data-recall'), '1.0000');
  assert.equal(await pr.getAttribute('data-precision'), '0.9000');
  const trapNote = sec.locator('[data-passing]');
  assert.equal(await trapNote.getAttribute('data-passing'), '0');
  await page.keyboard.press('End'); // the 99th percentile of all errors
  const hi = quantile(errors, 0.99);
  const top = atThreshold(errors, positive, hi);
  assert.equal(await pr.getAttribute('data-recall'), top.recall.toFixed(4));
  const trapErrors = Array.from(errors).filter((_, i) => positive[i]).sort((a, b) => a - b).slice(0, 12);
  assert.equal(await trapNote.getAttribute('data-passing'), String(trapErrors.filter((e) => e < hi).length));
  for (let i = 0; i < 150; i++) await page.keyboard.press('ArrowLeft');
  const t = (hi * 50) / 200;
  const mid = atThreshold(errors, positive, t);
  assert.equal(await pr.getAttribute('data-recall'), mid.recall.toFixed(4));
  assert.equal(await pr.getAttribute('data-precision'), mid.precision.toFixed(4));
  assert.match(await pr.textContent(), new RegExp(`${mid.tp + mid.fp} flagged`));

  const trap = sec.locator('[aria-label^="Best-reconstructed digits"] figcaption');
  assert.equal(await trap.count(), 12);
  const captions = await trap.allTextContents();
  assert.ok(captions.every((c) => !c.startsWith('a 1,')), 'only non-inliers in the trap list');
  const trapErr = captions.map((c) => Number(c.split('MSE ')[1]));
  assert.deepEqual(trapErr, [...trapErr].sort((a, b) => a - b));

  await drawStrokes(page, sec.locator('canvas.draw-canvas'), SEVEN);
  await page.waitForFunction(() => document.querySelector('#ex-ae-anomaly [data-score]'));
  const score = sec.locator('[data-score]');
  assert.match(await score.textContent(), /Anomaly score \(reconstruction error\): \d\.\d{4}/);
  assert.ok(['true', 'false'].includes(await score.getAttribute('data-flagged')));

  // without drawing: a held-out digit by index, scored with the errors computed above
  await sec.getByLabel('or a held-out test digit (index)').fill('17');
  await sec.getByRole('button', { name: 'Score this test digit' }).click();
  assert.equal(await score.getAttribute('data-score'), errors[17].toFixed(4));
  assert.equal(await score.getAttribute('data-flagged'), String(errors[17] >= t));
  assert.match(await sec.locator('[aria-label="Your digit and its reconstruction"] figcaption').first().textContent(), /test digit #17 \(a 7\)/);

  assert.equal(await answer(page, 'anom-threshold', 'recall-up'), 'wrong');
  assert.equal(await answer(page, 'anom-threshold', 'recall-down'), 'right');
  assert.equal(await answer(page, 'anom-precision', 0.72), 'wrong');
  assert.equal(await answer(page, 'anom-precision', 0.8), 'right');
  assert.equal(await answer(page, 'anom-trap', 'overfit'), 'wrong');
  assert.equal(await answer(page, 'anom-trap', 'simple'), 'right');
  await sec.screenshot({ path: screenshotPath('ae-anomaly-trained.png') });
  await cleanExit(r);
});

test('exercise 13 (VAE): diagram, loss terms and ELBO, samples, manifold, interpolation', async () => {
  const r = await exercise('ae-vae');
  const { page } = r;
  const sec = page.locator('#ex-ae-vae');
  assert.equal(await sec.locator('svg.ae-diagram text').filter({ hasText: 'z = μ + σ·ε' }).count(), 1);
  await sec.getByLabel('latent size').selectOption('2');
  await sec.getByLabel('β (weight of KL)').fill('4');
  await sec.getByLabel('epochs').fill('2');
  await sec.getByRole('button', { name: 'Train VAE and vanilla AE' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-ae-vae [data-done]'));
  assert.deepEqual((await sent(page, 'createModel')).map((m) => [m.slot, m.spec]), [
    ['vae', { kind: 'vae', latent: 2, hidden: 512, beta: 4 }],
    ['vae-ae', { kind: 'ae', latent: 2 }],
  ]);
  const last = lossesAt('vae', 2);
  assert.equal(await sec.locator('[data-elbo]').getAttribute('data-elbo'), (-(last.recon + last.kl)).toFixed(2));
  assert.match(await sec.locator('[data-elbo]').textContent(), /reconstruction \+ 4·KL/);
  await page.waitForFunction(() => [...document.querySelectorAll('#ex-ae-vae .chart-last')].some((c) => c.textContent.includes('ELBO')));
  const charts = await sec.locator('.chart-last').allTextContents();
  assert.ok(charts.some((c) => /reconstruction [\d.]+, KL [\d.]+/.test(c)), charts.join(' | '));
  assert.ok(charts.some((c) => /ELBO -[\d.]+/.test(c)), charts.join(' | '));

  assert.deepEqual((await sent(page, 'sample')).map(strip), [{ type: 'sample', slot: 'vae', count: 64, seed: 1 }]);
  const decoded = (await sent(page, 'decode')).map((m) => [m.slot, m.z.length]);
  assert.deepEqual(decoded, [['vae-ae', 128], ['vae', 450], ['vae', 14], ['vae-ae', 14]]);
  assert.deepEqual((await sent(page, 'encode')).map((m) => [m.slot, m.images.length]), [['vae', 1568], ['vae-ae', 1568]]);
  const manifold = sec.locator('.manifold canvas');
  assert.deepEqual(await manifold.evaluate((c) => [c.width, c.height]), [420, 420]);
  assert.equal(await sec.locator('.interp-row canvas').count(), 14);
  await sec.getByRole('button', { name: 'New samples' }).click();
  await page.waitForFunction(() => window.__sent.filter((m) => m.type === 'sample').length === 2);
  assert.equal((await sent(page, 'sample'))[1].seed, 2);

  // drawing a new digit B re-runs the interpolation
  await sec.getByRole('button', { name: 'Clear' }).nth(1).click();
  await drawStrokes(page, sec.locator('canvas.draw-canvas').nth(1), ONE);
  await page.waitForFunction(() => window.__sent.filter((m) => m.type === 'encode').length >= 4);

  // the path: along the arc by default, the straight line on request (7 points of 2 numbers). Each
  // row the page sends is checked against ae-math.js's path between its own two end codes: the
  // drawing may still be re-running the interpolation with new codes, so rows sent at different
  // times need not share them.
  const lastVaeRow = async () => (await sent(page, 'decode')).filter((m) => m.slot === 'vae' && m.z.length === 14).at(-1).z.values;
  const follows = (fn, z) => fn(Float32Array.from(z.slice(0, 2)), Float32Array.from(z.slice(12, 14)), 7).every((v, i) => Math.abs(v - z[i]) <= 1e-5 * Math.max(1, Math.abs(v)));
  const arc = await lastVaeRow();
  assert.ok(follows(slerp, arc) && !follows(interpolate, arc), `along the arc by default: ${arc}`);
  await sec.getByLabel('path').selectOption('line');
  for (const t0 = Date.now(); !follows(interpolate, await lastVaeRow()); await page.waitForTimeout(100)) {
    assert.ok(Date.now() - t0 < 10_000, 'choosing the straight line re-runs the interpolation on it');
  }
  const line = await lastVaeRow();
  assert.ok(!follows(slerp, line), `the straight line is not the arc: ${line}`);
  assert.ok(Math.hypot(...slerp(Float32Array.from(line.slice(0, 2)), Float32Array.from(line.slice(12, 14)), 3).subarray(2, 4)) > Math.hypot(line[6], line[7]), 'the arc stays further out than the line');

  assert.equal(await answer(page, 'vae-z', 1.5), 'wrong');
  assert.equal(await answer(page, 'vae-z', 2), 'right');
  assert.equal(await answer(page, 'vae-reparam', 'noise'), 'wrong');
  assert.equal(await answer(page, 'vae-reparam', 'eps'), 'right');
  assert.equal(await answer(page, 'vae-beta', 'sharper'), 'wrong');
  assert.equal(await answer(page, 'vae-beta', 'prior'), 'right');
  await sec.screenshot({ path: screenshotPath('ae-vae-trained.png') });
  await cleanExit(r);
});

test('all AE exercises at 360 px: no horizontal overflow, labelled controls', async () => {
  for (const name of ['ae-undercomplete', 'ae-denoise', 'ae-latent', 'ae-anomaly', 'ae-vae']) {
    const r = await exercise(name, { width: 360, height: 800 });
    const { page } = r;
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 360, `${name}: page is ${overflow} px wide`);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('section.exercise input, section.exercise select, section.exercise button')]
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, [], `${name}: every control has a label`);
    await page.screenshot({ path: screenshotPath(`ae-${name.replace(/^ae-/, '')}-360.png`), fullPage: true });
    await cleanExit(r);
  }
});

test('all AE exercises trained at 360 px: results fit the width', async () => {
  const runs = [
    ['ae-undercomplete', 'Train autoencoder', () => document.querySelector('#ex-ae-undercomplete [data-mse]').dataset.mse !== ''],
    ['ae-denoise', 'Train denoiser and plain AE', () => document.querySelectorAll('#ex-ae-denoise .ae-table tbody tr').length === 3],
    ['ae-latent', /Train a 2-D autoencoder/, () => /Done/.test(document.querySelector('#ex-ae-latent .train-panel .status').textContent)],
    ['ae-anomaly', 'Train on the inlier class', () => document.querySelector('#ex-ae-anomaly [data-auc]').dataset.auc !== ''],
    ['ae-vae', 'Train VAE and vanilla AE', () => document.querySelector('#ex-ae-vae [data-done]')],
  ];
  for (const [name, button, done] of runs) {
    const r = await exercise(name, { width: 360, height: 800 });
    const { page } = r;
    const sec = page.locator(`#ex-${name}`);
    if (name === 'ae-vae') await sec.getByLabel('latent size').selectOption('2');
    await sec.getByLabel('epochs').first().fill('1');
    await sec.getByRole('button', { name: button }).click();
    await page.waitForFunction(done);
    await page.waitForTimeout(100);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${name}: trained page is ${width} px wide`);
    await page.screenshot({ path: screenshotPath(`${name}-trained-360.png`), fullPage: true });
    await cleanExit(r);
  }
});
