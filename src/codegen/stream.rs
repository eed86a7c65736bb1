//! Row streaming of reductions over leading axes.
//!
//! A kernel that reduces its leading axes and keeps its trailing ones (the column sums of
//! a `[batch, features]` gradient, i.e. a bias gradient) would, in the default loop order,
//! walk each group of four columns down every row: a strided walk that touches each
//! cache line once per column group and so reloads the whole operand from far caches
//! several times. Streaming walks memory in order instead, row by row, keeping one
//! accumulator per column in an array on the stack. Each column still adds its values in
//! row order, so results are bit-identical to the column walk.
//!
//! It applies when the reduced axes are contiguous and followed by at least one kept
//! axis, every reduction is a sum or a maximum of a reduction-free operand, and the
//! stores that run at every point (such as the gradient itself, stored beside its column
//! sums) do not need a reduction's result.

use super::loops::{Lg, LANES};
use super::{math, CodegenError};
use crate::opt::schedule::{inner_exprs, store_is_inner, Expr, ExprId, LoopKernel, ReduceKind, Store};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value};
use std::collections::HashMap;

/// Bytes of accumulator arrays one kernel may put on the stack (JIT code runs on the
/// caller's thread, whose stack may be as small as a spawned thread's default).
const MAX_STACK_BYTES: usize = 32 * 1024;

/// How a streaming kernel is laid out.
#[derive(Clone, Debug)]
pub(super) struct Stream {
    /// Kept axes before the reduced ones: ordinary outer loops.
    pub outer: Vec<usize>,
    /// Kept axes after the reduced ones (the vector axis among them is the last axis).
    inner: Vec<usize>,
    /// Element stride of each of `inner` in an accumulator array, whose rows are padded
    /// to whole vectors so that the partial last vector is an ordinary load and store.
    strides: Vec<usize>,
    /// Floats of one accumulator array.
    floats: usize,
}

impl Stream {
    /// The streaming layout of `l`, if it applies (see the module comment).
    pub(super) fn plan(l: &LoopKernel, vec_axis: Option<usize>) -> Option<Stream> {
        let n = l.space.len();
        let red: Vec<usize> = (0..n).filter(|&a| l.reduced[a]).collect();
        let (&first, &last) = (red.first()?, red.last()?);
        if last + 1 - first != red.len() || last + 1 >= n {
            return None;
        }
        let mut level = vec![0usize; l.exprs.len()];
        let mut reductions = 0;
        for (i, e) in l.exprs.iter().enumerate() {
            level[i] = match e {
                Expr::Reduce { arg, .. } => 1 + level[*arg],
                _ => e.args().iter().map(|&a| level[a]).max().unwrap_or(0),
            };
            match e {
                Expr::Reduce {
                    kind: ReduceKind::ArgMax,
                    ..
                }
                | Expr::IsArgMax(_) => return None,
                Expr::Reduce { arg, .. } if level[*arg] > 0 => return None,
                Expr::Reduce { .. } => reductions += 1,
                _ => {}
            }
        }
        let inner = inner_exprs(l);
        if reductions == 0
            || l.stores
                .iter()
                .any(|s| store_is_inner(l, &inner, s) && level[s.value] > 0)
        {
            return None;
        }
        let axes: Vec<usize> = (last + 1..n).collect();
        let mut strides = vec![0usize; axes.len()];
        let mut floats = 1usize;
        for (k, &a) in axes.iter().enumerate().rev() {
            strides[k] = floats;
            let extent = if Some(a) == vec_axis {
                l.space[a].div_ceil(LANES) * LANES
            } else {
                l.space[a]
            };
            floats = floats.checked_mul(extent)?;
        }
        if floats.checked_mul(4 * reductions)? > MAX_STACK_BYTES {
            return None;
        }
        Some(Stream {
            outer: (0..first).collect(),
            inner: axes,
            strides,
            floats,
        })
    }
}

fn identity(e: &Expr) -> f32 {
    match e {
        Expr::Reduce {
            kind: ReduceKind::Max, ..
        } => f32::NEG_INFINITY,
        _ => 0.0,
    }
}

