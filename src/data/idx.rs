//! Loader for the standard MNIST IDX files that users bring themselves (train/t10k images and labels).
//!
//! IDX layout (all integers big-endian):
//! - bytes 0..4: the magic number `0x0000TTDD`: two zero bytes, the element type `TT` (0x08 =
//!   unsigned byte, the only one MNIST uses) and the number of dimensions `DD`;
//! - then `DD` u32 dimensions;
//! - then the elements, row-major, `product(dims)` bytes.
//!
//! Images files have magic 2051 (0x00000803: count, rows, cols), labels files 2049 (0x00000801:
//! count). Every size is checked against the byte length before anything is allocated, so a lying
//! header cannot ask for more memory than the file itself occupies; no input makes this panic.

use super::{DataError, Dataset, View, MAX_SIDE};

pub const IMAGES_MAGIC: u32 = 0x0000_0803;
pub const LABELS_MAGIC: u32 = 0x0000_0801;

const IMAGES: &str = "images file";
const LABELS: &str = "labels file";

/// "images" or "labels" for the two MNIST IDX magic numbers (to name a file given in the wrong slot).
pub(crate) fn kind_of_magic(magic: u32) -> Option<&'static str> {
    match magic {
        IMAGES_MAGIC => Some("images"),
        LABELS_MAGIC => Some("labels"),
        _ => None,
    }
}

/// Reads and checks the magic number of an IDX file with `D` dimensions; returns the dimensions.
fn header<const D: usize>(
    bytes: &[u8],
    file: &'static str,
    magic: u32,
) -> Result<[usize; D], DataError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(DataError::Gzipped { file });
    }
    let too_short = DataError::TooShort {
        file,
        len: bytes.len(),
        need: 4 + 4 * D,
    };
    let word = |i: usize| {
        let b = bytes.get(4 * i..4 * i + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let found = word(0).ok_or(too_short.clone())?;
    if found != magic {
        return Err(DataError::BadMagic {
            file,
            expected: magic,
            found,
        });
    }
    let mut dims = [0usize; D];
    for (i, d) in dims.iter_mut().enumerate() {
        *d = word(1 + i).ok_or(too_short.clone())? as usize;
    }
    Ok(dims)
}

/// The element bytes after a `D`-dimension header, once the file's length matches the dimensions.
fn body<'a, const D: usize>(
    bytes: &'a [u8],
    file: &'static str,
    dims: [usize; D],
) -> Result<&'a [u8], DataError> {
    let header = 4 + 4 * D;
    // Three u32 factors fit in a u128: no overflow, however absurd the header.
    let declared = header as u128 + dims.iter().map(|&d| d as u128).product::<u128>();
    if declared != bytes.len() as u128 {
        return Err(DataError::SizeMismatch {
            file,
            declared,
            actual: bytes.len(),
        });
    }
    Ok(&bytes[header..])
}

/// Validates an images file: returns (count, rows, cols) and the pixel bytes.
pub fn parse_images(bytes: &[u8]) -> Result<(usize, usize, usize, &[u8]), DataError> {
    let dims = header::<3>(bytes, IMAGES, IMAGES_MAGIC)?;
    let [n, rows, cols] = dims;
    check_dims(IMAGES, n, rows, cols)?;
    Ok((n, rows, cols, body(bytes, IMAGES, dims)?))
}

/// Validates a labels file: returns the labels, each checked to be a digit 0..=9.
pub fn parse_labels(bytes: &[u8]) -> Result<&[u8], DataError> {
    let dims = header::<1>(bytes, LABELS, LABELS_MAGIC)?;
    if dims[0] == 0 {
        return Err(DataError::ZeroDim {
            file: LABELS,
            dim: "labels",
        });
    }
    let labels = body(bytes, LABELS, dims)?;
    check_labels(LABELS, labels)?;
    Ok(labels)
}

/// Loads a matching pair of IDX files (e.g. train-images-idx3-ubyte and train-labels-idx1-ubyte).
pub fn load(images: &[u8], labels: &[u8]) -> Result<Dataset, DataError> {
    let v = view(images, labels)?;
    Ok(Dataset::from_bytes(v.pixels, v.labels, v.rows, v.cols))
}

/// Checks a matching pair of IDX files and views their samples in place, without a copy.
pub fn view<'a>(images: &'a [u8], labels: &'a [u8]) -> Result<View<'a>, DataError> {
    let (n, rows, cols, pixels) = parse_images(images)?;
    let labels = parse_labels(labels)?;
    if labels.len() != n {
        return Err(DataError::CountMismatch {
            images: n,
            labels: labels.len(),
        });
    }
    Ok(View {
        pixels,
        labels,
        rows,
        cols,
    })
}

pub(crate) fn check_dims(
    file: &'static str,
    n: usize,
    rows: usize,
    cols: usize,
) -> Result<(), DataError> {
    for (v, dim) in [(n, "images"), (rows, "rows"), (cols, "columns")] {
        if v == 0 {
            return Err(DataError::ZeroDim { file, dim });
        }
    }
    if rows > MAX_SIDE || cols > MAX_SIDE {
        return Err(DataError::DimsTooLarge { file, rows, cols });
    }
    Ok(())
}

pub(crate) fn check_labels(file: &'static str, labels: &[u8]) -> Result<(), DataError> {
    match labels.iter().position(|&l| l > 9) {
        Some(index) => Err(DataError::LabelOutOfRange {
            file,
            index,
            label: labels[index],
        }),
        None => Ok(()),
    }
}
