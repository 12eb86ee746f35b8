//! CNN Lab engine: tensors, layers, optimizers and models for training small CNNs and autoencoders,
//! on the CPU (scalar reference + wasm SIMD fast paths) and, with the `webgpu` feature, on wgpu.
//!
//! Layout of the crate, read top-down:
//! - [`ops`]: every op as a plain scalar reference (the oracle, kept forever) with forward and backward
//!   side by side, plus the fast CPU paths that are tested against it.
//! - [`backend`]: the one `Backend` trait, its CPU implementation, and (feature `webgpu`) the wgpu one.
//! - [`nn`]: layers, containers, models and optimizers, written once against `Backend`.
//! - [`data`]: the bundled MNIST subset, the IDX loader, augmentations.
//! - `web` (wasm32 only): the wasm-bindgen surface the Web Worker talks to.

pub mod backend;
#[cfg(target_arch = "wasm32")]
pub mod bench;
pub mod data;
pub mod io;
pub mod nn;
pub mod ops;
pub mod rng;
#[cfg(target_arch = "wasm32")]
pub mod web;
