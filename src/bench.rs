//! The benchmark's wasm-bindgen surface (www/bench.js drives it; scripts/bench.sh prints its lines).
//! Not used by the lab itself.
//!
//! A case trains one of the course's models on the bundled MNIST training split with Adam: a few
//! warm-up steps (they size every buffer), then `steps` timed steps (one full epoch unless the caller
//! asks for fewer), then an untimed evaluation on the test split. The CPU backend computes when
//! called, so each step is done when `step()` returns and `performance.now()` around it measures it.
//!
//! FLOPs per image are counted analytically from the op shapes by `backend::timed::Timed` during one
//! extra training step: 2 flops per multiply-add of every dense, conv and transposed-conv op, i.e.
//! per weighted layer `2·MACs` forward, `2·MACs` for the weight gradient and `2·MACs` for the input
//! gradient (skipped at the first layer), with `MACs = out·in` for a dense layer and
//! `MACs = out_c·out_h·out_w·in_c·kh·kw` for a convolution (a transposed convolution counts as the
//! convolution it is the transpose of). Element-wise ops, pooling, batch norm, losses and the
//! optimizer are not counted: they are a few percent of the work.

use crate::backend::timed::Timed;
use crate::backend::{Backend, Cpu};
use crate::data::mnist::Mnist;
use crate::nn::models::{AutoencoderConfig, ClassifierConfig, VaeConfig};
use crate::nn::train::owned;
use crate::nn::{Evaluation, ModelKind, OptimizerConfig, TrainConfig, Trainer};
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Milliseconds, from the page's or the worker's `performance`.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The benchmark's models: the same configurations as `examples/train_native.rs`.
fn model(name: &str) -> Option<(ModelKind, &'static str)> {
    let mnist = (1, 28, 28);
    Some(match name {
        "cnn" => (
            ModelKind::Classifier(ClassifierConfig::reference()),
            "accuracy",
        ),
        "ae" => (
            ModelKind::Autoencoder(AutoencoderConfig::dense(mnist, 128, 32)),
            "mse",
        ),
        "vae" => (
            ModelKind::Vae(VaeConfig::dense(mnist, 256, 16)),
            "neg_elbo_nats",
        ),
        "resnet" => (
            ModelKind::Classifier(ClassifierConfig::deep(mnist, 8, 3, 3, true)),
            "accuracy",
        ),
        "convae" => (
            ModelKind::Autoencoder(AutoencoderConfig::conv(mnist, 16, 32, 16)),
            "mse",
        ),
        _ => return None,
    })
}

/// Runs a future that never waits (every CPU backend future is ready at once).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the CPU backend never waits"),
    }
}

fn trainer<B: Backend + 'static>(
    be: B,
    mnist: &Mnist,
    kind: &ModelKind,
    batch: usize,
) -> Trainer<B> {
    let cfg = TrainConfig {
        batch,
        epochs: usize::MAX,
        seed: 1,
        optimizer: OptimizerConfig::adam(1e-3),
    };
    Trainer::new(be, kind, cfg, owned(mnist.train()), owned(mnist.test()))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Warm-up, then `steps` timed steps (0: one full epoch). Returns the per-step milliseconds.
fn timed_steps<B: Backend + 'static>(t: &mut Trainer<B>, warmup: usize, steps: usize) -> Vec<f64> {
    for _ in 0..warmup {
        ready(t.step()).expect("running");
    }
    let steps = if steps == 0 {
        t.steps_per_epoch()
    } else {
        steps
    };
    (0..steps)
        .map(|_| {
            let t0 = performance_now();
            ready(t.step()).expect("running");
            performance_now() - t0
        })
        .collect()
}

fn parse(mnist: &[u8]) -> Result<Mnist, JsError> {
    Mnist::parse(mnist).map_err(|e| JsError::new(&format!("{e:?}")))
}

fn unknown(name: &str) -> JsError {
    JsError::new(&format!(
        "unknown model {name} (cnn, ae, vae, resnet, convae)"
    ))
}

/// FLOPs per training image of model `kind`, counted by `Timed` over one step on the CPU.
fn flops_per_image(mnist: &Mnist, kind: &ModelKind, batch: usize) -> f64 {
    let mut t = trainer(Timed::new(Cpu::new(), performance_now), mnist, kind, batch);
    ready(t.step()).expect("running");
    t.be.flops() / batch as f64
}

