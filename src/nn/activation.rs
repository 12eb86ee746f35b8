//! Element-wise activation layers (ReLU, leaky ReLU, sigmoid, tanh).

use super::layer::{ensure_len, Layer, Shape, Tensor};
use crate::backend::Backend;
use crate::ops::Act;

pub struct Activation<B: Backend> {
    pub act: Act,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> Activation<B> {
    pub fn new(be: &B, act: Act) -> Self {
        Activation {
            act,
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }
}

pub fn act_name(act: Act) -> String {
    match act {
        Act::Relu => "relu".into(),
        Act::LeakyRelu(a) => format!("leakyrelu{a}"),
        Act::Sigmoid => "sigmoid".into(),
        Act::Tanh => "tanh".into(),
    }
}

impl<B: Backend> Layer<B> for Activation<B> {
    fn name(&self) -> String {
        act_name(self.act)
    }
    fn out_shape(&self, x: Shape) -> Shape {
        x
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        self.y.ensure(be, x.shape);
        be.act_forward(self.act, &x.buf, &mut self.y.buf);
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        if !need_dx {
            return;
        }
        ensure_len(be, &mut self.dx, x.shape.len());
        be.act_backward(self.act, &x.buf, &self.y.buf, dy, &mut self.dx);
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
}
