//! Data-parallel training (`Trainer::shard_step` / `apply_shards`, src/nn/train/parallel.rs): the
//! shards' weighted mean gradient is the whole batch's gradient (within 1e-5 relative, measured as
//! max |difference| / max |gradient| over all parameters), and the replicas stay bit-identical.
// Native only: blocks on futures with pollster.
#![cfg(not(target_arch = "wasm32"))]

use cnn_lab::backend::cpu::Cpu;
use cnn_lab::data::augment::Augment;
use cnn_lab::data::mnist::Mnist;
use cnn_lab::nn::models::{AutoencoderConfig, ClassifierConfig, VaeConfig};
use cnn_lab::nn::train::owned;
use cnn_lab::nn::{LayerSpec, ModelKind, OptimizerConfig, TrainConfig, Trainer};
use cnn_lab::ops::Act;
use pollster::block_on;

fn trainer(kind: &ModelKind, batch: usize, augment: Option<Augment>) -> Trainer<Cpu> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    let mnist = Mnist::parse(&std::fs::read(path).expect("bundled MNIST")).expect("valid file");
    let cfg = TrainConfig {
        batch,
        epochs: 10,
        seed: 5,
        optimizer: OptimizerConfig::adam(1e-3),
    };
    let (train, test) = (owned(mnist.train()), owned(mnist.test()));
    let (train, test) = (owned(train.slice(0..256)), owned(test.slice(0..64)));
    let mut t = Trainer::new(Cpu::new(), kind, cfg, train, test);
    t.set_augment(augment);
    t
}

/// Parameter values (or gradients), then the buffers (batch-norm running statistics).
fn flat(t: &mut Trainer<Cpu>, grads: bool) -> Vec<f32> {
    let mut v = Vec::new();
    t.model
        .visit_params(&mut |p| v.extend(if grads { &p.grad } else { &p.value }));
    if !grads {
        t.model.visit_buffers(&mut |_, b| v.extend(b.iter()));
    }
    v
}

/// max |a - b| / max |b|.
fn rel(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    diff / b.iter().map(|y| y.abs()).fold(0.0, f32::max)
}

/// Trains `parts` replicas in lockstep for `steps` steps; returns them and the progress reports
/// of each step (all replicas report the same, checked).
fn replicas(
    kind: &ModelKind,
    batch: usize,
    augment: Option<Augment>,
    parts: usize,
    mut each_step: impl FnMut(&mut Trainer<Cpu>, &cnn_lab::nn::Progress),
    steps: usize,
) -> Vec<Trainer<Cpu>> {
    let mut reps: Vec<_> = (0..parts).map(|_| trainer(kind, batch, augment)).collect();
    let len = reps[0].record_len();
    let mut records = vec![0.0; len * parts];
    for _ in 0..steps {
        for (part, (t, rec)) in reps.iter_mut().zip(records.chunks_mut(len)).enumerate() {
            assert!(t.shard_step(part, parts, rec));
        }
        let ps: Vec<_> = reps
            .iter_mut()
            .map(|t| t.apply_shards(&records, parts))
            .collect();
        assert!(
            ps.iter().all(|p| *p == ps[0]),
            "the replicas report one step"
        );
        each_step(&mut reps[0], &ps[0]);
        let first = flat(&mut reps[0], false);
        for t in &mut reps[1..] {
            assert!(flat(t, false) == first, "a replica's weights differ");
        }
    }
    reps
}

/// The largest relative gradient error over `steps` steps against a one-thread run.
fn worst_gradient_error(kind: &ModelKind, batch: usize, aug: Option<Augment>, steps: usize) -> f32 {
    let mut one = trainer(kind, batch, aug);
    let mut worst = 0.0f32;
    replicas(
        kind,
        batch,
        aug,
        2,
        |rep, p| {
            let p1 = block_on(one.step()).unwrap();
            worst = worst.max(rel(&flat(rep, true), &flat(&mut one, true)));
            assert_eq!(
                (p.step, p.epoch, p.accuracy),
                (p1.step, p1.epoch, p1.accuracy)
            );
            for ((n, v), (n1, v1)) in p.losses.iter().zip(&p1.losses) {
                assert_eq!(n, n1);
                assert!(
                    (v - v1).abs() <= 1e-5 * v1.abs().max(1e-3),
                    "{n}: {v} vs {v1}"
                );
            }
            // the same step from (nearly) the same weights: the weights stay close too
            assert!(rel(&flat(rep, false), &flat(&mut one, false)) < 1e-4);
        },
        steps,
    );
    worst
}

#[test]
fn two_shards_average_to_the_whole_batch_gradient() {
    let cnn = ModelKind::Classifier(ClassifierConfig::reference());
    let ae = ModelKind::Autoencoder(AutoencoderConfig::dense((1, 28, 28), 64, 16));
    let vae = ModelKind::Vae(VaeConfig::dense((1, 28, 28), 64, 8));
    let noisy = Augment {
        noise_sigma: 0.3,
        max_shift: 2.0,
        ..Augment::default()
    };
    let cases = [
        ("cnn", &cnn, 32, None),
        ("cnn, 21 + 22 (uneven shards)", &cnn, 43, None),
        ("cnn, augmented", &cnn, 32, Some(noisy)),
        ("dense ae", &ae, 32, None),
        ("denoising ae", &ae, 32, Some(noisy)),
        ("vae", &vae, 32, None),
    ];
    for (name, kind, batch, aug) in cases {
        let worst = worst_gradient_error(kind, batch, aug, 3);
        println!("{name}: relative gradient error {worst:.2e}");
        assert!(worst < 1e-5, "{name}: relative gradient error {worst}");
    }
}

#[test]
fn one_shard_is_exactly_a_step() {
    let cnn = ModelKind::Classifier(ClassifierConfig::reference());
    let mut one = trainer(&cnn, 16, None);
    let mut rep = replicas(
        &cnn,
        16,
        None,
        1,
        |_, p| assert_eq!(block_on(one.step()).as_ref(), Some(p)),
        3,
    );
    assert!(flat(&mut rep[0], false) == flat(&mut one, false));
}

/// With batch norm each replica normalises with its own shard's statistics, so the gradient is not
/// the whole batch's; the replicas still agree bit for bit, running statistics included.
#[test]
fn batch_norm_replicas_stay_identical() {
    let kind = ModelKind::Classifier(ClassifierConfig {
        input: (1, 28, 28),
        layers: vec![
            LayerSpec::conv_same(4, 3),
            LayerSpec::BatchNorm,
            LayerSpec::Activation(Act::Relu),
            LayerSpec::MaxPool { k: 4, stride: 4 },
            LayerSpec::Flatten,
            LayerSpec::Dense { units: 10 },
        ],
        classes: 10,
    });
    let mut reps = replicas(&kind, 16, None, 2, |_, _| {}, 3);
    let mut moved = 0;
    reps[0].model.visit_buffers(&mut |name, b| {
        if name == "running_mean" {
            moved += b.iter().filter(|&&m| m != 0.0).count();
        }
    });
    assert!(moved > 0, "the running statistics were updated");
}

#[test]
fn shards_cover_the_batch() {
    for (batch, parts) in [(64, 2), (43, 2), (10, 3), (7, 7)] {
        let ranges: Vec<_> = (0..parts)
            .map(|p| cnn_lab::nn::train::shard_range(batch, p, parts))
            .collect();
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges[parts - 1].end, batch);
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
        assert!(ranges.iter().all(|r| r.len() * parts + parts > batch));
    }
}
