//! Convolution and transposed convolution layers (NCHW; weights in PyTorch's layouts, see `ops`).

use super::layer::{ensure_len, Init, Layer, Param, Shape, Tensor};
use crate::backend::Backend;
use crate::ops::Conv2dGeom;
use crate::rng::Rng;

/// Kernel size, stride, zero padding and whether the layer has a bias.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvCfg {
    pub in_c: usize,
    pub out_c: usize,
    pub k: usize,
    pub stride: usize,
    pub pad: usize,
    pub bias: bool,
}

/// A bias that is either trainable or a fixed zero vector (for convolutions followed by batch norm).
/// The fixed one still needs somewhere for the backend to write its (unused) gradient.
struct Bias<B: Backend> {
    param: Param<B>,
    trainable: bool,
}

impl<B: Backend> Bias<B> {
    fn new(be: &B, len: usize, trainable: bool) -> Self {
        Bias {
            param: Param::new(be, "b", &[len], &vec![0.0; len]),
            trainable,
        }
    }
}

pub struct Conv2d<B: Backend> {
    pub cfg: ConvCfg,
    pub w: Param<B>,
    b: Bias<B>,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> Conv2d<B> {
    pub fn new(be: &B, rng: &mut Rng, cfg: ConvCfg, init: Init) -> Self {
        let kk = cfg.k * cfg.k;
        let w = init.sample(
            rng,
            cfg.out_c * cfg.in_c * kk,
            cfg.in_c * kk,
            cfg.out_c * kk,
        );
        Conv2d {
            cfg,
            w: Param::new(be, "w", &[cfg.out_c, cfg.in_c, cfg.k, cfg.k], &w),
            b: Bias::new(be, cfg.out_c, cfg.bias),
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }

    fn geom(&self, x: Shape) -> Conv2dGeom {
        assert_eq!(x.c, self.cfg.in_c, "conv input channels");
        Conv2dGeom {
            n: x.n,
            in_c: x.c,
            in_h: x.h,
            in_w: x.w,
            out_c: self.cfg.out_c,
            kh: self.cfg.k,
            kw: self.cfg.k,
            stride: self.cfg.stride,
            pad: self.cfg.pad,
        }
    }
}

impl<B: Backend> Layer<B> for Conv2d<B> {
    fn name(&self) -> String {
        let c = &self.cfg;
        let mut s = format!("conv{}x{}x{}", c.k, c.k, c.out_c);
        if c.stride != 1 {
            s += &format!("/{}", c.stride);
        }
        s
    }
    fn out_shape(&self, x: Shape) -> Shape {
        let g = self.geom(x);
        Shape::new(x.n, g.out_c, g.out_h(), g.out_w())
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        let g = self.geom(x.shape);
        self.y.ensure(be, self.out_shape(x.shape));
        be.conv2d_forward(
            &g,
            &x.buf,
            &self.w.value,
            &self.b.param.value,
            &mut self.y.buf,
        );
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        let g = self.geom(x.shape);
        let dx = if need_dx {
            ensure_len(be, &mut self.dx, x.shape.len());
            Some(&mut self.dx)
        } else {
            None
        };
        let (w, dw, db) = (&self.w.value, &mut self.w.grad, &mut self.b.param.grad);
        be.conv2d_backward(&g, &x.buf, w, dy, dx, dw, db);
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        f(&mut self.w);
        if self.b.trainable {
            f(&mut self.b.param);
        }
    }
}

/// Transposed convolution (the decoder's learned upsampling). Output size
/// (h - 1) * stride - 2 * pad + k + out_pad, with 0 <= out_pad < stride choosing among the sizes a
/// strided convolution maps to the same input size.
pub struct ConvTranspose2d<B: Backend> {
    pub cfg: ConvCfg,
    pub out_pad: usize,
    pub w: Param<B>,
    b: Bias<B>,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> ConvTranspose2d<B> {
    pub fn new(be: &B, rng: &mut Rng, cfg: ConvCfg, out_pad: usize, init: Init) -> Self {
        assert!(
            out_pad < cfg.stride.max(1),
            "out_pad must be below the stride"
        );
        let kk = cfg.k * cfg.k;
        // Each output sees about in_c * k * k / stride^2 inputs.
        let fan_in = (cfg.in_c * kk / (cfg.stride * cfg.stride)).max(1);
        let w = init.sample(rng, cfg.in_c * cfg.out_c * kk, fan_in, cfg.out_c * kk);
        ConvTranspose2d {
            cfg,
            out_pad,
            w: Param::new(be, "w", &[cfg.in_c, cfg.out_c, cfg.k, cfg.k], &w),
            b: Bias::new(be, cfg.out_c, cfg.bias),
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }

    /// The forward convolution this layer is the transpose of (the backend's convention).
    fn geom(&self, x: Shape) -> Conv2dGeom {
        let c = &self.cfg;
        assert_eq!(x.c, c.in_c, "transposed conv input channels");
        let size = |s: usize| (s - 1) * c.stride + c.k + self.out_pad - 2 * c.pad;
        Conv2dGeom {
            n: x.n,
            in_c: c.out_c,
            in_h: size(x.h),
            in_w: size(x.w),
            out_c: c.in_c,
            kh: c.k,
            kw: c.k,
            stride: c.stride,
            pad: c.pad,
        }
    }
}

impl<B: Backend> Layer<B> for ConvTranspose2d<B> {
    fn name(&self) -> String {
        let c = &self.cfg;
        format!("convT{}x{}x{}/{}", c.k, c.k, c.out_c, c.stride)
    }
    fn out_shape(&self, x: Shape) -> Shape {
        let g = self.geom(x);
        Shape::new(x.n, g.in_c, g.in_h, g.in_w)
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        let g = self.geom(x.shape);
        self.y.ensure(be, self.out_shape(x.shape));
        let (w, b) = (&self.w.value, &self.b.param.value);
        be.conv_transpose2d_forward(&g, &x.buf, w, b, &mut self.y.buf);
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        let g = self.geom(x.shape);
        let dx = if need_dx {
            ensure_len(be, &mut self.dx, x.shape.len());
            Some(&mut self.dx)
        } else {
            None
        };
        let (w, dw, db) = (&self.w.value, &mut self.w.grad, &mut self.b.param.grad);
        be.conv_transpose2d_backward(&g, &x.buf, w, dy, dx, dw, db);
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        f(&mut self.w);
        if self.b.trainable {
            f(&mut self.b.param);
        }
    }
}
