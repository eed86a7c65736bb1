//! Loop kernels to Cranelift IR.
//!
//! Loop order: the kept axes outermost, then, for each reduction pass, the reduced axes.
//! The last axis of the space is the *vector axis*, walked four lanes at a time (`f32x4`,
//! the widest vector Cranelift's x86 backend supports) with a scalar tail:
//!
//! - *lane mode* (the last axis is kept): the four lanes are four neighbouring results;
//!   everything, reductions included, runs lane-wise.
//! - *horizontal mode* (the last axis is reduced): the innermost reduction loop is
//!   vectorised and each reduction is combined across lanes at the end of its pass.
//!
//! A value that does not vary along the vector axis stays scalar (a broadcast operand is
//! one scalar load) and is splatted only where it meets a vector.
//!
//! Reductions run in passes: a reduction whose operand uses another reduction's result
//! (the sum of `exp(x - max)` after the max) runs in a later pass over the reduced axes.
//! Values that vary over reduced axes and are stored (softmax) are computed in a final
//! pass. Values that do not vary over reduced axes are computed once per kept index,
//! before the passes that use them.

use super::{math, CodegenError};
use crate::ir::Unary;
use crate::opt::schedule::{
    inner_exprs, store_is_inner, Access, BufferId, Expr, ExprId, LoopKernel, ReduceKind, Store,
};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, FuncRef, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::{HashMap, HashSet};

/// Lanes of the vector type.
pub(super) const LANES: usize = 4;

