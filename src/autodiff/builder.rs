//! Adding backward nodes: a thin layer over `Graph::add` that stamps every node with the
//! origin of the forward node being differentiated, plus `unbroadcast`.

use super::error::AdError;
use crate::ir::{Binary, Graph, NodeId, Op, Origin, Reduce, Shape, Unary};

/// A cotangent: the symbolic zero, or a node. `Zero` is never materialised while
/// differentiating; only a requested gradient that ends up zero becomes a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cot {
    /// Exactly zero, whatever the shape.
    Zero,
    /// The value of this node.
    Node(NodeId),
}

/// Adds nodes on behalf of the rule of one forward node.
pub(super) struct Builder<'g> {
    pub(super) g: &'g mut Graph,
    /// The forward node whose rule is running (for error messages).
    pub(super) at: NodeId,
    origin: Origin,
}

impl<'g> Builder<'g> {
    /// A builder for the rule of `at`, whose new nodes carry `origin`.
    pub(super) fn new(g: &'g mut Graph, at: NodeId, origin: Origin) -> Builder<'g> {
        Builder { g, at, origin }
    }

    pub(super) fn shape(&self, x: NodeId) -> Shape {
        self.g.shape(x).clone()
    }

    pub(super) fn add(&mut self, op: Op, args: &[NodeId]) -> Result<NodeId, AdError> {
        let name = op.name();
        self.g.add(op, args, self.origin).map_err(|e| AdError::Internal {
            node: self.at,
            message: format!("{name}: {e}"),
        })
    }

    pub(super) fn konst(&mut self, value: f64) -> NodeId {
        self.g.constant(value, self.origin)
    }

    pub(super) fn unary(&mut self, u: Unary, x: NodeId) -> Result<NodeId, AdError> {
        self.add(Op::Unary(u), &[x])
    }

    pub(super) fn binary(&mut self, b: Binary, x: NodeId, y: NodeId) -> Result<NodeId, AdError> {
        self.add(Op::Binary(b), &[x, y])
    }

    pub(super) fn neg(&mut self, x: NodeId) -> Result<NodeId, AdError> {
        self.unary(Unary::Neg, x)
    }

    /// `x * y`, or just one of them when the other is the scalar constant 1 (the seed
    /// cotangent): `x * 1 == x` exactly, for every `x`.
    pub(super) fn mul(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, AdError> {
        if self.is_one(y) {
            return Ok(x);
        }
        if self.is_one(x) {
            return Ok(y);
        }
        self.binary(Binary::Mul, x, y)
    }

    fn is_one(&self, x: NodeId) -> bool {
        matches!(&self.g.node(x).op, Op::Const { value, per } if value.0 == 1.0 && per.is_one())
    }

    pub(super) fn div(&mut self, x: NodeId, y: NodeId) -> Result<NodeId, AdError> {
        self.binary(Binary::Div, x, y)
    }

    /// `c - x` for a constant `c`.
    pub(super) fn rsub_const(&mut self, c: f64, x: NodeId) -> Result<NodeId, AdError> {
        let k = self.konst(c);
        self.binary(Binary::Sub, k, x)
    }

    /// `x * c` for a constant `c`.
    pub(super) fn mul_const(&mut self, x: NodeId, c: f64) -> Result<NodeId, AdError> {
        if c == 1.0 {
            return Ok(x);
        }
        let k = self.konst(c);
        self.mul(x, k)
    }

    pub(super) fn matmul(&mut self, a: NodeId, b: NodeId, ta: bool, tb: bool) -> Result<NodeId, AdError> {
        self.add(Op::MatMul { ta, tb }, &[a, b])
    }

    /// `x` reshaped to `to` (no node if it already has that shape).
    pub(super) fn reshape(&mut self, x: NodeId, to: &Shape) -> Result<NodeId, AdError> {
        if self.g.shape(x) == to {
            return Ok(x);
        }
        self.add(Op::Reshape(to.clone()), &[x])
    }

    /// `x` broadcast to `to` (no node if it already has that shape).
    pub(super) fn broadcast_to(&mut self, x: NodeId, to: &Shape) -> Result<NodeId, AdError> {
        if self.g.shape(x) == to {
            return Ok(x);
        }
        self.add(Op::BroadcastTo(to.clone()), &[x])
    }

    /// The adjoint of broadcasting `to` up to the shape of `ct`: sum over the axes that
    /// broadcasting added or stretched, then reshape to `to`. Every broadcasting rule
    /// goes through here.
    pub(super) fn unbroadcast(&mut self, ct: NodeId, to: &Shape) -> Result<NodeId, AdError> {
        let from = self.shape(ct);
        if &from == to {
            return Ok(ct);
        }
        let lead = from.rank().checked_sub(to.rank()).ok_or_else(|| AdError::Internal {
            node: self.at,
            message: format!("cannot unbroadcast {from} to {to}"),
        })?;
        let axes: Vec<usize> = (0..from.rank())
            .filter(|&i| i < lead || (to.0[i - lead].is_one() && !from.0[i].is_one()))
            .collect();
        let summed = if axes.is_empty() {
            ct
        } else {
            self.add(
                Op::Reduce {
                    kind: Reduce::Sum,
                    axes,
                },
                &[ct],
            )?
        };
        self.reshape(summed, to)
    }
}
