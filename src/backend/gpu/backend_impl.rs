//! `Backend` for `Gpu`: each op is one or a few kernel launches (see the family files beside this
//! one); memory ops go through the pool and the queue; `read` awaits map_async.

use super::pipelines::Module;
use super::{bits, elementwise, oneshot, to_bytes, Gpu, GpuBuf};
use crate::backend::{AdamStep, Backend, BnSaved};
use crate::ops::{Act, Conv2dGeom, Pool2dGeom};
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Backend for Gpu {
    type Buf = GpuBuf;

    fn name(&self) -> String {
        format!("WebGPU: {}", self.name)
    }

    fn zeros(&self, len: usize) -> GpuBuf {
        let buf = GpuBuf::new(&self.pool, &self.device, len);
        self.check_len(&buf);
        self.rec
            .borrow_mut()
            .encoder()
            .clear_buffer(buf.buffer(), 0, None);
        buf
    }

    fn upload(&self, data: &[f32]) -> GpuBuf {
        let buf = GpuBuf::new(&self.pool, &self.device, data.len());
        self.check_len(&buf);
        // A buffer fresh from the pool is referenced by no recorded op: write it directly.
        self.queue.write_buffer(buf.buffer(), 0, &to_bytes(data));
        buf
    }

    fn write(&self, buf: &mut GpuBuf, data: &[f32]) {
        assert_eq!(buf.len(), data.len(), "write: length mismatch");
        if data.is_empty() {
            return;
        }
        let bytes = to_bytes(data);
        if !self.rec.borrow().has_work() {
            self.queue.write_buffer(buf.buffer(), 0, &bytes);
            return;
        }
        // queue.write_buffer lands before the whole next submission, but ops recorded earlier in
        // this step must see the old contents: stage the data in a pooled buffer (retired on drop,
        // so not reused before the submit) and copy it in order, inside the step's encoder.
        let stage = GpuBuf::new(&self.pool, &self.device, data.len());
        self.queue.write_buffer(stage.buffer(), 0, &bytes);
        self.rec.borrow_mut().encoder().copy_buffer_to_buffer(
            stage.buffer(),
            0,
            buf.buffer(),
            0,
            bytes.len() as u64,
        );
    }

    fn len(&self, buf: &GpuBuf) -> usize {
        buf.len()
    }

    fn read(&self, buf: &GpuBuf) -> impl Future<Output = Vec<f32>> {
        let bytes = buf.len() as u64 * 4;
        let staging = (bytes > 0).then(|| {
            let staging = self.pool.borrow_mut().take_staging(&self.device, bytes);
            self.rec.borrow_mut().encoder().copy_buffer_to_buffer(
                buf.buffer(),
                0,
                &staging,
                0,
                bytes,
            );
            self.submit();
            staging
        });
        let (tx, rx) = oneshot::channel();
        if let Some(s) = &staging {
            s.slice(..bytes)
                .map_async(wgpu::MapMode::Read, move |r| tx.send(r.is_ok()));
        }
        // Natively nothing drives the callbacks but poll; in the browser the event loop does.
        #[cfg(not(target_arch = "wasm32"))]
        let ready = staging.as_ref().map(|_| {
            let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
            rx.try_take().unwrap_or(false)
        });
        let pool = Rc::clone(&self.pool);
        let lost = Arc::clone(&self.lost);
        async move {
            let Some(staging) = staging else {
                return Vec::new();
            };
            #[cfg(not(target_arch = "wasm32"))]
            let ok = ready.unwrap_or(false);
            #[cfg(target_arch = "wasm32")]
            let ok = rx.await;
            // A failed map means the device is gone: the caller sees `is_lost()` and an empty read.
            let data = if ok {
                let out = match staging.slice(..bytes).get_mapped_range() {
                    Ok(view) => view
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                    Err(_) => Vec::new(),
                };
                staging.unmap();
                out
            } else {
                lost.store(true, Ordering::SeqCst);
                Vec::new()
            };
            pool.borrow_mut().return_staging(staging);
            data
        }
    }

    fn flush(&self) {
        self.submit();
    }

    fn fill(&self, buf: &mut GpuBuf, value: f32) {
        self.ew("fill", buf.len(), 0, [value, 0.0], &[buf]);
    }

    fn add(&self, a: &GpuBuf, b: &GpuBuf, y: &mut GpuBuf) {
        self.ew("add", y.len(), 0, [0.0; 2], &[a, b, y]);
    }

    fn add_assign(&self, y: &mut GpuBuf, x: &GpuBuf) {
        self.ew("add_assign", y.len(), 0, [0.0; 2], &[y, x]);
    }

    fn act_forward(&self, act: Act, x: &GpuBuf, y: &mut GpuBuf) {
        let (kind, slope) = elementwise::act_code(act);
        self.ew("act_forward", y.len(), kind, [slope, 0.0], &[x, y]);
    }

    fn act_backward(&self, act: Act, x: &GpuBuf, y: &GpuBuf, dy: &GpuBuf, dx: &mut GpuBuf) {
        let (kind, slope) = elementwise::act_code(act);
        self.ew(
            "act_backward",
            dx.len(),
            kind,
            [slope, 0.0],
            &[x, y, dy, dx],
        );
    }

    fn dense_forward(
        &self,
        x: &GpuBuf,
        w: &GpuBuf,
        b: &GpuBuf,
        y: &mut GpuBuf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        self.dense_fwd(x, w, b, y, n, i, o);
    }

    fn dense_backward(
        &self,
        x: &GpuBuf,
        w: &GpuBuf,
        dy: &GpuBuf,
        dx: Option<&mut GpuBuf>,
        dw: &mut GpuBuf,
        db: &mut GpuBuf,
        n: usize,
        i: usize,
        o: usize,
    ) {
        self.dense_bwd(x, w, dy, dx.map(|d| &*d), dw, db, n, i, o);
    }

    fn conv2d_forward(&self, g: &Conv2dGeom, x: &GpuBuf, w: &GpuBuf, b: &GpuBuf, y: &mut GpuBuf) {
        self.conv_fwd(g, x, w, Some(b), y);
    }

    fn conv2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &GpuBuf,
        w: &GpuBuf,
        dy: &GpuBuf,
        dx: Option<&mut GpuBuf>,
        dw: &mut GpuBuf,
        db: &mut GpuBuf,
    ) {
        if let Some(dx) = dx {
            self.conv_dx(g, w, dy, None, dx);
        }
        self.conv_dw(g, x, dy, dw);
        self.channel_sum(dy, db, g.n, g.out_c, g.out_h() * g.out_w());
    }

    fn conv_transpose2d_forward(
        &self,
        g: &Conv2dGeom,
        x: &GpuBuf,
        w: &GpuBuf,
        b: &GpuBuf,
        y: &mut GpuBuf,
    ) {
        // The transpose of conv g maps like conv g's input gradient, plus a bias on g.in_c.
        self.conv_dx(g, w, x, Some(b), y);
    }

    fn conv_transpose2d_backward(
        &self,
        g: &Conv2dGeom,
        x: &GpuBuf,
        w: &GpuBuf,
        dy: &GpuBuf,
        dx: Option<&mut GpuBuf>,
        dw: &mut GpuBuf,
        db: &mut GpuBuf,
    ) {
        if let Some(dx) = dx {
            self.conv_fwd(g, dy, w, None, dx);
        }
        self.conv_dw(g, dy, x, dw);
        self.channel_sum(dy, db, g.n, g.in_c, g.in_h * g.in_w);
    }

    fn maxpool2d_forward(&self, g: &Pool2dGeom, x: &GpuBuf, y: &mut GpuBuf) {
        self.pool_op("max_forward", g, false, &[x, y]);
    }

    fn maxpool2d_backward(&self, g: &Pool2dGeom, x: &GpuBuf, dy: &GpuBuf, dx: &mut GpuBuf) {
        self.pool_op("max_backward", g, true, &[x, dy, dx]);
    }

    fn avgpool2d_forward(&self, g: &Pool2dGeom, x: &GpuBuf, y: &mut GpuBuf) {
        self.pool_op("avg_forward", g, false, &[x, y]);
    }

    fn avgpool2d_backward(&self, g: &Pool2dGeom, dy: &GpuBuf, dx: &mut GpuBuf) {
        self.pool_op("avg_backward", g, true, &[dy, dx]);
    }

    fn batchnorm_forward_train(
        &self,
        x: &GpuBuf,
        gamma: &GpuBuf,
        beta: &GpuBuf,
        y: &mut GpuBuf,
        saved: BnSaved<'_, Self>,
        running_mean: &mut GpuBuf,
        running_var: &mut GpuBuf,
        dims: (usize, usize, usize),
        momentum: f32,
        eps: f32,
    ) {
        let bufs = [
            x,
            gamma,
            beta,
            y,
            saved.mean,
            saved.inv_std,
            running_mean,
            running_var,
        ];
        self.bn("train_forward", dims, momentum, eps, &bufs);
    }

    fn batchnorm_forward_eval(
        &self,
        x: &GpuBuf,
        gamma: &GpuBuf,
        beta: &GpuBuf,
        y: &mut GpuBuf,
        running_mean: &GpuBuf,
        running_var: &GpuBuf,
        dims: (usize, usize, usize),
        eps: f32,
    ) {
        let bufs = [x, gamma, beta, y, running_mean, running_var];
        self.bn("eval_forward", dims, 0.0, eps, &bufs);
    }

    fn batchnorm_backward(
        &self,
        x: &GpuBuf,
        gamma: &GpuBuf,
        mean: &GpuBuf,
        inv_std: &GpuBuf,
        dy: &GpuBuf,
        dx: &mut GpuBuf,
        dgamma: &mut GpuBuf,
        dbeta: &mut GpuBuf,
        dims: (usize, usize, usize),
    ) {
        let bufs = [x, gamma, mean, inv_std, dy, dx, dgamma, dbeta];
        self.bn("backward", dims, 0.0, 0.0, &bufs);
    }

    fn softmax_xent_forward(
        &self,
        logits: &GpuBuf,
        labels: &GpuBuf,
        probs: &mut GpuBuf,
        loss: &mut GpuBuf,
        n: usize,
        classes: usize,
    ) {
        let p = [
            (n * classes) as u32,
            n as u32,
            classes as u32,
            0,
            bits(1.0 / n as f32),
        ];
        self.run(
            Module::Reduce,
            "xent_forward",
            &p,
            &[logits, labels, probs, loss],
            [1, 1, 1],
        );
    }

    fn softmax_xent_backward(
        &self,
        probs: &GpuBuf,
        labels: &GpuBuf,
        dlogits: &mut GpuBuf,
        n: usize,
        classes: usize,
    ) {
        let s = [1.0 / n as f32, 0.0];
        self.ew(
            "xent_backward",
            n * classes,
            classes as u32,
            s,
            &[probs, labels, dlogits],
        );
    }

    fn mse_forward(&self, pred: &GpuBuf, target: &GpuBuf, loss: &mut GpuBuf) {
        let len = pred.len();
        self.whole_sum("mse_loss", len, 0, 1.0 / len as f32, &[pred, target, loss]);
    }

    fn mse_backward(&self, pred: &GpuBuf, target: &GpuBuf, dpred: &mut GpuBuf) {
        let len = pred.len();
        self.ew(
            "mse_backward",
            len,
            0,
            [2.0 / len as f32, 0.0],
            &[pred, target, dpred],
        );
    }

    fn bce_logits_forward(&self, logits: &GpuBuf, target: &GpuBuf, loss: &mut GpuBuf, n: usize) {
        let s = 1.0 / n as f32;
        self.whole_sum("bce_loss", logits.len(), n, s, &[logits, target, loss]);
    }

    fn bce_logits_backward(
        &self,
        logits: &GpuBuf,
        target: &GpuBuf,
        dlogits: &mut GpuBuf,
        n: usize,
    ) {
        let s = [1.0 / n as f32, 0.0];
        self.ew(
            "bce_backward",
            logits.len(),
            0,
            s,
            &[logits, target, dlogits],
        );
    }

    fn kl_forward(&self, mu: &GpuBuf, logvar: &GpuBuf, loss: &mut GpuBuf, n: usize) {
        let s = -0.5 / n as f32;
        self.whole_sum("kl_loss", mu.len(), n, s, &[mu, logvar, loss]);
    }

    fn kl_backward(
        &self,
        mu: &GpuBuf,
        logvar: &GpuBuf,
        dmu: &mut GpuBuf,
        dlogvar: &mut GpuBuf,
        n: usize,
        scale: f32,
    ) {
        let s = [scale / n as f32, 0.0];
        self.ew("kl_backward", mu.len(), 0, s, &[mu, logvar, dmu, dlogvar]);
    }

    fn reparam_forward(&self, mu: &GpuBuf, logvar: &GpuBuf, eps: &GpuBuf, z: &mut GpuBuf) {
        self.ew(
            "reparam_forward",
            z.len(),
            0,
            [0.0; 2],
            &[mu, logvar, eps, z],
        );
    }

    fn reparam_backward(
        &self,
        logvar: &GpuBuf,
        eps: &GpuBuf,
        dz: &GpuBuf,
        dmu: &mut GpuBuf,
        dlogvar: &mut GpuBuf,
    ) {
        let bufs = [logvar, eps, dz, dmu, dlogvar];
        self.ew("reparam_backward", dz.len(), 0, [0.0; 2], &bufs);
    }

    fn sgd_step(
        &self,
        param: &mut GpuBuf,
        grad: &GpuBuf,
        velocity: &mut GpuBuf,
        lr: f32,
        momentum: f32,
    ) {
        let p = [bits(lr), bits(momentum)];
        self.per_element(
            Module::Optim,
            "sgd",
            param.len(),
            &p,
            &[param, grad, velocity],
        );
    }

    fn adam_step(
        &self,
        param: &mut GpuBuf,
        grad: &GpuBuf,
        m: &mut GpuBuf,
        v: &mut GpuBuf,
        h: AdamStep,
    ) {
        let corr1 = 1.0 / (1.0 - h.beta1.powi(h.t as i32));
        let corr2 = 1.0 / (1.0 - h.beta2.powi(h.t as i32));
        let p = [h.lr, h.beta1, h.beta2, h.eps, corr1, corr2].map(bits);
        self.per_element(Module::Optim, "adam", param.len(), &p, &[param, grad, m, v]);
    }

    fn sum_squares(&self, x: &GpuBuf, out: &mut GpuBuf) {
        self.whole_sum("sum_squares", x.len(), 0, 1.0, &[x, out]);
    }
}
