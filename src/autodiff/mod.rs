//! Reverse-mode differentiation by chain-rule rewriting of the IR.
//!
//! The idea in a paragraph (as in micrograd, but on a graph of tensor ops): list the nodes
//! the scalar target depends on with operands first, walk that list backwards, and at each
//! node pass its cotangent (the derivative of the target with respect to the node's value)
//! to its operands with the op's vector-Jacobian product rule (`rules.rs`, one `match`).
//! An operand used several times receives the sum of its contributions. The backward
//! nodes are ordinary IR added to the same graph, so the result can be differentiated
//! again: that is how `grad` nests and how training through `grad` works.
//!
//! Cotangents that are exactly zero (through `sign`, `step`, comparisons, one-hot and
//! argmax masks, `x^0`) are a symbolic [`Cot::Zero`] and cost nothing.

mod builder;
mod error;
mod expand;
mod reverse;
mod rules;

pub use builder::Cot;
pub use error::AdError;
pub use expand::{add_gradient_outputs, expand_grads};
pub use reverse::gradients;
