//! Builds the kernels from the fusion plan: buffers and strided layouts for every
//! buffer-backed node, one kernel per group, copies for roots that live elsewhere, and
//! the param updates (in place when that is provably safe, through a copy otherwise).

use super::fuse::{is_contiguous, row_major, GroupKind, Plan, Role};
use super::maps::{self, Map};
use super::{
    Access, Buffer, BufferId, Expr, ExprId, Kernel, KernelKind, LoopKernel, MatMulKernel, Matrix, ReduceKind, Schedule,
    ScheduleError, Storage, Store,
};
use crate::ir::{Bindings, DType, Graph, NodeId, Op, Reduce};
use std::collections::HashMap;

/// Where a buffer-backed node's elements are.
#[derive(Clone, Debug)]
struct Layout {
    buf: BufferId,
    offset: usize,
    strides: Vec<isize>,
}

fn internal(msg: &str) -> ScheduleError {
    ScheduleError::Unsupported(format!("internal scheduling error: {msg}"))
}

/// Builds the schedule that `plan` describes.
pub(super) fn build(g: &Graph, bindings: &Bindings, plan: &Plan) -> Result<Schedule, ScheduleError> {
    let mut b = Builder {
        g,
        plan,
        bindings,
        buffers: Vec::new(),
        layouts: HashMap::new(),
    };
    b.caller_buffers(bindings)?;
    b.layouts()?;
    let mut kernels = Vec::new();
    let copies = b.root_copies();
    let ready_at_start: Vec<&(BufferId, NodeId)> = copies.iter().filter(|(_, n)| b.ready_group(*n).is_none()).collect();
    for (dst, src) in ready_at_start {
        kernels.push(b.copy(*dst, *src));
    }
    let mut group_kernel = Vec::new();
    for gi in 0..plan.groups.len() {
        group_kernel.push(kernels.len());
        kernels.push(b.group(gi)?);
        for (dst, src) in copies.iter().filter(|(_, n)| b.ready_group(*n) == Some(gi)) {
            kernels.push(b.copy(*dst, *src));
        }
    }
    b.updates(&mut kernels, &group_kernel)?;
    Ok(Schedule {
        buffers: b.buffers,
        kernels,
        bindings: bindings.clone(),
        nodes: plan.order.len(),
    })
}

struct Builder<'a> {
    g: &'a Graph,
    plan: &'a Plan,
    bindings: &'a Bindings,
    buffers: Vec<Buffer>,
    layouts: HashMap<NodeId, Layout>,
}

