//! Layers, containers, models and optimizers, written once against [`crate::backend::Backend`].
//!
//! How a training step flows (llm.c style, no autograd tape):
//! - every layer owns its output tensor and its input-gradient buffer, allocated on the first step
//!   of a given shape and reused afterwards;
//! - `forward` reads the input tensor (owned by the previous layer or the trainer) and overwrites the
//!   layer's output; `backward` gets the same input again plus the output gradient, overwrites the
//!   parameter gradients and, when asked, the input gradient;
//! - containers (`Sequential`, `ResidualBlock`) chain layers by handing each one its neighbours'
//!   buffers; models add a loss on top; the trainer owns the data, the optimizer and the clock.

pub mod activation;
pub mod batchnorm;
pub mod conv;
pub mod dense;
pub mod engine;
pub mod inference;
pub mod layer;
pub mod models;
pub mod optim;
pub mod pool;
pub mod reshape;
pub mod residual;
pub mod sequential;
pub mod spec;
pub mod train;

pub use inference::LayerOutput;
pub use layer::{Init, Layer, Param, Shape, Tensor};
pub use models::{Model, ModelKind};
pub use optim::{Optimizer, OptimizerConfig};
pub use sequential::Sequential;
pub use spec::LayerSpec;
pub use train::{Evaluation, Progress, RunState, TrainConfig, Trainer};
