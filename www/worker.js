// The engine's Web Worker: loads the wasm engine (src/web.rs) and answers the page's commands
// (protocol: www/lab/engine-client.js, docs/protocol.md). Every command gets one
// { id, type: "ok", ... } or { id, type: "error", message }; events carry no id.
//
// Training runs here in slices of a few tens of milliseconds, several slots round-robin, with a
// yield to the event loop between slices so that pause/resume/stop and other commands are handled
// promptly. Engine calls never overlap: a slot is taken out of the engine's table while its call
// runs (which may await the GPU), so they are queued one after the other (`engine`).
import initWasm, * as wasm from "../pkg/cnn-lab.js";

const SLICE_MS = 40; // training time per slot between yields
const PROGRESS_MS = 200; // at most this often a progress event per slot

let panicked = false;
// Rust's panic hook calls this (src/web.rs) before the wasm instance traps.
globalThis.cnnLabPanic = (message) => {
  panicked = true;
  postMessage({ type: "fatal", panic: true, message });
};

const loaded = initWasm().then(wasm.install_panic_hook, (e) => {
  throw new Error(`could not load the engine (it needs WebAssembly SIMD): ${e.message ?? e}`);
});

let queue = Promise.resolve();
/** Runs fn after every engine call queued before it. */
function engine(fn) {
  const result = queue.then(fn);
  queue = result.catch(() => {});
  return result;
}

// --- backend ---------------------------------------------------------------------------------
let probe = null; // { webgpu, description } from the wasm probe
let prefer = "auto";
let gpuLost = null; // the sentence of the first GPU loss: models made after it run on the CPU
function backend() {
  if (gpuLost) return { kind: "cpu", description: gpuLost, reason: gpuLost };
  if (probe.webgpu && prefer !== "cpu") return { kind: "webgpu", description: probe.description, reason: "WebGPU adapter found" };
  const reason = probe.webgpu ? "CPU forced by the page" : probe.description;
  return { kind: "cpu", description: reason, reason };
}

