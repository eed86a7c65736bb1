//! Kernel formation: from a graph (no `Op::Grad` left) and concrete size bindings, the list
//! of kernels that compute it, in execution order, with every loop bound a constant.
//!
//! A kernel is either a matrix product (a call to a host routine) or a *loop kernel*: a
//! loop nest over an iteration space whose body is a small SSA program of scalar
//! expressions ([`Expr`]). Broadcasting, transposes and reshapes are index arithmetic
//! (per-axis strides of each [`Access`]), never copies. Axes of the space are either kept
//! (they index the results) or reduced; `Expr::Reduce` folds its operand over all reduced
//! axes. One loop kernel can hold several reductions over the same axes, elementwise
//! producers of their operands and elementwise consumers of their results (the softmax
//! family `exp(x - logsumexp(x))` is one kernel).
//!
//! The choice of what to fuse is in `schedule/fuse.rs`; building kernels from that choice
//! in `schedule/build.rs`; index-space simplification in `schedule/simplify.rs`.

mod build;
mod fuse;
mod maps;
mod simplify;

use crate::ir::{Binary, Bindings, DType, DimError, Graph, NodeId, Unary};
use std::fmt;

/// How hard to optimise. Both levels compute the same values (up to rounding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum OptLevel {
    /// One kernel per node: no fusion, reshapes and transposes are copies. The baseline
    /// that differential tests compare the optimised schedule against.
    O0,
    /// Fusion of elementwise chains, reductions and views.
    #[default]
    O1,
}

/// A materialised tensor: an index into [`Schedule::buffers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BufferId(pub usize);

/// Who owns a buffer's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    /// The caller's buffer of graph input `i` (read only).
    Input(usize),
    /// The caller's buffer of param `i` (read; written only by in-place updates).
    Param(usize),
    /// The caller's buffer of output `i` (in `Graph::outputs` order).
    Output(usize),
    /// The caller's scalar loss.
    Loss,
    /// Part of the workspace; placed by the memory plan.
    Temp,
}

/// One materialised tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buffer {
    /// Where its memory is.
    pub storage: Storage,
    /// Element count.
    pub len: usize,
    /// Element type (4 bytes either way).
    pub dtype: DType,
}

/// A strided read or write of a buffer from a kernel's iteration space: element
/// `(i_0, .., i_r)` of the space touches `buf[offset + sum(i_k * strides[k])]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    /// The buffer.
    pub buf: BufferId,
    /// Offset in elements.
    pub offset: usize,
    /// Stride in elements per axis of the iteration space (0 where broadcast).
    pub strides: Vec<isize>,
}

/// An index into [`LoopKernel::exprs`].
pub type ExprId = usize;

/// What a reduction computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceKind {
    /// Sum.
    Sum,
    /// Maximum; NaN propagates; `-inf` for an empty slice.
    Max,
    /// The row-major position (over the reduced axes) of the first maximum, a NaN counting
    /// as the maximum. An index, not a float: only `Expr::IsArgMax` consumes it.
    ArgMax,
}

/// One scalar expression of a loop kernel, evaluated at each point of the iteration space
/// where it varies. Operands have smaller ids (the list is in topological order).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// An f32 element of a buffer.
    Load(Access),
    /// An f32 constant.
    Const(u32),
    /// An elementwise function.
    Unary(Unary, ExprId),
    /// An elementwise function of two values.
    Binary(Binary, ExprId, ExprId),
    /// `1.0` where the i32 label read by `label` equals the index along `axis` (`0` when
    /// `axis` is `None`, a class axis of extent 1), else `0.0`.
    OneHot {
        /// the label read
        label: Access,
        /// the axis of the space that enumerates classes
        axis: Option<usize>,
    },
    /// A reduction of the operand over every reduced axis of the kernel.
    Reduce {
        /// what to compute
        kind: ReduceKind,
        /// the operand (varies over the reduced axes)
        arg: ExprId,
    },
    /// `1.0` at the position an `ArgMax` reduction found, else `0.0`.
    IsArgMax(ExprId),
    /// `m` if finite, else `0`: the shift that keeps `exp(x - shift)` from overflowing.
    MaxShift(ExprId),
    /// `max + log(sum)` if `max` is finite, else `max`: the end of a stable logsumexp.
    LseFinish {
        /// the slice maximum
        max: ExprId,
        /// the sum of `exp(x - MaxShift(max))`
        sum: ExprId,
    },
}

impl Expr {
    /// An f32 constant expression.
    pub fn constant(x: f32) -> Expr {
        Expr::Const(x.to_bits())
    }

    /// The operands.
    pub fn args(&self) -> Vec<ExprId> {
        match self {
            Expr::Load(_) | Expr::Const(_) | Expr::OneHot { .. } => vec![],
            Expr::Unary(_, a) | Expr::Reduce { arg: a, .. } | Expr::IsArgMax(a) | Expr::MaxShift(a) => vec![*a],
            Expr::Binary(_, a, b) => vec![*a, *b],
            Expr::LseFinish { max, sum } => vec![*max, *sum],
        }
    }
}

