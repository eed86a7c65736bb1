//! The vector-Jacobian product of every primitive: one exhaustive `match` over [`Op`].
//!
//! Notation: `x` (and `a`, `b`) the operands, `y` the forward result, `ct` the cotangent
//! arriving at `y`. A rule returns one [`Cot`] per operand; it only builds nodes for the
//! operands in `need` (those on a path from a differentiated leaf). Broadcasting is
//! undone by `Builder::unbroadcast` alone. Rules reuse `y` where that is cheaper and
//! numerically better (exp, tanh, sigmoid, sqrt, div), which is fine for higher
//! derivatives because `y` is an ordinary node with its own rule.

use super::builder::{Builder, Cot};
use super::error::AdError;
use crate::ir::{unary_ops, Binary, NodeId, Op, Reduce, Shape, Unary};

type Rule = Result<Vec<Cot>, AdError>;

/// The contributions of `ct` (the cotangent of node `y = op(args)`) to each operand.
pub(super) fn vjp(b: &mut Builder, op: &Op, args: &[NodeId], y: NodeId, ct: NodeId, need: &[bool]) -> Rule {
    match op {
        // Leaves accumulate; they have no operands to pass anything to.
        Op::Input(_) | Op::Param(_) | Op::Const { .. } => Ok(Vec::new()),
        Op::Unary(u) => unary(b, *u, args[0], y, ct).map(|c| vec![c]),
        Op::Binary(op) => binary(b, *op, args, y, ct, need),
        Op::Reduce { kind, axes } => reduce(b, *kind, axes, args[0], y, ct).map(|c| vec![Cot::Node(c)]),
        // piecewise constant: derivative zero almost everywhere
        Op::ArgMaxMask { .. } | Op::OneHot { .. } => Ok(vec![Cot::Zero]),
        // linear maps: apply the adjoint
        Op::BroadcastTo(_) => linear(b.unbroadcast(ct, &b.shape(args[0]))),
        Op::Reshape(_) => linear(b.reshape(ct, &b.shape(args[0]))),
        Op::Transpose => linear(b.add(Op::Transpose, &[ct])),
        Op::MatMul { ta, tb } => matmul(b, *ta, *tb, args, ct, need),
        Op::Grad => Err(AdError::GradNotExpanded {
            node: y,
            span: b.g.node(y).origin.span,
        }),
    }
}

/// A linear unary op: its cotangent is the adjoint applied to `ct`.
fn linear(adjoint: Result<NodeId, AdError>) -> Rule {
    Ok(vec![Cot::Node(adjoint?)])
}

/// `ct * d`: the chain rule for an elementwise function with derivative `d`.
fn chain(b: &mut Builder, ct: NodeId, d: NodeId) -> Result<Cot, AdError> {
    b.mul(ct, d).map(Cot::Node)
}

