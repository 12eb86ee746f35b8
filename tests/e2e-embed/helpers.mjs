// Shared set-up of the embedding tests: the repository served by scripts/serve.mjs (the same CSP
// header as the site) on free ports, headless Chromium through playwright-core, console capture.
import { mkdirSync } from 'node:fs';
import { startServer } from '../../scripts/serve.mjs';
import { launch, ARTIFACTS } from '../e2e/browser.mjs';

export { launch };
const ROOT = new URL('../../', import.meta.url).pathname;

/** Serves the repository root (the embed pages need no wasm build). */
export async function serveRepo() {
  const server = await startServer({ root: ROOT, port: 0 });
  const { port } = server.address();
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

/** Records console messages and page errors of `page`; returns { errors, warnings }. */
export function capture(page) {
  const out = { errors: [], warnings: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') out.errors.push(m.text());
    if (m.type() === 'warning') out.warnings.push(m.text());
  });
  page.on('pageerror', (e) => out.errors.push(`pageerror: ${e.message}`));
  return out;
}

export async function screenshot(page, name) {
  const dir = new URL('e2e-embed/', ARTIFACTS);
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, dir).pathname, fullPage: true });
}

/** The demo page's event log entries as "where type" strings (optionally the full text). */
export async function events(page) {
  return page.$$eval('#events li', (lis) => lis.map((li) => `${li.dataset.where} ${li.dataset.type} ${li.textContent}`));
}

export const until = async (fn, { timeout = 10000, what = 'condition' } = {}) => {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
