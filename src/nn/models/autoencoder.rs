//! Autoencoders (dense and convolutional; the denoising variant is the same model trained on noisy
//! inputs with clean targets). Encoder and decoder are layer lists; the loss is MSE on a sigmoid
//! output or binary cross-entropy on logits.

use crate::backend::Backend;
use crate::nn::layer::{ensure_len, Layer, Tensor};
use crate::nn::spec::{build, LayerSpec};
use crate::nn::Sequential;
use crate::ops::Act;
use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconLoss {
    /// Mean squared error per pixel; the decoder ends with a sigmoid.
    Mse,
    /// Binary cross-entropy summed per image (nats); the decoder outputs logits.
    Bce,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AutoencoderConfig {
    pub input: (usize, usize, usize),
    pub encoder: Vec<LayerSpec>,
    pub decoder: Vec<LayerSpec>,
    pub loss: ReconLoss,
}

impl AutoencoderConfig {
    /// Dense d-h-latent-h-d, ReLU hidden layers, a linear code, sigmoid output, MSE
    /// (784-128-32-128-784 for `dense((1, 28, 28), 128, 32)`).
    pub fn dense(input: (usize, usize, usize), hidden: usize, latent: usize) -> Self {
        use LayerSpec::*;
        let d = input.0 * input.1 * input.2;
        AutoencoderConfig {
            input,
            encoder: vec![
                Flatten,
                Dense { units: hidden },
                Activation(Act::Relu),
                Dense { units: latent },
            ],
            decoder: vec![
                Dense { units: hidden },
                Activation(Act::Relu),
                Dense { units: d },
                Activation(Act::Sigmoid),
                Reshape {
                    c: input.0,
                    h: input.1,
                    w: input.2,
                },
            ],
            loss: ReconLoss::Mse,
        }
    }

    /// Convolutional: two stride-2 3x3 convolutions (c1, c2 channels) down to a dense code of
    /// `latent` values, mirrored by a dense layer and two stride-2 4x4 transposed convolutions.
    /// Height and width must be multiples of 4.
    pub fn conv(input: (usize, usize, usize), c1: usize, c2: usize, latent: usize) -> Self {
        use LayerSpec::*;
        let (c, h, w) = input;
        assert!(
            h % 4 == 0 && w % 4 == 0,
            "conv autoencoder input must be a multiple of 4"
        );
        let down = |filters| Conv {
            filters,
            k: 3,
            stride: 2,
            pad: 1,
            bias: true,
        };
        let up = |filters| ConvT {
            filters,
            k: 4,
            stride: 2,
            pad: 1,
            out_pad: 0,
        };
        AutoencoderConfig {
            input,
            encoder: vec![
                down(c1),
                Activation(Act::Relu),
                down(c2),
                Activation(Act::Relu),
                Flatten,
                Dense { units: latent },
            ],
            decoder: vec![
                Dense {
                    units: c2 * (h / 4) * (w / 4),
                },
                Activation(Act::Relu),
                Reshape {
                    c: c2,
                    h: h / 4,
                    w: w / 4,
                },
                up(c1),
                Activation(Act::Relu),
                up(c),
                Activation(Act::Sigmoid),
            ],
            loss: ReconLoss::Mse,
        }
    }
}

pub struct Autoencoder<B: Backend> {
    pub encoder: Sequential<B>,
    pub decoder: Sequential<B>,
    pub kind: ReconLoss,
    pub loss: B::Buf,
    dpred: B::Buf,
    /// Sigmoid of the logits for `Bce` models (what `reconstruct` shows).
    images: B::Buf,
    pub need_input_grad: bool,
}

impl<B: Backend + 'static> Autoencoder<B> {
    pub fn new(be: &B, rng: &mut Rng, cfg: &AutoencoderConfig) -> Self {
        let encoder = build(be, rng, &cfg.encoder, cfg.input);
        let code = encoder.out_shape(crate::nn::Shape::new(
            1,
            cfg.input.0,
            cfg.input.1,
            cfg.input.2,
        ));
        let decoder = build(be, rng, &cfg.decoder, (code.c, code.h, code.w));
        let out = decoder.out_shape(code);
        assert_eq!(
            out.sample_len(),
            cfg.input.0 * cfg.input.1 * cfg.input.2,
            "decoder output size"
        );
        Autoencoder {
            encoder,
            decoder,
            kind: cfg.loss,
            loss: be.zeros(1),
            dpred: be.zeros(0),
            images: be.zeros(0),
            need_input_grad: false,
        }
    }

    pub fn forward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf, train: bool) {
        self.encoder.forward(be, x, train);
        self.decoder.forward(be, self.encoder.output(), train);
        let pred = &self.decoder.output().buf;
        match self.kind {
            ReconLoss::Mse => be.mse_forward(pred, target, &mut self.loss),
            ReconLoss::Bce => be.bce_logits_forward(pred, target, &mut self.loss, x.shape.n),
        }
    }

    pub fn backward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf) {
        let pred = &self.decoder.output().buf;
        ensure_len(be, &mut self.dpred, x.shape.len());
        match self.kind {
            ReconLoss::Mse => be.mse_backward(pred, target, &mut self.dpred),
            ReconLoss::Bce => be.bce_logits_backward(pred, target, &mut self.dpred, x.shape.n),
        }
        self.decoder
            .backward(be, self.encoder.output(), &self.dpred, true);
        let dcode = self.decoder.input_grad();
        self.encoder.backward(be, x, dcode, self.need_input_grad);
    }

    /// The decoder's output as images in [0, 1] (after `forward` or `decode`).
    pub fn images(&mut self, be: &B) -> &B::Buf {
        let out = self.decoder.output();
        match self.kind {
            ReconLoss::Mse => &out.buf,
            ReconLoss::Bce => {
                ensure_len(be, &mut self.images, out.shape.len());
                be.act_forward(Act::Sigmoid, &out.buf, &mut self.images);
                &self.images
            }
        }
    }
}
