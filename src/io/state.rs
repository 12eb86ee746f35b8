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
//!
//! A *checkpoint* (the page's per-epoch save, [`export_checkpoint`]) is a model file plus what a
//! run needs to continue exactly: each parameter's optimizer state as
//! `"__optim__.{name}.{exp_avg|exp_avg_sq|momentum_buffer}"` (PyTorch's names for Adam's moments and
//! SGD's momentum) and the run's position in `__metadata__` under `"cnn_lab.*"` keys. The model
//! import ignores the `__optim__.` tensors; the model file a notebook gets (`export_safetensors`)
//! has none of them.

use super::safetensors::{self, F32Tensor, SafetensorsError, TensorView};
use crate::backend::Backend;
use crate::nn::layer::{Layer, Param};
use crate::nn::models::Model;
use crate::nn::train::PositionParts;
use std::fmt;

/// The name prefix of a checkpoint's optimizer tensors.
pub const OPTIM_PREFIX: &str = "__optim__.";

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
    /// A checkpoint's run state (optimizer tensors or position) does not fit.
    Checkpoint(String),
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
            Checkpoint(why) => write!(f, "the checkpoint's training state is unusable: {why}"),
        }
    }
}

impl std::error::Error for ImportError {}

impl From<SafetensorsError> for ImportError {
    fn from(e: SafetensorsError) -> Self {
        ImportError::File(e)
    }
}

/// The values of a tensor of the file, when it has `shape`, is F32 and holds no NaN or infinity.
fn finite_values(t: &TensorView, shape: &[usize]) -> Result<Vec<f32>, ImportError> {
    let name = || t.name.clone();
    if t.shape != shape {
        return Err(ImportError::Shape {
            name: name(),
            expected: shape.to_vec(),
            found: t.shape.clone(),
        });
    }
    let v = t.to_f32().ok_or_else(|| ImportError::WrongDtype {
        name: name(),
        dtype: t.dtype.name(),
    })?;
    if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(ImportError::NotFinite {
            name: name(),
            index,
            value,
        });
    }
    Ok(v)
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
        let v = finite_values(t, shape)?;
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
        let extra = t.name.ends_with("num_batches_tracked") || t.name.starts_with(OPTIM_PREFIX);
        if !known && !extra {
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

/// What a checkpoint holds besides the weights: the run it continues.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCheckpoint {
    /// "adam" or "sgd".
    pub optimizer: &'static str,
    /// The model's seed, which also fixes the order of the training digits in each epoch.
    pub seed: u64,
    pub batch: usize,
    /// The number of training digits of the run (the data order depends on it).
    pub train_len: usize,
    pub position: PositionParts,
}

/// The names of one parameter's optimizer state buffers, in `Param::state` order.
fn state_names(optimizer: &str) -> &'static [&'static str] {
    match optimizer {
        "adam" => &["exp_avg", "exp_avg_sq"],
        _ => &["momentum_buffer"],
    }
}

/// The tensors of the model and each parameter's optimizer state (parameters that have taken no
/// step yet have none), with `run` in the metadata.
pub async fn export_checkpoint<B: Backend>(
    be: &B,
    model: &mut Model<B>,
    run: &RunCheckpoint,
) -> Vec<u8> {
    let mut tensors = export_tensors(be, model).await;
    let names = state_names(run.optimizer);
    let mut copies = Vec::new();
    walk(be, model, &mut |name, shape, slot| {
        let Slot::Param(p) = slot else { return };
        assert!(
            p.state.is_empty() || p.state.len() == names.len(),
            "{name}: optimizer state of another optimizer"
        );
        for (s, buf) in names.iter().zip(&p.state) {
            let (zero, mut copy) = (be.zeros(be.len(buf)), be.zeros(be.len(buf)));
            be.add(buf, &zero, &mut copy);
            copies.push((format!("{OPTIM_PREFIX}{name}.{s}"), shape.clone(), copy));
        }
    });
    for (name, shape, buf) in copies {
        let values = be.read(&buf).await;
        tensors.push(NamedTensor {
            name,
            shape,
            values,
        });
    }
    let views: Vec<F32Tensor> = tensors
        .iter()
        .map(|t| F32Tensor {
            name: &t.name,
            shape: &t.shape,
            values: &t.values,
        })
        .collect();
    let p = &run.position;
    let words = |r: [u32; 4]| r.map(|w| w.to_string()).join(" ");
    let fields = [
        ("cnn_lab.checkpoint", "1".to_string()),
        ("cnn_lab.optimizer", run.optimizer.to_string()),
        ("cnn_lab.seed", run.seed.to_string()),
        ("cnn_lab.batch", run.batch.to_string()),
        ("cnn_lab.train_len", run.train_len.to_string()),
        ("cnn_lab.step", p.step.to_string()),
        ("cnn_lab.epoch", p.epoch.to_string()),
        ("cnn_lab.cursor", p.cursor.to_string()),
        ("cnn_lab.opt_t", p.opt_t.to_string()),
        ("cnn_lab.aug_rng", words(p.aug_rng)),
        ("cnn_lab.eps_rng", words(p.eps_rng)),
    ];
    let mut metadata = vec![("format", "pt")];
    metadata.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    safetensors::write(&views, &metadata)
}