impl Builder<'_> {
    fn shape(&self, n: NodeId) -> &[usize] {
        &self.plan.shape[&n]
    }

    fn push_buffer(&mut self, storage: Storage, len: usize, dtype: DType) -> Result<BufferId, ScheduleError> {
        // Every byte offset must fit an isize, with room for the arithmetic on it.
        if len > (isize::MAX as usize) / 16 {
            return Err(ScheduleError::Dim(crate::ir::DimError::Overflow));
        }
        self.buffers.push(Buffer { storage, len, dtype });
        Ok(BufferId(self.buffers.len() - 1))
    }

    /// One buffer per input, param, output and loss, in that order: the ABI's slots.
    fn caller_buffers(&mut self, bindings: &Bindings) -> Result<(), ScheduleError> {
        let g = self.g;
        for (i, d) in g.inputs.iter().enumerate() {
            let len = d.ty.shape.eval(bindings)?.iter().product();
            self.push_buffer(Storage::Input(i), len, d.ty.dtype)?;
        }
        for (i, d) in g.params.iter().enumerate() {
            let len = d.shape.eval(bindings)?.iter().product();
            self.push_buffer(Storage::Param(i), len, DType::F32)?;
        }
        for (k, (_, n)) in g.outputs.iter().enumerate() {
            let len = self.shape(*n).iter().product();
            self.push_buffer(Storage::Output(k), len, DType::F32)?;
        }
        if g.loss.is_some() {
            self.push_buffer(Storage::Loss, 1, DType::F32)?;
        }
        Ok(())
    }

    fn caller(&self, s: Storage) -> BufferId {
        BufferId(
            self.buffers
                .iter()
                .position(|b| b.storage == s)
                .expect("caller buffers exist for every slot"),
        )
    }

    /// The buffer each stored node writes first: its output or loss slot if it is one
    /// (the first such), else a workspace temp.
    fn layouts(&mut self) -> Result<(), ScheduleError> {
        let g = self.g;
        let mut primary: HashMap<NodeId, BufferId> = HashMap::new();
        for (k, (_, n)) in g.outputs.iter().enumerate() {
            if matches!(self.plan.role(*n), Role::Stored(_)) && !primary.contains_key(n) {
                primary.insert(*n, self.caller(Storage::Output(k)));
            }
        }
        if let Some(l) = g.loss {
            if matches!(self.plan.role(l), Role::Stored(_)) && !primary.contains_key(&l) {
                primary.insert(l, self.caller(Storage::Loss));
            }
        }
        for &n in &self.plan.order {
            let shape = self.shape(n).to_vec();
            let layout = match (self.plan.role(n), &g.node(n).op) {
                (Role::Leaf, Op::Input(i)) => Layout {
                    buf: self.caller(Storage::Input(*i)),
                    offset: 0,
                    strides: row_major(&shape),
                },
                (Role::Leaf, Op::Param(i)) => Layout {
                    buf: self.caller(Storage::Param(*i)),
                    offset: 0,
                    strides: row_major(&shape),
                },
                (Role::Stored(_), _) => {
                    let buf = match primary.get(&n) {
                        Some(&b) => b,
                        None => self.push_buffer(Storage::Temp, shape.iter().product(), DType::F32)?,
                    };
                    Layout {
                        buf,
                        offset: 0,
                        strides: row_major(&shape),
                    }
                }
                (Role::View, _) => self.view_of(n)?,
                (Role::Inline(_), _) => continue,
                (Role::Leaf, _) => return Err(internal("a leaf role on a computed node")),
            };
            self.layouts.insert(n, layout);
        }
        Ok(())
    }

    /// The layout of a reshape or transpose node as a view of its operand's buffer.
    fn view_of(&self, n: NodeId) -> Result<Layout, ScheduleError> {
        let a = self.g.args(n)[0];
        let la = self
            .layouts
            .get(&a)
            .ok_or_else(|| internal(&format!("view {} of node {} without a buffer", n.index(), a.index())))?;
        match &self.g.node(n).op {
            Op::Reshape(_) => {
                if !is_contiguous(self.shape(a), &la.strides) {
                    return Err(internal("a reshape of a strided view"));
                }
                Ok(Layout {
                    buf: la.buf,
                    offset: la.offset,
                    strides: row_major(self.shape(n)),
                })
            }
            Op::Transpose => Ok(Layout {
                buf: la.buf,
                offset: la.offset,
                strides: vec![la.strides[1], la.strides[0]],
            }),
            _ => Err(internal("a view role on a non-view op")),
        }
    }

    /// The group after which a buffer-backed node holds its value (`None`: from the start).
    fn ready_group(&self, n: NodeId) -> Option<usize> {
        match self.plan.role(n) {
            Role::Stored(gi) => Some(gi),
            Role::View => self.ready_group(self.g.args(n)[0]),
            Role::Leaf | Role::Inline(_) => None,
        }
    }

    /// Output and loss slots whose node lives in another buffer: `(slot, node)`.
    fn root_copies(&self) -> Vec<(BufferId, NodeId)> {
        let mut v = Vec::new();
        let mut slots: Vec<(Storage, NodeId)> = self
            .g
            .outputs
            .iter()
            .enumerate()
            .map(|(k, o)| (Storage::Output(k), o.1))
            .collect();
        slots.extend(self.g.loss.map(|l| (Storage::Loss, l)));
        for (s, n) in slots {
            let dst = self.caller(s);
            if self.layouts.get(&n).map(|l| l.buf) != Some(dst) {
                v.push((dst, n));
            }
        }
        v
    }

    /// A kernel copying node `src` (buffer-backed) into the dense buffer `dst`.
    fn copy(&self, dst: BufferId, src: NodeId) -> Kernel {
        let shape = self.shape(src).to_vec();
        let l = &self.layouts[&src];
        copy_kernel(&shape, l.buf, l.offset, &l.strides, dst, vec![src])
    }

    fn group(&self, gi: usize) -> Result<Kernel, ScheduleError> {
        let grp = &self.plan.groups[gi];
        let kind = match &grp.kind {
            GroupKind::MatMul => KernelKind::MatMul(self.matmul(grp.stored[0])?),
            GroupKind::Copy => {
                // A view materialised densely: read through the view's strides.
                let n = grp.stored[0];
                let l = self.view_of(n)?;
                let k = copy_kernel(
                    self.shape(n),
                    l.buf,
                    l.offset,
                    &l.strides,
                    self.layouts[&n].buf,
                    vec![n],
                );
                return Ok(Kernel {
                    nodes: grp.members.clone(),
                    ..k
                });
            }
            GroupKind::Loop { space, reduced } => {
                let mut eb = ExprBuilder {
                    b: self,
                    group: gi,
                    space: space.clone(),
                    reduced: reduced.clone(),
                    exprs: Vec::new(),
                    dedup: HashMap::new(),
                    memo: HashMap::new(),
                };
                let mut stores = Vec::new();
                for &n in &grp.stored {
                    stores.push(eb.root(n)?);
                }
                KernelKind::Loop(LoopKernel {
                    space: space.clone(),
                    reduced: reduced.clone(),
                    exprs: eb.exprs,
                    stores,
                })
            }
        };
        Ok(Kernel {
            kind,
            nodes: grp.members.clone(),
        })
    }

    fn matmul(&self, n: NodeId) -> Result<MatMulKernel, ScheduleError> {
        let (ta, tb) = match self.g.node(n).op {
            Op::MatMul { ta, tb } => (ta, tb),
            _ => return Err(internal("a product group without a product")),
        };
        let args = self.g.args(n);
        let matrix = |x: NodeId, t: bool| -> Result<Matrix, ScheduleError> {
            let l = self
                .layouts
                .get(&x)
                .ok_or_else(|| internal("a product operand without a buffer"))?;
            let (rs, cs) = if t {
                (l.strides[1], l.strides[0])
            } else {
                (l.strides[0], l.strides[1])
            };
            Ok(Matrix {
                buf: l.buf,
                offset: l.offset,
                rs,
                cs,
            })
        };
        let out = self.shape(n);
        let sa = self.shape(args[0]);
        let lc = &self.layouts[&n];
        Ok(MatMulKernel {
            m: out[0],
            k: if ta { sa[0] } else { sa[1] },
            n: out[1],
            a: matrix(args[0], ta)?,
            b: matrix(args[1], tb)?,
            c: Matrix {
                buf: lc.buf,
                offset: lc.offset,
                rs: lc.strides[0],
                cs: lc.strides[1],
            },
            accumulate: false,
            scale: 1.0,
        })
    }

    /// Applies `graph.updates`: each new value goes into its param's buffer after every
    /// read of the old value. In place (the kernel computing the value writes the param)
    /// when every other reader of the param runs earlier and the kernel itself reads the
    /// param only at the element it writes; otherwise through a final copy.
    fn updates(&mut self, kernels: &mut Vec<Kernel>, group_kernel: &[usize]) -> Result<(), ScheduleError> {
        let g = self.g;
        // Sources that are (views of) params are snapshotted first: in-place writes
        // may overwrite them before the final copies run.
        let mut sources: Vec<(BufferId, Layout, NodeId)> = Vec::new();
        let mut front = Vec::new();
        for &(p, n) in &g.updates {
            if g.node(n).op == Op::Param(p) {
                continue;
            }
            let pbuf = self.caller(Storage::Param(p));
            if self.param_backed(n) {
                let shape = self.shape(n).to_vec();
                let t = self.push_buffer(Storage::Temp, shape.iter().product(), DType::F32)?;
                let l = &self.layouts[&n];
                front.push(copy_kernel(&shape, l.buf, l.offset, &l.strides, t, vec![n]));
                let dense = Layout {
                    buf: t,
                    offset: 0,
                    strides: row_major(&shape),
                };
                sources.push((pbuf, dense, n));
            } else {
                sources.push((pbuf, self.layouts[&n].clone(), n));
            }
        }
        let shift = front.len();
        kernels.splice(0..0, front);
        let mut finals = Vec::new();
        let mut in_place_done: Vec<NodeId> = Vec::new();
        for (pbuf, src, n) in sources {
            let writer = match self.plan.role(n) {
                Role::Stored(gi) if !in_place_done.contains(&n) => Some(group_kernel[gi] + shift),
                _ => None,
            };
            let is_temp = self.buffers[src.buf.0].storage == Storage::Temp;
            if let Some(k) = writer.filter(|&k| is_temp && in_place_ok(kernels, k, pbuf, src.buf)) {
                for kern in kernels.iter_mut().skip(k) {
                    rename(kern, src.buf, pbuf);
                }
                in_place_done.push(n);
                // Later copies of the same value read it from the param it now lives in.
                let new_layout = Layout { buf: pbuf, ..src };
                self.layouts.insert(n, new_layout);
                continue;
            }
            let shape = self.shape(n).to_vec();
            let src = if in_place_done.contains(&n) {
                self.layouts[&n].clone()
            } else {
                src
            };
            finals.push(copy_kernel(&shape, src.buf, src.offset, &src.strides, pbuf, vec![n]));
        }
        kernels.extend(finals);
        fold_updates_into_products(kernels, &self.buffers);
        Ok(())
    }

    /// Whether `n` reads a param's buffer directly (a param leaf or a view of one).
    fn param_backed(&self, n: NodeId) -> bool {
        match (&self.g.node(n).op, self.plan.role(n)) {
            (Op::Param(_), _) => true,
            (_, Role::View) => self.param_backed(self.g.args(n)[0]),
            _ => false,
        }
    }
}

