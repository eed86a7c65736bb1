//! The built-in functions of LANGUAGE.md §6: one table of signatures, and one `match`
//! expanding each into IR primitives.
//!
//! Expansions (each node's span is the call's):
//! - `mean(x, axis)` = `sum(x, axis) * Const{1, per: product of the reduced dims}`;
//!   `keepdims=true` = the reduction followed by a `Reshape` that puts back 1s.
//! - `softmax(x, k)` = `exp(x - keep(logsumexp(x, k)))`; `log_softmax(x, k)` = `x - keep(..)`.
//! - `cross_entropy(logits [N,C], labels i32[N])` =
//!   `(sum(logsumexp(logits, 1)) - sum(one_hot(labels, C) * logits)) * Const{1, per N}`;
//!   with f32 targets `[N,C]`: `-sum(targets * log_softmax(logits, 1)) * Const{1, per N}`.
//! - `mse(a, b)` = `mean((a - b) ^ 2)`.
//! - `gelu(a)` = `0.5 * a * (1 + tanh(sqrt(2/pi) * (a + 0.044715 * a^3)))`.
//! - `[K] @ [K,P]`, `[M,K] @ [K]` and `[K] @ [K]` reshape the vectors to matrices and back.
//!
//! nnc extensions (docs/language-notes.md), one primitive each, so that every primitive
//! has a surface form and a differentiated graph prints back as a model (`--emit grad-nn`):
//! `step`, `sign`, `greater_eq`, `one_hot`, `broadcast_to`, `argmax_mask`.

use super::lower::{Lowerer, Scope, Val};
use super::types;
use crate::diag::{Diagnostic, Span};
use crate::ir::{Binary, DType, Dim, NodeId, Op, Reduce, Shape, Unary, F64};
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident};
use crate::syntax::short;

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Builtin {
    /// An elementwise function of one tensor.
    Map(Unary),
    LeakyRelu,
    Gelu,
    Maximum,
    Minimum,
    GreaterEq,
    Reduce(Reduction),
    Softmax,
    LogSoftmax,
    CrossEntropy,
    Mse,
    Reshape,
    Transpose,
    Grad,
    OneHot,
    BroadcastTo,
    ArgMaxMask,
}

/// The reductions of the language (`mean` is a sum scaled afterwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Reduction {
    Sum,
    Mean,
    Max,
    LogSumExp,
}

/// One parameter of a built-in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum P {
    /// A tensor, required, positional only.
    Tensor,
    /// An option with a default, by keyword or position.
    Opt(&'static str),
    /// A bracketed shape, required, positional only.
    ShapeList,
    /// A dimension (an integer, a size variable or a product), required, positional only.
    Dimension,
}

const ONE: &[P] = &[P::Tensor];
const TWO: &[P] = &[P::Tensor, P::Tensor];
const REDUCE: &[P] = &[P::Tensor, P::Opt("axis"), P::Opt("keepdims")];
const SOFTMAX: &[P] = &[P::Tensor, P::Opt("axis")];

/// Every built-in but the elementwise unary ones (`Unary::calls`, from `ir/unary_table.rs`):
/// name, meaning, parameters.
const TABLE: &[(&str, Builtin, &[P])] = &[
    ("leaky_relu", Builtin::LeakyRelu, &[P::Tensor, P::Opt("alpha")]),
    ("gelu", Builtin::Gelu, ONE),
    ("maximum", Builtin::Maximum, TWO),
    ("minimum", Builtin::Minimum, TWO),
    ("sum", Builtin::Reduce(Reduction::Sum), REDUCE),
    ("mean", Builtin::Reduce(Reduction::Mean), REDUCE),
    ("max", Builtin::Reduce(Reduction::Max), REDUCE),
    ("logsumexp", Builtin::Reduce(Reduction::LogSumExp), REDUCE),
    ("softmax", Builtin::Softmax, SOFTMAX),
    ("log_softmax", Builtin::LogSoftmax, SOFTMAX),
    ("cross_entropy", Builtin::CrossEntropy, TWO),
    ("mse", Builtin::Mse, TWO),
    ("reshape", Builtin::Reshape, &[P::Tensor, P::ShapeList]),
    ("transpose", Builtin::Transpose, ONE),
    ("grad", Builtin::Grad, TWO),
    // nnc extensions
    ("greater_eq", Builtin::GreaterEq, TWO),
    ("one_hot", Builtin::OneHot, &[P::Tensor, P::Dimension]),
    ("broadcast_to", Builtin::BroadcastTo, &[P::Tensor, P::ShapeList]),
    ("argmax_mask", Builtin::ArgMaxMask, &[P::Tensor, P::Opt("axis")]),
];

