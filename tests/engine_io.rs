//! The worker's model files and user data through `nn::engine`: export then import into a fresh
//! model predicts the same, a rejected file leaves the model as it was, and four IDX files become
//! the engine's digits (or a clear message); a run resumed from a per-epoch checkpoint in a fresh
//! engine ends bit-identical with the run that was never interrupted.
#![cfg(not(target_arch = "wasm32"))] // pollster blocks; native only

use cnn_lab::data::augment::Augment;
use cnn_lab::data::mnist::Mnist;
use cnn_lab::nn::engine::{idx_digits, Device, Engine, ModelSpec, TrainRequest};
use cnn_lab::nn::{LayerSpec, OptimizerConfig};
use cnn_lab::ops::Act;
use pollster::block_on;

fn mnist() -> Mnist {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    Mnist::parse(&std::fs::read(path).expect("bundled MNIST")).expect("valid file")
}

fn small_cnn() -> ModelSpec {
    use LayerSpec::*;
    ModelSpec::Cnn(vec![
        Conv {
            filters: 4,
            k: 3,
            stride: 1,
            pad: 1,
            bias: true,
        },
        Activation(Act::Relu),
        MaxPool { k: 2, stride: 2 },
        Flatten,
        Dense { units: 10 },
    ])
}

fn trained(data: &Mnist, seed: u64) -> Engine {
    let mut e = Engine::new(Device::Cpu, &small_cnn(), seed, data).unwrap();
    let req = TrainRequest {
        epochs: 1,
        batch: 32,
        optimizer: OptimizerConfig::adam(2e-3),
        train_size: Some(256),
        classes: None,
        augment: None,
        test_size: None,
    };
    block_on(e.begin(&req, data)).unwrap();
    while block_on(e.step()).unwrap().is_some() {}
    e.end();
    e
}

#[test]
fn export_then_import_predicts_the_same_and_bad_files_change_nothing() {
    let data = mnist();
    let mut a = trained(&data, 1);
    let digits: Vec<f32> = data.test().first(5).images();
    let before = block_on(a.predict(&digits)).unwrap();
    let file = block_on(a.export());

    let mut b = Engine::new(Device::Cpu, &small_cnn(), 2, &data).unwrap();
    assert_ne!(
        block_on(b.predict(&digits)).unwrap(),
        before,
        "another seed"
    );
    b.import(&file).unwrap();
    assert_eq!(block_on(b.predict(&digits)).unwrap(), before);

    let mut truncated = file.clone();
    truncated.truncate(file.len() / 2);
    let mut bad_magic = file.clone();
    bad_magic[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    for (what, bytes) in [("truncated", truncated), ("huge header", bad_magic)] {
        let err = a.import(&bytes).expect_err(what);
        assert!(
            err.starts_with("the model file was not loaded: "),
            "{what}: {err}"
        );
        assert_eq!(block_on(a.predict(&digits)).unwrap(), before, "{what}");
    }
    let mut other = Engine::new(Device::Cpu, &ModelSpec::Ae { latent: 8 }, 1, &data).unwrap();
    let err = other.import(&file).expect_err("another architecture");
    assert!(err.contains("architecture"), "{err}");
}

fn idx_images(n: usize, side: usize, fill: u8) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 3];
    for d in [n, side, side] {
        b.extend_from_slice(&(d as u32).to_be_bytes());
    }
    b.resize(b.len() + n * side * side, fill);
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, 1];
    b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

