// The benchmark page (www/bench.html) and, loaded as a module worker, the benchmark itself: the page
// only starts the worker and shows its lines, so the long synchronous training loops never block
// the page. Each result is also logged as "BENCH <json>" for scripts/bench.mjs; "BENCH-DONE" ends.
import { threadModel, threadsCase } from "./bench-threads.js";

const IN_WORKER = typeof window === "undefined";
const MODELS = ["cnn", "ae", "vae", "resnet", "convae"];

function options(search) {
  const q = new URLSearchParams(search);
  const quick = q.has("quick");
  return {
    quick,
    breakdown: q.has("breakdown"),
    models: (q.get("models") ?? MODELS.join(",")).split(",").filter(Boolean),
    batch: Number(q.get("batch") ?? 64),
    // One full epoch (steps 0) after warm-up; --quick: 20 steps.
    warmup: quick ? 2 : 5,
    steps: quick ? 20 : 0,
    // ?webgpu: also on WebGPU, a few steps only (on a CPU-emulated adapter they take seconds each).
    webgpu: q.has("webgpu"),
    gpuSteps: Number(q.get("gpusteps") ?? 3),
    // ?threads=N: cnn and ae also on N CPU threads (needs cross-origin isolation; 1: off).
    threads: Number(q.get("threads") ?? 2),
  };
}

async function runCases(opts, emit) {
  const wasm = await import("../pkg/cnn-lab.js");
  await wasm.default();
  const res = await fetch(new URL("../assets/mnist-10k.bin", import.meta.url));
  if (!res.ok) throw new Error(`MNIST asset: HTTP ${res.status}`);
  const mnist = new Uint8Array(await res.arrayBuffer());
  for (const m of opts.models) {
    const run = opts.breakdown ? wasm.bench_breakdown : wasm.bench_train;
    const line = run(mnist, m, opts.batch, opts.warmup, opts.steps);
    emit(line);
    if (!opts.breakdown && opts.threads > 1 && threadModel(m)) {
      emit(await threadsCase(wasm, mnist, m, opts, JSON.parse(line)));
    }
  }
  if (opts.breakdown) return;
  emit(wasm.bench_predict(mnist, 100));
  if (!opts.webgpu || !wasm.bench_train_webgpu) return;
  if (!navigator.gpu) {
    emit(JSON.stringify({ backend: "webgpu", skipped: "navigator.gpu is undefined" }));
    return;
  }
  for (const m of opts.models) {
    try {
      emit(await wasm.bench_train_webgpu(mnist, m, opts.batch, 1, opts.gpuSteps));
    } catch (err) {
      emit(JSON.stringify({ model: m, backend: "webgpu", skipped: String(err?.message ?? err) }));
      if (/adapter|device/.test(String(err?.message))) return;
    }
  }
}

if (IN_WORKER) {
  self.onmessage = async (e) => {
    try {
      await runCases(e.data, (line) => self.postMessage({ line }));
      self.postMessage({ done: true });
    } catch (err) {
      self.postMessage({ error: String(err?.stack ?? err) });
    }
  };
} else {
  const opts = options(location.search);
  const out = document.getElementById("out");
  const status = document.getElementById("status");
  status.textContent = `Running ${opts.models.join(", ")}${opts.quick ? " (quick)" : ""}…`;
  const worker = new Worker(new URL("bench.js", import.meta.url), { type: "module" });
  worker.onmessage = (e) => {
    const { line, done, error } = e.data;
    if (line) {
      out.textContent += line + "\n";
      console.log(`BENCH ${line}`);
    }
    if (error) {
      status.textContent = `Failed: ${error}`;
      console.log(`BENCH-ERROR ${error}`);
    }
    if (done) {
      status.textContent = "Done.";
      console.log("BENCH-DONE");
    }
  };
  worker.onerror = (e) => console.log(`BENCH-ERROR worker: ${e.message}`);
  worker.postMessage(opts);
}