/// A write of an expression's value to a buffer at every point where the value varies:
/// over the kept axes, or over the whole space for values that vary over reduced axes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    /// The value.
    pub value: ExprId,
    /// Where it goes (strides 0 on axes it does not vary over).
    pub dst: Access,
}

/// A loop nest over `space` with a fused body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopKernel {
    /// Extent of each axis of the iteration space.
    pub space: Vec<usize>,
    /// Whether each axis is reduced (by every `Expr::Reduce` of the kernel).
    pub reduced: Vec<bool>,
    /// The body, in topological order.
    pub exprs: Vec<Expr>,
    /// The results written.
    pub stores: Vec<Store>,
}

/// A 2-D strided operand of a matrix product: element `(i, j)` at
/// `buf[offset + i * rs + j * cs]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    /// The buffer.
    pub buf: BufferId,
    /// Offset in elements.
    pub offset: usize,
    /// Row stride in elements.
    pub rs: isize,
    /// Column stride in elements.
    pub cs: isize,
}

/// `c = a @ b` (or `c += a @ b` when `accumulate`), with `a: [m, k]`, `b: [k, n]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MatMulKernel {
    /// Rows of `a` and `c`.
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of `b` and `c`.
    pub n: usize,
    /// Left operand.
    pub a: Matrix,
    /// Right operand.
    pub b: Matrix,
    /// Result.
    pub c: Matrix,
    /// Add to `c` instead of overwriting it.
    pub accumulate: bool,
    /// The product is scaled by this before it is written or added.
    pub scale: f32,
}

/// What a kernel does.
#[derive(Clone, Debug, PartialEq)]
pub enum KernelKind {
    /// A fused loop nest, compiled to native loops.
    Loop(LoopKernel),
    /// A matrix product, a call to the host routine in `kernels`.
    MatMul(MatMulKernel),
}

/// One step of the schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// The computation.
    pub kind: KernelKind,
    /// The graph nodes it computes (fused ones included), for inspection.
    pub nodes: Vec<NodeId>,
}

impl Kernel {
    /// Every buffer the kernel reads.
    pub fn reads(&self) -> Vec<BufferId> {
        let mut r: Vec<BufferId> = match &self.kind {
            KernelKind::Loop(l) => l
                .exprs
                .iter()
                .filter_map(|e| match e {
                    Expr::Load(a) | Expr::OneHot { label: a, .. } => Some(a.buf),
                    _ => None,
                })
                .collect(),
            KernelKind::MatMul(m) => {
                let mut v = vec![m.a.buf, m.b.buf];
                if m.accumulate {
                    v.push(m.c.buf);
                }
                v
            }
        };
        r.sort();
        r.dedup();
        r
    }

    /// Every buffer the kernel writes.
    pub fn writes(&self) -> Vec<BufferId> {
        let mut w: Vec<BufferId> = match &self.kind {
            KernelKind::Loop(l) => l.stores.iter().map(|s| s.dst.buf).collect(),
            KernelKind::MatMul(m) => vec![m.c.buf],
        };
        w.sort();
        w.dedup();
        w
    }

    /// Floating-point operations, counting one per elementwise op and reduction step per
    /// element and `2mkn` per matrix product (transcendentals count as one).
    pub fn flops(&self) -> u64 {
        match &self.kind {
            // Saturating: an empty product with a huge inner dimension (`[0, K] @ [K, M]`
            // from an inputs file) has sizes whose product overflows.
            KernelKind::MatMul(m) => [m.m, m.k, m.n].iter().fold(2u64, |a, &d| a.saturating_mul(d as u64)),
            KernelKind::Loop(l) => {
                let full: u64 = l.space.iter().fold(1u64, |a, &d| a.saturating_mul(d as u64));
                let kept: u64 = l
                    .space
                    .iter()
                    .zip(&l.reduced)
                    .filter(|(_, &r)| !r)
                    .fold(1u64, |a, (&d, _)| a.saturating_mul(d as u64));
                let inner = simplify::inner_exprs(l);
                l.exprs
                    .iter()
                    .enumerate()
                    .map(|(i, e)| match e {
                        Expr::Load(_) | Expr::Const(_) => 0,
                        Expr::Reduce { .. } => full,
                        _ if inner[i] => full,
                        _ => kept,
                    })
                    .fold(0u64, u64::saturating_add)
            }
        }
    }
}

/// For each expression of a loop kernel, whether it varies over a reduced axis (and so
/// is evaluated inside the reduction loops). Reductions themselves do not.
pub fn inner_exprs(l: &LoopKernel) -> Vec<bool> {
    simplify::inner_exprs(l)
}

/// Whether a store of a loop kernel runs inside the reduction loops (its value or its
/// destination varies over a reduced axis); `inner` is [`inner_exprs`].
pub fn store_is_inner(l: &LoopKernel, inner: &[bool], s: &Store) -> bool {
    simplify::store_is_inner(l, inner, s)
}

