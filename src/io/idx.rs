//! IDX files (the MNIST format), plain or gzip-compressed.
//!
//! An IDX file is a 4-byte magic `00 00 TT NN` (`TT` = element type, `08` for unsigned
//! bytes, the only type MNIST uses; `NN` = number of dimensions), `NN` big-endian u32
//! dimensions, then the elements row-major. MNIST images have magic `0x00000803`
//! (`count × rows × cols`), labels `0x00000801` (`count`). Gzip is recognised by its
//! magic bytes (`1f 8b`), whatever the file is called.

use super::dataset::Dataset;
use super::tensors::read_file;
use super::IoError;
use crate::tensor::{Data, Tensor};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files claiming more data than this are refused before reading (full MNIST is 47 MB).
const MAX_IDX_BYTES: u64 = 1 << 32;

/// The element type code of unsigned bytes.
const UBYTE: u8 = 0x08;

/// The decoded contents of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions from the header.
    pub dims: Vec<usize>,
    /// The elements, row-major; `data.len()` is the product of `dims`.
    pub data: Vec<u8>,
}

/// Which half of an MNIST-style directory to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The `train-*` files.
    Train,
    /// The `t10k-*` files.
    Test,
}

impl Split {
    /// The file name prefix of this split.
    pub fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Decodes an IDX file image (plain or gzip) in memory; errors name the path `<bytes>`.
pub fn read_idx_bytes(bytes: &[u8]) -> Result<IdxArray, IoError> {
    decode(bytes, Path::new(super::tensors::BYTES_PATH))
}

/// Reads an IDX file (plain or gzip).
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray, IoError> {
    let path = path.as_ref();
    decode(&read_file(path)?, path)
}

fn decode(bytes: &[u8], path: &Path) -> Result<IdxArray, IoError> {
    let result = if bytes.starts_with(&[0x1f, 0x8b]) {
        // A truncated .gz surfaces as a short stream; say where the bytes went missing.
        parse(flate2::read::MultiGzDecoder::new(bytes), true)
            .map_err(|r| format!("{r} (after gzip decompression; is the .gz file complete?)"))
    } else {
        parse(bytes, false)
    };
    result.map_err(|reason| IoError::Idx {
        path: path.to_path_buf(),
        reason,
    })
}

/// Reads header and data from a stream, never allocating more than the stream delivers.
fn parse(mut r: impl Read, gz: bool) -> Result<IdxArray, String> {
    let io = |e: std::io::Error| {
        if gz {
            format!("corrupt gzip data: {e}")
        } else {
            e.to_string()
        }
    };
    let mut magic = [0u8; 4];
    read_header(&mut r, &mut magic)
        .map_err(io)?
        .then_some(())
        .ok_or("file too short for the 4-byte magic")?;
    if magic[..2] != [0, 0] {
        return Err(format!(
            "magic {:02x} {:02x} {:02x} {:02x} does not start with two zero bytes",
            magic[0], magic[1], magic[2], magic[3]
        ));
    }
    if magic[2] != UBYTE {
        return Err(format!(
            "element type 0x{:02x} is not supported (only unsigned bytes, 0x08)",
            magic[2]
        ));
    }
    let mut dims = Vec::with_capacity(magic[3] as usize);
    for i in 0..magic[3] {
        let mut d = [0u8; 4];
        read_header(&mut r, &mut d)
            .map_err(io)?
            .then_some(())
            .ok_or_else(|| format!("file ends inside the header (dimension {i} of {})", magic[3]))?;
        dims.push(u32::from_be_bytes(d) as usize);
    }
    let size = dims
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
        .filter(|&s| s <= MAX_IDX_BYTES)
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    // `take(size + 1)` bounds memory by what the file actually holds and reveals trailing data.
    let mut data = Vec::new();
    r.take(size + 1).read_to_end(&mut data).map_err(io)?;
    if (data.len() as u64) < size {
        return Err(format!(
            "truncated: dimensions {dims:?} need {size} bytes of data but only {} follow the header",
            data.len()
        ));
    }
    if data.len() as u64 > size {
        return Err(format!(
            "extra bytes after the {size} bytes of data that dimensions {dims:?} describe"
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Fills `buf` completely; `Ok(false)` if the stream ends first.
fn read_header(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Finds `{prefix}-{kind}-idx{n}-ubyte[.gz]` (also the `.idx{n}-ubyte` spelling some
/// copies use) in `dir`.
fn find_file(dir: &Path, prefix: &str, kind: &str, n: u8) -> Result<PathBuf, IoError> {
    let names = [
        format!("{prefix}-{kind}-idx{n}-ubyte"),
        format!("{prefix}-{kind}.idx{n}-ubyte"),
    ];
    for name in &names {
        for ext in ["", ".gz"] {
            let p = dir.join(format!("{name}{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(IoError::Dataset {
        path: dir.to_path_buf(),
        reason: format!("an MNIST-style directory needs the file {}[.gz] (not found)", names[0]),
    })
}

/// Checks an array has the magic of its role (`0x803` images, `0x801` labels).
fn expect_rank(a: &IdxArray, path: &Path, rank: usize, what: &str) -> Result<(), IoError> {
    if a.dims.len() == rank {
        return Ok(());
    }
    Err(IoError::Idx {
        path: path.to_path_buf(),
        reason: format!(
            "{what} need magic 0x0000080{rank} ({rank} dimensions), found {} dimensions {:?}",
            a.dims.len(),
            a.dims
        ),
    })
}

/// Reads the images and labels of one split of an MNIST-style directory.
///
/// Returns a [`Dataset`] with two tensors: `images`, f32 `[count, rows*cols]` scaled to
/// `[0, 1]`, and `labels`, i32 `[count]`.
pub fn load_mnist_dir(dir: impl AsRef<Path>, split: Split) -> Result<Dataset, IoError> {
    let dir = dir.as_ref();
    let ipath = find_file(dir, split.prefix(), "images", 3)?;
    let lpath = find_file(dir, split.prefix(), "labels", 1)?;
    let images = read_idx(&ipath)?;
    expect_rank(&images, &ipath, 3, "images")?;
    let labels = read_idx(&lpath)?;
    expect_rank(&labels, &lpath, 1, "labels")?;
    let (count, pixels) = (images.dims[0], images.dims[1] * images.dims[2]);
    if labels.dims[0] != count {
        return Err(IoError::Dataset {
            path: dir.to_path_buf(),
            reason: format!(
                "{} holds {count} images but {} holds {} labels",
                ipath.display(),
                lpath.display(),
                labels.dims[0]
            ),
        });
    }
    let x = Tensor {
        shape: vec![count, pixels],
        data: Data::F32(images.data.iter().map(|&b| b as f32 / 255.0).collect()),
    };
    let y = Tensor {
        shape: vec![count],
        data: Data::I32(labels.data.iter().map(|&b| b as i32).collect()),
    };
    Ok(Dataset {
        tensors: vec![("images".to_string(), x), ("labels".to_string(), y)],
    })
}