/// The built-in called `name`.
pub(super) fn lookup(name: &str) -> Option<Builtin> {
    match Unary::calls().find(|e| e.0 == name) {
        Some((_, u)) => Some(Builtin::Map(u)),
        None => TABLE.iter().find(|e| e.0 == name).map(|e| e.1),
    }
}

/// The names of all built-ins.
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    Unary::calls().map(|e| e.0).chain(TABLE.iter().map(|e| e.0))
}

fn entry(b: Builtin) -> (&'static str, &'static [P]) {
    if let Builtin::Map(u) = b {
        // Only ops with a call form become `Builtin::Map` (see `lookup`).
        return (u.call_name().unwrap_or(u.name()), ONE);
    }
    TABLE
        .iter()
        .find(|e| e.1 == b)
        .map(|e| (e.0, e.2))
        .expect("every built-in is in the table")
}

/// Whether argument `i` of a built-in is a shape list or a dimension, whose names are
/// size variables rather than values.
pub(super) fn is_size_argument(b: Builtin, i: usize) -> bool {
    matches!(entry(b).1.get(i), Some(P::ShapeList | P::Dimension))
}

/// Matches call arguments to the built-in's parameters: positional first, then options by
/// keyword. Checks only the argument list, so `fn` bodies can be checked before inlining.
pub(super) fn bind<'e>(b: Builtin, callee: &Ident, args: &'e [Arg]) -> Result<Vec<Option<&'e Expr>>, Diagnostic> {
    let (name, params) = entry(b);
    let mut bound: Vec<Option<&Expr>> = vec![None; params.len()];
    let mut positional = 0;
    for a in args {
        match &a.keyword {
            None => {
                if args
                    .iter()
                    .take_while(|x| !std::ptr::eq(*x, a))
                    .any(|x| x.keyword.is_some())
                {
                    return Err(
                        Diagnostic::error(a.value.span, "positional argument after a keyword argument")
                            .with_label("move it before the keyword arguments"),
                    );
                }
                if positional >= params.len() {
                    return Err(arity(name, params, callee, args.len()));
                }
                bound[positional] = Some(&a.value);
                positional += 1;
            }
            Some(k) => match params.iter().position(|p| matches!(p, P::Opt(n) if *n == k.name)) {
                Some(i) if bound[i].is_some() => {
                    return Err(
                        Diagnostic::error(k.span, format!("argument `{}` is given twice", k.name))
                            .with_label("given again here"),
                    );
                }
                Some(i) => bound[i] = Some(&a.value),
                None => return Err(unknown_keyword(name, params, k)),
            },
        }
    }
    let missing = params
        .iter()
        .zip(&bound)
        .any(|(p, a)| !matches!(p, P::Opt(_)) && a.is_none());
    if missing {
        return Err(arity(name, params, callee, args.len()));
    }
    Ok(bound)
}

fn arity(name: &str, params: &[P], callee: &Ident, found: usize) -> Diagnostic {
    let required = params.iter().filter(|p| !matches!(p, P::Opt(_))).count();
    let takes = if required == params.len() {
        format!("{required} argument{}", if required == 1 { "" } else { "s" })
    } else {
        format!("{required} to {} arguments", params.len())
    };
    Diagnostic::error(
        callee.span,
        format!("wrong number of arguments: `{name}` takes {takes}, found {found}"),
    )
    .with_label(format!("called with {found}"))
}

fn unknown_keyword(name: &str, params: &[P], k: &Ident) -> Diagnostic {
    let keywords: Vec<&str> = params
        .iter()
        .filter_map(|p| match p {
            P::Opt(n) => Some(*n),
            _ => None,
        })
        .collect();
    let mut d = Diagnostic::error(
        k.span,
        format!("unknown keyword argument `{}` for `{name}`", short(&k.name)),
    );
    d = if keywords.is_empty() {
        d.with_label(format!("`{name}` takes no keyword arguments"))
    } else {
        d.with_label(format!("`{name}` takes {}", keywords.join(", ")))
    };
    if let Some(s) = super::suggest::nearest(&k.name, keywords.iter().copied()) {
        d = d.with_note(format!("did you mean `{s}`?"));
    }
    d
}

