//! The trainer: owns the backend, a model, its optimizer and the data, and advances one batch per
//! `step()`, so that a Web Worker can drive it step by step (and pause, resume or stop between
//! steps). Numbers come back only through the async `Backend::read`.

use super::layer::{ensure_len, Shape, Tensor};
use super::models::{Model, ModelKind};
use super::optim::{Optimizer, OptimizerConfig};
use crate::backend::Backend;
use crate::data::augment::Augment;
use crate::data::{epoch_order, Dataset, View};
use crate::rng::Rng;

mod parallel;
pub use parallel::shard_range;

/// An owned copy of a view (the trainer keeps its data for the whole run).
pub fn owned(view: View<'_>) -> Dataset {
    Dataset {
        pixels: view.pixels.to_vec(),
        labels: view.labels.to_vec(),
        rows: view.rows,
        cols: view.cols,
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    pub batch: usize,
    pub epochs: usize,
    pub seed: u64,
    pub optimizer: OptimizerConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused,
    Stopped,
    /// All configured epochs are done.
    Finished,
}

/// What one training step reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Steps done so far (this one included).
    pub step: u64,
    /// Completed epochs, and the fraction of the current one.
    pub epoch: usize,
    pub epoch_progress: f32,
    /// Each loss term of this batch ("xent", "mse", "bce", or the VAE's "recon" and "kl").
    pub losses: Vec<(&'static str, f32)>,
    /// The minimised loss (the VAE's recon + beta * kl).
    pub loss: f32,
    /// Accuracy on this batch (classifiers).
    pub accuracy: Option<f32>,
    /// Since the last start or resume, by the caller's clock (0 without a clock).
    pub images_per_s: f64,
}

/// Loss terms and accuracy averaged over a whole split.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub losses: Vec<(&'static str, f32)>,
    pub loss: f32,
    pub accuracy: Option<f32>,
    pub samples: usize,
}

impl Evaluation {
    pub fn term(&self, name: &str) -> f32 {
        let t = self.losses.iter().find(|(n, _)| *n == name);
        t.unwrap_or_else(|| panic!("no loss term {name}")).1
    }
}

pub struct Trainer<B: Backend> {
    pub be: B,
    pub model: Model<B>,
    pub opt: Optimizer,
    pub cfg: TrainConfig,
    pub train: Dataset,
    pub test: Dataset,
    augment: Option<Augment>,
    clock: Option<Box<dyn Fn() -> f64>>,
    state: RunState,
    step: u64,
    epoch: usize,
    /// This epoch's sample order (`data::epoch_order`) and the position of the next batch in it.
    order: Vec<usize>,
    cursor: usize,
    order_seed: u64,
    aug_rng: Rng,
    eps_rng: Rng,
    host_x: Vec<f32>,
    host_labels: Vec<f32>,
    /// Clean images when the inputs of an autoencoder were augmented.
    host_clean: Vec<f32>,
    augmented: bool,
    host_eps: Vec<f32>,
    x: Tensor<B>,
    target: B::Buf,
    since: Option<(f64, u64)>,
}

/// Where a run stands between two steps, apart from the weights and optimizer state: with those,
/// what a trainer on another backend needs to continue the run exactly (the engine's CPU
/// fallback when the GPU is lost).
#[derive(Clone, Debug)]
pub struct Position {
    pub step: u64,
    pub epoch: usize,
    cursor: usize,
    opt_t: u32,
    aug_rng: Rng,
    eps_rng: Rng,
    state: RunState,
}

/// A `Position` as plain numbers, for checkpoint files (`io::state`): with the weights and the
/// optimizer state, what a page needs to continue a run exactly after a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionParts {
    pub step: u64,
    pub epoch: usize,
    pub cursor: usize,
    pub opt_t: u32,
    pub aug_rng: [u32; 4],
    pub eps_rng: [u32; 4],
}

impl Position {
    pub fn parts(&self) -> PositionParts {
        PositionParts {
            step: self.step,
            epoch: self.epoch,
            cursor: self.cursor,
            opt_t: self.opt_t,
            aug_rng: self.aug_rng.state(),
            eps_rng: self.eps_rng.state(),
        }
    }

    /// A running position from `parts`; None when an RNG state is impossible.
    pub fn from_parts(p: &PositionParts) -> Option<Position> {
        Some(Position {
            step: p.step,
            epoch: p.epoch,
            cursor: p.cursor,
            opt_t: p.opt_t,
            aug_rng: Rng::from_state(p.aug_rng)?,
            eps_rng: Rng::from_state(p.eps_rng)?,
            state: RunState::Running,
        })
    }
}

