//! Data: the bundled MNIST subset, the standard IDX loader, augmentations.
//!
//! Images are stored as the files hold them: one image after the other, each row-major `rows x cols`
//! bytes (0 = background, 255 = ink), a quarter of the memory f32 would take (60,000 MNIST digits:
//! 47 MB instead of 188). Batches convert them to the models' f32 in [0, 1] ([`unit`]) into the
//! caller's buffers, one image after the other (a single channel, so a batch is already NCHW with
//! C = 1, as in `crate::ops`). Labels are digits 0..=9; batches hand them out as f32, as the loss
//! ops take them.

pub mod augment;
pub mod idx;
pub mod mnist;

use crate::rng::Rng;
use core::fmt;
use core::ops::Range;

/// Largest image side either loader accepts. MNIST is 28; anything beyond this is a lying header.
pub const MAX_SIDE: usize = 1024;

/// A stored pixel as the models see it: 0..=255 mapped to [0, 1].
#[inline]
pub fn unit(byte: u8) -> f32 {
    byte as f32 / 255.0
}

/// Labelled single-channel images, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len() * rows * cols` bytes; [`unit`] maps each to the model's [0, 1].
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    pub rows: usize,
    pub cols: usize,
}

/// A borrowed run of consecutive samples of a [`Dataset`] (a split, or the whole set).
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    pub pixels: &'a [u8],
    pub labels: &'a [u8],
    pub rows: usize,
    pub cols: usize,
}

impl Dataset {
    /// Builds a dataset from pixel bytes. The caller has checked the sizes.
    pub(crate) fn from_bytes(pixels: &[u8], labels: &[u8], rows: usize, cols: usize) -> Self {
        Dataset {
            pixels: pixels.to_vec(),
            labels: labels.to_vec(),
            rows,
            cols,
        }
    }

    /// The samples of `parts`, one after the other, in one allocation. All have the same image size.
    pub fn concat(parts: &[View<'_>]) -> Self {
        let (rows, cols) = (parts[0].rows, parts[0].cols);
        assert!(
            parts.iter().all(|p| (p.rows, p.cols) == (rows, cols)),
            "image sizes differ"
        );
        let mut pixels = Vec::with_capacity(parts.iter().map(|p| p.pixels.len()).sum());
        let mut labels = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            pixels.extend_from_slice(p.pixels);
            labels.extend_from_slice(p.labels);
        }
        Dataset {
            pixels,
            labels,
            rows,
            cols,
        }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn all(&self) -> View<'_> {
        self.slice(0..self.len())
    }

    /// Samples `range` (panics if it is out of bounds, like slicing).
    pub fn slice(&self, range: Range<usize>) -> View<'_> {
        let px = self.rows * self.cols;
        View {
            pixels: &self.pixels[range.start * px..range.end * px],
            labels: &self.labels[range],
            rows: self.rows,
            cols: self.cols,
        }
    }
}

impl<'a> View<'a> {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The stored bytes of image `i`.
    pub fn bytes(&self, i: usize) -> &'a [u8] {
        let px = self.pixels();
        &self.pixels[i * px..(i + 1) * px]
    }

    /// A copy of image `i` in [0, 1] (allocates: for single images, not for batches).
    pub fn image(&self, i: usize) -> Vec<f32> {
        self.bytes(i).iter().map(|&b| unit(b)).collect()
    }

    /// A copy of all images in [0, 1], one after the other (allocates).
    pub fn images(&self) -> Vec<f32> {
        self.pixels.iter().map(|&b| unit(b)).collect()
    }

    /// The first `n` samples.
    pub fn first(&self, n: usize) -> View<'a> {
        View {
            pixels: &self.pixels[..n * self.pixels()],
            labels: &self.labels[..n],
            ..*self
        }
    }

    /// Copies the samples `idx` (indices into this view) into caller-owned buffers:
    /// `images` must hold `idx.len() * pixels()` values, `labels` exactly `idx.len()`.
    pub fn fill_batch(&self, idx: &[usize], images: &mut [f32], labels: &mut [f32]) {
        let px = self.pixels();
        assert_eq!(images.len(), idx.len() * px, "image buffer size");
        assert_eq!(labels.len(), idx.len(), "label buffer size");
        for ((&i, dst), label) in idx.iter().zip(images.chunks_exact_mut(px)).zip(labels) {
            for (d, &b) in dst.iter_mut().zip(self.bytes(i)) {
                *d = unit(b);
            }
            *label = self.labels[i] as f32;
        }
    }

    /// As [`View::fill_batch`], each image passed through `aug` with `rng`.
    pub fn fill_batch_augmented(
        &self,
        idx: &[usize],
        aug: &augment::Augment,
        rng: &mut Rng,
        images: &mut [f32],
        labels: &mut [f32],
    ) {
        let px = self.pixels();
        assert_eq!(images.len(), idx.len() * px, "image buffer size");
        assert_eq!(labels.len(), idx.len(), "label buffer size");
        for ((&i, dst), label) in idx.iter().zip(images.chunks_exact_mut(px)).zip(labels) {
            aug.apply(self.bytes(i), dst, self.rows, self.cols, rng);
            *label = self.labels[i] as f32;
        }
    }
}

