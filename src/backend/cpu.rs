//! The CPU backend: buffers are `Vec<f32>`, ops run when called, on the fast paths of `crate::ops`
//! (wasm simd128 micro-kernels on wasm32, portable autovectorised code natively). Scratch memory
//! (GEMM packing, im2col) lives in a `RefCell` so a training step allocates nothing once warm.

use super::{AdamStep, Backend, BnSaved};
use crate::ops::{self, Act, Conv2dGeom, Pool2dGeom, Scratch};
use core::cell::RefCell;

#[derive(Default)]
pub struct Cpu {
    scratch: RefCell<Scratch>,
}

impl Cpu {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Backend for Cpu {
    type Buf = Vec<f32>;

    fn name(&self) -> String {
        if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
            "CPU (wasm SIMD)".into()
        } else {
            "CPU (native)".into()
        }
    }

    fn zeros(&self, len: usize) -> Vec<f32> {
        vec![0.0; len]
    }
    fn upload(&self, data: &[f32]) -> Vec<f32> {
        data.to_vec()
    }
    fn write(&self, buf: &mut Vec<f32>, data: &[f32]) {
        buf.copy_from_slice(data);
    }
    fn len(&self, buf: &Vec<f32>) -> usize {
        buf.len()
    }
    async fn read(&self, buf: &Vec<f32>) -> Vec<f32> {
        buf.clone()
    }

    fn fill(&self, buf: &mut Vec<f32>, value: f32) {
        buf.fill(value);
    }
    fn add(&self, a: &Vec<f32>, b: &Vec<f32>, y: &mut Vec<f32>) {
        ops::elementwise::add(a, b, y);
    }
    fn add_assign(&self, y: &mut Vec<f32>, x: &Vec<f32>) {
        ops::elementwise::add_assign(y, x);
    }
    fn act_forward(&self, act: Act, x: &Vec<f32>, y: &mut Vec<f32>) {
        ops::act::forward(act, x, y);
    }
    fn act_backward(&self, act: Act, x: &Vec<f32>, y: &Vec<f32>, dy: &Vec<f32>, dx: &mut Vec<f32>) {
        ops::act::backward(act, x, y, dy, dx);
    }

    fn dense_forward(
        &self,
        x: &Vec<f32>,
        w: &Vec<f32>,
        b: &Vec<f32>,
        y: &mut Vec<f32>,
        n: usize,
        i: usize,
        o: usize,
    ) {
        let s = &mut self.scratch.borrow_mut();
        ops::dense::forward(x, w, b, y, n, i, o, s);
    }
    fn dense_backward(
        &self,
        x: &Vec<f32>,
        w: &Vec<f32>,
        dy: &Vec<f32>,
        dx: Option<&mut Vec<f32>>,
        dw: &mut Vec<f32>,
        db: &mut Vec<f32>,
        n: usize,
        i: usize,
        o: usize,
    ) {
        let s = &mut self.scratch.borrow_mut();
        ops::dense::backward(x, w, dy, dx.map(|d| &mut d[..]), dw, db, n, i, o, s);
    }