/// Whether kernel `k`, which writes `value` (a temp), may write `param` instead: no other
/// kernel reads `param` after it, and `k` reads `param` only where it writes.
fn in_place_ok(kernels: &[Kernel], k: usize, param: BufferId, value: BufferId) -> bool {
    if kernels.iter().skip(k + 1).any(|kern| kern.reads().contains(&param)) {
        return false;
    }
    match &kernels[k].kind {
        KernelKind::MatMul(m) => m.a.buf != param && m.b.buf != param,
        KernelKind::Loop(l) => {
            let writes: Vec<&Access> = l.stores.iter().filter(|s| s.dst.buf == value).map(|s| &s.dst).collect();
            if writes.len() != 1 {
                return false;
            }
            let w = writes[0];
            l.exprs.iter().all(|e| match e {
                Expr::Load(a) if a.buf == param => a.offset == w.offset && a.strides == w.strides,
                _ => true,
            })
        }
    }
}

/// `P := P - c * (A @ B)` as one accumulating product: when an in-place update kernel
/// only combines the param with a product that nothing else reads, the product adds
/// its scaled result straight into the param (gemm's `dst = dst + beta * lhs @ rhs`),
/// saving the temp and a pass over it.
fn fold_updates_into_products(kernels: &mut Vec<Kernel>, buffers: &[Buffer]) {
    let mut k = 0;
    while k < kernels.len() {
        if let Some((m, param, scale)) = update_of_product(kernels, k, buffers) {
            if let KernelKind::MatMul(mm) = &mut kernels[m].kind {
                mm.c = Matrix {
                    buf: param,
                    offset: 0,
                    rs: mm.n as isize,
                    cs: 1,
                };
                mm.accumulate = true;
                mm.scale = scale;
            }
            let nodes = kernels[k].nodes.clone();
            kernels[m].nodes.extend(nodes);
            kernels.remove(k);
            continue;
        }
        k += 1;
    }
}

