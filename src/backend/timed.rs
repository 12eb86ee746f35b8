//! `Timed<B>`: a backend that delegates every op to `B` and adds up, per op name, the calls, the
//! milliseconds spent inside the call (by a clock the caller supplies) and the floating-point
//! operations of the matrix-shaped ops (dense, conv, transposed conv), counted from their shapes.
//! It is used only by the benchmark's breakdown mode: a model built on a plain `Cpu` never sees it.
//!
//! The op names double as the forward/backward split (`conv2d_forward`, `conv2d_backward`, ...).
//! On a GPU backend the time measured is the time to *record* the op, not to run it.

use super::{AdamStep, Backend, BnSaved};
use crate::ops::{Act, Conv2dGeom, Pool2dGeom};
use core::cell::{Cell, RefCell};

/// One op's totals.
#[derive(Clone, Debug, PartialEq)]
pub struct OpStat {
    pub name: &'static str,
    pub calls: u64,
    pub ms: f64,
}

pub struct Timed<B: Backend> {
    pub inner: B,
    clock: fn() -> f64,
    stats: RefCell<Vec<OpStat>>,
    flops: Cell<f64>,
}

/// Multiply-adds (as 2 flops each) of one convolution's forward pass, `out_c x P x K` per image;
/// its input gradient and its weight gradient cost the same again each.
fn conv_flops(g: &Conv2dGeom) -> f64 {
    let (p, k) = (g.out_h() * g.out_w(), g.in_c * g.kh * g.kw);
    2.0 * (g.n * g.out_c * p * k) as f64
}

impl<B: Backend> Timed<B> {
    /// `clock` returns milliseconds from any origin (performance.now, or an Instant natively).
    pub fn new(inner: B, clock: fn() -> f64) -> Self {
        Timed {
            inner,
            clock,
            stats: RefCell::new(Vec::new()),
            flops: Cell::new(0.0),
        }
    }

    /// Per-op totals since the last `reset`, in first-call order.
    pub fn stats(&self) -> Vec<OpStat> {
        self.stats.borrow().clone()
    }

    /// Floating-point operations of the dense and convolution ops since the last `reset`.
    pub fn flops(&self) -> f64 {
        self.flops.get()
    }

    pub fn reset(&self) {
        self.stats.borrow_mut().clear();
        self.flops.set(0.0);
    }

    fn time<R>(&self, name: &'static str, f: impl FnOnce() -> R) -> R {
        let t0 = (self.clock)();
        let r = f();
        self.record(name, (self.clock)() - t0);
        r
    }

    fn record(&self, name: &'static str, ms: f64) {
        let mut stats = self.stats.borrow_mut();
        match stats.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                s.calls += 1;
                s.ms += ms;
            }
            None => stats.push(OpStat { name, calls: 1, ms }),
        }
    }

    fn count(&self, flops: f64) {
        self.flops.set(self.flops.get() + flops);
    }
}

impl<B: Backend> Backend for Timed<B> {
    type Buf = B::Buf;

    fn name(&self) -> String {
        self.inner.name()
    }
    fn zeros(&self, len: usize) -> B::Buf {
        self.inner.zeros(len)
    }
    fn upload(&self, data: &[f32]) -> B::Buf {
        self.inner.upload(data)
    }
    fn write(&self, buf: &mut B::Buf, data: &[f32]) {
        self.time("write", || self.inner.write(buf, data))
    }
    fn len(&self, buf: &B::Buf) -> usize {
        self.inner.len(buf)
    }
    async fn read(&self, buf: &B::Buf) -> Vec<f32> {
        let t0 = (self.clock)();
        let v = self.inner.read(buf).await;
        self.record("read", (self.clock)() - t0);
        v
    }
    fn flush(&self) {
        self.time("flush", || self.inner.flush())
    }

    fn fill(&self, buf: &mut B::Buf, value: f32) {
        self.time("fill", || self.inner.fill(buf, value))
    }
    fn add(&self, a: &B::Buf, b: &B::Buf, y: &mut B::Buf) {
        self.time("add", || self.inner.add(a, b, y))
    }
    fn add_assign(&self, y: &mut B::Buf, x: &B::Buf) {
        self.time("add_assign", || self.inner.add_assign(y, x))
    }
    fn act_forward(&self, act: Act, x: &B::Buf, y: &mut B::Buf) {
        self.time("act_forward", || self.inner.act_forward(act, x, y))
    }
    fn act_backward(&self, act: Act, x: &B::Buf, y: &B::Buf, dy: &B::Buf, dx: &mut B::Buf) {
        self.time("act_backward", || {
            self.inner.act_backward(act, x, y, dy, dx)
        })
    }