    fn conv2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &Vec<f32>,
        w: &Vec<f32>,
        b: &Vec<f32>,
        y: &mut Vec<f32>,
    ) {
        ops::conv2d::forward(g, x, w, b, y, &mut self.scratch.borrow_mut());
    }
    fn conv2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &Vec<f32>,
        w: &Vec<f32>,
        dy: &Vec<f32>,
        dx: Option<&mut Vec<f32>>,
        dw: &mut Vec<f32>,
        db: &mut Vec<f32>,
    ) {
        let s = &mut self.scratch.borrow_mut();
        ops::conv2d::backward(g, x, w, dy, dx.map(|d| &mut d[..]), dw, db, s);
    }
    fn conv_transpose2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &Vec<f32>,
        w: &Vec<f32>,
        b: &Vec<f32>,
        y: &mut Vec<f32>,
    ) {
        ops::conv_transpose2d::forward(g, x, w, b, y, &mut self.scratch.borrow_mut());
    }
    fn conv_transpose2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &Vec<f32>,
        w: &Vec<f32>,
        dy: &Vec<f32>,
        dx: Option<&mut Vec<f32>>,
        dw: &mut Vec<f32>,
        db: &mut Vec<f32>,
    ) {
        let s = &mut self.scratch.borrow_mut();
        ops::conv_transpose2d::backward(g, x, w, dy, dx.map(|d| &mut d[..]), dw, db, s);
    }

    fn maxpool2d_forward(&self, g: &Pool2dGeom, x: &Vec<f32>, y: &mut Vec<f32>) {
        ops::pool::max_forward(g, x, y);
    }
    fn maxpool2d_backward(&self, g: &Pool2dGeom, x: &Vec<f32>, dy: &Vec<f32>, dx: &mut Vec<f32>) {
        ops::pool::max_backward(g, x, dy, dx);
    }
    fn avgpool2d_forward(&self, g: &Pool2dGeom, x: &Vec<f32>, y: &mut Vec<f32>) {
        ops::pool::avg_forward(g, x, y);
    }
    fn avgpool2d_backward(&self, g: &Pool2dGeom, dy: &Vec<f32>, dx: &mut Vec<f32>) {
        ops::pool::avg_backward(g, dy, dx);
    }

    fn batchnorm_forward_train(
        &self,
        x: &Vec<f32>,
        gamma: &Vec<f32>,
        beta: &Vec<f32>,
        y: &mut Vec<f32>,
        saved: BnSaved<'_, Self>,
        running_mean: &mut Vec<f32>,
        running_var: &mut Vec<f32>,
        dims: (usize, usize, usize),
        momentum: f32,
        eps: f32,
    ) {
        ops::batchnorm::forward_train(
            x,
            gamma,
            beta,
            y,
            saved.mean,
            saved.inv_std,
            running_mean,
            running_var,
            dims,
            momentum,
            eps,
        );
    }
    fn batchnorm_forward_eval(
        &self,
        x: &Vec<f32>,
        gamma: &Vec<f32>,
        beta: &Vec<f32>,
        y: &mut Vec<f32>,
        running_mean: &Vec<f32>,
        running_var: &Vec<f32>,
        dims: (usize, usize, usize),
        eps: f32,
    ) {
        ops::batchnorm::forward_eval(x, gamma, beta, y, running_mean, running_var, dims, eps);
    }
    fn batchnorm_backward(
        &self,
        x: &Vec<f32>,
        gamma: &Vec<f32>,
        mean: &Vec<f32>,
        inv_std: &Vec<f32>,
        dy: &Vec<f32>,
        dx: &mut Vec<f32>,
        dgamma: &mut Vec<f32>,
        dbeta: &mut Vec<f32>,
        dims: (usize, usize, usize),
    ) {
        ops::batchnorm::backward(x, gamma, mean, inv_std, dy, dx, dgamma, dbeta, dims);
    }

    fn softmax_xent_forward(
        &self,
        logits: &Vec<f32>,
        labels: &Vec<f32>,
        probs: &mut Vec<f32>,
        loss: &mut Vec<f32>,
        n: usize,
        classes: usize,
    ) {
        loss[0] = ops::loss::softmax_xent_forward(logits, labels, probs, n, classes);
    }
    fn softmax_xent_backward(
        &self,
        probs: &Vec<f32>,
        labels: &Vec<f32>,
        dlogits: &mut Vec<f32>,
        n: usize,
        classes: usize,
    ) {
        ops::loss::softmax_xent_backward(probs, labels, dlogits, n, classes);
    }
    fn mse_forward(&self, pred: &Vec<f32>, target: &Vec<f32>, loss: &mut Vec<f32>) {
        loss[0] = ops::loss::mse_forward(pred, target);
    }
    fn mse_backward(&self, pred: &Vec<f32>, target: &Vec<f32>, dpred: &mut Vec<f32>) {
        ops::loss::mse_backward(pred, target, dpred);
    }
    fn bce_logits_forward(
        &self,
        logits: &Vec<f32>,
        target: &Vec<f32>,
        loss: &mut Vec<f32>,
        n: usize,
    ) {
        loss[0] = ops::loss::bce_logits_forward(logits, target, n);
    }
    fn bce_logits_backward(
        &self,
        logits: &Vec<f32>,
        target: &Vec<f32>,
        dlogits: &mut Vec<f32>,
        n: usize,
    ) {
        ops::loss::bce_logits_backward(logits, target, dlogits, n);
    }
    fn kl_forward(&self, mu: &Vec<f32>, logvar: &Vec<f32>, loss: &mut Vec<f32>, n: usize) {
        loss[0] = ops::loss::kl_forward(mu, logvar, n);
    }
    fn kl_backward(
        &self,
        mu: &Vec<f32>,
        logvar: &Vec<f32>,
        dmu: &mut Vec<f32>,
        dlogvar: &mut Vec<f32>,
        n: usize,
        scale: f32,
    ) {
        ops::loss::kl_backward(mu, logvar, dmu, dlogvar, n, scale);
    }
    fn reparam_forward(&self, mu: &Vec<f32>, logvar: &Vec<f32>, eps: &Vec<f32>, z: &mut Vec<f32>) {
        ops::loss::reparam_forward(mu, logvar, eps, z);
    }
    fn reparam_backward(
        &self,
        logvar: &Vec<f32>,
        eps: &Vec<f32>,
        dz: &Vec<f32>,
        dmu: &mut Vec<f32>,
        dlogvar: &mut Vec<f32>,
    ) {
        ops::loss::reparam_backward(logvar, eps, dz, dmu, dlogvar);
    }

    fn sgd_step(
        &self,
        param: &mut Vec<f32>,
        grad: &Vec<f32>,
        velocity: &mut Vec<f32>,
        lr: f32,
        momentum: f32,
    ) {
        ops::optim::sgd_step(param, grad, velocity, lr, momentum);
    }
    fn adam_step(
        &self,
        param: &mut Vec<f32>,
        grad: &Vec<f32>,
        m: &mut Vec<f32>,
        v: &mut Vec<f32>,
        h: AdamStep,
    ) {
        ops::optim::adam_step(param, grad, m, v, h);
    }
    fn sum_squares(&self, x: &Vec<f32>, out: &mut Vec<f32>) {
        out[0] = ops::optim::sum_squares(x);
    }
}
