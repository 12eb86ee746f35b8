//! What the worker holds per model slot: a trainer on the CPU or (feature `webgpu`) on the GPU.
//! `Engine` is the one place that chooses between the backends; everything else is written once
//! against `Trainer<B>`. It also turns the page's model descriptions into `ModelKind`s (with
//! errors instead of panics), starts runs with the page's options, and guards against a loss that
//! turns NaN (the weights of the last finished epoch are put back).

use super::models::{AutoencoderConfig, ClassifierConfig, Model, ModelKind, VaeConfig};
use super::train::owned;
use super::{Evaluation, Layer, LayerOutput, LayerSpec, OptimizerConfig, Progress, TrainConfig};
use super::{Shape, Trainer};
use crate::backend::cpu::Cpu;
#[cfg(feature = "webgpu")]
use crate::backend::gpu::Gpu;
use crate::backend::Backend;
use crate::data::augment::Augment;
use crate::data::mnist::Mnist;
use crate::data::{Dataset, View};
use crate::rng::Rng;

/// Every model of the lab reads 28x28 grey digits.
pub const INPUT: (usize, usize, usize) = (1, 28, 28);
const CLASSES: usize = 10;

/// A model as the page describes it (protocol `createModel.spec`).
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSpec {
    /// A layer list that must end in a dense layer of 10 units.
    Cnn(Vec<LayerSpec>),
    /// `depth` weighted layers (stem conv, two-conv blocks, dense); `skip` makes it a ResNet.
    Deep {
        depth: usize,
        skip: bool,
    },
    /// Dense autoencoder 784-128-latent-128-784.
    Ae {
        latent: usize,
    },
    ConvAe {
        latent: usize,
    },
    Vae {
        latent: usize,
        hidden: usize,
        beta: f32,
    },
}

impl ModelSpec {
    pub fn kind(&self) -> Result<ModelKind, String> {
        let kind = match *self {
            ModelSpec::Cnn(ref layers) => {
                check_cnn(layers)?;
                ModelKind::Classifier(ClassifierConfig {
                    input: INPUT,
                    layers: layers.clone(),
                    classes: CLASSES,
                })
            }
            ModelSpec::Deep { depth, skip } => ModelKind::Classifier(deep(depth, skip)?),
            ModelSpec::Ae { latent } => {
                ModelKind::Autoencoder(AutoencoderConfig::dense(INPUT, 128, check_latent(latent)?))
            }
            ModelSpec::ConvAe { latent } => ModelKind::Autoencoder(AutoencoderConfig::conv(
                INPUT,
                16,
                32,
                check_latent(latent)?,
            )),
            ModelSpec::Vae {
                latent,
                hidden,
                beta,
            } => {
                if !(8..=1024).contains(&hidden) {
                    return Err(format!("hidden size {hidden}: use 8 to 1024"));
                }
                if !(beta.is_finite() && beta >= 0.0) {
                    return Err(format!("beta {beta}: use a number >= 0"));
                }
                let mut cfg = VaeConfig::deep(INPUT, hidden, check_latent(latent)?);
                cfg.beta = beta;
                ModelKind::Vae(cfg)
            }
        };
        Ok(kind)
    }
}

fn check_latent(latent: usize) -> Result<usize, String> {
    match latent {
        1..=256 => Ok(latent),
        _ => Err(format!("latent size {latent}: use 1 to 256")),
    }
}

