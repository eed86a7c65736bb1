//! The one error type of `io`: every message names the file, the tensor (when there is
//! one) and what was expected and found, so a user can fix the file without reading code.

use std::path::PathBuf;
use thiserror::Error;

/// Why a tensor file, data set or param initialisation failed.
#[derive(Debug, Error)]
pub enum IoError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// the file
        path: PathBuf,
        /// the operating system's reason
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written (the previous contents, if any, are intact).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// the file
        path: PathBuf,
        /// the operating system's reason
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed safetensors file.
    #[error("{}: not a valid safetensors file: {reason}", path.display())]
    Format {
        /// the file
        path: PathBuf,
        /// what is wrong, naming the tensor when one is at fault
        reason: String,
    },
    /// A tensor the model declares is absent.
    #[error("{}: tensor `{name}` is missing (expected {expected}); the file has {found}", path.display())]
    Missing {
        /// the file
        path: PathBuf,
        /// the model's name for it
        name: String,
        /// its declared type, e.g. `f32[N, 784]`
        expected: String,
        /// the names the file does have
        found: String,
    },
    /// A tensor the model does not know.
    #[error("{}: tensor `{name}` is not {what} of the model (expected only: {expected})", path.display())]
    Extra {
        /// the file
        path: PathBuf,
        /// the unknown name
        name: String,
        /// `an input`, `a param`
        what: &'static str,
        /// the names the model declares
        expected: String,
    },
    /// A tensor has an element type that cannot stand for the declared one.
    #[error("{}: tensor `{name}` has dtype {found}, expected {expected}", path.display())]
    DType {
        /// the file
        path: PathBuf,
        /// the tensor
        name: String,
        /// what the model declares, with the accepted stored dtypes
        expected: String,
        /// the stored dtype
        found: String,
    },
    /// A tensor's shape does not match its declaration.
    #[error("{}: tensor `{name}` has shape {found:?}, expected {expected}", path.display())]
    Shape {
        /// the file
        path: PathBuf,
        /// the tensor
        name: String,
        /// the declared shape (symbolic, with concrete values when known)
        expected: String,
        /// the stored shape
        found: Vec<usize>,
    },
    /// Two tensors give one size variable different values.
    #[error("size variable {var} is {first_value} from {first} but {second_value} from {second}")]
    SizeConflict {
        /// the variable
        var: String,
        /// what bound it first, e.g. ``tensor `x` in data.safetensors``
        first: String,
        /// the value it gave
        first_value: usize,
        /// what disagrees
        second: String,
        /// the value it gave
        second_value: usize,
    },
    /// An integer element does not fit the i32 the model expects.
    #[error("{}: tensor `{name}` element {index} is {value}, which does not fit in i32", path.display())]
    Range {
        /// the file
        path: PathBuf,
        /// the tensor
        name: String,
        /// flat index of the element
        index: usize,
        /// the stored value
        value: i64,
    },
    /// A param's shape mentions a size variable with no value.
    #[error("param `{name}`: size variable {var} has no value (it must be bound by an input's shape)")]
    Unbound {
        /// the param
        name: String,
        /// the variable
        var: String,
    },
    /// A param cannot be initialised as declared.
    #[error("param `{name}`: {reason}")]
    Init {
        /// the param
        name: String,
        /// why
        reason: String,
    },
    /// A tensor is too large to hold in memory.
    #[error("tensor `{name}` of shape {shape:?} is too large to allocate")]
    TooLarge {
        /// the tensor
        name: String,
        /// its shape
        shape: Vec<usize>,
    },
    /// An IDX (MNIST) file is malformed.
    #[error("{}: not a valid IDX file: {reason}", path.display())]
    Idx {
        /// the file
        path: PathBuf,
        /// what is wrong
        reason: String,
    },
    /// A data set does not fit the model.
    #[error("{}: {reason}", path.display())]
    Dataset {
        /// the file or directory
        path: PathBuf,
        /// what is wrong and how to fix it
        reason: String,
    },
    /// A mini-batch request does not fit the data set (a caller's mistake, not a file's).
    #[error("batch: {reason}")]
    Batch {
        /// what is wrong
        reason: String,
    },
}

impl IoError {
    /// The file this error is about, if it is about one file.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            IoError::Read { path, .. }
            | IoError::Write { path, .. }
            | IoError::Format { path, .. }
            | IoError::Missing { path, .. }
            | IoError::Extra { path, .. }
            | IoError::DType { path, .. }
            | IoError::Shape { path, .. }
            | IoError::Range { path, .. }
            | IoError::Idx { path, .. }
            | IoError::Dataset { path, .. } => Some(path),
            IoError::SizeConflict { .. }
            | IoError::Unbound { .. }
            | IoError::Init { .. }
            | IoError::TooLarge { .. }
            | IoError::Batch { .. } => None,
        }
    }
}
