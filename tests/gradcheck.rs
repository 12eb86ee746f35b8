//! Finite-difference gradient check of every op's backward, for every input and parameter, on the
//! scalar reference and on the CPU backend (its fast paths).
//!
//! The checked scalar is `L = sum(r * y)` for a fixed random `r` (accumulated in f64), so each
//! backward receives `dy = r`; a loss op's gradient is scaled by `r[0]`. Central differences with a
//! step of 1e-2 (f32 forward passes); inputs are kept away from kinks (ReLU at 0, ties in max
//! pooling) so the difference quotient is a derivative.

mod common;

use cnn_lab::backend::{Backend, BnSaved, Cpu};
use cnn_lab::ops::{self, Act, Conv2dGeom};
use cnn_lab::rng::Rng;
use common::*;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

type Inputs = Vec<Vec<f32>>;

const H: f32 = 1e-2;
/// Elements checked per input (all of them when fewer).
const SAMPLES: usize = 40;

/// Both implementations of every op are checked.
#[derive(Clone, Copy, Debug)]
enum Path {
    Reference,
    Cpu,
}
const PATHS: [Path; 2] = [Path::Reference, Path::Cpu];

fn seed(name: &str) -> u64 {
    name.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    })
}

/// Compares `bwd(inputs, r)` (one gradient per input, empty for inputs without one) with central
/// differences of `L = sum(r * fwd(inputs))`. The tolerance (1e-3 + 0.3%) sits about 2x above the
/// worst f32 difference-quotient error seen on these shapes.
fn check(
    name: &str,
    inputs: Inputs,
    fwd: impl Fn(&Inputs) -> Vec<f32>,
    bwd: impl Fn(&Inputs, &[f32]) -> Inputs,
) {
    let mut rng = Rng::new(seed(name));
    let r = normal(&mut rng, fwd(&inputs).len());
    let loss = |inp: &Inputs| -> f64 {
        let y = fwd(inp);
        y.iter().zip(&r).map(|(&a, &b)| a as f64 * b as f64).sum()
    };
    let grads = bwd(&inputs, &r);
    assert_eq!(grads.len(), inputs.len(), "{name}: one gradient per input");
    let mut checked = 0;
    for (k, g) in grads.iter().enumerate() {
        if g.is_empty() {
            continue;
        }
        assert_eq!(g.len(), inputs[k].len(), "{name}: gradient {k} length");
        let picks: Vec<usize> = if g.len() <= SAMPLES {
            (0..g.len()).collect()
        } else {
            (0..SAMPLES).map(|_| rng.below(g.len())).collect()
        };
        for j in picks {
            let mut p = inputs.clone();
            let x = p[k][j];
            p[k][j] = x + H;
            let (xp, lp) = (p[k][j], loss(&p));
            p[k][j] = x - H;
            let (xm, lm) = (p[k][j], loss(&p));
            let num = ((lp - lm) / (xp - xm) as f64) as f32;
            let tol = 1e-3 + 3e-3 * num.abs();
            assert!(
                (num - g[j]).abs() <= tol,
                "{name}: d/d input {k}[{j}]: analytic {}, numeric {num}",
                g[j]
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "{name}: nothing checked");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn activations() {
    let cpu = Cpu::new();
    let acts = [Act::Relu, Act::LeakyRelu(0.1), Act::Sigmoid, Act::Tanh];
    for (act, path) in acts.iter().flat_map(|&a| PATHS.map(|p| (a, p))) {
        let mut rng = Rng::new(1);
        let x = away_from_zero(&mut rng, 37, 0.05);
        let fwd = |inp: &Inputs| {
            let mut y = vec![0.0; inp[0].len()];
            match path {
                Path::Reference => ops::act::reference::forward(act, &inp[0], &mut y),
                Path::Cpu => cpu.act_forward(act, &inp[0], &mut y),
            }
            y
        };
        let bwd = |inp: &Inputs, dy: &[f32]| {
            let y = fwd(inp);
            let mut dx = vec![0.0; y.len()];
            match path {
                Path::Reference => ops::act::reference::backward(act, &inp[0], &y, dy, &mut dx),
                Path::Cpu => cpu.act_backward(act, &inp[0], &y, &dy.to_vec(), &mut dx),
            }
            vec![dx]
        };
        check(&format!("{act:?} {path:?}"), vec![x], fwd, bwd);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dense() {
    let cpu = Cpu::new();
    for (n, i, o) in [(1, 3, 2), (4, 7, 5), (3, 17, 9)] {
        for path in PATHS {
            let mut rng = Rng::new(2);
            let inputs = vec![
                normal(&mut rng, n * i),
                normal(&mut rng, o * i),
                normal(&mut rng, o),
            ];
            let fwd = |p: &Inputs| {
                let mut y = vec![0.0; n * o];
                match path {
                    Path::Reference => {
                        ops::dense::reference::forward(&p[0], &p[1], &p[2], &mut y, n, i, o)
                    }
                    Path::Cpu => cpu.dense_forward(&p[0], &p[1], &p[2], &mut y, n, i, o),
                }
                y
            };
            let bwd = |p: &Inputs, dy: &[f32]| {
                let (mut dx, mut dw, mut db) = (vec![0.0; n * i], vec![0.0; o * i], vec![0.0; o]);
                match path {
                    Path::Reference => ops::dense::reference::backward(
                        &p[0],
                        &p[1],
                        dy,
                        Some(&mut dx),
                        &mut dw,
                        &mut db,
                        n,
                        i,
                        o,
                    ),
                    Path::Cpu => cpu.dense_backward(
                        &p[0],
                        &p[1],
                        &dy.to_vec(),
                        Some(&mut dx),
                        &mut dw,
                        &mut db,
                        n,
                        i,
                        o,
                    ),
                }
                vec![dx, dw, db]
            };
            check(&format!("dense {n}x{i}->{o} {path:?}"), inputs, fwd, bwd);
        }
    }
}

/// Shared by conv2d and its transpose: `transpose` picks the op.
fn check_conv(g: Conv2dGeom, transpose: bool, path: Path) {
    let cpu = Cpu::new();
    let (oh, ow) = (g.out_h(), g.out_w());
    let big = g.n * g.in_c * g.in_h * g.in_w;
    let small = g.n * g.out_c * oh * ow;
    let (x_len, y_len, b_len) = if transpose {
        (small, big, g.in_c)
    } else {
        (big, small, g.out_c)
    };
    let mut rng = Rng::new(3);
    let w_len = g.out_c * g.in_c * g.kh * g.kw;
    let inputs = vec![
        normal(&mut rng, x_len),
        normal(&mut rng, w_len),
        normal(&mut rng, b_len),
    ];
    use ops::{conv2d as c, conv_transpose2d as t};
    let fwd = |p: &Inputs| {
        let mut y = vec![0.0; y_len];
        match (transpose, path) {
            (false, Path::Reference) => c::reference::forward(&g, &p[0], &p[1], &p[2], &mut y),
            (false, Path::Cpu) => cpu.conv2d_forward(&g, &p[0], &p[1], &p[2], &mut y),
            (true, Path::Reference) => t::reference::forward(&g, &p[0], &p[1], &p[2], &mut y),
            (true, Path::Cpu) => cpu.conv_transpose2d_forward(&g, &p[0], &p[1], &p[2], &mut y),
        }
        y
    };
    let bwd = |p: &Inputs, dy: &[f32]| {
        let (mut dx, mut dw, mut db) = (vec![0.0; x_len], vec![0.0; w_len], vec![0.0; b_len]);
        let dyv = dy.to_vec();
        let (x, w) = (&p[0], &p[1]);
        match (transpose, path) {
            (false, Path::Reference) => {
                c::reference::backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db)
            }
            (false, Path::Cpu) => {
                cpu.conv2d_backward(&g, x, w, &dyv, Some(&mut dx), &mut dw, &mut db)
            }
            (true, Path::Reference) => {
                t::reference::backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db)
            }
            (true, Path::Cpu) => {
                cpu.conv_transpose2d_backward(&g, x, w, &dyv, Some(&mut dx), &mut dw, &mut db)
            }
        }
        vec![dx, dw, db]
    };
    let op = if transpose {
        "conv_transpose2d"
    } else {
        "conv2d"
    };
    check(&format!("{op} {g:?} {path:?}"), inputs, fwd, bwd);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn conv2d() {
    for g in conv_shapes() {
        for p in PATHS {
            check_conv(g, false, p);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn conv_transpose2d() {
    for g in conv_shapes() {
        for p in PATHS {
            check_conv(g, true, p);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pooling() {
    let cpu = Cpu::new();
    use ops::pool::reference as r;
    for (g, path) in pool_shapes()
        .into_iter()
        .flat_map(|g| PATHS.map(|p| (g, p)))
    {
        let len = g.n * g.c * g.in_h * g.in_w;
        let out = g.n * g.c * g.out_h() * g.out_w();
        let mut rng = Rng::new(4);
        let x = distinct(&mut rng, len, 0.05);
        for max in [true, false] {
            let fwd = |p: &Inputs| {
                let mut y = vec![0.0; out];
                match (max, path) {
                    (true, Path::Reference) => r::max_forward(&g, &p[0], &mut y),
                    (true, Path::Cpu) => cpu.maxpool2d_forward(&g, &p[0], &mut y),
                    (false, Path::Reference) => r::avg_forward(&g, &p[0], &mut y),
                    (false, Path::Cpu) => cpu.avgpool2d_forward(&g, &p[0], &mut y),
                }
                y
            };
            let bwd = |p: &Inputs, dy: &[f32]| {
                let mut dx = vec![0.0; len];
                match (max, path) {
                    (true, Path::Reference) => r::max_backward(&g, &p[0], dy, &mut dx),
                    (true, Path::Cpu) => cpu.maxpool2d_backward(&g, &p[0], &dy.to_vec(), &mut dx),
                    (false, Path::Reference) => r::avg_backward(&g, dy, &mut dx),
                    (false, Path::Cpu) => cpu.avgpool2d_backward(&g, &dy.to_vec(), &mut dx),
                }
                vec![dx]
            };
            let op = if max { "maxpool" } else { "avgpool" };
            check(&format!("{op} {g:?} {path:?}"), vec![x.clone()], fwd, bwd);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn batchnorm_train() {
    let cpu = Cpu::new();
    use ops::batchnorm::reference as r;
    for ((n, c, hw), path) in [(4, 3, 5), (6, 2, 1), (1, 3, 7)]
        .into_iter()
        .flat_map(|d| PATHS.map(|p| (d, p)))
    {
        let mut rng = Rng::new(5);
        let x = normal(&mut rng, n * c * hw);
        let gamma = uniform(&mut rng, c, 0.5, 1.5);
        let beta = normal(&mut rng, c);
        // Returns y, mean and inv_std.
        let run = |p: &Inputs| {
            let (mut y, mut mean, mut inv_std) =
                (vec![0.0; p[0].len()], vec![0.0; c], vec![0.0; c]);
            let (mut rm, mut rv) = (vec![0.0; c], vec![1.0; c]);
            match path {
                Path::Reference => r::forward_train(
                    &p[0],
                    &p[1],
                    &p[2],
                    &mut y,
                    &mut mean,
                    &mut inv_std,
                    &mut rm,
                    &mut rv,
                    (n, c, hw),
                    0.1,
                    1e-5,
                ),
                Path::Cpu => {
                    let saved = BnSaved {
                        mean: &mut mean,
                        inv_std: &mut inv_std,
                    };
                    cpu.batchnorm_forward_train(
                        &p[0],
                        &p[1],
                        &p[2],
                        &mut y,
                        saved,
                        &mut rm,
                        &mut rv,
                        (n, c, hw),
                        0.1,
                        1e-5,
                    )
                }
            }
            (y, mean, inv_std)
        };
        let fwd = |p: &Inputs| run(p).0;
        let bwd = |p: &Inputs, dy: &[f32]| {
            let (_, mean, inv_std) = run(p);
            let (mut dx, mut dg, mut db) = (vec![0.0; p[0].len()], vec![0.0; c], vec![0.0; c]);
            let dyv = dy.to_vec();
            match path {
                Path::Reference => r::backward(
                    &p[0],
                    &p[1],
                    &mean,
                    &inv_std,
                    dy,
                    &mut dx,
                    &mut dg,
                    &mut db,
                    (n, c, hw),
                ),
                Path::Cpu => cpu.batchnorm_backward(
                    &p[0],
                    &p[1],
                    &mean,
                    &inv_std,
                    &dyv,
                    &mut dx,
                    &mut dg,
                    &mut db,
                    (n, c, hw),
                ),
            }
            vec![dx, dg, db]
        };
        check(
            &format!("batchnorm {n}x{c}x{hw} {path:?}"),
            vec![x, gamma, beta],
            fwd,
            bwd,
        );
    }
}

/// Shorthand for the loss checks: a one-element output.
fn scalar(v: f32) -> Vec<f32> {
    vec![v]
}

fn scaled(mut g: Vec<f32>, k: f32) -> Vec<f32> {
    g.iter_mut().for_each(|v| *v *= k);
    g
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_cross_entropy() {
    let cpu = Cpu::new();
    use ops::loss::reference as r;
    for ((n, k), path) in [(1, 3), (5, 10), (4, 7)]
        .into_iter()
        .flat_map(|d| PATHS.map(|p| (d, p)))
    {
        let mut rng = Rng::new(6);
        let logits = scaled(normal(&mut rng, n * k), 2.0);
        let labels: Vec<f32> = (0..n).map(|_| rng.below(k) as f32).collect();
        let fwd = |p: &Inputs| {
            let (mut probs, mut loss) = (vec![0.0; n * k], vec![0.0]);
            match path {
                Path::Reference => {
                    loss[0] = r::softmax_xent_forward(&p[0], &labels, &mut probs, n, k)
                }
                Path::Cpu => cpu.softmax_xent_forward(&p[0], &labels, &mut probs, &mut loss, n, k),
            }
            (loss, probs)
        };
        let bwd = |p: &Inputs, dy: &[f32]| {
            let probs = fwd(p).1;
            let mut d = vec![0.0; n * k];
            match path {
                Path::Reference => r::softmax_xent_backward(&probs, &labels, &mut d, n, k),
                Path::Cpu => cpu.softmax_xent_backward(&probs, &labels, &mut d, n, k),
            }
            vec![scaled(d, dy[0])]
        };
        check(
            &format!("softmax_xent {n}x{k} {path:?}"),
            vec![logits],
            |p| fwd(p).0,
            bwd,
        );
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn mse_and_bce() {
    let cpu = Cpu::new();
    use ops::loss::reference as r;
    for path in PATHS {
        let mut rng = Rng::new(7);
        let (n, f) = (3, 11);
        let pred = normal(&mut rng, n * f);
        let target = uniform(&mut rng, n * f, 0.0, 1.0);
        let mse = |p: &Inputs| match path {
            Path::Reference => scalar(r::mse_forward(&p[0], &target)),
            Path::Cpu => {
                let mut l = vec![0.0];
                cpu.mse_forward(&p[0], &target, &mut l);
                l
            }
        };
        let mse_bwd = |p: &Inputs, dy: &[f32]| {
            let mut d = vec![0.0; n * f];
            match path {
                Path::Reference => r::mse_backward(&p[0], &target, &mut d),
                Path::Cpu => cpu.mse_backward(&p[0], &target, &mut d),
            }
            vec![scaled(d, dy[0])]
        };
        check(&format!("mse {path:?}"), vec![pred.clone()], mse, mse_bwd);
        let logits = scaled(pred, 3.0);
        let bce = |p: &Inputs| match path {
            Path::Reference => scalar(r::bce_logits_forward(&p[0], &target, n)),
            Path::Cpu => {
                let mut l = vec![0.0];
                cpu.bce_logits_forward(&p[0], &target, &mut l, n);
                l
            }
        };
        let bce_bwd = |p: &Inputs, dy: &[f32]| {
            let mut d = vec![0.0; n * f];
            match path {
                Path::Reference => r::bce_logits_backward(&p[0], &target, &mut d, n),
                Path::Cpu => cpu.bce_logits_backward(&p[0], &target, &mut d, n),
            }
            vec![scaled(d, dy[0])]
        };
        check(&format!("bce_logits {path:?}"), vec![logits], bce, bce_bwd);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn gaussian_kl_and_reparam() {
    let cpu = Cpu::new();
    use ops::loss::reference as r;
    let (n, z) = (3, 5);
    let beta = 0.7;
    for path in PATHS {
        let mut rng = Rng::new(8);
        let mu = normal(&mut rng, n * z);
        let logvar = scaled(normal(&mut rng, n * z), 0.5);
        let eps = normal(&mut rng, n * z);
        let kl = |p: &Inputs| match path {
            Path::Reference => scalar(beta * r::kl_forward(&p[0], &p[1], n)),
            Path::Cpu => {
                let mut l = vec![0.0];
                cpu.kl_forward(&p[0], &p[1], &mut l, n);
                scalar(beta * l[0])
            }
        };
        let kl_bwd = |p: &Inputs, dy: &[f32]| {
            let (mut dmu, mut dlv) = (vec![0.0; n * z], vec![0.0; n * z]);
            match path {
                Path::Reference => {
                    r::kl_backward(&p[0], &p[1], &mut dmu, &mut dlv, n, beta * dy[0])
                }
                Path::Cpu => cpu.kl_backward(&p[0], &p[1], &mut dmu, &mut dlv, n, beta * dy[0]),
            }
            vec![dmu, dlv]
        };
        check(
            &format!("kl {path:?}"),
            vec![mu.clone(), logvar.clone()],
            kl,
            kl_bwd,
        );
        let rep = |p: &Inputs| {
            let mut out = vec![0.0; n * z];
            match path {
                Path::Reference => r::reparam_forward(&p[0], &p[1], &eps, &mut out),
                Path::Cpu => cpu.reparam_forward(&p[0], &p[1], &eps, &mut out),
            }
            out
        };
        let rep_bwd = |p: &Inputs, dy: &[f32]| {
            let (mut dmu, mut dlv) = (vec![0.0; n * z], vec![0.0; n * z]);
            match path {
                Path::Reference => r::reparam_backward(&p[1], &eps, dy, &mut dmu, &mut dlv),
                Path::Cpu => cpu.reparam_backward(&p[1], &eps, &dy.to_vec(), &mut dmu, &mut dlv),
            }
            vec![dmu, dlv]
        };
        check(&format!("reparam {path:?}"), vec![mu, logvar], rep, rep_bwd);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn add_for_skip_connections() {
    // y = a + b: the gradient into each input is dy itself (layers pass it on; no kernel needed).
    let cpu = Cpu::new();
    let mut rng = Rng::new(9);
    let inputs = vec![normal(&mut rng, 13), normal(&mut rng, 13)];
    let fwd = |p: &Inputs| {
        let mut y = vec![0.0; 13];
        cpu.add(&p[0], &p[1], &mut y);
        y
    };
    check("add", inputs, fwd, |_, dy| vec![dy.to_vec(), dy.to_vec()]);
}