/// If kernel `k` is `P = P - c * T` (or `P + c * T`, `P - T`) over whole dense buffers,
/// with `T` written by a plain product `m` and read by nobody else, and nothing between
/// them touches `P`: `(m, P, scale)`.
fn update_of_product(kernels: &[Kernel], k: usize, buffers: &[Buffer]) -> Option<(usize, BufferId, f32)> {
    let KernelKind::Loop(l) = &kernels[k].kind else {
        return None;
    };
    let [store] = l.stores.as_slice() else { return None };
    let param = store.dst.buf;
    if !matches!(buffers[param.0].storage, Storage::Param(_))
        || store.dst.offset != 0
        || store.dst.strides != row_major(&l.space)
        || l.space.iter().product::<usize>() != buffers[param.0].len
        || l.reduced.contains(&true)
    {
        return None;
    }
    let load_of = |e: ExprId| match &l.exprs[e] {
        Expr::Load(a) if a.offset == 0 && a.strides == store.dst.strides => Some(a.buf),
        _ => None,
    };
    let konst = |e: ExprId| match &l.exprs[e] {
        Expr::Const(b) => Some(f32::from_bits(*b)),
        _ => None,
    };
    let scaled = |e: ExprId| -> Option<(BufferId, f32)> {
        match &l.exprs[e] {
            Expr::Binary(crate::ir::Binary::Mul, x, y) => match (load_of(*x), konst(*y), konst(*x), load_of(*y)) {
                (Some(t), Some(c), _, _) | (_, _, Some(c), Some(t)) => Some((t, c)),
                _ => None,
            },
            _ => load_of(e).map(|t| (t, 1.0)),
        }
    };
    let (t, scale) = match &l.exprs[store.value] {
        Expr::Binary(crate::ir::Binary::Sub, p, x) if load_of(*p) == Some(param) => {
            let (t, c) = scaled(*x)?;
            (t, -c)
        }
        Expr::Binary(crate::ir::Binary::Add, p, x) if load_of(*p) == Some(param) => scaled(*x)?,
        _ => return None,
    };
    if t == param || buffers[t.0].storage != Storage::Temp {
        return None;
    }
    let m = (0..k).rev().find(|&i| kernels[i].writes().contains(&t))?;
    let KernelKind::MatMul(mm) = &kernels[m].kind else {
        return None;
    };
    let dense = mm.c.buf == t && mm.c.offset == 0 && mm.c.rs == mm.n as isize && mm.c.cs == 1;
    let readers = kernels.iter().filter(|kk| kk.reads().contains(&t)).count();
    let quiet = kernels[m + 1..k]
        .iter()
        .all(|kk| !kk.reads().contains(&param) && !kk.writes().contains(&param));
    let own = mm.a.buf != param && mm.b.buf != param && !mm.accumulate;
    (dense && readers == 1 && quiet && own && mm.m * mm.n == buffers[param.0].len).then_some((m, param, scale))
}

