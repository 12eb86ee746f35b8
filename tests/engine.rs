//! The worker's engine (`nn::engine`) on the CPU: the page's model descriptions, runs started with
//! the page's options, the NaN guard, and the exercise-5 preset's accuracy (the number the page
//! shows). Training tests run in release mode (`cargo test --release --test engine`).
#![cfg(not(target_arch = "wasm32"))] // pollster blocks; native only

mod common;

use cnn_lab::data::augment::Augment;
use cnn_lab::nn::engine::{Device, Engine, ModelSpec, TrainRequest};
use cnn_lab::nn::{LayerSpec, OptimizerConfig};
use common::{conv_layer, mnist, preset_cnn};
use pollster::block_on;

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

/// Runs until the run is over; the number of steps taken, or the error.
fn run(e: &mut Engine) -> Result<usize, String> {
    let mut steps = 0;
    while block_on(e.step())?.is_some() {
        steps += 1;
    }
    Ok(steps)
}

#[test]
fn bad_specs_are_errors_not_panics() {
    use LayerSpec::*;
    let data = mnist();
    let bad = [
        (
            ModelSpec::Cnn(vec![conv_layer(8, 3), Flatten]),
            "last layer",
        ),
        (
            ModelSpec::Cnn(vec![
                Conv {
                    filters: 4,
                    k: 29,
                    stride: 1,
                    pad: 0,
                    bias: true,
                },
                Flatten,
                Dense { units: 10 },
            ]),
            "larger than the 28x28",
        ),
        (
            ModelSpec::Cnn(vec![
                MaxPool { k: 2, stride: 2 },
                MaxPool { k: 2, stride: 2 },
                MaxPool { k: 2, stride: 2 },
                MaxPool { k: 4, stride: 2 },
                Flatten,
                Dense { units: 10 },
            ]),
            "larger than the 3x3",
        ),
        (
            ModelSpec::Deep {
                depth: 7,
                skip: true,
            },
            "even",
        ),
        (ModelSpec::Ae { latent: 0 }, "latent"),
        (
            ModelSpec::Vae {
                latent: 2,
                hidden: 64,
                beta: -1.0,
            },
            "beta",
        ),
    ];
    for (spec, why) in bad {
        let err = Engine::new(Device::Cpu, &spec, 1, &data)
            .err()
            .expect("an error");
        assert!(err.contains(why), "{spec:?}: {err}");
    }
}

#[test]
fn summaries_match_the_page_and_every_kind_builds() {
    let data = mnist();
    let mut e = Engine::new(Device::Cpu, &preset_cnn(), 1, &data).unwrap();
    let rows = e.summary();
    let shapes: Vec<Vec<usize>> = rows.iter().map(|r| r.out_shape.clone()).collect();
    assert_eq!(shapes[0], [8, 28, 28]);
    assert_eq!(shapes[2], [8, 14, 14]);
    assert_eq!(shapes[5], [16, 7, 7]);
    assert_eq!(shapes.last().unwrap(), &[10]);
    let total: usize = rows.iter().map(|r| r.params).sum();
    // conv 8*(25+1) + conv 16*(8*9+1) + dense 64*(784+1) + dense 10*(64+1), as the page counts
    assert_eq!(total, 208 + 1168 + 50240 + 650);
    for spec in [
        ModelSpec::Deep {
            depth: 16,
            skip: true,
        },
        ModelSpec::Deep {
            depth: 6,
            skip: false,
        },
        ModelSpec::Ae { latent: 2 },
        ModelSpec::ConvAe { latent: 16 },
        ModelSpec::Vae {
            latent: 16,
            hidden: 256,
            beta: 1.0,
        },
    ] {
        let mut e = Engine::new(Device::Cpu, &spec, 1, &data).unwrap();
        assert!(e.summary().iter().map(|r| r.params).sum::<usize>() > 0);
        let mut req = request(1, 1e-3);
        req.train_size = Some(64);
        assert_eq!(block_on(e.begin(&req, &data)).unwrap(), 2, "{spec:?}");
        assert_eq!(run(&mut e).unwrap(), 2);
    }
    // a 16-layer net: stem conv, 7 blocks of two convs, dense
    let mut e = Engine::new(
        Device::Cpu,
        &ModelSpec::Deep {
            depth: 16,
            skip: true,
        },
        1,
        &data,
    )
    .unwrap();
    let mut req = request(1, 0.05);
    req.optimizer = OptimizerConfig::sgd(0.05, 0.9);
    req.train_size = Some(32);
    block_on(e.begin(&req, &data)).unwrap();
    run(&mut e).unwrap();
    let weighted: usize = block_on(e.grad_norms())
        .iter()
        .map(|(name, _)| if name.contains(":res") { 2 } else { 1 })
        .sum();
    // stem conv, its batch norm, 7 residual blocks, dense: 1 + 1 + 14 + 1 entries
    assert_eq!(weighted, 17);
}

