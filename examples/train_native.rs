//! Native training throughput (images/s) of the course's models on the CPU backend.
//! `cargo run --release --example train_native [steps]`

use cnn_lab::backend::cpu::Cpu;
use cnn_lab::data::mnist::Mnist;
use cnn_lab::nn::models::{AutoencoderConfig, ClassifierConfig, VaeConfig};
use cnn_lab::nn::train::owned;
use cnn_lab::nn::{ModelKind, OptimizerConfig, TrainConfig, Trainer};
use std::time::Instant;

fn main() {
    let steps: u64 = std::env::args()
        .nth(1)
        .map_or(100, |s| s.parse().expect("steps"));
    let bytes = std::fs::read("assets/mnist-10k.bin").expect("run from the repository root");
    let mnist = Mnist::parse(&bytes).expect("bundled MNIST");
    let models = [
        (
            "reference CNN",
            ModelKind::Classifier(ClassifierConfig::reference()),
        ),
        (
            "dense AE 784-128-32-128-784",
            ModelKind::Autoencoder(AutoencoderConfig::dense((1, 28, 28), 128, 32)),
        ),
        (
            "conv AE (16, 32, latent 16)",
            ModelKind::Autoencoder(AutoencoderConfig::conv((1, 28, 28), 16, 32, 16)),
        ),
        (
            "VAE 784-256-(16)-256-784",
            ModelKind::Vae(VaeConfig::dense((1, 28, 28), 256, 16)),
        ),
        (
            "ResNet-20 (width 8)",
            ModelKind::Classifier(ClassifierConfig::deep((1, 28, 28), 8, 3, 3, true)),
        ),
    ];
    for (name, kind) in models {
        let cfg = TrainConfig {
            batch: 64,
            epochs: 100,
            seed: 1,
            optimizer: OptimizerConfig::adam(1e-3),
        };
        let mut t = Trainer::new(
            Cpu::new(),
            &kind,
            cfg,
            owned(mnist.train()),
            owned(mnist.test()),
        );
        let start = Instant::now();
        t.set_clock(move || start.elapsed().as_secs_f64());
        // The first step sizes every buffer; measure the warm ones.
        pollster::block_on(t.step());
        t.pause();
        t.resume();
        let mut last = None;
        for _ in 0..steps {
            last = pollster::block_on(t.step());
        }
        let p = last.expect("running");
        println!(
            "{name:32} {:8.0} images/s  (loss {:.4} after {} steps)",
            p.images_per_s, p.loss, p.step
        );
    }
}
