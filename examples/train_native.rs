//! Native training throughput (images/s) of the course's models on the CPU backend, one thread.
//! `cargo run --release --example train_native [steps]`
//!
//! Reports images per second of wall time and, on Linux, per second of this thread's CPU time
//! (from /proc/thread-self/schedstat), which stays meaningful on a machine shared with other work.

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
        // The first step sizes every buffer; measure the warm ones.
        pollster::block_on(t.step());
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let mut last = None;
        for _ in 0..steps {
            last = pollster::block_on(t.step());
        }
        let p = last.expect("running");
        let images = (steps * 64) as f64;
        let per_cpu = cpu.map(|c0| images / (cpu_seconds().unwrap() - c0));
        println!(
            "{name:30} {:7.0} images/s wall, {:>7} images/s CPU  (loss {:.4} after {} steps)",
            images / wall.elapsed().as_secs_f64(),
            per_cpu.map_or("n/a".into(), |v| format!("{v:.0}")),
            p.loss,
            p.step
        );
    }
}

/// CPU time of the calling thread, where /proc provides it.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns * 1e-9)
}
