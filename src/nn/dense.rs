//! Fully connected layer: y[n, o] = x[n, i] . w[o, i]^T + b[o]. Any input shape is read as
//! `[n, c * h * w]`, so a dense layer may follow a convolution without an explicit flatten.

use super::layer::{ensure_len, Init, Layer, Param, Shape, Tensor};
use crate::backend::Backend;
use crate::rng::Rng;

pub struct Dense<B: Backend> {
    pub inputs: usize,
    pub outputs: usize,
    pub w: Param<B>,
    pub b: Param<B>,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> Dense<B> {
    pub fn new(be: &B, rng: &mut Rng, inputs: usize, outputs: usize, init: Init) -> Self {
        let w = init.sample(rng, outputs * inputs, inputs, outputs);
        Dense {
            inputs,
            outputs,
            w: Param::new(be, "w", &[outputs, inputs], &w),
            b: Param::new(be, "b", &[outputs], &vec![0.0; outputs]),
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }
}

impl<B: Backend> Layer<B> for Dense<B> {
    fn name(&self) -> String {
        format!("dense{}", self.outputs)
    }
    fn out_shape(&self, input: Shape) -> Shape {
        assert_eq!(input.sample_len(), self.inputs, "dense input size");
        Shape::flat(input.n, self.outputs)
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        self.y.ensure(be, self.out_shape(x.shape));
        let (n, i, o) = (x.shape.n, self.inputs, self.outputs);
        be.dense_forward(
            &x.buf,
            &self.w.value,
            &self.b.value,
            &mut self.y.buf,
            n,
            i,
            o,
        );
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        let (n, i, o) = (x.shape.n, self.inputs, self.outputs);
        let dx = if need_dx {
            ensure_len(be, &mut self.dx, x.shape.len());
            Some(&mut self.dx)
        } else {
            None
        };
        let (w, dw, db) = (&self.w.value, &mut self.w.grad, &mut self.b.grad);
        be.dense_backward(&x.buf, w, dy, dx, dw, db, n, i, o);
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        f(&mut self.w);
        f(&mut self.b);
    }
}
