//! The course's models behind one enum, so that the trainer (and the worker) holds any of them.

pub mod autoencoder;
pub mod classifier;
pub mod vae;

pub use autoencoder::{Autoencoder, AutoencoderConfig, ReconLoss};
pub use classifier::{Classifier, ClassifierConfig};
pub use vae::{Vae, VaeConfig};

use super::layer::{Layer, Param, Tensor};
use crate::backend::Backend;
use crate::rng::Rng;

/// What to build.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelKind {
    Classifier(ClassifierConfig),
    Autoencoder(AutoencoderConfig),
    Vae(VaeConfig),
}

impl ModelKind {
    /// Per-sample input (c, h, w).
    pub fn input(&self) -> (usize, usize, usize) {
        match self {
            ModelKind::Classifier(c) => c.input,
            ModelKind::Autoencoder(c) => c.input,
            ModelKind::Vae(c) => c.input,
        }
    }
}

// One model lives per trainer: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Model<B: Backend> {
    Classifier(Classifier<B>),
    Autoencoder(Autoencoder<B>),
    Vae(Vae<B>),
}

impl<B: Backend + 'static> Model<B> {
    pub fn new(be: &B, rng: &mut Rng, kind: &ModelKind) -> Self {
        match kind {
            ModelKind::Classifier(c) => Model::Classifier(Classifier::new(be, rng, c)),
            ModelKind::Autoencoder(c) => Model::Autoencoder(Autoencoder::new(be, rng, c)),
            ModelKind::Vae(c) => Model::Vae(Vae::new(be, rng, c)),
        }
    }
}

impl<B: Backend + 'static> Model<B> {
    /// Forward pass and loss. `target` is the labels (as f32) for a classifier, the clean images
    /// for the autoencoders. A VAE needs `Vae::set_eps` first.
    pub fn forward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf, train: bool) {
        match self {
            Model::Classifier(m) => m.forward(be, x, target, train),
            Model::Autoencoder(m) => m.forward(be, x, target, train),
            Model::Vae(m) => m.forward(be, x, target, train),
        }
    }

    /// Overwrites every parameter gradient (valid after a training-mode `forward` on the same batch).
    pub fn backward(&mut self, be: &B, x: &Tensor<B>, target: &B::Buf) {
        match self {
            Model::Classifier(m) => m.backward(be, x, target),
            Model::Autoencoder(m) => m.backward(be, x, target),
            Model::Vae(m) => m.backward(be, x, target),
        }
    }

    /// Names of the loss terms, in the order of `loss_bufs`.
    pub fn loss_names(&self) -> &'static [&'static str] {
        match self {
            Model::Classifier(_) => &["xent"],
            Model::Autoencoder(m) => match m.kind {
                ReconLoss::Mse => &["mse"],
                ReconLoss::Bce => &["bce"],
            },
            Model::Vae(_) => &["recon", "kl"],
        }
    }

    /// One-element buffers holding each loss term of the last forward pass.
    pub fn loss_bufs(&self) -> Vec<&B::Buf> {
        match self {
            Model::Classifier(m) => vec![&m.loss],
            Model::Autoencoder(m) => vec![&m.loss],
            Model::Vae(m) => vec![&m.recon_loss, &m.kl_loss],
        }
    }

    /// The loss that is minimised, from the terms `loss_bufs` read back.
    pub fn total_loss(&self, terms: &[f32]) -> f32 {
        match self {
            Model::Vae(m) => terms[0] + m.beta * terms[1],
            _ => terms[0],
        }
    }

    pub fn visit_params(&mut self, f: &mut dyn FnMut(&mut Param<B>)) {
        self.visit_layers(&mut |l| l.visit_params(f));
    }

    pub fn visit_buffers(&mut self, f: &mut dyn FnMut(&'static str, &mut B::Buf)) {
        self.visit_layers(&mut |l| l.visit_buffers(f));
    }

    /// The top-level layers in forward order (for a VAE: encoder, mu head, logvar head, decoder).
    pub fn visit_layers(&mut self, f: &mut dyn FnMut(&mut dyn Layer<B>)) {
        let mut each = |s: &mut super::Sequential<B>| {
            for l in s.layers.iter_mut() {
                f(l.as_mut());
            }
        };
        match self {
            Model::Classifier(m) => each(&mut m.net),
            Model::Autoencoder(m) => {
                each(&mut m.encoder);
                each(&mut m.decoder);
            }
            Model::Vae(m) => {
                for l in m.encoder.layers.iter_mut() {
                    f(l.as_mut());
                }
                f(&mut m.mu);
                f(&mut m.logvar);
                for l in m.decoder.layers.iter_mut() {
                    f(l.as_mut());
                }
            }
        }
    }

    /// Makes `backward` also write the gradient of the loss with respect to the input images
    /// (`input_grad`); off for training, where nothing needs it.
    pub fn set_need_input_grad(&mut self, on: bool) {
        match self {
            Model::Classifier(m) => m.need_input_grad = on,
            Model::Autoencoder(m) => m.need_input_grad = on,
            Model::Vae(m) => m.need_input_grad = on,
        }
    }

    pub fn input_grad(&self) -> &B::Buf {
        match self {
            Model::Classifier(m) => m.net.input_grad(),
            Model::Autoencoder(m) => m.encoder.input_grad(),
            Model::Vae(m) => m.encoder.input_grad(),
        }
    }

    /// Number of parameters.
    pub fn param_count(&mut self) -> usize {
        let mut n = 0;
        self.visit_params(&mut |p| n += p.len());
        n
    }
}
