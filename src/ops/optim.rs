//! Optimizer steps, in place on flat parameter buffers, and the sum of squares (gradient norms).
//!
//! - SGD with momentum (PyTorch's form): `v = momentum * v + g`, `p -= lr * v`.
//! - Adam: `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g^2`,
//!   `p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)`, `t` counting from 1.

use crate::backend::AdamStep;

pub mod reference {
    use crate::backend::AdamStep;

    pub fn sgd_step(param: &mut [f32], grad: &[f32], velocity: &mut [f32], lr: f32, momentum: f32) {
        for i in 0..param.len() {
            velocity[i] = momentum * velocity[i] + grad[i];
            param[i] -= lr * velocity[i];
        }
    }

    pub fn adam_step(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], h: AdamStep) {
        let bc1 = 1.0 - h.beta1.powi(h.t as i32);
        let bc2 = 1.0 - h.beta2.powi(h.t as i32);
        for i in 0..param.len() {
            m[i] = h.beta1 * m[i] + (1.0 - h.beta1) * grad[i];
            v[i] = h.beta2 * v[i] + (1.0 - h.beta2) * grad[i] * grad[i];
            let m_hat = m[i] / bc1;
            let v_hat = v[i] / bc2;
            param[i] -= h.lr * m_hat / (v_hat.sqrt() + h.eps);
        }
    }

    pub fn sum_squares(x: &[f32]) -> f32 {
        let mut s = 0.0f64;
        for &v in x {
            s += (v as f64) * (v as f64);
        }
        s as f32
    }
}

pub fn sgd_step(param: &mut [f32], grad: &[f32], velocity: &mut [f32], lr: f32, momentum: f32) {
    for ((p, &g), v) in param.iter_mut().zip(grad).zip(velocity) {
        *v = momentum * *v + g;
        *p -= lr * *v;
    }
}

/// Adam with the bias corrections folded into two per-step constants.
pub fn adam_step(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], h: AdamStep) {
    let inv_bc1 = 1.0 / (1.0 - h.beta1.powi(h.t as i32));
    let inv_bc2 = 1.0 / (1.0 - h.beta2.powi(h.t as i32));
    let (b1, b2) = (h.beta1, h.beta2);
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m).zip(v) {
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * g * g;
        *p -= h.lr * (*m * inv_bc1) / ((*v * inv_bc2).sqrt() + h.eps);
    }
}

pub fn sum_squares(x: &[f32]) -> f32 {
    let mut total = 0.0f64;
    for block in x.chunks(256) {
        let mut lanes = [0.0f32; 8];
        let chunks = block.chunks_exact(8);
        let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
        for c in chunks {
            for l in 0..8 {
                lanes[l] += c[l] * c[l];
            }
        }
        total += lanes.iter().sum::<f32>() as f64 + tail as f64;
    }
    total as f32
}
