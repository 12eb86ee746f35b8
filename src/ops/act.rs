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

// Fast paths: one branch-free loop per activation, the match hoisted out of the element loop, so
// LLVM vectorises them (sigmoid through `math::exp`; tanh stays a libm call).

pub fn forward(act: Act, x: &[f32], y: &mut [f32]) {
    let pairs = y.iter_mut().zip(x);
    match act {
        Act::Relu => pairs.for_each(|(y, &x)| *y = if x > 0.0 { x } else { 0.0 }),
        Act::LeakyRelu(a) => pairs.for_each(|(y, &x)| *y = if x > 0.0 { x } else { a * x }),
        Act::Sigmoid => pairs.for_each(|(y, &x)| *y = super::math::sigmoid(x)),
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
