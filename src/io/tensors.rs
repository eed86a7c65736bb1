//! The safetensors format: parsing with every size checked against the file before any
//! allocation, dtype conversion, and atomic writing.
//!
//! Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each
//! tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to
//! the data section, which follows the header), then the data, row-major little-endian.
//! An optional `"__metadata__"` entry (string to string) is ignored by the tensor readers;
//! [`read_metadata`] returns it and [`write_tensors_with_metadata`] writes it.

use super::atomic::write_atomic;
use super::IoError;
use crate::ir::DType;
use crate::tensor::{Data, Tensor};
use safetensors::Dtype;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Headers larger than this are refused (the safetensors crate uses the same limit).
const MAX_HEADER: u64 = 100_000_000;

/// The label used in errors for tensors parsed from memory rather than a file.
pub(crate) const BYTES_PATH: &str = "<bytes>";

/// One tensor as stored in a file: its dtype, shape and little-endian bytes (borrowed
/// from the file's contents). The byte length always equals `numel * dtype size`.
#[derive(Clone, Debug)]
pub struct RawTensor<'a> {
    /// The stored element type.
    pub dtype: Dtype,
    /// The stored shape.
    pub shape: Vec<usize>,
    /// The elements, little-endian, row-major.
    pub bytes: &'a [u8],
}

/// Parses a whole safetensors file image. `path` only labels errors.
///
/// Every tensor's byte range is checked to lie inside the data section, to match its
/// shape and dtype exactly, and not to overlap another; the data section must be fully
/// used. A header claiming a huge shape is rejected here, before anything is allocated.
pub fn parse_safetensors<'a>(bytes: &'a [u8], path: &Path) -> Result<BTreeMap<String, RawTensor<'a>>, IoError> {
    let bad = |reason: String| IoError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let (header, data) = split_header(bytes).map_err(bad)?;
    let entries: BTreeMap<String, Value> =
        serde_json::from_slice(header).map_err(|e| bad(format!("the header is not a JSON object: {e}")))?;
    let mut tensors = BTreeMap::new();
    let mut ranges: Vec<(usize, usize, String)> = Vec::new();
    for (name, entry) in &entries {
        if name == "__metadata__" {
            continue;
        }
        let (raw, range) = parse_entry(name, entry, data).map_err(bad)?;
        ranges.push((range.0, range.1, name.clone()));
        tensors.insert(name.clone(), raw);
    }
    check_coverage(ranges, data.len()).map_err(bad)?;
    Ok(tensors)
}

/// The `__metadata__` entry of a safetensors file (empty when it has none). Only the
/// header is read; the tensors are not checked.
pub fn read_metadata(path: impl AsRef<Path>) -> Result<BTreeMap<String, String>, IoError> {
    let path = path.as_ref();
    metadata_of(&read_file(path)?, path)
}

/// [`read_metadata`] on a file image in memory; `path` only labels errors.
pub fn metadata_of(bytes: &[u8], path: &Path) -> Result<BTreeMap<String, String>, IoError> {
    let bad = |reason: String| IoError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let (header, _) = split_header(bytes).map_err(bad)?;
    let mut entries: BTreeMap<String, Value> =
        serde_json::from_slice(header).map_err(|e| bad(format!("the header is not a JSON object: {e}")))?;
    match entries.remove("__metadata__") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(m) => {
            serde_json::from_value(m).map_err(|_| bad("`__metadata__` is not a map of strings to strings".into()))
        }
    }
}

/// Splits the file image into the JSON header and the data section.
fn split_header(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let len_bytes: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| {
        format!(
            "the file has {} bytes, too short for the 8-byte header length",
            bytes.len()
        )
    })?;
    let n = u64::from_le_bytes(len_bytes);
    let rest = bytes.len() as u64 - 8;
    if n > MAX_HEADER || n > rest {
        return Err(format!(
            "the header claims {n} bytes but the file has only {rest} after the length (truncated or not safetensors)"
        ));
    }
    let n = n as usize;
    Ok((&bytes[8..8 + n], &bytes[8 + n..]))
}

