//! Reader and writer for the safetensors format (the file PyTorch, JAX and numpy users exchange).
//!
//! Layout of a file:
//! - bytes 0..8: `N`, the header length, u64 little-endian;
//! - bytes 8..8+N: a UTF-8 JSON object (may end in spaces): for each tensor
//!   `"name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}`, plus an
//!   optional `"__metadata__": {"key": "string", ...}`;
//! - the rest: the data buffer. Offsets are relative to its start; each tensor is row-major
//!   little-endian; tensors cover the buffer exactly, without gaps or overlaps.
//!
//! The reader only slices the input: no size read from the file is ever allocated, so a file that
//! declares huge sizes costs nothing; every bound is checked, and no input makes it panic.

use super::json::{self, Value};
use std::fmt;

/// Largest header accepted (the reference implementation uses 100 MB; our headers are a few KB).
pub const MAX_HEADER: u64 = 16 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    Bool,
    U8,
    I8,
    F8E5M2,
    F8E4M3,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
}

impl Dtype {
    const ALL: [(Dtype, &'static str, usize); 15] = [
        (Dtype::Bool, "BOOL", 1),
        (Dtype::U8, "U8", 1),
        (Dtype::I8, "I8", 1),
        (Dtype::F8E5M2, "F8_E5M2", 1),
        (Dtype::F8E4M3, "F8_E4M3", 1),
        (Dtype::I16, "I16", 2),
        (Dtype::U16, "U16", 2),
        (Dtype::F16, "F16", 2),
        (Dtype::BF16, "BF16", 2),
        (Dtype::I32, "I32", 4),
        (Dtype::U32, "U32", 4),
        (Dtype::F32, "F32", 4),
        (Dtype::F64, "F64", 8),
        (Dtype::I64, "I64", 8),
        (Dtype::U64, "U64", 8),
    ];
    pub fn parse(s: &str) -> Option<Dtype> {
        Self::ALL.iter().find(|e| e.1 == s).map(|e| e.0)
    }
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|e| e.0 == self).expect("listed").1
    }
    pub fn size(self) -> usize {
        Self::ALL.iter().find(|e| e.0 == self).expect("listed").2
    }
}

/// One tensor of a parsed file, borrowing its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorView<'a> {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: &'a [u8],
}

impl TensorView<'_> {
    /// The values of an F32 tensor.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        (self.dtype == Dtype::F32).then(|| {
            self.data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
    }
}

/// A parsed file: tensors in header order, and the `__metadata__` strings.
#[derive(Clone, Debug, PartialEq)]
pub struct SafeTensors<'a> {
    pub tensors: Vec<TensorView<'a>>,
    pub metadata: Vec<(String, String)>,
}

