// The benchmark's multi-threaded CPU lines (docs/benchmarks.md, "Threads"): the same model, seed,
// optimizer and batches as the one-thread line, trained by www/threads.js on `threads` workers, and
// its speed compared with that one-thread line of the same run.
import { trainParallel } from "./threads.js";

// The lab's descriptions of the benchmark's models (src/bench.rs builds the same ones).
const MODELS = {
  cnn: {
    metric: "accuracy",
    spec: {
      kind: "cnn",
      layers: [
        { type: "conv", filters: 8, k: 3, pad: 1 },
        { type: "relu" },
        { type: "pool", k: 2, stride: 2 },
        { type: "conv", filters: 16, k: 3, pad: 1 },
        { type: "relu" },
        { type: "pool", k: 2, stride: 2 },
        { type: "flatten" },
        { type: "dense", units: 10 },
      ],
    },
  },
  ae: { metric: "mse", spec: { kind: "ae", latent: 32 } },
};

export const threadModel = (name) => name in MODELS;

const round = (x, digits) => Number(x.toFixed(digits));

/** The JSON line of `name` on `opts.threads` threads; `single` is the parsed one-thread line. */
export async function threadsCase(wasm, mnist, name, opts, single) {
  const { spec, metric } = MODELS[name];
  const request = { epochs: 1000, batch: opts.batch, lr: 0.001, optimizer: "adam" };
  const run = await trainParallel(wasm, { mnist, spec, seed: 1, request }, opts);
  const ms = run.ms;
  const images_per_s = (ms.length * opts.batch) / (ms.reduce((a, b) => a + b, 0) / 1e3);
  const sorted = [...ms].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const line = {
    model: name,
    backend: "cpu-simd",
    threads: run.threads,
    batch: opts.batch,
    steps: ms.length,
    images_per_s: round(images_per_s, 1),
    ms_per_step_median: round(median, 3),
    images_per_s_at_median: round(opts.batch / (median / 1e3), 1),
    ms_per_step_min: round(sorted[0], 3),
    gflops: round((single.mflop_per_image * images_per_s) / 1e3, 3),
    mflop_per_image: single.mflop_per_image,
    test_metric: round(metric === "accuracy" ? run.test.accuracy : run.test.mse, 5),
    metric_name: metric,
    speedup_vs_1_thread: round(images_per_s / single.images_per_s, 3),
    speedup_at_median: round(single.ms_per_step_median / median, 3),
    speedup_at_min: round(single.ms_per_step_min / sorted[0], 3),
    ms_per_step_waiting: round(run.waitedMs / ms.length, 3),
    replicas_identical: run.identical,
    train_loss_last_step: round(run.progress.losses.loss, 5),
  };
  if (run.reason) Object.assign(line, { threads_requested: opts.threads, fallback: run.reason });
  return JSON.stringify(line);
}
