//! The one `Backend` trait. Layers and models are written once against it; the choice between the
//! CPU and the wgpu implementation is made in exactly one place (`nn::Engine`, see there).
//!
//! A backend owns device buffers (`Self::Buf`, f32 only) and enqueues ops on them. On the CPU an op
//! runs when called; on a GPU it is recorded and runs later, so nothing here returns a number
//! synchronously: the only way back to the host is the async [`Backend::read`].
//!
//! Every op's meaning, shapes and reductions are defined by its scalar reference in `crate::ops`.

use crate::ops::{Act, Conv2dGeom, Pool2dGeom};
use core::future::Future;

pub mod cpu;
pub mod timed;
pub use cpu::Cpu;
#[cfg(feature = "webgpu")]
pub mod gpu;

/// Hyper-parameters of one Adam step (`t` counts from 1, for bias correction).
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub t: u32,
}

/// Batch-norm state the forward pass in training mode writes (per channel) for the backward pass.
pub struct BnSaved<'a, B: Backend + ?Sized> {
    pub mean: &'a mut B::Buf,
    pub inv_std: &'a mut B::Buf,
}

pub trait Backend {
    type Buf;

    /// A short human description ("CPU (wasm SIMD)", or the adapter's name).
    fn name(&self) -> String;

    // ---- memory -------------------------------------------------------------------------------
    fn zeros(&self, len: usize) -> Self::Buf;
    fn upload(&self, data: &[f32]) -> Self::Buf;
    /// Overwrites `buf` (same length) with `data`.
    fn write(&self, buf: &mut Self::Buf, data: &[f32]);
    fn len(&self, buf: &Self::Buf) -> usize;
    /// Copies a buffer back to the host. Never blocks a browser thread: on the GPU it awaits map_async.
    fn read(&self, buf: &Self::Buf) -> impl Future<Output = Vec<f32>>;
    /// Marks the end of one training step (the GPU submits its recorded work here).
    fn flush(&self) {}

    // ---- element-wise -------------------------------------------------------------------------
    fn fill(&self, buf: &mut Self::Buf, value: f32);
    /// y = a + b (skip connections).
    fn add(&self, a: &Self::Buf, b: &Self::Buf, y: &mut Self::Buf);
    /// y += x.
    fn add_assign(&self, y: &mut Self::Buf, x: &Self::Buf);
    fn act_forward(&self, act: Act, x: &Self::Buf, y: &mut Self::Buf);
    /// dx = dy * act'(x), with y = act(x) given too (sigmoid and tanh use it).
    fn act_backward(
        &self,
        act: Act,
        x: &Self::Buf,
        y: &Self::Buf,
        dy: &Self::Buf,
        dx: &mut Self::Buf,
    );

    // ---- dense: y[n, o] = x[n, i] . w[o, i]^T + b[o] -------------------------------------------
    #[allow(clippy::too_many_arguments)]
    fn dense_forward(
        &self,
        x: &Self::Buf,
        w: &Self::Buf,
        b: &Self::Buf,
        y: &mut Self::Buf,
        n: usize,
        i: usize,
        o: usize,
    );
    /// dx is skipped when `None` (the first layer needs no input gradient).
    #[allow(clippy::too_many_arguments)]
    fn dense_backward(
        &self,
        x: &Self::Buf,
        w: &Self::Buf,
        dy: &Self::Buf,
        dx: Option<&mut Self::Buf>,
        dw: &mut Self::Buf,
        db: &mut Self::Buf,
        n: usize,
        i: usize,
        o: usize,
    );