impl<'a> SafeTensors<'a> {
    pub fn get(&self, name: &str) -> Option<&TensorView<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SafetensorsError {
    /// Fewer than 8 bytes: not even the header length is there.
    TooShort {
        len: usize,
    },
    /// The declared header length is beyond any plausible header.
    HeaderTooLarge {
        declared: u64,
    },
    /// The declared header runs past the end of the file (truncated, or not a safetensors file).
    HeaderPastEnd {
        declared: u64,
        available: usize,
    },
    /// The header does not start with `{`: some other kind of file.
    NotSafetensors,
    BadUtf8,
    BadJson {
        at: usize,
        what: &'static str,
    },
    /// A tensor entry (or the metadata) is not of the required form.
    BadEntry {
        name: String,
        why: &'static str,
    },
    UnknownDtype {
        name: String,
        dtype: String,
    },
    /// The shape's element count (times the dtype size) overflows.
    HugeShape {
        name: String,
    },
    /// The byte range does not hold exactly `shape` elements of `dtype`.
    SizeMismatch {
        name: String,
        needs: u64,
        has: u64,
    },
    OutOfRange {
        name: String,
        end: u64,
        buffer: usize,
    },
    Overlap {
        first: String,
        second: String,
    },
    Gap {
        before: String,
        at: u64,
    },
    /// Bytes after the last tensor (or no tensor reaches the end of the buffer).
    TrailingBytes {
        used: u64,
        buffer: usize,
    },
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use SafetensorsError::*;
        match self {
            TooShort { len } => write!(
                f,
                "not a safetensors file: it has {len} bytes, fewer than the 8-byte header length"
            ),
            HeaderTooLarge { declared } => write!(
                f,
                "not a safetensors file: it declares a {declared}-byte header (at most {MAX_HEADER} accepted)"
            ),
            HeaderPastEnd { declared, available } => write!(
                f,
                "truncated safetensors file: the header needs {declared} bytes but only {available} follow"
            ),
            NotSafetensors => write!(f, "not a safetensors file: the header is not a JSON object"),
            BadUtf8 => write!(f, "corrupt safetensors header: it is not valid UTF-8"),
            BadJson { at, what } => {
                write!(f, "corrupt safetensors header: {what} at byte {at} of the header")
            }
            BadEntry { name, why } => write!(f, "corrupt safetensors header: \"{name}\" {why}"),
            UnknownDtype { name, dtype } => {
                write!(f, "tensor \"{name}\" has an unknown dtype \"{dtype}\"")
            }
            HugeShape { name } => write!(f, "tensor \"{name}\" declares an impossibly large shape"),
            SizeMismatch { name, needs, has } => write!(
                f,
                "tensor \"{name}\": its shape needs {needs} bytes but its data_offsets span {has}"
            ),
            OutOfRange { name, end, buffer } => write!(
                f,
                "tensor \"{name}\" ends at byte {end} but the data has only {buffer} bytes (truncated file?)"
            ),
            Overlap { first, second } => {
                write!(f, "tensors \"{first}\" and \"{second}\" overlap in the data")
            }
            Gap { before, at } => {
                write!(f, "unused bytes in the data at offset {at}, before tensor \"{before}\"")
            }
            TrailingBytes { used, buffer } => write!(
                f,
                "the tensors use {used} bytes of data but the file holds {buffer}"
            ),
        }
    }
}

impl std::error::Error for SafetensorsError {}

fn entry_err(name: &str, why: &'static str) -> SafetensorsError {
    SafetensorsError::BadEntry {
        name: name.to_string(),
        why,
    }
}

/// Parses and validates a whole file.
pub fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>, SafetensorsError> {
    use SafetensorsError::*;
    let Some(len_bytes) = bytes.first_chunk::<8>() else {
        return Err(TooShort { len: bytes.len() });
    };
    let declared = u64::from_le_bytes(*len_bytes);
    let available = bytes.len() - 8;
    if declared > MAX_HEADER {
        return Err(HeaderTooLarge { declared });
    }
    if declared > available as u64 {
        return Err(HeaderPastEnd {
            declared,
            available,
        });
    }
    let header = &bytes[8..8 + declared as usize];
    let data = &bytes[8 + declared as usize..];
    if header.first() != Some(&b'{') {
        return Err(NotSafetensors);
    }
    std::str::from_utf8(header).map_err(|_| BadUtf8)?;
    let root = json::parse(header).map_err(|e| BadJson {
        at: e.at,
        what: e.what,
    })?;
    let Value::Object(members) = root else {
        return Err(NotSafetensors);
    };

    let mut tensors = Vec::new();
    let mut metadata = Vec::new();
    let mut ranges: Vec<(u64, u64, usize)> = Vec::new(); // begin, end, tensor index
    for (name, v) in &members {
        if name == "__metadata__" {
            metadata = read_metadata(v)?;
            continue;
        }
        let (dtype, shape, begin, end) = read_entry(name, v)?;
        let count = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
            .and_then(|c| c.checked_mul(dtype.size() as u64))
            .ok_or_else(|| HugeShape { name: name.clone() })?;
        if end < begin {
            return Err(entry_err(
                name,
                "has data_offsets that end before they begin",
            ));
        }
        if end > data.len() as u64 {
            return Err(OutOfRange {
                name: name.clone(),
                end,
                buffer: data.len(),
            });
        }
        if end - begin != count {
            return Err(SizeMismatch {
                name: name.clone(),
                needs: count,
                has: end - begin,
            });
        }
        ranges.push((begin, end, tensors.len()));
        tensors.push(TensorView {
            name: name.clone(),
            dtype,
            shape,
            data: &data[begin as usize..end as usize],
        });
    }
    check_coverage(&mut ranges, &tensors, data.len())?;
    Ok(SafeTensors { tensors, metadata })
}