/// Makes every access of `from` in the kernel use `to`.
fn rename(k: &mut Kernel, from: BufferId, to: BufferId) {
    let fix = |b: &mut BufferId| {
        if *b == from {
            *b = to;
        }
    };
    match &mut k.kind {
        KernelKind::Loop(l) => {
            for e in &mut l.exprs {
                if let Expr::Load(a) | Expr::OneHot { label: a, .. } = e {
                    fix(&mut a.buf);
                }
            }
            for s in &mut l.stores {
                fix(&mut s.dst.buf);
            }
        }
        KernelKind::MatMul(m) => {
            fix(&mut m.a.buf);
            fix(&mut m.b.buf);
            fix(&mut m.c.buf);
        }
    }
}

/// `dst[i] = src[i]` over `shape`, `dst` dense.
fn copy_kernel(
    shape: &[usize],
    src: BufferId,
    offset: usize,
    strides: &[isize],
    dst: BufferId,
    nodes: Vec<NodeId>,
) -> Kernel {
    let load = Expr::Load(Access {
        buf: src,
        offset,
        strides: strides.to_vec(),
    });
    Kernel {
        kind: KernelKind::Loop(LoopKernel {
            space: shape.to_vec(),
            reduced: vec![false; shape.len()],
            exprs: vec![load],
            stores: vec![Store {
                value: 0,
                dst: Access {
                    buf: dst,
                    offset: 0,
                    strides: row_major(shape),
                },
            }],
        }),
        nodes,
    }
}