impl<B: Backend + 'static> Trainer<B> {
    /// Builds the model from `kind` with weights drawn from `cfg.seed`. The images of `train` and
    /// `test` must have the model's input size (one channel).
    pub fn new(be: B, kind: &ModelKind, cfg: TrainConfig, train: Dataset, test: Dataset) -> Self {
        assert_eq!(
            kind.input(),
            (1, train.rows, train.cols),
            "model input and data differ"
        );
        assert_eq!(
            (test.rows, test.cols),
            (train.rows, train.cols),
            "train and test differ"
        );
        assert!(cfg.batch > 0 && cfg.batch <= train.len(), "batch size");
        let mut seeds = Rng::new(cfg.seed);
        let mut init_rng = Rng::new(seeds.next_u32() as u64);
        let model = Model::new(&be, &mut init_rng, kind);
        let order_seed = seeds.next_u32() as u64;
        let mut order = Vec::new();
        epoch_order(&mut order, train.len(), order_seed, 0);
        Trainer {
            x: Tensor::empty(&be),
            target: be.zeros(0),
            opt: Optimizer::new(cfg.optimizer),
            aug_rng: Rng::new(seeds.next_u32() as u64),
            eps_rng: Rng::new(seeds.next_u32() as u64),
            be,
            model,
            cfg,
            train,
            test,
            augment: None,
            clock: None,
            state: RunState::Running,
            step: 0,
            epoch: 0,
            order,
            cursor: 0,
            order_seed,
            host_x: Vec::new(),
            host_labels: Vec::new(),
            host_clean: Vec::new(),
            augmented: false,
            host_eps: Vec::new(),
            since: None,
        }
    }
}

