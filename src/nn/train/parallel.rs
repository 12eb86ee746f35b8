//! Data-parallel training on the CPU: `parts` replicas of one trainer (same seed, so the same
//! weights and the same batch order), one per thread (www/threads.js runs them in Web Workers).
//! Every step each replica
//!   1. `shard_step`: forward and backward on its shard of the batch, and writes a *record*;
//!   2. shares that record with the others (a SharedArrayBuffer in the browser);
//!   3. `apply_shards`: averages all records, each weighted by its shard's share of the batch, and
//!      applies the optimizer to the averaged gradient.
//!
//! Every loss is a mean over the batch, so the weighted mean of the shards' gradients is the
//! gradient of the whole batch, up to float rounding. Every replica sums the records in the same
//! order, so their weights stay bit-identical.
//!
//! A record is `[gradients of every parameter (visit_params order) | buffers (visit_buffers order:
//! batch-norm running statistics) | loss terms | correct predictions]`, `record_len()` floats.
//!
//! Batch norm: each replica normalises with the statistics of its own shard ("ghost batch norm"),
//! so with batch norm the gradient is *not* the whole-batch gradient (it is for every other layer);
//! the running statistics are averaged across the shards like the gradients, so the replicas stay
//! identical.

use super::Trainer;
use crate::backend::cpu::Cpu;
use crate::nn::models::Model;
use core::future::Future;
use core::ops::Range;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// The samples of a batch of `batch` that shard `part` of `parts` trains on.
pub fn shard_range(batch: usize, part: usize, parts: usize) -> Range<usize> {
    assert!(part < parts, "shard {part} of {parts}");
    batch * part / parts..batch * (part + 1) / parts
}

/// The CPU backend's futures are ready at once.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the CPU backend never waits"),
    }
}

impl Trainer<Cpu> {
    /// Floats in one shard's record.
    pub fn record_len(&mut self) -> usize {
        let mut len = self.model.loss_names().len() + 1;
        self.model.visit_params(&mut |p| len += p.len());
        self.model.visit_buffers(&mut |_, b| len += b.len());
        len
    }

    /// Forward and backward pass on shard `part` of `parts` of the next batch; writes the shard's
    /// record into `out`. The whole batch is gathered (and augmented, and a VAE's noise drawn) as
    /// `step` does, so every replica's random streams stay those of a one-thread run. `false` (and
    /// nothing written) when paused, stopped or finished. Must be followed by `apply_shards`.
    pub fn shard_step(&mut self, part: usize, parts: usize, out: &mut [f32]) -> bool {
        assert_eq!(out.len(), self.record_len(), "record length");
        if !self.begin_step() {
            return false;
        }
        let n = self.cfg.batch;
        let r = shard_range(n, part, parts);
        assert!(
            !r.is_empty(),
            "shard {part} of {parts} of a batch of {n} is empty"
        );
        self.gather_next_batch();
        let px = self.train.rows * self.train.cols;
        let keep = |v: &mut Vec<f32>, per: usize| {
            v.truncate(r.end * per);
            v.drain(..r.start * per);
        };
        keep(&mut self.host_x, px);
        keep(&mut self.host_labels, 1);
        if self.augmented {
            keep(&mut self.host_clean, px);
        }
        self.upload(None);
        if let Model::Vae(vae) = &mut self.model {
            let l = vae.latent;
            self.host_eps.resize(n * l, 0.0);
            let rng = &mut self.eps_rng;
            self.host_eps.iter_mut().for_each(|e| *e = rng.normal());
            vae.set_eps(&self.be, &self.host_eps[r.start * l..r.end * l]);
        }
        self.model.forward(&self.be, &self.x, &self.target, true);
        self.model.backward(&self.be, &self.x, &self.target);

        let mut at = 0;
        let mut put = |v: &[f32]| {
            out[at..at + v.len()].copy_from_slice(v);
            at += v.len();
        };
        self.model.visit_params(&mut |p| put(&p.grad));
        self.model.visit_buffers(&mut |_, b| put(b));
        for (_, v) in ready(self.read_losses()) {
            put(&[v]);
        }
        put(&[ready(self.correct(r.len())).unwrap_or(0) as f32]);
        true
    }

    /// Averages the `parts` records in `records` (one after the other), each weighted by its
    /// shard's share of the batch, and applies the optimizer to the averaged gradient; the
    /// progress is that of the whole batch.
    pub fn apply_shards(&mut self, records: &[f32], parts: usize) -> super::Progress {
        let len = self.record_len();
        assert_eq!(records.len(), len * parts, "{parts} records of {len}");
        let n = self.cfg.batch;
        let w: Vec<f32> = (0..parts)
            .map(|p| shard_range(n, p, parts).len() as f32 / n as f32)
            .collect();
        // Fields `at..at + v.len()` of every record, weighted, summed in record order (the same on
        // every replica).
        let mean_into = |v: &mut [f32], at: usize| {
            for (p, rec) in records.chunks(len).enumerate() {
                let (src, w) = (&rec[at..at + v.len()], w[p]);
                if p == 0 {
                    v.iter_mut().zip(src).for_each(|(x, g)| *x = w * g);
                } else {
                    v.iter_mut().zip(src).for_each(|(x, g)| *x += w * g);
                }
            }
        };
        let mean = |i: usize| {
            let mut x = [0.0];
            mean_into(&mut x, i);
            x[0]
        };
        let mut at = 0;
        let mut take = |v: &mut [f32]| {
            mean_into(v, at);
            at += v.len();
        };
        self.model.visit_params(&mut |p| take(&mut p.grad));
        self.model.visit_buffers(&mut |_, b| take(b));
        let names = self.model.loss_names();
        let losses = (names.iter().enumerate())
            .map(|(k, name)| (*name, mean(at + k)))
            .collect();
        let correct: f32 = (0..parts).map(|p| records[p * len + len - 1]).sum();
        self.apply_grads();
        let classifier = matches!(self.model, Model::Classifier(_));
        self.end_step(losses, classifier.then_some(correct as usize))
    }
}
