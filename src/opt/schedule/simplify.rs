//! Index-space simplification of loop kernels, and the bounds check every kernel passes
//! before code generation (so that generated code provably stays inside its buffers).

use super::{Access, Buffer, Expr, Kernel, KernelKind, LoopKernel, Matrix, ScheduleError, Storage};
use crate::ir::DType;

/// For each expression, whether it varies over a reduced axis (and so is evaluated inside
/// the reduction loops). Reductions themselves do not.
pub(crate) fn inner_exprs(l: &LoopKernel) -> Vec<bool> {
    let varies = |a: &Access| a.strides.iter().zip(&l.reduced).any(|(&s, &r)| r && s != 0);
    let mut inner = vec![false; l.exprs.len()];
    for (i, e) in l.exprs.iter().enumerate() {
        inner[i] = match e {
            Expr::Load(a) => varies(a),
            Expr::OneHot { label, axis } => varies(label) || axis.is_some_and(|x| l.reduced[x]),
            Expr::Const(_) | Expr::Reduce { .. } => false,
            Expr::IsArgMax(_) => true,
            _ => e.args().iter().any(|&a| inner[a]),
        };
    }
    inner
}

/// Whether a store runs inside the reduction loops: its value or its destination varies
/// over a reduced axis (a value constant along them may still fill a full-space buffer).
pub(crate) fn store_is_inner(l: &LoopKernel, inner: &[bool], s: &super::Store) -> bool {
    inner[s.value] || s.dst.strides.iter().zip(&l.reduced).any(|(&st, &r)| r && st != 0)
}

fn for_each_access(l: &mut LoopKernel, mut f: impl FnMut(&mut Access)) {
    for e in &mut l.exprs {
        if let Expr::Load(a) | Expr::OneHot { label: a, .. } = e {
            f(a);
        }
    }
    for s in &mut l.stores {
        f(&mut s.dst);
    }
}

fn one_hot_axes(l: &LoopKernel) -> Vec<usize> {
    l.exprs
        .iter()
        .filter_map(|e| match e {
            Expr::OneHot { axis, .. } => *axis,
            _ => None,
        })
        .collect()
}

/// Drops axes of extent 1 and merges neighbouring axes that every access walks as one
/// (same kind, `stride[a] == stride[a+1] * extent[a+1]`), so that loops are few and long.
pub(crate) fn merge_axes(l: &mut LoopKernel) {
    let mut a = 0;
    while a < l.space.len() {
        if l.space[a] == 1 {
            remove_axis(l, a);
        } else {
            a += 1;
        }
    }
    let mut a = l.space.len();
    while a >= 2 {
        a -= 1;
        let (x, y) = (a - 1, a);
        if l.reduced[x] != l.reduced[y] || one_hot_axes(l).iter().any(|&h| h == x || h == y) {
            continue;
        }
        let ext = l.space[y] as isize;
        let mut ok = true;
        for_each_access(l, |acc| ok &= acc.strides[x] == acc.strides[y] * ext);
        if !ok {
            continue;
        }
        l.space[x] *= l.space[y];
        for_each_access(l, |acc| acc.strides[x] = acc.strides[y]);
        remove_axis(l, y);
    }
}

fn remove_axis(l: &mut LoopKernel, a: usize) {
    l.space.remove(a);
    l.reduced.remove(a);
    for_each_access(l, |acc| {
        acc.strides.remove(a);
    });
    for e in &mut l.exprs {
        if let Expr::OneHot { axis, .. } = e {
            *axis = match *axis {
                Some(x) if x == a => None,
                Some(x) if x > a => Some(x - 1),
                other => other,
            };
        }
    }
}

fn oob(what: &str) -> ScheduleError {
    ScheduleError::Unsupported(format!("internal scheduling error: {what}"))
}

