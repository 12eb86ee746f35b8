//! Flatten / reshape: the same values under another shape. The layer keeps its own copy (two cheap
//! passes through the backend) so that every layer owns its output, which keeps containers simple.

use super::layer::{ensure_len, Layer, Shape, Tensor};
use crate::backend::Backend;

pub struct Reshape<B: Backend> {
    /// Per-sample target shape (c, h, w); `Flatten` is `(c * h * w, 1, 1)`.
    pub to: Option<(usize, usize, usize)>,
    y: Tensor<B>,
    dx: B::Buf,
}

impl<B: Backend> Reshape<B> {
    /// `None` flattens.
    pub fn new(be: &B, to: Option<(usize, usize, usize)>) -> Self {
        Reshape {
            to,
            y: Tensor::empty(be),
            dx: be.zeros(0),
        }
    }
}

fn copy<B: Backend>(be: &B, src: &B::Buf, dst: &mut B::Buf) {
    be.fill(dst, 0.0);
    be.add_assign(dst, src);
}

impl<B: Backend> Layer<B> for Reshape<B> {
    fn name(&self) -> String {
        match self.to {
            None => "flatten".into(),
            Some((c, h, w)) => format!("reshape{c}x{h}x{w}"),
        }
    }
    fn out_shape(&self, x: Shape) -> Shape {
        match self.to {
            None => Shape::flat(x.n, x.sample_len()),
            Some((c, h, w)) => {
                assert_eq!(c * h * w, x.sample_len(), "reshape size");
                Shape::new(x.n, c, h, w)
            }
        }
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, _train: bool) {
        self.y.ensure(be, self.out_shape(x.shape));
        copy(be, &x.buf, &mut self.y.buf);
    }
    fn output(&self) -> &Tensor<B> {
        &self.y
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        if need_dx {
            ensure_len(be, &mut self.dx, x.shape.len());
            copy(be, dy, &mut self.dx);
        }
    }
    fn input_grad(&self) -> &B::Buf {
        &self.dx
    }
}
