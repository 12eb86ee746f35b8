// Saved work: answers and graded checks come back after a reload (custom elements and iframe),
// silently (no events re-sent); model files stored per exercise survive too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveRepo, launch, capture, events, until } from './helpers.mjs';

let site, browser;
before(async () => {
  site = await serveRepo();
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

test('a reload restores answers, check results and stored models', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const log = capture(page);
  await page.goto(`${site.origin}/www/embed/demo.html`);
  const conv = page.locator('#lab-conv');
  const sharing = page.locator('#lab-sharing');
  const frame = page.frameLocator('#lab-frame');

  await conv.locator('form[data-check="convolution-mults"] input').fill('9');
  await conv.locator('form[data-check="convolution-mults"] button').click();
  await conv.locator('.out-cell').first().fill('4');
  await conv.locator('.out-cell').first().press('Enter');
  await sharing.locator('form[data-check="ps-why"] input[value="sharing"]').check();
  await sharing.locator('form[data-check="ps-why"] button').click(); // one of two: wrong
  await frame.locator('form[data-check="sp-28-3-2-1"] input').fill('14');
  await frame.locator('form[data-check="sp-28-3-2-1"] button').click();
  await frame.locator('form[data-check="sp-same-5"] input').fill('3'); // typed, never checked
  await until(async () => (await events(page)).filter((e) => e.includes('check-answered')).length >= 4, { what: 'events' });

  // a model file (the bytes the worker's exportModel returns) stored for an exercise
  await page.evaluate(async () => {
    const store = await import('/www/store.js');
    await store.saveModel('train-cnn', 'cnn', new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125]), { epochs: 3 });
  });
  await page.waitForTimeout(400); // the typed-only field is saved after a short debounce

  await page.reload();
  await conv.locator('form[data-check="convolution-mults"]').waitFor();
  await until(async () => (await conv.locator('form[data-check="convolution-mults"]').getAttribute('data-result')) === 'right', {
    what: 'restored check',
  });
  assert.equal(await conv.locator('form[data-check="convolution-mults"] input').inputValue(), '9');
  assert.equal(await conv.locator('.out-cell').first().inputValue(), '4');
  assert.equal(await conv.locator('.out-cell').first().getAttribute('data-result'), 'right');
  assert.equal(await conv.locator('form[data-check="convolution-size"]').getAttribute('data-result'), null, 'never answered');
  assert.equal(await sharing.locator('form[data-check="ps-why"] input[value="sharing"]').isChecked(), true);
  assert.equal(await sharing.locator('form[data-check="ps-why"] input[value="local"]').isChecked(), false);
  assert.equal(await sharing.locator('form[data-check="ps-why"]').getAttribute('data-result'), 'wrong');
  await until(async () => (await frame.locator('form[data-check="sp-28-3-2-1"]').getAttribute('data-result').catch(() => null)) === 'right', {
    what: 'restored iframe check',
  });
  assert.equal(await frame.locator('form[data-check="sp-same-5"] input').inputValue(), '3');
  assert.equal(await frame.locator('form[data-check="sp-same-5"]').getAttribute('data-result'), null);

  await page.waitForTimeout(300);
  const after = await events(page);
  assert.deepEqual(after.filter((e) => !e.includes(' ready ')), [], 'restoring re-sends no events');
  assert.ok(after.some((e) => e.startsWith('iframe ready')), 'the iframe said it is ready');
  const model = await page.evaluate(async () => {
    const store = await import('/www/store.js');
    const r = await store.loadModel('train-cnn', 'cnn');
    return { bytes: [...r.bytes], meta: r.meta };
  });
  assert.deepEqual(model, { bytes: [8, 0, 0, 0, 0, 0, 0, 0, 123, 125], meta: { epochs: 3 } });
  assert.deepEqual(log.errors, []);

  // progress is per exercise and per browser profile: a fresh profile starts empty
  const fresh = await browser.newContext();
  const p2 = await fresh.newPage();
  await p2.goto(`${site.origin}/www/embed/demo.html`);
  await p2.locator('#lab-conv form[data-check="convolution-mults"]').waitFor();
  await p2.waitForTimeout(300);
  assert.equal(await p2.locator('#lab-conv form[data-check="convolution-mults"] input').inputValue(), '');
  await fresh.close();
  await ctx.close();
});
