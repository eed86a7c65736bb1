//! Which nodes get a buffer, which are views of another node's buffer, and which are
//! computed inline inside a consumer's loop: the fusion decisions, grouped into kernels.

use super::{OptLevel, ScheduleError};
use crate::ir::{Bindings, DType, Graph, NodeId, Op};
use std::collections::HashMap;

/// More expressions than this in one loop kernel start a new kernel, so that compile time
/// stays linear in graph size (a 50,000-term sum is not one function).
const MAX_GROUP_NODES: usize = 512;

/// How a node is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// An input or param: the caller's buffer.
    Leaf,
    /// Recomputed inside the kernel of its group (elementwise work and constants).
    Inline(usize),
    /// A reshape or transpose of a buffer-backed node: the same buffer, other strides.
    View,
    /// Written to its own buffer by the kernel of its group.
    Stored(usize),
}

/// What kind of kernel a group becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum GroupKind {
    /// A loop nest over `space`; `reduced` marks the reduced axes.
    Loop {
        /// iteration space
        space: Vec<usize>,
        /// reduced axes
        reduced: Vec<bool>,
    },
    /// A matrix product.
    MatMul,
}

/// One future kernel: the nodes it stores (its roots), in order.
#[derive(Clone, Debug)]
pub(super) struct Group {
    pub kind: GroupKind,
    pub stored: Vec<NodeId>,
    pub members: Vec<NodeId>,
}

/// The fusion decisions for one graph and binding.
pub(super) struct Plan {
    /// Live nodes, operands first.
    pub order: Vec<NodeId>,
    /// The role of each live node.
    pub role: HashMap<NodeId, Role>,
    /// Concrete shape of each live node.
    pub shape: HashMap<NodeId, Vec<usize>>,
    /// The groups, in execution order.
    pub groups: Vec<Group>,
}

impl Plan {
    /// The role of a live node.
    pub fn role(&self, n: NodeId) -> Role {
        self.role[&n]
    }
}

/// Decides roles and groups.
pub(super) fn plan(g: &Graph, bindings: &Bindings, level: OptLevel) -> Result<Plan, ScheduleError> {
    let order = execution_order(g);
    let mut shape = HashMap::new();
    for &n in &order {
        let node = g.node(n);
        if matches!(node.op, Op::Grad) {
            return Err(ScheduleError::GradLeft);
        }
        shape.insert(n, node.ty.shape.eval(bindings)?);
    }
    check_roots(g)?;
    let mut materialise = forced(g, &order, &shape, level);
    let mut role: HashMap<NodeId, Role> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of_stored: HashMap<NodeId, usize> = HashMap::new();
    // Users first, so that a node knows which groups consume it.
    for &n in order.iter().rev() {
        let op = &g.node(n).op;
        let r = match op {
            Op::Input(_) | Op::Param(_) => Role::Leaf,
            Op::Reshape(_) | Op::Transpose if !materialise.contains_key(&n) => Role::View,
            _ => {
                let users = live_users(g, n, &shape);
                // Inlining into a broadcasting user would recompute each element many times.
                let expanded = users.iter().any(|u| expands(g, *u, &shape, n)) && !matches!(op, Op::Const { .. });
                let joined = if materialise.contains_key(&n) || !is_fusable(op) || expanded {
                    None
                } else {
                    common_group(&users, &role).filter(|&gi| groups[gi].members.len() < MAX_GROUP_NODES)
                };
                match joined {
                    Some(gi) => {
                        groups[gi].members.push(n);
                        Role::Inline(gi)
                    }
                    None if matches!(op, Op::Const { .. }) && !materialise.contains_key(&n) => {
                        // A constant used by several kernels is an immediate in each.
                        Role::Inline(usize::MAX)
                    }
                    None => {
                        materialise.insert(n, ());
                        let gi = groups.len();
                        groups.push(Group {
                            kind: group_kind(g, n, &shape),
                            stored: vec![n],
                            members: vec![n],
                        });
                        group_of_stored.insert(n, gi);
                        Role::Stored(gi)
                    }
                }
            }
        };
        role.insert(n, r);
    }
    // Execution order: by the position of each group's (last) stored node.
    let pos: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut idx: Vec<usize> = (0..groups.len()).collect();
    idx.sort_by_key(|&gi| groups[gi].stored.iter().map(|n| pos[n]).max());
    let mut renumber = vec![0; groups.len()];
    for (new, &old) in idx.iter().enumerate() {
        renumber[old] = new;
    }
    for r in role.values_mut() {
        match r {
            Role::Inline(gi) if *gi != usize::MAX => *gi = renumber[*gi],
            Role::Stored(gi) => *gi = renumber[*gi],
            _ => {}
        }
    }
    let mut sorted: Vec<Group> = idx.iter().map(|&gi| groups[gi].clone()).collect();
    for grp in &mut sorted {
        grp.members.sort_by_key(|n| pos[n]);
    }
    Ok(Plan {
        order,
        role,
        shape,
        groups: sorted,
    })
}

