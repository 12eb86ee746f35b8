// Multi-threaded CPU training by data parallelism: one replica of the model per Web Worker, all
// built with the same seed (same weights, same batch order). Each step every replica computes the
// gradient of its shard of the batch (wasm `shard_step`), writes it into a SharedArrayBuffer, waits
// at a barrier (Atomics.wait/notify), then averages all shards' records and applies the same
// optimizer step (wasm `apply_shards`), so the replicas' weights stay bit-identical. The math is in
// src/nn/train/parallel.rs.
//
// A SharedArrayBuffer exists only in a cross-origin isolated page (COOP same-origin + COEP
// require-corp: `node scripts/serve.mjs --isolated`). Without isolation `trainParallel` trains on one
// thread through the same calls (one shard: exactly a normal step) and says why.
//
// The calling worker is replica 0; replicas 1.. run www/threads-worker.js. Atomics.wait blocks, so
// replica 0 must itself be a worker, never the page.

export const THREADS_UNAVAILABLE = "the page is not cross-origin isolated (no SharedArrayBuffer)";

/** Whether this context can share memory with other workers. */
export function canShareMemory() {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
}

// Checks of the generation before sleeping in Atomics.wait (tens of microseconds): waking a
// sleeping thread costs about as much, and the other replica is usually that close.
const SPINS = 20_000;

/** Waits until all `parties` have arrived. ctl[0] counts arrivals, ctl[1] is the generation. */
export function arrive(ctl, parties, timeoutMs = 60_000) {
  const gen = Atomics.load(ctl, 1);
  if (Atomics.add(ctl, 0, 1) === parties - 1) {
    Atomics.store(ctl, 0, 0);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    return;
  }
  for (let i = 0; i < SPINS; i++) if (Atomics.load(ctl, 1) !== gen) return;
  while (Atomics.load(ctl, 1) === gen) {
    if (Atomics.wait(ctl, 1, gen, timeoutMs) === "timed-out") {
      throw new Error(`a training thread did not reach the barrier within ${timeoutMs} ms`);
    }
  }
}

/**
 * Views of the exchange buffer: the barrier's two counters, then two areas (even and odd steps, so a
 * fast replica never overwrites records a slow one still reads) of `parts` records of `len` floats.
 */
export function exchangeViews(buffer, len, parts) {
  const area = (k) => new Float32Array(buffer, 8 + k * parts * len * 4, parts * len);
  return { buffer, len, parts, ctl: new Int32Array(buffer, 0, 2), areas: [area(0), area(1)] };
}

function newExchange(len, parts, shared) {
  const bytes = 8 + 2 * parts * len * 4;
  return exchangeViews(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes), len, parts);
}

/** Loads the digits and builds and starts the same run in `slot` as every other replica. */
export async function startReplica(wasm, slot, { mnist, spec, seed, request }) {
  wasm.load_data(mnist);
  await wasm.create_model(slot, spec, seed, false);
  return wasm.begin_train(slot, request);
}

/**
 * Step number `step` of replica `part`: its progress, or null once the run is over. `waited`, when
 * given, gets the milliseconds spent at the barrier added to its `ms`.
 */
export async function replicaStep(wasm, slot, ex, part, step, waited) {
  const area = ex.areas[step & 1];
  const mine = area.subarray(part * ex.len, (part + 1) * ex.len);
  if (!wasm.shard_step(slot, part, ex.parts, mine)) return null;
  if (ex.parts > 1) {
    const t0 = waited && performance.now();
    arrive(ex.ctl, ex.parts);
    if (waited) waited.ms += performance.now() - t0;
  }
  return wasm.apply_shards(slot, area, ex.parts);
}

function startHelper(part, ex, run, total) {
  const worker = new Worker(new URL("threads-worker.js", import.meta.url), { type: "module" });
  let ready, done;
  const readyP = new Promise((ok, fail) => (ready = { ok, fail }));
  const doneP = new Promise((ok, fail) => (done = { ok, fail }));
  worker.onmessage = ({ data }) => {
    if (data.error) {
      ready.fail(new Error(`thread ${part}: ${data.error}`));
      done.fail(new Error(`thread ${part}: ${data.error}`));
    } else if (data.ready) ready.ok();
    else if (data.done) done.ok(data.weights);
  };
  worker.onerror = (e) => {
    ready.fail(new Error(`thread ${part}: ${e.message}`));
    done.fail(new Error(`thread ${part}: ${e.message}`));
  };
  doneP.catch(() => {});
  worker.postMessage({ ...run, part, parts: ex.parts, len: ex.len, buffer: ex.buffer, total });
  return { worker, ready: readyP, done: doneP };
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Trains `run` ({ mnist, spec, seed, request }: the protocol's createModel and train fields) for
 * `warmup` + `steps` steps (steps 0: one epoch) on `threads` threads when memory can be shared, on
 * one otherwise. Resolves to { threads, reason?, ms (per timed step), waitedMs (replica 0's time at
 * the barrier over the timed steps), progress (the last step's), test (held-out metrics),
 * identical (every replica ended with the same weights) }.
 */
export async function trainParallel(wasm, run, { threads, warmup, steps, now = () => performance.now() }) {
  const shared = threads > 1 && canShareMemory();
  const parts = shared ? threads : 1;
  const slot = "threads-0";
  const { stepsPerEpoch } = await startReplica(wasm, slot, run);
  const total = warmup + (steps || stepsPerEpoch);
  const ex = newExchange(wasm.shard_record_len(slot), parts, shared);
  const helpers = [];
  try {
    for (let part = 1; part < parts; part++) helpers.push(startHelper(part, ex, run, total));
    await Promise.all(helpers.map((h) => h.ready));
    const ms = [];
    const waited = { ms: 0 };
    let progress = null;
    for (let s = 0; s < total; s++) {
      const t0 = now();
      progress = await replicaStep(wasm, slot, ex, 0, s, s >= warmup ? waited : null);
      if (!progress) break;
      if (s >= warmup) ms.push(now() - t0);
    }
    const weights = await wasm.export_model(slot);
    const others = await Promise.all(helpers.map((h) => h.done));
    const test = await wasm.test_metrics(slot);
    wasm.end_train(slot);
    return {
      threads: parts,
      reason: threads > parts ? THREADS_UNAVAILABLE : undefined,
      ms,
      waitedMs: waited.ms,
      progress,
      test,
      identical: others.every((w) => sameBytes(w, weights)),
    };
  } finally {
    helpers.forEach((h) => h.worker.terminate());
  }
}
