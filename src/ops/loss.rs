//! Losses (each writes one scalar, a mean over the batch) and the VAE's reparameterisation.
//!
//! - softmax + cross-entropy: logits `[n, classes]`, labels `[n]` (class index stored as f32);
//!   loss = mean over rows of `-log softmax(logits)[label]`; dlogits = (probs - onehot) / n.
//! - MSE: mean over *all* elements of `(pred - target)^2`; dpred = 2 (pred - target) / len.
//! - BCE on logits: per element `max(x, 0) - x t + ln(1 + exp(-|x|))` (= -t ln s - (1-t) ln(1-s)
//!   with s = sigmoid(x), without overflow), summed over features, averaged over `n` samples;
//!   dlogits = (sigmoid(x) - t) / n.
//! - Gaussian KL: `-0.5 * sum(1 + lv - mu^2 - exp(lv)) / n`; the gradients of `scale * KL` are
//!   `dmu = scale * mu / n`, `dlv = scale * 0.5 * (exp(lv) - 1) / n`.
//! - Reparameterisation: `z = mu + exp(0.5 lv) * eps`; its backward *adds* into dmu and dlv.
//!
//! Sums accumulate in f64 (a batch of 64 images has 50,000 BCE terms).

pub mod reference {
    pub fn softmax_xent_forward(
        logits: &[f32],
        labels: &[f32],
        probs: &mut [f32],
        n: usize,
        classes: usize,
    ) -> f32 {
        let mut total = 0.0f64;
        for r in 0..n {
            let row = &logits[r * classes..(r + 1) * classes];
            let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let mut z = 0.0f32;
            for v in row {
                z += (v - max).exp();
            }
            for j in 0..classes {
                probs[r * classes + j] = (row[j] - max).exp() / z;
            }
            let label = labels[r] as usize;
            total += (z.ln() - (row[label] - max)) as f64;
        }
        (total / n as f64) as f32
    }

    pub fn softmax_xent_backward(
        probs: &[f32],
        labels: &[f32],
        dlogits: &mut [f32],
        n: usize,
        classes: usize,
    ) {
        for r in 0..n {
            for j in 0..classes {
                let onehot = if j == labels[r] as usize { 1.0 } else { 0.0 };
                dlogits[r * classes + j] = (probs[r * classes + j] - onehot) / n as f32;
            }
        }
    }

    pub fn mse_forward(pred: &[f32], target: &[f32]) -> f32 {
        let mut s = 0.0f64;
        for i in 0..pred.len() {
            let d = (pred[i] - target[i]) as f64;
            s += d * d;
        }
        (s / pred.len() as f64) as f32
    }

    pub fn mse_backward(pred: &[f32], target: &[f32], dpred: &mut [f32]) {
        for i in 0..pred.len() {
            dpred[i] = 2.0 * (pred[i] - target[i]) / pred.len() as f32;
        }
    }

    pub fn bce_logits_forward(logits: &[f32], target: &[f32], n: usize) -> f32 {
        let mut s = 0.0f64;
        for i in 0..logits.len() {
            let x = logits[i];
            s += (x.max(0.0) - x * target[i] + (-x.abs()).exp().ln_1p()) as f64;
        }
        (s / n as f64) as f32
    }

    pub fn bce_logits_backward(logits: &[f32], target: &[f32], dlogits: &mut [f32], n: usize) {
        for i in 0..logits.len() {
            let sig = 1.0 / (1.0 + (-logits[i]).exp());
            dlogits[i] = (sig - target[i]) / n as f32;
        }
    }

    pub fn kl_forward(mu: &[f32], logvar: &[f32], n: usize) -> f32 {
        let mut s = 0.0f64;
        for i in 0..mu.len() {
            s += (1.0 + logvar[i] - mu[i] * mu[i] - logvar[i].exp()) as f64;
        }
        (-0.5 * s / n as f64) as f32
    }

    pub fn kl_backward(
        mu: &[f32],
        logvar: &[f32],
        dmu: &mut [f32],
        dlogvar: &mut [f32],
        n: usize,
        scale: f32,
    ) {
        for i in 0..mu.len() {
            dmu[i] = scale * mu[i] / n as f32;
            dlogvar[i] = scale * 0.5 * (logvar[i].exp() - 1.0) / n as f32;
        }
    }

    pub fn reparam_forward(mu: &[f32], logvar: &[f32], eps: &[f32], z: &mut [f32]) {
        for i in 0..z.len() {
            z[i] = mu[i] + (0.5 * logvar[i]).exp() * eps[i];
        }
    }

    pub fn reparam_backward(
        logvar: &[f32],
        eps: &[f32],
        dz: &[f32],
        dmu: &mut [f32],
        dlogvar: &mut [f32],
    ) {
        for i in 0..dz.len() {
            dmu[i] += dz[i];
            dlogvar[i] += dz[i] * eps[i] * 0.5 * (0.5 * logvar[i]).exp();
        }
    }
}