/// Follows the shape through the layers, so that a layer that does not fit is an error message
/// rather than a panic in the builder.
fn check_cnn(layers: &[LayerSpec]) -> Result<(), String> {
    let (mut c, mut h, mut w) = INPUT;
    let mut params = 0usize;
    let out =
        |n: usize, k: usize, s: usize, p: usize| (n + 2 * p).checked_sub(k).map(|d| d / s + 1);
    for (i, l) in layers.iter().enumerate() {
        let at = |what: &str| format!("layer {} ({l:?}): {what}", i + 1);
        match *l {
            LayerSpec::Conv {
                filters,
                k,
                stride,
                pad,
                ..
            } => {
                if h == 1 && w == 1 && c > 1 && i > 0 {
                    return Err(at("a convolution needs a feature map, not a flat vector"));
                }
                if k == 0 || stride == 0 || !(1..=512).contains(&filters) || pad >= k.max(1) {
                    return Err(at("kernel, stride and filters >= 1, padding < kernel"));
                }
                let (Some(oh), Some(ow)) = (out(h, k, stride, pad), out(w, k, stride, pad)) else {
                    return Err(at(&format!("the kernel is larger than the {h}x{w} input")));
                };
                params += filters * (c * k * k + 1);
                (c, h, w) = (filters, oh, ow);
            }
            LayerSpec::MaxPool { k, stride } | LayerSpec::AvgPool { k, stride } => {
                if k == 0 || stride == 0 {
                    return Err(at("pool size and stride >= 1"));
                }
                let (Some(oh), Some(ow)) = (out(h, k, stride, 0), out(w, k, stride, 0)) else {
                    return Err(at(&format!("the window is larger than the {h}x{w} input")));
                };
                (h, w) = (oh, ow);
            }
            LayerSpec::Dense { units } => {
                if !(1..=4096).contains(&units) {
                    return Err(at("units from 1 to 4096"));
                }
                params += (c * h * w + 1) * units;
                (c, h, w) = (units, 1, 1);
            }
            LayerSpec::Flatten => (c, h, w) = (c * h * w, 1, 1),
            LayerSpec::Activation(_) => {}
            _ => return Err(at("not a layer the CNN builder offers")),
        }
        if params > 20_000_000 {
            return Err(at(
                "more than 20 million parameters: too large for the browser",
            ));
        }
    }
    match layers.last() {
        Some(LayerSpec::Dense { units: CLASSES }) => Ok(()),
        _ => Err("the last layer must be a dense layer with 10 units (one per digit)".into()),
    }
}

/// The ResNet exercise's networks: a conv-BN-ReLU stem (width 4), `(depth - 2) / 2` two-conv blocks
/// spread over three stages (width doubling, size halving), global average pooling, dense 10.
fn deep(depth: usize, skip: bool) -> Result<ClassifierConfig, String> {
    if !(4..=40).contains(&depth) || !depth.is_multiple_of(2) {
        return Err(format!("depth {depth}: use an even number from 4 to 40"));
    }
    let blocks = (depth - 2) / 2;
    let stages = blocks.min(3);
    let mut cfg = ClassifierConfig::deep(INPUT, 4, stages, 1, skip);
    let stem = 3;
    let mut layers = cfg.layers[..stem].to_vec();
    for s in 0..stages {
        let here = blocks / stages + usize::from(s < blocks % stages);
        for b in 0..here {
            layers.push(LayerSpec::Residual {
                filters: 4 << s,
                stride: if s > 0 && b == 0 { 2 } else { 1 },
                skip,
            });
        }
    }
    layers.extend_from_slice(&cfg.layers[cfg.layers.len() - 3..]);
    cfg.layers = layers;
    Ok(cfg)
}

/// A training run as the page asks for it (protocol `train`).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRequest {
    pub epochs: usize,
    pub batch: usize,
    pub optimizer: OptimizerConfig,
    /// Use only the first `n` training digits (after the class filter).
    pub train_size: Option<usize>,
    /// Train on these digits only (anomaly detection).
    pub classes: Option<Vec<u8>>,
    /// Input augmentation and noise; autoencoders keep the clean digit as their target.
    pub augment: Option<Augment>,
    /// Measure the per-epoch test metrics on the first `n` held-out digits only (for slow devices).
    pub test_size: Option<usize>,
}

/// The compute device a new model is built on.
// One per model, moved once: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Device {
    Cpu,
    #[cfg(feature = "webgpu")]
    Gpu(Gpu),
}

#[allow(clippy::large_enum_variant)]
enum Any {
    Cpu(Trainer<Cpu>),
    #[cfg(feature = "webgpu")]
    Gpu(Trainer<Gpu>),
}

/// Runs `$body` with `$t` bound to the trainer, whatever its backend.
macro_rules! dispatch {
    ($any:expr, $t:ident => $body:expr) => {
        match $any {
            Any::Cpu($t) => $body,
            #[cfg(feature = "webgpu")]
            Any::Gpu($t) => $body,
        }
    };
}

