//! Inference on a trainer's model: class probabilities, reconstructions, codes, decoded images,
//! per-layer activations, the first layer's filters and per-layer gradient norms.

use super::layer::{Layer, Shape, Tensor};
use super::models::Model;
use super::train::Trainer;
use crate::backend::Backend;

/// One layer's output for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerOutput {
    pub layer: String,
    /// (c, h, w).
    pub dims: (usize, usize, usize),
    pub values: Vec<f32>,
}

impl<B: Backend + 'static> Trainer<B> {
    /// Class probabilities, `classes` per image; None for models that are not classifiers.
    pub async fn predict(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if !matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let Model::Classifier(m) = &self.model else {
            unreachable!()
        };
        Some(self.be.read(&m.probs).await)
    }

    /// Reconstructions in [0, 1] (autoencoders; a VAE decodes its mean code).
    pub async fn reconstruct(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let out = match &mut self.model {
            Model::Autoencoder(m) => m.images(&self.be),
            Model::Vae(m) => m.images(&self.be),
            Model::Classifier(_) => unreachable!(),
        };
        Some(self.be.read(out).await)
    }

    /// Latent codes (a VAE's mu), one row per image.
    pub async fn encode(&mut self, images: &[f32]) -> Option<Vec<f32>> {
        if matches!(self.model, Model::Classifier(_)) {
            return None;
        }
        self.infer(images);
        let code = match &self.model {
            Model::Autoencoder(m) => &m.encoder.output().buf,
            Model::Vae(m) => &m.mu.output().buf,
            Model::Classifier(_) => unreachable!(),
        };
        Some(self.be.read(code).await)
    }

    /// Size of one latent code (None for a classifier; for a convolutional code, c * h * w).
    pub fn latent_len(&self) -> Option<usize> {
        match &self.model {
            Model::Autoencoder(m) => {
                let input = Shape::new(1, 1, self.train.rows, self.train.cols);
                Some(m.encoder.out_shape(input).sample_len())
            }
            Model::Vae(m) => Some(m.latent),
            Model::Classifier(_) => None,
        }
    }

    /// Images in [0, 1] decoded from latent codes (one code after another).
    pub async fn decode(&mut self, codes: &[f32]) -> Option<Vec<f32>> {
        let len = self.latent_len()?;
        assert!(
            !codes.is_empty() && codes.len().is_multiple_of(len),
            "whole codes expected"
        );
        let n = codes.len() / len;
        let code_shape = Shape::new(1, 1, self.train.rows, self.train.cols);
        let be = &self.be;
        let out = match &mut self.model {
            Model::Autoencoder(m) => {
                let s = m.encoder.out_shape(code_shape).with_n(n);
                let mut z = Tensor::zeros(be, s);
                be.write(&mut z.buf, codes);
                m.decoder.forward(be, &z, false);
                m.images(be)
            }
            Model::Vae(m) => {
                m.z.ensure(be, Shape::flat(n, m.latent));
                be.write(&mut m.z.buf, codes);
                m.decode(be, false);
                m.images(be)
            }
            Model::Classifier(_) => unreachable!(),
        };
        Some(be.read(out).await)
    }

    /// Every top-level layer's output for one image.
    pub async fn activations(&mut self, image: &[f32]) -> Vec<LayerOutput> {
        assert_eq!(
            image.len(),
            self.train.rows * self.train.cols,
            "one image expected"
        );
        self.infer(image);
        let mut outs: Vec<(String, Shape, B::Buf)> = Vec::new();
        let be = &self.be;
        self.model.visit_layers(&mut |l| {
            let y = l.output();
            let mut copy = be.zeros(y.shape.len());
            be.add_assign(&mut copy, &y.buf);
            outs.push((l.name(), y.shape, copy));
        });
        let mut res = Vec::with_capacity(outs.len());
        for (layer, s, buf) in outs {
            let values = self.be.read(&buf).await;
            res.push(LayerOutput {
                layer,
                dims: (s.c, s.h, s.w),
                values,
            });
        }
        res
    }

    /// The first convolution's weights `[out_c, in_c, k, k]` with that shape; None without one.
    pub async fn first_filters(&mut self) -> Option<(Vec<usize>, Vec<f32>)> {
        let mut found: Option<(Vec<usize>, B::Buf)> = None;
        let be = &self.be;
        self.model.visit_params(&mut |p| {
            if found.is_none() && p.shape.len() == 4 {
                let mut copy = be.zeros(p.len());
                be.add_assign(&mut copy, &p.value);
                found = Some((p.shape.clone(), copy));
            }
        });
        let (shape, buf) = found?;
        Some((shape, self.be.read(&buf).await))
    }

    /// L2 norm of the last step's gradients of each top-level layer that has parameters,
    /// named "index:layer".
    pub async fn grad_norms(&mut self) -> Vec<(String, f32)> {
        let mut parts: Vec<(usize, B::Buf)> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let be = &self.be;
        self.model.visit_layers(&mut |l| {
            let i = names.len();
            names.push(format!("{i}:{}", l.name()));
            l.visit_params(&mut |p| {
                let mut s = be.zeros(1);
                be.sum_squares(&p.grad, &mut s);
                parts.push((i, s));
            });
        });
        let mut sums = vec![None; names.len()];
        for (i, buf) in &parts {
            let v = self.be.read(buf).await[0] as f64;
            *sums[*i].get_or_insert(0.0) += v;
        }
        names
            .into_iter()
            .zip(sums)
            .filter_map(|(name, s)| s.map(|s| (name, s.sqrt() as f32)))
            .collect()
    }
}
