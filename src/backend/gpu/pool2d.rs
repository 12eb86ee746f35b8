//! Launches of `wgsl/pool.wgsl`.

use super::pipelines::Module;
use super::{Gpu, GpuBuf};
use crate::ops::Pool2dGeom;

impl Gpu {
    /// Forward: one thread per output element; backward (`per_input`): one per input element.
    pub(super) fn pool_op(
        &self,
        entry: &'static str,
        g: &Pool2dGeom,
        per_input: bool,
        bufs: &[&GpuBuf],
    ) {
        let planes = g.n * g.c;
        let threads = if per_input {
            planes * g.in_h * g.in_w
        } else {
            planes * g.out_h() * g.out_w()
        };
        let extra = [g.in_h, g.in_w, g.out_h(), g.out_w(), g.k, g.stride].map(|v| v as u32);
        self.per_element(Module::Pool, entry, threads, &extra, bufs);
    }
}
