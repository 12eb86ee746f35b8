//! Launches of `wgsl/reduce.wgsl`: whole-buffer sums (losses, sum of squares) and per-channel sums
//! (bias gradients).

use super::pipelines::Module;
use super::{bits, Gpu, GpuBuf};

impl Gpu {
    /// One workgroup reduces `len` elements into a 1-element output, times `scale`.
    pub(super) fn whole_sum(
        &self,
        entry: &'static str,
        len: usize,
        n: usize,
        scale: f32,
        bufs: &[&GpuBuf],
    ) {
        let p = [len as u32, n as u32, 0, 0, bits(scale)];
        self.run(Module::Reduce, entry, &p, bufs, [1, 1, 1]);
    }

    /// out[c] = sum over n and hw of x[n, c, hw].
    pub(super) fn channel_sum(&self, x: &GpuBuf, out: &GpuBuf, n: usize, c: usize, hw: usize) {
        let p = [0, n as u32, c as u32, hw as u32, bits(1.0)];
        self.run(
            Module::Reduce,
            "channel_sum",
            &p,
            &[x, out],
            [c as u32, 1, 1],
        );
    }
}
