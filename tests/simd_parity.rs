//! The CPU backend's fast paths (wasm simd128 on wasm32, portable code natively) against the scalar
//! references, on random shapes including odd sizes, batch 1 and GEMM sizes that cross the packing
//! block boundaries. Outputs start as NaN, so a path that reads instead of overwriting fails.
//!
//! Tolerance: `|fast - ref| <= 1e-5 * |ref| + 1e-5 * rms(ref)`: relative, with an absolute floor
//! scaled to the tensor (sums in a different order differ by a few ulps of the summands, not of
//! a result that happens to cancel).

mod common;

use cnn_lab::backend::{AdamStep, Backend, BnSaved, Cpu};
use cnn_lab::ops::gemm::{self, GemmScratch, View};
use cnn_lab::ops::{self, Act, Conv2dGeom};
use cnn_lab::rng::Rng;
use common::*;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn same(what: &str, fast: &[f32], reference: &[f32]) {
    let rms = (reference.iter().map(|v| v * v).sum::<f32>() / reference.len().max(1) as f32).sqrt();
    assert_close(what, fast, reference, 1e-5 * rms, 1e-5);
}

fn nans(len: usize) -> Vec<f32> {
    vec![f32::NAN; len]
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn gemm_all_transposes_and_block_edges() {
    let mut rng = Rng::new(10);
    let mut s = GemmScratch::default();
    let sizes = [
        (1, 1, 1),
        (3, 5, 7),
        (4, 8, 16),
        (13, 17, 11),
        (67, 29, 261),
        (130, 9, 300),
        (5, 2053, 3),
    ];
    for (m, n, k) in sizes {
        for (ta, tb, acc) in [
            (false, false, false),
            (true, false, true),
            (false, true, false),
            (true, true, true),
        ] {
            let a = normal(&mut rng, m * k);
            let b = normal(&mut rng, k * n);
            let av = if ta {
                View::rows_t(&a, m)
            } else {
                View::rows(&a, k)
            };
            let bv = if tb {
                View::rows_t(&b, k)
            } else {
                View::rows(&b, n)
            };
            // C with a row stride wider than n, to check ldc and that the margin is untouched.
            let ldc = n + 3;
            let c0 = normal(&mut rng, m * ldc);
            let (mut fast, mut want) = (c0.clone(), c0.clone());
            gemm::gemm(m, n, k, av, bv, &mut fast, ldc, acc, &mut s);
            gemm::reference::gemm(m, n, k, av, bv, &mut want, ldc, acc);
            same(
                &format!("gemm {m}x{n}x{k} ta={ta} tb={tb} acc={acc}"),
                &fast,
                &want,
            );
            for i in 0..m {
                assert_eq!(
                    fast[i * ldc + n..(i + 1) * ldc],
                    c0[i * ldc + n..(i + 1) * ldc]
                );
            }
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dense() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(11);
    for (n, i, o) in [
        (1, 1, 1),
        (3, 7, 5),
        (64, 784, 128),
        (17, 33, 10),
        (5, 128, 784),
    ] {
        let (x, w, b) = (
            normal(&mut rng, n * i),
            normal(&mut rng, o * i),
            normal(&mut rng, o),
        );
        let dy = normal(&mut rng, n * o);
        let (mut y, mut yr) = (nans(n * o), nans(n * o));
        cpu.dense_forward(&x, &w, &b, &mut y, n, i, o);
        ops::dense::reference::forward(&x, &w, &b, &mut yr, n, i, o);
        same("dense y", &y, &yr);
        let (mut dx, mut dw, mut db) = (nans(n * i), nans(o * i), nans(o));
        let (mut dxr, mut dwr, mut dbr) = (nans(n * i), nans(o * i), nans(o));
        cpu.dense_backward(&x, &w, &dy, Some(&mut dx), &mut dw, &mut db, n, i, o);
        ops::dense::reference::backward(&x, &w, &dy, Some(&mut dxr), &mut dwr, &mut dbr, n, i, o);
        same("dense dx", &dx, &dxr);
        same("dense dw", &dw, &dwr);
        same("dense db", &db, &dbr);
        let (mut dw2, mut db2) = (nans(o * i), nans(o));
        cpu.dense_backward(&x, &w, &dy, None, &mut dw2, &mut db2, n, i, o);
        assert_eq!((dw2, db2), (dw, db), "dense backward without dx");
    }
}

/// Random convolution geometries: odd sizes, strides 1..3, padding below the kernel size.
fn random_convs(rng: &mut Rng, count: usize) -> Vec<Conv2dGeom> {
    let mut v: Vec<Conv2dGeom> = (0..count)
        .map(|_| {
            let (kh, kw) = (1 + rng.below(5), 1 + rng.below(5));
            let pad = rng.below(kh.min(kw));
            conv(
                1 + rng.below(3),
                1 + rng.below(5),
                (kh + rng.below(10), kw + rng.below(10)),
                1 + rng.below(6),
                (kh, kw),
                1 + rng.below(3),
                pad,
            )
        })
        .collect();
    // The course's shapes: MNIST-sized first layers and a 1x1 projection.
    v.extend([
        conv(3, 1, (28, 28), 8, (3, 3), 1, 1),
        conv(2, 8, (14, 14), 16, (3, 3), 1, 1),
        conv(2, 16, (14, 14), 32, (3, 3), 2, 1),
        conv(2, 16, (7, 7), 32, (1, 1), 1, 0),
        conv(2, 3, (9, 9), 4, (1, 1), 2, 0),
    ]);
    v
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn conv2d_and_transpose() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(12);
    for g in random_convs(&mut rng, 40).into_iter().chain(conv_shapes()) {
        let big = g.n * g.in_c * g.in_h * g.in_w;
        let small = g.n * g.out_c * g.out_h() * g.out_w();
        let w = normal(&mut rng, g.out_c * g.in_c * g.kh * g.kw);
        for transpose in [false, true] {
            let (xl, yl, bl) = if transpose {
                (small, big, g.in_c)
            } else {
                (big, small, g.out_c)
            };
            let (x, b, dy) = (
                normal(&mut rng, xl),
                normal(&mut rng, bl),
                normal(&mut rng, yl),
            );
            let (mut y, mut yr) = (nans(yl), nans(yl));
            let (mut dx, mut dw, mut db) = (nans(xl), nans(w.len()), nans(bl));
            let (mut dxr, mut dwr, mut dbr) = (nans(xl), nans(w.len()), nans(bl));
            if transpose {
                use ops::conv_transpose2d::reference as r;
                cpu.conv_transpose2d_forward(&g, &x, &w, &b, &mut y);
                r::forward(&g, &x, &w, &b, &mut yr);
                cpu.conv_transpose2d_backward(&g, &x, &w, &dy, Some(&mut dx), &mut dw, &mut db);
                r::backward(&g, &x, &w, &dy, Some(&mut dxr), &mut dwr, &mut dbr);
            } else {
                use ops::conv2d::reference as r;
                cpu.conv2d_forward(&g, &x, &w, &b, &mut y);
                r::forward(&g, &x, &w, &b, &mut yr);
                cpu.conv2d_backward(&g, &x, &w, &dy, Some(&mut dx), &mut dw, &mut db);
                r::backward(&g, &x, &w, &dy, Some(&mut dxr), &mut dwr, &mut dbr);
            }
            let what = format!("{} {g:?}", if transpose { "convT" } else { "conv" });
            same(&format!("{what} y"), &y, &yr);
            same(&format!("{what} dx"), &dx, &dxr);
            same(&format!("{what} dw"), &dw, &dwr);
            same(&format!("{what} db"), &db, &dbr);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pooling() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(13);
    let mut shapes = pool_shapes();
    // 2x2 windows in rows long enough for the four-window SIMD groups, with and without a tail.
    shapes.extend([pool(2, 3, (28, 28), 2, 2), pool(1, 2, (15, 19), 2, 2)]);
    for _ in 0..30 {
        let k = 1 + rng.below(4);
        shapes.push(pool(
            1 + rng.below(3),
            1 + rng.below(4),
            (k + rng.below(9), k + rng.below(9)),
            k,
            1 + rng.below(3),
        ));
    }
    use ops::pool::reference as r;
    for g in shapes {
        let len = g.n * g.c * g.in_h * g.in_w;
        let out = g.n * g.c * g.out_h() * g.out_w();
        // Rounded values so windows contain ties: both paths must pick the same (first) maximum.
        let x: Vec<f32> = normal(&mut rng, len)
            .iter()
            .map(|v| (v * 2.0).round())
            .collect();
        let dy = normal(&mut rng, out);
        let (mut y, mut yr, mut dx, mut dxr) = (nans(out), nans(out), nans(len), nans(len));
        cpu.maxpool2d_forward(&g, &x, &mut y);
        r::max_forward(&g, &x, &mut yr);
        assert_eq!(y, yr, "maxpool {g:?}");
        cpu.maxpool2d_backward(&g, &x, &dy, &mut dx);
        r::max_backward(&g, &x, &dy, &mut dxr);
        same(&format!("maxpool dx {g:?}"), &dx, &dxr);
        cpu.avgpool2d_forward(&g, &x, &mut y);
        r::avg_forward(&g, &x, &mut yr);
        same(&format!("avgpool y {g:?}"), &y, &yr);
        cpu.avgpool2d_backward(&g, &dy, &mut dx);
        r::avg_backward(&g, &dy, &mut dxr);
        same(&format!("avgpool dx {g:?}"), &dx, &dxr);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn elementwise_and_activations() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(14);
    for len in [1, 7, 64, 1001] {
        let x = scaled_normal(&mut rng, len, 4.0);
        let dy = normal(&mut rng, len);
        for act in [Act::Relu, Act::LeakyRelu(0.01), Act::Sigmoid, Act::Tanh] {
            let (mut y, mut yr, mut dx, mut dxr) = (nans(len), nans(len), nans(len), nans(len));
            cpu.act_forward(act, &x, &mut y);
            ops::act::reference::forward(act, &x, &mut yr);
            same(&format!("{act:?} y"), &y, &yr);
            cpu.act_backward(act, &x, &yr, &dy, &mut dx);
            ops::act::reference::backward(act, &x, &yr, &dy, &mut dxr);
            same(&format!("{act:?} dx"), &dx, &dxr);
        }
        let (mut y, mut yr) = (nans(len), nans(len));
        cpu.add(&x, &dy, &mut y);
        ops::elementwise::reference::add(&x, &dy, &mut yr);
        same("add", &y, &yr);
        cpu.add_assign(&mut y, &x);
        ops::elementwise::reference::add_assign(&mut yr, &x);
        same("add_assign", &y, &yr);
        cpu.fill(&mut y, 0.25);
        assert!(y.iter().all(|&v| v == 0.25));
    }
}

fn scaled_normal(rng: &mut Rng, len: usize, k: f32) -> Vec<f32> {
    normal(rng, len).into_iter().map(|v| v * k).collect()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn batchnorm() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(15);
    use ops::batchnorm::reference as r;
    for dims @ (n, c, hw) in [(1, 1, 5), (4, 3, 7), (64, 8, 196), (33, 17, 1), (2, 5, 9)] {
        let len = n * c * hw;
        let x: Vec<f32> = normal(&mut rng, len)
            .iter()
            .map(|v| 3.0 + 2.0 * v)
            .collect();
        let (gamma, beta, dy) = (
            normal(&mut rng, c),
            normal(&mut rng, c),
            normal(&mut rng, len),
        );
        let (rm0, rv0) = (normal(&mut rng, c), uniform(&mut rng, c, 0.5, 2.0));
        let (mut y, mut mean, mut inv_std, mut rm, mut rv) =
            (nans(len), nans(c), nans(c), rm0.clone(), rv0.clone());
        let (mut yr, mut meanr, mut inv_stdr, mut rmr, mut rvr) =
            (nans(len), nans(c), nans(c), rm0, rv0);
        let saved = BnSaved {
            mean: &mut mean,
            inv_std: &mut inv_std,
        };
        cpu.batchnorm_forward_train(
            &x, &gamma, &beta, &mut y, saved, &mut rm, &mut rv, dims, 0.1, 1e-5,
        );
        r::forward_train(
            &x,
            &gamma,
            &beta,
            &mut yr,
            &mut meanr,
            &mut inv_stdr,
            &mut rmr,
            &mut rvr,
            dims,
            0.1,
            1e-5,
        );
        same("bn y", &y, &yr);
        same("bn mean", &mean, &meanr);
        same("bn inv_std", &inv_std, &inv_stdr);
        same("bn running mean", &rm, &rmr);
        same("bn running var", &rv, &rvr);
        let (mut dx, mut dg, mut db) = (nans(len), nans(c), nans(c));
        let (mut dxr, mut dgr, mut dbr) = (nans(len), nans(c), nans(c));
        cpu.batchnorm_backward(
            &x, &gamma, &meanr, &inv_stdr, &dy, &mut dx, &mut dg, &mut db, dims,
        );
        r::backward(
            &x, &gamma, &meanr, &inv_stdr, &dy, &mut dxr, &mut dgr, &mut dbr, dims,
        );
        same("bn dx", &dx, &dxr);
        same("bn dgamma", &dg, &dgr);
        same("bn dbeta", &db, &dbr);
        cpu.batchnorm_forward_eval(&x, &gamma, &beta, &mut y, &rm, &rv, dims, 1e-5);
        r::forward_eval(&x, &gamma, &beta, &mut yr, &rmr, &rvr, dims, 1e-5);
        same("bn eval y", &y, &yr);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn losses() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(16);
    use ops::loss::reference as r;
    for (n, f) in [(1, 1), (3, 10), (64, 784), (7, 33)] {
        let len = n * f;
        let logits = scaled_normal(&mut rng, len, 5.0);
        let target = uniform(&mut rng, len, 0.0, 1.0);
        let labels: Vec<f32> = (0..n).map(|_| rng.below(f) as f32).collect();
        let (mut probs, mut probsr, mut loss) = (nans(len), nans(len), nans(1));
        cpu.softmax_xent_forward(&logits, &labels, &mut probs, &mut loss, n, f);
        let lr = r::softmax_xent_forward(&logits, &labels, &mut probsr, n, f);
        same("softmax probs", &probs, &probsr);
        same("xent loss", &loss, &[lr]);
        let (mut d, mut dr) = (nans(len), nans(len));
        cpu.softmax_xent_backward(&probsr, &labels, &mut d, n, f);
        r::softmax_xent_backward(&probsr, &labels, &mut dr, n, f);
        same("xent dlogits", &d, &dr);

        cpu.mse_forward(&logits, &target, &mut loss);
        same("mse", &loss, &[r::mse_forward(&logits, &target)]);
        cpu.mse_backward(&logits, &target, &mut d);
        r::mse_backward(&logits, &target, &mut dr);
        same("mse dpred", &d, &dr);

        cpu.bce_logits_forward(&logits, &target, &mut loss, n);
        same("bce", &loss, &[r::bce_logits_forward(&logits, &target, n)]);
        cpu.bce_logits_backward(&logits, &target, &mut d, n);
        r::bce_logits_backward(&logits, &target, &mut dr, n);
        same("bce dlogits", &d, &dr);

        let (mu, logvar, eps) = (
            normal(&mut rng, len),
            normal(&mut rng, len),
            normal(&mut rng, len),
        );
        cpu.kl_forward(&mu, &logvar, &mut loss, n);
        same("kl", &loss, &[r::kl_forward(&mu, &logvar, n)]);
        let (mut dmu, mut dlv, mut dmur, mut dlvr) = (nans(len), nans(len), nans(len), nans(len));
        cpu.kl_backward(&mu, &logvar, &mut dmu, &mut dlv, n, 0.5);
        r::kl_backward(&mu, &logvar, &mut dmur, &mut dlvr, n, 0.5);
        same("kl dmu", &dmu, &dmur);
        same("kl dlogvar", &dlv, &dlvr);
        let (mut z, mut zr) = (nans(len), nans(len));
        cpu.reparam_forward(&mu, &logvar, &eps, &mut z);
        r::reparam_forward(&mu, &logvar, &eps, &mut zr);
        same("reparam z", &z, &zr);
        // reparam_backward adds into the KL gradients (by contract), so both start from them.
        let dz = normal(&mut rng, len);
        cpu.reparam_backward(&logvar, &eps, &dz, &mut dmu, &mut dlv);
        r::reparam_backward(&logvar, &eps, &dz, &mut dmur, &mut dlvr);
        same("reparam dmu", &dmu, &dmur);
        same("reparam dlogvar", &dlv, &dlvr);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn optimizers_and_sum_squares() {
    let cpu = Cpu::new();
    let mut rng = Rng::new(17);
    use ops::optim::reference as r;
    for len in [1, 9, 1000] {
        let p0 = normal(&mut rng, len);
        let (mut p, mut v, mut pr, mut vr) =
            (p0.clone(), vec![0.0; len], p0.clone(), vec![0.0; len]);
        let (mut q, mut m, mut s, mut qr, mut mr, mut sr) = (
            p0.clone(),
            vec![0.0; len],
            vec![0.0; len],
            p0,
            vec![0.0; len],
            vec![0.0; len],
        );
        for t in 1..=5 {
            let g = normal(&mut rng, len);
            cpu.sgd_step(&mut p, &g, &mut v, 0.1, 0.9);
            r::sgd_step(&mut pr, &g, &mut vr, 0.1, 0.9);
            let h = AdamStep {
                lr: 1e-2,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                t,
            };
            cpu.adam_step(&mut q, &g, &mut m, &mut s, h);
            r::adam_step(&mut qr, &g, &mut mr, &mut sr, h);
        }
        same("sgd param", &p, &pr);
        same("sgd velocity", &v, &vr);
        same("adam param", &q, &qr);
        same("adam m", &m, &mr);
        same("adam v", &s, &sr);
        let mut out = nans(1);
        cpu.sum_squares(&q, &mut out);
        same("sum_squares", &out, &[r::sum_squares(&q)]);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn memory_ops_and_name() {
    let cpu = Cpu::new();
    let mut b = cpu.upload(&[1.0, 2.0, 3.0]);
    assert_eq!(cpu.len(&b), 3);
    cpu.write(&mut b, &[4.0, 5.0, 6.0]);
    // read is async; the CPU's future is ready at once.
    let mut fut = core::pin::pin!(cpu.read(&b));
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match core::future::Future::poll(fut.as_mut(), &mut cx) {
        core::task::Poll::Ready(v) => assert_eq!(v, vec![4.0, 5.0, 6.0]),
        core::task::Poll::Pending => panic!("CPU read should be ready"),
    }
    assert_eq!(cpu.zeros(4), vec![0.0; 4]);
    let expect = if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "CPU (wasm SIMD)"
    } else {
        "CPU (native)"
    };
    assert_eq!(cpu.name(), expect);
    // The shipped wasm is always built with simd128, so a browser run of this suite tests that path.
    #[cfg(target_arch = "wasm32")]
    assert!(
        cfg!(target_feature = "simd128"),
        "wasm build without simd128"
    );
}

/// The vectorisable exp and ln(1 + u) behind sigmoid and BCE, against std.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fast_exp_and_ln_1p() {
    use cnn_lab::ops::math;
    let rel = |got: f32, want: f64| ((got as f64 - want) / want).abs();
    let mut worst = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..=200_000 {
        let x = -87.0 + 175.0 * i as f32 / 200_000.0;
        worst.0 = worst.0.max(rel(math::exp(x), (x as f64).exp()));
        let u = i as f32 / 200_000.0;
        let tiny = 1e-12 * (i + 1) as f32;
        for v in [u, tiny] {
            if v > 0.0 {
                worst.1 = worst.1.max(rel(math::ln_1p_unit(v), (v as f64).ln_1p()));
            }
        }
        let s = x / 4.0;
        worst.2 = worst
            .2
            .max(rel(math::sigmoid(s), 1.0 / (1.0 + (-s as f64).exp())));
    }
    println!(
        "worst relative errors: exp {:.2e}, ln_1p {:.2e}, sigmoid {:.2e}",
        worst.0, worst.1, worst.2
    );
    assert!(worst.0 < 4e-7, "exp: worst relative error {}", worst.0);
    assert!(worst.1 < 4e-7, "ln_1p: worst relative error {}", worst.1);
    assert!(worst.2 < 4e-7, "sigmoid: worst relative error {}", worst.2);
    // Saturation: no inf or NaN where std would overflow, 0 far below.
    assert!(math::exp(1000.0).is_finite() && math::exp(-1000.0) < 1.3e-38);
    assert_eq!(math::sigmoid(-1000.0).min(1e-30), math::sigmoid(-1000.0));
    assert_eq!(math::sigmoid(1000.0), 1.0);
}
