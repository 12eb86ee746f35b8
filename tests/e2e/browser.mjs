// Headless Chromium for the end-to-end tests (playwright-core driving the system Chromium), and the
// site server. The flags are those of ../shared/TOOLCHAIN.md: headless as root, no background
// traffic, and for WebGPU the SwiftShader adapter (CPU-emulated WebGPU).
import { mkdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { startServer } from "../../scripts/serve.mjs";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const BASE_FLAGS = [
  "--no-sandbox",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const WEBGPU_FLAGS = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan",
  "--use-webgpu-adapter=swiftshader",
];
export const ARTIFACTS = new URL("../../artifacts/", import.meta.url);

/** Serves the built site (dist/, or $CNN_LAB_DIST as for build-web.sh) on a free port;
 * `isolated`: cross-origin isolated (scripts/serve.mjs --isolated). */
export async function serveSite({ isolated = false } = {}) {
  const root = new URL(`../../${process.env.CNN_LAB_DIST ?? "dist"}/`, import.meta.url).pathname;
  const server = await startServer({ root, port: 0, isolated });
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Launches Chromium (playwright gives it a fresh temporary profile) with or without WebGPU. */
export function launch({ webgpu }) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: webgpu ? [...BASE_FLAGS, ...WEBGPU_FLAGS] : BASE_FLAGS,
  });
}

/** Opens `url` in a new page and records every console error, page error and failed request. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  const problems = [];
  const onConsole = (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  };
  page.on("console", onConsole);
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url);
  return { page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = new URL(`${name}.png`, ARTIFACTS).pathname;
  await page.screenshot({ path, fullPage: true });
  return path;
}
