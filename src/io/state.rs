//! A model's parameters as named tensors, and back: the layer of the lab's model files.
//!
//! Names follow PyTorch's `state_dict` of the matching `nn.Sequential`, so a notebook can load a
//! lab model with `model.load_state_dict(safetensors.torch.load_file(path))` and vice versa:
//! - top-level layer `i` of a classifier's layer list: `"{i}.weight"`, `"{i}.bias"`; an
//!   autoencoder's: `"encoder.{i}.…"` and `"decoder.{i}.…"`; a VAE's: `"encoder.{i}.…"`, `"mu.…"`,
//!   `"logvar.…"`, `"decoder.{i}.…"`. Indices count every layer (ReLU, pooling and flatten too),
//!   exactly like `nn.Sequential`, so they only appear on layers with weights.
//! - layouts (row-major, f32): conv weight `[out, in, kh, kw]`, conv bias `[out]`; transposed conv
//!   weight `[in, out, kh, kw]` (PyTorch's ConvTranspose2d); dense weight `[out, in]`, bias `[out]`
//!   (a dense layer after a flatten reads the input in C, H, W order, like `nn.Flatten`); batch
//!   norm `weight` (gamma), `bias` (beta), `running_mean`, `running_var`, each `[channels]`.
//! - a layer holding several weighted layers (the ResNet block) numbers them in order:
//!   `"{i}.{j}.weight"` with j over conv1, bn1, conv2, bn2 and, when the shortcut projects, its
//!   conv and bn.
//! - convolutions without a bias (followed by batch norm) have no `bias` tensor.
//!
//! Import is all or nothing: the whole file is checked (names, dtypes, shapes against the current
//! architecture, finite values) before the first value is written, so a rejected file leaves the
//! model exactly as it was. PyTorch's `num_batches_tracked` counters are accepted and ignored.

use super::safetensors::{self, F32Tensor, SafetensorsError};
use crate::backend::Backend;
use crate::nn::layer::{Layer, Param};
use crate::nn::models::Model;
use std::fmt;

/// One exported tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// What the walker hands out for each tensor: a trainable parameter (whose optimizer state an
/// import resets) or a buffer (batch-norm running statistics).
enum Slot<'a, B: Backend> {
    Param(&'a mut Param<B>),
    Buffer(&'a mut B::Buf),
}

/// The walker's callback: `(name, shape, slot)` for each tensor.
type Visit<'v, B> = dyn FnMut(String, Vec<usize>, Slot<'_, B>) + 'v;

fn torch_name(ours: &str) -> &str {
    match ours {
        "w" | "gamma" => "weight",
        "b" | "beta" => "bias",
        other => other,
    }
}

/// Calls `f(name, shape, slot)` for every tensor of one top-level layer, in a fixed order.
fn walk_layer<B: Backend>(be: &B, prefix: &str, layer: &mut dyn Layer<B>, f: &mut Visit<B>) {
    // A weighted sub-layer starts at each weight / gamma; more than one means a composite layer.
    let mut starts = 0;
    layer.visit_params(&mut |p| starts += usize::from(matches!(p.name, "w" | "gamma")));
    let composite = starts > 1;
    let mut sub = 0usize;
    let mut bn_subs = Vec::new();
    layer.visit_params(&mut |p| {
        if matches!(p.name, "w" | "gamma") {
            sub += 1;
            if p.name == "gamma" {
                bn_subs.push(sub - 1);
            }
        }
        let scope = if composite {
            format!("{prefix}{}.", sub - 1)
        } else {
            prefix.to_string()
        };
        let name = format!("{scope}{}", torch_name(p.name));
        f(name, p.shape.clone(), Slot::Param(p));
    });
    // Buffers come in (running_mean, running_var) pairs, one pair per batch norm, in order.
    let mut seen = 0usize;
    layer.visit_buffers(&mut |bname, buf| {
        let scope = match bn_subs.get(seen / 2) {
            Some(j) if composite => format!("{prefix}{j}."),
            _ => prefix.to_string(),
        };
        seen += 1;
        let len = be.len(buf);
        f(format!("{scope}{bname}"), vec![len], Slot::Buffer(buf));
    });
}

/// Calls `f` for every tensor of the model, named as documented at the top of this file.
fn walk<B: Backend>(be: &B, model: &mut Model<B>, f: &mut Visit<B>) {
    let seq = |scope: &str, s: &mut crate::nn::Sequential<B>, f: &mut Visit<B>| {
        for (i, l) in s.layers.iter_mut().enumerate() {
            walk_layer(be, &format!("{scope}{i}."), l.as_mut(), f);
        }
    };
    match model {
        Model::Classifier(m) => seq("", &mut m.net, f),
        Model::Autoencoder(m) => {
            seq("encoder.", &mut m.encoder, f);
            seq("decoder.", &mut m.decoder, f);
        }
        Model::Vae(m) => {
            seq("encoder.", &mut m.encoder, f);
            walk_layer(be, "mu.", &mut m.mu, f);
            walk_layer(be, "logvar.", &mut m.logvar, f);
            seq("decoder.", &mut m.decoder, f);
        }
    }
}