/// One layer of the model summary.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRow {
    pub name: String,
    /// [c, h, w], or [features] for a flat output.
    pub out_shape: Vec<usize>,
    pub params: usize,
}

/// A classifier's results on the held-out digits.
#[derive(Clone, Debug, PartialEq)]
pub struct TestReport {
    pub accuracy: f32,
    /// `confusion[label * 10 + predicted]`.
    pub confusion: Vec<i32>,
    /// (test index, label, predicted).
    pub misclassified: Vec<(usize, u8, u8)>,
}

pub struct Engine {
    any: Any,
    /// Parameters and buffers (batch-norm statistics) at the start of the run or the end of its
    /// last epoch: what a run that diverges falls back to.
    good: Vec<Vec<f32>>,
    epoch: usize,
    test_size: Option<usize>,
    /// The run's first training loss: a loss this many times larger means the run diverged.
    first_loss: Option<f32>,
}

/// How many times its first loss (or 1, whichever is larger) a run's loss may grow before the run
/// counts as diverged, when it is still finite.
const DIVERGED: f32 = 1e4;

impl Engine {
    pub fn new(
        device: Device,
        spec: &ModelSpec,
        seed: u64,
        data: &Mnist,
    ) -> Result<Engine, String> {
        let kind = spec.kind()?;
        let cfg = TrainConfig {
            batch: 1,
            epochs: 0,
            seed,
            optimizer: OptimizerConfig::adam(1e-3),
        };
        // The real training set arrives with each run (`begin`); one digit stands in until then.
        let (train, test) = (owned(first(data.train(), 1)), owned(data.test()));
        let any = match device {
            Device::Cpu => Any::Cpu(Trainer::new(Cpu::new(), &kind, cfg, train, test)),
            #[cfg(feature = "webgpu")]
            Device::Gpu(gpu) => Any::Gpu(Trainer::new(gpu, &kind, cfg, train, test)),
        };
        Ok(Engine {
            any,
            good: Vec::new(),
            epoch: 0,
            test_size: None,
            first_loss: None,
        })
    }

