// The mock course page (www/embed/demo.html): two <cnn-lab> elements and one iframe, their events in
// the parent, commands to the iframe, and messages from an origin that is not listed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveRepo, launch, capture, screenshot, events, until } from './helpers.mjs';

let site, other, browser;
before(async () => {
  site = await serveRepo();
  other = await serveRepo(); // a second origin: same files, another port
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await site?.close();
  await other?.close();
});

async function answer(scope, checkId, value) {
  const form = scope.locator(`form[data-check="${checkId}"]`);
  if (typeof value === 'string' && /^[a-z]+$/.test(value)) await form.locator(`input[value="${value}"]`).check();
  else await form.locator('input[type=text]').fill(String(value));
  await form.getByRole('button', { name: 'Check' }).click();
}

test('demo page: two custom elements and one iframe work, and their events reach the page', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const log = capture(page);
  await page.goto(`${site.origin}/www/embed/demo.html`);
  const conv = page.locator('#lab-conv');
  const sharing = page.locator('#lab-sharing');
  const frame = page.frameLocator('#lab-frame');
  await conv.locator('form[data-check="convolution-mults"]').waitFor();
  await frame.locator('form[data-check="sp-32-5"]').waitFor();
  assert.equal(await conv.locator('section.exercise').count(), 1);
  assert.equal(await conv.locator('section[data-exercise="convolution"]').count(), 1);
  assert.equal(await sharing.locator('section[data-exercise="parameter-sharing"]').count(), 1);
  assert.equal(await frame.locator('section[data-exercise="stride-padding"]').count(), 1);

  // options: solutions hidden in the second element and in the iframe, not in the first; dark iframe
  assert.equal(await conv.locator('details.solution').first().isVisible(), true);
  assert.equal(await sharing.locator('details.solution').first().isVisible(), false);
  assert.equal(await frame.locator('details.solution').first().isVisible(), false);
  const bg = await frame.locator('#cnn-lab-frame').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, 'rgb(32, 33, 36)');

  // the custom element: a wrong then a right answer, then the exercise's last check
  await answer(conv, 'convolution-mults', 8);
  await answer(conv, 'convolution-mults', 9);
  await answer(conv, 'convolution-size', 'tl');
  // the iframe: postMessage events
  await answer(frame, 'sp-32-5', 27);
  await answer(frame, 'sp-32-5', 28);
  await until(async () => (await events(page)).length >= 9, { what: '9 events' });
  const got = await events(page);
  const find = (s) => got.filter((e) => e.includes(s));
  assert.equal(find('element exercise-started').length, 1, got.join('\n'));
  assert.equal(find('convolution-mults: wrong').length, 1);
  assert.equal(find('convolution-mults: right').length, 1);
  assert.equal(find('convolution-size: right').length, 1);
  assert.equal(find('element exercise-completed').length, 1);
  assert.equal(find('iframe exercise-started').length, 1);
  assert.deepEqual(
    find('iframe check-answered').map((e) => e.split(' · ').pop()),
    ['check-answered sp-32-5: wrong', 'check-answered sp-32-5: right'],
  );
  assert.equal(find('iframe exercise-completed').length, 0, 'two of three checks only');
  assert.match(await page.locator('#summary').textContent(), /^3 questions answered right/);
  await screenshot(page, 'demo');
  assert.deepEqual(log.errors, []);
  await ctx.close();
});

test('commands: reset clears the iframe exercise; load-preset selects a preset; bad messages are ignored', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const log = capture(page);
  await page.goto(`${site.origin}/www/embed/demo.html`);
  const frame = page.frameLocator('#lab-frame');
  await answer(frame, 'sp-32-5', 28);
  assert.equal(await frame.locator('form[data-check="sp-32-5"]').getAttribute('data-result'), 'right');
  await page.click('#frame-reset');
  await until(async () => (await frame.locator('form[data-check="sp-32-5"] input').inputValue().catch(() => 'x')) === '', { what: 'reset' });
  assert.equal(await frame.locator('form[data-check="sp-32-5"]').getAttribute('data-result'), null);

  // a malformed and an unknown command from the listed origin: warnings, nothing happens
  await answer(frame, 'sp-32-5', 28);
  await page.evaluate(() => {
    const w = document.getElementById('lab-frame').contentWindow;
    w.postMessage('reset', location.origin);
    w.postMessage({ type: 'eval', code: 'document.body.remove()' }, location.origin);
    w.postMessage({ type: 'load-preset', preset: { toString: null } }, location.origin);
  });
  await until(() => log.warnings.filter((w) => w.includes('malformed or unknown')).length >= 2, { what: 'warnings' });
  assert.equal(await frame.locator('form[data-check="sp-32-5"] input').inputValue(), '28');

  // load-preset reaches an exercise that has presets (exercise 5's menu); this one has none: a warning
  await page.click('#frame-preset');
  await until(() => log.warnings.some((w) => w.includes('has no preset "tiny"')), { what: 'no-preset warning' });
  await page.evaluate(() => { document.getElementById('lab-frame').src = 'frame.html?exercise=train-cnn&preset=mlp'; });
  const presetSel = frame.locator('section[data-exercise="train-cnn"] select').first();
  await presetSel.waitFor();
  assert.equal(await presetSel.inputValue(), 'mlp', 'preset option applied at mount');
  await page.click('#frame-preset');
  await until(async () => (await presetSel.inputValue()) === 'tiny', { what: 'preset tiny' });
  await ctx.close();
});

