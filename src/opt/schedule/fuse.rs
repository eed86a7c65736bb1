//! Which nodes get a buffer, which are views of another node's buffer, and which are
//! computed inline inside a consumer's loop: the fusion decisions, grouped into kernels.
//!
//! Phase 1 gives every node that must be materialised its own group and inlines each
//! elementwise node into the group of its users when they all share one. Phase 2 (at
//! `O1`) merges producer and consumer groups whose iteration spaces are compatible (equal,
//! or one the kept part of the other's reduction) when that keeps the group graph acyclic
//! and every reduction is still evaluated at its own kept indices: so `exp(x - lse(x))`,
//! a bias add with its activation, and a gradient with the column sums of it become one
//! loop each. Finally stored nodes that nobody outside their group reads stop being stored.

use super::maps::{self, Map};
use super::{OptLevel, ScheduleError};
use crate::ir::{Bindings, DType, Graph, NodeId, Op};
use std::collections::{BTreeSet, HashMap, HashSet};

/// More nodes than this in one loop kernel start a new kernel, so that compile time
/// stays linear in graph size (a 50,000-term sum is not one function).
const MAX_GROUP_NODES: usize = 512;

/// The group index of nodes recomputed inside every kernel that uses them (constants,
/// one-hot encodings, broadcasts and unit reshapes of loaded values).
pub(super) const EVERYWHERE: usize = usize::MAX;

/// How a node is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// An input or param: the caller's buffer.
    Leaf,
    /// Recomputed inside the kernel of its group (or of every user: [`EVERYWHERE`]).
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
    /// A reshape or transpose materialised as a dense copy.
    Copy,
    /// A matrix product.
    MatMul,
}

/// One future kernel: the nodes it stores and all the nodes it computes.
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
    let mut f = Fuser {
        g,
        pos: order.iter().enumerate().map(|(i, &n)| (n, i)).collect(),
        roots: g.roots().into_iter().collect(),
        order,
        shape,
        role: HashMap::new(),
        groups: Vec::new(),
        succ: Vec::new(),
        pred: Vec::new(),
    };
    f.initial(level);
    f.edges();
    if level == OptLevel::O1 {
        f.merge_all();
        f.demote();
    }
    Ok(f.finish())
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

struct Fuser<'g> {
    g: &'g Graph,
    order: Vec<NodeId>,
    pos: HashMap<NodeId, usize>,
    roots: HashSet<NodeId>,
    shape: HashMap<NodeId, Vec<usize>>,
    role: HashMap<NodeId, Role>,
    /// `None` once merged into another group.
    groups: Vec<Option<Group>>,
    /// Group dependencies: `succ[a]` read what `a` stores.
    succ: Vec<BTreeSet<usize>>,
    pred: Vec<BTreeSet<usize>>,
}

