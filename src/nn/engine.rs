//! What the worker holds per model slot: a trainer on the CPU or (feature `webgpu`) on the GPU.
//! `Engine` is the one place that chooses between the backends; everything else is written once
//! against `Trainer<B>`. It also turns the page's model descriptions into `ModelKind`s (with
//! errors instead of panics), starts runs with the page's options, and guards against a loss that
//! turns NaN (the weights of the last finished epoch are put back).
//!
//! A run on the GPU is snapshotted after its training slices, at most once a second (weights,
//! optimizer state, batch-norm statistics and the run's position), read back without waiting
//! (`Gpu::read_later`).
//! When the device is lost, the engine rebuilds the model on the CPU from the last snapshot that
//! arrived and the run continues there; [`Slice::lost`] tells the page.

use super::models::{AutoencoderConfig, ClassifierConfig, Model, ModelKind, VaeConfig};
use super::train::{owned, Position};
use super::{Evaluation, Layer, LayerOutput, LayerSpec, OptimizerConfig, Progress, TrainConfig};
use super::{Shape, Trainer};
use crate::backend::cpu::Cpu;
#[cfg(feature = "webgpu")]
use crate::backend::gpu::Gpu;
use crate::backend::Backend;
use crate::data::augment::Augment;
use crate::data::mnist::Mnist;
use crate::data::{Dataset, View};
use crate::io::state::{import_checkpoint, read_checkpoint, RunCheckpoint};
use crate::rng::Rng;
use std::rc::Rc;

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

/// The GPU was lost and the engine moved the model to the CPU.
#[derive(Clone, Debug, PartialEq)]
pub struct Fallback {
    /// Why, in the browser's or driver's words.
    pub reason: String,
    /// The step of the snapshot the CPU continues from.
    pub step: u64,
}

impl Fallback {
    /// The sentence the page shows.
    pub fn message(&self) -> String {
        format!(
            "The GPU was lost ({}); training continues on the CPU from step {}",
            self.reason, self.step
        )
    }
}

/// What one training slice did.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    /// The slice's last step (its losses and accuracy); None once the run is over.
    pub progress: Option<Progress>,
    /// Set once, on the slice in which the GPU was lost.
    pub lost: Option<Fallback>,
}

/// Steps one slice may take at most (the page's progress wants a number now and then).
const MAX_SLICE_STEPS: usize = 64;
/// With a clock, GPU snapshots are at least this far apart (a large model's copy is not free).
#[cfg(feature = "webgpu")]
const SNAPSHOT_EVERY_S: f64 = 1.0;

/// A run at a step boundary, on the host: what the CPU continues from when the GPU is lost.
#[cfg(feature = "webgpu")]
struct Checkpoint {
    pos: Position,
    values: Vec<Vec<f32>>,
    /// Each parameter's optimizer state (empty before its first step).
    states: Vec<Vec<Vec<f32>>>,
    buffers: Vec<Vec<f32>>,
}

#[cfg(feature = "webgpu")]
impl Checkpoint {
    /// From buffers read in the order `value, state.., value, state.., buffers..`, where
    /// `layout[i]` is parameter i's number of state buffers.
    fn from_flat(pos: Position, layout: &[usize], flat: Vec<Vec<f32>>) -> Checkpoint {
        let mut it = flat.into_iter();
        let (mut values, mut states) = (Vec::new(), Vec::new());
        for &n in layout {
            values.push(it.next().expect("a value per parameter"));
            states.push(it.by_ref().take(n).collect());
        }
        Checkpoint {
            pos,
            values,
            states,
            buffers: it.collect(),
        }
    }
}

/// A snapshot on its way back from the GPU.
#[cfg(feature = "webgpu")]
struct Pending {
    pos: Position,
    layout: Vec<usize>,
    read: crate::backend::gpu::Readback,
}

