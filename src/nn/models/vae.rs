//! Variational autoencoder. The encoder maps x to h, two dense heads map h to mu and log sigma^2,
//! z = mu + sigma * eps with eps ~ N(0, I) drawn on the host from the seeded RNG and uploaded,
//! and the decoder maps z to logits. Loss per image (nats) = BCE(logits, x) + beta * KL;
//! the ELBO is -(BCE + KL).

use crate::backend::Backend;
use crate::nn::dense::Dense;
use crate::nn::layer::{ensure_len, Init, Layer, Shape, Tensor};
use crate::nn::spec::{build, LayerSpec};
use crate::nn::Sequential;
use crate::ops::Act;
use crate::rng::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct VaeConfig {
    pub input: (usize, usize, usize),
    pub encoder: Vec<LayerSpec>,
    pub latent: usize,
    /// Maps `[n, latent]` to one logit per input value.
    pub decoder: Vec<LayerSpec>,
    pub beta: f32,
}

impl VaeConfig {
    /// d-hidden-(latent)-hidden-d with ReLU hidden layers (784-256-(16)-256-784).
    pub fn dense(input: (usize, usize, usize), hidden: usize, latent: usize) -> Self {
        Self::dense_layers(input, &[hidden], latent)
    }

    /// Two ReLU hidden layers each side, the inner one half as wide:
    /// d-hidden-hidden/2-(latent)-hidden/2-hidden-d (784-512-256-(16)-256-512-784 in the course,
    /// whose prior samples the lab's CNN reads more often than those of one hidden layer).
    pub fn deep(input: (usize, usize, usize), hidden: usize, latent: usize) -> Self {
        Self::dense_layers(input, &[hidden, (hidden / 2).max(1)], latent)
    }

    /// Dense ReLU layers of `widths` from the input inwards, mirrored in the decoder.
    fn dense_layers(input: (usize, usize, usize), widths: &[usize], latent: usize) -> Self {
        use LayerSpec::*;
        let layer = |&units: &usize| [Dense { units }, Activation(Act::Relu)];
        let mut encoder = vec![Flatten];
        encoder.extend(widths.iter().flat_map(layer));
        let mut decoder: Vec<LayerSpec> = widths.iter().rev().flat_map(layer).collect();
        decoder.push(Dense {
            units: input.0 * input.1 * input.2,
        });
        VaeConfig {
            input,
            encoder,
            latent,
            decoder,
            beta: 1.0,
        }
    }
}

pub struct Vae<B: Backend> {
    pub encoder: Sequential<B>,
    pub mu: Dense<B>,
    pub logvar: Dense<B>,
    pub decoder: Sequential<B>,
    pub latent: usize,
    pub beta: f32,
    /// eps for the next forward pass, `[n, latent]`; written by `set_eps`.
    pub eps: B::Buf,
    pub z: Tensor<B>,
    pub recon_loss: B::Buf,
    pub kl_loss: B::Buf,
    dlogits: B::Buf,
    dmu: B::Buf,
    dlogvar: B::Buf,
    dh: B::Buf,
    images: B::Buf,
    pub need_input_grad: bool,
}

impl<B: Backend + 'static> Vae<B> {
    pub fn new(be: &B, rng: &mut Rng, cfg: &VaeConfig) -> Self {
        let encoder = build(be, rng, &cfg.encoder, cfg.input);
        let h = encoder.out_shape(Shape::new(1, cfg.input.0, cfg.input.1, cfg.input.2));
        let decoder = build(be, rng, &cfg.decoder, (cfg.latent, 1, 1));
        let out = decoder.out_shape(Shape::flat(1, cfg.latent));
        assert_eq!(
            out.sample_len(),
            cfg.input.0 * cfg.input.1 * cfg.input.2,
            "decoder output size"
        );
        Vae {
            mu: Dense::new(be, rng, h.sample_len(), cfg.latent, Init::Xavier),
            logvar: Dense::new(be, rng, h.sample_len(), cfg.latent, Init::Xavier),
            encoder,
            decoder,
            latent: cfg.latent,
            beta: cfg.beta,
            eps: be.zeros(0),
            z: Tensor::empty(be),
            recon_loss: be.zeros(1),
            kl_loss: be.zeros(1),
            dlogits: be.zeros(0),
            dmu: be.zeros(0),
            dlogvar: be.zeros(0),
            dh: be.zeros(0),
            images: be.zeros(0),
            need_input_grad: false,
        }
    }

    /// Uploads the noise of the next forward pass (`n * latent` values; zeros give z = mu).
    pub fn set_eps(&mut self, be: &B, eps: &[f32]) {
        ensure_len(be, &mut self.eps, eps.len());
        be.write(&mut self.eps, eps);
    }

    /// Encoder and both heads: mu and logvar for `x`.
    pub fn encode(&mut self, be: &B, x: &Tensor<B>, train: bool) {
        self.encoder.forward(be, x, train);
        let h = self.encoder.output();
        self.mu.forward(be, h, train);
        self.logvar.forward(be, h, train);
    }

    /// Decoder on `self.z` (logits).
    pub fn decode(&mut self, be: &B, train: bool) {
        self.decoder.forward(be, &self.z, train);
    }

    pub fn forward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf, train: bool) {
        let n = x.shape.n;
        assert_eq!(be.len(&self.eps), n * self.latent, "set_eps before forward");
        self.encode(be, x, train);
        self.z.ensure(be, Shape::flat(n, self.latent));
        let (mu, lv) = (&self.mu.output().buf, &self.logvar.output().buf);
        be.reparam_forward(mu, lv, &self.eps, &mut self.z.buf);
        be.kl_forward(mu, lv, &mut self.kl_loss, n);
        self.decode(be, train);
        let logits = &self.decoder.output().buf;
        be.bce_logits_forward(logits, target, &mut self.recon_loss, n);
    }

    pub fn backward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf) {
        let n = x.shape.n;
        let logits = &self.decoder.output().buf;
        ensure_len(be, &mut self.dlogits, x.shape.len());
        be.bce_logits_backward(logits, target, &mut self.dlogits, n);
        self.decoder.backward(be, &self.z, &self.dlogits, true);
        let dz = self.decoder.input_grad();

        let (mu, lv) = (&self.mu.output().buf, &self.logvar.output().buf);
        ensure_len(be, &mut self.dmu, n * self.latent);
        ensure_len(be, &mut self.dlogvar, n * self.latent);
        be.kl_backward(mu, lv, &mut self.dmu, &mut self.dlogvar, n, self.beta);
        be.reparam_backward(lv, &self.eps, dz, &mut self.dmu, &mut self.dlogvar);

        let h = self.encoder.output();
        self.mu.backward(be, h, &self.dmu, true);
        self.logvar.backward(be, h, &self.dlogvar, true);
        ensure_len(be, &mut self.dh, h.shape.len());
        be.add(self.mu.input_grad(), self.logvar.input_grad(), &mut self.dh);
        self.encoder.backward(be, x, &self.dh, self.need_input_grad);
    }

    /// Sigmoid of the decoder's logits: images in [0, 1].
    pub fn images(&mut self, be: &B) -> &B::Buf {
        let out = self.decoder.output();
        ensure_len(be, &mut self.images, out.shape.len());
        be.act_forward(Act::Sigmoid, &out.buf, &mut self.images);
        &self.images
    }
}
