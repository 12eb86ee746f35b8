// The benchmark's cases that need the browser's own view (scripts/bench.mjs runs them after the
// training lines, or alone with --memory / --first-epoch):
// - memory: www/bench.html?memory trains the CNN, AE and VAE for 3 epochs each in a fresh worker;
//   after each epoch the worker reports its wasm memory and waits while this script reads the JS
//   heaps of the page and of the worker over the DevTools protocol (Runtime.getHeapUsage).
// - time_to_first_epoch: the real lab page (index.html?exercise=train-cnn, exercise 5) with its
//   default preset, on the CPU (no WebGPU flags, so the browser has no adapter), opened once to warm
//   the cache, then timed from navigation to the engine's first "epoch" event, which the page shows.
// See docs/benchmarks.md for the fields.
import { launch, serveSite } from "../tests/e2e/browser.mjs";

const MB = 1024 * 1024;
const mb = (bytes) => Math.round((bytes / MB) * 10) / 10;
const LIMIT_MB = 256;
const DATA_LABEL = {
  bundled: "the bundled 8,000 training + 2,000 test digits",
  "idx-60k":
    "synthetic full-size IDX files: the bundled digits repeated to 60,000 training + 10,000 test " +
    "images, loaded through the IDX loader as a user's MNIST download",
};

