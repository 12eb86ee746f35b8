//! Element-wise activations: ReLU, leaky ReLU, sigmoid, tanh. Any shape.
//!
//! Backward: `dx = dy * act'(x)`, with `act'` written from `y = act(x)` where that is simpler
//! (sigmoid: `y (1 - y)`, tanh: `1 - y^2`). ReLU's derivative at 0 is 0 (PyTorch's convention).

use super::Act;

pub mod reference {
    use crate::ops::Act;

    pub fn forward(act: Act, x: &[f32], y: &mut [f32]) {
        for i in 0..x.len() {
            y[i] = match act {
                Act::Relu => {
                    if x[i] > 0.0 {
                        x[i]
                    } else {
                        0.0
                    }
                }
                Act::LeakyRelu(a) => {
                    if x[i] > 0.0 {
                        x[i]
                    } else {
                        a * x[i]
                    }
                }
                Act::Sigmoid => 1.0 / (1.0 + (-x[i]).exp()),
                Act::Tanh => x[i].tanh(),
            };
        }
    }

    pub fn backward(act: Act, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for i in 0..x.len() {
            let slope = match act {
                Act::Relu => {
                    if x[i] > 0.0 {
                        1.0
                    } else {
                        0.0
                    }
                }
                Act::LeakyRelu(a) => {
                    if x[i] > 0.0 {
                        1.0
                    } else {
                        a
                    }
                }
                Act::Sigmoid => y[i] * (1.0 - y[i]),
                Act::Tanh => 1.0 - y[i] * y[i],
            };
            dx[i] = dy[i] * slope;
        }
    }
}

// Fast paths: one branch-free loop per activation, hoisted out of the element loop, so LLVM can
// vectorise them (the sigmoid through `fast_exp`; tanh stays a scalar call).

/// e^x to about 2 ulp for x in [-87, 88] (clamped there: the result stays a normal float), written
/// without branches or calls so that loops over it vectorise. Cephes' expf: x = n ln 2 + r with
/// |r| <= ln 2 / 2, a degree-7 polynomial for e^r, and 2^n built in the exponent bits.
#[inline(always)]
pub(crate) fn fast_exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * core::f32::consts::LOG2_E + 0.5).floor();
    // ln 2 split in two so that n * C1 is exact.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4;
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = p * r + c;
    }
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

pub fn forward(act: Act, x: &[f32], y: &mut [f32]) {
    let pairs = y.iter_mut().zip(x);
    match act {
        Act::Relu => pairs.for_each(|(y, &x)| *y = if x > 0.0 { x } else { 0.0 }),
        Act::LeakyRelu(a) => pairs.for_each(|(y, &x)| *y = if x > 0.0 { x } else { a * x }),
        Act::Sigmoid => pairs.for_each(|(y, &x)| *y = 1.0 / (1.0 + fast_exp(-x))),
        Act::Tanh => pairs.for_each(|(y, &x)| *y = x.tanh()),
    }
}

pub fn backward(act: Act, x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    match act {
        Act::Relu => zip3(dx, x, dy, |x, d| if x > 0.0 { d } else { 0.0 }),
        Act::LeakyRelu(a) => zip3(dx, x, dy, |x, d| if x > 0.0 { d } else { a * d }),
        Act::Sigmoid => zip3(dx, y, dy, |y, d| d * (y * (1.0 - y))),
        Act::Tanh => zip3(dx, y, dy, |y, d| d * (1.0 - y * y)),
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub(crate) fn zip3(out: &mut [f32], a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) {
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::fast_exp;

    #[test]
    fn fast_exp_is_within_a_few_ulp_of_exp() {
        let mut worst = 0.0f64;
        for i in 0..=200_000 {
            let x = -87.0 + 175.0 * i as f32 / 200_000.0;
            let (fast, exact) = (fast_exp(x) as f64, (x as f64).exp());
            worst = worst.max(((fast - exact) / exact).abs());
        }
        assert!(worst < 4.0 * f32::EPSILON as f64, "relative error {worst}");
        // Beyond the clamp the result saturates at normal floats instead of 0 or infinity.
        assert!(fast_exp(-200.0) > 0.0 && fast_exp(-200.0) < 1e-37);
        assert!(fast_exp(200.0).is_finite() && fast_exp(200.0) > 1e38);
    }
}