    // ---- convolution ----------------------------------------------------------------------------
    fn conv2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &Self::Buf,
        w: &Self::Buf,
        b: &Self::Buf,
        y: &mut Self::Buf,
    );
    #[allow(clippy::too_many_arguments)]
    fn conv2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &Self::Buf,
        w: &Self::Buf,
        dy: &Self::Buf,
        dx: Option<&mut Self::Buf>,
        dw: &mut Self::Buf,
        db: &mut Self::Buf,
    );
    /// Transposed convolution; `g` describes the *forward conv it is the transpose of*: its input
    /// `[n, g.out_c, g.out_h(), g.out_w()]` maps to an output `[n, g.in_c, g.in_h, g.in_w]`, and its
    /// weight is `[g.out_c, g.in_c, kh, kw]` (PyTorch's ConvTranspose2d layout), bias `[g.in_c]`.
    fn conv_transpose2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &Self::Buf,
        w: &Self::Buf,
        b: &Self::Buf,
        y: &mut Self::Buf,
    );
    #[allow(clippy::too_many_arguments)]
    fn conv_transpose2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &Self::Buf,
        w: &Self::Buf,
        dy: &Self::Buf,
        dx: Option<&mut Self::Buf>,
        dw: &mut Self::Buf,
        db: &mut Self::Buf,
    );

    // ---- pooling --------------------------------------------------------------------------------
    fn maxpool2d_forward(&self, g: &Pool2dGeom, x: &Self::Buf, y: &mut Self::Buf);
    /// Routes dy to the first maximum of each window (recomputed from x: no index buffer).
    fn maxpool2d_backward(&self, g: &Pool2dGeom, x: &Self::Buf, dy: &Self::Buf, dx: &mut Self::Buf);
    fn avgpool2d_forward(&self, g: &Pool2dGeom, x: &Self::Buf, y: &mut Self::Buf);
    fn avgpool2d_backward(&self, g: &Pool2dGeom, dy: &Self::Buf, dx: &mut Self::Buf);

    // ---- batch norm over x[n, c, hw] (a dense input is hw = 1) ----------------------------------
    /// Training mode: normalises with the batch statistics (biased variance), saves mean and 1/std
    /// for backward, and updates the running statistics (unbiased variance) with `momentum`
    /// (PyTorch's convention: running = (1 - momentum) * running + momentum * batch).
    #[allow(clippy::too_many_arguments)]
    fn batchnorm_forward_train(
        &self,
        x: &Self::Buf,
        gamma: &Self::Buf,
        beta: &Self::Buf,
        y: &mut Self::Buf,
        saved: BnSaved<'_, Self>,
        running_mean: &mut Self::Buf,
        running_var: &mut Self::Buf,
        dims: (usize, usize, usize),
        momentum: f32,
        eps: f32,
    );
    #[allow(clippy::too_many_arguments)]
    fn batchnorm_forward_eval(
        &self,
        x: &Self::Buf,
        gamma: &Self::Buf,
        beta: &Self::Buf,
        y: &mut Self::Buf,
        running_mean: &Self::Buf,
        running_var: &Self::Buf,
        dims: (usize, usize, usize),
        eps: f32,
    );
    #[allow(clippy::too_many_arguments)]
    fn batchnorm_backward(
        &self,
        x: &Self::Buf,
        gamma: &Self::Buf,
        mean: &Self::Buf,
        inv_std: &Self::Buf,
        dy: &Self::Buf,
        dx: &mut Self::Buf,
        dgamma: &mut Self::Buf,
        dbeta: &mut Self::Buf,
        dims: (usize, usize, usize),
    );

    // ---- losses: each writes its scalar (mean over the batch) into a 1-element buffer ------------
    /// Softmax over `classes` per row + cross-entropy with integer labels stored as f32.
    /// Writes the probabilities (for backward and for predictions) and the mean loss.
    fn softmax_xent_forward(
        &self,
        logits: &Self::Buf,
        labels: &Self::Buf,
        probs: &mut Self::Buf,
        loss: &mut Self::Buf,
        n: usize,
        classes: usize,
    );
    /// dlogits = (probs - onehot) / n.
    fn softmax_xent_backward(
        &self,
        probs: &Self::Buf,
        labels: &Self::Buf,
        dlogits: &mut Self::Buf,
        n: usize,
        classes: usize,
    );
    /// Mean over all elements of (pred - target)^2.
    fn mse_forward(&self, pred: &Self::Buf, target: &Self::Buf, loss: &mut Self::Buf);
    fn mse_backward(&self, pred: &Self::Buf, target: &Self::Buf, dpred: &mut Self::Buf);
    /// Binary cross-entropy on logits (stable form), summed over each sample's features and
    /// averaged over the `n` samples: nats per image, as the VAE's ELBO is reported.
    fn bce_logits_forward(
        &self,
        logits: &Self::Buf,
        target: &Self::Buf,
        loss: &mut Self::Buf,
        n: usize,
    );
    fn bce_logits_backward(
        &self,
        logits: &Self::Buf,
        target: &Self::Buf,
        dlogits: &mut Self::Buf,
        n: usize,
    );
    /// KL(N(mu, exp(logvar)) || N(0, I)) = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)), summed over
    /// the latent and averaged over the `n` samples.
    fn kl_forward(&self, mu: &Self::Buf, logvar: &Self::Buf, loss: &mut Self::Buf, n: usize);
    /// Gradients of `scale` * KL (scale = beta), overwriting dmu and dlogvar.
    fn kl_backward(
        &self,
        mu: &Self::Buf,
        logvar: &Self::Buf,
        dmu: &mut Self::Buf,
        dlogvar: &mut Self::Buf,
        n: usize,
        scale: f32,
    );
    /// Reparameterization: z = mu + exp(0.5 * logvar) * eps.
    fn reparam_forward(
        &self,
        mu: &Self::Buf,
        logvar: &Self::Buf,
        eps: &Self::Buf,
        z: &mut Self::Buf,
    );
    /// Adds the path through z to dmu and dlogvar: dmu += dz, dlogvar += dz * eps * 0.5 * exp(0.5 * logvar).
    fn reparam_backward(
        &self,
        logvar: &Self::Buf,
        eps: &Self::Buf,
        dz: &Self::Buf,
        dmu: &mut Self::Buf,
        dlogvar: &mut Self::Buf,
    );

    // ---- optimizers (in place) ------------------------------------------------------------------
    fn sgd_step(
        &self,
        param: &mut Self::Buf,
        grad: &Self::Buf,
        velocity: &mut Self::Buf,
        lr: f32,
        momentum: f32,
    );
    fn adam_step(
        &self,
        param: &mut Self::Buf,
        grad: &Self::Buf,
        m: &mut Self::Buf,
        v: &mut Self::Buf,
        h: AdamStep,
    );
    /// Sum of squares into a 1-element buffer (gradient norms for the ResNet exercise).
    fn sum_squares(&self, x: &Self::Buf, out: &mut Self::Buf);
}