/// The smallest and largest element touched by `acc` over the axes `relevant` (whose
/// extents are all at least 1).
fn span(space: &[usize], relevant: &[bool], offset: usize, strides: &[isize]) -> (i128, i128) {
    let (mut lo, mut hi) = (offset as i128, offset as i128);
    for ((&d, &s), &r) in space.iter().zip(strides).zip(relevant) {
        let reach = if r { s as i128 * (d as i128 - 1) } else { 0 };
        if reach < 0 {
            lo += reach;
        } else {
            hi += reach;
        }
    }
    (lo, hi)
}

/// Checks that every access of the kernel stays inside its buffer for every index it is
/// evaluated at, that element types match and that no kernel writes a caller's input.
pub(crate) fn check(k: &Kernel, buffers: &[Buffer]) -> Result<(), ScheduleError> {
    match &k.kind {
        KernelKind::Loop(l) => check_loop(l, buffers),
        KernelKind::MatMul(m) => {
            let mat = |x: &Matrix, rows: usize, cols: usize, write: bool| {
                if rows == 0 || cols == 0 {
                    return Ok(());
                }
                let b = buffers.get(x.buf.0).ok_or_else(|| oob("no such buffer"))?;
                let (lo, hi) = span(&[rows, cols], &[true, true], x.offset, &[x.rs, x.cs]);
                if lo < 0 || hi >= b.len as i128 || b.dtype != DType::F32 || (write && b.storage.is_input()) {
                    return Err(oob("a matrix operand outside its buffer"));
                }
                Ok(())
            };
            mat(&m.a, m.m, m.k, false)?;
            mat(&m.b, m.k, m.n, false)?;
            mat(&m.c, m.m, m.n, true)
        }
    }
}

fn check_loop(l: &LoopKernel, buffers: &[Buffer]) -> Result<(), ScheduleError> {
    let n = l.space.len();
    if l.reduced.len() != n {
        return Err(oob("reduced flags do not match the space"));
    }
    let inner = inner_exprs(l);
    let all = vec![true; n];
    let kept: Vec<bool> = l.reduced.iter().map(|r| !r).collect();
    let check = |acc: &Access, is_inner: bool, dtype: DType, write: bool| -> Result<(), ScheduleError> {
        let relevant = if is_inner { &all } else { &kept };
        if acc.strides.len() != n {
            return Err(oob("an access of the wrong rank"));
        }
        let b = buffers.get(acc.buf.0).ok_or_else(|| oob("no such buffer"))?;
        if b.dtype != dtype || (write && b.storage.is_input()) {
            return Err(oob("an access of the wrong element type or a write to an input"));
        }
        if l.space.iter().zip(relevant).any(|(&d, &r)| r && d == 0) {
            return Ok(()); // never executed
        }
        let (lo, hi) = span(&l.space, relevant, acc.offset, &acc.strides);
        if lo < 0 || hi >= b.len as i128 {
            return Err(oob("an access outside its buffer"));
        }
        Ok(())
    };
    for (i, e) in l.exprs.iter().enumerate() {
        if e.args().iter().any(|&a| a >= i) {
            return Err(oob("expressions out of order"));
        }
        match e {
            Expr::Load(a) => check(a, inner[i], DType::F32, false)?,
            Expr::OneHot { label, axis } => {
                check(label, inner[i], DType::I32, false)?;
                if axis.is_some_and(|x| x >= n) {
                    return Err(oob("a one-hot axis out of range"));
                }
            }
            _ => {}
        }
    }
    // A kernel reads what it writes only element for element (an in-place update):
    // anything else would read values the same kernel has or has not written yet.
    for s in &l.stores {
        for e in &l.exprs {
            if let Expr::Load(a) = e {
                if a.buf == s.dst.buf && (a.offset != s.dst.offset || a.strides != s.dst.strides) {
                    return Err(oob("a kernel reads a buffer it writes at other elements"));
                }
            }
        }
    }
    for s in &l.stores {
        if s.value >= l.exprs.len() {
            return Err(oob("a store of a missing value"));
        }
        check(&s.dst, store_is_inner(l, &inner, s), DType::F32, true)?;
    }
    Ok(())
}

impl Storage {
    /// Whether this is a caller's (read-only) input.
    pub fn is_input(&self) -> bool {
        matches!(self, Storage::Input(_))
    }
}