    /// "cpu" or "webgpu".
    pub fn backend(&self) -> &'static str {
        match self.any {
            Any::Cpu(_) => "cpu",
            #[cfg(feature = "webgpu")]
            Any::Gpu(_) => "webgpu",
        }
    }

    pub fn is_classifier(&self) -> bool {
        dispatch!(&self.any, t => matches!(t.model, Model::Classifier(_)))
    }

    pub fn set_clock(&mut self, clock: impl Fn() -> f64 + 'static) {
        dispatch!(&mut self.any, t => t.set_clock(clock))
    }

    pub fn summary(&mut self) -> Vec<LayerRow> {
        dispatch!(&mut self.any, t => summary(t))
    }

    /// Starts a run on the current weights.
    pub async fn begin(&mut self, req: &TrainRequest, data: &Mnist) -> Result<usize, String> {
        if req.epochs == 0 {
            return Err("train for at least one epoch".into());
        }
        let mut train = select(data.train(), req.classes.as_deref());
        if let Some(n) = req.train_size {
            train.images.truncate(n * train.rows * train.cols);
            train.labels.truncate(n);
        }
        if req.batch == 0 || req.batch > train.len() {
            let n = train.len();
            return Err(format!(
                "batch size {}: the run has {n} training digits",
                req.batch
            ));
        }
        let cfg = |seed| TrainConfig {
            batch: req.batch,
            epochs: req.epochs,
            seed,
            optimizer: req.optimizer,
        };
        dispatch!(&mut self.any, t => {
            t.restart(cfg(t.cfg.seed), train);
            t.set_augment(req.augment);
        });
        self.epoch = 0;
        self.test_size = req.test_size;
        self.first_loss = None;
        self.good = dispatch!(&mut self.any, t => snapshot(t).await);
        Ok(dispatch!(&self.any, t => t.steps_per_epoch()))
    }

    /// One training step; `Ok(None)` once the run has done its epochs. A loss that is not finite
    /// stops the run and puts back the weights of the last finished epoch.
    pub async fn step(&mut self) -> Result<Option<Progress>, String> {
        let Some(p) = dispatch!(&mut self.any, t => t.step().await) else {
            return Ok(None);
        };
        self.device_errors()?;
        let first = *self.first_loss.get_or_insert(p.loss);
        let exploded = p.loss > DIVERGED * first.max(1.0);
        if exploded || !p.loss.is_finite() || p.losses.iter().any(|l| !l.1.is_finite()) {
            let good = std::mem::take(&mut self.good);
            dispatch!(&mut self.any, t => { restore(t, &good); t.stop() });
            return Err(format!(
                "the loss diverged to {} at step {} (is the learning rate too high?); training \
                 stopped and the weights from {} were kept",
                p.loss,
                p.step,
                match self.epoch {
                    0 => "before this run".to_string(),
                    e => format!("the end of epoch {e}"),
                }
            ));
        }
        if p.epoch > self.epoch {
            self.epoch = p.epoch;
            self.good = dispatch!(&mut self.any, t => snapshot(t).await);
        }
        Ok(Some(p))
    }

    /// Validation errors, out-of-memory or a lost device, which WebGPU reports on the side.
    fn device_errors(&self) -> Result<(), String> {
        #[cfg(feature = "webgpu")]
        if let Any::Gpu(t) = &self.any {
            let errors = t.be.errors();
            if !errors.is_empty() {
                return Err(format!("the GPU failed: {}", errors.join("; ")));
            }
        }
        Ok(())
    }

    /// Drops the run's training data (the model keeps only the held-out digits between runs).
    pub fn end(&mut self) {
        dispatch!(&mut self.any, t => {
            t.stop();
            t.train = owned(t.train.slice(0..1));
        })
    }

    /// Loss terms and accuracy on the held-out digits (the run's `test_size` first ones).
    pub async fn test_metrics(&mut self) -> Evaluation {
        let n = self.test_size;
        dispatch!(&mut self.any, t => {
            let all = n.filter(|&n| n > 0 && n < t.test.len()).map(|n| {
                let part = owned(first(t.test.all(), n));
                std::mem::replace(&mut t.test, part)
            });
            let ev = t.evaluate().await;
            if let Some(all) = all {
                t.test = all;
            }
            ev
        })
    }

    /// Accuracy, confusion matrix and misclassified digits of a classifier on the held-out
    /// digits, each moved by a random rotation in [-rotate, rotate] degrees and shift in
    /// [-shift, shift] pixels when given (the same seeded moves for every model).
    pub async fn test_report(
        &mut self,
        transform: Option<(f32, f32)>,
    ) -> Result<TestReport, String> {
        if !self.is_classifier() {
            return Err("only a classifier has a test accuracy".into());
        }
        let test = dispatch!(&self.any, t => t.test.clone());
        let images = match transform {
            None => test.images.clone(),
            Some((rotate, shift)) => moved(&test, rotate, shift),
        };
        let mut report = TestReport {
            accuracy: 0.0,
            confusion: vec![0; CLASSES * CLASSES],
            misclassified: Vec::new(),
        };
        let px = test.rows * test.cols;
        let chunk = 250;
        for (c, part) in images.chunks(chunk * px).enumerate() {
            let probs = self.predict(part).await?;
            for (j, p) in probs.chunks(CLASSES).enumerate() {
                let index = c * chunk + j;
                let (label, pred) = (test.labels[index], argmax(p) as u8);
                report.confusion[label as usize * CLASSES + pred as usize] += 1;
                if label != pred {
                    report.misclassified.push((index, label, pred));
                }
            }
        }
        report.accuracy = 1.0 - report.misclassified.len() as f32 / test.len() as f32;
        Ok(report)
    }

    pub async fn predict(&mut self, images: &[f32]) -> Result<Vec<f32>, String> {
        check_images(images)?;
        let out = dispatch!(&mut self.any, t => t.predict(images).await);
        out.ok_or_else(|| "this model is not a classifier".into())
    }

    pub async fn reconstruct(&mut self, images: &[f32]) -> Result<Vec<f32>, String> {
        check_images(images)?;
        let out = dispatch!(&mut self.any, t => t.reconstruct(images).await);
        out.ok_or_else(|| "a classifier does not reconstruct: use an autoencoder".into())
    }

    /// Latent codes, and for a VAE also log sigma^2 (the codes are its means mu).
    pub async fn encode(&mut self, images: &[f32]) -> Result<(Vec<f32>, Option<Vec<f32>>), String> {
        check_images(images)?;
        dispatch!(&mut self.any, t => {
            let z = t.encode(images).await.ok_or("a classifier has no latent code")?;
            let logvar = match &t.model {
                Model::Vae(m) => Some(t.be.read(&m.logvar.output().buf).await),
                _ => None,
            };
            Ok((z, logvar))
        })
    }

    pub fn latent_len(&self) -> Option<usize> {
        dispatch!(&self.any, t => t.latent_len())
    }

    pub async fn decode(&mut self, codes: &[f32]) -> Result<Vec<f32>, String> {
        let len = self.latent_len().ok_or("a classifier has no decoder")?;
        if codes.is_empty() || !codes.len().is_multiple_of(len) {
            return Err(format!(
                "codes of {len} numbers expected, got {} numbers",
                codes.len()
            ));
        }
        let out = dispatch!(&mut self.any, t => t.decode(codes).await);
        out.ok_or_else(|| "a classifier has no decoder".into())
    }

    /// `count` images decoded from codes drawn from N(0, I) with `seed`.
    pub async fn sample(&mut self, count: usize, seed: u64) -> Result<Vec<f32>, String> {
        let len = self.latent_len().ok_or("a classifier cannot sample")?;
        let mut rng = Rng::new(seed);
        let z: Vec<f32> = (0..count * len).map(|_| rng.normal()).collect();
        self.decode(&z).await
    }

    pub async fn activations(&mut self, image: &[f32]) -> Result<Vec<LayerOutput>, String> {
        if image.len() != INPUT.1 * INPUT.2 {
            return Err(format!(
                "one 28x28 image expected, got {} numbers",
                image.len()
            ));
        }
        Ok(dispatch!(&mut self.any, t => t.activations(image).await))
    }

    pub async fn filters(&mut self) -> Result<(Vec<usize>, Vec<f32>), String> {
        let out = dispatch!(&mut self.any, t => t.first_filters().await);
        out.ok_or_else(|| "this model has no convolution".into())
    }

    pub async fn grad_norms(&mut self) -> Vec<(String, f32)> {
        dispatch!(&mut self.any, t => t.grad_norms().await)
    }

    /// The model's weights as a safetensors file (names and layouts: `io::state`).
    pub async fn export(&mut self) -> Vec<u8> {
        dispatch!(&mut self.any, t => {
            crate::io::state::export_safetensors(&t.be, &mut t.model, &[("format", "pt")]).await
        })
    }

    /// Loads weights from a safetensors file; a rejected file leaves the model as it was.
    pub fn import(&mut self, bytes: &[u8]) -> Result<(), String> {
        dispatch!(&mut self.any, t => {
            crate::io::state::import_safetensors(&t.be, &mut t.model, bytes)
                .map_err(|e| format!("the model file was not loaded: {e}"))
        })
    }
}

