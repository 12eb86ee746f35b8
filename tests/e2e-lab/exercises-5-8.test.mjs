// Exercises 5-8 talk to the engine worker. Here the worker is a protocol test double
// (protocol-double-worker.js: synthetic numbers, no learning), so these tests check the page's side:
// the exact messages it sends, how it routes events, and what it renders from the answers.
// That a real model reaches 97% is checked by train-real.test.mjs against the real worker.
import test from 'node:test';
import assert from 'node:assert/strict';
import { answer, cleanExit, doubleEngineSuite, drawStrokes, openPage, screenshotPath, sent, serve } from './helpers.mjs';

const suite = doubleEngineSuite('protocol-double-worker.js');
const { exercise } = suite;

test('backend badge shows the engine backend and forces CPU with setBackend', async () => {
  const r = await exercise('train-cnn');
  const { page } = r;
  const badge = page.locator('.backend-badge');
  assert.match(await badge.innerText(), /CPU \(wasm SIMD\): protocol test double/);
  await badge.getByLabel('Force CPU').check();
  await page.waitForFunction(() => document.querySelector('.backend-badge').textContent.includes('double (cpu)'));
  await badge.getByLabel('Force CPU').uncheck();
  await page.waitForFunction(() => document.querySelector('.backend-badge').textContent.includes('WebGPU: double (auto)'));
  assert.deepEqual((await sent(page, 'setBackend')).map((m) => m.prefer), ['cpu', 'auto']);
  assert.deepEqual((await sent(page, 'init')).length, 1);
  await cleanExit(r);
});