// JS heap of a dedicated worker, through a browser-level DevTools session (non-flat attach:
// playwright-core exposes no worker sessions).
class WorkerHeaps {
  constructor(cdp) {
    this.cdp = cdp;
    this.sessions = new Map(); // targetId -> sessionId
    this.pending = new Map(); // message id -> resolve
    this.next = 1;
    cdp.on("Target.receivedMessageFromTarget", (e) => {
      const m = JSON.parse(e.message);
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  async send(targetId, method, params = {}) {
    let sessionId = this.sessions.get(targetId);
    if (!sessionId) {
      ({ sessionId } = await this.cdp.send("Target.attachToTarget", { targetId, flatten: false }));
      this.sessions.set(targetId, sessionId);
    }
    const id = this.next++;
    const reply = new Promise((resolve) => this.pending.set(id, resolve));
    await this.cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) });
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${method}: no answer from the worker in 20 s`)), 20000);
    });
    const m = await Promise.race([reply, late]).finally(() => clearTimeout(timer));
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result;
  }

  /// The live dedicated workers whose script URL ends with `suffix`.
  async workers(suffix) {
    const { targetInfos } = await this.cdp.send("Target.getTargets");
    return targetInfos.filter((t) => t.type === "worker" && t.url.endsWith(suffix));
  }

  async usedHeap(targetId) {
    return (await this.send(targetId, "Runtime.getHeapUsage")).usedSize;
  }
}

async function memory(browser, site, { models, batch, data }) {
  const page = await browser.newPage();
  const pageCdp = await page.context().newCDPSession(page);
  const heaps = new WorkerHeaps(await browser.newBrowserCDPSession());
  const cases = new Map(); // "model data" -> { epochs: [...] }
  const finished = new Set(); // worker targets of finished cases
  let current = null;
  let lines = Promise.resolve();
  const measure = async (mem) => {
    const key = `${mem.model} ${mem.data}`;
    if (!cases.has(key)) {
      if (current) finished.add(current.targetId);
      const fresh = (await heaps.workers("/www/bench.js")).filter((t) => !finished.has(t.targetId));
      if (fresh.length !== 1) throw new Error(`expected one live benchmark worker, found ${fresh.length}`);
      current = { targetId: fresh[0].targetId };
      cases.set(key, { ...mem, epochs: [] });
    }
    const worker = await heaps.usedHeap(current.targetId);
    const pageHeap = (await pageCdp.send("Runtime.getHeapUsage")).usedSize;
    cases.get(key).epochs.push({ ...mem, worker, page: pageHeap });
    await page.evaluate(() => self.benchGo());
  };
  const done = new Promise((resolve, reject) => {
    page.on("console", (m) => {
      const text = m.text();
      if (text.startsWith("BENCH-MEM ")) {
        const mem = JSON.parse(text.slice(10));
        lines = lines.then(() => measure(mem)).catch(reject);
      } else if (text === "BENCH-DONE") lines.then(resolve);
      else if (text.startsWith("BENCH-ERROR")) reject(new Error(text));
      else if (m.type() === "error") console.error(`page: ${text}`);
    });
    page.on("pageerror", reject);
  });
  const query = new URLSearchParams({ memory: "", models: models.join(","), batch, memorydata: data.join(",") });
  await page.goto(`${site.url}www/bench.html?${query}`);
  await done;
  await page.close();
  for (const c of cases.values()) {
    const total = c.epochs.map((e) => mb(e.wasm_bytes + e.worker + e.page));
    console.log(
      JSON.stringify({
        case: "memory",
        model: c.model,
        backend: "cpu-simd",
        data: c.data,
        data_note: DATA_LABEL[c.data],
        train_images: c.train,
        batch: c.batch,
        epoch_mb: total,
        wasm_mb: c.epochs.map((e) => mb(e.wasm_bytes)),
        worker_js_heap_mb: c.epochs.map((e) => mb(e.worker)),
        page_js_heap_mb: c.epochs.map((e) => mb(e.page)),
        epoch_s: c.epochs.map((e) => Math.round(e.seconds * 100) / 100),
        growth_mb: Math.round((total.at(-1) - total[0]) * 10) / 10,
        limit_mb: LIMIT_MB,
        within_limit: Math.max(...total) < LIMIT_MB,
      }),
    );
  }
}

async function timeToFirstEpoch(browser, site) {
  const context = await browser.newContext();
  // Records when the engine worker's first "epoch" event reaches the page (ms since navigation).
  await context.addInitScript(() => {
    const Native = window.Worker;
    window.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (e) => {
          if (e.data?.type === "epoch" && window.__firstEpochMs == null) {
            window.__firstEpochMs = performance.now();
            window.__firstEpoch = e.data;
          }
        });
      }
    };
  });
  const url = `${site.url}index.html?exercise=train-cnn`;
  let out;
  for (const warm of [false, true]) {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(`page: ${e.message}`));
    const t0 = Date.now();
    console.error(`time_to_first_epoch: ${warm ? "timed" : "warming"} visit of ${url}`);
    await page.goto(url);
    const sec = page.locator("#ex-train-cnn");
    await sec.getByRole("button", { name: "Create model and train" }).click({ timeout: 60000 });
    const clickedMs = await page.evaluate(() => performance.now());
    console.error(`time_to_first_epoch: training started ${(clickedMs / 1000).toFixed(2)} s after navigation`);
    const progress = () => page.locator("#ex-train-cnn .progress-text").textContent().catch(() => "?");
    const wait = page.waitForFunction(() => window.__firstEpochMs != null, null, { timeout: 3 * 60 * 1000 });
    const ticker = setInterval(async () => console.error(`time_to_first_epoch: ${await progress()}`), 10000);
    await wait.finally(() => clearInterval(ticker));
    const wallS = (Date.now() - t0) / 1000;
    const { ms, event, backend } = await page.evaluate(() => ({
      ms: window.__firstEpochMs,
      event: window.__firstEpoch,
      backend: document.getElementById("backend")?.dataset.backend,
    }));
    if (warm) {
      console.error(`time_to_first_epoch: first epoch ${(ms / 1000).toFixed(2)} s after navigation`);
      out = {
        case: "time_to_first_epoch",
        exercise: "train-cnn",
        preset: "small",
        backend,
        seconds: Math.round(ms) / 1000,
        seconds_wall: Math.round(wallS * 1000) / 1000,
        seconds_to_click: Math.round(clickedMs) / 1000,
        cache: "warm (second visit in the same browser profile)",
        test_accuracy: event?.test?.accuracy ?? null,
        limit_s: 15,
      };
    }
    await page.close();
  }
  await context.close();
  console.log(JSON.stringify(out));
}

// Runs the cases `args` asks for; returns an exit code.
export async function runExtras(args) {
  const value = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const onlyMemory = args.includes("--memory");
  const onlyFirst = args.includes("--first-epoch");
  const all = !onlyMemory && !onlyFirst;
  const models = (value("--models") ?? "cnn,ae,vae").split(",").filter((m) => ["cnn", "ae", "vae"].includes(m));
  const data = (value("--memory-data") ?? (args.includes("--quick") ? "bundled" : "bundled,idx-60k")).split(",");
  const batch = Number(value("--batch") ?? 64);
  const site = await serveSite();
  const browser = await launch({ webgpu: false });
  try {
    if ((all || onlyMemory) && models.length) await memory(browser, site, { models, batch, data });
    if (all || onlyFirst) await timeToFirstEpoch(browser, site);
    return 0;
  } catch (e) {
    console.error(String(e?.stack ?? e));
    return 1;
  } finally {
    await browser.close();
    await site.close();
  }
}