/// Host routines the kernel calls (per lane), by symbol name.
pub(super) fn host_calls(l: &LoopKernel) -> Vec<&'static str> {
    let mut v = Vec::new();
    for e in &l.exprs {
        if let Expr::Unary(u, _) = e {
            v.extend(super::ops::host_call(*u));
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Emits the loop nest of `l` into the current block of `fb`.
pub(super) fn emit(
    fb: &mut FunctionBuilder,
    l: &LoopKernel,
    bases: &HashMap<BufferId, Value>,
    hosts: &HashMap<&'static str, FuncRef>,
) -> Result<(), CodegenError> {
    let mut g = Lg::new(fb, l, bases, hosts);
    g.kept_loops(0)
}

/// Accumulators of one reduction: the value (f32 or f32x4) and, for an arg-max, the
/// position (i32 or i32x4).
#[derive(Clone, Copy)]
struct Acc {
    val: Variable,
    pos: Option<Variable>,
}

pub(super) struct Lg<'a, 'b> {
    pub(super) fb: &'a mut FunctionBuilder<'b>,
    pub(super) l: &'a LoopKernel,
    bases: &'a HashMap<BufferId, Value>,
    pub(super) hosts: &'a HashMap<&'static str, FuncRef>,
    pub(super) inner: Vec<bool>,
    pub(super) level: Vec<usize>,
    vdep: Vec<bool>,
    /// The vectorised axis, if any.
    pub(super) vec_axis: Option<usize>,
    /// Whether the vector axis is reduced.
    horizontal: bool,
    kept: Vec<usize>,
    pub(super) red: Vec<usize>,
    /// Current index of each axis (of lane 0 on the vector axis).
    pub(super) idx: Vec<Option<Value>>,
    /// Lanes of the current iteration of the vector axis (1 outside it).
    pub(super) cur_w: usize,
    /// In the last, partial vector iteration: how many lanes are real (0: all of them).
    /// The others hold padding that no load reads from memory and no store writes.
    pub(super) tail: usize,
    pub(super) scopes: Vec<HashMap<ExprId, Value>>,
    /// Row streaming of reductions over leading axes (see `stream.rs`), when it applies.
    pub(super) stream: Option<super::stream::Stream>,
    /// The accumulators the innermost reduction loop updates.
    accs: HashMap<ExprId, Acc>,
}

impl<'a, 'b> Lg<'a, 'b> {
    fn new(
        fb: &'a mut FunctionBuilder<'b>,
        l: &'a LoopKernel,
        bases: &'a HashMap<BufferId, Value>,
        hosts: &'a HashMap<&'static str, FuncRef>,
    ) -> Self {
        let n = l.space.len();
        let kept: Vec<usize> = (0..n).filter(|&a| !l.reduced[a]).collect();
        let red: Vec<usize> = (0..n).filter(|&a| l.reduced[a]).collect();
        let has_argmax = l.exprs.iter().any(|e| {
            matches!(
                e,
                Expr::Reduce {
                    kind: ReduceKind::ArgMax,
                    ..
                }
            )
        });
        let vec_axis = n
            .checked_sub(1)
            .filter(|&a| l.space[a] >= 2 && !(l.reduced[a] && has_argmax));
        let horizontal = vec_axis.is_some_and(|a| l.reduced[a]);
        let inner = inner_exprs(l);
        let mut level = vec![0usize; l.exprs.len()];
        let mut vdep = vec![false; l.exprs.len()];
        let on_vec = |a: &Access| vec_axis.is_some_and(|v| a.strides[v] != 0);
        for (i, e) in l.exprs.iter().enumerate() {
            level[i] = match e {
                Expr::Reduce { arg, .. } => 1 + level[*arg],
                _ => e.args().iter().map(|&a| level[a]).max().unwrap_or(0),
            };
            vdep[i] = match e {
                Expr::Load(a) => on_vec(a),
                Expr::Const(_) => false,
                Expr::OneHot { label, axis } => on_vec(label) || (axis.is_some() && *axis == vec_axis),
                Expr::Reduce { arg, .. } => !horizontal && vdep[*arg],
                Expr::IsArgMax(r) => vdep[*r] || horizontal,
                _ => e.args().iter().any(|&a| vdep[a]),
            };
        }
        Lg {
            fb,
            l,
            bases,
            hosts,
            inner,
            level,
            vdep,
            vec_axis,
            horizontal,
            kept,
            red,
            idx: vec![None; n],
            cur_w: 1,
            tail: 0,
            scopes: vec![HashMap::new()],
            accs: HashMap::new(),
            stream: super::stream::Stream::plan(l, vec_axis),
        }
    }

    // ---- loops ----

    /// `for iv in (start..end).step_by(step) { f(iv) }`, as a do-while loop (the trip
    /// count is a known constant): nothing when empty, straight-line code for one trip.
    pub(super) fn for_range(
        &mut self,
        start: usize,
        end: usize,
        step: usize,
        f: &mut dyn FnMut(&mut Self, Value) -> Result<(), CodegenError>,
    ) -> Result<(), CodegenError> {
        if end <= start {
            return Ok(());
        }
        if end - start <= step {
            let iv = self.fb.ins().iconst(types::I64, start as i64);
            return f(self, iv);
        }
        let var = self.fb.declare_var(types::I64);
        let first = self.fb.ins().iconst(types::I64, start as i64);
        self.fb.def_var(var, first);
        let body = self.fb.create_block();
        let exit = self.fb.create_block();
        self.fb.ins().jump(body, &[]);
        self.fb.switch_to_block(body);
        let iv = self.fb.use_var(var);
        f(self, iv)?;
        let next = self.fb.ins().iadd_imm_s(iv, step as i64);
        self.fb.def_var(var, next);
        let more = self.fb.ins().icmp_imm_s(IntCC::SignedLessThan, next, end as i64);
        self.fb.ins().brif(more, body, &[], exit, &[]);
        self.fb.seal_block(body);
        self.fb.seal_block(exit);
        self.fb.switch_to_block(exit);
        Ok(())
    }

    /// The loops over kept axes (the vector axis last, in lane mode), then the body.
    fn kept_loops(&mut self, i: usize) -> Result<(), CodegenError> {
        let outer: Vec<usize> = match &self.stream {
            Some(st) => st.outer.clone(),
            None => self
                .kept
                .iter()
                .copied()
                .filter(|&a| Some(a) != self.vec_axis)
                .collect(),
        };
        if i < outer.len() {
            let a = outer[i];
            return self.for_range(0, self.l.space[a], 1, &mut |s, iv| {
                s.idx[a] = Some(iv);
                s.kept_loops(i + 1)
            });
        }
        if self.stream.is_some() {
            return self.stream_body();
        }
        match self.vec_axis {
            Some(v) if !self.horizontal => {
                let e = self.l.space[v];
                let e4 = e / LANES * LANES;
                self.for_range(0, e4, LANES, &mut |s, iv| {
                    s.idx[v] = Some(iv);
                    s.cur_w = LANES;
                    s.body()
                })?;
                if e4 < e {
                    // The remainder as one partial vector.
                    self.idx[v] = Some(self.fb.ins().iconst(types::I64, e4 as i64));
                    self.cur_w = LANES;
                    self.tail = e - e4;
                    self.body()?;
                    self.tail = 0;
                }
                self.cur_w = 1;
                Ok(())
            }
            _ => self.body(),
        }
    }

    /// Everything at one point of the kept axes: the reduction passes, the pass that
    /// stores values varying over reduced axes, then the stores of the rest.
    fn body(&mut self) -> Result<(), CodegenError> {
        self.scopes.push(HashMap::new());
        let passes = self.level.iter().copied().max().unwrap_or(0);
        for p in 1..=passes {
            let reds: Vec<ExprId> = (0..self.l.exprs.len())
                .filter(|&e| matches!(self.l.exprs[e], Expr::Reduce { .. }) && self.level[e] == p)
                .collect();
            if !reds.is_empty() {
                self.pass(&reds, &[])?;
            }
        }
        let (inner_stores, outer_stores): (Vec<&Store>, Vec<&Store>) = self
            .l
            .stores
            .iter()
            .partition(|s| store_is_inner(self.l, &self.inner, s));
        if !inner_stores.is_empty() {
            self.pass(&[], &inner_stores)?;
        }
        for s in outer_stores {
            let v = self.eval(s.value)?;
            self.store(&s.dst, v);
        }
        self.scopes.pop();
        Ok(())
    }

    /// One walk over the reduced axes, updating `reds` and performing `stores`.
    fn pass(&mut self, reds: &[ExprId], stores: &[&Store]) -> Result<(), CodegenError> {
        // Hoist what does not vary over the reduced axes out of the loops.
        let roots: Vec<ExprId> = reds
            .iter()
            .flat_map(|&r| self.l.exprs[r].args())
            .chain(stores.iter().map(|s| s.value))
            .collect();
        for e in self.outer_operands(&roots) {
            self.eval(e)?;
        }
        let mut accs = HashMap::new();
        for &r in reds {
            let arg = self.l.exprs[r].args()[0];
            // Horizontal: every vector iteration covers four reduced elements, even of a
            // value constant along them. Lane mode: lanes are independent results.
            let w = if self.horizontal || (self.cur_w == LANES && self.vdep[arg]) {
                LANES
            } else {
                1
            };
            accs.insert(r, self.new_acc(r, w));
        }
        self.accs = accs;
        self.red_loops(0, stores)?;
        for &r in reds {
            let v = self.finish_acc(r, self.accs[&r]);
            self.define(r, v);
        }
        Ok(())
    }

    fn red_loops(&mut self, i: usize, stores: &[&Store]) -> Result<(), CodegenError> {
        if i == self.red.len() {
            return self.point(stores);
        }
        let a = self.red[i];
        let e = self.l.space[a];
        if self.horizontal && Some(a) == self.vec_axis {
            let e4 = e / LANES * LANES;
            self.for_range(0, e4, LANES, &mut |s, iv| {
                s.idx[a] = Some(iv);
                s.cur_w = LANES;
                s.point(stores)
            })?;
            if e4 < e {
                // The remainder as one partial vector, padding masked out of the sums.
                self.idx[a] = Some(self.fb.ins().iconst(types::I64, e4 as i64));
                self.cur_w = LANES;
                self.tail = e - e4;
                self.point(stores)?;
                self.tail = 0;
            }
            self.cur_w = 1;
            return Ok(());
        }
        self.for_range(0, e, 1, &mut |s, iv| {
            s.idx[a] = Some(iv);
            s.red_loops(i + 1, stores)
        })
    }

    /// One point of the full space: update accumulators, perform stores.
    fn point(&mut self, stores: &[&Store]) -> Result<(), CodegenError> {
        self.scopes.push(HashMap::new());
        let accs: Vec<(ExprId, Acc)> = self.accs.iter().map(|(&k, &v)| (k, v)).collect();
        for (r, acc) in accs {
            self.update_acc(r, acc)?;
        }
        for s in stores {
            let v = self.eval(s.value)?;
            self.store(&s.dst, v);
        }
        self.scopes.pop();
        Ok(())
    }

    // ---- reductions ----

    fn new_acc(&mut self, r: ExprId, w: usize) -> Acc {
        let kind = reduce_kind(&self.l.exprs[r]);
        let fty = if w == LANES { types::F32X4 } else { types::F32 };
        let val = self.fb.declare_var(fty);
        let init = match kind {
            ReduceKind::Sum => 0.0,
            ReduceKind::Max | ReduceKind::ArgMax => f32::NEG_INFINITY,
        };
        let c = math::fconst(self.fb, fty, init);
        self.fb.def_var(val, c);
        let pos = (kind == ReduceKind::ArgMax).then(|| {
            let ity = math::int_ty(fty);
            let p = self.fb.declare_var(ity);
            let z = math::iconst_t(self.fb, ity, 0);
            self.fb.def_var(p, z);
            p
        });
        Acc { val, pos }
    }

    fn update_acc(&mut self, r: ExprId, acc: Acc) -> Result<(), CodegenError> {
        let arg = self.l.exprs[r].args()[0];
        let x = self.eval(arg)?;
        let cur = self.fb.use_var(acc.val);
        let aty = self.fb.func.dfg.value_type(cur);
        let mut x = math::splat_to(self.fb, x, aty);
        if self.horizontal && self.tail > 0 {
            // Padding lanes add the identity of the reduction.
            let identity = match reduce_kind(&self.l.exprs[r]) {
                ReduceKind::Sum => 0.0,
                ReduceKind::Max | ReduceKind::ArgMax => f32::NEG_INFINITY,
            };
            let id = math::fconst(self.fb, aty, identity);
            let live = self.live_lanes();
            x = math::sel(self.fb, live, x, id);
        }
        let next = match reduce_kind(&self.l.exprs[r]) {
            ReduceKind::Sum => self.fb.ins().fadd(cur, x),
            ReduceKind::Max => math::fmax_nan(self.fb, cur, x),
            ReduceKind::ArgMax => {
                // Take x when the best so far is not NaN and x beats it (or x is NaN).
                let beats = self.fb.ins().fcmp(FloatCC::UnorderedOrGreaterThan, x, cur);
                let ok = self.fb.ins().fcmp(FloatCC::Ordered, cur, cur);
                let take = self.fb.ins().band(beats, ok);
                let pos_var = acc
                    .pos
                    .ok_or_else(|| CodegenError("arg-max without a position".into()))?;
                let pos = self.fb.use_var(pos_var);
                let lin = self.linear_reduced_index();
                let pty = self.fb.func.dfg.value_type(pos);
                let lin = math::splat_to(self.fb, lin, pty);
                let new_pos = math::sel(self.fb, take, lin, pos);
                self.fb.def_var(pos_var, new_pos);
                math::sel(self.fb, take, x, cur)
            }
        };
        self.fb.def_var(acc.val, next);
        Ok(())
    }

    fn finish_acc(&mut self, r: ExprId, main: Acc) -> Value {
        let kind = reduce_kind(&self.l.exprs[r]);
        let v = self.fb.use_var(main.val);
        if kind == ReduceKind::ArgMax {
            // Arg-max is never vectorised horizontally: its lanes are independent results.
            return self.fb.use_var(main.pos.expect("arg-max accumulators have a position"));
        }
        if !self.horizontal || !self.fb.func.dfg.value_type(v).is_vector() {
            return v;
        }
        let lanes: Vec<Value> = (0..LANES as u8).map(|i| self.fb.ins().extractlane(v, i)).collect();
        match kind {
            ReduceKind::Sum => {
                let a = self.fb.ins().fadd(lanes[0], lanes[1]);
                let b = self.fb.ins().fadd(lanes[2], lanes[3]);
                self.fb.ins().fadd(a, b)
            }
            _ => {
                let a = math::fmax_nan(self.fb, lanes[0], lanes[1]);
                let b = math::fmax_nan(self.fb, lanes[2], lanes[3]);
                math::fmax_nan(self.fb, a, b)
            }
        }
    }

    /// Mask of the real lanes of a partial vector.
    fn live_lanes(&mut self) -> Value {
        let iota = math::iota(self.fb);
        let n = math::iconst_t(self.fb, types::I32X4, self.tail as i64);
        self.fb.ins().icmp(IntCC::SignedLessThan, iota, n)
    }

    /// Row-major position over the reduced axes (an i32; slices are checked to fit).
    fn linear_reduced_index(&mut self) -> Value {
        let mut lin = self.fb.ins().iconst(types::I64, 0);
        let mut stride = 1i64;
        for &a in self.red.iter().rev() {
            if let Some(iv) = self.idx[a] {
                let t = self.fb.ins().imul_imm_s(iv, stride);
                lin = self.fb.ins().iadd(lin, t);
            }
            stride *= self.l.space[a] as i64;
        }
        let lin = self.fb.ins().ireduce(types::I32, lin);
        if self.horizontal && self.cur_w == LANES {
            let base = self.fb.ins().splat(types::I32X4, lin);
            let iota = math::iota(self.fb);
            return self.fb.ins().iadd(base, iota);
        }
        lin
    }

    // ---- expressions ----

    fn lookup(&self, e: ExprId) -> Option<Value> {
        self.scopes.iter().rev().find_map(|s| s.get(&e).copied())
    }

    pub(super) fn define(&mut self, e: ExprId, v: Value) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(e, v);
        }
    }

    /// Expressions that do not vary over reduced axes and feed the inner ones of `roots`.
    fn outer_operands(&self, roots: &[ExprId]) -> Vec<ExprId> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(e) = stack.pop() {
            if !seen.insert(e) {
                continue;
            }
            if !self.inner[e] {
                out.push(e);
                continue;
            }
            stack.extend(self.l.exprs[e].args());
        }
        out.sort_unstable();
        out
    }

    /// The value of `root` at the current point, computing what is not known yet in
    /// id order (operands first; ids are topological), never recursing.
    pub(super) fn eval(&mut self, root: ExprId) -> Result<Value, CodegenError> {
        if let Some(v) = self.lookup(root) {
            return Ok(v);
        }
        let mut need = Vec::new();
        let mut seen = HashSet::new();
        let mut stack = vec![root];
        while let Some(e) = stack.pop() {
            if !seen.insert(e) || self.lookup(e).is_some() {
                continue;
            }
            need.push(e);
            stack.extend(self.l.exprs[e].args());
        }
        need.sort_unstable();
        for e in need {
            let v = self.eval_one(e)?;
            self.define(e, v);
        }
        self.lookup(root)
            .ok_or_else(|| CodegenError("an expression was not computed".into()))
    }

    fn arg(&self, e: ExprId) -> Result<Value, CodegenError> {
        self.lookup(e)
            .ok_or_else(|| CodegenError("an operand was not computed".into()))
    }

    fn eval_one(&mut self, e: ExprId) -> Result<Value, CodegenError> {
        let l = self.l;
        Ok(match &l.exprs[e] {
            Expr::Load(a) => self.load(a, types::F32),
            Expr::Const(bits) => self.fb.ins().f32const(f32::from_bits(*bits)),
            Expr::Unary(u, x) => {
                let x = self.arg(*x)?;
                self.unary(*u, x)
            }
            Expr::Binary(b, x, y) => {
                let (x, y) = (self.arg(*x)?, self.arg(*y)?);
                let (x, y) = math::unify(self.fb, x, y);
                self.binary(*b, x, y)
            }
            Expr::OneHot { label, axis } => {
                let lab = self.load(label, types::I32);
                let class = match axis {
                    Some(a) => self.axis_index_i32(*a),
                    None => self.fb.ins().iconst(types::I32, 0),
                };
                let (lab, class) = math::unify(self.fb, lab, class);
                let eq = self.fb.ins().icmp(IntCC::Equal, lab, class);
                math::mask_to_one(self.fb, eq)
            }
            Expr::Reduce { .. } => return Err(CodegenError("a reduction used before its pass".into())),
            Expr::IsArgMax(r) => {
                let pos = self.arg(*r)?;
                let lin = self.linear_reduced_index();
                let (pos, lin) = math::unify(self.fb, pos, lin);
                let eq = self.fb.ins().icmp(IntCC::Equal, pos, lin);
                math::mask_to_one(self.fb, eq)
            }
            Expr::MaxShift(m) => {
                let m = self.arg(*m)?;
                let fin = math::is_finite(self.fb, m);
                let ty = self.fb.func.dfg.value_type(m);
                let zero = math::fconst(self.fb, ty, 0.0);
                math::sel(self.fb, fin, m, zero)
            }
            Expr::LseFinish { max, sum } => {
                let (m, s) = (self.arg(*max)?, self.arg(*sum)?);
                let (m, s) = math::unify(self.fb, m, s);
                let fin = math::is_finite(self.fb, m);
                let ls = self.unary(Unary::Log, s);
                let r = self.fb.ins().fadd(m, ls);
                math::sel(self.fb, fin, r, m)
            }
        })
    }

    /// The index along axis `a` as i32 (a vector of lane indices on the vector axis).
    fn axis_index_i32(&mut self, a: usize) -> Value {
        let iv = match self.idx[a] {
            Some(v) => v,
            None => self.fb.ins().iconst(types::I64, 0),
        };
        let i = self.fb.ins().ireduce(types::I32, iv);
        if Some(a) == self.vec_axis && self.cur_w == LANES {
            let base = self.fb.ins().splat(types::I32X4, i);
            let iota = math::iota(self.fb);
            return self.fb.ins().iadd(base, iota);
        }
        i
    }

    /// Byte address of the element at the current point (lane 0).
    fn address(&mut self, a: &Access) -> Value {
        let mut off = self.fb.ins().iconst(types::I64, a.offset as i64);
        for (ax, &s) in a.strides.iter().enumerate() {
            if s == 0 {
                continue;
            }
            if let Some(iv) = self.idx[ax] {
                let t = self.fb.ins().imul_imm_s(iv, s as i64);
                off = self.fb.ins().iadd(off, t);
            }
        }
        let bytes = self.fb.ins().ishl_imm_s(off, 2);
        self.fb.ins().iadd(self.bases[&a.buf], bytes)
    }

    /// The lane stride (elements) of an access along the vector axis, when vectorising.
    fn lane_stride(&self, a: &Access) -> isize {
        match self.vec_axis {
            Some(v) if self.cur_w == LANES => a.strides[v],
            _ => 0,
        }
    }

    fn load(&mut self, a: &Access, ty: Type) -> Value {
        let flags = MemFlagsData::new().with_notrap();
        let addr = self.address(a);
        let live = if self.tail > 0 { self.tail } else { LANES };
        match self.lane_stride(a) {
            0 => self.fb.ins().load(ty, flags, addr, 0),
            1 if live == LANES => self.fb.ins().load(math::vec_ty(ty), flags, addr, 0),
            s => {
                // Gather the real lanes; padding lanes are zero and touch no memory.
                let vt = math::vec_ty(ty);
                let mut v = if ty == types::I32 {
                    math::iconst_t(self.fb, vt, 0)
                } else {
                    math::fconst(self.fb, vt, 0.0)
                };
                for l in 0..live {
                    let x = self.fb.ins().load(ty, flags, addr, (4 * s * l as isize) as i32);
                    v = self.fb.ins().insertlane(v, x, l as u8);
                }
                v
            }
        }
    }

    pub(super) fn store(&mut self, a: &Access, v: Value) {
        let flags = MemFlagsData::new().with_notrap();
        let addr = self.address(a);
        let live = if self.tail > 0 { self.tail } else { LANES };
        let is_vec = self.fb.func.dfg.value_type(v).is_vector();
        match self.lane_stride(a) {
            0 => {
                // Every lane writes the same element: the last real one wins, as in order.
                let v = if is_vec {
                    self.fb.ins().extractlane(v, (live - 1) as u8)
                } else {
                    v
                };
                self.fb.ins().store(flags, v, addr, 0);
            }
            1 if live == LANES => {
                let v = math::splat_to(self.fb, v, types::F32X4);
                self.fb.ins().store(flags, v, addr, 0);
            }
            s => {
                for l in 0..live {
                    let x = if is_vec {
                        self.fb.ins().extractlane(v, l as u8)
                    } else {
                        v
                    };
                    self.fb.ins().store(flags, x, addr, (4 * s * l as isize) as i32);
                }
            }
        }
    }
}

fn reduce_kind(e: &Expr) -> ReduceKind {
    match e {
        Expr::Reduce { kind, .. } => *kind,
        _ => ReduceKind::Sum,
    }
}