#[test]
fn four_idx_files_become_the_digits_or_a_clear_message() {
    let d = idx_digits(
        &idx_images(3, 28, 255),
        &idx_labels(&[1, 2, 3]),
        &idx_images(2, 28, 0),
        &idx_labels(&[7, 9]),
    )
    .unwrap();
    assert_eq!((d.train().len(), d.test().len()), (3, 2));
    assert_eq!(d.train().labels, &[1, 2, 3]);
    assert_eq!(d.test().labels, &[7, 9]);
    assert!(d.train().images().iter().all(|&p| p == 1.0));
    assert!(d.test().images().iter().all(|&p| p == 0.0));
    // the engine trains on them
    let mut e = Engine::new(Device::Cpu, &small_cnn(), 1, &d).unwrap();
    let req = TrainRequest {
        epochs: 1,
        batch: 3,
        optimizer: OptimizerConfig::adam(1e-3),
        train_size: None,
        classes: None,
        augment: None,
        test_size: None,
    };
    assert_eq!(block_on(e.begin(&req, &d)).unwrap(), 1);

    let labels = idx_labels(&[1, 2, 3]);
    let swapped = idx_digits(
        &labels,
        &idx_images(3, 28, 0),
        &idx_images(2, 28, 0),
        &labels,
    );
    assert!(swapped.unwrap_err().starts_with("training set: "));
    let count = idx_digits(
        &idx_images(3, 28, 0),
        &labels,
        &idx_images(2, 28, 0),
        &labels,
    );
    assert!(count.unwrap_err().starts_with("test set: "));
    let small = idx_digits(
        &idx_images(3, 14, 0),
        &labels,
        &idx_images(3, 28, 0),
        &labels,
    );
    assert!(small.unwrap_err().contains("14x14"));
}

fn request(epochs: usize, optimizer: OptimizerConfig, augment: Option<Augment>) -> TrainRequest {
    TrainRequest {
        epochs,
        batch: 32,
        optimizer,
        train_size: Some(256),
        classes: None,
        augment,
        test_size: Some(100),
    }
}

/// Trains until the run ends or `until_epoch` epochs are done; the loss of every step, with the
/// held-out metrics after each epoch, as the worker asks for them.
fn train(e: &mut Engine, until_epoch: usize) -> Vec<(u64, f32)> {
    let mut losses = Vec::new();
    while let Some(p) = block_on(e.step()).unwrap() {
        losses.push((p.step, p.loss));
        if p.epoch_progress == 0.0 {
            block_on(e.test_metrics());
            if p.epoch == until_epoch {
                break;
            }
        }
    }
    losses
}

/// Two epochs straight, against one epoch, a checkpoint, and the second epoch resumed from it in a
/// fresh engine (as after a reload): the same losses at every step and the same weights. Resuming
/// from the weights alone (the optimizer state and random streams lost) does not get there.
fn resume_is_exact(spec: ModelSpec, optimizer: OptimizerConfig, augment: Option<Augment>) {
    resume_is_exact_on(&|| Device::Cpu, spec, optimizer, augment);
}

fn resume_is_exact_on(
    device: &dyn Fn() -> Device,
    spec: ModelSpec,
    optimizer: OptimizerConfig,
    augment: Option<Augment>,
) {
    let data = mnist();
    let two = request(2, optimizer, augment);
    let mut straight = Engine::new(device(), &spec, 7, &data).unwrap();
    block_on(straight.begin(&two, &data)).unwrap();
    let all = train(&mut straight, 2);
    assert_eq!(all.len(), 16);
    let finished = block_on(straight.export());

    let mut first = Engine::new(device(), &spec, 7, &data).unwrap();
    block_on(first.begin(&two, &data)).unwrap();
    let mut losses = train(&mut first, 1);
    let checkpoint = block_on(first.checkpoint());
    let weights_only = block_on(first.export());
    drop(first);

    let mut again = Engine::new(device(), &spec, 7, &data).unwrap();
    let from = block_on(again.resume(&request(1, optimizer, augment), &data, &checkpoint));
    assert_eq!(
        from.unwrap(),
        (8, 8, 1),
        "steps per epoch, steps and epochs done"
    );
    losses.extend(train(&mut again, 2));
    assert_eq!(losses, all, "the same loss at every step");
    assert!(block_on(again.step()).unwrap().is_none(), "the run is over");
    assert_eq!(block_on(again.export()), finished, "bit-identical weights");

    let mut naive = Engine::new(device(), &spec, 7, &data).unwrap();
    naive.import(&weights_only).unwrap();
    block_on(naive.begin(&request(1, optimizer, augment), &data)).unwrap();
    train(&mut naive, 1);
    assert_ne!(block_on(naive.export()), finished, "the state matters");
}

