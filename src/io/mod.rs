//! Files the lab exchanges with the outside world: trained models as safetensors (read by a course
//! notebook's PyTorch or numpy, and back). MNIST IDX files are read by [`crate::data::idx`].
//!
//! - [`json`]: the small strict JSON parser the safetensors header needs;
//! - [`safetensors`]: the file format, reader and writer, bounds-checked against hostile input;
//! - [`state`]: a model's parameters <-> named tensors (names and layouts documented there).

pub mod json;
pub mod safetensors;
pub mod state;
