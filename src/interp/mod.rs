//! The reference interpreter of the IR, in f32 and f64: the oracle for everything after.
//!
//! It is written to be obviously correct rather than fast: one exhaustive `match` over
//! [`Op`](crate::ir::Op) (in `eval.rs`), naive index arithmetic (in `kernels.rs`) and the
//! scalar semantics with their edge cases in one place ([`unary`], [`binary`]).
//! `eval::<f64>` is what gradient checks by finite differences use.

mod error;
mod eval;
mod float;
mod kernels;
mod scalar;
mod value;

pub use error::InterpError;
pub use eval::{eval, eval_nodes, eval_nodes_from, eval_values, first_non_finite, NodeValues, Values};
pub use float::Float;
pub use kernels::broadcast_shape;
pub use scalar::{binary, unary};
pub use value::{NodeValue, Value};