/// The digits of four standard IDX files (train/test images and labels), as the engine's data.
/// Every model reads 28x28 digits, so other sizes are refused.
pub fn idx_digits(
    train_images: &[u8],
    train_labels: &[u8],
    test_images: &[u8],
    test_labels: &[u8],
) -> Result<Mnist, String> {
    use crate::data::idx;
    let train = idx::load(train_images, train_labels).map_err(|e| format!("training set: {e}"))?;
    let test = idx::load(test_images, test_labels).map_err(|e| format!("test set: {e}"))?;
    for (name, d) in [("training", &train), ("test", &test)] {
        if (d.rows, d.cols) != (INPUT.1, INPUT.2) {
            return Err(format!(
                "the {name} images are {}x{}; the lab's models read {}x{} digits",
                d.rows, d.cols, INPUT.1, INPUT.2
            ));
        }
    }
    let train_len = train.len();
    let mut data = train;
    data.images.extend_from_slice(&test.images);
    data.labels.extend_from_slice(&test.labels);
    Ok(Mnist {
        data,
        train_len,
        seed: 0,
    })
}

fn check_images(images: &[f32]) -> Result<(), String> {
    let px = INPUT.1 * INPUT.2;
    if images.is_empty() || !images.len().is_multiple_of(px) {
        return Err(format!(
            "whole 28x28 images expected, got {} numbers",
            images.len()
        ));
    }
    Ok(())
}