/// Live nodes, operands first: everything the outputs, the loss and the operands of the
/// updates need, then the update values themselves. So every read of an old param value
/// comes before the kernels computing new values, which can then write in place.
fn execution_order(g: &Graph) -> Vec<NodeId> {
    let mut roots: Vec<NodeId> = g.outputs.iter().map(|o| o.1).collect();
    roots.extend(g.loss);
    for &(_, n) in &g.updates {
        roots.extend(g.args(n));
    }
    roots.extend(g.updates.iter().map(|u| u.1));
    g.order_from(&roots)
}

/// Rejects what the caller-facing ABI cannot express.
fn check_roots(g: &Graph) -> Result<(), ScheduleError> {
    for (name, n) in &g.outputs {
        if g.dtype(*n) != DType::F32 {
            return Err(ScheduleError::Unsupported(format!("output `{name}` is an i32 tensor")));
        }
    }
    let mut seen = vec![false; g.params.len()];
    for &(p, _) in &g.updates {
        if p >= seen.len() || seen[p] {
            return Err(ScheduleError::Unsupported(format!("param {p} is updated twice")));
        }
        seen[p] = true;
    }
    Ok(())
}

/// Users of `n` that are live (reachable from the roots), once per use.
fn live_users(g: &Graph, n: NodeId, shape: &HashMap<NodeId, Vec<usize>>) -> Vec<NodeId> {
    g.users(n).into_iter().filter(|u| shape.contains_key(u)).collect()
}

/// Whether user `u` reads each element of `n` more than once (broadcasting it).
fn expands(g: &Graph, u: NodeId, shape: &HashMap<NodeId, Vec<usize>>, n: NodeId) -> bool {
    if matches!(g.node(u).op, Op::Reduce { .. } | Op::ArgMaxMask { .. }) {
        return false;
    }
    let numel = |x: NodeId| shape[&x].iter().product::<usize>();
    numel(u) > numel(n)
}

/// The one group all `users` compute in, if there is one.
fn common_group(users: &[NodeId], role: &HashMap<NodeId, Role>) -> Option<usize> {
    let mut group = None;
    for u in users {
        let gi = match role.get(u)? {
            Role::Inline(gi) | Role::Stored(gi) if *gi != usize::MAX => *gi,
            _ => return None,
        };
        if group.is_some_and(|g| g != gi) {
            return None;
        }
        group = Some(gi);
    }
    group
}

/// Ops whose result can be computed inside a consumer's loop.
fn is_fusable(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary(_) | Op::Binary(_) | Op::BroadcastTo(_) | Op::OneHot { .. } | Op::Const { .. }
    )
}