/// Reads one header entry and checks its sizes against the data section.
fn parse_entry<'a>(name: &str, entry: &Value, data: &'a [u8]) -> Result<(RawTensor<'a>, (usize, usize)), String> {
    let field = |key: &str| {
        entry
            .get(key)
            .ok_or_else(|| format!("tensor `{name}` has no \"{key}\" field"))
    };
    let dtype: Dtype = serde_json::from_value(field("dtype")?.clone()).map_err(|_| {
        format!(
            "tensor `{name}` has an unknown dtype {}",
            field("dtype").unwrap_or(&Value::Null)
        )
    })?;
    let shape = usize_list(field("shape")?).ok_or_else(|| format!("tensor `{name}` has a malformed shape"))?;
    let offsets = usize_list(field("data_offsets")?)
        .filter(|o| o.len() == 2)
        .ok_or_else(|| format!("tensor `{name}` has malformed data_offsets (expected [begin, end])"))?;
    let (begin, end) = (offsets[0], offsets[1]);
    let nbytes = byte_size(dtype, &shape)
        .ok_or_else(|| format!("tensor `{name}` claims shape {shape:?} of {dtype:?}, too large to exist"))?;
    if end < begin || end - begin != nbytes {
        return Err(format!(
            "tensor `{name}` claims shape {shape:?} of {dtype:?} ({nbytes} bytes) but data_offsets [{begin}, {end}] span {} bytes",
            end.saturating_sub(begin)
        ));
    }
    if end > data.len() {
        return Err(format!(
            "tensor `{name}` ends at data byte {end} but the file holds only {} bytes of data (truncated?)",
            data.len()
        ));
    }
    let raw = RawTensor {
        dtype,
        shape,
        bytes: &data[begin..end],
    };
    Ok((raw, (begin, end)))
}

/// A JSON array of non-negative integers that fit in `usize`.
fn usize_list(v: &Value) -> Option<Vec<usize>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_u64().and_then(|n| usize::try_from(n).ok()))
        .collect()
}

/// `numel * bits / 8`, or `None` on overflow or a shape not filling whole bytes.
fn byte_size(dtype: Dtype, shape: &[usize]) -> Option<usize> {
    let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    let bits = numel.checked_mul(dtype.bitsize())?;
    (bits % 8 == 0).then_some(bits / 8)
}

/// The tensors must tile the data section exactly: no overlap, no gap, no trailing bytes.
fn check_coverage(mut ranges: Vec<(usize, usize, String)>, data_len: usize) -> Result<(), String> {
    ranges.sort();
    let mut at = 0;
    for (begin, end, name) in &ranges {
        if *begin != at {
            return Err(if *begin < at {
                format!("tensor `{name}` overlaps the previous tensor's data")
            } else {
                format!("there are unused bytes {at}..{begin} before tensor `{name}`")
            });
        }
        at = *end;
    }
    if at != data_len {
        return Err(format!(
            "the data section has {data_len} bytes but the tensors use {at} (extra bytes at the end)"
        ));
    }
    Ok(())
}

/// Converts a stored tensor to the element type the model expects.
///
/// f32 accepts stored `F32`, `F64` and `U8` (values converted, not scaled); i32 accepts
/// `I32`, `I64` (each value must fit in i32) and `U8`.
pub fn convert(raw: &RawTensor<'_>, expected: DType, path: &Path, name: &str) -> Result<Tensor, IoError> {
    let data = match (expected, raw.dtype) {
        (DType::F32, Dtype::F32) => Data::F32(le_words(raw.bytes, f32::from_le_bytes)),
        (DType::F32, Dtype::F64) => Data::F32(le_words(raw.bytes, |b| f64::from_le_bytes(b) as f32)),
        (DType::F32, Dtype::U8) => Data::F32(raw.bytes.iter().map(|&b| b as f32).collect()),
        (DType::I32, Dtype::I32) => Data::I32(le_words(raw.bytes, i32::from_le_bytes)),
        (DType::I32, Dtype::U8) => Data::I32(raw.bytes.iter().map(|&b| b as i32).collect()),
        (DType::I32, Dtype::I64) => Data::I32(narrow_i64(raw.bytes, path, name)?),
        (_, found) => {
            return Err(IoError::DType {
                path: path.to_path_buf(),
                name: name.to_string(),
                expected: match expected {
                    DType::F32 => "f32 (stored as F32, or F64/U8 converted)".to_string(),
                    DType::I32 => "i32 (stored as I32, or I64/U8 converted)".to_string(),
                },
                found: format!("{found:?}"),
            })
        }
    };
    Ok(Tensor {
        shape: raw.shape.clone(),
        data,
    })
}

/// Decodes fixed-size little-endian words; the byte length is a multiple of `N` because
/// the parser checked it against the shape.
fn le_words<const N: usize, T>(bytes: &[u8], f: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut w = [0u8; N];
            w.copy_from_slice(c);
            f(w)
        })
        .collect()
}

fn narrow_i64(bytes: &[u8], path: &Path, name: &str) -> Result<Vec<i32>, IoError> {
    le_words(bytes, i64::from_le_bytes)
        .into_iter()
        .enumerate()
        .map(|(index, v)| {
            i32::try_from(v).map_err(|_| IoError::Range {
                path: path.to_path_buf(),
                name: name.to_string(),
                index,
                value: v,
            })
        })
        .collect()
}

/// The natural nnc type of a stored dtype, for reading without a model: floats become
/// f32, integers (`I32`, `I64`, `U8`) become i32.
fn natural(dtype: Dtype) -> Option<DType> {
    match dtype {
        Dtype::F32 | Dtype::F64 => Some(DType::F32),
        Dtype::I32 | Dtype::I64 | Dtype::U8 => Some(DType::I32),
        _ => None,
    }
}

