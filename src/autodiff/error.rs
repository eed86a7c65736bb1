//! Why a gradient could not be built.

use crate::diag::Span;
use crate::ir::{NodeId, Shape};
use thiserror::Error;

/// A differentiation failure. `NotDifferentiable` (an i32 tensor has no derivative) is a
/// different thing from a zero gradient (a float that does not influence the target),
/// which is not an error at all.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum AdError {
    /// Gradients of the loss were asked for, but the graph has no loss.
    #[error("the model has no loss to differentiate")]
    NoLoss,
    /// The differentiated expression is not a scalar.
    #[error("can only differentiate a scalar, found shape {shape}")]
    NotScalar {
        /// the target node
        node: NodeId,
        /// its shape
        shape: Shape,
        /// its source span
        span: Option<Span>,
    },
    /// A derivative with respect to something other than an input or a param.
    #[error("can only differentiate with respect to an input or a param")]
    WrtNotLeaf {
        /// the offending node
        node: NodeId,
        /// its source span
        span: Option<Span>,
    },
    /// A derivative with respect to an i32 tensor (labels), or of an i32 target.
    #[error("`{name}` is i32 and has no derivative")]
    NotDifferentiable {
        /// the offending node
        node: NodeId,
        /// its name (the input's name, or the op)
        name: String,
        /// its source span
        span: Option<Span>,
    },
    /// A `grad` node on the differentiated path: `expand_grads` expands inner ones first.
    #[error("grad must be expanded first")]
    GradNotExpanded {
        /// the grad node
        node: NodeId,
        /// its source span
        span: Option<Span>,
    },
    /// A rule built an ill-typed node, or a node id is dead: a compiler bug.
    #[error("internal error in differentiation at node {}: {message}", node.index())]
    Internal {
        /// the forward node being differentiated
        node: NodeId,
        /// what went wrong
        message: String,
    },
}
