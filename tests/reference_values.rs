//! Forward values and gradients against JAX (float64), from tests/reference/values.json, which
//! tests/reference/gen_reference.py wrote. Both the scalar reference and the CPU backend are checked,
//! within 1e-4 relative (with an absolute floor of 1e-4 times the tensor's rms).

mod common;

use cnn_lab::backend::{Backend, BnSaved, Cpu};
use cnn_lab::ops::{self, Conv2dGeom, Pool2dGeom};
use common::assert_close;
use std::collections::HashMap;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// One case: array name -> flat values.
type Case = HashMap<String, Vec<f32>>;

/// Parses the fixed format gen_reference.py writes: `{"case": {"name": [numbers], ...}, ...}`.
fn parse(text: &str) -> HashMap<String, Case> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let mut cases = HashMap::new();
    p.object(|p, name| {
        let mut case = Case::new();
        p.object(|p, key| {
            case.insert(key, p.numbers());
        });
        cases.insert(name, case);
    });
    cases
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn expect(&mut self, c: u8) {
        self.skip_ws();
        assert_eq!(
            self.s[self.i] as char, c as char,
            "values.json: at byte {}",
            self.i
        );
        self.i += 1;
    }
    /// Is the next non-blank byte `c`? Consumes it if so.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        let hit = self.s.get(self.i) == Some(&c);
        self.i += hit as usize;
        hit
    }
    fn string(&mut self) -> String {
        self.expect(b'"');
        let start = self.i;
        while self.s[self.i] != b'"' {
            self.i += 1;
        }
        self.i += 1;
        String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap()
    }
    fn object(&mut self, mut member: impl FnMut(&mut Self, String)) {
        self.expect(b'{');
        if self.eat(b'}') {
            return;
        }
        loop {
            let key = self.string();
            self.expect(b':');
            member(self, key);
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b'}');
    }
    fn numbers(&mut self) -> Vec<f32> {
        self.expect(b'[');
        let mut v = Vec::new();
        if self.eat(b']') {
            return v;
        }
        loop {
            self.skip_ws();
            let start = self.i;
            while matches!(
                self.s[self.i],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
            ) {
                self.i += 1;
            }
            let text = core::str::from_utf8(&self.s[start..self.i]).unwrap();
            v.push(text.parse::<f64>().expect("values.json: number") as f32);
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b']');
        v
    }
}

fn cases() -> HashMap<String, Case> {
    parse(include_str!("reference/values.json"))
}

fn close(what: &str, got: &[f32], want: &[f32]) {
    let rms = (want.iter().map(|v| v * v).sum::<f32>() / want.len().max(1) as f32).sqrt();
    assert_close(what, got, want, 1e-4 * rms, 1e-4);
}

fn ints(v: &[f32]) -> Vec<usize> {
    v.iter().map(|&x| x as usize).collect()
}

#[derive(Clone, Copy, Debug)]
enum Path {
    Reference,
    Cpu,
}
const PATHS: [Path; 2] = [Path::Reference, Path::Cpu];