impl Fuser<'_> {
    fn op(&self, n: NodeId) -> &Op {
        &self.g.node(n).op
    }

    fn is_leaf(&self, n: NodeId) -> bool {
        matches!(self.op(n), Op::Input(_) | Op::Param(_))
    }

    fn is_unit_reshape(&self, n: NodeId) -> bool {
        maps::unit_reshape(self.g, &self.shape, n)
    }

    /// Users of `n` that are live, once per use.
    fn users(&self, n: NodeId) -> Vec<NodeId> {
        self.g
            .users(n)
            .into_iter()
            .filter(|u| self.shape.contains_key(u))
            .collect()
    }

    /// Whether the result can be computed inside a consumer's loop.
    fn is_fusable(&self, n: NodeId) -> bool {
        match self.op(n) {
            Op::Unary(_) | Op::Binary(_) | Op::BroadcastTo(_) | Op::OneHot { .. } | Op::Const { .. } => true,
            Op::Reshape(_) => self.is_unit_reshape(n),
            _ => false,
        }
    }

    /// Cheap enough to recompute in every kernel that uses it.
    fn is_duplicable(&self, n: NodeId) -> bool {
        match self.op(n) {
            Op::OneHot { .. } | Op::Const { .. } | Op::BroadcastTo(_) => true,
            Op::Reshape(_) => self.is_unit_reshape(n),
            _ => false,
        }
    }

    /// Phase 1: views, forced materialisations, and elementwise nodes inlined into the
    /// one group that uses them.
    fn initial(&mut self, level: OptLevel) {
        let (views, mut must) = self.views_and_forced(level);
        let order = self.order.clone();
        for &n in order.iter().rev() {
            let r = if self.is_leaf(n) {
                Role::Leaf
            } else if views.contains(&n) {
                Role::View
            } else if must.contains(&n) || !self.is_fusable(n) {
                self.new_group(n)
            } else {
                let users = self.users(n);
                // Inlining into a broadcasting user would recompute each element many times.
                let expanded = users.iter().any(|&u| self.expands(u, n)) && !matches!(self.op(n), Op::Const { .. });
                let common = self
                    .common_group(&users)
                    .filter(|&gi| self.group(gi).members.len() < MAX_GROUP_NODES);
                match common {
                    Some(gi) if !expanded => {
                        if let Some(grp) = self.groups[gi].as_mut() {
                            grp.members.push(n);
                        }
                        Role::Inline(gi)
                    }
                    _ if self.is_duplicable(n) => Role::Inline(EVERYWHERE),
                    _ => {
                        must.insert(n);
                        self.new_group(n)
                    }
                }
            };
            self.role.insert(n, r);
        }
    }

    fn group(&self, gi: usize) -> &Group {
        self.groups[gi].as_ref().expect("a live group")
    }

    fn new_group(&mut self, n: NodeId) -> Role {
        let kind = match self.op(n) {
            Op::MatMul { .. } => GroupKind::MatMul,
            Op::Transpose => GroupKind::Copy,
            Op::Reshape(_) if !self.is_unit_reshape(n) => GroupKind::Copy,
            Op::Reduce { axes, .. } | Op::ArgMaxMask { axes } => {
                let space = self.shape[&self.g.args(n)[0]].clone();
                let reduced = (0..space.len()).map(|k| axes.contains(&k)).collect();
                GroupKind::Loop { space, reduced }
            }
            _ => {
                let space = self.shape[&n].clone();
                GroupKind::Loop {
                    reduced: vec![false; space.len()],
                    space,
                }
            }
        };
        self.groups.push(Some(Group {
            kind,
            stored: vec![n],
            members: vec![n],
        }));
        Role::Stored(self.groups.len() - 1)
    }

    /// Whether user `u` reads each element of `n` more than once (broadcasting it).
    fn expands(&self, u: NodeId, n: NodeId) -> bool {
        if matches!(self.op(u), Op::Reduce { .. } | Op::ArgMaxMask { .. }) {
            return false;
        }
        let numel = |x: NodeId| self.shape[&x].iter().product::<usize>();
        numel(u) > numel(n)
    }

    /// The one group all `users` compute in, if there is one.
    fn common_group(&self, users: &[NodeId]) -> Option<usize> {
        let mut group = None;
        for u in users {
            let gi = match self.role.get(u)? {
                Role::Inline(gi) | Role::Stored(gi) if *gi != EVERYWHERE => *gi,
                _ => return None,
            };
            if group.is_some_and(|g| g != gi) {
                return None;
            }
            group = Some(gi);
        }
        group
    }

    /// Views (reshapes and transposes read from their operand's buffer) and the nodes
    /// that must have their own buffer whatever their users: roots, products, reductions,
    /// operands that a product or view reads from memory, and at `O0` every computed node.
    fn views_and_forced(&self, level: OptLevel) -> (HashSet<NodeId>, HashSet<NodeId>) {
        let g = self.g;
        let mut views: HashSet<NodeId> = HashSet::new();
        let mut must: HashSet<NodeId> = HashSet::new();
        let needs_buffer = |n: NodeId| matches!(g.node(n).op, Op::MatMul { .. } | Op::Transpose);
        if level == OptLevel::O0 {
            for &n in &self.order {
                if !self.is_leaf(n) {
                    must.insert(n);
                }
            }
            return (views, must);
        }
        for &n in &self.order {
            match self.op(n) {
                Op::MatMul { .. } | Op::Reduce { .. } | Op::ArgMaxMask { .. } => {
                    must.insert(n);
                }
                Op::Transpose => {
                    views.insert(n);
                }
                Op::Reshape(_) => {
                    let a = g.args(n)[0];
                    let read_from_memory = self.users(n).into_iter().any(|u| {
                        needs_buffer(u) || (matches!(g.node(u).op, Op::Reshape(_)) && !self.is_unit_reshape(u))
                    });
                    if !self.is_unit_reshape(n) || self.is_leaf(a) || views.contains(&a) || read_from_memory {
                        views.insert(n);
                    }
                }
                _ => {}
            }
        }
        // Operands read from memory are buffers (or views of buffers).
        for &n in &self.order {
            if views.contains(&n) || needs_buffer(n) {
                for a in g.args(n) {
                    if !self.is_leaf(a) && !views.contains(&a) {
                        must.insert(a);
                    }
                }
            }
        }
        for r in &self.roots {
            if !self.is_leaf(*r) && !views.contains(r) {
                must.insert(*r);
            }
        }
        // A reshape reads its operand's memory row-major, so a transposed (strided)
        // operand becomes a dense copy first. Views only ever become copies, so this
        // reaches a fixed point.
        loop {
            let strides = self.view_strides(&views);
            let mut changed = false;
            for &n in &self.order {
                if matches!(self.op(n), Op::Reshape(_)) && views.contains(&n) {
                    let a = g.args(n)[0];
                    if !is_contiguous(&self.shape[&a], &strides[&a]) {
                        views.remove(&a);
                        must.insert(a);
                        changed = true;
                    }
                }
            }
            if !changed {
                return (views, must);
            }
        }
    }

    /// Element strides of every node, as if views were views and the rest dense.
    fn view_strides(&self, views: &HashSet<NodeId>) -> HashMap<NodeId, Vec<isize>> {
        let mut s: HashMap<NodeId, Vec<isize>> = HashMap::new();
        for &n in &self.order {
            let st = match self.op(n) {
                Op::Transpose if views.contains(&n) => {
                    let a = &s[&self.g.args(n)[0]];
                    vec![a[1], a[0]]
                }
                _ => row_major(&self.shape[&n]),
            };
            s.insert(n, st);
        }
        s
    }

    // ---- phase 2: merging groups ----

    /// The groups whose stored nodes `n` reads when computed in a kernel (through views
    /// and nodes recomputed everywhere).
    fn sources(&self, n: NodeId, out: &mut BTreeSet<usize>) {
        let mut stack = self.g.args(n);
        while let Some(a) = stack.pop() {
            match self.role[&a] {
                Role::Stored(gi) => {
                    out.insert(gi);
                }
                Role::View => stack.extend(self.g.args(a)),
                Role::Inline(EVERYWHERE) => stack.extend(self.g.args(a)),
                Role::Inline(_) | Role::Leaf => {}
            }
        }
    }

    /// The groups whose buffers `members` read through a view (which needs the whole
    /// buffer written before the read).
    fn view_reads(&self, members: &HashSet<NodeId>) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<(NodeId, bool)> = members
            .iter()
            .flat_map(|&m| self.g.args(m))
            .map(|a| (a, false))
            .collect();
        let mut seen = HashSet::new();
        while let Some((a, via_view)) = stack.pop() {
            if !seen.insert((a, via_view)) {
                continue;
            }
            match self.role[&a] {
                Role::Stored(gi) if via_view => {
                    out.insert(gi);
                }
                Role::View => stack.extend(self.g.args(a).into_iter().map(|x| (x, true))),
                Role::Inline(EVERYWHERE) => stack.extend(self.g.args(a).into_iter().map(|x| (x, via_view))),
                _ => {}
            }
        }
        out
    }

    fn edges(&mut self) {
        let n = self.groups.len();
        self.succ = vec![BTreeSet::new(); n];
        self.pred = vec![BTreeSet::new(); n];
        for gi in 0..n {
            let mut src = BTreeSet::new();
            for &m in &self.group(gi).members {
                self.sources(m, &mut src);
            }
            src.remove(&gi);
            for s in src {
                self.succ[s].insert(gi);
                self.pred[gi].insert(s);
            }
        }
    }

    fn merge_all(&mut self) {
        loop {
            let mut changed = false;
            for a in 0..self.groups.len() {
                if self.groups[a].is_none() {
                    continue;
                }
                let consumers: Vec<usize> = self.succ[a].iter().copied().collect();
                for b in consumers {
                    if self.try_merge(a, b) {
                        changed = true;
                        break;
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The iteration space of two loop groups computed as one, if they fit.
    fn merged_space(&self, a: usize, b: usize) -> Option<(Vec<usize>, Vec<bool>)> {
        let (GroupKind::Loop { space: sa, reduced: ra }, GroupKind::Loop { space: sb, reduced: rb }) =
            (&self.group(a).kind, &self.group(b).kind)
        else {
            return None;
        };
        let (red_a, red_b) = (ra.contains(&true), rb.contains(&true));
        let fits_in = |s: &Vec<usize>, space: &Vec<usize>, reduced: &Vec<bool>| {
            s == space || *s == maps::kept_shape(space, reduced)
        };
        match (red_a, red_b) {
            (false, false) => (sa == sb).then(|| (sa.clone(), ra.clone())),
            (true, true) => (sa == sb && ra == rb).then(|| (sa.clone(), ra.clone())),
            (true, false) => fits_in(sb, sa, ra).then(|| (sa.clone(), ra.clone())),
            (false, true) => fits_in(sa, sb, rb).then(|| (sb.clone(), rb.clone())),
        }
    }

    /// Merges group `b` into `a` if the result is a valid loop kernel and the group
    /// graph stays acyclic.
    fn try_merge(&mut self, a: usize, b: usize) -> bool {
        if a == b || self.groups[b].is_none() {
            return false;
        }
        let Some((space, reduced)) = self.merged_space(a, b) else {
            return false;
        };
        let (ga, gb) = (self.group(a), self.group(b));
        if ga.members.len() + gb.members.len() > MAX_GROUP_NODES {
            return false;
        }
        let stored: Vec<NodeId> = ga.stored.iter().chain(&gb.stored).copied().collect();
        let members: HashSet<NodeId> = ga.members.iter().chain(&gb.members).copied().collect();
        // A view reads its operand's buffer, so it must be complete: no group reads
        // what it stores itself through a view.
        let through_views = self.view_reads(&members);
        if through_views.contains(&a) || through_views.contains(&b) {
            return false;
        }
        if !self.maps_ok(&stored, &members, &space, &reduced) || self.path_between(a, b) || self.path_between(b, a) {
            return false;
        }
        // Apply: b's nodes move to a.
        let gb = self.groups[b].take().expect("checked live");
        for &m in &gb.members {
            let r = self.role.get_mut(&m).expect("members have roles");
            *r = match *r {
                Role::Stored(_) => Role::Stored(a),
                _ => Role::Inline(a),
            };
        }
        let ga = self.groups[a].as_mut().expect("checked live");
        ga.members.extend(gb.members);
        ga.stored.extend(gb.stored);
        ga.kind = GroupKind::Loop { space, reduced };
        for x in std::mem::take(&mut self.pred[b]) {
            self.succ[x].remove(&b);
            if x != a {
                self.succ[x].insert(a);
                self.pred[a].insert(x);
            }
        }
        for y in std::mem::take(&mut self.succ[b]) {
            self.pred[y].remove(&b);
            if y != a {
                self.pred[y].insert(a);
                self.succ[a].insert(y);
            }
        }
        self.succ[a].remove(&b);
        self.pred[a].remove(&b);
        true
    }

    /// Whether some group other than `to` reachable from `from` reaches `to`.
    fn path_between(&self, from: usize, to: usize) -> bool {
        let mut seen = HashSet::new();
        let mut stack: Vec<usize> = self.succ[from].iter().copied().filter(|&k| k != to).collect();
        while let Some(k) = stack.pop() {
            if !seen.insert(k) {
                continue;
            }
            if self.succ[k].contains(&to) {
                return true;
            }
            stack.extend(self.succ[k].iter().copied().filter(|&x| x != to));
        }
        false
    }

    /// Whether a group over (`space`, `reduced`) can store each of `stored` at its
    /// identity and compute each member at the maps its users need: in particular
    /// every reduction at exactly the kept axes.
    fn maps_ok(&self, stored: &[NodeId], members: &HashSet<NodeId>, space: &[usize], reduced: &[bool]) -> bool {
        let full = maps::full_map(space.len());
        let kept = maps::kept_map(reduced);
        let mut stack: Vec<(NodeId, Map)> = Vec::new();
        for &n in stored {
            match maps::store_map(self.g, &self.shape, n, space, reduced) {
                Some(m) => stack.push((n, m)),
                None => return false,
            }
        }
        let mut seen: HashSet<(NodeId, Map)> = HashSet::new();
        while let Some((n, m)) = stack.pop() {
            let computed = members.contains(&n) || self.role[&n] == Role::Inline(EVERYWHERE);
            if !computed || !seen.insert((n, m.clone())) {
                continue;
            }
            match self.op(n) {
                Op::Reduce { .. } | Op::ArgMaxMask { .. } => {
                    let want = if matches!(self.op(n), Op::Reduce { .. }) {
                        &kept
                    } else {
                        &full
                    };
                    if m != *want || maps::store_map(self.g, &self.shape, n, space, reduced).as_ref() != Some(want) {
                        return false;
                    }
                    stack.push((self.g.args(n)[0], full.clone()));
                }
                Op::Unary(_) | Op::Binary(_) | Op::BroadcastTo(_) | Op::Reshape(_) => {
                    stack.extend(maps::operand_maps(self.g, &self.shape, n, &m));
                }
                Op::OneHot { .. } | Op::Const { .. } => {}
                Op::Input(_) | Op::Param(_) | Op::Transpose | Op::MatMul { .. } | Op::Grad => return false,
            }
        }
        true
    }

    /// Stored nodes that no root needs and only their own group reads are not stored.
    fn demote(&mut self) {
        for gi in 0..self.groups.len() {
            let Some(grp) = &self.groups[gi] else { continue };
            if matches!(grp.kind, GroupKind::MatMul | GroupKind::Copy) {
                continue;
            }
            let stored = grp.stored.clone();
            let keep: Vec<NodeId> = stored
                .iter()
                .copied()
                .filter(|&n| {
                    self.roots.contains(&n) || matches!(self.op(n), Op::ArgMaxMask { .. }) || !self.used_only_in(n, gi)
                })
                .collect();
            if keep.is_empty() {
                continue;
            }
            for &n in &stored {
                if !keep.contains(&n) {
                    self.role.insert(n, Role::Inline(gi));
                }
            }
            if let Some(grp) = self.groups[gi].as_mut() {
                grp.stored = keep;
            }
        }
    }

    /// Whether every use of `n` is computed in group `gi`.
    fn used_only_in(&self, n: NodeId, gi: usize) -> bool {
        self.users(n).into_iter().all(|u| match self.role[&u] {
            Role::Inline(EVERYWHERE) => !self.roots.contains(&u) && self.used_only_in(u, gi),
            Role::Inline(h) | Role::Stored(h) => h == gi,
            Role::View | Role::Leaf => false,
        })
    }

    /// Edges from every group reading a param to the group computing its update.
    fn param_read_edges(&self) -> Vec<BTreeSet<usize>> {
        let mut extra = vec![BTreeSet::new(); self.groups.len()];
        let writer: HashMap<usize, usize> = self
            .g
            .updates
            .iter()
            .filter_map(|&(p, n)| match self.role.get(&n) {
                Some(Role::Stored(gi)) => Some((p, *gi)),
                _ => None,
            })
            .collect();
        for (gi, grp) in self.groups.iter().enumerate() {
            let Some(grp) = grp else { continue };
            let mut stack: Vec<NodeId> = grp.members.iter().flat_map(|&m| self.g.args(m)).collect();
            let mut seen = HashSet::new();
            while let Some(a) = stack.pop() {
                if !seen.insert(a) {
                    continue;
                }
                match (self.op(a), self.role[&a]) {
                    (Op::Param(p), _) => {
                        if let Some(&w) = writer.get(p) {
                            if w != gi {
                                extra[gi].insert(w);
                            }
                        }
                    }
                    (_, Role::View) | (_, Role::Inline(EVERYWHERE)) => stack.extend(self.g.args(a)),
                    _ => {}
                }
            }
        }
        extra
    }

    /// The plan, with groups in a topological order of their dependencies (ties: the
    /// group whose last stored node comes first in the node order).
    fn finish(self) -> Plan {
        let live: Vec<usize> = (0..self.groups.len()).filter(|&g| self.groups[g].is_some()).collect();
        let key = |gi: usize| self.group(gi).stored.iter().map(|n| self.pos[n]).max().unwrap_or(0);
        // Readers of a param's old value should run before the kernel computing its new
        // value, so that kernel can write the param in place; if that ordering is
        // impossible the updates go through copies (the build step checks).
        let extra = self.param_read_edges();
        let with_extra: Vec<BTreeSet<usize>> = (0..self.groups.len())
            .map(|g| self.succ[g].union(&extra[g]).copied().collect())
            .collect();
        let sorted = topo_sort(&live, &with_extra, key)
            .or_else(|| topo_sort(&live, &self.succ, key))
            .expect("the group graph is acyclic");
        let mut renumber = vec![usize::MAX; self.groups.len()];
        for (new, &old) in sorted.iter().enumerate() {
            renumber[old] = new;
        }
        let mut role = self.role;
        for r in role.values_mut() {
            match r {
                Role::Inline(gi) if *gi != EVERYWHERE => *gi = renumber[*gi],
                Role::Stored(gi) => *gi = renumber[*gi],
                _ => {}
            }
        }
        let pos = &self.pos;
        let groups = sorted
            .iter()
            .map(|&gi| {
                let mut grp = self.groups[gi].clone().expect("live");
                grp.members.sort_by_key(|n| pos[n]);
                grp.stored.sort_by_key(|n| pos[n]);
                grp
            })
            .collect();
        Plan {
            order: self.order,
            role,
            shape: self.shape,
            groups,
        }
    }
}

/// Kahn's algorithm over `live` groups with successor sets `succ`, picking the ready group
/// with the smallest `key`; `None` if there is a cycle.
fn topo_sort(live: &[usize], succ: &[BTreeSet<usize>], key: impl Fn(usize) -> usize) -> Option<Vec<usize>> {
    let mut indeg: HashMap<usize, usize> = live.iter().map(|&g| (g, 0)).collect();
    for &g in live {
        for s in &succ[g] {
            *indeg.get_mut(s)? += 1;
        }
    }
    let mut ready: BTreeSet<(usize, usize)> = live.iter().filter(|g| indeg[g] == 0).map(|&g| (key(g), g)).collect();
    let mut sorted = Vec::new();
    while let Some(&(k, gi)) = ready.iter().next() {
        ready.remove(&(k, gi));
        sorted.push(gi);
        for &s in &succ[gi] {
            let d = indeg.get_mut(&s)?;
            *d -= 1;
            if *d == 0 {
                ready.insert((key(s), s));
            }
        }
    }
    (sorted.len() == live.len()).then_some(sorted)
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
