//! The pieces every layer shares: shapes, device tensors, parameters, initialisation, the trait.

use crate::backend::Backend;
use crate::rng::Rng;

/// A batch shape, NCHW. Dense activations are `[n, features, 1, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

impl Shape {
    pub fn new(n: usize, c: usize, h: usize, w: usize) -> Self {
        Shape { n, c, h, w }
    }
    /// `[n, features, 1, 1]`.
    pub fn flat(n: usize, features: usize) -> Self {
        Shape::new(n, features, 1, 1)
    }
    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.c * self.h * self.w
    }
    pub fn len(&self) -> usize {
        self.n * self.sample_len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn with_n(self, n: usize) -> Self {
        Shape { n, ..self }
    }
}

/// A device buffer with its shape.
pub struct Tensor<B: Backend> {
    pub buf: B::Buf,
    pub shape: Shape,
}

impl<B: Backend> Tensor<B> {
    pub fn empty(be: &B) -> Self {
        Tensor {
            buf: be.zeros(0),
            shape: Shape::default(),
        }
    }
    pub fn zeros(be: &B, shape: Shape) -> Self {
        Tensor {
            buf: be.zeros(shape.len()),
            shape,
        }
    }
    /// Gives the tensor `shape`, reallocating only when the length changes.
    pub fn ensure(&mut self, be: &B, shape: Shape) {
        if self.shape != shape {
            ensure_len(be, &mut self.buf, shape.len());
            self.shape = shape;
        }
    }
}

/// Reallocates `buf` (zeroed) when its length is not `len`; a warm step finds it sized already.
pub fn ensure_len<B: Backend>(be: &B, buf: &mut B::Buf, len: usize) {
    if be.len(buf) != len {
        *buf = be.zeros(len);
    }
}

/// A trainable tensor: its value, the gradient the last backward wrote, and the optimizer's state
/// (velocity for SGD, the two moments for Adam), created by the optimizer on its first step.
pub struct Param<B: Backend> {
    pub name: &'static str,
    pub shape: Vec<usize>,
    pub value: B::Buf,
    pub grad: B::Buf,
    pub state: Vec<B::Buf>,
}

impl<B: Backend> Param<B> {
    pub fn new(be: &B, name: &'static str, shape: &[usize], value: &[f32]) -> Self {
        assert_eq!(shape.iter().product::<usize>(), value.len(), "{name}");
        Param {
            name,
            shape: shape.to_vec(),
            value: be.upload(value),
            grad: be.zeros(value.len()),
            state: Vec::new(),
        }
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Weight initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// He (Kaiming) normal, std = sqrt(2 / fan_in): for layers followed by ReLU.
    He,
    /// Xavier (Glorot) uniform, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): sigmoid, tanh, linear.
    Xavier,
}

impl Init {
    pub fn sample(self, rng: &mut Rng, len: usize, fan_in: usize, fan_out: usize) -> Vec<f32> {
        match self {
            Init::He => {
                let std = (2.0 / fan_in as f32).sqrt();
                (0..len).map(|_| std * rng.normal()).collect()
            }
            Init::Xavier => {
                let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                (0..len).map(|_| a * (2.0 * rng.uniform() - 1.0)).collect()
            }
        }
    }
}

/// One layer of a network. The container calls `forward` then, in training, `backward` with the
/// *same* input tensor (still alive: it belongs to the previous layer or to the trainer).
pub trait Layer<B: Backend> {
    /// Short description shown in the UI ("conv3x3x8", "relu", "res16/2").
    fn name(&self) -> String;
    fn out_shape(&self, input: Shape) -> Shape;
    /// Overwrites `output()`; `train` selects batch statistics in batch norm.
    fn forward(&mut self, be: &B, x: &Tensor<B>, train: bool);
    fn output(&self) -> &Tensor<B>;
    /// `dy` has the output's shape. Overwrites the parameter gradients and, when `need_dx`, the
    /// buffer `input_grad()` returns.
    fn backward(&mut self, be: &B, x: &Tensor<B>, dy: &B::Buf, need_dx: bool);
    fn input_grad(&self) -> &B::Buf;
    /// Visits every trainable parameter (in a fixed order: the optimizer state follows it).
    fn visit_params(&mut self, _f: &mut dyn FnMut(&mut Param<B>)) {}
    /// Visits non-trainable state that must travel with the weights (batch-norm running statistics).
    fn visit_buffers(&mut self, _f: &mut dyn FnMut(&'static str, &mut B::Buf)) {}
}