// Fast paths: the same formulas on zipped slices, scales hoisted; the per-pixel BCE terms use the
// vectorisable `math::exp` and `math::ln_1p_unit`.

use super::math;

pub fn softmax_xent_forward(
    logits: &[f32],
    labels: &[f32],
    probs: &mut [f32],
    n: usize,
    classes: usize,
) -> f32 {
    let mut total = 0.0f64;
    let rows = logits
        .chunks_exact(classes)
        .zip(probs.chunks_exact_mut(classes));
    for ((row, p), &label) in rows.zip(labels).take(n) {
        let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let mut z = 0.0f32;
        for (p, &v) in p.iter_mut().zip(row) {
            *p = (v - max).exp();
            z += *p;
        }
        let inv = 1.0 / z;
        p.iter_mut().for_each(|p| *p *= inv);
        total += (z.ln() - (row[label as usize] - max)) as f64;
    }
    (total / n as f64) as f32
}

pub fn softmax_xent_backward(
    probs: &[f32],
    labels: &[f32],
    dlogits: &mut [f32],
    n: usize,
    classes: usize,
) {
    let inv = 1.0 / n as f32;
    let rows = dlogits
        .chunks_exact_mut(classes)
        .zip(probs.chunks_exact(classes));
    for ((d, p), &label) in rows.zip(labels).take(n) {
        for (d, &p) in d.iter_mut().zip(p) {
            *d = p * inv;
        }
        d[label as usize] -= inv;
    }
}

pub fn mse_forward(pred: &[f32], target: &[f32]) -> f32 {
    (sum8(pred, target, |p, t| (p - t) * (p - t)) / pred.len() as f64) as f32
}

pub fn mse_backward(pred: &[f32], target: &[f32], dpred: &mut [f32]) {
    let k = 2.0 / pred.len() as f32;
    super::act::zip3(dpred, pred, target, |p, t| k * (p - t));
}

pub fn bce_logits_forward(logits: &[f32], target: &[f32], n: usize) -> f32 {
    let s = sum8(logits, target, |x, t| {
        let relu = if x > 0.0 { x } else { 0.0 };
        relu - x * t + math::ln_1p_unit(math::exp(-x.abs()))
    });
    (s / n as f64) as f32
}

pub fn bce_logits_backward(logits: &[f32], target: &[f32], dlogits: &mut [f32], n: usize) {
    let inv = 1.0 / n as f32;
    super::act::zip3(dlogits, logits, target, |x, t| (math::sigmoid(x) - t) * inv);
}

pub fn kl_forward(mu: &[f32], logvar: &[f32], n: usize) -> f32 {
    let s = sum8(mu, logvar, |m, lv| 1.0 + lv - m * m - lv.exp());
    (-0.5 * s / n as f64) as f32
}

pub fn kl_backward(
    mu: &[f32],
    logvar: &[f32],
    dmu: &mut [f32],
    dlogvar: &mut [f32],
    n: usize,
    scale: f32,
) {
    let k = scale / n as f32;
    dmu.iter_mut().zip(mu).for_each(|(d, &m)| *d = k * m);
    let h = 0.5 * k;
    dlogvar
        .iter_mut()
        .zip(logvar)
        .for_each(|(d, &lv)| *d = h * (lv.exp() - 1.0));
}

pub fn reparam_forward(mu: &[f32], logvar: &[f32], eps: &[f32], z: &mut [f32]) {
    for (((z, &m), &lv), &e) in z.iter_mut().zip(mu).zip(logvar).zip(eps) {
        *z = m + (0.5 * lv).exp() * e;
    }
}

pub fn reparam_backward(
    logvar: &[f32],
    eps: &[f32],
    dz: &[f32],
    dmu: &mut [f32],
    dlogvar: &mut [f32],
) {
    super::elementwise::add_assign(dmu, dz);
    for (((d, &lv), &e), &g) in dlogvar.iter_mut().zip(logvar).zip(eps).zip(dz) {
        *d += g * e * 0.5 * (0.5 * lv).exp();
    }
}

/// Sum of `f(a[i], b[i])`: f32 partial sums over blocks of 256, combined in f64.
fn sum8(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut total = 0.0f64;
    for (ca, cb) in a.chunks(256).zip(b.chunks(256)) {
        let mut lanes = [0.0f32; 8];
        let (ea, eb) = (ca.chunks_exact(8), cb.chunks_exact(8));
        let tail: f32 = ea
            .remainder()
            .iter()
            .zip(eb.remainder())
            .map(|(&x, &y)| f(x, y))
            .sum();
        for (x, y) in ea.zip(eb) {
            for l in 0..8 {
                lanes[l] += f(x[l], y[l]);
            }
        }
        total += lanes.iter().sum::<f32>() as f64 + tail as f64;
    }
    total
}