fn metric_value(ev: &Evaluation, metric: &str) -> f32 {
    match metric {
        "accuracy" => ev.accuracy.expect("a classifier"),
        _ => ev.loss,
    }
}

/// The JSON line of one training case (see scripts/bench.sh for the fields).
#[allow(clippy::too_many_arguments)]
fn case_json(
    name: &str,
    backend: &str,
    batch: usize,
    mut ms: Vec<f64>,
    flops: f64,
    value: f32,
    metric: &str,
) -> String {
    let total: f64 = ms.iter().sum();
    let images_per_s = (ms.len() * batch) as f64 / (total / 1e3);
    let med = median(&mut ms);
    format!(
        concat!(
            r#"{{"model":"{}","backend":"{}","threads":1,"batch":{},"steps":{},"#,
            r#""images_per_s":{:.1},"ms_per_step_median":{:.3},"images_per_s_at_median":{:.1},"#,
            r#""ms_per_step_min":{:.3},"gflops":{:.3},"mflop_per_image":{:.4},"#,
            r#""test_metric":{:.5},"metric_name":"{}"}}"#
        ),
        name,
        backend,
        batch,
        ms.len(),
        images_per_s,
        med,
        batch as f64 / (med / 1e3),
        ms[0],
        flops * images_per_s / 1e9,
        flops / 1e6,
        value,
        metric
    )
}

/// One training case on the CPU backend (wasm SIMD, this thread) as a JSON object.
#[wasm_bindgen]
pub fn bench_train(
    mnist: &[u8],
    name: &str,
    batch: usize,
    warmup: usize,
    steps: usize,
) -> Result<String, JsError> {
    let mnist = parse(mnist)?;
    let (kind, metric) = model(name).ok_or_else(|| unknown(name))?;
    let flops = flops_per_image(&mnist, &kind, batch);
    let mut t = trainer(Cpu::new(), &mnist, &kind, batch);
    let ms = timed_steps(&mut t, warmup, steps);
    let value = metric_value(&ready(t.evaluate()), metric);
    Ok(case_json(name, "cpu-simd", batch, ms, flops, value, metric))
}