/// Lowers a call whose arguments `bind` accepted.
///
/// This function is on the recursion path of lowering (arguments are lowered here), so
/// it only lowers the tensor arguments and leaves the expansion to [`expand`]: in debug
/// builds every local of a function takes its own stack slot, and a 2 MiB thread must
/// hold the deepest accepted nesting.
pub(super) fn lower(lw: &mut Lowerer, b: Builtin, args: &[Option<&Expr>], span: Span, scope: &Scope) -> Val {
    let params = entry(b).1;
    let mut tensors: Vec<NodeId> = Vec::new();
    let mut poisoned = false;
    for (i, (p, a)) in params.iter().zip(args).enumerate() {
        if let (P::Tensor, Some(e)) = (p, a) {
            // Labels are the one place an i32 tensor is welcome.
            let labels = (b == Builtin::CrossEntropy && i == 1) || (b == Builtin::OneHot && i == 0);
            match lw.expr(e, scope) {
                Some(id) if labels || lw.g.dtype(id) == DType::F32 => tensors.push(id),
                Some(id) => {
                    not_f32(lw, b, e, id);
                    poisoned = true;
                }
                None => poisoned = true,
            }
        }
    }
    if poisoned {
        return None;
    }
    expand(lw, b, &tensors, args, span, scope)
}

fn not_f32(lw: &mut Lowerer, b: Builtin, e: &Expr, id: NodeId) {
    let name = entry(b).0;
    let d = Diagnostic::error(e.span, format!("`{name}` needs an f32 tensor, found an i32 tensor"))
        .with_label(format!("this is {}", lw.g.node(id).ty))
        .with_note("i32 tensors hold class labels; they can only be passed to cross_entropy");
    lw.report(d);
}

/// The expansion of a built-in over its lowered tensor arguments `t`.
fn expand(lw: &mut Lowerer, b: Builtin, t: &[NodeId], args: &[Option<&Expr>], span: Span, scope: &Scope) -> Val {
    let name = entry(b).0;
    let arg = |i: usize| args.get(i).copied().flatten();
    match b {
        Builtin::Map(u) => lw.node(Op::Unary(u), &[t[0]], span, name),
        Builtin::LeakyRelu => {
            let alpha = match arg(1) {
                Some(e) => lw.const_value(e, scope, "`alpha`")?,
                None => 0.01,
            };
            lw.node(Op::Unary(Unary::LeakyRelu(F64(alpha))), &[t[0]], span, name)
        }
        Builtin::Gelu => gelu(lw, t[0], span),
        Builtin::Maximum => lw.node(Op::Binary(Binary::Max), t, span, name),
        Builtin::Minimum => lw.node(Op::Binary(Binary::Min), t, span, name),
        Builtin::Reduce(kind) => {
            let shape = lw.shape(t[0]);
            let axes = match arg(1) {
                Some(e) if kind == Reduction::Max && lw.is_tensor_like(e) => {
                    return lw.report_none(
                        Diagnostic::error(e.span, "`max` reduces one tensor; its second argument is an axis")
                            .with_label("not an axis")
                            .with_note("the elementwise maximum of two tensors is maximum(a, b)"),
                    )
                }
                Some(e) => vec![lw.axis(e, scope, &shape, name)?],
                None => (0..shape.rank()).collect(),
            };
            let keep = match arg(2) {
                Some(e) => lw.keepdims(e, scope)?,
                None => false,
            };
            reduce(lw, kind, t[0], &axes, keep, span, name)
        }
        Builtin::Softmax | Builtin::LogSoftmax => {
            let shape = lw.shape(t[0]);
            let axis = match arg(1) {
                Some(e) => lw.axis(e, scope, &shape, name)?,
                None => lw.axis_value(-1, &shape, name, span)?,
            };
            let shifted = log_softmax(lw, t[0], axis, span, name)?;
            match b {
                Builtin::Softmax => lw.node(Op::Unary(Unary::Exp), &[shifted], span, name),
                _ => Some(shifted),
            }
        }
        Builtin::CrossEntropy => cross_entropy(lw, t[0], t[1], span, (arg(0), arg(1))),
        Builtin::Mse => mse(lw, t[0], t[1], span),
        Builtin::Reshape => {
            let list = arg(1).expect("bind checked the shape argument");
            let from = lw.shape(t[0]);
            let to = lw.reshape_dims(list, &from)?;
            if from.numel() != to.numel() {
                let (a, b) = (count(&from), count(&to));
                return lw.report_none(
                    Diagnostic::error(
                        span,
                        format!("cannot reshape {from} ({a} elements) to {to} ({b} elements)"),
                    )
                    .with_label("element counts differ"),
                );
            }
            lw.node(Op::Reshape(to), &[t[0]], span, name)
        }
        Builtin::Transpose => transpose(lw, t[0], span, name),
        Builtin::Grad => grad(lw, t[0], t[1], span, (arg(0), arg(1))),
        Builtin::GreaterEq => lw.node(Op::Binary(Binary::GreaterEq), t, span, name),
        Builtin::OneHot => one_hot(lw, t[0], arg(0), arg(1), span),
        Builtin::BroadcastTo => {
            let list = arg(1).expect("bind checked the shape argument");
            let to = lw.shape_list(list)?;
            let from = lw.shape(t[0]);
            if !crate::ir::broadcasts_to(&from, &to) {
                return lw.report_none(
                    Diagnostic::error(span, format!("cannot broadcast {from} to {to}"))
                        .with_label("shapes align on the right; only dimensions of 1 (or missing ones) stretch"),
                );
            }
            lw.node(Op::BroadcastTo(to), &[t[0]], span, name)
        }
        Builtin::ArgMaxMask => {
            let shape = lw.shape(t[0]);
            let axes = match arg(1) {
                Some(e) => vec![lw.axis(e, scope, &shape, name)?],
                None => (0..shape.rank()).collect(),
            };
            lw.node(Op::ArgMaxMask { axes }, &[t[0]], span, name)
        }
    }
}