/// The run a checkpoint continues; None for a plain model file.
pub fn read_checkpoint(bytes: &[u8]) -> Result<Option<RunCheckpoint>, ImportError> {
    let file = safetensors::parse(bytes)?;
    let meta = |key: &str| {
        let v = file.metadata.iter().find(|(k, _)| k == key).map(|kv| &kv.1);
        v.ok_or_else(|| ImportError::Checkpoint(format!("no {key}")))
    };
    if meta("cnn_lab.checkpoint").is_err() {
        return Ok(None);
    }
    fn number<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ImportError> {
        v.parse()
            .map_err(|_| ImportError::Checkpoint(format!("{key} is {v:?}")))
    }
    let n = |key: &str| meta(key).and_then(|v| number::<u64>(key, v));
    let rng = |key: &str| -> Result<[u32; 4], ImportError> {
        let v = meta(key)?;
        let words: Vec<u32> = v
            .split(' ')
            .map(|w| number(key, w))
            .collect::<Result<_, _>>()?;
        let words: [u32; 4] = words
            .try_into()
            .map_err(|_| ImportError::Checkpoint(format!("{key} is {v:?}")))?;
        if words == [0; 4] {
            return Err(ImportError::Checkpoint(format!("{key} is all zero")));
        }
        Ok(words)
    };
    let optimizer = match meta("cnn_lab.optimizer")?.as_str() {
        "adam" => "adam",
        "sgd" => "sgd",
        other => return Err(ImportError::Checkpoint(format!("optimizer {other:?}"))),
    };
    let size = |key: &str| n(key).map(|v| v as usize);
    Ok(Some(RunCheckpoint {
        optimizer,
        seed: n("cnn_lab.seed")?,
        batch: size("cnn_lab.batch")?,
        train_len: size("cnn_lab.train_len")?,
        position: PositionParts {
            step: n("cnn_lab.step")?,
            epoch: size("cnn_lab.epoch")?,
            cursor: size("cnn_lab.cursor")?,
            opt_t: meta("cnn_lab.opt_t").and_then(|v| number("cnn_lab.opt_t", v))?,
            aug_rng: rng("cnn_lab.aug_rng")?,
            eps_rng: rng("cnn_lab.eps_rng")?,
        },
    }))
}

/// Loads a checkpoint: the weights (as `import_safetensors`) and each parameter's optimizer state.
/// Everything is checked first; on error the model is untouched. Returns the run it continues
/// (None for a plain model file, whose import leaves the optimizer state empty).
pub fn import_checkpoint<B: Backend>(
    be: &B,
    model: &mut Model<B>,
    bytes: &[u8],
) -> Result<Option<RunCheckpoint>, ImportError> {
    let Some(run) = read_checkpoint(bytes)? else {
        import_safetensors(be, model, bytes)?;
        return Ok(None);
    };
    let file = safetensors::parse(bytes)?;
    let names = state_names(run.optimizer);
    let mut params = Vec::new();
    walk(be, model, &mut |name, shape, slot| {
        if let Slot::Param(_) = slot {
            params.push((name, shape));
        }
    });
    let mut states = Vec::with_capacity(params.len());
    let mut used = Vec::new();
    for (name, shape) in &params {
        let mut state = Vec::new();
        for s in names {
            let full = format!("{OPTIM_PREFIX}{name}.{s}");
            let Some(t) = file.get(&full) else { continue };
            state.push(finite_values(t, shape)?);
            used.push(full);
        }
        if !state.is_empty() && state.len() != names.len() {
            let why = format!(
                "{name} has {} of its {} state tensors",
                state.len(),
                names.len()
            );
            return Err(ImportError::Checkpoint(why));
        }
        states.push(state);
    }
    let optim = file
        .tensors
        .iter()
        .filter(|t| t.name.starts_with(OPTIM_PREFIX));
    if optim.clone().count() != used.len() {
        let t = optim
            .clone()
            .find(|t| !used.contains(&t.name))
            .expect("one");
        return Err(ImportError::Unexpected {
            name: t.name.clone(),
        });
    }
    import_safetensors(be, model, bytes)?;
    let mut next = states.into_iter();
    walk(be, model, &mut |_, _, slot| {
        if let Slot::Param(p) = slot {
            let state = next.next().expect("the same walk as above");
            p.state = state.iter().map(|v| be.upload(v)).collect();
        }
    });
    Ok(Some(run))
}