test('exercise 5: builder spec, training events, accuracy, confusion matrix, gallery, draw and predict', async () => {
  const r = await exercise('train-cnn');
  const { page } = r;
  const sec = page.locator('#ex-train-cnn');
  assert.match(await sec.locator('.layers-total').textContent(), /Total: 52,266 parameters/);
  await sec.getByLabel('preset').selectOption('tiny');
  assert.equal(await sec.locator('.layers li').count(), 3);
  assert.match(await sec.locator('.layers-total').textContent(), /Total: 7,890 parameters/); // 40 + 4*14*14*10+10
  await sec.getByRole('button', { name: 'Add a dense layer' }).click();
  await sec.locator('.layers li').nth(2).getByLabel('units').fill('32');
  assert.match(await sec.locator('.layers li').nth(2).locator('.layer-params').textContent(), /25,120 params/); // 784*32+32
  // an impossible layer disables training
  await sec.getByRole('button', { name: 'Add a conv layer' }).click();
  assert.equal(await sec.getByRole('button', { name: 'Create model and train' }).isDisabled(), true);
  assert.match(await sec.locator('.layers-total').textContent(), /must come before the dense/);
  await sec.getByRole('button', { name: 'Remove layer 4' }).click();
  await sec.getByLabel('epochs', { exact: true }).fill('2');
  await sec.getByLabel('training digits').fill('4000');
  await page.evaluate(() => {
    window.__longtasks = [];
    new PerformanceObserver((l) => window.__longtasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
  });
  await sec.getByRole('button', { name: 'Create model and train' }).click();
  await page.waitForFunction(() => document.querySelector('[data-accuracy]').dataset.accuracy !== '');
  // the page's own work on progress events (charts, bar) stays far below a long task
  assert.deepEqual(await page.evaluate(() => window.__longtasks), []);

  const [create] = await sent(page, 'createModel');
  assert.deepEqual(create.spec, {
    kind: 'cnn',
    layers: [
      { type: 'conv', k: 3, filters: 4, stride: 1, pad: 1 },
      { type: 'relu' },
      { type: 'pool', k: 2, stride: 2, mode: 'max' },
      { type: 'flatten' },
      { type: 'dense', units: 32 },
      { type: 'relu' },
      { type: 'dense', units: 10 },
    ],
  });
  const [train] = await sent(page, 'train');
  assert.deepEqual(train, { id: train.id, type: 'train', slot: 'cnn', epochs: 2, batch: 32, lr: 0.003, optimizer: 'adam', trainSize: 4000 });
  assert.match(await sec.locator('.status').first().textContent(), /matches the builder/);
  assert.equal(await sec.locator('[data-accuracy]').getAttribute('data-accuracy'), '97.50');
  assert.match(await sec.locator('.progress-text').textContent(), /done/);
  // per-epoch step counters were stitched into one axis: 2 epochs x 10 steps, last x = 2
  await page.waitForFunction(() => document.querySelectorAll('.chart-last')[0].textContent.startsWith('latest'));
  assert.match(await sec.locator('.chart-last').nth(1).textContent(), /cnn test 92\.00/);
  assert.equal(await sec.locator('table.confusion tbody td').count(), 100);
  assert.equal(await sec.locator('table.confusion tbody tr').nth(3).locator('td').nth(5).textContent(), '3');
  assert.deepEqual(await sec.locator('.image-grid[aria-label="Misclassified test digits"] figcaption').allTextContents(), ['3 → 5', '3 → 5', '3 → 5', '4 → 9', '4 → 9']);
  const [imgs] = await sent(page, 'testImages');
  assert.deepEqual(imgs.indices, [11, 12, 13, 14, 15]);

  await drawStrokes(page, sec.locator('canvas.draw-canvas'), [[[0.5, 0.15], [0.5, 0.85]]]);
  await page.waitForFunction(() => document.querySelector('#ex-train-cnn .prob-bars').dataset.prediction != null);
  const predicts = await sent(page, 'predict');
  assert.ok(predicts.length >= 1);
  assert.deepEqual(predicts.at(-1).image, { typed: 'Float32Array', length: 784 });
  assert.match(await sec.locator('.prob-top').textContent(), /Prediction: \d \(82\.0%\)/);

  // keyboard alternative: classify a chosen test digit
  await sec.getByLabel('or pick a test digit (0–1999)').fill('7');
  await sec.getByRole('button', { name: 'Classify this test digit' }).press('Enter');
  await page.waitForFunction(() => [...document.querySelectorAll('#ex-train-cnn figcaption')].some((f) => f.textContent === 'test digit #7 (label 7)'));
  // a predict follows the request for test digit 7 (drawing predictions may still be trailing in)
  await page.waitForFunction(() => {
    const i = window.__sent.findLastIndex((m) => m.type === 'testImages' && m.indices?.[0] === 7);
    return i >= 0 && window.__sent.slice(i + 1).some((m) => m.type === 'predict');
  });

  assert.equal(await answer(page, 'train-conv-params', 200), 'wrong');
  assert.equal(await answer(page, 'train-conv-params', 208), 'right');
  assert.equal(await answer(page, 'train-confusion', 'off'), 'wrong');
  assert.equal(await answer(page, 'train-confusion', 'diag'), 'right');
  await sec.screenshot({ path: screenshotPath('exercise-train-cnn-trained.png') });
  await cleanExit(r);
});

test('exercise 5: pause, resume and stop reach the worker', async () => {
  const r = await exercise('train-cnn');
  const { page } = r;
  const sec = page.locator('#ex-train-cnn');
  await sec.getByLabel('epochs', { exact: true }).fill('20');
  await sec.getByRole('button', { name: 'Create model and train' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-train-cnn progress').value > 0);
  await sec.getByRole('button', { name: 'Pause' }).click();
  assert.equal(await sec.getByRole('button', { name: 'Resume' }).getAttribute('aria-pressed'), 'true');
  await sec.getByRole('button', { name: 'Resume' }).click();
  await sec.getByRole('button', { name: 'Stop' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-train-cnn .progress-text').textContent === 'stopped');
  for (const t of ['pause', 'resume', 'stop']) assert.deepEqual((await sent(page, t)).map((m) => m.slot), ['cnn']);
  assert.match(await sec.locator('.status').nth(1).textContent(), /Done|Stopped|Evaluating/);
  await cleanExit(r);
});

test('exercise 5 without an engine: errors are shown, the page keeps working', async () => {
  const plain = await serve(); // no worker.js at all
  const r = await openPage(suite.browser, plain.base, '/www/lab/dev.html?exercise=train-cnn');
  const { page } = r;
  await page.waitForFunction(() => document.querySelector('.backend-badge').textContent.includes('unavailable'));
  await page.getByRole('button', { name: 'Create model and train' }).click();
  await page.waitForFunction(() => /Error:/.test(document.querySelector('#ex-train-cnn .train-panel .status').textContent));
  assert.equal(await page.getByRole('button', { name: 'Create model and train' }).isDisabled(), false);
  assert.equal(await answer(page, 'train-conv-params', 208), 'right');
  await r.context.close();
  plain.server.close();
});

test('exercise 6: filters and activation maps before and after training', async () => {
  const r = await exercise('what-cnns-learn');
  const { page } = r;
  const sec = page.locator('#ex-what-cnns-learn');
  await sec.getByRole('button', { name: /Create models/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('#ex-what-cnns-learn .acts')[0].children.length === 6);
  assert.equal(await sec.locator('[aria-label="First-layer filters before training"] canvas').count(), 8);
  const creates = await sent(page, 'createModel');
  assert.deepEqual(creates.map((m) => [m.slot, m.seed]), [['learn0', 7], ['learn1', 7]]);
  assert.match(await sec.locator('.acts').first().innerText(), /conv1: 8×28×28[\s\S]*pool2: 16×7×7[\s\S]*out: 10/);
  await sec.getByLabel('test digit index (0–1999)').fill('42');
  await sec.getByRole('button', { name: 'Use this test digit' }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('#ex-what-cnns-learn figcaption')].some((f) => f.textContent.includes('#42 (label 2)')));
  await sec.getByRole('button', { name: /Train the "after" model/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('#ex-what-cnns-learn .acts')[1].children.length === 6);
  assert.equal(await sec.locator('[aria-label="First-layer filters after training"] canvas').count(), 8);
  assert.deepEqual((await sent(page, 'train')).map((m) => m.slot), ['learn1']);
  assert.deepEqual([...new Set((await sent(page, 'filters')).map((m) => m.slot))].sort(), ['learn0', 'learn1']);
  assert.equal(await answer(page, 'learn-filters', 'noise'), 'wrong');
  assert.equal(await answer(page, 'learn-filters', 'edges'), 'right');
  assert.equal(await answer(page, 'learn-map-size', 28), 'wrong');
  assert.equal(await answer(page, 'learn-map-size', 14), 'right');
  await sec.screenshot({ path: screenshotPath('exercise-what-cnns-learn-trained.png') });
  await cleanExit(r);
});

test('exercise 7: augmentation preview, training with/without, evaluation on moved digits', async () => {
  const r = await exercise('augmentation');
  const { page } = r;
  const sec = page.locator('#ex-augmentation');
  const previewCanvases = sec.locator('[aria-label="Augmented copies of the digit"] canvas');
  assert.equal(await previewCanvases.count(), 16);
  const pixels = () => previewCanvases.nth(5).evaluate((c) => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)));
  const before = await pixels();
  await sec.getByRole('button', { name: 'New random samples' }).click();
  assert.notDeepEqual(await pixels(), before);
  await sec.getByLabel('rotation ±', { exact: true }).fill('90');
  assert.equal(await sec.locator('output').first().textContent(), '90°');
  await sec.getByLabel('rotation ±', { exact: true }).fill('15');
  await sec.getByRole('button', { name: 'Train both models' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#ex-augmentation .results-table tbody tr').length === 2);
  const trains = await sent(page, 'train');
  const plain = trains.find((m) => m.slot === 'aug-off');
  const aug = trains.find((m) => m.slot === 'aug-on');
  assert.equal(plain.augment, undefined);
  assert.deepEqual(aug.augment, { rotate: 15, shift: 2, zoom: 0.1, flip: false, contrast: 0.2 });
  assert.deepEqual(aug.noise, { type: 'gaussian', level: 0.05 });
  const evals = await sent(page, 'evaluate');
  assert.deepEqual(evals.filter((m) => m.transform).map((m) => [m.slot, m.transform]), [['aug-off', { rotate: 20, shift: 3 }], ['aug-on', { rotate: 20, shift: 3 }]]);
  assert.deepEqual(await sec.locator('.results-table tbody td').allTextContents(), ['97.50', '81.00', '97.50', '93.00']);
  assert.match(await sec.locator('.note[role=status]').textContent(), /gained 12\.00 percentage points/);
  assert.equal(await answer(page, 'aug-safe', ['rot', 'shift', 'fliph']), 'wrong');
  assert.equal(await answer(page, 'aug-safe', ['rot', 'shift', 'zoom', 'contrast']), 'right');
  await sec.screenshot({ path: screenshotPath('exercise-augmentation-trained.png') });
  await cleanExit(r);
});

test('exercise 8: plain vs resnet side by side, loss curves and gradient norms', async () => {
  const r = await exercise('resnet');
  const { page } = r;
  const sec = page.locator('#ex-resnet');
  await sec.getByLabel('depth').selectOption('10');
  await sec.getByRole('button', { name: 'Train both side by side' }).click();
  await page.waitForFunction(() => document.querySelector('#ex-resnet .verdict').textContent !== '');
  const creates = await sent(page, 'createModel');
  assert.deepEqual(creates.map((m) => [m.slot, m.spec]), [['plain', { kind: 'plain', depth: 10 }], ['resnet', { kind: 'resnet', depth: 10 }]]);
  assert.deepEqual((await sent(page, 'train')).map((m) => [m.slot, m.optimizer]), [['plain', 'sgd'], ['resnet', 'sgd']]);
  assert.match(await sec.locator('.verdict').textContent(), /resnet 0\.\d+ vs plain \d\.\d+\. The residual net learned faster/);
  assert.match(await sec.locator('.chart-last').first().textContent(), /plain loss .*resnet loss/);
  assert.match(await sec.locator('.note[role=status]').textContent(), /First layer gradient norm: plain 2\.81e-4, resnet 5\.00e-2/);
  assert.equal(await answer(page, 'resnet-why', 'params'), 'wrong');
  assert.equal(await answer(page, 'resnet-why', 'identity'), 'right');
  assert.equal(await answer(page, 'resnet-deriv', 0), 'wrong');
  assert.equal(await answer(page, 'resnet-deriv', 1), 'right');
  await sec.screenshot({ path: screenshotPath('exercise-resnet-trained.png') });
  await cleanExit(r);
});
