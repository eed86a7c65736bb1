//! The reverse walk: visit the nodes the target depends on, users before operands, and
//! push each node's cotangent to its operands with the node's rule.

use super::builder::{Builder, Cot};
use super::error::AdError;
use super::rules;
use crate::ir::{Binary, DType, Graph, NodeId, Op, Origin, Phase};
use std::collections::{HashMap, HashSet};

/// Adds to `g` the nodes computing the gradient of the scalar `of` with respect to each
/// leaf in `wrt` (inputs or params), and returns them (one per `wrt`, same shape).
///
/// Only nodes on a path from some `wrt` leaf to `of` get cotangents: nothing is built for
/// the rest. A gradient that is zero (the leaf does not influence `of`) is returned as one
/// `BroadcastTo` of a constant `0` shared by all such leaves (just the constant for a
/// scalar leaf). New nodes are in `Phase::Backward`, with the span of the forward node
/// whose rule made them.
pub fn gradients(g: &mut Graph, of: NodeId, wrt: &[NodeId]) -> Result<Vec<NodeId>, AdError> {
    check_target(g, of)?;
    for &w in wrt {
        check_wrt(g, w)?;
    }
    let order = g.order_from(&[of]);
    let live = influenced(g, &order, wrt);
    let mut cots: HashMap<NodeId, NodeId> = HashMap::new();
    if live.contains(&of) {
        let origin = backward_origin(g, of);
        cots.insert(of, g.constant(1.0, origin));
    }
    for &n in order.iter().rev() {
        let Some(&ct) = cots.get(&n) else {
            continue;
        };
        let op = g.node(n).op.clone();
        if op.is_leaf() {
            continue;
        }
        let args = g.args(n);
        let need: Vec<bool> = args.iter().map(|a| live.contains(a)).collect();
        let origin = backward_origin(g, n);
        let contributions = rules::vjp(&mut Builder::new(g, n, origin), &op, &args, n, ct, &need)?;
        if contributions.len() != args.len() {
            return Err(AdError::Internal {
                node: n,
                message: format!("rule of {} gave {} cotangents", op.name(), contributions.len()),
            });
        }
        for (&a, c) in args.iter().zip(contributions) {
            if let (Cot::Node(c), true) = (c, live.contains(&a)) {
                accumulate(g, &mut cots, a, c)?;
            }
        }
    }
    let mut zero = None;
    wrt.iter()
        .map(|&w| match cots.get(&w) {
            Some(&c) => Ok(c),
            None => materialise_zero(g, w, &mut zero),
        })
        .collect()
}

fn check_target(g: &Graph, of: NodeId) -> Result<(), AdError> {
    if !g.contains(of) {
        return Err(AdError::Internal {
            node: of,
            message: "target is not in the graph".into(),
        });
    }
    let node = g.node(of);
    if node.ty.dtype != DType::F32 {
        return Err(AdError::NotDifferentiable {
            node: of,
            name: node.op.name(),
            span: node.origin.span,
        });
    }
    if node.ty.shape.rank() != 0 {
        return Err(AdError::NotScalar {
            node: of,
            shape: node.ty.shape.clone(),
            span: node.origin.span,
        });
    }
    Ok(())
}

fn check_wrt(g: &Graph, w: NodeId) -> Result<(), AdError> {
    if !g.contains(w) {
        return Err(AdError::Internal {
            node: w,
            message: "differentiation variable is not in the graph".into(),
        });
    }
    let node = g.node(w);
    match node.op {
        Op::Input(i) if node.ty.dtype == DType::I32 => Err(AdError::NotDifferentiable {
            node: w,
            name: g.inputs[i].name.clone(),
            span: node.origin.span,
        }),
        Op::Input(_) | Op::Param(_) => Ok(()),
        _ => Err(AdError::WrtNotLeaf {
            node: w,
            span: node.origin.span,
        }),
    }
}

/// The nodes of `order` (operands first) whose value varies with some `wrt` leaf.
/// A piecewise-constant op stops the influence: its derivative is zero.
fn influenced(g: &Graph, order: &[NodeId], wrt: &[NodeId]) -> HashSet<NodeId> {
    let mut live: HashSet<NodeId> = wrt.iter().copied().collect();
    for &n in order {
        if !live.contains(&n) && !g.node(n).op.is_piecewise_constant() && g.args(n).iter().any(|a| live.contains(a)) {
            live.insert(n);
        }
    }
    live
}

fn backward_origin(g: &Graph, n: NodeId) -> Origin {
    g.node(n).origin.in_phase(Phase::Backward)
}

/// Adds `c` to the cotangent of `a` (the first contribution is used as is).
fn accumulate(g: &mut Graph, cots: &mut HashMap<NodeId, NodeId>, a: NodeId, c: NodeId) -> Result<(), AdError> {
    let sum = match cots.get(&a) {
        None => c,
        Some(&prev) => g
            .add(Op::Binary(Binary::Add), &[prev, c], backward_origin(g, a))
            .map_err(|e| AdError::Internal {
                node: a,
                message: format!("summing cotangents: {e}"),
            })?,
    };
    cots.insert(a, sum);
    Ok(())
}

/// The zero gradient of leaf `w`: the first one creates a constant `0` that later ones share.
fn materialise_zero(g: &mut Graph, w: NodeId, zero: &mut Option<NodeId>) -> Result<NodeId, AdError> {
    let origin = backward_origin(g, w);
    let z = *zero.get_or_insert_with(|| g.constant(0.0, origin));
    let shape = g.shape(w).clone();
    if shape.rank() == 0 {
        return Ok(z);
    }
    g.add(Op::BroadcastTo(shape), &[z], origin)
        .map_err(|e| AdError::Internal {
            node: w,
            message: format!("zero gradient: {e}"),
        })
}
