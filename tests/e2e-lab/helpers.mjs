// Shared setup for the lab's browser tests: a static server for the repository root (as the site is
// served: index.html at /, the lab at /www/lab/) that sends the site's strict CSP, and headless Chromium (flags from /work/shared/TOOLCHAIN.md) through playwright-core.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = path.join(ROOT, 'www');
export const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e-lab');

// The engine as scripts/build-web.sh builds it into dist/pkg/: www/worker.js imports
// ../pkg/cnn-lab.js, so the real-engine tests serve these two files at /pkg/ beside the repository.
export const PKG = path.join(ROOT, 'dist', 'pkg');
export function builtEngine() {
  const files = ['cnn-lab.js', 'cnn-lab_bg.wasm'];
  if (!files.every((f) => fs.existsSync(path.join(PKG, f)))) return null;
  return Object.fromEntries(files.map((f) => [`/pkg/${f}`, path.join(PKG, f)]));
}

// A test file on the real engine: one server (with dist/pkg/) and one browser for all its tests.
// `skip`: the reason when the engine is not built (tests pass it to test() and are reported as
// skipped); `open(url, options)`: openPage in that browser.
export function realEngineSuite() {
  const engine = builtEngine();
  const skip = engine ? false : 'the engine is not built: run ./scripts/build-web.sh';
  let server;
  let base;
  let browser;
  before(async () => {
    if (skip) return;
    ({ server, base } = await serve({ extra: engine }));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });
  return { skip, open: (url, options) => openPage(browser, base, url, options) };
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
  window.__watch = false;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (window.__watch) window.__longtasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: false });
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