/// The autodiff `match` over [`Unary`]: the `vjp` column of `ir/unary_table.rs`.
macro_rules! vjp_unary {
    ($(
        $(#[doc = $doc:literal])*
        $op:ident $(($p:ident: $pt:ty))? {
            name: $name:literal, call: $call:literal,
            eval: |$ex:pat_param| $eval:expr,
            vjp: |$vb:pat_param, $vx:pat_param, $vy:pat_param, $vct:pat_param| $vjp:expr,
            lower: |$ll:pat_param, $lx:pat_param| $lower:expr,
            $(host: $host:expr,)?
        }
    )*) => {
        fn unary(b: &mut Builder, u: Unary, x: NodeId, y: NodeId, ct: NodeId) -> Result<Cot, AdError> {
            match u {
                $( Unary::$op $(($p))? => {
                    let ($vb, $vx, $vy, $vct) = (b, x, y, ct);
                    $vjp
                } )*
            }
        }
    };
}

unary_ops!(vjp_unary);

/// `ct * c * x^(c-1)`, the `vjp` of `x ^ c`.
fn pow_vjp(b: &mut Builder, c: f64, x: NodeId, ct: NodeId) -> Result<Cot, AdError> {
    if c == 0.0 {
        return Ok(Cot::Zero);
    }
    if c == 1.0 {
        return Ok(Cot::Node(ct));
    }
    let p = if c - 1.0 == 1.0 {
        x
    } else {
        b.unary(Unary::Pow(crate::ir::F64(c - 1.0)), x)?
    };
    let d = b.mul_const(p, c)?;
    chain(b, ct, d)
}

/// Runs `f` for each needed operand of a binary op.
fn each(b: &mut Builder, need: &[bool], mut f: impl FnMut(&mut Builder, usize) -> Result<NodeId, AdError>) -> Rule {
    (0..need.len())
        .map(|k| if need[k] { f(b, k).map(Cot::Node) } else { Ok(Cot::Zero) })
        .collect()
}

fn binary(b: &mut Builder, op: Binary, args: &[NodeId], y: NodeId, ct: NodeId, need: &[bool]) -> Rule {
    let shapes: [Shape; 2] = [b.shape(args[0]), b.shape(args[1])];
    match op {
        // (ct, ct)
        Binary::Add => each(b, need, |b, k| b.unbroadcast(ct, &shapes[k])),
        // (ct, -ct)
        Binary::Sub => each(b, need, |b, k| {
            let t = b.unbroadcast(ct, &shapes[k])?;
            if k == 0 {
                Ok(t)
            } else {
                b.neg(t)
            }
        }),
        // (ct * b, ct * a)
        Binary::Mul => each(b, need, |b, k| {
            let t = b.mul(ct, args[1 - k])?;
            b.unbroadcast(t, &shapes[k])
        }),
        // (q, -q * y) with q = ct / b: no b^2 to overflow, and y has its own rule
        Binary::Div => {
            let q = b.div(ct, args[1])?;
            each(b, need, |b, k| {
                if k == 0 {
                    b.unbroadcast(q, &shapes[0])
                } else {
                    let t = b.mul(q, y)?;
                    let t = b.unbroadcast(t, &shapes[1])?;
                    b.neg(t)
                }
            })
        }
        // mask m = [a >= b] (ties to a): (ct * m, ct * (1 - m))
        Binary::Max => select(b, args[0], args[1], ct, &shapes, need),
        // mask m = [b >= a] (ties to a): (ct * m, ct * (1 - m))
        Binary::Min => select(b, args[1], args[0], ct, &shapes, need),
        Binary::GreaterEq => Ok(vec![Cot::Zero, Cot::Zero]),
    }
}

/// The rule of `Max` and `Min`: the operand at index 0 gets `ct` where `hi >= lo`.
fn select(b: &mut Builder, hi: NodeId, lo: NodeId, ct: NodeId, shapes: &[Shape; 2], need: &[bool]) -> Rule {
    let m = b.binary(Binary::GreaterEq, hi, lo)?;
    each(b, need, |b, k| {
        let w = if k == 0 { m } else { b.rsub_const(1.0, m)? };
        let t = b.mul(ct, w)?;
        b.unbroadcast(t, &shapes[k])
    })
}

fn reduce(b: &mut Builder, kind: Reduce, axes: &[usize], x: NodeId, y: NodeId, ct: NodeId) -> Result<NodeId, AdError> {
    let xs = b.shape(x);
    // Broadcasting aligns on the right, so leading reduced axes need no unit axes back.
    let leading = axes.iter().enumerate().all(|(i, &a)| i == a);
    let keep = if leading { b.shape(y) } else { xs.with_axes_one(axes) };
    let ct_keep = b.reshape(ct, &keep)?;
    match kind {
        // ct spread over each slice
        Reduce::Sum => b.broadcast_to(ct_keep, &xs),
        // ct to the first maximum of each slice
        Reduce::Max => {
            let mask = b.add(Op::ArgMaxMask { axes: axes.to_vec() }, &[x])?;
            b.mul(ct_keep, mask)
        }
        // ct * softmax(x) = ct * exp(x - y): never above 1, so never overflows
        Reduce::LogSumExp => {
            let y_keep = b.reshape(y, &keep)?;
            let shifted = b.binary(Binary::Sub, x, y_keep)?;
            let p = b.unary(Unary::Exp, shifted)?;
            b.mul(ct_keep, p)
        }
    }
}

/// `C = op(A) @ op(B)`: `dop(A) = ct @ op(B)^T` and `dop(B) = op(A)^T @ ct`, written with
/// the transpose flags (no Transpose nodes): transposing back where `op` transposed.
fn matmul(b: &mut Builder, ta: bool, tb: bool, args: &[NodeId], ct: NodeId, need: &[bool]) -> Rule {
    let (a, m) = (args[0], args[1]);
    each(b, need, |b, k| match (k, ta, tb) {
        (0, false, false) => b.matmul(ct, m, false, true), // ct B^T
        (0, false, true) => b.matmul(ct, m, false, false), // ct B
        (0, true, false) => b.matmul(m, ct, false, true),  // (ct B^T)^T = B ct^T
        (0, true, true) => b.matmul(m, ct, true, true),    // (ct B)^T = B^T ct^T
        (_, false, false) => b.matmul(a, ct, true, false), // A^T ct
        (_, true, false) => b.matmul(a, ct, false, false), // A ct
        (_, false, true) => b.matmul(ct, a, true, false),  // (A^T ct)^T = ct^T A
        (_, true, true) => b.matmul(ct, a, true, true),    // (A ct)^T = ct^T A^T
    })
}
