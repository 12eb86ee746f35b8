// Opens www/bench.html of the built site (dist/, or $CNN_LAB_DIST) in headless Chromium and prints
// the page's JSON lines as they come, then one line with the sizes of the shipped .wasm and JS.
//   node scripts/bench.mjs [--quick] [--breakdown] [--models cnn,ae] [--batch 64] [--webgpu]
//                          [--gpu-steps N]
// --webgpu: Chromium gets the SwiftShader WebGPU flags (tests/e2e/browser.mjs) and each model also
// runs a few steps on WebGPU.
// Then (not with --breakdown) the memory and time-to-first-epoch cases of scripts/bench-extra.mjs;
// --memory [--memory-data bundled,idx-60k] or --first-epoch runs only those.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { launch, serveSite } from "../tests/e2e/browser.mjs";
import { runExtras } from "./bench-extra.mjs";

const args = process.argv.slice(2);
if (args.includes("--memory") || args.includes("--first-epoch")) process.exit(await runExtras(args));
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const query = new URLSearchParams();
if (args.includes("--quick")) query.set("quick", "");
if (args.includes("--breakdown")) query.set("breakdown", "");
if (value("--models")) query.set("models", value("--models"));
if (value("--batch")) query.set("batch", value("--batch"));
if (value("--gpu-steps")) query.set("gpusteps", value("--gpu-steps"));
const webgpu = args.includes("--webgpu");
if (webgpu) query.set("webgpu", "");
// A full run trains five models for an epoch each: minutes on a busy 2-core machine.
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 30 * 60 * 1000);

const site = await serveSite();
const browser = await launch({ webgpu });
let failed = false;
try {
  const page = await browser.newPage();
  const finished = new Promise((resolve, reject) => {
    page.on("console", (m) => {
      const text = m.text();
      if (text.startsWith("BENCH ")) console.log(text.slice(6));
      else if (text === "BENCH-DONE") resolve();
      else if (text.startsWith("BENCH-ERROR")) reject(new Error(text));
      else if (m.type() === "error") console.error(`page: ${text}`);
    });
    page.on("pageerror", (e) => reject(e));
    setTimeout(() => reject(new Error(`no result after ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref();
  });
  await page.goto(`${site.url}www/bench.html?${query}`);
  await finished;
} catch (e) {
  console.error(String(e?.message ?? e));
  failed = true;
} finally {
  await browser.close();
  await site.close();
}

if (!failed && !args.includes("--breakdown")) failed = (await runExtras(args)) !== 0;

const dist = new URL(`../${process.env.CNN_LAB_DIST ?? "dist"}/`, import.meta.url);
const size = (rel) => {
  const bytes = readFileSync(new URL(rel, dist));
  return { file: rel, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const js = readdirSync(new URL("www/", dist)).filter((f) => f.endsWith(".js")).map((f) => `www/${f}`);
const files = [size("pkg/cnn-lab_bg.wasm"), size("pkg/cnn-lab.js"), ...js.map(size)];
const total = (k) => files.filter((f) => f.file.endsWith(".js")).reduce((s, f) => s + f[k], 0);
console.log(
  JSON.stringify({
    sizes: files,
    wasm_gzip: files[0].gzip,
    js_raw_total: total("raw"),
    js_gzip_total: total("gzip"),
  }),
);
process.exit(failed ? 1 : 0);