/// `one_hot(labels, C)`: f32 `[.., C]` from i32 labels `[..]`.
fn one_hot(lw: &mut Lowerer, labels: NodeId, expr: Option<&Expr>, classes: Option<&Expr>, span: Span) -> Val {
    if lw.g.dtype(labels) != DType::I32 {
        let lspan = expr.map_or(span, |e| e.span);
        return lw.report_none(
            Diagnostic::error(lspan, "`one_hot` needs i32 labels, found an f32 tensor")
                .with_label(format!("this is {}", lw.g.node(labels).ty)),
        );
    }
    let classes = lw.dimension(classes.expect("bind checked the class count"))?;
    lw.node(Op::OneHot { classes }, &[labels], span, "one_hot")
}

fn count(s: &Shape) -> String {
    s.numel().map(|d| d.to_string()).unwrap_or_else(|| "too many".into())
}

/// A reduction over `axes`; a scalar (no axes) is returned as it is.
fn reduce(lw: &mut Lowerer, kind: Reduction, x: NodeId, axes: &[usize], keep: bool, span: Span, name: &str) -> Val {
    if axes.is_empty() {
        return Some(x);
    }
    let shape = lw.shape(x);
    let prim = match kind {
        Reduction::Sum | Reduction::Mean => Reduce::Sum,
        Reduction::Max => Reduce::Max,
        Reduction::LogSumExp => Reduce::LogSumExp,
    };
    let op = Op::Reduce {
        kind: prim,
        axes: axes.to_vec(),
    };
    let mut r = lw.node(op, &[x], span, name)?;
    if kind == Reduction::Mean {
        r = scale_by_count(lw, r, axes.iter().map(|&a| &shape.0[a]), 1.0, span, name)?;
    }
    if keep {
        r = lw.node(Op::Reshape(shape.with_axes_one(axes)), &[r], span, name)?;
    }
    Some(r)
}

/// `x * Const{value, per: product of dims}`.
fn scale_by_count<'d>(
    lw: &mut Lowerer,
    x: NodeId,
    dims: impl IntoIterator<Item = &'d Dim>,
    value: f64,
    span: Span,
    name: &str,
) -> Val {
    let Some(per) = Dim::product(dims) else {
        return lw.report_none(Diagnostic::error(
            span,
            format!("`{name}`: the element count overflows"),
        ));
    };
    let c = lw.constant_per(value, per, span);
    lw.node(Op::Binary(Binary::Mul), &[x, c], span, name)
}

/// `x - keepdims(logsumexp(x, axis))`: the stable log-softmax.
fn log_softmax(lw: &mut Lowerer, x: NodeId, axis: usize, span: Span, name: &str) -> Val {
    let shape = lw.shape(x);
    let op = Op::Reduce {
        kind: Reduce::LogSumExp,
        axes: vec![axis],
    };
    let lse = lw.node(op, &[x], span, name)?;
    let kept = lw.node(Op::Reshape(shape.with_axes_one(&[axis])), &[lse], span, name)?;
    lw.node(Op::Binary(Binary::Sub), &[x, kept], span, name)
}