#[test]
fn a_cnn_with_adam_and_augmentation_resumes_exactly() {
    let augment = Augment {
        max_rotate_deg: 10.0,
        max_shift: 2.0,
        noise_sigma: 0.1,
        ..Augment::default()
    };
    resume_is_exact(small_cnn(), OptimizerConfig::adam(2e-3), Some(augment));
}

#[test]
fn a_vae_with_sgd_momentum_resumes_exactly() {
    let vae = ModelSpec::Vae {
        latent: 4,
        hidden: 32,
        beta: 1.0,
    };
    resume_is_exact(vae, OptimizerConfig::sgd(0.01, 0.9), None);
}

/// The same on wgpu (lavapipe natively): the checkpoint reads the optimizer state off the GPU.
#[cfg(feature = "webgpu")]
#[test]
fn on_the_gpu_too_a_resumed_run_is_exact() {
    use cnn_lab::backend::gpu::Gpu;
    if let Err(e) = block_on(Gpu::new()) {
        eprintln!("SKIPPED: no GPU adapter ({e})");
        return;
    }
    let gpu = || Device::Gpu(block_on(Gpu::new()).expect("an adapter, as above"));
    resume_is_exact_on(&gpu, small_cnn(), OptimizerConfig::adam(2e-3), None);
}

#[test]
fn a_checkpoint_is_a_model_file_and_the_export_holds_no_optimizer_state() {
    use cnn_lab::io::safetensors::parse;
    let data = mnist();
    let mut e = Engine::new(Device::Cpu, &small_cnn(), 1, &data).unwrap();
    let req = request(2, OptimizerConfig::adam(2e-3), None);
    block_on(e.begin(&req, &data)).unwrap();
    train(&mut e, 1);
    let (checkpoint, export) = (block_on(e.checkpoint()), block_on(e.export()));
    let names = |b: &[u8]| -> Vec<String> {
        let f = parse(b).unwrap();
        f.tensors.iter().map(|t| t.name.clone()).collect()
    };
    assert!(names(&export).iter().all(|n| !n.starts_with("__")));
    let model: Vec<String> = names(&checkpoint)
        .into_iter()
        .filter(|n| !n.starts_with("__optim__."))
        .collect();
    assert_eq!(
        model,
        names(&export),
        "the model's tensors, then the optimizer's"
    );
    assert!(names(&checkpoint).contains(&"__optim__.0.weight.exp_avg_sq".to_string()));
    let meta = parse(&checkpoint).unwrap().metadata;
    assert!(
        meta.contains(&("cnn_lab.epoch".into(), "1".into())),
        "{meta:?}"
    );
    assert!(
        parse(&export).unwrap().metadata.len() == 1,
        "only format: pt"
    );

    // the page restores a checkpoint with importModel: the same predictions
    let digits: Vec<f32> = data.test().first(3).images();
    let mut b = Engine::new(Device::Cpu, &small_cnn(), 1, &data).unwrap();
    b.import(&checkpoint).unwrap();
    assert_eq!(
        block_on(b.predict(&digits)).unwrap(),
        block_on(e.predict(&digits)).unwrap()
    );

    // another run's settings, or a damaged state, are refused with the reason
    let sgd = request(1, OptimizerConfig::sgd(0.01, 0.9), None);
    let err = block_on(b.resume(&sgd, &data, &checkpoint)).unwrap_err();
    assert!(err.contains("batch 32 and adam, not seed 1"), "{err}");
    let mut other_seed = Engine::new(Device::Cpu, &small_cnn(), 2, &data).unwrap();
    let err = block_on(other_seed.resume(&req, &data, &checkpoint)).unwrap_err();
    assert!(err.contains("with seed 1 on 256 digits"), "{err}");
    let (key, bad) = (b"\"cnn_lab.opt_t\":\"8\"", b"\"cnn_lab.opt_t\":\"x\"");
    let at = checkpoint
        .windows(key.len())
        .position(|w| w == key)
        .unwrap();
    let mut damaged = checkpoint.clone();
    damaged[at..at + key.len()].copy_from_slice(bad);
    let err = block_on(b.resume(&req, &data, &damaged)).unwrap_err();
    assert!(err.contains("cnn_lab.opt_t is \"x\""), "{err}");
}
