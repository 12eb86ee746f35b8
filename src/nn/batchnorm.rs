//! Batch normalization over the channels of `[n, c, h, w]` (a dense input is `[n, f, 1, 1]`).
//! Training mode normalises with the batch statistics and updates the running ones; evaluation
//! mode uses the running statistics.

use super::layer::{ensure_len, Layer, Param, Shape, Tensor};
use crate::backend::{Backend, BnSaved};

pub struct BatchNorm<B: Backend> {
    pub channels: usize,
    pub momentum: f32,
    pub eps: f32,
    pub gamma: Param<B>,
    pub beta: Param<B>,
    pub running_mean: B::Buf,
    pub running_var: B::Buf,
    mean: B::Buf,
    inv_std: B::Buf,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> BatchNorm<B> {
    pub fn new(be: &B, channels: usize) -> Self {
        BatchNorm {
            channels,
            momentum: 0.1,
            eps: 1e-5,
            gamma: Param::new(be, "gamma", &[channels], &vec![1.0; channels]),
            beta: Param::new(be, "beta", &[channels], &vec![0.0; channels]),
            running_mean: be.zeros(channels),
            running_var: be.upload(&vec![1.0; channels]),
            mean: be.zeros(channels),
            inv_std: be.zeros(channels),
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }

    fn dims(&self, x: Shape) -> (usize, usize, usize) {
        assert_eq!(x.c, self.channels, "batch norm channels");
        (x.n, x.c, x.h * x.w)
    }
}

impl<B: Backend> Layer<B> for BatchNorm<B> {
    fn name(&self) -> String {
        "batchnorm".into()
    }
    fn out_shape(&self, x: Shape) -> Shape {
        x
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, train: bool) {
        let dims = self.dims(x.shape);
        self.y.ensure(be, x.shape);
        let (g, b) = (&self.gamma.value, &self.beta.value);
        if train {
            let saved = BnSaved {
                mean: &mut self.mean,
                inv_std: &mut self.inv_std,
            };
            let (rm, rv) = (&mut self.running_mean, &mut self.running_var);
            be.batchnorm_forward_train(
                &x.buf,
                g,
                b,
                &mut self.y.buf,
                saved,
                rm,
                rv,
                dims,
                self.momentum,
                self.eps,
            );
        } else {
            let (rm, rv) = (&self.running_mean, &self.running_var);
            be.batchnorm_forward_eval(&x.buf, g, b, &mut self.y.buf, rm, rv, dims, self.eps);
        }
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    /// Valid after a training-mode forward (it uses that batch's statistics).
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, _need_dx: bool) {
        let dims = self.dims(x.shape);
        // The backend computes dx together with dgamma and dbeta, so it is always written.
        ensure_len(be, &mut self.dx, x.shape.len());
        be.batchnorm_backward(
            &x.buf,
            &self.gamma.value,
            &self.mean,
            &self.inv_std,
            dy,
            &mut self.dx,
            &mut self.gamma.grad,
            &mut self.beta.grad,
            dims,
        );
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        f(&mut self.gamma);
        f(&mut self.beta);
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&'static str, &mut B::Buf)) {
        f("running_mean", &mut self.running_mean);
        f("running_var", &mut self.running_var);
    }
}