    fn dense_forward(
        &self,
        x: &B::Buf,
        w: &B::Buf,
        b: &B::Buf,
        y: &mut B::Buf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        self.count(2.0 * (n * i * o) as f64);
        self.time("dense_forward", || {
            self.inner.dense_forward(x, w, b, y, n, i, o)
        })
    }
    fn dense_backward(
        &self,
        x: &B::Buf,
        w: &B::Buf,
        dy: &B::Buf,
        dx: Option<&mut B::Buf>,
        dw: &mut B::Buf,
        db: &mut B::Buf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        let gemms = if dx.is_some() { 2.0 } else { 1.0 };
        self.count(gemms * 2.0 * (n * i * o) as f64);
        self.time("dense_backward", || {
            self.inner.dense_backward(x, w, dy, dx, dw, db, n, i, o)
        })
    }

    fn conv2d_forward(&self, g: &Conv2dGeom, x: &B::Buf, w: &B::Buf, b: &B::Buf, y: &mut B::Buf) {
        self.count(conv_flops(g));
        self.time("conv2d_forward", || {
            self.inner.conv2d_forward(g, x, w, b, y)
        })
    }
    fn conv2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &B::Buf,
        w: &B::Buf,
        dy: &B::Buf,
        dx: Option<&mut B::Buf>,
        dw: &mut B::Buf,
        db: &mut B::Buf,
    ) {
        let gemms = if dx.is_some() { 2.0 } else { 1.0 };
        self.count(gemms * conv_flops(g));
        self.time("conv2d_backward", || {
            self.inner.conv2d_backward(g, x, w, dy, dx, dw, db)
        })
    }
    fn conv_transpose2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &B::Buf,
        w: &B::Buf,
        b: &B::Buf,
        y: &mut B::Buf,
    ) {
        self.count(conv_flops(g));
        self.time("conv_transpose2d_forward", || {
            self.inner.conv_transpose2d_forward(g, x, w, b, y)
        })
    }
    fn conv_transpose2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &B::Buf,
        w: &B::Buf,
        dy: &B::Buf,
        dx: Option<&mut B::Buf>,
        dw: &mut B::Buf,
        db: &mut B::Buf,
    ) {
        let gemms = if dx.is_some() { 2.0 } else { 1.0 };
        self.count(gemms * conv_flops(g));
        self.time("conv_transpose2d_backward", || {
            self.inner
                .conv_transpose2d_backward(g, x, w, dy, dx, dw, db)
        })
    }

    fn maxpool2d_forward(&self, g: &Pool2dGeom, x: &B::Buf, y: &mut B::Buf) {
        self.time("maxpool2d_forward", || {
            self.inner.maxpool2d_forward(g, x, y)
        })
    }
    fn maxpool2d_backward(&self, g: &Pool2dGeom, x: &B::Buf, dy: &B::Buf, dx: &mut B::Buf) {
        self.time("maxpool2d_backward", || {
            self.inner.maxpool2d_backward(g, x, dy, dx)
        })
    }
    fn avgpool2d_forward(&self, g: &Pool2dGeom, x: &B::Buf, y: &mut B::Buf) {
        self.time("avgpool2d_forward", || {
            self.inner.avgpool2d_forward(g, x, y)
        })
    }
    fn avgpool2d_backward(&self, g: &Pool2dGeom, dy: &B::Buf, dx: &mut B::Buf) {
        self.time("avgpool2d_backward", || {
            self.inner.avgpool2d_backward(g, dy, dx)
        })
    }

    fn batchnorm_forward_train(
        &self,
        x: &B::Buf,
        gamma: &B::Buf,
        beta: &B::Buf,
        y: &mut B::Buf,
        saved: BnSaved<'_, Self>,
        running_mean: &mut B::Buf,
        running_var: &mut B::Buf,
        dims: (usize, usize, usize),
        momentum: f32,
        eps: f32,
    ) {
        let saved = BnSaved {
            mean: saved.mean,
            inv_std: saved.inv_std,
        };
        self.time("batchnorm_forward_train", || {
            self.inner.batchnorm_forward_train(
                x,
                gamma,
                beta,
                y,
                saved,
                running_mean,
                running_var,
                dims,
                momentum,
                eps,
            )
        })
    }
    fn batchnorm_forward_eval(
        &self,
        x: &B::Buf,
        gamma: &B::Buf,
        beta: &B::Buf,
        y: &mut B::Buf,
        running_mean: &B::Buf,
        running_var: &B::Buf,
        dims: (usize, usize, usize),
        eps: f32,
    ) {
        self.time("batchnorm_forward_eval", || {
            let (rm, rv) = (running_mean, running_var);
            self.inner
                .batchnorm_forward_eval(x, gamma, beta, y, rm, rv, dims, eps)
        })
    }
    fn batchnorm_backward(
        &self,
        x: &B::Buf,
        gamma: &B::Buf,
        mean: &B::Buf,
        inv_std: &B::Buf,
        dy: &B::Buf,
        dx: &mut B::Buf,
        dgamma: &mut B::Buf,
        dbeta: &mut B::Buf,
        dims: (usize, usize, usize),
    ) {
        self.time("batchnorm_backward", || {
            self.inner
                .batchnorm_backward(x, gamma, mean, inv_std, dy, dx, dgamma, dbeta, dims)
        })
    }

    fn softmax_xent_forward(
        &self,
        logits: &B::Buf,
        labels: &B::Buf,
        probs: &mut B::Buf,
        loss: &mut B::Buf,
        n: usize,
        classes: usize,
    ) {
        self.time("softmax_xent_forward", || {
            self.inner
                .softmax_xent_forward(logits, labels, probs, loss, n, classes)
        })
    }
    fn softmax_xent_backward(
        &self,
        probs: &B::Buf,
        labels: &B::Buf,
        dlogits: &mut B::Buf,
        n: usize,
        classes: usize,
    ) {
        self.time("softmax_xent_backward", || {
            self.inner
                .softmax_xent_backward(probs, labels, dlogits, n, classes)
        })
    }
    fn mse_forward(&self, pred: &B::Buf, target: &B::Buf, loss: &mut B::Buf) {
        self.time("mse_forward", || self.inner.mse_forward(pred, target, loss))
    }
    fn mse_backward(&self, pred: &B::Buf, target: &B::Buf, dpred: &mut B::Buf) {
        self.time("mse_backward", || {
            self.inner.mse_backward(pred, target, dpred)
        })
    }
    fn bce_logits_forward(&self, logits: &B::Buf, target: &B::Buf, loss: &mut B::Buf, n: usize) {
        self.time("bce_logits_forward", || {
            self.inner.bce_logits_forward(logits, target, loss, n)
        })
    }
    fn bce_logits_backward(
        &self,
        logits: &B::Buf,
        target: &B::Buf,
        dlogits: &mut B::Buf,
        n: usize,
    ) {
        self.time("bce_logits_backward", || {
            self.inner.bce_logits_backward(logits, target, dlogits, n)
        })
    }
    fn kl_forward(&self, mu: &B::Buf, logvar: &B::Buf, loss: &mut B::Buf, n: usize) {
        self.time("kl_forward", || self.inner.kl_forward(mu, logvar, loss, n))
    }
    fn kl_backward(
        &self,
        mu: &B::Buf,
        logvar: &B::Buf,
        dmu: &mut B::Buf,
        dlogvar: &mut B::Buf,
        n: usize,
        scale: f32,
    ) {
        self.time("kl_backward", || {
            self.inner.kl_backward(mu, logvar, dmu, dlogvar, n, scale)
        })
    }
    fn reparam_forward(&self, mu: &B::Buf, logvar: &B::Buf, eps: &B::Buf, z: &mut B::Buf) {
        self.time("reparam_forward", || {
            self.inner.reparam_forward(mu, logvar, eps, z)
        })
    }
    fn reparam_backward(
        &self,
        logvar: &B::Buf,
        eps: &B::Buf,
        dz: &B::Buf,
        dmu: &mut B::Buf,
        dlogvar: &mut B::Buf,
    ) {
        self.time("reparam_backward", || {
            self.inner.reparam_backward(logvar, eps, dz, dmu, dlogvar)
        })
    }

    fn sgd_step(
        &self,
        param: &mut B::Buf,
        grad: &B::Buf,
        velocity: &mut B::Buf,
        lr: f32,
        momentum: f32,
    ) {
        self.time("sgd_step", || {
            self.inner.sgd_step(param, grad, velocity, lr, momentum)
        })
    }
    fn adam_step(
        &self,
        param: &mut B::Buf,
        grad: &B::Buf,
        m: &mut B::Buf,
        v: &mut B::Buf,
        h: AdamStep,
    ) {
        self.time("adam_step", || self.inner.adam_step(param, grad, m, v, h))
    }
    fn sum_squares(&self, x: &B::Buf, out: &mut B::Buf) {
        self.time("sum_squares", || self.inner.sum_squares(x, out))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))] // pollster is native-only
