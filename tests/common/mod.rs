//! Helpers shared by the op test suites (each suite uses a subset).
#![allow(dead_code)]

use cnn_lab::data::mnist::Mnist;
use cnn_lab::nn::engine::ModelSpec;
use cnn_lab::nn::LayerSpec;
use cnn_lab::ops::{Act, Conv2dGeom, Pool2dGeom};
use cnn_lab::rng::Rng;

pub fn normal(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.normal()).collect()
}

pub fn uniform(rng: &mut Rng, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..len).map(|_| lo + (hi - lo) * rng.uniform()).collect()
}

/// Normal values pushed at least `gap` away from 0 (for ops with a kink there).
pub fn away_from_zero(rng: &mut Rng, len: usize, gap: f32) -> Vec<f32> {
    normal(rng, len)
        .into_iter()
        .map(|v| {
            if v.abs() < gap {
                gap.copysign(v) + v
            } else {
                v
            }
        })
        .collect()
}

/// Distinct values `step` apart in random order (so a max never ties, even after a nudge).
pub fn distinct(rng: &mut Rng, len: usize, step: f32) -> Vec<f32> {
    let mut v: Vec<f32> = (0..len)
        .map(|i| (i as f32 - len as f32 / 2.0) * step)
        .collect();
    rng.shuffle(&mut v);
    v
}

/// Asserts `|got - want| <= atol + rtol * |want|` element-wise, naming the first offender.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], atol: f32, rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= atol + rtol * w.abs();
        assert!(
            ok,
            "{what}[{i}]: got {g}, want {w} (|diff| {})",
            (g - w).abs()
        );
    }
}

pub fn conv(
    n: usize,
    in_c: usize,
    hw: (usize, usize),
    out_c: usize,
    k: (usize, usize),
    stride: usize,
    pad: usize,
) -> Conv2dGeom {
    Conv2dGeom {
        n,
        in_c,
        in_h: hw.0,
        in_w: hw.1,
        out_c,
        kh: k.0,
        kw: k.1,
        stride,
        pad,
    }
}

pub fn pool(n: usize, c: usize, hw: (usize, usize), k: usize, stride: usize) -> Pool2dGeom {
    Pool2dGeom {
        n,
        c,
        in_h: hw.0,
        in_w: hw.1,
        k,
        stride,
    }
}

/// Convolution shapes covering stride 2, padding, odd and non-square sizes, batch 1, 1x1 kernels.
pub fn conv_shapes() -> Vec<Conv2dGeom> {
    vec![
        conv(2, 3, (7, 6), 4, (3, 3), 2, 1),
        conv(1, 2, (5, 5), 3, (3, 3), 1, 0),
        conv(2, 1, (6, 7), 2, (2, 2), 2, 0),
        conv(3, 3, (4, 5), 2, (1, 1), 1, 0),
        conv(1, 2, (5, 4), 3, (3, 2), 1, 2),
        conv(2, 2, (9, 8), 3, (5, 5), 3, 2),
    ]
}

pub fn pool_shapes() -> Vec<Pool2dGeom> {
    vec![
        pool(2, 3, (6, 6), 2, 2),
        pool(1, 2, (7, 5), 2, 2),
        pool(2, 1, (7, 7), 3, 2),
        pool(1, 2, (5, 6), 3, 1),
    ]
}

/// Says that a GPU test did not run: scripts/test.sh counts these lines (a skip, never a pass).
/// Natively straight to stderr (the harness swallows a passing test's println!); in the browser
/// to the console, which wasm-bindgen-test prints.
pub fn skipped(why: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: no GPU adapter ({why})");
    }
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("SKIPPED: no GPU adapter ({why})");
}

/// Every async test named runs natively under `cargo test` (blocking on its future; the GPU's
/// readbacks poll the device) and in the browser under wasm-bindgen-test (awaiting map_async).
#[allow(unused_macros)]
macro_rules! run_everywhere {
    ($($name:ident),* $(,)?) => {
        #[cfg(not(target_arch = "wasm32"))]
        mod native {
            $(#[test]
            fn $name() {
                pollster::block_on(super::$name())
            })*
        }
        #[cfg(target_arch = "wasm32")]
        mod browser {
            $(#[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                super::$name().await
            })*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use run_everywhere;

/// The bundled 10,000 MNIST digits (8,000 train, 2,000 held out), as the page loads them.
pub fn mnist() -> Mnist {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    Mnist::parse(&std::fs::read(path).expect("bundled MNIST")).expect("valid file")
}

/// A "same" convolution layer (stride 1, padding k/2) as the page's layer builder makes it.
pub fn conv_layer(filters: usize, k: usize) -> LayerSpec {
    LayerSpec::Conv {
        filters,
        k,
        stride: 1,
        pad: k / 2,
        bias: true,
    }
}

/// The exercise-5 preset as the page sends it (www/lab/exercises/train-cnn.js, `toSpecLayers`);
/// also the judge CNN of tests/e2e-lab/ae-real.test.mjs.
pub fn preset_cnn() -> ModelSpec {
    use LayerSpec::*;
    let relu = Activation(Act::Relu);
    let pool = MaxPool { k: 2, stride: 2 };
    ModelSpec::Cnn(vec![
        conv_layer(8, 5),
        relu.clone(),
        pool.clone(),
        conv_layer(16, 3),
        relu.clone(),
        pool,
        Flatten,
        Dense { units: 64 },
        relu,
        Dense { units: 10 },
    ])
}
