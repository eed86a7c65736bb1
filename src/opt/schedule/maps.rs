//! Index maps: where in a kernel's iteration space each node is evaluated.
//!
//! A node evaluated at map `m` reads axis `j` of itself at the index of space axis
//! `m[j]` (`None`: always index 0, an extent-1 axis that broadcasts). Stored nodes are
//! evaluated at the identity (over the whole space, or over the kept axes for values that
//! do not vary over reduced axes); every operand's map follows from its user's.

use crate::ir::{Graph, NodeId, Op};
use std::collections::HashMap;

/// A node's index map into the iteration space.
pub(super) type Map = Vec<Option<usize>>;

/// Every axis of a space of rank `n`, in order.
pub(super) fn full_map(n: usize) -> Map {
    (0..n).map(Some).collect()
}

/// The kept axes of a space, in order.
pub(super) fn kept_map(reduced: &[bool]) -> Map {
    (0..reduced.len()).filter(|&k| !reduced[k]).map(Some).collect()
}

/// The extents of the kept axes.
pub(super) fn kept_shape(space: &[usize], reduced: &[bool]) -> Vec<usize> {
    space
        .iter()
        .zip(reduced)
        .filter(|(_, &r)| !r)
        .map(|(&d, _)| d)
        .collect()
}

/// Where operand `a` (shape `sa`) of a node of shape `sn` evaluated at `map` is
/// evaluated: NumPy broadcasting aligns axes on the right, and an extent-1 axis that
/// stretches is always read at index 0.
pub(super) fn broadcast_map(sa: &[usize], sn: &[usize], map: &Map) -> Map {
    let lead = sn.len() - sa.len();
    (0..sa.len())
        .map(|j| {
            if sa[j] == 1 && sn[j + lead] != 1 {
                None
            } else {
                map[j + lead]
            }
        })
        .collect()
}

/// Whether a reshape only inserts or removes extent-1 axes (then it is index arithmetic
/// on any operand, not just on a dense buffer).
pub(super) fn is_unit_reshape(from: &[usize], to: &[usize]) -> bool {
    let a: Vec<usize> = from.iter().copied().filter(|&d| d != 1).collect();
    let b: Vec<usize> = to.iter().copied().filter(|&d| d != 1).collect();
    a == b
}

/// The operand map of a unit reshape from `from` to `to` evaluated at `map`.
pub(super) fn unit_reshape_map(from: &[usize], to: &[usize], map: &Map) -> Map {
    let mut targets = (0..to.len()).filter(|&j| to[j] != 1);
    from.iter()
        .map(|&d| {
            if d == 1 {
                None
            } else {
                targets.next().and_then(|j| map[j])
            }
        })
        .collect()
}

/// Whether node `n` is a reshape that only inserts or removes extent-1 axes.
pub(super) fn unit_reshape(g: &Graph, shape: &HashMap<NodeId, Vec<usize>>, n: NodeId) -> bool {
    matches!(g.node(n).op, Op::Reshape(_)) && is_unit_reshape(&shape[&g.args(n)[0]], &shape[&n])
}

/// The operands of an elementwise-style node evaluated at `map`, each with its map.
/// Reductions are not covered: their operand is evaluated over the whole space.
pub(super) fn operand_maps(g: &Graph, shape: &HashMap<NodeId, Vec<usize>>, n: NodeId, map: &Map) -> Vec<(NodeId, Map)> {
    let out = &shape[&n];
    match &g.node(n).op {
        Op::Unary(_) | Op::Binary(_) | Op::BroadcastTo(_) => g
            .args(n)
            .into_iter()
            .map(|a| (a, broadcast_map(&shape[&a], out, map)))
            .collect(),
        Op::Reshape(_) => {
            let a = g.args(n)[0];
            vec![(a, unit_reshape_map(&shape[&a], out, map))]
        }
        _ => Vec::new(),
    }
}

/// The map at which a group over `space` (with `reduced` axes) stores node `n`, if it
/// can: reductions and values of the kept shape at the kept axes, values of the whole
/// space's shape at every axis.
pub(super) fn store_map(
    g: &Graph,
    shape: &HashMap<NodeId, Vec<usize>>,
    n: NodeId,
    space: &[usize],
    reduced: &[bool],
) -> Option<Map> {
    let axes_match = |axes: &[usize]| (0..space.len()).all(|k| reduced[k] == axes.contains(&k));
    match &g.node(n).op {
        Op::Reduce { axes, .. } => {
            let x = g.args(n)[0];
            (shape[&x] == space && axes_match(axes)).then(|| kept_map(reduced))
        }
        Op::ArgMaxMask { axes } => (shape[&n] == space && axes_match(axes)).then(|| full_map(space.len())),
        _ => {
            let s = &shape[&n];
            if s == space {
                Some(full_map(space.len()))
            } else if *s == kept_shape(space, reduced) {
                Some(kept_map(reduced))
            } else {
                None
            }
        }
    }
}