// --- data ------------------------------------------------------------------------------------
let data = null;
function loadData() {
  data ??= (async () => {
    const response = await fetch(new URL("../assets/mnist-10k.bin", import.meta.url));
    if (!response.ok) throw new Error(`could not fetch the digits: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return engine(() => wasm.load_data(bytes));
  })();
  data.catch(() => { data = null; });
  return data;
}

// --- training --------------------------------------------------------------------------------
const runs = new Map(); // slot -> { id, epochs, batch, stepsPerEpoch, paused, stopped, metrics, lastPost }
let looping = false;
const holdAfterEpoch = new Map(); // slot -> epoch: the test hook pauseAfterEpochForTest

const tick = new MessageChannel();
let wake = null;
tick.port1.onmessage = () => wake?.();
/** Yields to the event loop (a macrotask, without setTimeout's 4 ms clamp). */
const yieldNow = () => new Promise((resolve) => { wake = resolve; tick.port2.postMessage(0); });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function train(msg) {
  const { id, type, slot, ...request } = msg;
  // with request.resumeFrom (an epoch event's checkpoint) the run continues the one saved there;
  // its steps and epochs are still counted from 0 for the page
  if (request.resumeFrom) request.resumeFrom = await bytesOf(request.resumeFrom, "resumeFrom");
  if (runs.has(slot)) throw new Error(`slot ${slot} is already training`);
  const { stepsPerEpoch, fromStep, fromEpoch } = await engine(() => wasm.begin_train(slot, request));
  runs.set(slot, {
    id, epochs: request.epochs ?? 1, batch: request.batch ?? 32, stepsPerEpoch, fromStep, fromEpoch,
    paused: false, stopped: false, metrics: {}, epochsDone: 0, lastPost: 0,
  });
  loop();
}

async function loop() {
  if (looping) return;
  looping = true;
  try {
    while (runs.size && !panicked) {
      let trained = false;
      for (const [slot, run] of [...runs]) {
        if (run.stopped) finish(slot, run, true);
        else if (!run.paused) {
          trained = true;
          await slice(slot, run);
        }
      }
      await (trained ? yieldNow() : sleep(30));
    }
  } finally {
    looping = false;
  }
}

async function slice(slot, run) {
  let r;
  try {
    r = await engine(() => wasm.train_steps(slot, SLICE_MS));
    if (r.lost) deviceLost(slot, r.lost);
    if (runs.get(slot) !== run) return; // stopped or replaced (createModel) meanwhile
    const p = r.progress && { ...r.progress, step: r.progress.step - run.fromStep, epoch: r.progress.epoch - run.fromEpoch };
    if (p) {
      const now = performance.now();
      if (r.epochEnded || r.done || now - run.lastPost >= PROGRESS_MS) {
        run.lastPost = now;
        const left = run.epochs * run.stepsPerEpoch - p.step;
        const etaS = p.imagesPerSec > 0 ? (left * run.batch) / p.imagesPerSec : null;
        postMessage({ type: "progress", slot, ...p, stepsPerEpoch: run.stepsPerEpoch, etaS });
      }
      if (r.epochEnded) {
        run.epochsDone = p.epoch;
        run.metrics = await engine(() => wasm.test_metrics(slot));
        // the run as it is at this epoch's end (weights, optimizer state, position), for the
        // page's per-epoch checkpoints: importModel reads its weights, train { resumeFrom } goes on.
        // A Blob: the page stores it in IndexedDB by reference; made from the bytes here, since on
        // the page's main thread the copy (a deep VAE with Adam's moments: 13 MB) takes 10-20 ms
        const bytes = await engine(() => wasm.checkpoint_model(slot)).catch(() => undefined);
        const model = bytes && new Blob([bytes]);
        postMessage({ type: "epoch", slot, epoch: p.epoch, test: run.metrics, model });
        if (holdAfterEpoch.get(slot) === p.epoch) {
          holdAfterEpoch.delete(slot);
          run.paused = true; // no step runs until the page sends resume or stop
        }
      }
    }
  } catch (e) {
    runs.delete(slot);
    engine(() => wasm.end_train(slot)).catch(() => {});
    if (!panicked) postMessage({ id: run.id, type: "error", message: String(e?.message ?? e) });
    return;
  }
  if (r.done) finish(slot, run, false);
}

// The GPU was lost and the slot's run continues on the CPU from a snapshot (src/nn/engine.rs).
function deviceLost(slot, { reason, step, message }) {
  gpuLost ??= message;
  postMessage({ type: "deviceLost", slot, reason, step, message });
  postMessage({ type: "backend", backend: backend() });
}

function finish(slot, run, stopped) {
  runs.delete(slot);
  engine(() => wasm.end_train(slot)).catch(() => {});
  postMessage({ id: run.id, type: "ok", stopped, epochs: run.epochsDone, metrics: run.metrics });
}

function control(type, slot) {
  const run = runs.get(slot);
  if (!run) return;
  if (type === "stop") run.stopped = true;
  else run.paused = type === "pause";
}

// --- commands --------------------------------------------------------------------------------
function indicesOf(msg) {
  if (msg.indices) return Uint32Array.from(msg.indices);
  return Uint32Array.from({ length: msg.count }, (_, i) => msg.start + i);
}

/** A Uint8Array over an ArrayBuffer, typed array or Blob field, or an error naming the field. */
async function bytesOf(v, name) {
  if (v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new Error(`${name}: expected the file's bytes (an ArrayBuffer)`);
}

const f32 = (a) => (a instanceof Float32Array ? a : Float32Array.from(a));

async function handle(msg) {
  await loaded;
  const { slot } = msg;
  switch (msg.type) {
    case "init":
      probe ??= await engine(async () => {
        const report = await wasm.probe_backend();
        const result = { webgpu: report.webgpu, description: report.description };
        report.free();
        return result;
      });
      return { backend: backend() };
    case "setBackend":
      prefer = msg.prefer === "cpu" ? "cpu" : "auto";
      return { backend: backend() };
    case "loadData":
      if (msg.bundled) data = null; // back to the bundled digits after loadIdx
      return loadData();
    case "testImages":
      await loadData();
      return engine(() => wasm.test_images(indicesOf(msg)));
    case "createModel": {
      await loadData();
      const run = runs.get(slot);
      if (run) finish(slot, run, true);
      const gpu = backend().kind === "webgpu";
      return engine(() => wasm.create_model(slot, msg.spec, msg.seed ?? 1, gpu));
    }
    case "train":
      await train(msg);
      return null; // answered when the run ends
    case "pause":
    case "resume":
    case "stop":
      control(msg.type, slot);
      return {};
    case "predict":
      return { probs: await engine(() => wasm.predict(slot, f32(msg.image))) };
    case "reconstruct":
      return { images: await engine(() => wasm.reconstruct(slot, f32(msg.images))) };
    case "encode":
      return engine(() => wasm.encode(slot, f32(msg.images)));
    case "decode":
      return { images: await engine(() => wasm.decode(slot, f32(msg.z))) };
    case "sample":
      return { images: await engine(() => wasm.sample(slot, msg.count, msg.seed ?? 0)) };
    case "activations":
      return { layers: await engine(() => wasm.activations(slot, f32(msg.image))) };
    case "filters":
      return engine(() => wasm.filters(slot));
    case "gradNorms":
      return { layers: await engine(() => wasm.grad_norms(slot)) };
    case "evaluate":
      return engine(() => wasm.evaluate(slot, msg.transform));
    case "exportModel": {
      const bytes = await engine(() => wasm.export_model(slot));
      // as a Blob for the page's checkpoints: made here, not by a copy on the page's main thread
      if (msg.blob) return { blob: new Blob([bytes]), filename: `cnn-lab-${slot}.safetensors` };
      return { bytes, filename: `cnn-lab-${slot}.safetensors` };
    }
    case "importModel": {
      const bytes = await bytesOf(msg.bytes, "bytes");
      if (runs.has(slot)) throw new Error("stop the training before importing a model");
      await engine(() => wasm.import_model(slot, bytes));
      return {};
    }
    case "loadIdx": {
      const files = await Promise.all(["trainImages", "trainLabels", "testImages", "testLabels"].map((k) => bytesOf(msg[k], k)));
      await loadData(); // the bundled digits first, so that a later loadData does not put them back
      const sizes = await engine(() => wasm.load_idx(...files));
      data = Promise.resolve(sizes);
      return sizes;
    }
    case "loseGpuForTest": // test and development hook: device.destroy() on the slot's GPU
      await engine(() => wasm.lose_gpu_for_test(slot));
      return {};
    case "pauseAfterEpochForTest": // test hook: the run pauses itself as it posts that epoch's event
      holdAfterEpoch.set(slot, msg.epoch);
      return {};
    case "panicTest":
      wasm.panic_for_test("deliberate panic requested by the page (#panic-test)");
      return {};
    default:
      throw new Error(`unknown command ${JSON.stringify(msg.type)}`);
  }
}

// The buffers of typed arrays in a reply, to transfer rather than copy.
function transferables(value, list = [], depth = 0) {
  if (ArrayBuffer.isView(value)) {
    if (!list.includes(value.buffer)) list.push(value.buffer);
  } else if (value && typeof value === "object" && depth < 3) {
    for (const v of Object.values(value)) transferables(v, list, depth + 1);
  }
  return list;
}

onmessage = async ({ data: msg }) => {
  if (panicked) {
    postMessage({ id: msg.id, type: "error", message: "the engine stopped after a panic; reload the page" });
    return;
  }
  try {
    const result = await handle(msg);
    if (result === null) return;
    const reply = { ...result, id: msg.id, type: "ok" };
    postMessage(reply, transferables(result));
  } catch (e) {
    // After a panic the trap ("unreachable") adds nothing to the panic message already sent.
    if (!panicked) postMessage({ id: msg.id, type: "error", message: String(e?.message ?? e) });
  }
};