/// The same case on WebGPU, without the test evaluation. Each step ends by reading its losses back,
/// so the GPU's work is done when the clock stops.
#[cfg(feature = "webgpu")]
#[wasm_bindgen]
pub async fn bench_train_webgpu(
    mnist: Vec<u8>,
    name: String,
    batch: usize,
    warmup: usize,
    steps: usize,
) -> Result<String, JsError> {
    let mnist = parse(&mnist)?;
    let (kind, metric) = model(&name).ok_or_else(|| unknown(&name))?;
    let flops = flops_per_image(&mnist, &kind, batch);
    let gpu = crate::backend::gpu::Gpu::new()
        .await
        .map_err(|e| JsError::new(&e))?;
    let mut t = trainer(gpu, &mnist, &kind, batch);
    for _ in 0..warmup {
        t.step().await.expect("running");
    }
    let mut ms = Vec::with_capacity(steps);
    for _ in 0..steps.max(1) {
        let t0 = performance_now();
        t.step().await.expect("running");
        ms.push(performance_now() - t0);
    }
    // No test evaluation: on a CPU-emulated adapter it alone takes minutes.
    let line = case_json(&name, "webgpu", batch, ms, flops, f32::NAN, metric);
    Ok(line.replace(r#""test_metric":NaN"#, r#""test_metric":null"#))
}

/// Per-op milliseconds per training step (forward and backward ops apart), as a JSON object.
#[wasm_bindgen]
pub fn bench_breakdown(
    mnist: &[u8],
    name: &str,
    batch: usize,
    warmup: usize,
    steps: usize,
) -> Result<String, JsError> {
    let mnist = parse(mnist)?;
    let (kind, _) = model(name).ok_or_else(|| unknown(name))?;
    let mut t = trainer(
        Timed::new(Cpu::new(), performance_now),
        &mnist,
        &kind,
        batch,
    );
    for _ in 0..warmup {
        ready(t.step()).expect("running");
    }
    t.be.reset();
    let ms = timed_steps(&mut t, 0, steps);
    let n = ms.len() as f64;
    let mut stats = t.be.stats();
    stats.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    let ops: Vec<String> = stats
        .iter()
        .map(|s| {
            format!(
                r#"{{"op":"{}","calls_per_step":{:.1},"ms_per_step":{:.4}}}"#,
                s.name,
                s.calls as f64 / n,
                s.ms / n
            )
        })
        .collect();
    let in_ops: f64 = stats.iter().map(|s| s.ms).sum::<f64>() / n;
    let step = ms.iter().sum::<f64>() / n;
    Ok(format!(
        r#"{{"breakdown":"{}","backend":"cpu-simd","batch":{},"steps":{},"ms_per_step_mean":{:.4},"ms_outside_ops":{:.4},"ops":[{}]}}"#,
        name,
        batch,
        ms.len(),
        step,
        step - in_ops,
        ops.join(",")
    ))
}

/// Latency of one single-image prediction of the reference CNN (as the drawing canvas asks for it),
/// after a short training run at batch 64, as a JSON object: median and 90th percentile of `reps`.
/// Without cross-origin isolation the browser rounds `performance.now()` to 0.1 ms, so the mean
/// (over all reps) is reported too.
#[wasm_bindgen]
pub fn bench_predict(mnist: &[u8], reps: usize) -> Result<String, JsError> {
    let mnist = parse(mnist)?;
    let (kind, _) = model("cnn").expect("cnn");
    let mut t = trainer(Cpu::new(), &mnist, &kind, 64);
    timed_steps(&mut t, 0, 5);
    let test = mnist.test();
    let first = {
        let t0 = performance_now();
        ready(t.predict(&test.image(0))).expect("a classifier");
        performance_now() - t0
    };
    let mut ms: Vec<f64> = (0..reps)
        .map(|i| {
            let image = test.image(i % test.len());
            let t0 = performance_now();
            let p = ready(t.predict(&image)).expect("a classifier");
            let dt = performance_now() - t0;
            assert_eq!(p.len(), 10);
            dt
        })
        .collect();
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let med = median(&mut ms);
    let p90 = ms[(ms.len() * 9 / 10).min(ms.len() - 1)];
    Ok(format!(
        r#"{{"predict":"cnn","backend":"cpu-simd","images":1,"reps":{},"ms_median":{:.4},"ms_mean":{:.4},"ms_p90":{:.4},"ms_first_call":{:.4}}}"#,
        ms.len(),
        med,
        mean,
        p90,
        first
    ))
}

/// A CPU training run that JavaScript drives epoch by epoch, so that the memory case can measure
/// between epochs. It keeps what the lab's worker keeps: the whole data set, plus the trainer's own
/// copies of the training and test splits.
#[wasm_bindgen]
pub struct BenchRun {
    _data: Mnist,
    t: Trainer<Cpu>,
}

#[wasm_bindgen]
impl BenchRun {
    /// On the bundled file (8,000 training digits).
    pub fn bundled(mnist: &[u8], name: &str, batch: usize) -> Result<BenchRun, JsError> {
        BenchRun::on(parse(mnist)?, name, batch)
    }

    /// On a pair of IDX training files and a pair of test files, loaded as the lab's `loadIdx` loads
    /// a user's MNIST download.
    pub fn idx(
        train_images: &[u8],
        train_labels: &[u8],
        test_images: &[u8],
        test_labels: &[u8],
        name: &str,
        batch: usize,
    ) -> Result<BenchRun, JsError> {
        let data =
            crate::nn::engine::idx_digits(train_images, train_labels, test_images, test_labels)
                .map_err(|e| JsError::new(&e))?;
        BenchRun::on(data, name, batch)
    }

    fn on(data: Mnist, name: &str, batch: usize) -> Result<BenchRun, JsError> {
        let (kind, _) = model(name).ok_or_else(|| unknown(name))?;
        let t = trainer(Cpu::new(), &data, &kind, batch);
        Ok(BenchRun { _data: data, t })
    }

    pub fn train_len(&self) -> usize {
        self.t.train.len()
    }

    /// Trains one full epoch; returns its number of steps.
    pub fn epoch(&mut self) -> usize {
        let done = self.t.epochs_done();
        let mut steps = 0;
        while self.t.epochs_done() == done {
            ready(self.t.step()).expect("running");
            steps += 1;
        }
        steps
    }
}