/// The kernel a stored node roots.
fn group_kind(g: &Graph, n: NodeId, shape: &HashMap<NodeId, Vec<usize>>) -> GroupKind {
    match &g.node(n).op {
        Op::MatMul { .. } => GroupKind::MatMul,
        Op::Reduce { axes, .. } | Op::ArgMaxMask { axes } => {
            let x = g.args(n)[0];
            let space = shape[&x].clone();
            let reduced = (0..space.len()).map(|k| axes.contains(&k)).collect();
            GroupKind::Loop { space, reduced }
        }
        _ => {
            let space = shape[&n].clone();
            GroupKind::Loop {
                reduced: vec![false; space.len()],
                space,
            }
        }
    }
}

/// Nodes that must have their own buffer whatever their users: roots, products,
/// reductions, operands that a product or view reads from memory, and (at `O0`) every
/// computed node. The map is used as a set.
fn forced(g: &Graph, order: &[NodeId], shape: &HashMap<NodeId, Vec<usize>>, level: OptLevel) -> HashMap<NodeId, ()> {
    let mut m: HashMap<NodeId, ()> = HashMap::new();
    for r in g.roots() {
        if !matches!(
            g.node(r).op,
            Op::Input(_) | Op::Param(_) | Op::Reshape(_) | Op::Transpose
        ) || level == OptLevel::O0
        {
            m.insert(r, ());
        }
    }
    for &n in order {
        let op = &g.node(n).op;
        match op {
            Op::Input(_) | Op::Param(_) => {}
            Op::Const { .. } => {}
            _ if level == OptLevel::O0 => {
                m.insert(n, ());
            }
            Op::MatMul { .. } | Op::Reduce { .. } | Op::ArgMaxMask { .. } => {
                m.insert(n, ());
            }
            _ => {}
        }
        if matches!(op, Op::MatMul { .. } | Op::Reshape(_) | Op::Transpose) {
            for a in g.args(n) {
                if !matches!(
                    g.node(a).op,
                    Op::Input(_) | Op::Param(_) | Op::Reshape(_) | Op::Transpose
                ) {
                    m.insert(a, ());
                }
            }
        }
    }
    // A reshape reads its operand's memory row-major, so a transposed (strided) operand
    // is copied first. Views only ever become copies, so this reaches a fixed point.
    loop {
        let strides = view_strides(g, order, shape, &m);
        let mut changed = false;
        for &n in order {
            if matches!(g.node(n).op, Op::Reshape(_)) && !m.contains_key(&n) {
                let a = g.args(n)[0];
                if !is_contiguous(&shape[&a], &strides[&a]) && !m.contains_key(&a) {
                    m.insert(a, ());
                    changed = true;
                }
            }
        }
        if !changed {
            return m;
        }
    }
}

/// Element strides of every buffer-backed node (leaves, materialised nodes and views).
fn view_strides(
    g: &Graph,
    order: &[NodeId],
    shape: &HashMap<NodeId, Vec<usize>>,
    m: &HashMap<NodeId, ()>,
) -> HashMap<NodeId, Vec<isize>> {
    let mut s: HashMap<NodeId, Vec<isize>> = HashMap::new();
    for &n in order {
        let op = &g.node(n).op;
        let st = match op {
            Op::Transpose if !m.contains_key(&n) => match s.get(&g.args(n)[0]) {
                Some(a) => vec![a[1], a[0]],
                None => continue,
            },
            _ => row_major(&shape[&n]),
        };
        s.insert(n, st);
    }
    s
}

/// Row-major element strides of a shape.
pub(super) fn row_major(shape: &[usize]) -> Vec<isize> {
    let mut s = vec![1isize; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1] as isize;
    }
    s
}

/// Whether strides describe a dense row-major layout (axes of extent 1 are ignored).
pub(super) fn is_contiguous(shape: &[usize], strides: &[isize]) -> bool {
    let want = row_major(shape);
    shape
        .iter()
        .zip(strides.iter().zip(&want))
        .all(|(&d, (&s, &w))| d <= 1 || s == w)
}
