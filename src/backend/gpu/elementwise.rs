//! Launches of `wgsl/elementwise.wgsl` (one thread per element).

use super::pipelines::Module;
use super::{bits, Gpu, GpuBuf};
use crate::ops::Act;

/// The kernel's activation code and leaky slope.
pub(super) fn act_code(act: Act) -> (u32, f32) {
    match act {
        Act::Relu => (0, 0.0),
        Act::LeakyRelu(slope) => (1, slope),
        Act::Sigmoid => (2, 0.0),
        Act::Tanh => (3, 0.0),
    }
}

impl Gpu {
    /// An element-wise kernel over `len` elements; `kind` and `s` fill its Params (kind, s0, s1).
    pub(super) fn ew(
        &self,
        entry: &'static str,
        len: usize,
        kind: u32,
        s: [f32; 2],
        bufs: &[&GpuBuf],
    ) {
        let extra = [kind, bits(s[0]), bits(s[1])];
        self.per_element(Module::Elementwise, entry, len, &extra, bufs);
    }
}
