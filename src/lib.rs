//! nnc: a compiler from small neural-network programs to native code.
//!
//! The stages, in dependency order (each imports only those before it):
//! `diag` → `syntax` → `ir` → `sema` → `interp`, `autodiff` → `opt` → `kernels`,
//! `codegen` → `runtime` → `io`, `train` → the public API here → the CLI (`main.rs`).

pub mod api;
pub mod autodiff;
pub mod codegen;
pub mod diag;
pub mod fit;
pub mod interp;
pub mod io;
pub mod ir;
pub mod kernels;
pub mod opt;
pub mod runtime;
pub mod sema;
pub mod syntax;
pub mod tensor;
pub mod train;

pub use api::{
    Backend, Error, Function, Instance, Model, OptLevel, Options, Outputs, TensorSpec, TrainInstance, TrainStep,
};
pub use runtime::{Arg, Workspace};
pub use tensor::Tensor;
pub use train::Optimizer;