mod tests {
    use super::*;
    use crate::backend::Cpu;

    fn ticks() -> f64 {
        thread_local!(static T: Cell<f64> = const { Cell::new(0.0) });
        T.with(|t| {
            t.set(t.get() + 1.0);
            t.get()
        })
    }

    #[test]
    fn delegates_and_accounts_per_op() {
        let be = Timed::new(Cpu::new(), ticks);
        let (x, w, b) = (
            be.upload(&[1.0, 2.0]),
            be.upload(&[3.0, 4.0]),
            be.upload(&[0.5]),
        );
        let mut y = be.zeros(1);
        be.dense_forward(&x, &w, &b, &mut y, 1, 2, 1);
        be.dense_forward(&x, &w, &b, &mut y, 1, 2, 1);
        let mut r = be.zeros(1);
        be.act_forward(Act::Relu, &y, &mut r);
        assert_eq!(pollster::block_on(be.read(&r)), vec![11.5]);
        let stats = be.stats();
        let names: Vec<_> = stats.iter().map(|s| (s.name, s.calls, s.ms)).collect();
        // Each timed call reads the ticking clock twice: 1 ms per call.
        assert_eq!(
            names,
            [
                ("dense_forward", 2, 2.0),
                ("act_forward", 1, 1.0),
                ("read", 1, 1.0)
            ]
        );
        assert_eq!(be.flops(), 2.0 * 2.0 * 2.0);
        be.reset();
        assert!(be.stats().is_empty() && be.flops() == 0.0);
    }
}
