//! Launches of `wgsl/batchnorm.wgsl`.

use super::pipelines::Module;
use super::{bits, Gpu, GpuBuf};

impl Gpu {
    /// Training forward and backward run one workgroup per channel; eval one thread per element.
    pub(super) fn bn(
        &self,
        entry: &'static str,
        (n, c, hw): (usize, usize, usize),
        momentum: f32,
        eps: f32,
        bufs: &[&GpuBuf],
    ) {
        let len = n * c * hw;
        let (groups, row) = if entry == "eval_forward" {
            self.grid(len)
        } else {
            ([c as u32, 1, 1], 0)
        };
        let p = [
            n as u32,
            c as u32,
            hw as u32,
            len as u32,
            row,
            bits(momentum),
            bits(eps),
        ];
        self.run(Module::BatchNorm, entry, &p, bufs, groups);
    }
}
