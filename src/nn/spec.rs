//! Networks described as a list of layer specs (what the exercises let students edit), and the
//! builder that turns a list into a `Sequential`, tracking the shape from layer to layer.

use super::activation::Activation;
use super::batchnorm::BatchNorm;
use super::conv::{Conv2d, ConvCfg, ConvTranspose2d};
use super::dense::Dense;
use super::layer::{Init, Layer, Shape};
use super::pool::{Pool2d, PoolKind};
use super::reshape::Reshape;
use super::residual::ResidualBlock;
use super::sequential::Sequential;
use crate::backend::Backend;
use crate::ops::Act;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    Conv {
        filters: usize,
        k: usize,
        stride: usize,
        pad: usize,
        bias: bool,
    },
    ConvT {
        filters: usize,
        k: usize,
        stride: usize,
        pad: usize,
        out_pad: usize,
    },
    MaxPool {
        k: usize,
        stride: usize,
    },
    AvgPool {
        k: usize,
        stride: usize,
    },
    /// Average over the whole feature map (an AvgPool whose window is the input).
    GlobalAvgPool,
    Dense {
        units: usize,
    },
    Activation(Act),
    BatchNorm,
    Flatten,
    Reshape {
        c: usize,
        h: usize,
        w: usize,
    },
    Residual {
        filters: usize,
        stride: usize,
        skip: bool,
    },
}

impl LayerSpec {
    /// A k x k convolution with `same` padding (odd k), stride 1, bias.
    pub fn conv_same(filters: usize, k: usize) -> Self {
        LayerSpec::Conv {
            filters,
            k,
            stride: 1,
            pad: k / 2,
            bias: true,
        }
    }
}

/// He before a ReLU-like activation, Xavier otherwise (sigmoid, tanh, or a linear output).
fn init_before(next: Option<&LayerSpec>) -> Init {
    match next {
        Some(LayerSpec::Activation(Act::Relu | Act::LeakyRelu(_))) => Init::He,
        Some(LayerSpec::BatchNorm) => Init::He,
        _ => Init::Xavier,
    }
}

/// Builds the network for per-sample input `(c, h, w)`; panics with the layer's index when a spec
/// does not fit the shape it receives.
pub fn build<B: Backend + 'static>(
    be: &B,
    rng: &mut Rng,
    specs: &[LayerSpec],
    input: (usize, usize, usize),
) -> Sequential<B> {
    let mut shape = Shape::new(1, input.0, input.1, input.2);
    let mut layers: Vec<Box<dyn Layer<B>>> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let init = init_before(specs.get(i + 1));
        let layer: Box<dyn Layer<B>> = match *spec {
            LayerSpec::Conv {
                filters,
                k,
                stride,
                pad,
                bias,
            } => {
                let cfg = ConvCfg {
                    in_c: shape.c,
                    out_c: filters,
                    k,
                    stride,
                    pad,
                    bias,
                };
                assert!(
                    shape.h + 2 * pad >= k,
                    "layer {i}: kernel larger than input"
                );
                Box::new(Conv2d::new(be, rng, cfg, init))
            }
            LayerSpec::ConvT {
                filters,
                k,
                stride,
                pad,
                out_pad,
            } => {
                let cfg = ConvCfg {
                    in_c: shape.c,
                    out_c: filters,
                    k,
                    stride,
                    pad,
                    bias: true,
                };
                Box::new(ConvTranspose2d::new(be, rng, cfg, out_pad, init))
            }
            LayerSpec::MaxPool { k, stride } => Box::new(Pool2d::new(be, PoolKind::Max, k, stride)),
            LayerSpec::AvgPool { k, stride } => Box::new(Pool2d::new(be, PoolKind::Avg, k, stride)),
            LayerSpec::GlobalAvgPool => {
                assert_eq!(
                    shape.h, shape.w,
                    "layer {i}: global pooling needs a square map"
                );
                Box::new(Pool2d::new(be, PoolKind::Avg, shape.h, shape.h))
            }
            LayerSpec::Dense { units } => {
                Box::new(Dense::new(be, rng, shape.sample_len(), units, init))
            }
            LayerSpec::Activation(act) => Box::new(Activation::new(be, act)),
            LayerSpec::BatchNorm => Box::new(BatchNorm::new(be, shape.c)),
            LayerSpec::Flatten => Box::new(Reshape::new(be, None)),
            LayerSpec::Reshape { c, h, w } => {
                assert_eq!(c * h * w, shape.sample_len(), "layer {i}: reshape size");
                Box::new(Reshape::new(be, Some((c, h, w))))
            }
            LayerSpec::Residual {
                filters,
                stride,
                skip,
            } => Box::new(ResidualBlock::new(be, rng, shape.c, filters, stride, skip)),
        };
        shape = layer.out_shape(shape);
        layers.push(layer);
    }
    Sequential::new(layers)
}
