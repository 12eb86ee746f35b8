// The benchmark page (www/bench.html) and, loaded as a module worker, the benchmark itself: the page
// only starts the worker and shows its lines, so the long synchronous training loops never block
// the page. Each result is also logged as "BENCH <json>" for scripts/bench.mjs; "BENCH-DONE" ends.
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
    // ?memory: only the memory cases (see memoryCases), on these data sets.
    memory: q.has("memory"),
    memoryData: (q.get("memorydata") ?? "bundled,idx-60k").split(",").filter(Boolean),
  };
}

// ---- memory ------------------------------------------------------------------------------------
// Each case (model x data set) runs in a fresh worker, as the lab's engine does, for 3 epochs. After
// each epoch the worker reports its wasm memory and waits until the page says "go": meanwhile
// scripts/bench-extra.mjs reads the JS heaps of the page and of the worker over DevTools.
const MEMORY_MODELS = ["cnn", "ae", "vae"];
const MEMORY_EPOCHS = 3;

// IDX files (big-endian header, then the bytes) of `count` records cycling through `records`.
function idxFiles(records, rows, cols, count) {
  const px = rows * cols;
  const images = new Uint8Array(16 + count * px);
  const labels = new Uint8Array(8 + count);
  const iv = new DataView(images.buffer);
  const lv = new DataView(labels.buffer);
  [0x803, count, rows, cols].forEach((v, i) => iv.setUint32(4 * i, v));
  [0x801, count].forEach((v, i) => lv.setUint32(4 * i, v));
  for (let i = 0; i < count; i++) {
    const r = i % records.labels.length;
    labels[8 + i] = records.labels[r];
    images.set(records.pixels.subarray(r * px, (r + 1) * px), 16 + i * px);
  }
  return [images, labels];
}

// The bundled digits as a full-size MNIST download: the 8,000 training digits repeated to 60,000
// and the 2,000 test digits to 10,000 (the size of the real IDX files; the digits repeat).
function synthetic60k(mnist) {
  const v = new DataView(mnist.buffer, mnist.byteOffset);
  const [n, rows, cols, train] = [8, 12, 16, 20].map((o) => v.getUint32(o, true));
  const px = rows * cols;
  const labels = mnist.subarray(32, 32 + n);
  const pixels = mnist.subarray(32 + n);
  const split = (a, b) => ({ labels: labels.subarray(a, b), pixels: pixels.subarray(a * px, b * px) });
  return [
    ...idxFiles(split(0, train), rows, cols, 60000),
    ...idxFiles(split(train, n), rows, cols, 10000),
  ];
}

async function memoryCase({ model, data, batch }, report) {
  const wasm = await import("../pkg/cnn-lab.js");
  const { memory } = await wasm.default();
  const res = await fetch(new URL("../assets/mnist-10k.bin", import.meta.url));
  if (!res.ok) throw new Error(`MNIST asset: HTTP ${res.status}`);
  let run;
  {
    const mnist = new Uint8Array(await res.arrayBuffer());
    run =
      data === "bundled"
        ? wasm.BenchRun.bundled(mnist, model, batch)
        : wasm.BenchRun.idx(...synthetic60k(mnist), model, batch);
  }
  const train = run.train_len();
  for (let epoch = 1; epoch <= MEMORY_EPOCHS; epoch++) {
    const t0 = performance.now();
    run.epoch();
    const seconds = (performance.now() - t0) / 1000;
    await report({ model, data, train, batch, epoch, seconds, wasm_bytes: memory.buffer.byteLength });
  }
  run.free();
}

// In the page: one fresh worker per case, one after the other.
async function memoryCases(opts) {
  for (const data of opts.memoryData) {
    for (const model of opts.models.filter((m) => MEMORY_MODELS.includes(m))) {
      const worker = new Worker(new URL("bench.js", import.meta.url), { type: "module" });
      // scripts/bench-extra.mjs measures after each BENCH-MEM line, then calls benchGo.
      self.benchGo = () => worker.postMessage({ go: true });
      await new Promise((resolve, reject) => {
        worker.onmessage = (e) => {
          const { mem, done, error } = e.data;
          if (mem) console.log(`BENCH-MEM ${JSON.stringify(mem)}`);
          if (error) reject(new Error(error));
          if (done) resolve();
        };
        worker.onerror = (e) => reject(new Error(`worker: ${e.message}`));
        worker.postMessage({ memoryCase: { model, data, batch: opts.batch } });
      });
      worker.terminate();
    }
  }
}

async function runCases(opts, emit) {
  const wasm = await import("../pkg/cnn-lab.js");
  await wasm.default();
  const res = await fetch(new URL("../assets/mnist-10k.bin", import.meta.url));
  if (!res.ok) throw new Error(`MNIST asset: HTTP ${res.status}`);
  const mnist = new Uint8Array(await res.arrayBuffer());
  for (const m of opts.models) {
    const run = opts.breakdown ? wasm.bench_breakdown : wasm.bench_train;
    emit(run(mnist, m, opts.batch, opts.warmup, opts.steps));
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

// In a memory case's worker: the case, then a "go" after each epoch's report.
let go;
async function memoryMessage(msg) {
  if (msg.go) return go?.();
  try {
    const report = (mem) =>
      new Promise((resolve) => {
        go = resolve;
        self.postMessage({ mem });
      });
    await memoryCase(msg.memoryCase, report);
    self.postMessage({ done: true });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
}

if (IN_WORKER) {
  self.onmessage = async (e) => {
    if (e.data.memoryCase || e.data.go) return memoryMessage(e.data);
    try {
      await runCases(e.data, (line) => self.postMessage({ line }));
      self.postMessage({ done: true });
    } catch (err) {
      self.postMessage({ error: String(err?.stack ?? err) });
    }
  };
} else if (options(location.search).memory) {
  const status = document.getElementById("status");
  status.textContent = "Measuring memory…";
  memoryCases(options(location.search)).then(
    () => {
      status.textContent = "Done.";
      console.log("BENCH-DONE");
    },
    (err) => console.log(`BENCH-ERROR ${err?.stack ?? err}`),
  );
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