/// Builds the expressions of one loop group.
struct ExprBuilder<'b, 'a> {
    b: &'b Builder<'a>,
    group: usize,
    space: Vec<usize>,
    reduced: Vec<bool>,
    exprs: Vec<Expr>,
    dedup: HashMap<Expr, ExprId>,
    memo: HashMap<(NodeId, Map), ExprId>,
}

impl ExprBuilder<'_, '_> {
    fn push(&mut self, e: Expr) -> ExprId {
        if let Some(&id) = self.dedup.get(&e) {
            return id;
        }
        self.exprs.push(e.clone());
        self.dedup.insert(e, self.exprs.len() - 1);
        self.exprs.len() - 1
    }

    fn access(&self, l: &Layout, map: &Map) -> Access {
        let mut strides = vec![0isize; self.space.len()];
        for (j, m) in map.iter().enumerate() {
            if let Some(ax) = m {
                strides[*ax] += l.strides[j];
            }
        }
        Access {
            buf: l.buf,
            offset: l.offset,
            strides,
        }
    }

    /// The store of a stored node of this group.
    fn root(&mut self, n: NodeId) -> Result<Store, ScheduleError> {
        let b = self.b;
        let map = maps::store_map(b.g, &b.plan.shape, n, &self.space, &self.reduced)
            .ok_or_else(|| internal("a stored node that does not fit its kernel"))?;
        let value = self.compute(n, map.clone())?;
        let dst = self.access(&b.layouts[&n], &map);
        Ok(Store { value, dst })
    }

    /// `max + log(sum(exp(x - max)))`, with the shift made safe for infinite maxima.
    fn logsumexp(&mut self, x: ExprId) -> ExprId {
        let m = self.push(Expr::Reduce {
            kind: ReduceKind::Max,
            arg: x,
        });
        let shift = self.push(Expr::MaxShift(m));
        let d = self.push(Expr::Binary(crate::ir::Binary::Sub, x, shift));
        let e = self.push(Expr::Unary(crate::ir::Unary::Exp, d));
        let s = self.push(Expr::Reduce {
            kind: ReduceKind::Sum,
            arg: e,
        });
        self.push(Expr::LseFinish { max: m, sum: s })
    }

    /// Whether node `n` is read from memory in this group (rather than computed).
    fn is_loaded(&self, n: NodeId) -> bool {
        match self.b.plan.role(n) {
            Role::Stored(gi) => gi != self.group,
            Role::Leaf | Role::View => true,
            Role::Inline(_) => false,
        }
    }

    /// The expression of `n` at `map`, loading buffer-backed operands.
    fn expr(&mut self, n: NodeId, map: Map) -> Result<ExprId, ScheduleError> {
        if self.is_loaded(n) {
            let l = self
                .b
                .layouts
                .get(&n)
                .ok_or_else(|| internal("a loaded node without a buffer"))?;
            let a = self.access(l, &map);
            return Ok(self.push(Expr::Load(a)));
        }
        self.compute(n, map)
    }