fn gelu(lw: &mut Lowerer, a: NodeId, span: Span) -> Val {
    let name = "gelu";
    let mul = Op::Binary(Binary::Mul);
    let cube = lw.node(Op::Unary(Unary::Pow(F64(3.0))), &[a], span, name)?;
    let c1 = lw.constant(0.044715, span);
    let t = lw.node(mul.clone(), &[c1, cube], span, name)?;
    let inner = lw.node(Op::Binary(Binary::Add), &[a, t], span, name)?;
    let c2 = lw.constant((2.0 / std::f64::consts::PI).sqrt(), span);
    let scaled = lw.node(mul.clone(), &[c2, inner], span, name)?;
    let th = lw.node(Op::Unary(Unary::Tanh), &[scaled], span, name)?;
    let one = lw.constant(1.0, span);
    let onep = lw.node(Op::Binary(Binary::Add), &[one, th], span, name)?;
    let prod = lw.node(mul.clone(), &[a, onep], span, name)?;
    let half = lw.constant(0.5, span);
    lw.node(mul, &[half, prod], span, name)
}

fn cross_entropy(
    lw: &mut Lowerer,
    logits: NodeId,
    labels: NodeId,
    span: Span,
    exprs: (Option<&Expr>, Option<&Expr>),
) -> Val {
    let name = "cross_entropy";
    let (ls, ts) = (lw.shape(logits), lw.shape(labels));
    let (lspan, tspan) = (exprs.0.map_or(span, |e| e.span), exprs.1.map_or(span, |e| e.span));
    if ls.rank() != 2 {
        return lw.report_none(
            Diagnostic::error(
                lspan,
                format!("cross_entropy expects logits of shape [N, C], found {ls}"),
            )
            .with_label("not a matrix"),
        );
    }
    let (n, c) = (ls.0[0].clone(), ls.0[1].clone());
    if lw.g.dtype(labels) == DType::I32 {
        if ts.rank() != 1 || ts.0[0] != n {
            return lw.report_none(
                Diagnostic::error(tspan, format!("cross_entropy labels i32{ts} do not match logits {ls}"))
                    .with_label(format!("expected i32[{n}], one class index per row")),
            );
        }
        let lse = lw.node(
            Op::Reduce {
                kind: Reduce::LogSumExp,
                axes: vec![1],
            },
            &[logits],
            span,
            name,
        )?;
        let total = lw.node(
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0],
            },
            &[lse],
            span,
            name,
        )?;
        let onehot = lw.node(Op::OneHot { classes: c }, &[labels], span, name)?;
        let picked = lw.node(Op::Binary(Binary::Mul), &[onehot, logits], span, name)?;
        let chosen = lw.node(
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0, 1],
            },
            &[picked],
            span,
            name,
        )?;
        let diff = lw.node(Op::Binary(Binary::Sub), &[total, chosen], span, name)?;
        return scale_by_count(lw, diff, [&n], 1.0, span, name);
    }
    if ts != ls {
        let d = if ts.rank() == 1 {
            Diagnostic::error(
                tspan,
                format!("cross_entropy labels must be i32 class indices, found f32 {ts}"),
            )
            .with_label("declare labels as `i32[N]`")
            .with_note(format!("soft targets are f32 with the logits' shape {ls}"))
        } else {
            Diagnostic::error(tspan, format!("cross_entropy targets {ts} do not match logits {ls}"))
                .with_label(format!("soft targets need shape {ls}"))
        };
        return lw.report_none(d);
    }
    let lsm = log_softmax(lw, logits, 1, span, name)?;
    let prod = lw.node(Op::Binary(Binary::Mul), &[labels, lsm], span, name)?;
    let total = lw.node(
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[prod],
        span,
        name,
    )?;
    let neg = lw.node(Op::Unary(Unary::Neg), &[total], span, name)?;
    scale_by_count(lw, neg, [&n], 1.0, span, name)
}

fn mse(lw: &mut Lowerer, a: NodeId, b: NodeId, span: Span) -> Val {
    let name = "mse";
    let (sa, sb) = (lw.shape(a), lw.shape(b));
    if sa != sb {
        return lw.report_none(
            Diagnostic::error(
                span,
                format!("mse needs two tensors of the same shape, found {sa} and {sb}"),
            )
            .with_label("shapes differ"),
        );
    }
    let d = lw.node(Op::Binary(Binary::Sub), &[a, b], span, name)?;
    let sq = lw.node(Op::Unary(Unary::Pow(F64(2.0))), &[d], span, name)?;
    let axes: Vec<usize> = (0..sa.rank()).collect();
    reduce(lw, Reduction::Mean, sq, &axes, false, span, name)
}