fn read_metadata(v: &Value) -> Result<Vec<(String, String)>, SafetensorsError> {
    let Value::Object(m) = v else {
        return Err(entry_err("__metadata__", "is not an object"));
    };
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            _ => Err(entry_err(
                "__metadata__",
                "has a value that is not a string",
            )),
        })
        .collect()
}

fn read_entry(name: &str, v: &Value) -> Result<(Dtype, Vec<usize>, u64, u64), SafetensorsError> {
    let Value::Object(fields) = v else {
        return Err(entry_err(name, "is not an object"));
    };
    if fields
        .iter()
        .any(|(k, _)| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets"))
    {
        return Err(entry_err(
            name,
            "has a field other than dtype, shape, data_offsets",
        ));
    }
    let dtype_name = v
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| entry_err(name, "has no string dtype"))?;
    let dtype = Dtype::parse(dtype_name).ok_or_else(|| SafetensorsError::UnknownDtype {
        name: name.to_string(),
        dtype: dtype_name.to_string(),
    })?;
    let Some(Value::Array(dims)) = v.get("shape") else {
        return Err(entry_err(name, "has no shape array"));
    };
    let shape = dims
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| entry_err(name, "has a shape entry that is not a non-negative integer"))?;
    let offsets = match v.get("data_offsets") {
        Some(Value::Array(o)) if o.len() == 2 => o[0].as_u64().zip(o[1].as_u64()),
        _ => None,
    };
    let (begin, end) =
        offsets.ok_or_else(|| entry_err(name, "needs data_offsets [begin, end] as integers"))?;
    Ok((dtype, shape, begin, end))
}

/// The tensors must tile the data buffer: sorted by offset, each starts where the previous ended.
fn check_coverage(
    ranges: &mut [(u64, u64, usize)],
    tensors: &[TensorView],
    buffer: usize,
) -> Result<(), SafetensorsError> {
    ranges.sort();
    let mut at = 0u64;
    let mut prev: Option<usize> = None;
    for &(begin, end, i) in ranges.iter() {
        if begin < at {
            return Err(SafetensorsError::Overlap {
                first: tensors[prev.expect("at > 0 needs a previous tensor")]
                    .name
                    .clone(),
                second: tensors[i].name.clone(),
            });
        }
        if begin > at {
            return Err(SafetensorsError::Gap {
                before: tensors[i].name.clone(),
                at,
            });
        }
        at = end;
        prev = Some(i);
    }
    if at != buffer as u64 {
        return Err(SafetensorsError::TrailingBytes { used: at, buffer });
    }
    Ok(())
}

/// One tensor to write: name, shape, row-major values.
pub struct F32Tensor<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub values: &'a [f32],
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes an F32 safetensors file; tensors are stored in the given order. The header is padded with
/// spaces to a multiple of 8 bytes so that the data is aligned (as the reference writer does).
pub fn write(tensors: &[F32Tensor], metadata: &[(&str, &str)]) -> Vec<u8> {
    let mut header = String::from("{");
    if !metadata.is_empty() {
        header.push_str("\"__metadata__\":{");
        for (i, (k, v)) in metadata.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            json_string(k, &mut header);
            header.push(':');
            json_string(v, &mut header);
        }
        header.push('}');
    }
    let mut offset = 0usize;
    for (i, t) in tensors.iter().enumerate() {
        assert_eq!(
            t.shape.iter().product::<usize>(),
            t.values.len(),
            "{}",
            t.name
        );
        if i > 0 || !metadata.is_empty() {
            header.push(',');
        }
        json_string(t.name, &mut header);
        let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        let end = offset + 4 * t.values.len();
        header.push_str(&format!(
            ":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            dims.join(",")
        ));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for t in tensors {
        for v in t.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}
