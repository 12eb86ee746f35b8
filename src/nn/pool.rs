//! Max and average pooling (square window, no padding).

use super::layer::{ensure_len, Layer, Shape, Tensor};
use crate::backend::Backend;
use crate::ops::Pool2dGeom;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

pub struct Pool2d<B: Backend> {
    pub kind: PoolKind,
    pub k: usize,
    pub stride: usize,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> Pool2d<B> {
    pub fn new(be: &B, kind: PoolKind, k: usize, stride: usize) -> Self {
        Pool2d {
            kind,
            k,
            stride,
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }

    fn geom(&self, x: Shape) -> Pool2dGeom {
        assert!(
            x.h >= self.k && x.w >= self.k,
            "pool window larger than its input"
        );
        Pool2dGeom {
            n: x.n,
            c: x.c,
            in_h: x.h,
            in_w: x.w,
            k: self.k,
            stride: self.stride,
        }
    }
}

impl<B: Backend> Layer<B> for Pool2d<B> {
    fn name(&self) -> String {
        let kind = match self.kind {
            PoolKind::Max => "maxpool",
            PoolKind::Avg => "avgpool",
        };
        format!("{kind}{}", self.k)
    }
    fn out_shape(&self, x: Shape) -> Shape {
        let g = self.geom(x);
        Shape::new(x.n, x.c, g.out_h(), g.out_w())
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        let g = self.geom(x.shape);
        self.y.ensure(be, self.out_shape(x.shape));
        match self.kind {
            PoolKind::Max => be.maxpool2d_forward(&g, &x.buf, &mut self.y.buf),
            PoolKind::Avg => be.avgpool2d_forward(&g, &x.buf, &mut self.y.buf),
        }
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        if !need_dx {
            return;
        }
        let g = self.geom(x.shape);
        ensure_len(be, &mut self.dx, x.shape.len());
        match self.kind {
            PoolKind::Max => be.maxpool2d_backward(&g, &x.buf, dy, &mut self.dx),
            PoolKind::Avg => be.avgpool2d_backward(&g, dy, &mut self.dx),
        }
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
}
