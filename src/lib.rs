//! nnc: a compiler from small neural-network programs to native code.
//!
//! The stages, in dependency order (each imports only those before it):
//! `diag` → `syntax` → `ir` → `sema` → `interp`, `autodiff` → `opt` → `kernels`,
//! `codegen` → `runtime` → `io`, `train` → the public API here → the CLI (`main.rs`).

pub mod diag;
pub mod tensor;
pub mod syntax;
pub mod ir;
pub mod sema;
pub mod interp;
pub mod autodiff;
pub mod opt;
pub mod kernels;
pub mod codegen;
pub mod runtime;
pub mod io;
pub mod train;
