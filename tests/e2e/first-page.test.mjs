// End to end: the built site (dist/), served by scripts/serve.mjs, in headless Chromium.
// Run with `node --test tests/e2e/` after ./scripts/build-web.sh (scripts/test.sh does both).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launch, openPage, screenshot, serveSite } from "./browser.mjs";

const BACKEND_TIMEOUT = 60_000; // SwiftShader and a cold wasm compile are slow on 2 cores

let site;
before(async () => {
  site = await serveSite();
});
after(() => site?.close());

/** Waits until the backend line has left its "starting" state and returns it. */
async function backendLine(page) {
  const line = page.locator("#backend");
  await line.filter({ hasNotText: "starting" }).waitFor({ timeout: BACKEND_TIMEOUT });
  return line.textContent();
}

describe("with WebGPU (SwiftShader)", () => {
  let browser;
  before(async () => (browser = await launch({ webgpu: true })));
  after(() => browser?.close());

  test("the page reports the WebGPU adapter and logs no errors", async () => {
    const { page, problems } = await openPage(browser, site.url);
    const text = await backendLine(page);
    await screenshot(page, "e2e-webgpu");
    assert.match(text, /^Compute backend: WebGPU — .+\(BrowserWebGpu\)$/);
    assert.match(text, /swiftshader/i, "SwiftShader is the adapter these flags select");
    assert.equal(await page.locator("#error").isHidden(), true);
    assert.deepEqual(problems, []);
  });
});

describe("without WebGPU", () => {
  let browser;
  before(async () => (browser = await launch({ webgpu: false })));
  after(() => browser?.close());

  test("the page falls back to the CPU, says why, and logs no errors", async () => {
    const { page, problems } = await openPage(browser, site.url);
    const text = await backendLine(page);
    await screenshot(page, "e2e-no-webgpu");
    assert.match(text, /^Compute backend: CPU \(wasm SIMD\) — \S.{10,}$/);
    assert.doesNotMatch(text, /WebGPU —/);
    assert.equal(await page.locator("#error").isHidden(), true);
    assert.deepEqual(problems, []);
  });

  test("a Rust panic in the worker shows as a readable error in the page", async () => {
    const { page, problems } = await openPage(browser, `${site.url}#panic-test`);
    const error = page.locator("#error");
    await error.waitFor({ state: "visible", timeout: BACKEND_TIMEOUT });
    await screenshot(page, "e2e-panic");
    const text = await error.textContent();
    assert.match(text, /The engine panicked: panicked at src[/\\]web\.rs:\d+:\d+:/);
    assert.match(text, /deliberate panic requested by the page \(#panic-test\)/);
    assert.match(await page.locator("#backend").textContent(), /stopped \(the engine panicked\)/);
    // The page shows only the panic, not the trap that follows it.
    assert.doesNotMatch(text, /unreachable/i);
    // console_error_panic_hook logs the panic to the console: expected here, and only that.
    assert.ok(problems.length > 0 && problems.every((p) => /panic/i.test(p)), problems.join("\n"));
  });
});
