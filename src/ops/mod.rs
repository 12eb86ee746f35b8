//! Every op of the engine, one file each, forward and backward side by side.
//!
//! Conventions (shared by every op, CPU and WGSL alike):
//! - f32, contiguous, row-major. Images are NCHW: index `((n * C + c) * H + h) * W + w`.
//! - Dense weights are `[out, in]` (PyTorch's layout), conv weights `[out_c, in_c, kh, kw]`,
//!   transposed-conv weights `[in_c, out_c, kh, kw]` (PyTorch's `ConvTranspose2d` layout).
//! - Backward functions *overwrite* their gradient outputs (no accumulation): each parameter is
//!   used once per step in every model of the course.
//! - Each file has a `reference` module: plain scalar loops, written to be obviously right, never
//!   optimised, kept forever as the oracle. Faster paths live beside it and are tested against it.

/// Geometry of a 2-D convolution (also used, with the roles of input and output swapped, by the
/// transposed convolution).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeom {
    pub n: usize,
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_c: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
}

impl Conv2dGeom {
    /// floor((n + 2p - k) / s) + 1, the formula of the stride-and-padding exercise.
    pub fn out_h(&self) -> usize {
        (self.in_h + 2 * self.pad - self.kh) / self.stride + 1
    }
    pub fn out_w(&self) -> usize {
        (self.in_w + 2 * self.pad - self.kw) / self.stride + 1
    }
}

/// Geometry of a 2-D pooling window (no padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dGeom {
    pub n: usize,
    pub c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub k: usize,
    pub stride: usize,
}

impl Pool2dGeom {
    pub fn out_h(&self) -> usize {
        (self.in_h - self.k) / self.stride + 1
    }
    pub fn out_w(&self) -> usize {
        (self.in_w - self.k) / self.stride + 1
    }
}

/// Element-wise activations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Relu,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
}

pub mod act;
pub mod batchnorm;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod dense;
pub mod elementwise;
pub mod gemm;
pub mod loss;
pub mod math;
pub mod optim;
pub mod pool;

/// Buffers the fast paths reuse from call to call (GEMM packing, im2col columns), so a training step
/// allocates nothing once the first step has sized them.
#[derive(Default)]
pub struct Scratch {
    pub gemm: gemm::GemmScratch,
    pub cols: Vec<f32>,
}

/// `v[..len]`, growing `v` first if it is shorter (contents unspecified).
pub(crate) fn grown(v: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if v.len() < len {
        v.resize(len, 0.0);
    }
    &mut v[..len]
}