fn first(view: View<'_>, n: usize) -> View<'_> {
    View {
        images: &view.images[..n * view.pixels()],
        labels: &view.labels[..n],
        ..view
    }
}

/// The digits of `view` whose label is in `classes` (all without a filter).
fn select(view: View<'_>, classes: Option<&[u8]>) -> Dataset {
    let Some(classes) = classes else {
        return owned(view);
    };
    let px = view.pixels();
    let mut out = Dataset {
        images: Vec::new(),
        labels: Vec::new(),
        rows: view.rows,
        cols: view.cols,
    };
    for (i, &label) in view.labels.iter().enumerate() {
        if classes.contains(&label) {
            out.images
                .extend_from_slice(&view.images[i * px..(i + 1) * px]);
            out.labels.push(label);
        }
    }
    out
}

fn moved(test: &Dataset, rotate: f32, shift: f32) -> Vec<f32> {
    let aug = Augment {
        max_rotate_deg: rotate,
        max_shift: shift,
        ..Augment::default()
    };
    let mut rng = Rng::new(0x5EED);
    let px = test.rows * test.cols;
    let mut out = vec![0.0; test.images.len()];
    for (src, dst) in test.images.chunks(px).zip(out.chunks_mut(px)) {
        aug.apply(src, dst, test.rows, test.cols, &mut rng);
    }
    out
}

fn argmax(xs: &[f32]) -> usize {
    (0..xs.len()).fold(0, |best, i| if xs[i] > xs[best] { i } else { best })
}

/// Output shape and parameter count of every top-level layer, from one inference on a blank digit.
fn summary<B: Backend + 'static>(t: &mut Trainer<B>) -> Vec<LayerRow> {
    t.infer(&[0.0; INPUT.1 * INPUT.2]);
    let mut rows = Vec::new();
    t.model.visit_layers(&mut |l| {
        let Shape { c, h, w, .. } = l.output().shape;
        let mut params = 0;
        l.visit_params(&mut |p| params += p.len());
        rows.push(LayerRow {
            name: format!("{}: {}", rows.len() + 1, l.name()),
            out_shape: if h == 1 && w == 1 {
                vec![c]
            } else {
                vec![c, h, w]
            },
            params,
        });
    });
    rows
}

/// Copies of every parameter and buffer, in visiting order.
async fn snapshot<B: Backend + 'static>(t: &mut Trainer<B>) -> Vec<Vec<f32>> {
    let be = &t.be;
    let mut copies = Vec::new();
    let mut keep = |buf: &B::Buf| {
        let mut copy = be.zeros(be.len(buf));
        be.add_assign(&mut copy, buf);
        copies.push(copy);
    };
    t.model.visit_params(&mut |p| keep(&p.value));
    t.model.visit_buffers(&mut |_, b| keep(b));
    let mut out = Vec::with_capacity(copies.len());
    for c in &copies {
        out.push(be.read(c).await);
    }
    out
}

/// Writes a `snapshot` back and forgets the optimizer's momenta (they may hold NaN).
fn restore<B: Backend + 'static>(t: &mut Trainer<B>, good: &[Vec<f32>]) {
    if good.is_empty() {
        return;
    }
    let (be, mut i) = (&t.be, 0);
    let mut put = |buf: &mut B::Buf| {
        be.write(buf, &good[i]);
        i += 1;
    };
    t.model.visit_params(&mut |p| {
        put(&mut p.value);
        p.state.clear();
    });
    t.model.visit_buffers(&mut |_, b| put(b));
    be.flush();
}