/// Sets `order` to the sample order of epoch `epoch`: a permutation of `0..n` that depends only on
/// `(seed, epoch)`, so a run resumed from an epoch checkpoint sees the same batches as an unbroken
/// one. Batches are then `order.chunks(batch_size)`.
pub fn epoch_order(order: &mut Vec<usize>, n: usize, seed: u64, epoch: u64) {
    order.clear();
    order.extend(0..n);
    Rng::new(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(order);
}

/// Why a data file was rejected. `file` names which one ("images file", "labels file", ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataError {
    /// The file starts with the gzip signature: it was downloaded but not decompressed.
    Gzipped {
        file: &'static str,
    },
    /// Shorter than its fixed-size header.
    TooShort {
        file: &'static str,
        len: usize,
        need: usize,
    },
    BadMagic {
        file: &'static str,
        expected: u32,
        found: u32,
    },
    UnsupportedVersion {
        file: &'static str,
        version: u32,
    },
    /// A dimension (count, rows or cols) is zero.
    ZeroDim {
        file: &'static str,
        dim: &'static str,
    },
    /// Rows or cols beyond [`MAX_SIDE`].
    DimsTooLarge {
        file: &'static str,
        rows: usize,
        cols: usize,
    },
    /// The header's dimensions imply `declared` bytes in all, the file has `actual`.
    SizeMismatch {
        file: &'static str,
        declared: u128,
        actual: usize,
    },
    CountMismatch {
        images: usize,
        labels: usize,
    },
    LabelOutOfRange {
        file: &'static str,
        index: usize,
        label: u8,
    },
    /// The bundled file's train split is larger than the whole set.
    BadSplit {
        train: usize,
        count: usize,
    },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DataError::*;
        match *self {
            Gzipped { file } => write!(
                f,
                "the {file} is gzip-compressed (.gz): decompress it first, then load the result"
            ),
            TooShort { file, len, need } => write!(
                f,
                "the {file} is too short: {len} bytes, but its header alone takes {need}"
            ),
            BadMagic {
                file,
                expected,
                found,
            } => match idx::kind_of_magic(found) {
                Some(kind) => write!(
                    f,
                    "wrong file: this is an IDX {kind} file (magic number {found}), \
                     but the {file} (magic number {expected}) was expected here"
                ),
                None => write!(
                    f,
                    "the {file} is not in the expected format: its magic number is \
                     {found:#010x}, expected {expected:#010x}"
                ),
            },
            UnsupportedVersion { file, version } => write!(
                f,
                "the {file} has format version {version}, which this version of the lab cannot read"
            ),
            ZeroDim { file, dim } => write!(f, "the {file} declares zero {dim}"),
            DimsTooLarge { file, rows, cols } => write!(
                f,
                "the {file} declares {rows}x{cols} images; at most {MAX_SIDE}x{MAX_SIDE} is accepted"
            ),
            SizeMismatch {
                file,
                declared,
                actual,
            } if declared > actual as u128 => write!(
                f,
                "the {file} is truncated or its header is wrong: the header declares \
                 {declared} bytes, the file has only {actual}"
            ),
            SizeMismatch {
                file,
                declared,
                actual,
            } => write!(
                f,
                "the {file} has {actual} bytes, more than the {declared} its header declares \
                 (extra data at the end)"
            ),
            CountMismatch { images, labels } => write!(
                f,
                "the images file holds {images} images but the labels file {labels} labels: \
                 they do not belong together"
            ),
            LabelOutOfRange { file, index, label } => write!(
                f,
                "the {file} has label {label} at position {index}; only digits 0-9 are supported"
            ),
            BadSplit { train, count } => write!(
                f,
                "the bundled MNIST file declares {train} training images out of {count}"
            ),
        }
    }
}

impl std::error::Error for DataError {}