/// `a.T` / `transpose(a)`.
pub(super) fn transpose(lw: &mut Lowerer, a: NodeId, span: Span, what: &str) -> Val {
    let s = lw.shape(a);
    if s.rank() != 2 {
        return lw.report_none(
            Diagnostic::error(span, format!("`{what}` needs a matrix (rank 2), found shape {s}"))
                .with_label("not a matrix"),
        );
    }
    lw.node(Op::Transpose, &[a], span, what)
}

/// `a @ b` for matrices and vectors (operands already known to be f32).
pub(super) fn matmul(lw: &mut Lowerer, a: NodeId, b: NodeId, span: Span, what: &str) -> Val {
    let (sa, sb) = (lw.shape(a), lw.shape(b));
    let (ra, rb) = (sa.rank(), sb.rank());
    if !(1..=2).contains(&ra) || !(1..=2).contains(&rb) {
        return lw.report_none(
            Diagnostic::error(
                span,
                format!("matrix product needs operands of rank 1 or 2, found {sa} @ {sb}"),
            )
            .with_label("unsupported ranks"),
        );
    }
    let (ka, kb) = (&sa.0[ra - 1], &sb.0[0]);
    if ka != kb {
        return lw.report_none(
            Diagnostic::error(
                span,
                format!("matmul inner dimensions differ: {sa} @ {sb} ({ka} vs {kb})"),
            )
            .with_label(format!("{ka} vs {kb}")),
        );
    }
    let one = Dim::one();
    let am = match ra {
        1 => lw.node(Op::Reshape(Shape(vec![one.clone(), ka.clone()])), &[a], span, what)?,
        _ => a,
    };
    let bm = match rb {
        1 => lw.node(Op::Reshape(Shape(vec![kb.clone(), one])), &[b], span, what)?,
        _ => b,
    };
    let product = lw.node(Op::MatMul { ta: false, tb: false }, &[am, bm], span, what)?;
    if ra == 2 && rb == 2 {
        return Some(product);
    }
    let mut dims = Vec::new();
    if ra == 2 {
        dims.push(sa.0[0].clone());
    }
    if rb == 2 {
        dims.push(sb.0[1].clone());
    }
    lw.node(Op::Reshape(Shape(dims)), &[product], span, what)
}

fn grad(lw: &mut Lowerer, e: NodeId, v: NodeId, span: Span, exprs: (Option<&Expr>, Option<&Expr>)) -> Val {
    let (espan, vspan) = (exprs.0.map_or(span, |x| x.span), exprs.1.map_or(span, |x| x.span));
    let leaf = matches!(lw.g.node(v).op, Op::Param(_) | Op::Input(_));
    if !leaf {
        let what = match exprs.1.map(|x| &x.kind) {
            Some(ExprKind::Name(n)) => format!("`{}` is not a param or an input", short(n)),
            _ => "this is an expression, not a param or an input".into(),
        };
        return lw.report_none(
            Diagnostic::error(vspan, "grad is taken with respect to a param or an f32 input").with_label(what),
        );
    }
    let es = lw.shape(e);
    if es.rank() != 0 {
        return lw.report_none(
            Diagnostic::error(espan, format!("grad needs a scalar to differentiate, found shape {es}"))
                .with_label("not a scalar")
                .with_note("reduce it first, e.g. grad(sum(y), x)"),
        );
    }
    match lw.g.add(Op::Grad, &[e, v], crate::ir::Origin::forward(span)) {
        Ok(id) => Some(id),
        Err(err) => lw.report_none(types::shape_error(err, span, "grad")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_name_is_unique_and_found() {
        let all: Vec<&str> = names().collect();
        for n in &all {
            assert_eq!(all.iter().filter(|m| *m == n).count(), 1, "{n}");
            let b = lookup(n).expect("a listed name is a built-in");
            assert_eq!(entry(b).0, *n);
        }
        assert_eq!(lookup("relu"), Some(Builtin::Map(Unary::Relu)));
        assert_eq!(lookup("leaky_relu"), Some(Builtin::LeakyRelu));
        assert_eq!(lookup("neg"), None);
    }
}
