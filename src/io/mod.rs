//! Tensor files (safetensors, MNIST IDX), data sets, atomic writes, param initialisation.
//!
//! Everything here reads untrusted bytes: sizes are checked against the file before
//! anything is allocated, and every failure is an [`IoError`] naming the file, the tensor
//! and what was expected, never a panic.

mod atomic;
mod check;
mod dataset;
mod error;
mod idx;
mod init;
mod tensors;

pub use atomic::{write_atomic, LineLog};
pub use check::{
    is_checkpoint, load_inputs, load_params, load_params_only, load_params_with, load_run, Loaded, SizeCheck,
    CHECKPOINT_FORMAT,
};
pub use dataset::Dataset;
pub use error::IoError;
pub use idx::{load_mnist_dir, read_idx, read_idx_bytes, IdxArray, Split};
pub use init::{fans, init_param, init_params, param_rng};
pub use tensors::{
    convert, encode_tensors, metadata_of, parse_safetensors, read_metadata, read_tensors, read_tensors_bytes,
    write_tensors, write_tensors_with_metadata, RawTensor,
};