impl<B: Backend + 'static> Trainer<B> {
    /// Seconds from any origin (performance.now() / 1000 in the browser, Instant natively).
    pub fn set_clock(&mut self, clock: impl Fn() -> f64 + 'static) {
        self.clock = Some(Box::new(clock));
    }

    /// Augments each training batch's inputs. An autoencoder keeps the untouched images as its
    /// targets: with noise or masking only, this is the denoising autoencoder.
    pub fn set_augment(&mut self, augment: Option<Augment>) {
        self.augment = augment;
    }

    /// Starts a new run on the same weights: new configuration, training data and optimizer
    /// (momenta start from zero again), epoch and step counters back at 0.
    pub fn restart(&mut self, cfg: TrainConfig, train: Dataset) {
        assert!(cfg.batch > 0 && cfg.batch <= train.len(), "batch size");
        assert_eq!((train.rows, train.cols), (self.test.rows, self.test.cols));
        self.opt = Optimizer::new(cfg.optimizer);
        self.model.visit_params(&mut |p| p.state.clear());
        self.cfg = cfg;
        self.train = train;
        self.state = RunState::Running;
        (self.step, self.epoch, self.cursor, self.since) = (0, 0, 0, None);
        epoch_order(&mut self.order, self.train.len(), self.order_seed, 0);
    }

    pub fn state(&self) -> RunState {
        self.state
    }
    pub fn steps_done(&self) -> u64 {
        self.step
    }
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }
    pub fn steps_per_epoch(&self) -> usize {
        self.train.len() / self.cfg.batch
    }
    pub fn pause(&mut self) {
        if self.state == RunState::Running {
            self.state = RunState::Paused;
        }
    }
    pub fn resume(&mut self) {
        if self.state == RunState::Paused {
            self.state = RunState::Running;
            self.since = None;
        }
    }
    pub fn stop(&mut self) {
        self.state = RunState::Stopped;
    }

    pub fn position(&self) -> Position {
        Position {
            step: self.step,
            epoch: self.epoch,
            cursor: self.cursor,
            opt_t: self.opt.t,
            aug_rng: self.aug_rng.clone(),
            eps_rng: self.eps_rng.clone(),
            state: self.state,
        }
    }

    /// Moves the run to `pos` (taken from a trainer with the same seed, data and configuration).
    pub fn set_position(&mut self, pos: Position) {
        (self.step, self.epoch, self.cursor) = (pos.step, pos.epoch, pos.cursor);
        (self.aug_rng, self.eps_rng) = (pos.aug_rng, pos.eps_rng);
        self.opt.t = pos.opt_t;
        self.state = pos.state;
        self.since = None;
        let (len, seed) = (self.train.len(), self.order_seed);
        epoch_order(&mut self.order, len, seed, self.epoch as u64);
    }

    /// Copies samples `idx` of a split into the host buffers (augmented when `augment` and an
    /// augmentation is set).
    fn gather(&mut self, from_test: bool, idx: &[usize], augment: bool) {
        let data = if from_test {
            self.test.all()
        } else {
            self.train.all()
        };
        let (n, px) = (idx.len(), data.pixels());
        self.host_x.resize(n * px, 0.0);
        self.host_labels.resize(n, 0.0);
        self.augmented = false;
        match (&self.augment, augment) {
            (Some(a), true) => {
                let rng = &mut self.aug_rng;
                data.fill_batch_augmented(idx, a, rng, &mut self.host_x, &mut self.host_labels);
                if !matches!(self.model, Model::Classifier(_)) {
                    self.host_clean.resize(n * px, 0.0);
                    data.fill_batch(idx, &mut self.host_clean, &mut self.host_labels);
                    self.augmented = true;
                }
            }
            _ => data.fill_batch(idx, &mut self.host_x, &mut self.host_labels),
        }
    }

    /// Uploads the gathered batch (and, for a VAE, fresh eps from `rng`, or zeros without one).
    fn upload(&mut self, eps_from: Option<&mut Rng>) {
        let n = self.host_labels.len();
        self.x
            .ensure(&self.be, Shape::new(n, 1, self.train.rows, self.train.cols));
        self.be.write(&mut self.x.buf, &self.host_x);
        let target: &[f32] = match (&self.model, self.augmented) {
            (Model::Classifier(_), _) => &self.host_labels,
            (_, true) => &self.host_clean,
            (_, false) => &self.host_x,
        };
        ensure_len(&self.be, &mut self.target, target.len());
        self.be.write(&mut self.target, target);
        if let Model::Vae(vae) = &mut self.model {
            let len = n * vae.latent;
            self.host_eps.resize(len, 0.0);
            match eps_from {
                Some(rng) => self.host_eps.iter_mut().for_each(|e| *e = rng.normal()),
                None => self.host_eps.fill(0.0),
            }
            vae.set_eps(&self.be, &self.host_eps);
        }
    }

    async fn read_losses(&self) -> Vec<(&'static str, f32)> {
        let names = self.model.loss_names();
        let mut out = Vec::with_capacity(names.len());
        for (name, buf) in names.iter().zip(self.model.loss_bufs()) {
            // A lost GPU reads back nothing: NaN, and the engine sees the loss.
            let v = self.be.read(buf).await.first().copied();
            out.push((*name, v.unwrap_or(f32::NAN)));
        }
        out
    }

    /// Number of correct predictions of the last classifier forward pass (None for other models).
    async fn correct(&self, n: usize) -> Option<usize> {
        let Model::Classifier(m) = &self.model else {
            return None;
        };
        let probs = self.be.read(&m.probs).await;
        let hits = probs.chunks(m.classes).zip(&self.host_labels[..n]);
        Some(hits.filter(|(p, &l)| argmax(p) == l as usize).count())
    }

    /// One training step on the next batch; `None` when paused, stopped or finished. The last
    /// partial batch of an epoch is skipped so that every step has the same shape.
    pub async fn step(&mut self) -> Option<Progress> {
        self.steps(1).await
    }

    /// Up to `max` training steps, stopping early at the end of an epoch, with one readback at the
    /// end, so that a GPU is not waited for between steps. The losses and accuracy reported are
    /// the last step's (its batch's), as for `step`.
    pub async fn steps(&mut self, max: usize) -> Option<Progress> {
        if !self.begin_step() {
            return None;
        }
        let mut done = 0;
        while done < max.max(1) {
            self.record_step();
            done += 1;
            if self.advance() {
                break;
            }
        }
        let losses = self.read_losses().await;
        let correct = self.correct(self.cfg.batch).await;
        Some(self.report(losses, correct, done))
    }

    /// Whether a step may run (`false` when paused, stopped or finished); starts the clock.
    fn begin_step(&mut self) -> bool {
        if self.state != RunState::Running {
            return false;
        }
        if self.epoch >= self.cfg.epochs {
            self.state = RunState::Finished;
            return false;
        }
        let now = self.clock.as_ref().map(|c| c());
        if let (None, Some(t)) = (self.since, now) {
            self.since = Some((t, 0));
        }
        true
    }

    /// Records one step on the next batch (forward, backward, optimizer); the GPU submits it as
    /// one command buffer.
    fn record_step(&mut self) {
        self.gather_next_batch();
        let mut eps_rng = self.eps_rng.clone();
        self.upload(Some(&mut eps_rng));
        self.eps_rng = eps_rng;

        self.model.forward(&self.be, &self.x, &self.target, true);
        self.model.backward(&self.be, &self.x, &self.target);
        self.apply_grads();
    }

    /// Gathers the next batch of the epoch's order into the host buffers (augmented).
    fn gather_next_batch(&mut self) {
        let n = self.cfg.batch;
        let order = std::mem::take(&mut self.order);
        self.gather(false, &order[self.cursor..self.cursor + n], true);
        self.order = order;
    }

    /// The optimizer's step with the gradients the parameters hold.
    fn apply_grads(&mut self) {
        self.opt.begin_step();
        let (be, opt) = (&self.be, &self.opt);
        self.model.visit_params(&mut |p| opt.update(be, p));
        self.be.flush();
    }

    /// Moves on to the next batch; `true` when that ended an epoch (the next epoch's order is drawn).
    fn advance(&mut self) -> bool {
        let n = self.cfg.batch;
        self.step += 1;
        self.cursor += n;
        if self.cursor + n > self.train.len() {
            self.cursor = 0;
            self.epoch += 1;
            let (len, seed) = (self.train.len(), self.order_seed);
            epoch_order(&mut self.order, len, seed, self.epoch as u64);
            return true;
        }
        false
    }

    /// Moves on to the next batch (and epoch) and reports the step.
    fn end_step(&mut self, losses: Vec<(&'static str, f32)>, correct: Option<usize>) -> Progress {
        self.advance();
        self.report(losses, correct, 1)
    }

    /// The progress after `steps` more steps, with the last step's losses and accuracy.
    fn report(
        &mut self,
        losses: Vec<(&'static str, f32)>,
        correct: Option<usize>,
        steps: usize,
    ) -> Progress {
        let n = self.cfg.batch;
        let mut images_per_s = 0.0;
        if let (Some((t0, imgs)), Some(clock)) = (&mut self.since, &self.clock) {
            *imgs += (n * steps) as u64;
            let t = clock();
            if t > *t0 {
                images_per_s = *imgs as f64 / (t - *t0);
            }
        }
        let terms: Vec<f32> = losses.iter().map(|l| l.1).collect();
        Progress {
            step: self.step,
            epoch: self.epoch,
            epoch_progress: self.cursor as f32 / (self.steps_per_epoch() * n) as f32,
            loss: self.model.total_loss(&terms),
            losses,
            accuracy: correct.map(|c| c as f32 / n as f32),
            images_per_s,
        }
    }

    /// Loss terms and accuracy over the whole test split, in evaluation mode (batch norm uses its
    /// running statistics). A VAE's terms are single-sample estimates with eps from a fixed seed,
    /// so repeated evaluations of the same weights agree.
    pub async fn evaluate(&mut self) -> Evaluation {
        let total = self.test.len();
        let names = self.model.loss_names();
        let mut sums = vec![0.0f64; names.len()];
        let mut correct = 0;
        let mut eps_rng = Rng::new(self.cfg.seed ^ 0xE7A1);
        let mut start = 0;
        while start < total {
            let n = self.cfg.batch.min(total - start);
            let idx: Vec<usize> = (start..start + n).collect();
            self.gather(true, &idx, false);
            self.upload(Some(&mut eps_rng));
            self.model.forward(&self.be, &self.x, &self.target, false);
            for (s, (_, v)) in sums.iter_mut().zip(self.read_losses().await) {
                *s += v as f64 * n as f64;
            }
            correct += self.correct(n).await.unwrap_or(0);
            start += n;
        }
        let losses: Vec<(&'static str, f32)> = names
            .iter()
            .zip(&sums)
            .map(|(name, s)| (*name, (s / total as f64) as f32))
            .collect();
        let terms: Vec<f32> = losses.iter().map(|l| l.1).collect();
        Evaluation {
            loss: self.model.total_loss(&terms),
            accuracy: matches!(self.model, Model::Classifier(_))
                .then(|| correct as f32 / total as f32),
            losses,
            samples: total,
        }
    }

    /// Runs the model in evaluation mode on `images` (one sample after another); a VAE uses z = mu.
    pub(super) fn infer(&mut self, images: &[f32]) -> usize {
        let d = self.train.rows * self.train.cols;
        let whole = !images.is_empty() && images.len().is_multiple_of(d);
        assert!(whole, "whole images expected");
        let n = images.len() / d;
        self.host_x.clear();
        self.host_x.extend_from_slice(images);
        self.host_labels.clear();
        self.host_labels.resize(n, 0.0);
        self.augmented = false;
        self.upload(None);
        self.model.forward(&self.be, &self.x, &self.target, false);
        n
    }
}

fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

#[cfg(all(test, not(target_arch = "wasm32")))] // pollster is native-only
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;
    use crate::nn::models::ClassifierConfig;
    use crate::nn::LayerSpec;
    use crate::ops::Act;
    use pollster::block_on;

    /// 4x4 images: class 0 lights the top half, class 1 the bottom half, plus noise.
    fn halves(n: usize, seed: u64) -> Dataset {
        let mut rng = Rng::new(seed);
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = (i % 2) as u8;
            for r in 0..4 {
                for _ in 0..4 {
                    let lit = (r < 2) == (label == 0);
                    let v = if lit { 0.8 } else { 0.1 } + 0.2 * rng.uniform();
                    pixels.push((v * 255.0).round() as u8);
                }
            }
            labels.push(label);
        }
        Dataset {
            pixels,
            labels,
            rows: 4,
            cols: 4,
        }
    }

    fn small(epochs: usize) -> Trainer<Cpu> {
        let kind = ModelKind::Classifier(ClassifierConfig {
            input: (1, 4, 4),
            layers: vec![
                LayerSpec::conv_same(3, 3),
                LayerSpec::BatchNorm,
                LayerSpec::Activation(Act::Relu),
                LayerSpec::MaxPool { k: 2, stride: 2 },
                LayerSpec::Flatten,
                LayerSpec::Dense { units: 2 },
            ],
            classes: 2,
        });
        let cfg = TrainConfig {
            batch: 8,
            epochs,
            seed: 3,
            optimizer: OptimizerConfig::adam(0.01),
        };
        Trainer::new(Cpu::new(), &kind, cfg, halves(36, 1), halves(20, 2))
    }

    #[test]
    fn pause_resume_stop_and_finish() {
        let mut t = small(2);
        assert_eq!(t.steps_per_epoch(), 4, "the partial last batch is dropped");
        let p = block_on(t.step()).unwrap();
        assert_eq!((p.step, p.epoch, p.epoch_progress), (1, 0, 0.25));
        t.pause();
        assert_eq!(t.state(), RunState::Paused);
        assert!(block_on(t.step()).is_none());
        t.resume();
        for _ in 0..3 {
            block_on(t.step()).unwrap();
        }
        assert_eq!(t.epochs_done(), 1);
        for _ in 0..4 {
            block_on(t.step()).unwrap();
        }
        assert!(block_on(t.step()).is_none());
        assert_eq!((t.state(), t.steps_done()), (RunState::Finished, 8));

        let mut t = small(2);
        t.stop();
        assert!(block_on(t.step()).is_none());
        t.resume();
        assert_eq!(t.state(), RunState::Stopped, "resume does not undo stop");
    }

    #[test]
    fn learns_an_easy_task_and_reports_it() {
        let mut t = small(6);
        while block_on(t.step()).is_some() {}
        let ev = block_on(t.evaluate());
        assert_eq!(ev.samples, 20);
        assert_eq!(ev.accuracy, Some(1.0), "{ev:?}");
        let norms = block_on(t.grad_norms());
        let names: Vec<&str> = norms.iter().map(|n| n.0.as_str()).collect();
        assert_eq!(names, ["0:conv3x3x3", "1:batchnorm", "5:dense2"]);
        assert!(norms.iter().all(|n| n.1.is_finite() && n.1 > 0.0));
        let (shape, w) = block_on(t.first_filters()).unwrap();
        assert_eq!((shape, w.len()), (vec![3, 1, 3, 3], 27));
        assert!(block_on(t.reconstruct(&t.test.clone().all().image(0))).is_none());
    }

    #[test]
    fn a_warm_step_reuses_every_buffer() {
        let mut t = small(3);
        block_on(t.step());
        let ptrs = |t: &mut Trainer<Cpu>| {
            let mut v = Vec::new();
            t.model.visit_layers(&mut |l| {
                v.push(l.output().buf.as_ptr());
                v.push(l.input_grad().as_ptr());
            });
            t.model.visit_params(&mut |p| {
                v.push(p.grad.as_ptr());
                v.extend(p.state.iter().map(|s| s.as_ptr()));
            });
            v
        };
        let before = ptrs(&mut t);
        block_on(t.step());
        block_on(t.step());
        assert_eq!(before, ptrs(&mut t));
    }
}