    /// Computes `n` at `map` from its operands. Iterative, so that long chains of fused
    /// operations do not exhaust the call stack.
    fn compute(&mut self, root: NodeId, root_map: Map) -> Result<ExprId, ScheduleError> {
        let g = self.b.g;
        let mut stack: Vec<(NodeId, Map, bool)> = vec![(root, root_map.clone(), false)];
        while let Some((n, map, expanded)) = stack.pop() {
            if self.memo.contains_key(&(n, map.clone())) {
                continue;
            }
            let operands = self.operand_maps(n, &map);
            if !expanded {
                stack.push((n, map, true));
                for (a, am) in operands.into_iter().rev() {
                    if self.is_loaded(a) {
                        let id = self.expr(a, am.clone())?;
                        self.memo.insert((a, am), id);
                    } else if !self.memo.contains_key(&(a, am.clone())) {
                        stack.push((a, am, false));
                    }
                }
                continue;
            }
            let arg = |i: usize| self.memo[&(operands[i].0, operands[i].1.clone())];
            let e = match &g.node(n).op {
                Op::Const { value, per } => {
                    let per = per.eval(self.b.bindings)?;
                    Expr::constant((value.0 / per as f64) as f32)
                }
                Op::Unary(u) => Expr::Unary(*u, arg(0)),
                Op::Binary(b) => Expr::Binary(*b, arg(0), arg(1)),
                Op::BroadcastTo(_) | Op::Reshape(_) => {
                    let id = arg(0);
                    self.memo.insert((n, map), id);
                    continue;
                }
                Op::Reduce { kind, .. } => {
                    if map != maps::kept_map(&self.reduced) {
                        return Err(internal("a reduction evaluated off its kept axes"));
                    }
                    let x = arg(0);
                    let id = match kind {
                        Reduce::Sum => self.push(Expr::Reduce {
                            kind: ReduceKind::Sum,
                            arg: x,
                        }),
                        Reduce::Max => self.push(Expr::Reduce {
                            kind: ReduceKind::Max,
                            arg: x,
                        }),
                        Reduce::LogSumExp => self.logsumexp(x),
                    };
                    self.memo.insert((n, map), id);
                    continue;
                }
                Op::ArgMaxMask { .. } => {
                    if map != maps::full_map(self.space.len()) {
                        return Err(internal("an arg-max mask evaluated off its space"));
                    }
                    let r = self.push(Expr::Reduce {
                        kind: ReduceKind::ArgMax,
                        arg: arg(0),
                    });
                    Expr::IsArgMax(r)
                }
                Op::OneHot { .. } => {
                    let label = g.args(n)[0];
                    let r = map.len() - 1;
                    let l = self
                        .b
                        .layouts
                        .get(&label)
                        .ok_or_else(|| internal("labels without a buffer"))?;
                    let access = self.access(l, &map[..r].to_vec());
                    let classes = self.b.shape(n)[r];
                    Expr::OneHot {
                        label: access,
                        axis: if classes == 1 { None } else { map[r] },
                    }
                }
                // Everything else is stored by its own kernel and loaded.
                Op::Input(_) | Op::Param(_) | Op::Transpose | Op::MatMul { .. } | Op::Grad => {
                    return Err(internal("a non-fusable node inlined"))
                }
            };
            let id = self.push(e);
            self.memo.insert((n, map), id);
        }
        Ok(self.memo[&(root, root_map)])
    }

    /// The operands of a computed node and where each is evaluated.
    fn operand_maps(&self, n: NodeId, map: &Map) -> Vec<(NodeId, Map)> {
        let g = self.b.g;
        match &g.node(n).op {
            Op::Reduce { .. } | Op::ArgMaxMask { .. } => vec![(g.args(n)[0], maps::full_map(self.space.len()))],
            _ => maps::operand_maps(g, &self.b.plan.shape, n, map),
        }
    }
}
