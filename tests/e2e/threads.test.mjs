// Multi-threaded CPU training (www/threads.js) through the benchmark page: served cross-origin
// isolated it trains the reference CNN on 2 threads with identical replicas and the results of the
// one-thread run; served normally (the default) it falls back to one thread and still trains.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, serveSite } from "./browser.mjs";

let browser;
before(async () => {
  browser = await launch({ webgpu: false });
});
after(() => browser?.close());

/** Runs www/bench.html?quick&models=cnn&threads=2; the page's JSON lines and its isolation. */
async function bench(isolated) {
  const site = await serveSite({ isolated });
  const page = await browser.newPage();
  try {
    const lines = [];
    const done = new Promise((resolve, reject) => {
      page.on("console", (m) => {
        const text = m.text();
        if (text.startsWith("BENCH ")) lines.push(JSON.parse(text.slice(6)));
        else if (text === "BENCH-DONE") resolve();
        else if (text.startsWith("BENCH-ERROR")) reject(new Error(text));
      });
      page.on("pageerror", reject);
    });
    await page.goto(`${site.url}www/bench.html?quick&models=cnn&threads=2`);
    await done;
    const crossOriginIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    const cnn = lines.filter((l) => l.model === "cnn");
    assert.equal(cnn.length, 2, JSON.stringify(lines));
    return { crossOriginIsolated, single: cnn[0], threaded: cnn[1] };
  } finally {
    await page.close();
    await site.close();
  }
}

let fallback;
test("without isolation (the default) the threads case falls back to one thread", { timeout: 300_000 }, async () => {
  const r = await bench(false);
  fallback = r.threaded;
  assert.equal(r.crossOriginIsolated, false);
  assert.equal(r.threaded.threads, 1);
  assert.equal(r.threaded.threads_requested, 2);
  assert.match(r.threaded.fallback, /not cross-origin isolated/);
  assert.equal(r.threaded.steps, r.single.steps);
  // one shard is exactly the normal step: the same run as the one-thread benchmark line
  assert.equal(r.threaded.test_metric, r.single.test_metric);
  assert.ok(r.threaded.images_per_s > 0);
});

test("cross-origin isolated: 2 threads, identical replicas, the one-thread results", { timeout: 300_000 }, async () => {
  const r = await bench(true);
  console.log(JSON.stringify(r.threaded));
  assert.equal(r.crossOriginIsolated, true);
  assert.equal(r.threaded.threads, 2);
  assert.equal(r.threaded.fallback, undefined);
  assert.equal(r.threaded.replicas_identical, true);
  assert.equal(r.threaded.steps, r.single.steps);
  assert.ok(r.threaded.images_per_s > 0 && r.threaded.speedup_vs_1_thread > 0);
  // float rounding only: 22 Adam steps from the same start on the same batches
  assert.ok(Math.abs(r.threaded.test_metric - r.single.test_metric) <= 0.01, `${r.threaded.test_metric} vs ${r.single.test_metric}`);
  assert.ok(r.single.test_metric > 0.3, "the CNN learned something in 22 steps");
  if (fallback) {
    const [a, b] = [r.threaded.train_loss_last_step, fallback.train_loss_last_step];
    assert.ok(Math.abs(a - b) <= 1e-3 * Math.abs(b), `last training loss ${a} (2 threads) vs ${b} (1 thread)`);
  }
});

test("serve.mjs sends COOP and COEP only with isolation", async () => {
  for (const isolated of [false, true]) {
    const site = await serveSite({ isolated });
    try {
      const h = (await fetch(`${site.url}www/bench.html`)).headers;
      assert.equal(h.get("cross-origin-opener-policy"), isolated ? "same-origin" : null);
      assert.equal(h.get("cross-origin-embedder-policy"), isolated ? "require-corp" : null);
      assert.match(h.get("content-security-policy"), /default-src 'self'/);
    } finally {
      await site.close();
    }
  }
});