impl Lg<'_, '_> {
    /// At one point of the outer kept axes: clear the accumulators, stream every row,
    /// then compute and store the values of the kept points from the accumulators.
    pub(super) fn stream_body(&mut self) -> Result<(), CodegenError> {
        let Some(st) = self.stream.clone() else {
            return Err(CodegenError("a streaming body without a layout".into()));
        };
        let l = self.l;
        let reds: Vec<ExprId> = (0..l.exprs.len())
            .filter(|&e| matches!(l.exprs[e], Expr::Reduce { .. }))
            .collect();
        let mut arrays = Vec::new();
        for _ in &reds {
            let data = StackSlotData::new(StackSlotKind::ExplicitSlot, (4 * st.floats) as u32, 4);
            let slot = self.fb.create_sized_stack_slot(data);
            arrays.push(self.fb.ins().stack_addr(types::I64, slot, 0));
        }
        let flags = MemFlagsData::new().with_notrap();
        self.inner_loops(&st, 0, &mut |s| {
            for (&r, &base) in reds.iter().zip(&arrays) {
                let (addr, ty) = s.acc_slot(&st, base);
                let v = math::fconst(s.fb, ty, identity(&l.exprs[r]));
                s.fb.ins().store(flags, v, addr, 0);
            }
            Ok(())
        })?;
        let (inner_stores, outer_stores): (Vec<&Store>, Vec<&Store>) =
            l.stores.iter().partition(|s| store_is_inner(l, &self.inner, s));
        let red_axes = self.red.clone();
        self.stream_rows(&st, &red_axes, &reds, &arrays, &inner_stores)?;
        for &a in &red_axes {
            self.idx[a] = None;
        }
        self.inner_loops(&st, 0, &mut |s| {
            s.scopes.push(HashMap::new());
            for (&r, &base) in reds.iter().zip(&arrays) {
                let (addr, ty) = s.acc_slot(&st, base);
                let v = s.fb.ins().load(ty, flags, addr, 0);
                s.define(r, v);
            }
            for store in &outer_stores {
                let v = s.eval(store.value)?;
                s.store(&store.dst, v);
            }
            s.scopes.pop();
            Ok(())
        })
    }

    /// The loops over the reduced axes `axes`, each row walking the inner kept axes.
    fn stream_rows(
        &mut self,
        st: &Stream,
        axes: &[usize],
        reds: &[ExprId],
        arrays: &[Value],
        stores: &[&Store],
    ) -> Result<(), CodegenError> {
        let Some((&a, rest)) = axes.split_first() else {
            return self.inner_loops(st, 0, &mut |s| s.stream_point(st, reds, arrays, stores));
        };
        self.for_range(0, self.l.space[a], 1, &mut |s, iv| {
            s.idx[a] = Some(iv);
            s.stream_rows(st, rest, reds, arrays, stores)
        })
    }

    /// One point of the full space: fold each reduction's operand into its accumulator
    /// and perform the stores that run at every point.
    fn stream_point(
        &mut self,
        st: &Stream,
        reds: &[ExprId],
        arrays: &[Value],
        stores: &[&Store],
    ) -> Result<(), CodegenError> {
        let flags = MemFlagsData::new().with_notrap();
        self.scopes.push(HashMap::new());
        for (&r, &base) in reds.iter().zip(arrays) {
            let arg = self.l.exprs[r].args()[0];
            let x = self.eval(arg)?;
            let (addr, ty) = self.acc_slot(st, base);
            let cur = self.fb.ins().load(ty, flags, addr, 0);
            let x = math::splat_to(self.fb, x, ty);
            let next = match self.l.exprs[r] {
                Expr::Reduce {
                    kind: ReduceKind::Max, ..
                } => math::fmax_nan(self.fb, cur, x),
                _ => self.fb.ins().fadd(cur, x),
            };
            self.fb.ins().store(flags, next, addr, 0);
        }
        for s in stores {
            let v = self.eval(s.value)?;
            self.store(&s.dst, v);
        }
        self.scopes.pop();
        Ok(())
    }

    /// Address and type of the current accumulator(s) in the array at `base`.
    fn acc_slot(&mut self, st: &Stream, base: Value) -> (Value, Type) {
        let mut addr = base;
        for (&a, &stride) in st.inner.iter().zip(&st.strides) {
            if let Some(iv) = self.idx[a] {
                let off = self.fb.ins().imul_imm_s(iv, 4 * stride as i64);
                addr = self.fb.ins().iadd(addr, off);
            }
        }
        let ty = if self.cur_w == LANES { types::F32X4 } else { types::F32 };
        (addr, ty)
    }

    /// The loops over the inner kept axes from the `i`-th on, the vector axis in whole
    /// vectors and then one partial vector, running `f` at each point.
    fn inner_loops(
        &mut self,
        st: &Stream,
        i: usize,
        f: &mut dyn FnMut(&mut Self) -> Result<(), CodegenError>,
    ) -> Result<(), CodegenError> {
        let Some(&a) = st.inner.get(i) else {
            return f(self);
        };
        let e = self.l.space[a];
        if Some(a) != self.vec_axis {
            return self.for_range(0, e, 1, &mut |s, iv| {
                s.idx[a] = Some(iv);
                s.inner_loops(st, i + 1, f)
            });
        }
        let e4 = e / LANES * LANES;
        self.for_range(0, e4, LANES, &mut |s, iv| {
            s.idx[a] = Some(iv);
            s.cur_w = LANES;
            s.inner_loops(st, i + 1, f)
        })?;
        if e4 < e {
            self.idx[a] = Some(self.fb.ins().iconst(types::I64, e4 as i64));
            self.cur_w = LANES;
            self.tail = e - e4;
            self.inner_loops(st, i + 1, f)?;
            self.tail = 0;
        }
        self.cur_w = 1;
        Ok(())
    }
}
