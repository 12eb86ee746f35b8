//! Finite-difference check of each model's whole loss: the gradients `backward` writes for a
//! sample of parameters (and for input pixels) against central differences of the loss, on tiny
//! configurations (small images, few channels, batch 2), batch norm in training mode included.
//! Each parameter tensor is also checked along a random direction (all of its entries at once).
// Native only: blocks on futures with pollster (and, for learning, far too slow for a browser run).
#![cfg(not(target_arch = "wasm32"))]

use cnn_lab::backend::cpu::Cpu;
use cnn_lab::backend::Backend;
use cnn_lab::nn::models::{AutoencoderConfig, ClassifierConfig, ReconLoss, VaeConfig};
use cnn_lab::nn::{LayerSpec, Model, ModelKind, Shape, Tensor};
use cnn_lab::ops::Act;
use cnn_lab::rng::Rng;

const H: f32 = 1e-3;

struct Case {
    be: Cpu,
    model: Model<Cpu>,
    x: Tensor<Cpu>,
    target: Vec<f32>,
}

impl Case {
    fn new(kind: ModelKind, n: usize, seed: u64) -> Self {
        let be = Cpu::new();
        let mut rng = Rng::new(seed);
        let mut model = Model::new(&be, &mut rng, &kind);
        model.set_need_input_grad(true);
        let (c, h, w) = kind.input();
        let shape = Shape::new(n, c, h, w);
        let pixels: Vec<f32> = (0..shape.len()).map(|_| rng.uniform()).collect();
        let target = match &kind {
            ModelKind::Classifier(cfg) => (0..n).map(|_| rng.below(cfg.classes) as f32).collect(),
            _ => pixels
                .iter()
                .map(|p| (p * 1.3 - 0.15).clamp(0.0, 1.0))
                .collect(),
        };
        if let (Model::Vae(vae), ModelKind::Vae(cfg)) = (&mut model, &kind) {
            let eps: Vec<f32> = (0..n * cfg.latent).map(|_| rng.normal()).collect();
            vae.set_eps(&be, &eps);
        }
        let x = Tensor { buf: pixels, shape };
        Case {
            be,
            model,
            x,
            target,
        }
    }

    fn loss(&mut self) -> f64 {
        self.model.forward(&self.be, &self.x, &self.target, true);
        let terms: Vec<f32> = self
            .model
            .loss_bufs()
            .iter()
            .map(|b| pollster::block_on(self.be.read(b))[0])
            .collect();
        self.model.total_loss(&terms) as f64
    }

    fn param_values(&mut self) -> Vec<(String, Vec<f32>, Vec<f32>)> {
        let mut out = Vec::new();
        let mut i = 0;
        self.model.visit_params(&mut |p| {
            out.push((format!("#{i} {}", p.name), p.value.clone(), p.grad.clone()));
            i += 1;
        });
        out
    }

    fn set_param(&mut self, index: usize, value: &[f32]) {
        let mut i = 0;
        self.model.visit_params(&mut |p| {
            if i == index {
                p.value.copy_from_slice(value);
            }
            i += 1;
        });
    }
}

fn close(num: f64, ana: f64) -> bool {
    (num - ana).abs() <= 2e-3 + 3e-2 * num.abs().max(ana.abs())
}

/// What a check perturbs: one parameter entry, a parameter tensor along a direction, or a pixel.
enum Probe<'a> {
    Entry(usize, usize),
    Direction(usize, &'a [f32]),
    Pixel(usize),
}

impl Case {
    /// The loss with the probed value(s) moved by `delta`, everything restored afterwards.
    fn loss_at(&mut self, probe: &Probe, value: &[f32], delta: f32) -> f64 {
        match *probe {
            Probe::Entry(p, j) => {
                let mut v = value.to_vec();
                v[j] += delta;
                self.set_param(p, &v);
            }
            Probe::Direction(p, d) => {
                let v: Vec<f32> = value.iter().zip(d).map(|(v, d)| v + delta * d).collect();
                self.set_param(p, &v);
            }
            Probe::Pixel(j) => self.x.buf[j] = value[j] + delta,
        }
        let loss = self.loss();
        match *probe {
            Probe::Entry(p, _) | Probe::Direction(p, _) => self.set_param(p, value),
            Probe::Pixel(j) => self.x.buf[j] = value[j],
        }
        loss
    }

    /// Central differences with steps H and H / 2. They agree to O(H^2) where the loss is smooth;
    /// when they do not, a ReLU or max-pool kink lies within H, where finite differences say
    /// nothing about the gradient: None. (A wrong gradient is smooth, so it cannot hide there.)
    fn numeric(&mut self, probe: &Probe, value: &[f32]) -> Option<f64> {
        let mut d = |h: f32| {
            (self.loss_at(probe, value, h) - self.loss_at(probe, value, -h)) / (2.0 * h as f64)
        };
        let (d1, d2) = (d(H), d(H / 2.0));
        let smooth = (d1 - d2).abs() <= 5e-4 + 0.01 * d1.abs().max(d2.abs());
        smooth.then_some(d2)
    }
}