/// Names and shapes the current architecture expects, in export order.
pub fn expected<B: Backend>(be: &B, model: &mut Model<B>) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    walk(be, model, &mut |name, shape, _| out.push((name, shape)));
    out
}

/// Every tensor of the model with its values (read back from the device).
pub async fn export_tensors<B: Backend>(be: &B, model: &mut Model<B>) -> Vec<NamedTensor> {
    // Reading is async and the walker lends each buffer only inside its callback, so each tensor
    // is first copied on the device (x + 0) into a buffer we own, then all are read back.
    let mut copies = Vec::new();
    walk(be, model, &mut |name, shape, slot| {
        let src = match slot {
            Slot::Param(p) => &p.value,
            Slot::Buffer(b) => &*b,
        };
        let len = be.len(src);
        let zero = be.zeros(len);
        let mut copy = be.zeros(len);
        be.add(src, &zero, &mut copy);
        copies.push((name, shape, copy));
    });
    let mut out = Vec::with_capacity(copies.len());
    for (name, shape, buf) in copies {
        let values = be.read(&buf).await;
        out.push(NamedTensor {
            name,
            shape,
            values,
        });
    }
    out
}

/// The model as a safetensors file; `metadata` goes into the header's `__metadata__`.
pub async fn export_safetensors<B: Backend>(
    be: &B,
    model: &mut Model<B>,
    metadata: &[(&str, &str)],
) -> Vec<u8> {
    let tensors = export_tensors(be, model).await;
    let views: Vec<F32Tensor> = tensors
        .iter()
        .map(|t| F32Tensor {
            name: &t.name,
            shape: &t.shape,
            values: &t.values,
        })
        .collect();
    safetensors::write(&views, metadata)
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportError {
    File(SafetensorsError),
    Missing {
        name: String,
    },
    Unexpected {
        name: String,
    },
    WrongDtype {
        name: String,
        dtype: &'static str,
    },
    Shape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    NotFinite {
        name: String,
        index: usize,
        value: f32,
    },
    NegativeVariance {
        name: String,
        index: usize,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use ImportError::*;
        match self {
            File(e) => e.fmt(f),
            Missing { name } => write!(
                f,
                "the file has no tensor \"{name}\": it was saved from a different architecture"
            ),
            Unexpected { name } => write!(
                f,
                "the file has a tensor \"{name}\" that the current architecture does not have"
            ),
            WrongDtype { name, dtype } => write!(
                f,
                "tensor \"{name}\" is {dtype}; the lab reads float32 (F32) weights only"
            ),
            Shape { name, expected, found } => write!(
                f,
                "tensor \"{name}\" has shape {found:?} but the current architecture needs {expected:?}"
            ),
            NotFinite { name, index, value } => {
                write!(f, "tensor \"{name}\" holds {value} at index {index}: weights must be finite")
            }
            NegativeVariance { name, index } => {
                write!(f, "tensor \"{name}\" holds a negative variance at index {index}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

impl From<SafetensorsError> for ImportError {
    fn from(e: SafetensorsError) -> Self {
        ImportError::File(e)
    }
}

/// Checks `bytes` against the model's architecture and, only when everything fits, loads the
/// values and resets the optimizer state of every parameter. On error the model is untouched.
pub fn import_safetensors<B: Backend>(
    be: &B,
    model: &mut Model<B>,
    bytes: &[u8],
) -> Result<(), ImportError> {
    let file = safetensors::parse(bytes)?;
    let wanted = expected(be, model);
    let mut values = Vec::with_capacity(wanted.len());
    for (name, shape) in &wanted {
        let t = file
            .get(name)
            .ok_or_else(|| ImportError::Missing { name: name.clone() })?;
        if t.shape != *shape {
            return Err(ImportError::Shape {
                name: name.clone(),
                expected: shape.clone(),
                found: t.shape.clone(),
            });
        }
        let v = t.to_f32().ok_or_else(|| ImportError::WrongDtype {
            name: name.clone(),
            dtype: t.dtype.name(),
        })?;
        if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(ImportError::NotFinite {
                name: name.clone(),
                index,
                value,
            });
        }
        if name.ends_with("running_var") {
            if let Some(index) = v.iter().position(|&x| x < 0.0) {
                return Err(ImportError::NegativeVariance {
                    name: name.clone(),
                    index,
                });
            }
        }
        values.push(v);
    }
    for t in &file.tensors {
        let known = wanted.iter().any(|(n, _)| *n == t.name);
        if !known && !t.name.ends_with("num_batches_tracked") {
            return Err(ImportError::Unexpected {
                name: t.name.clone(),
            });
        }
    }
    let mut next = values.into_iter();
    walk(be, model, &mut |_, _, slot| {
        let v = next.next().expect("the same walk as `expected`");
        match slot {
            Slot::Param(p) => {
                be.write(&mut p.value, &v);
                p.state.clear();
            }
            Slot::Buffer(b) => be.write(b, &v),
        }
    });
    Ok(())
}