/// An empty reduction still runs its other reduced loops: summing `[2^40, 0]` loops 2^40
/// times over nothing. When a reduced axis is 0, every reduced axis is made 0 (the same
/// empty reduction, no iterations); likewise for the kept axes.
fn empty_loops(l: &mut LoopKernel) {
    for kind in [false, true] {
        let axes: Vec<usize> = (0..l.space.len()).filter(|&a| l.reduced[a] == kind).collect();
        if axes.iter().any(|&a| l.space[a] == 0) {
            for a in axes {
                l.space[a] = 0;
            }
        }
    }
}

/// The kernels of one graph for one binding of its size variables.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// Every materialised tensor; caller buffers first, one per input, param, output and
    /// loss, in that order (see [`Schedule::caller_buffer`]).
    pub buffers: Vec<Buffer>,
    /// The kernels, in execution order.
    pub kernels: Vec<Kernel>,
    /// The bindings the loop bounds come from.
    pub bindings: Bindings,
    /// Live nodes of the graph the schedule computes.
    pub nodes: usize,
}

impl fmt::Display for Schedule {
    /// A readable listing of buffers and kernels (for `--emit kernels` and debugging).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.buffers.iter().enumerate() {
            writeln!(f, "buf{i}: {:?} {} x {}", b.storage, b.len, b.dtype)?;
        }
        let acc = |a: &Access| format!("buf{}[{} + {:?}]", a.buf.0, a.offset, a.strides);
        for (i, k) in self.kernels.iter().enumerate() {
            match &k.kind {
                KernelKind::MatMul(m) => writeln!(
                    f,
                    "k{i}: matmul {}x{}x{} buf{}({},{}) @ buf{}({},{}) -> buf{}{}",
                    m.m,
                    m.k,
                    m.n,
                    m.a.buf.0,
                    m.a.rs,
                    m.a.cs,
                    m.b.buf.0,
                    m.b.rs,
                    m.b.cs,
                    m.c.buf.0,
                    if m.accumulate { " (+=)" } else { "" }
                )?,
                KernelKind::Loop(l) => {
                    writeln!(f, "k{i}: loop {:?} reduced {:?}", l.space, l.reduced)?;
                    for (j, e) in l.exprs.iter().enumerate() {
                        let text = match e {
                            Expr::Load(a) => format!("load {}", acc(a)),
                            Expr::OneHot { label, axis } => format!("one_hot {} == i{axis:?}", acc(label)),
                            Expr::Const(b) => format!("const {}", f32::from_bits(*b)),
                            other => format!("{other:?}"),
                        };
                        writeln!(f, "    e{j} = {text}")?;
                    }
                    for st in &l.stores {
                        writeln!(f, "    store e{} -> {}", st.value, acc(&st.dst))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Schedule {
    /// The buffer of a caller-owned storage, if the graph has it.
    pub fn caller_buffer(&self, storage: Storage) -> Option<BufferId> {
        self.buffers.iter().position(|b| b.storage == storage).map(BufferId)
    }
}

/// Why a graph cannot be scheduled for these bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// A dimension could not be evaluated.
    Dim(DimError),
    /// `Op::Grad` is left; run `autodiff::expand_grads` first.
    GradLeft,
    /// The graph does something the compiler does not support, described.
    Unsupported(String),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::Dim(DimError::Unbound(v)) => write!(f, "size variable {v} has no value"),
            ScheduleError::Dim(DimError::Overflow) => write!(f, "a tensor is too large (element count overflows)"),
            ScheduleError::GradLeft => write!(f, "grad nodes must be expanded before compiling"),
            ScheduleError::Unsupported(s) => write!(f, "unsupported: {s}"),
        }
    }
}

impl std::error::Error for ScheduleError {}

impl From<DimError> for ScheduleError {
    fn from(e: DimError) -> Self {
        ScheduleError::Dim(e)
    }
}

/// Forms the kernels of `graph` for `bindings`: the graph's outputs (in order), its loss
/// and its updates (applied together after everything else has read the old params).
pub fn schedule(graph: &Graph, bindings: &Bindings, level: OptLevel) -> Result<Schedule, ScheduleError> {
    let plan = fuse::plan(graph, bindings, level)?;
    let mut s = build::build(graph, bindings, &plan)?;
    for k in &mut s.kernels {
        if let KernelKind::Loop(l) = &mut k.kind {
            if level == OptLevel::O1 {
                simplify::merge_axes(l);
            }
            empty_loops(l);
        }
        simplify::check(k, &s.buffers)?;
    }
    // A kernel that writes only empty buffers does nothing, but its loops still run: `[0, K]`
    // transposed loops K times over nothing, and an inputs file can make K 2^40 without
    // needing memory (so the memory limit lets it through).
    let buffers = &s.buffers;
    s.kernels.retain(|k| k.writes().iter().any(|b| buffers[b.0].len > 0));
    Ok(s)
}