/// Checks sampled entries and one random direction of every parameter tensor, and sampled input
/// pixels. Returns the number of checked entries whose gradient is clearly non-zero, so that a
/// caller can assert the check was not vacuous.
fn check(name: &str, kind: ModelKind) -> usize {
    let mut case = Case::new(kind, 2, 11);
    let mut rng = Rng::new(5);
    case.loss();
    case.model.backward(&case.be, &case.x, &case.target);
    let params = case.param_values();
    let input_grad = case.model.input_grad().clone();
    let mut failures = Vec::new();
    let (mut nonzero, mut kinks, mut checks) = (0, 0, 0);
    let mut run = |case: &mut Case, what: String, probe: Probe, value: &[f32], ana: f64| {
        checks += 1;
        match case.numeric(&probe, value) {
            None => kinks += 1,
            Some(num) if !close(num, ana) => {
                failures.push(format!("{what}: numeric {num:.6} analytic {ana:.6}"))
            }
            Some(_) => nonzero += (ana.abs() > 1e-3) as usize,
        }
    };

    for (pi, (pname, value, grad)) in params.iter().enumerate() {
        // The entry with the largest gradient and a few random ones.
        let largest = (0..grad.len())
            .max_by(|&a, &b| grad[a].abs().total_cmp(&grad[b].abs()))
            .unwrap();
        let mut picks = vec![largest];
        picks.extend((0..3).map(|_| rng.below(grad.len())));
        for j in picks {
            let what = format!("{pname}[{j}]");
            run(&mut case, what, Probe::Entry(pi, j), value, grad[j] as f64);
        }
        // All entries at once along a random unit direction.
        let d: Vec<f32> = (0..value.len()).map(|_| rng.normal()).collect();
        let norm = d.iter().map(|x| x * x).sum::<f32>().sqrt();
        let d: Vec<f32> = d.iter().map(|x| x / norm).collect();
        let ana: f64 = grad.iter().zip(&d).map(|(g, d)| (g * d) as f64).sum();
        let what = format!("{pname} direction");
        run(&mut case, what, Probe::Direction(pi, &d), value, ana);
    }
    let x0 = case.x.buf.clone();
    for _ in 0..6 {
        let j = rng.below(x0.len());
        let what = format!("input[{j}]");
        run(&mut case, what, Probe::Pixel(j), &x0, input_grad[j] as f64);
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
    assert!(
        kinks * 5 <= checks,
        "{name}: {kinks} of {checks} checks hit a kink"
    );
    println!("{name}: {checks} checks, {kinks} skipped at kinks, {nonzero} non-zero gradients");
    nonzero
}

fn small_classifier(side: usize, layers: Vec<LayerSpec>) -> ModelKind {
    ModelKind::Classifier(ClassifierConfig {
        input: (1, side, side),
        layers,
        classes: 3,
    })
}

#[test]
fn reference_cnn_shape() {
    use LayerSpec::*;
    let kind = small_classifier(
        8,
        vec![
            LayerSpec::conv_same(2, 3),
            Activation(Act::Relu),
            MaxPool { k: 2, stride: 2 },
            LayerSpec::conv_same(3, 3),
            Activation(Act::Relu),
            MaxPool { k: 2, stride: 2 },
            Flatten,
            Dense { units: 3 },
        ],
    );
    assert!(check("reference-shaped CNN", kind) > 10);
}

#[test]
fn classifier_with_every_other_layer_kind() {
    use LayerSpec::*;
    let kind = small_classifier(
        8,
        vec![
            Conv {
                filters: 3,
                k: 3,
                stride: 2,
                pad: 1,
                bias: true,
            },
            BatchNorm,
            Activation(Act::LeakyRelu(0.1)),
            AvgPool { k: 2, stride: 1 },
            Activation(Act::Tanh),
            Flatten,
            Dense { units: 5 },
            BatchNorm,
            Activation(Act::Sigmoid),
            Dense { units: 3 },
        ],
    );
    assert!(check("strided conv, BN, leaky ReLU, avgpool, tanh, sigmoid", kind) > 10);
}

#[test]
fn residual_blocks_identity_projection_and_plain() {
    use LayerSpec::*;
    let kind = small_classifier(
        4,
        vec![
            Conv {
                filters: 2,
                k: 3,
                stride: 1,
                pad: 1,
                bias: false,
            },
            BatchNorm,
            Activation(Act::Relu),
            Residual {
                filters: 2,
                stride: 1,
                skip: true,
            },
            Residual {
                filters: 3,
                stride: 2,
                skip: true,
            },
            Residual {
                filters: 3,
                stride: 1,
                skip: false,
            },
            GlobalAvgPool,
            Flatten,
            Dense { units: 3 },
        ],
    );
    assert!(check("residual blocks", kind) > 10);
}

#[test]
fn deep_plain_and_residual_constructors() {
    for skip in [false, true] {
        let mut cfg = ClassifierConfig::deep((1, 4, 4), 2, 2, 1, skip);
        cfg.classes = 10;
        assert!(check(&format!("deep skip={skip}"), ModelKind::Classifier(cfg)) > 10);
    }
}

#[test]
fn dense_autoencoder_mse_and_bce() {
    let mut cfg = AutoencoderConfig::dense((1, 4, 4), 6, 3);
    assert!(check("dense AE (MSE)", ModelKind::Autoencoder(cfg.clone())) > 5);
    // The BCE variant outputs logits: drop the sigmoid.
    cfg.decoder
        .retain(|l| *l != LayerSpec::Activation(Act::Sigmoid));
    cfg.loss = ReconLoss::Bce;
    assert!(check("dense AE (BCE)", ModelKind::Autoencoder(cfg)) > 5);
}

#[test]
fn conv_autoencoder() {
    let cfg = AutoencoderConfig::conv((1, 8, 8), 2, 3, 4);
    assert!(check("conv AE", ModelKind::Autoencoder(cfg)) > 5);
}

#[test]
fn vae_with_fixed_eps() {
    let mut cfg = VaeConfig::dense((1, 4, 4), 6, 2);
    cfg.beta = 0.5;
    assert!(check("VAE", ModelKind::Vae(cfg)) > 5);
}

#[test]
fn vae_with_two_hidden_layers_each_side() {
    let mut cfg = VaeConfig::deep((1, 4, 4), 6, 2);
    cfg.beta = 3.0;
    assert!(check("deep VAE", ModelKind::Vae(cfg)) > 5);
}