/// Reads every tensor of a safetensors file, converting floats to f32 and integers to i32.
pub fn read_tensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>, IoError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    decode_all(&bytes, path)
}

/// [`read_tensors`] on a file image in memory (errors name the path `<bytes>`).
pub fn read_tensors_bytes(bytes: &[u8]) -> Result<BTreeMap<String, Tensor>, IoError> {
    decode_all(bytes, Path::new(BYTES_PATH))
}

fn decode_all(bytes: &[u8], path: &Path) -> Result<BTreeMap<String, Tensor>, IoError> {
    let raw = parse_safetensors(bytes, path)?;
    raw.iter()
        .map(|(name, r)| {
            let want = natural(r.dtype).ok_or_else(|| IoError::DType {
                path: path.to_path_buf(),
                name: name.clone(),
                expected: "one of F32, F64, I32, I64, U8".to_string(),
                found: format!("{:?}", r.dtype),
            })?;
            Ok((name.clone(), convert(r, want, path, name)?))
        })
        .collect()
}

/// The whole file, with the path in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|source| IoError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes tensors to a safetensors file atomically (see [`write_atomic`]): f32 as `F32`,
/// i32 as `I32`, little-endian, row-major, scalars with shape `[]`, data in name order.
/// Names must be distinct. On any error the previous file at `path` is intact.
pub fn write_tensors<S: AsRef<str>>(path: impl AsRef<Path>, tensors: &[(S, &Tensor)]) -> Result<(), IoError> {
    write_tensors_with_metadata(path, tensors, &BTreeMap::new())
}

/// [`write_tensors`] with a `__metadata__` header entry (omitted when `metadata` is
/// empty), as checkpoints use it.
pub fn write_tensors_with_metadata<S: AsRef<str>>(
    path: impl AsRef<Path>,
    tensors: &[(S, &Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let (header, order) = encode_header(tensors, metadata).map_err(|reason| IoError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, reason),
    })?;
    write_atomic(path, |w| {
        w.write_all(&header)?;
        for t in order {
            write_data(w, t)?;
        }
        Ok(())
    })
}

/// The file image [`write_tensors`] would write, in memory.
pub fn encode_tensors<S: AsRef<str>>(tensors: &[(S, &Tensor)]) -> Result<Vec<u8>, IoError> {
    let bad = |reason: String| IoError::Write {
        path: PathBuf::from(BYTES_PATH),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, reason),
    };
    let (header, order) = encode_header(tensors, &BTreeMap::new()).map_err(bad)?;
    let mut out = header;
    for t in order {
        write_data(&mut out, t).map_err(|e| bad(e.to_string()))?;
    }
    Ok(out)
}

/// The length-prefixed, space-padded JSON header and the tensors in data order.
fn encode_header<'t, S: AsRef<str>>(
    tensors: &[(S, &'t Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(Vec<u8>, Vec<&'t Tensor>), String> {
    let mut sorted: BTreeMap<&str, &Tensor> = BTreeMap::new();
    for (name, t) in tensors {
        let name = name.as_ref();
        if name == "__metadata__" {
            return Err("`__metadata__` is reserved by the safetensors format".into());
        }
        if t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(t.len()) {
            return Err(format!(
                "tensor `{name}` has {} elements but shape {:?}",
                t.len(),
                t.shape
            ));
        }
        if sorted.insert(name, t).is_some() {
            return Err(format!("tensor `{name}` is given twice"));
        }
    }
    let mut map = serde_json::Map::new();
    if !metadata.is_empty() {
        map.insert("__metadata__".to_string(), serde_json::json!(metadata));
    }
    let mut offset = 0usize;
    for (name, t) in &sorted {
        let (dtype, end) = match &t.data {
            Data::F32(v) => ("F32", offset + 4 * v.len()),
            Data::I32(v) => ("I32", offset + 4 * v.len()),
        };
        let entry = serde_json::json!({ "dtype": dtype, "shape": t.shape, "data_offsets": [offset, end] });
        map.insert(name.to_string(), entry);
        offset = end;
    }
    let mut json = serde_json::to_vec(&Value::Object(map)).map_err(|e| e.to_string())?;
    // Aligning the data section to 8 bytes is what the reference implementation does.
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    Ok((out, sorted.into_values().collect()))
}

/// Streams a tensor's elements as little-endian bytes in bounded chunks.
fn write_data(w: &mut dyn Write, t: &Tensor) -> std::io::Result<()> {
    const CHUNK: usize = 16 * 1024;
    let mut buf = Vec::with_capacity(4 * CHUNK);
    match &t.data {
        Data::F32(v) => {
            for c in v.chunks(CHUNK) {
                buf.clear();
                c.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                w.write_all(&buf)?;
            }
        }
        Data::I32(v) => {
            for c in v.chunks(CHUNK) {
                buf.clear();
                c.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
                w.write_all(&buf)?;
            }
        }
    }
    Ok(())
}
