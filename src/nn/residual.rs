//! The residual block of the ResNet exercise: conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut (the
//! identity, or a strided 1x1 conv + BN when the channels or the size change), then ReLU.
//! With `skip = false` the same block has no shortcut at all: the "plain" network of the exercise,
//! layer for layer the same depth.

use super::activation::Activation;
use super::batchnorm::BatchNorm;
use super::conv::{Conv2d, ConvCfg};
use super::layer::{ensure_len, Init, Layer, Param, Shape, Tensor};
use super::sequential::Sequential;
use crate::backend::Backend;
use crate::ops::Act;
use crate::rng::Rng;

pub struct ResidualBlock<B: Backend> {
    pub out_c: usize,
    pub stride: usize,
    pub skip: bool,
    main: Sequential<B>,
    /// `Some` when the shortcut needs a projection (only with `skip`).
    proj: Option<Sequential<B>>,
    sum: Tensor<B>,
    relu: Activation<B>,
    dx: B::Buf,
}

fn conv_bn<B: Backend + 'static>(be: &B, rng: &mut Rng, cfg: ConvCfg) -> [Box<dyn Layer<B>>; 2] {
    [
        Box::new(Conv2d::new(be, rng, cfg, Init::He)),
        Box::new(BatchNorm::new(be, cfg.out_c)),
    ]
}

impl<B: Backend + 'static> ResidualBlock<B> {
    pub fn new(
        be: &B,
        rng: &mut Rng,
        in_c: usize,
        out_c: usize,
        stride: usize,
        skip: bool,
    ) -> Self {
        let c3 = |in_c, stride| ConvCfg {
            in_c,
            out_c,
            k: 3,
            stride,
            pad: 1,
            bias: false,
        };
        let [conv1, bn1] = conv_bn(be, rng, c3(in_c, stride));
        let relu1: Box<dyn Layer<B>> = Box::new(Activation::new(be, Act::Relu));
        let [conv2, bn2] = conv_bn(be, rng, c3(out_c, 1));
        let main = Sequential::new(vec![conv1, bn1, relu1, conv2, bn2]);
        let proj = (skip && (in_c != out_c || stride != 1)).then(|| {
            let cfg = ConvCfg {
                in_c,
                out_c,
                k: 1,
                stride,
                pad: 0,
                bias: false,
            };
            Sequential::new(conv_bn(be, rng, cfg).into())
        });
        ResidualBlock {
            out_c,
            stride,
            skip,
            main,
            proj,
            sum: Tensor::empty(be),
            relu: Activation::new(be, Act::Relu),
            dx: be.zeros(0),
        }
    }
}

impl<B: Backend> Layer<B> for ResidualBlock<B> {
    fn name(&self) -> String {
        let kind = if self.skip { "res" } else { "plain" };
        format!("{kind}{}/{}", self.out_c, self.stride)
    }
    fn out_shape(&self, x: Shape) -> Shape {
        self.main.out_shape(x)
    }
    fn forward(&mut self, be: &B, x: &Tensor<B>, train: bool) {
        self.main.forward(be, x, train);
        if !self.skip {
            self.relu.forward(be, self.main.output(), train);
            return;
        }
        let shortcut = match &mut self.proj {
            Some(p) => {
                p.forward(be, x, train);
                p.output()
            }
            None => x,
        };
        let main = self.main.output();
        self.sum.ensure(be, main.shape);
        be.add(&main.buf, &shortcut.buf, &mut self.sum.buf);
        self.relu.forward(be, &self.sum, train);
    }
    fn output(&self) -> &Tensor<B> {
        self.relu.output()
    }
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool) {
        let pre_relu = if self.skip {
            &self.sum
        } else {
            self.main.output()
        };
        self.relu.backward(be, pre_relu, dy, true);
        let dsum = self.relu.input_grad();
        self.main.backward(be, x, dsum, need_dx);
        if !self.skip {
            return;
        }
        if let Some(p) = &mut self.proj {
            p.backward(be, x, dsum, need_dx);
        }
        if need_dx {
            ensure_len(be, &mut self.dx, x.shape.len());
            let through_shortcut = match &self.proj {
                Some(p) => p.input_grad(),
                None => dsum,
            };
            be.add(self.main.input_grad(), through_shortcut, &mut self.dx);
        }
    }
    fn input_grad(&self) -> &B::Buf {
        if self.skip {
            &self.dx
        } else {
            self.main.input_grad()
        }
    }
    fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        self.main.visit_params(f);
        if let Some(p) = &mut self.proj {
            p.visit_params(f);
        }
    }
    fn visit_buffers(&mut self, f: &mut dyn FnMut(&'static str, &mut B::Buf)) {
        self.main.visit_buffers(f);
        if let Some(p) = &mut self.proj {
            p.visit_buffers(f);
        }
    }
}