#[test]
fn a_wild_learning_rate_stops_with_a_message_and_keeps_the_last_good_weights() {
    let data = mnist();
    let mut e = Engine::new(Device::Cpu, &preset_cnn(), 1, &data).unwrap();
    let mut req = request(1, 1e-3);
    req.train_size = Some(320);
    block_on(e.begin(&req, &data)).unwrap();
    run(&mut e).unwrap();
    let good = block_on(e.test_metrics()).loss;
    req.optimizer = OptimizerConfig::sgd(1e9, 0.0);
    req.epochs = 3;
    block_on(e.begin(&req, &data)).unwrap();
    let err = run(&mut e).expect_err("the loss must blow up");
    assert!(err.contains("learning rate"), "{err}");
    let after = block_on(e.test_metrics()).loss;
    assert_eq!(after, good, "the weights from before the run are back");
    // and the model trains on with a sane rate
    req.optimizer = OptimizerConfig::adam(1e-3);
    req.epochs = 1;
    block_on(e.begin(&req, &data)).unwrap();
    run(&mut e).unwrap();
    assert!(block_on(e.test_metrics()).loss < good);
}

#[test]
fn classes_noise_and_vae_codes() {
    let data = mnist();
    let mut e = Engine::new(Device::Cpu, &ModelSpec::Ae { latent: 16 }, 1, &data).unwrap();
    let mut req = request(1, 2e-3);
    req.classes = Some(vec![1]);
    let ones = data.train().labels.iter().filter(|&&l| l == 1).count();
    assert_eq!(block_on(e.begin(&req, &data)).unwrap(), ones / 32);
    req.augment = Some(Augment {
        noise_sigma: 0.5,
        ..Augment::default()
    });
    block_on(e.begin(&req, &data)).unwrap();
    run(&mut e).unwrap();
    assert!(block_on(e.predict(&[0.0; 784])).is_err());

    let spec = ModelSpec::Vae {
        latent: 4,
        hidden: 32,
        beta: 1.0,
    };
    let mut v = Engine::new(Device::Cpu, &spec, 1, &data).unwrap();
    let two = &data.test().first(2).images();
    let (mu, logvar) = block_on(v.encode(two)).unwrap();
    assert_eq!((mu.len(), logvar.map(|l| l.len())), (8, Some(8)));
    let s = block_on(v.sample(3, 7)).unwrap();
    assert_eq!(s, block_on(v.sample(3, 7)).unwrap(), "seeded");
    assert_eq!(s.len(), 3 * 784);
    assert!(block_on(v.decode(&[0.0; 5])).is_err());
}

#[test]
#[cfg_attr(debug_assertions, ignore = "trains for real: run with --release")]
fn exercise_5_preset_reaches_97_percent_with_its_augmentation() {
    // The page's preset: 8 epochs, batch 32, Adam 0.002, rotation ±10°, shift ±2 px, zoom ±10%.
    let data = mnist();
    let mut e = Engine::new(Device::Cpu, &preset_cnn(), 1, &data).unwrap();
    let mut req = request(8, 2e-3);
    req.augment = Some(Augment {
        max_rotate_deg: 10.0,
        max_shift: 2.0,
        zoom: (0.9, 1.1),
        ..Augment::default()
    });
    block_on(e.begin(&req, &data)).unwrap();
    let start = std::time::Instant::now();
    let mut epoch = 0;
    while let Some(p) = block_on(e.step()).unwrap() {
        if p.epoch > epoch {
            epoch = p.epoch;
            let acc = block_on(e.test_metrics()).accuracy.unwrap();
            println!(
                "preset epoch {epoch}: test accuracy {:.2}% ({:.0} s)",
                100.0 * acc,
                start.elapsed().as_secs_f32()
            );
        }
    }
    let report = block_on(e.test_report(None)).unwrap();
    println!("preset: {:.2}% after 8 epochs", 100.0 * report.accuracy);
    assert!(report.accuracy >= 0.97, "{}", report.accuracy);
    assert_eq!(report.confusion.iter().sum::<i32>(), 2000);
    let shifted = block_on(e.test_report(Some((20.0, 3.0)))).unwrap();
    println!(
        "preset: {:.2}% on rotated/shifted digits",
        100.0 * shifted.accuracy
    );
    assert!(shifted.accuracy < report.accuracy && shifted.accuracy > 0.5);
}
