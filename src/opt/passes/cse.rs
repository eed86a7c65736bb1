//! Common-subexpression elimination by hash-consing `(op, operands)` in schedule order.
//!
//! Operands come before their users in the schedule, so by the time a node is reached its
//! operands are already the representatives of their classes, and one pass finds every
//! duplicate. The first occurrence stays (with its `Origin`: usually the forward node, so
//! messages point at what the user wrote); later ones are redirected to it and removed.

use crate::ir::{Binary, Graph, NodeId, Op};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// Merges duplicate nodes, treating `Add`, `Mul`, `Max` and `Min` as commutative. Returns
/// how many nodes were merged away.
pub fn run(g: &mut Graph) -> usize {
    run_with(g, true)
}

/// [`run`], with `Max` and `Min` commutative only when `commute_max_min`: at a tie between
/// `+0` and `-0` they return their first operand, so swapping the operands can flip the
/// sign of a zero (`Add` and `Mul` commute exactly).
pub fn run_with(g: &mut Graph, commute_max_min: bool) -> usize {
    let mut seen: HashMap<(Op, Vec<NodeId>), NodeId> = HashMap::new();
    let mut merged = Vec::new();
    for n in g.schedule() {
        let op = g.node(n).op.clone();
        if matches!(op, Op::Input(_) | Op::Param(_)) {
            continue;
        }
        let mut args = g.args(n);
        if commutes(&op, commute_max_min) {
            args.sort_unstable();
        }
        match seen.entry((op, args)) {
            Entry::Occupied(first) => {
                g.replace_uses(n, *first.get());
                merged.push(n);
            }
            Entry::Vacant(slot) => {
                slot.insert(n);
            }
        }
    }
    // Removed together, newest first: one by one was quadratic in the fan-out of `x` when
    // merging 50,000 copies of `x * w`.
    let count = merged.len();
    g.remove_all(merged);
    count
}

fn commutes(op: &Op, max_min: bool) -> bool {
    match op {
        Op::Binary(Binary::Add | Binary::Mul) => true,
        Op::Binary(Binary::Max | Binary::Min) => max_min,
        _ => false,
    }
}
