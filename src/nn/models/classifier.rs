//! Image classifier: a configurable layer list ending in `classes` logits, softmax cross-entropy.

use crate::backend::Backend;
use crate::nn::layer::{ensure_len, Layer, Tensor};
use crate::nn::spec::{build, LayerSpec};
use crate::nn::Sequential;
use crate::ops::Act;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct ClassifierConfig {
    /// Per-sample input (c, h, w).
    pub input: (usize, usize, usize),
    pub layers: Vec<LayerSpec>,
    pub classes: usize,
}

impl ClassifierConfig {
    /// The course's reference CNN: conv3x3x8(same)-ReLU-maxpool2-conv3x3x16(same)-ReLU-maxpool2-dense10.
    pub fn reference() -> Self {
        use LayerSpec::*;
        ClassifierConfig {
            input: (1, 28, 28),
            layers: vec![
                LayerSpec::conv_same(8, 3),
                Activation(Act::Relu),
                MaxPool { k: 2, stride: 2 },
                LayerSpec::conv_same(16, 3),
                Activation(Act::Relu),
                MaxPool { k: 2, stride: 2 },
                Flatten,
                Dense { units: 10 },
            ],
            classes: 10,
        }
    }

    /// The ResNet exercise's deep network: a conv3x3-BN-ReLU stem, `stages` stages of
    /// `blocks` two-conv blocks (width doubling and size halving from one stage to the next),
    /// global average pooling and a dense layer: 2 + 2 * stages * blocks weighted layers (20 for
    /// 3 x 3). `skip` chooses the residual version or the plain one, otherwise identical.
    pub fn deep(
        input: (usize, usize, usize),
        width: usize,
        stages: usize,
        blocks: usize,
        skip: bool,
    ) -> Self {
        use LayerSpec::*;
        let mut layers = vec![
            Conv {
                filters: width,
                k: 3,
                stride: 1,
                pad: 1,
                bias: false,
            },
            BatchNorm,
            LayerSpec::Activation(Act::Relu),
        ];
        for s in 0..stages {
            for b in 0..blocks {
                let stride = if s > 0 && b == 0 { 2 } else { 1 };
                layers.push(Residual {
                    filters: width << s,
                    stride,
                    skip,
                });
            }
        }
        layers.extend([GlobalAvgPool, Flatten, Dense { units: 10 }]);
        ClassifierConfig {
            input,
            layers,
            classes: 10,
        }
    }
}

pub struct Classifier<B: Backend> {
    pub net: Sequential<B>,
    pub classes: usize,
    pub probs: B::Buf,
    pub loss: B::Buf,
    dlogits: B::Buf,
    pub need_input_grad: bool,
}

impl<B: Backend + 'static> Classifier<B> {
    pub fn new(be: &B, rng: &mut Rng, cfg: &ClassifierConfig) -> Self {
        Classifier {
            net: build(be, rng, &cfg.layers, cfg.input),
            classes: cfg.classes,
            probs: be.zeros(0),
            loss: be.zeros(1),
            dlogits: be.zeros(0),
            need_input_grad: false,
        }
    }

    /// Forward pass and loss; `labels` holds the class indices as f32. Writes `probs` too.
    pub fn forward(&mut self, be: &B, x: &Tensor<B>, labels: &B::Buf, train: bool) {
        self.net.forward(be, x, train);
        let logits = self.net.output();
        assert_eq!(
            logits.shape.sample_len(),
            self.classes,
            "the last layer must output one logit per class"
        );
        let n = x.shape.n;
        ensure_len(be, &mut self.probs, n * self.classes);
        be.softmax_xent_forward(
            &logits.buf,
            labels,
            &mut self.probs,
            &mut self.loss,
            n,
            self.classes,
        );
    }

    pub fn backward(&mut self, be: &B, x: &Tensor<B>, labels: &B::Buf) {
        let n = x.shape.n;
        ensure_len(be, &mut self.dlogits, n * self.classes);
        be.softmax_xent_backward(&self.probs, labels, &mut self.dlogits, n, self.classes);
        self.net
            .backward(be, x, &self.dlogits, self.need_input_grad);
    }
}
