//! Transpose folding: matrix products read their operands transposed through their flags,
//! so no transposed copy is ever made for them.
//!
//! - `matmul{ta, tb}(transpose(a), b) = matmul{!ta, tb}(a, b)`, and the same for `b`;
//! - `transpose(matmul{ta, tb}(a, b)) = matmul{!tb, !ta}(b, a)`, since `(AB)^T = B^T A^T`,
//!   only when the product has no other user (otherwise it would be computed twice).
//!
//! Both are exact: each element is the same products summed in the same order.

use crate::ir::{Graph, NodeId, Op, Origin};
use std::collections::HashSet;

/// Folds transposes into matrix products. Returns how many nodes were rewritten.
pub fn run(g: &mut Graph) -> usize {
    let order = g.schedule();
    // Users counted for the single-user test: live at the start, or made here.
    let mut live: HashSet<NodeId> = order.iter().copied().collect();
    let mut changed = 0;
    for n in order {
        let origin = g.node(n).origin;
        let rep = match g.node(n).op {
            Op::MatMul { ta, tb } => {
                let Some([a, b]) = two(g, n) else { continue };
                let (a2, ta2) = strip(g, a, ta);
                let (b2, tb2) = strip(g, b, tb);
                if (a2, b2) == (a, b) {
                    continue;
                }
                matmul(g, (a2, ta2), (b2, tb2), origin)
            }
            Op::Transpose => {
                let Some(&m) = g.args(n).first() else { continue };
                let Op::MatMul { ta, tb } = g.node(m).op else {
                    continue;
                };
                if g.users(m).iter().filter(|u| live.contains(u)).count() != 1 {
                    continue;
                }
                let Some([a, b]) = two(g, m) else { continue };
                matmul(g, strip(g, b, !tb), strip(g, a, !ta), origin)
            }
            _ => continue,
        };
        let Some(rep) = rep else { continue };
        live.insert(rep);
        g.replace_uses(n, rep);
        g.remove(n);
        changed += 1;
    }
    changed
}

fn two(g: &Graph, n: NodeId) -> Option<[NodeId; 2]> {
    match g.args(n).as_slice() {
        &[a, b] => Some([a, b]),
        _ => None,
    }
}

/// An operand with its transpose flag, looking through `Transpose` nodes.
fn strip(g: &Graph, mut x: NodeId, mut t: bool) -> (NodeId, bool) {
    while let (Op::Transpose, Some(&inner)) = (&g.node(x).op, g.args(x).first()) {
        x = inner;
        t = !t;
    }
    (x, t)
}

fn matmul(g: &mut Graph, (a, ta): (NodeId, bool), (b, tb): (NodeId, bool), origin: Origin) -> Option<NodeId> {
    g.add(Op::MatMul { ta, tb }, &[a, b], origin).ok()
}