fn conv_geom(c: &Case) -> Conv2dGeom {
    let g = ints(&c["geom"]);
    Conv2dGeom {
        n: g[0],
        in_c: g[1],
        in_h: g[2],
        in_w: g[3],
        out_c: g[4],
        kh: g[5],
        kw: g[6],
        stride: g[7],
        pad: g[8],
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn parser_reads_the_file() {
    let all = cases();
    assert_eq!(all.len(), 12);
    assert_eq!(all["dense"]["dims"], vec![3.0, 5.0, 4.0]);
    assert_eq!(
        parse(r#"{"a": {"v": [1, -2.5e-1], "w": []}}"#)["a"]["v"],
        vec![1.0, -0.25]
    );
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn conv2d_and_transpose() {
    let cpu = Cpu::new();
    let all = cases();
    for (name, transpose) in [
        ("conv2d_strided_padded", false),
        ("conv2d_rect_kernel", false),
        ("conv_transpose2d", true),
    ] {
        let c = &all[name];
        let g = conv_geom(c);
        for path in PATHS {
            let (x, w, b, dy) = (&c["x"], &c["w"], &c["b"], &c["dy"]);
            let mut y = vec![0.0; c["y"].len()];
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
            use ops::{conv2d as cv, conv_transpose2d as ct};
            match (transpose, path) {
                (false, Path::Reference) => {
                    cv::reference::forward(&g, x, w, b, &mut y);
                    cv::reference::backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db);
                }
                (false, Path::Cpu) => {
                    cpu.conv2d_forward(&g, x, w, b, &mut y);
                    cpu.conv2d_backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db);
                }
                (true, Path::Reference) => {
                    ct::reference::forward(&g, x, w, b, &mut y);
                    ct::reference::backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db);
                }
                (true, Path::Cpu) => {
                    cpu.conv_transpose2d_forward(&g, x, w, b, &mut y);
                    cpu.conv_transpose2d_backward(&g, x, w, dy, Some(&mut dx), &mut dw, &mut db);
                }
            }
            close(&format!("{name} {path:?} y"), &y, &c["y"]);
            close(&format!("{name} {path:?} dx"), &dx, &c["dx"]);
            close(&format!("{name} {path:?} dw"), &dw, &c["dw"]);
            close(&format!("{name} {path:?} db"), &db, &c["db"]);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pooling() {
    let cpu = Cpu::new();
    let all = cases();
    use ops::pool::reference as r;
    for name in [
        "maxpool_2x2",
        "maxpool_3x3_stride2",
        "avgpool_2x2",
        "avgpool_3x3_stride2",
    ] {
        let c = &all[name];
        let d = ints(&c["geom"]);
        let g = Pool2dGeom {
            n: d[0],
            c: d[1],
            in_h: d[2],
            in_w: d[3],
            k: d[4],
            stride: d[5],
        };
        let max = name.starts_with("max");
        for path in PATHS {
            let (x, dy) = (&c["x"], &c["dy"]);
            let (mut y, mut dx) = (vec![0.0; c["y"].len()], vec![0.0; x.len()]);
            match (max, path) {
                (true, Path::Reference) => {
                    r::max_forward(&g, x, &mut y);
                    r::max_backward(&g, x, dy, &mut dx);
                }
                (true, Path::Cpu) => {
                    cpu.maxpool2d_forward(&g, x, &mut y);
                    cpu.maxpool2d_backward(&g, x, dy, &mut dx);
                }
                (false, Path::Reference) => {
                    r::avg_forward(&g, x, &mut y);
                    r::avg_backward(&g, dy, &mut dx);
                }
                (false, Path::Cpu) => {
                    cpu.avgpool2d_forward(&g, x, &mut y);
                    cpu.avgpool2d_backward(&g, dy, &mut dx);
                }
            }
            close(&format!("{name} {path:?} y"), &y, &c["y"]);
            close(&format!("{name} {path:?} dx"), &dx, &c["dx"]);
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn dense() {
    let cpu = Cpu::new();
    let c = &cases()["dense"];
    let d = ints(&c["dims"]);
    let (n, i, o) = (d[0], d[1], d[2]);
    for path in PATHS {
        let (x, w, b, dy) = (&c["x"], &c["w"], &c["b"], &c["dy"]);
        let (mut y, mut dx, mut dw, mut db) = (
            vec![0.0; n * o],
            vec![0.0; n * i],
            vec![0.0; o * i],
            vec![0.0; o],
        );
        match path {
            Path::Reference => {
                ops::dense::reference::forward(x, w, b, &mut y, n, i, o);
                ops::dense::reference::backward(x, w, dy, Some(&mut dx), &mut dw, &mut db, n, i, o);
            }
            Path::Cpu => {
                cpu.dense_forward(x, w, b, &mut y, n, i, o);
                cpu.dense_backward(x, w, dy, Some(&mut dx), &mut dw, &mut db, n, i, o);
            }
        }
        close(&format!("dense {path:?} y"), &y, &c["y"]);
        close(&format!("dense {path:?} dx"), &dx, &c["dx"]);
        close(&format!("dense {path:?} dw"), &dw, &c["dw"]);
        close(&format!("dense {path:?} db"), &db, &c["db"]);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn batchnorm_train_running_stats_and_eval() {
    let cpu = Cpu::new();
    let c = &cases()["batchnorm"];
    let d = ints(&c["dims"]);
    let dims @ (_, ch, _) = (d[0], d[1], d[2]);
    let (momentum, eps) = (c["hyper"][0], c["hyper"][1]);
    use ops::batchnorm::reference as r;
    for path in PATHS {
        let (x, gamma, beta, dy) = (&c["x"], &c["gamma"], &c["beta"], &c["dy"]);
        let (mut rm, mut rv) = (c["running_mean0"].clone(), c["running_var0"].clone());
        let (mut y, mut mean, mut inv_std) = (vec![0.0; x.len()], vec![0.0; ch], vec![0.0; ch]);
        let (mut dx, mut dg, mut db) = (vec![0.0; x.len()], vec![0.0; ch], vec![0.0; ch]);
        let mut y_eval = vec![0.0; x.len()];
        match path {
            Path::Reference => {
                r::forward_train(
                    x,
                    gamma,
                    beta,
                    &mut y,
                    &mut mean,
                    &mut inv_std,
                    &mut rm,
                    &mut rv,
                    dims,
                    momentum,
                    eps,
                );
                r::backward(
                    x, gamma, &mean, &inv_std, dy, &mut dx, &mut dg, &mut db, dims,
                );
                r::forward_eval(x, gamma, beta, &mut y_eval, &rm, &rv, dims, eps);
            }
            Path::Cpu => {
                let saved = BnSaved {
                    mean: &mut mean,
                    inv_std: &mut inv_std,
                };
                cpu.batchnorm_forward_train(
                    x, gamma, beta, &mut y, saved, &mut rm, &mut rv, dims, momentum, eps,
                );
                cpu.batchnorm_backward(
                    x, gamma, &mean, &inv_std, dy, &mut dx, &mut dg, &mut db, dims,
                );
                cpu.batchnorm_forward_eval(x, gamma, beta, &mut y_eval, &rm, &rv, dims, eps);
            }
        }
        close(&format!("bn {path:?} y"), &y, &c["y"]);
        close(&format!("bn {path:?} dx"), &dx, &c["dx"]);
        close(&format!("bn {path:?} dgamma"), &dg, &c["dgamma"]);
        close(&format!("bn {path:?} dbeta"), &db, &c["dbeta"]);
        close(
            &format!("bn {path:?} running mean"),
            &rm,
            &c["running_mean"],
        );
        close(&format!("bn {path:?} running var"), &rv, &c["running_var"]);
        close(&format!("bn {path:?} eval y"), &y_eval, &c["y_eval"]);
    }
}

/// The VAE's loss composed from the ops as a model would: reparameterise, decode with a dense
/// layer, BCE on the logits plus beta * KL; gradients flow back through both paths into mu, logvar.
#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn vae_loss() {
    let cpu = Cpu::new();
    let c = &cases()["vae_loss"];
    let d = ints(&c["dims"]);
    let (n, zd, f) = (d[0], d[1], d[2]);
    let beta = c["beta"][0];
    let (mu, lv, wd, bd, eps, target) = (
        &c["mu"],
        &c["logvar"],
        &c["wd"],
        &c["bd"],
        &c["eps"],
        &c["target"],
    );
    for path in PATHS {
        let (mut z, mut logits) = (vec![0.0; n * zd], vec![0.0; n * f]);
        let (mut dlogits, mut dz) = (vec![0.0; n * f], vec![0.0; n * zd]);
        let (mut dwd, mut dbd) = (vec![0.0; f * zd], vec![0.0; f]);
        let (mut dmu, mut dlv) = (vec![0.0; n * zd], vec![0.0; n * zd]);
        let (recon, kl) = match path {
            Path::Reference => {
                use ops::loss::reference as l;
                l::reparam_forward(mu, lv, eps, &mut z);
                ops::dense::reference::forward(&z, wd, bd, &mut logits, n, zd, f);
                let recon = l::bce_logits_forward(&logits, target, n);
                let kl = l::kl_forward(mu, lv, n);
                l::bce_logits_backward(&logits, target, &mut dlogits, n);
                let dz_ = Some(&mut dz[..]);
                ops::dense::reference::backward(
                    &z, wd, &dlogits, dz_, &mut dwd, &mut dbd, n, zd, f,
                );
                l::kl_backward(mu, lv, &mut dmu, &mut dlv, n, beta);
                l::reparam_backward(lv, eps, &dz, &mut dmu, &mut dlv);
                (recon, kl)
            }
            Path::Cpu => {
                let (mut recon, mut kl) = (vec![0.0], vec![0.0]);
                cpu.reparam_forward(mu, lv, eps, &mut z);
                cpu.dense_forward(&z, wd, bd, &mut logits, n, zd, f);
                cpu.bce_logits_forward(&logits, target, &mut recon, n);
                cpu.kl_forward(mu, lv, &mut kl, n);
                cpu.bce_logits_backward(&logits, target, &mut dlogits, n);
                cpu.dense_backward(
                    &z,
                    wd,
                    &dlogits,
                    Some(&mut dz),
                    &mut dwd,
                    &mut dbd,
                    n,
                    zd,
                    f,
                );
                cpu.kl_backward(mu, lv, &mut dmu, &mut dlv, n, beta);
                cpu.reparam_backward(lv, eps, &dz, &mut dmu, &mut dlv);
                (recon[0], kl[0])
            }
        };
        close(&format!("vae {path:?} recon"), &[recon], &c["recon"]);
        close(&format!("vae {path:?} kl"), &[kl], &c["kl"]);
        close(
            &format!("vae {path:?} loss"),
            &[recon + beta * kl],
            &c["loss"],
        );
        close(&format!("vae {path:?} dmu"), &dmu, &c["dmu"]);
        close(&format!("vae {path:?} dlogvar"), &dlv, &c["dlogvar"]);
        close(&format!("vae {path:?} dwd"), &dwd, &c["dwd"]);
        close(&format!("vae {path:?} dbd"), &dbd, &c["dbd"]);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn softmax_xent_and_mse() {
    let cpu = Cpu::new();
    let all = cases();
    let c = &all["softmax_xent"];
    let d = ints(&c["dims"]);
    let (n, k) = (d[0], d[1]);
    let (logits, labels) = (&c["logits"], &c["labels"]);
    let (mut probs, mut loss, mut dl) = (vec![0.0; n * k], vec![0.0], vec![0.0; n * k]);
    cpu.softmax_xent_forward(logits, labels, &mut probs, &mut loss, n, k);
    cpu.softmax_xent_backward(&probs, labels, &mut dl, n, k);
    close("xent cpu probs", &probs, &c["probs"]);
    close("xent cpu loss", &loss, &c["loss"]);
    close("xent cpu dlogits", &dl, &c["dlogits"]);
    use ops::loss::reference as r;
    let lr = r::softmax_xent_forward(logits, labels, &mut probs, n, k);
    r::softmax_xent_backward(&probs, labels, &mut dl, n, k);
    close("xent ref loss", &[lr], &c["loss"]);
    close("xent ref dlogits", &dl, &c["dlogits"]);

    let c = &all["mse"];
    let (pred, target) = (&c["pred"], &c["target"]);
    let mut dp = vec![0.0; pred.len()];
    cpu.mse_forward(pred, target, &mut loss);
    cpu.mse_backward(pred, target, &mut dp);
    close("mse cpu loss", &loss, &c["loss"]);
    close("mse cpu dpred", &dp, &c["dpred"]);
    close("mse ref loss", &[r::mse_forward(pred, target)], &c["loss"]);
    r::mse_backward(pred, target, &mut dp);
    close("mse ref dpred", &dp, &c["dpred"]);
}
