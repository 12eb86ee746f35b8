//! The trainer: owns the backend, a model, its optimizer and the data, and advances one batch per
//! `step()`, so that a Web Worker can drive it step by step (and pause, resume or stop between
//! steps). Numbers come back only through the async `Backend::read`.

use super::layer::{ensure_len, Layer, Shape, Tensor};
use super::models::{Model, ModelKind};
use super::optim::{Optimizer, OptimizerConfig};
use crate::backend::Backend;
use crate::rng::Rng;

/// Images in [0, 1] (NCHW, one sample after another) with their labels.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    /// Per-sample (c, h, w).
    pub dims: (usize, usize, usize),
}

impl Dataset {
    pub fn sample_len(&self) -> usize {
        self.dims.0 * self.dims.1 * self.dims.2
    }
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image(&self, i: usize) -> &[f32] {
        let d = self.sample_len();
        &self.images[i * d..(i + 1) * d]
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

/// One layer's output for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    pub layer: String,
    /// (c, h, w).
    pub dims: (usize, usize, usize),
    pub values: Vec<f32>,
}

/// Transforms a batch of input images in place (augmentation, or the noise of a denoising
/// autoencoder): `(images, per-sample dims, rng)`.
pub type InputTransform = Box<dyn FnMut(&mut [f32], (usize, usize, usize), &mut Rng)>;

pub struct Trainer<B: Backend> {
    pub be: B,
    pub model: Model<B>,
    pub opt: Optimizer,
    pub cfg: TrainConfig,
    pub train: Dataset,
    pub test: Dataset,
    transform: Option<InputTransform>,
    clock: Option<Box<dyn Fn() -> f64>>,
    state: RunState,
    step: u64,
    epoch: usize,
    order: Vec<usize>,
    cursor: usize,
    data_rng: Rng,
    noise_rng: Rng,
    eps_rng: Rng,
    host_x: Vec<f32>,
    host_target: Vec<f32>,
    host_eps: Vec<f32>,
    x: Tensor<B>,
    target: B::Buf,
    since: Option<(f64, u64)>,
}

impl<B: Backend + 'static> Trainer<B> {
    /// Builds the model from `kind` with weights drawn from `cfg.seed`.
    pub fn new(be: B, kind: &ModelKind, cfg: TrainConfig, train: Dataset, test: Dataset) -> Self {
        assert_eq!(kind.input(), train.dims, "model input and data dims differ");
        assert!(cfg.batch > 0 && cfg.batch <= train.len(), "batch size");
        let mut seeds = Rng::new(cfg.seed);
        let mut init_rng = Rng::new(seeds.next_u32() as u64);
        let model = Model::new(&be, &mut init_rng, kind);
        let mut data_rng = Rng::new(seeds.next_u32() as u64);
        let mut order: Vec<usize> = (0..train.len()).collect();
        data_rng.shuffle(&mut order);
        Trainer {
            x: Tensor::empty(&be),
            target: be.zeros(0),
            opt: Optimizer::new(cfg.optimizer),
            noise_rng: Rng::new(seeds.next_u32() as u64),
            eps_rng: Rng::new(seeds.next_u32() as u64),
            be,
            model,
            cfg,
            train,
            test,
            transform: None,
            clock: None,
            state: RunState::Running,
            step: 0,
            epoch: 0,
            order,
            cursor: 0,
            data_rng,
            host_x: Vec::new(),
            host_target: Vec::new(),
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

    /// Applied to each training batch's inputs; autoencoders keep the untouched images as targets.
    pub fn set_input_transform(&mut self, t: InputTransform) {
        self.transform = Some(t);
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

    /// Copies samples `idx` of `data` into the host buffers: inputs into `host_x`, targets
    /// (labels as f32 for a classifier, the images otherwise) into `host_target`.
    fn gather(&mut self, from_test: bool, idx: &[usize]) {
        let data = if from_test { &self.test } else { &self.train };
        let d = data.sample_len();
        self.host_x.clear();
        for &i in idx {
            self.host_x.extend_from_slice(data.image(i));
        }
        self.host_target.clear();
        match self.model {
            Model::Classifier(_) => self
                .host_target
                .extend(idx.iter().map(|&i| data.labels[i] as f32)),
            _ => self.host_target.extend_from_slice(&self.host_x),
        }
        debug_assert_eq!(self.host_x.len(), idx.len() * d);
    }

    /// Uploads the gathered batch (and, for a VAE, fresh eps from `rng`, or zeros without one).
    fn upload(&mut self, n: usize, eps_from: Option<&mut Rng>) {
        let (c, h, w) = self.train.dims;
        self.x.ensure(&self.be, Shape::new(n, c, h, w));
        self.be.write(&mut self.x.buf, &self.host_x);
        ensure_len(&self.be, &mut self.target, self.host_target.len());
        self.be.write(&mut self.target, &self.host_target);
        if let Model::Vae(vae) = &mut self.model {
            self.host_eps.clear();
            let len = n * vae.latent;
            match eps_from {
                Some(rng) => self.host_eps.extend((0..len).map(|_| rng.normal())),
                None => self.host_eps.resize(len, 0.0),
            }
            vae.set_eps(&self.be, &self.host_eps);
        }
    }

    async fn read_losses(&self) -> Vec<(&'static str, f32)> {
        let names = self.model.loss_names();
        let mut out = Vec::with_capacity(names.len());
        for (name, buf) in names.iter().zip(self.model.loss_bufs()) {
            out.push((*name, self.be.read(buf).await[0]));
        }
        out
    }

    /// Number of correct predictions of the last classifier forward pass (None for other models).
    async fn correct(&self, n: usize) -> Option<usize> {
        let Model::Classifier(m) = &self.model else {
            return None;
        };
        let probs = self.be.read(&m.probs).await;
        let hits = probs.chunks(m.classes).zip(&self.host_target[..n]);
        Some(hits.filter(|(p, &l)| argmax(p) == l as usize).count())
    }

    /// One training step on the next batch; `None` when paused, stopped or finished. The last
    /// partial batch of an epoch is skipped so that every step has the same shape.
    pub async fn step(&mut self) -> Option<Progress> {
        if self.state != RunState::Running {
            return None;
        }
        if self.epoch >= self.cfg.epochs {
            self.state = RunState::Finished;
            return None;
        }
        let now = self.clock.as_ref().map(|c| c());
        if let (None, Some(t)) = (self.since, now) {
            self.since = Some((t, 0));
        }
        let n = self.cfg.batch;
        let idx = std::mem::take(&mut self.order);
        self.gather(false, &idx[self.cursor..self.cursor + n]);
        self.order = idx;
        if let Some(t) = &mut self.transform {
            t(&mut self.host_x, self.train.dims, &mut self.noise_rng);
        }
        let mut eps_rng = self.eps_rng.clone();
        self.upload(n, Some(&mut eps_rng));
        self.eps_rng = eps_rng;

        self.model.forward(&self.be, &self.x, &self.target, true);
        self.model.backward(&self.be, &self.x, &self.target);
        self.opt.begin_step();
        let (be, opt) = (&self.be, &self.opt);
        self.model.visit_params(&mut |p| opt.update(be, p));
        self.be.flush();

        let losses = self.read_losses().await;
        let correct = self.correct(n).await;
        self.step += 1;
        self.cursor += n;
        if self.cursor + n > self.train.len() {
            self.cursor = 0;
            self.epoch += 1;
            self.data_rng.shuffle(&mut self.order);
        }
        let mut images_per_s = 0.0;
        if let (Some((t0, imgs)), Some(_)) = (&mut self.since, now) {
            *imgs += n as u64;
            let t = self.clock.as_ref().map_or(0.0, |c| c());
            if t > *t0 {
                images_per_s = *imgs as f64 / (t - *t0);
            }
        }
        let terms: Vec<f32> = losses.iter().map(|l| l.1).collect();
        Some(Progress {
            step: self.step,
            epoch: self.epoch,
            epoch_progress: self.cursor as f32 / (self.steps_per_epoch() * n) as f32,
            loss: self.model.total_loss(&terms),
            losses,
            accuracy: correct.map(|c| c as f32 / n as f32),
            images_per_s,
        })
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
            self.gather(true, &idx);
            self.upload(n, Some(&mut eps_rng));
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
    fn infer(&mut self, images: &[f32]) -> usize {
        let d = self.train.sample_len();
        assert!(
            !images.is_empty() && images.len().is_multiple_of(d),
            "whole images expected"
        );
        let n = images.len() / d;
        self.host_x.clear();
        self.host_x.extend_from_slice(images);
        self.host_target.clear();
        match self.model {
            Model::Classifier(_) => self.host_target.resize(n, 0.0),
            _ => self.host_target.extend_from_slice(images),
        }
        self.upload(n, None);
        self.model.forward(&self.be, &self.x, &self.target, false);
        n
    }

    /// Class probabilities, `classes` per image; None for models that are not classifiers.
    pub async fn predict(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if !matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let Model::Classifier(m) = &self.model else {
            unreachable!()
        };
        Some(self.be.read(&m.probs).await)
    }

    /// Reconstructions in [0, 1] (autoencoders; a VAE decodes its mean code).
    pub async fn reconstruct(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let out = match &mut self.model {
            Model::Autoencoder(m) => m.images(&self.be),
            Model::Vae(m) => m.images(&self.be),
            Model::Classifier(_) => unreachable!(),
        };
        Some(self.be.read(out).await)
    }

    /// Latent codes (a VAE's mu), one row per image.
    pub async fn encode(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let code = match &self.model {
            Model::Autoencoder(m) => &m.encoder.output().buf,
            Model::Vae(m) => &m.mu.output().buf,
            Model::Classifier(_) => unreachable!(),
        };
        Some(self.be.read(code).await)
    }

    /// Size of one latent code (None for a classifier; for a convolutional code, c * h * w).
    pub fn latent_len(&self) -> Option<usize> {
        match &self.model {
            Model::Autoencoder(m) => {
                let (c, h, w) = self.train.dims;
                Some(m.encoder.out_shape(Shape::new(1, c, h, w)).sample_len())
            }
            Model::Vae(m) => Some(m.latent),
            Model::Classifier(_) => None,
        }
    }

    /// Images in [0, 1] decoded from latent codes (one code after another).
    pub async fn decode(&mut self, codes: &[f32]) -> Option<Vec<f32>> {
        let len = self.latent_len()?;
        assert!(
            !codes.is_empty() && codes.len().is_multiple_of(len),
            "whole codes expected"
        );
        let n = codes.len() / len;
        let (c, h, w) = self.train.dims;
        let code_shape = Shape::new(1, c, h, w);
        let be = &self.be;
        let out = match &mut self.model {
            Model::Autoencoder(m) => {
                let s = m.encoder.out_shape(code_shape).with_n(n);
                let mut z = Tensor::zeros(be, s);
                be.write(&mut z.buf, codes);
                m.decoder.forward(be, &z, false);
                m.images(be)
            }
            Model::Vae(m) => {
                m.z.ensure(be, Shape::flat(n, m.latent));
                be.write(&mut m.z.buf, codes);
                m.decode(be, false);
                m.images(be)
            }
            Model::Classifier(_) => unreachable!(),
        };
        Some(be.read(out).await)
    }

    /// Every top-level layer's output for one image.
    pub async fn activations(&mut self, image: &[f32]) -> Vec<Activation> {
        assert_eq!(image.len(), self.train.sample_len(), "one image expected");
        self.infer(image);
        let mut outs: Vec<(String, Shape, B::Buf)> = Vec::new();
        let be = &self.be;
        self.model.visit_layers(&mut |l| {
            let y = l.output();
            let mut copy = be.zeros(y.shape.len());
            be.add_assign(&mut copy, &y.buf);
            outs.push((l.name(), y.shape, copy));
        });
        let mut res = Vec::with_capacity(outs.len());
        for (layer, s, buf) in outs {
            let values = self.be.read(&buf).await;
            res.push(Activation {
                layer,
                dims: (s.c, s.h, s.w),
                values,
            });
        }
        res
    }

    /// The first convolution's weights `[out_c, in_c, k, k]` with that shape; None without one.
    pub async fn first_filters(&mut self) -> Option<(Vec<usize>, Vec<f32>)> {
        let mut found: Option<(Vec<usize>, B::Buf)> = None;
        let be = &self.be;
        self.model.visit_params(&mut |p| {
            if found.is_none() && p.shape.len() == 4 {
                let mut copy = be.zeros(p.len());
                be.add_assign(&mut copy, &p.value);
                found = Some((p.shape.clone(), copy));
            }
        });
        let (shape, buf) = found?;
        Some((shape, self.be.read(&buf).await))
    }

    /// L2 norm of the last step's gradients of each top-level layer that has parameters,
    /// named "index:layer".
    pub async fn grad_norms(&mut self) -> Vec<(String, f32)> {
        let mut parts: Vec<(usize, B::Buf)> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let be = &self.be;
        self.model.visit_layers(&mut |l| {
            let i = names.len();
            names.push(format!("{i}:{}", l.name()));
            l.visit_params(&mut |p| {
                let mut s = be.zeros(1);
                be.sum_squares(&p.grad, &mut s);
                parts.push((i, s));
            });
        });
        let mut sums = vec![None; names.len()];
        for (i, buf) in &parts {
            let v = self.be.read(buf).await[0] as f64;
            *sums[*i].get_or_insert(0.0) += v;
        }
        names
            .into_iter()
            .zip(sums)
            .filter_map(|(name, s)| s.map(|s| (name, s.sqrt() as f32)))
            .collect()
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
