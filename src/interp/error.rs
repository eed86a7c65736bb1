//! Why the interpreter could not evaluate a graph.

use crate::ir::{BindError, DType, NodeId};
use thiserror::Error;

/// An evaluation failure. Bad tensors (count, dtype, shape, labels) are the caller's;
/// `Internal` is a compiler bug the verifier should have caught.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum InterpError {
    /// The wrong number of input or param tensors.
    #[error("expected {expected} {what}, found {found}")]
    Count {
        /// `"inputs"` or `"params"`
        what: &'static str,
        /// how many the graph declares
        expected: usize,
        /// how many were given
        found: usize,
    },
    /// A tensor of the wrong element type.
    #[error("tensor `{name}` is {found}, expected {expected}")]
    DType {
        /// the input's or param's name
        name: String,
        /// declared
        expected: DType,
        /// given
        found: DType,
    },
    /// Shapes that do not fit the declarations, or size variables that conflict.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A label outside `[0, classes)` in an i32 input used as class labels.
    #[error("label {label} at position {index} of `{input}` is outside [0, {classes})")]
    Label {
        /// the input's name
        input: String,
        /// flat (row-major) index of the offending label
        index: usize,
        /// its value
        label: i32,
        /// the number of classes
        classes: usize,
    },
    /// A dimension that cannot be evaluated under the bindings.
    #[error("cannot evaluate size {dim}: {why}")]
    Size {
        /// the dimension, as written
        dim: String,
        /// unbound variable or overflow
        why: String,
    },
    /// An `Op::Grad` node: `autodiff::expand_grads` must run before evaluation.
    #[error("grad must be expanded first (node {})", node.index())]
    GradNotExpanded {
        /// the grad node
        node: NodeId,
    },
    /// A node whose value does not fit its recorded type: a compiler bug.
    #[error("internal error at node {}: {message}", node.index())]
    Internal {
        /// the node
        node: NodeId,
        /// what went wrong
        message: String,
    },
}
