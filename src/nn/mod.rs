//! Layers, containers, models and optimizers, written once against [`crate::backend::Backend`].