pub struct Engine {
    any: Any,
    /// What the CPU rebuilds the model as when the GPU is lost.
    #[cfg(feature = "webgpu")]
    kind: ModelKind,
    augment: Option<Augment>,
    clock: Option<Rc<dyn Fn() -> f64>>,
    /// The last snapshot that arrived, and the one still on its way (GPU runs).
    #[cfg(feature = "webgpu")]
    saved: Option<Checkpoint>,
    #[cfg(feature = "webgpu")]
    pending: Option<Pending>,
    lost: Option<Fallback>,
    /// Steps the next slice takes, adapted to the slice's time budget.
    slice_steps: usize,
    /// When the last snapshot was started, by the clock.
    snapshot_at: Option<f64>,
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
        let (train, test) = (owned(data.train().first(1)), owned(data.test()));
        let any = match device {
            Device::Cpu => Any::Cpu(Trainer::new(Cpu::new(), &kind, cfg, train, test)),
            #[cfg(feature = "webgpu")]
            Device::Gpu(gpu) => Any::Gpu(Trainer::new(gpu, &kind, cfg, train, test)),
        };
        Ok(Engine {
            any,
            #[cfg(feature = "webgpu")]
            kind,
            augment: None,
            clock: None,
            #[cfg(feature = "webgpu")]
            saved: None,
            #[cfg(feature = "webgpu")]
            pending: None,
            lost: None,
            slice_steps: 1,
            snapshot_at: None,
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

    /// Seconds from any origin; slices are sized by it (without one, a slice is one step).
    pub fn set_clock(&mut self, clock: impl Fn() -> f64 + 'static) {
        let clock: Rc<dyn Fn() -> f64> = Rc::new(clock);
        self.clock = Some(Rc::clone(&clock));
        dispatch!(&mut self.any, t => t.set_clock(move || clock()))
    }

    pub fn steps_done(&self) -> u64 {
        dispatch!(&self.any, t => t.steps_done())
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
            train.pixels.truncate(n * train.rows * train.cols);
            train.labels.truncate(n);
        }
        if req.batch == 0 || req.batch > train.len() {
            let n = train.len();
            return Err(format!(
                "batch size {}: the run has {n} training digits",
                req.batch
            ));
        }
        #[cfg(feature = "webgpu")]
        if let Any::Gpu(t) = &mut self.any {
            fits_gpu(t, req.batch)?;
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
        self.augment = req.augment;
        self.good = dispatch!(&mut self.any, t => snapshot(t).await);
        // what the CPU continues from if the GPU is lost before the first slice's snapshot
        #[cfg(feature = "webgpu")]
        {
            let (pos, params) = dispatch!(&mut self.any, t => (t.position(), param_count(t)));
            let (values, buffers) = self.good.split_at(params);
            self.saved = Some(Checkpoint {
                pos,
                values: values.to_vec(),
                states: vec![Vec::new(); params],
                buffers: buffers.to_vec(),
            });
        }
        #[cfg(feature = "webgpu")]
        {
            self.pending = None;
        }
        self.snapshot_at = None;
        Ok(dispatch!(&self.any, t => t.steps_per_epoch()))
    }

    /// Trains for about `budget_s` seconds (by the clock; at least one step, at most
    /// `MAX_SLICE_STEPS`), stopping early at the end of an epoch, with one readback of the
    /// metrics at the end; then starts a snapshot of the run that nobody waits for.
    pub async fn train_slice(&mut self, budget_s: f64) -> Result<Slice, String> {
        let now = || self.clock.as_ref().map(|c| c());
        let (t0, before) = (now(), self.steps_done());
        let progress = self.steps(self.slice_steps).await?;
        if let (Some(t0), Some(t1)) = (t0, self.clock.as_ref().map(|c| c())) {
            let done = self.steps_done().saturating_sub(before).max(1);
            let per_step = (t1 - t0) / done as f64;
            let fit = if per_step > 0.0 {
                (budget_s / per_step) as usize
            } else {
                MAX_SLICE_STEPS
            };
            self.slice_steps = fit.clamp(1, (2 * self.slice_steps).min(MAX_SLICE_STEPS));
        }
        self.start_snapshot();
        Ok(Slice {
            progress,
            lost: self.lost.take(),
        })
    }

    /// If the GPU was lost, moves the model to the CPU, to the last snapshot (the page learns
    /// it from the next slice's `lost`). Every call of the page goes through this first.
    pub fn recover(&mut self) -> Result<(), String> {
        #[cfg(feature = "webgpu")]
        if let Any::Gpu(t) = &self.any {
            if t.be.is_lost() {
                return self.fall_back();
            }
        }
        Ok(())
    }

    /// Test and development hook: destroys this model's GPU device, as a driver reset would, and
    /// returns once a readback has seen it gone (a real loss is noticed by the next readback).
    pub async fn destroy_gpu_for_test(&mut self) -> Result<(), String> {
        #[cfg(feature = "webgpu")]
        if let Any::Gpu(t) = &self.any {
            t.be.destroy_device();
            let probe = t.be.zeros(1);
            let _ = t.be.read(&probe).await;
            return Ok(());
        }
        Err("this model does not run on the GPU".into())
    }

    #[cfg(feature = "webgpu")]
    fn fall_back(&mut self) -> Result<(), String> {
        self.poll_snapshot();
        let Any::Gpu(t) = &mut self.any else {
            return Ok(());
        };
        let reason = t.be.lost_reason().unwrap_or_default();
        let Some(cp) = self.saved.take() else {
            return Err(format!(
                "the GPU was lost ({reason}) before the model's weights were saved: create the \
                 model again (it will run on the CPU)"
            ));
        };
        let empty = |d: &Dataset| Dataset {
            pixels: Vec::new(),
            labels: Vec::new(),
            rows: d.rows,
            cols: d.cols,
        };
        let (no_train, no_test) = (empty(&t.train), empty(&t.test));
        let train = std::mem::replace(&mut t.train, no_train);
        let test = std::mem::replace(&mut t.test, no_test);
        let cfg = t.cfg.clone();
        let mut first = cfg.clone();
        first.batch = cfg.batch.min(train.len()); // an idle model keeps one digit
        let mut cpu = Trainer::new(Cpu::new(), &self.kind, first, train, test);
        cpu.cfg = cfg;
        let (be, mut i, mut j) = (&cpu.be, 0, 0);
        cpu.model.visit_params(&mut |p| {
            be.write(&mut p.value, &cp.values[i]);
            p.state = cp.states[i].iter().map(|s| be.upload(s)).collect();
            i += 1;
        });
        cpu.model.visit_buffers(&mut |_, b| {
            be.write(b, &cp.buffers[j]);
            j += 1;
        });
        cpu.set_position(cp.pos);
        cpu.set_augment(self.augment);
        if let Some(clock) = self.clock.clone() {
            cpu.set_clock(move || clock());
        }
        self.lost = Some(Fallback {
            reason,
            step: cpu.steps_done(),
        });
        self.any = Any::Cpu(cpu);
        Ok(())
    }

    /// Starts reading the run back from the GPU, unless a snapshot is still on its way.
    fn start_snapshot(&mut self) {
        #[cfg(feature = "webgpu")]
        {
            self.poll_snapshot();
            let Any::Gpu(t) = &mut self.any else {
                return;
            };
            let now = self.clock.as_ref().map(|c| c());
            let recent = matches!((now, self.snapshot_at), (Some(t1), Some(t0)) if t1 - t0 < SNAPSHOT_EVERY_S);
            if self.pending.is_some() || recent {
                return;
            }
            self.snapshot_at = now;
            let (pos, model) = (t.position(), &mut t.model);
            let mut layout = Vec::new();
            let read = t.be.read_later(|f| {
                model.visit_params(&mut |p| {
                    layout.push(p.state.len());
                    f(&p.value);
                    p.state.iter().for_each(&mut *f);
                });
                model.visit_buffers(&mut |_, b| f(b));
            });
            self.pending = Some(Pending { pos, layout, read });
        }
    }

    /// Keeps the snapshot on its way if it has arrived (never waits).
    #[cfg(feature = "webgpu")]
    fn poll_snapshot(&mut self) {
        use crate::backend::gpu::Polled;
        let Some(p) = &mut self.pending else {
            return;
        };
        match p.read.poll() {
            Polled::Waiting => {}
            Polled::Failed => self.pending = None,
            Polled::Done(flat) => {
                let p = self.pending.take().expect("pending");
                self.saved = Some(Checkpoint::from_flat(p.pos, &p.layout, flat));
            }
        }
    }

    /// One training step; `Ok(None)` once the run has done its epochs. A loss that is not finite
    /// stops the run and puts back the weights of the last finished epoch.
    pub async fn step(&mut self) -> Result<Option<Progress>, String> {
        self.steps(1).await
    }

    /// Up to `max` steps (see `Trainer::steps`); a lost GPU moves the run to the CPU, which
    /// does the steps instead.
    async fn steps(&mut self, max: usize) -> Result<Option<Progress>, String> {
        let p = loop {
            self.recover()?;
            let p = dispatch!(&mut self.any, t => t.steps(max).await);
            if !self.gpu_lost() {
                break p;
            }
        };
        let Some(p) = p else {
            return Ok(None);
        };
        self.checked(p).await.map(Some)
    }

    /// `p` unless the step failed on the device or its loss diverged (see `step`).
    async fn checked(&mut self, p: Progress) -> Result<Progress, String> {
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
        Ok(p)
    }

    /// Data-parallel training (`Trainer::shard_step`): the floats of one shard's record.
    pub fn shard_record_len(&mut self) -> Result<usize, String> {
        Ok(self.cpu()?.record_len())
    }

    /// This replica's part of the next step; `Ok(false)` once the run has done its epochs.
    pub fn shard_step(
        &mut self,
        part: usize,
        parts: usize,
        out: &mut [f32],
    ) -> Result<bool, String> {
        let t = self.cpu()?;
        if part >= parts || parts > t.cfg.batch {
            let batch = t.cfg.batch;
            return Err(format!("shard {part} of {parts} of a batch of {batch}"));
        }
        if out.len() != t.record_len() {
            return Err(format!(
                "a record has {} floats, not {}",
                t.record_len(),
                out.len()
            ));
        }
        Ok(t.shard_step(part, parts, out))
    }

    /// Ends the step with every replica's record, with `step`'s divergence guard.
    pub async fn apply_shards(
        &mut self,
        records: &[f32],
        parts: usize,
    ) -> Result<Progress, String> {
        let t = self.cpu()?;
        if records.len() != parts * t.record_len() {
            return Err(format!(
                "{parts} records of {} floats expected",
                t.record_len()
            ));
        }
        let p = t.apply_shards(records, parts);
        self.checked(p).await
    }

    fn cpu(&mut self) -> Result<&mut Trainer<Cpu>, String> {
        match &mut self.any {
            Any::Cpu(t) => Ok(t),
            #[cfg(feature = "webgpu")]
            Any::Gpu(_) => Err("data-parallel training runs on the CPU only".into()),
        }
    }

    fn gpu_lost(&self) -> bool {
        #[cfg(feature = "webgpu")]
        if let Any::Gpu(t) = &self.any {
            return t.be.is_lost();
        }
        false
    }

    /// Validation errors and out-of-memory, which WebGPU reports on the side.
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
                let part = owned(t.test.all().first(n));
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
        // The same seeded moves, image after image, whatever the chunk size.
        let mut rng = Rng::new(0x5EED);
        let mut report = TestReport {
            accuracy: 0.0,
            confusion: vec![0; CLASSES * CLASSES],
            misclassified: Vec::new(),
        };
        let chunk = 250;
        for c in 0..test.len().div_ceil(chunk) {
            let part = test.slice(c * chunk..test.len().min((c + 1) * chunk));
            let images = match transform {
                None => part.images(),
                Some((rotate, shift)) => moved(part, rotate, shift, &mut rng),
            };
            let probs = self.predict(&images).await?;
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

    /// The run as a checkpoint file (`io::state::export_checkpoint`): the model file of `export`
    /// plus the optimizer state and the run's position, from which `resume` continues exactly.
    pub async fn checkpoint(&mut self) -> Vec<u8> {
        dispatch!(&mut self.any, t => {
            let run = RunCheckpoint {
                optimizer: optimizer_name(&t.cfg.optimizer),
                seed: t.cfg.seed,
                batch: t.cfg.batch,
                train_len: t.train.len(),
                position: t.position().parts(),
            };
            crate::io::state::export_checkpoint(&t.be, &mut t.model, &run).await
        })
    }

    /// Starts a run, as `begin` does, that continues the run saved in `checkpoint` for
    /// `req.epochs` more epochs, with its weights, optimizer state, data order and random streams,
    /// so that it ends as the run would have without the break (bit for bit on the CPU). `req` is
    /// the interrupted run's request; a plain model file starts a new run on its weights. Returns
    /// the steps per epoch and the steps and epochs the checkpoint had done.
    pub async fn resume(
        &mut self,
        req: &TrainRequest,
        data: &Mnist,
        checkpoint: &[u8],
    ) -> Result<(usize, u64, usize), String> {
        let not_loaded = |e: String| format!("the checkpoint was not loaded: {e}");
        let run = read_checkpoint(checkpoint).map_err(|e| not_loaded(e.to_string()))?;
        let steps = self.begin(req, data).await?;
        if let Some(r) = &run {
            let (len, seed) = dispatch!(&self.any, t => (t.train.len(), t.cfg.seed));
            let p = &r.position;
            let here = (optimizer_name(&req.optimizer), req.batch, len, seed);
            let fits = p.cursor.is_multiple_of(r.batch) && p.cursor + r.batch <= len;
            if (r.optimizer, r.batch, r.train_len, r.seed) != here || !fits {
                self.end();
                return Err(not_loaded(format!(
                    "it continues a run of a model with seed {} on {} digits, batch {} and {}, \
                     not seed {} on {} digits, batch {} and {}",
                    r.seed, r.train_len, r.batch, r.optimizer, here.3, here.2, here.1, here.0
                )));
            }
        }
        let imported =
            dispatch!(&mut self.any, t => import_checkpoint(&t.be, &mut t.model, checkpoint));
        if let Err(e) = imported {
            self.end();
            return Err(not_loaded(e.to_string()));
        }
        let mut done = (0, 0);
        if let Some(r) = run {
            let pos = Position::from_parts(&r.position).expect("checked by read_checkpoint");
            done = (pos.step, pos.epoch);
            dispatch!(&mut self.any, t => {
                t.set_position(pos);
                t.cfg.epochs += done.1;
            });
            self.epoch = done.1;
        }
        self.good = dispatch!(&mut self.any, t => snapshot(t).await);
        // what the CPU continues from if the GPU is lost before the first slice's snapshot
        #[cfg(feature = "webgpu")]
        {
            let (pos, params) = dispatch!(&mut self.any, t => (t.position(), param_count(t)));
            let states = dispatch!(&mut self.any, t => optimizer_states(t).await);
            let (values, buffers) = self.good.split_at(params);
            self.saved = Some(Checkpoint {
                pos,
                values: values.to_vec(),
                states,
                buffers: buffers.to_vec(),
            });
        }
        Ok((steps, done.0, done.1))
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
    let train = idx::view(train_images, train_labels).map_err(|e| format!("training set: {e}"))?;
    let test = idx::view(test_images, test_labels).map_err(|e| format!("test set: {e}"))?;
    for (name, d) in [("training", &train), ("test", &test)] {
        if (d.rows, d.cols) != (INPUT.1, INPUT.2) {
            return Err(format!(
                "the {name} images are {}x{}; the lab's models read {}x{} digits",
                d.rows, d.cols, INPUT.1, INPUT.2
            ));
        }
    }
    // One copy of the files' bytes (a full MNIST download: 55 MB), allocated once.
    Ok(Mnist {
        data: Dataset::concat(&[train, test]),
        train_len: train.len(),
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

/// The digits of `view` whose label is in `classes` (all without a filter).
fn select(view: View<'_>, classes: Option<&[u8]>) -> Dataset {
    let Some(classes) = classes else {
        return owned(view);
    };
    let px = view.pixels();
    let mut out = Dataset {
        pixels: Vec::new(),
        labels: Vec::new(),
        rows: view.rows,
        cols: view.cols,
    };
    for (i, &label) in view.labels.iter().enumerate() {
        if classes.contains(&label) {
            out.pixels
                .extend_from_slice(&view.pixels[i * px..(i + 1) * px]);
            out.labels.push(label);
        }
    }
    out
}

fn moved(test: View<'_>, rotate: f32, shift: f32, rng: &mut Rng) -> Vec<f32> {
    let aug = Augment {
        max_rotate_deg: rotate,
        max_shift: shift,
        ..Augment::default()
    };
    let px = test.pixels();
    let mut out = vec![0.0; test.pixels.len()];
    for (src, dst) in test.pixels.chunks(px).zip(out.chunks_mut(px)) {
        aug.apply(src, dst, test.rows, test.cols, rng);
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

/// Refuses a batch whose largest activation would not fit one GPU buffer binding (naming the
/// limit and the largest batch that fits), instead of failing inside a kernel launch.
#[cfg(feature = "webgpu")]
fn fits_gpu(t: &mut Trainer<Gpu>, batch: usize) -> Result<(), String> {
    let l = t.be.limits();
    let (name, max) = [
        (
            "max_storage_buffer_binding_size",
            l.max_storage_buffer_binding_size,
        ),
        ("max_buffer_size", l.max_buffer_size),
    ]
    .into_iter()
    .min_by_key(|x| x.1)
    .unwrap();
    let rows = summary(t);
    let widest = rows
        .iter()
        .map(|r| (r.out_shape.iter().product::<usize>(), &r.name))
        .chain(std::iter::once((
            INPUT.0 * INPUT.1 * INPUT.2,
            &String::from("input"),
        )))
        .max_by_key(|x| x.0)
        .map(|(floats, name)| (floats as u64 * 4, name.clone()))
        .unwrap();
    if batch as u64 * widest.0 <= max {
        return Ok(());
    }
    Err(format!(
        "batch size {batch}: layer {} would need {} bytes per tensor, more than this GPU's \
         {name} ({max} bytes); use a batch of at most {} or the CPU",
        widest.1,
        batch as u64 * widest.0,
        max / widest.0
    ))
}

#[cfg(feature = "webgpu")]
fn param_count<B: Backend + 'static>(t: &mut Trainer<B>) -> usize {
    let mut n = 0;
    t.model.visit_params(&mut |_| n += 1);
    n
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

fn optimizer_name(cfg: &OptimizerConfig) -> &'static str {
    match cfg {
        OptimizerConfig::Adam { .. } => "adam",
        OptimizerConfig::Sgd { .. } => "sgd",
    }
}

/// Copies of each parameter's optimizer state, in visiting order.
#[cfg(feature = "webgpu")]
async fn optimizer_states<B: Backend + 'static>(t: &mut Trainer<B>) -> Vec<Vec<Vec<f32>>> {
    let be = &t.be;
    let mut copies = Vec::new();
    t.model.visit_params(&mut |p| {
        let copy = |s: &B::Buf| {
            let mut c = be.zeros(be.len(s));
            be.add_assign(&mut c, s);
            c
        };
        copies.push(p.state.iter().map(copy).collect::<Vec<_>>());
    });
    let mut out = Vec::with_capacity(copies.len());
    for param in &copies {
        let mut states = Vec::with_capacity(param.len());
        for c in param {
            states.push(be.read(c).await);
        }
        out.push(states);
    }
    out
}
