//! Data: the bundled MNIST subset, the standard IDX loader, augmentations.
