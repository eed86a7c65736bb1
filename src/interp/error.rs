//! Why the interpreter could not evaluate a graph.

use crate::ir::{BindError, CallError, NodeId};
use thiserror::Error;

/// An evaluation failure. Bad tensors (count, dtype, shape, labels) are the caller's;
/// `Internal` is a compiler bug the verifier should have caught.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum InterpError {
    /// The tensors do not fit the graph (count, element type, label).
    #[error(transparent)]
    Call(#[from] CallError),
    /// Shapes that do not fit the declarations, or size variables that conflict.
    #[error(transparent)]
    Bind(#[from] BindError),
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
