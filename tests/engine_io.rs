//! The worker's model files and user data through `nn::engine`: export then import into a fresh
//! model predicts the same, a rejected file leaves the model as it was, and four IDX files become
//! the engine's digits (or a clear message).
#![cfg(not(target_arch = "wasm32"))] // pollster blocks; native only

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