test('a message from an origin that is not listed is ignored with a warning', async () => {
  const ctx = await browser.newContext();
  const b = await ctx.newPage();
  await b.goto(`${other.origin}/www/embed/frame.html?exercise=pooling`);
  // origin B opens the course page of origin A and gets a handle on its iframe (allowed cross-origin)
  const [popup] = await Promise.all([
    b.waitForEvent('popup'),
    b.evaluate((url) => { window.courseTab = window.open(url); }, `${site.origin}/www/embed/demo.html`),
  ]);
  const log = capture(popup);
  const frame = popup.frameLocator('#lab-frame');
  await answer(frame, 'sp-32-5', 28);
  await until(async () => (await events(popup)).some((e) => e.includes('sp-32-5: right')), { what: 'answer event' });
  await b.evaluate(() => window.courseTab.frames[0].postMessage({ type: 'reset' }, '*'));
  await until(() => log.warnings.some((w) => w.includes(`ignored a message from ${new URL(b.url()).origin}`)), {
    what: 'the not-listed warning',
  });
  await popup.waitForTimeout(300);
  assert.equal(await frame.locator('form[data-check="sp-32-5"] input').inputValue(), '28', 'not reset');
  // the same command from the listed origin (the parent) is obeyed
  await popup.evaluate(() => document.getElementById('lab-frame').contentWindow.postMessage({ type: 'reset' }, location.origin));
  await until(async () => (await frame.locator('form[data-check="sp-32-5"] input').inputValue().catch(() => 'x')) === '', {
    what: 'reset by the parent',
  });
  await ctx.close();
});

test('elements share one engine worker; a finished training run is reported with its metrics', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(`${site.origin}/www/embed/demo.html`);
  await page.locator('#lab-conv form').first().waitFor();
  assert.deepEqual(workers, [], 'exercises without training start no worker');
  // two exercises that need the engine; the protocol test double of tests/e2e-lab stands in for it
  await page.evaluate(() => {
    // record what the page sends to the worker
    window.sent = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (msg, ...rest) {
      window.sent.push(structuredClone(msg));
      return post.call(this, msg, ...rest);
    };
    for (const ex of ['train-cnn', 'what-cnns-learn']) {
      const el = document.createElement('cnn-lab');
      if (ex === 'train-cnn') el.setAttribute('dataset-size', '500');
      else el.setAttribute('backend', 'cpu');
      el.setAttribute('exercise', ex);
      el.setAttribute('worker', '/tests/e2e-lab/protocol-double-worker.js');
      el.id = `lab-${ex}`;
      document.querySelector('article').append(el);
    }
  });
  await page.evaluate(() => {
    window.finished = new Promise((resolve) => document.addEventListener('training-finished', (e) => resolve(e.detail), { once: true }));
  });
  const sec = page.locator('#lab-train-cnn section[data-exercise="train-cnn"]');
  await sec.getByRole('button', { name: 'Create model and train' }).click();
  await until(async () => (await events(page)).some((e) => e.includes('train-cnn · training-finished')), { what: 'training-finished', timeout: 20000 });
  const detail = await page.evaluate(() => window.finished);
  assert.equal(detail.exercise, 'train-cnn');
  assert.equal(detail.slot, 'cnn');
  assert.equal(detail.stopped, false);
  assert.equal(typeof detail.metrics.accuracy, 'number');
  assert.equal(workers.length, 1, `one shared worker: ${workers.join(', ')}`);
  const trains = await page.evaluate(() => window.sent.filter((m) => m.type === 'train'));
  assert.equal(trains.length, 1);
  assert.equal(trains[0].trainSize, 500, 'dataset-size caps the run');
  const backends = await page.evaluate(() => window.sent.filter((m) => m.type === 'setBackend').map((m) => m.prefer));
  assert.deepEqual(backends, ['cpu'], 'backend="cpu" on the second element');
  await ctx.close();
});
