//! Compile-time values: constant expressions (exponents, `alpha=`), axes, `keepdims=`
//! and the bracketed shape of `reshape`.
//!
//! A constant expression is numbers combined with unary minus, `+ - * / ^` and
//! parentheses. A name also counts when its value is such a constant (a `let c = 2`, or
//! a `fn` parameter bound to a number), so `fn pow(x, c) = x ^ c` works.

use super::lower::{Lowerer, Scope};
use crate::diag::{Diagnostic, Span};
use crate::ir::{Binary, Dim, Graph, NodeId, Op, Shape, Unary};
use crate::syntax::ast::{BinOp, Expr, ExprKind};

/// Why an expression has no compile-time value.
enum NotConst {
    /// This part is not a constant.
    At(Span),
    /// An error was already reported.
    Poison,
}

/// What a dimension of a reshape's list says.
enum DimSpec {
    Known(Dim),
    Rest,
}

impl Lowerer<'_> {
    /// The value of a constant expression; `what` names it in the error ("the exponent").
    pub(super) fn const_value(&mut self, e: &Expr, scope: &Scope, what: &str) -> Option<f64> {
        match self.try_const(e, scope) {
            Ok(v) if v.is_finite() => Some(v),
            Ok(v) => self.report_none(
                Diagnostic::error(e.span, format!("{what} is not a finite number ({v})")).with_label("not finite"),
            ),
            Err(NotConst::Poison) => None,
            Err(NotConst::At(span)) => self.report_none(
                Diagnostic::error(span, format!("{what} must be a constant"))
                    .with_label("not known at compile time")
                    .with_note("a constant is a number, or numbers combined with - + * / ^ and parentheses"),
            ),
        }
    }

    fn try_const(&mut self, e: &Expr, scope: &Scope) -> Result<f64, NotConst> {
        match &e.kind {
            ExprKind::Number { value, .. } => Ok(*value),
            ExprKind::Neg(a) => Ok(-self.try_const(a, scope)?),
            ExprKind::Pow(a, b) => Ok(self.try_const(a, scope)?.powf(self.try_const(b, scope)?)),
            ExprKind::Chain { first, rest } => {
                let mut acc = self.try_const(first, scope)?;
                for link in rest {
                    let r = self.try_const(&link.rhs, scope)?;
                    acc = match link.op {
                        BinOp::Add => acc + r,
                        BinOp::Sub => acc - r,
                        BinOp::Mul => acc * r,
                        BinOp::Div => acc / r,
                        BinOp::MatMul => return Err(NotConst::At(e.span)),
                    };
                }
                Ok(acc)
            }
            ExprKind::Name(name) => match self.name_value(name, scope) {
                Some(Some(id)) if self.bools.contains(&id) => Err(NotConst::At(e.span)),
                Some(Some(id)) => node_const(&self.g, id, 0).ok_or(NotConst::At(e.span)),
                Some(None) => Err(NotConst::Poison),
                None => {
                    // Let the ordinary lookup report the undefined name.
                    self.expr(e, scope);
                    Err(NotConst::Poison)
                }
            },
            ExprKind::TooDeep | ExprKind::Error => Err(NotConst::Poison),
            ExprKind::Bool(_) | ExprKind::Call { .. } | ExprKind::List(_) | ExprKind::Transpose(_) => {
                Err(NotConst::At(e.span))
            }
        }
    }

    /// Whether `e` is plainly a tensor expression rather than a constant (a call, a
    /// transpose, or a name bound to a non-constant value), for better messages.
    pub(super) fn is_tensor_like(&mut self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Call { .. } | ExprKind::Transpose(_) => true,
            ExprKind::Name(n) => match self.name_value(n, &Scope::Model) {
                Some(Some(id)) => node_const(&self.g, id, 0).is_none(),
                _ => false,
            },
            _ => false,
        }
    }

    /// The axis `e` of a tensor of shape `shape`, negative axes counting from the end.
    pub(super) fn axis(&mut self, e: &Expr, scope: &Scope, shape: &Shape, what: &str) -> Option<usize> {
        if let ExprKind::List(_) = e.kind {
            // NumPy takes a tuple of axes here; the language takes one.
            let mut d = Diagnostic::error(e.span, "an axis is one integer, not a list").with_label("several axes");
            if matches!(what, "sum" | "mean" | "max" | "logsumexp") {
                d = d.with_note(format!(
                    "reduce one axis at a time, e.g. {what}({what}(x, axis=1), axis=0)"
                ));
            }
            return self.report_none(d);
        }
        let v = self.const_value(e, scope, "an axis")?;
        if v.fract() != 0.0 {
            return self.report_none(
                Diagnostic::error(e.span, format!("an axis must be an integer, found {v}"))
                    .with_label("not an integer"),
            );
        }
        // Beyond this, `as i64` would saturate; such an axis is out of range anyway, and
        // the message shows the number as written.
        let k = v.clamp(-1e15, 1e15) as i64;
        self.axis_shown(k, &format!("{v}"), shape, what, e.span)
    }

    /// Axis `k` (maybe negative) of `shape`, or an error at `span`.
    pub(super) fn axis_value(&mut self, k: i64, shape: &Shape, what: &str, span: Span) -> Option<usize> {
        self.axis_shown(k, &k.to_string(), shape, what, span)
    }

    /// Axis `k` of `shape`; an error shows it as `shown`.
    fn axis_shown(&mut self, k: i64, shown: &str, shape: &Shape, what: &str, span: Span) -> Option<usize> {
        let rank = shape.rank() as i64;
        let n = if k < 0 { k + rank } else { k };
        if (0..rank).contains(&n) {
            return Some(n as usize);
        }
        let label = if rank == 0 {
            "a scalar has no axes".to_string()
        } else {
            format!("valid axes are {} to {}", -rank, rank - 1)
        };
        self.report_none(
            Diagnostic::error(
                span,
                format!("axis {shown} is out of range for `{what}` of a tensor of shape {shape} (rank {rank})"),
            )
            .with_label(label),
        )
    }

    /// A `keepdims=` value: `true`, `false`, or a name a `let` or a `fn` argument bound
    /// to one of them.
    pub(super) fn keepdims(&mut self, e: &Expr, scope: &Scope) -> Option<bool> {
        let bound = match &e.kind {
            ExprKind::Bool(b) => return Some(*b),
            ExprKind::Name(n) => self.name_value(n, scope),
            _ => None,
        };
        match bound {
            Some(Some(id)) if self.bools.contains(&id) => node_const(&self.g, id, 0).map(|v| v != 0.0),
            // Already reported where the name was defined.
            Some(None) => None,
            _ => self.report_none(
                Diagnostic::error(e.span, "`keepdims` must be `true` or `false`").with_label("not a boolean"),
            ),
        }
    }

    /// The shape `[d1, ...]` of `reshape`, its one `-1` resolved against `from`.
    pub(super) fn reshape_dims(&mut self, list: &Expr, from: &Shape) -> Option<Shape> {
        let ExprKind::List(items) = &list.kind else {
            return self.report_none(
                Diagnostic::error(list.span, "the shape of `reshape` is a bracketed list, e.g. [N, -1]")
                    .with_label("not a shape list"),
            );
        };
        let mut dims: Vec<Option<Dim>> = Vec::new();
        let mut rest: Option<Span> = None;
        for item in items {
            match self.dim_spec(item)? {
                DimSpec::Known(d) => dims.push(Some(d)),
                DimSpec::Rest if rest.is_some() => {
                    return self.report_none(
                        Diagnostic::error(item.span, "only one dimension of a reshape may be -1")
                            .with_secondary(rest.unwrap_or_default(), "first -1 here"),
                    );
                }
                DimSpec::Rest => {
                    rest = Some(item.span);
                    dims.push(None);
                }
            }
        }
        if let Some(rest_span) = rest {
            let known = Dim::product(dims.iter().flatten());
            let total = from.numel();
            let (Some(known), Some(total)) = (known, total) else {
                return self.report_none(Diagnostic::error(
                    list.span,
                    "the element count of this reshape overflows",
                ));
            };
            let Some(d) = total.exact_div(&known) else {
                return self.report_none(
                    Diagnostic::error(
                        rest_span,
                        format!("cannot reshape {from} with -1: {total} elements are not a multiple of {known}"),
                    )
                    .with_label("no exact size for -1"),
                );
            };
            for x in dims.iter_mut().filter(|x| x.is_none()) {
                *x = Some(d.clone());
            }
        }
        Some(Shape(dims.into_iter().flatten().collect()))
    }

    fn dim_spec(&mut self, e: &Expr) -> Option<DimSpec> {
        let bad = |msg: &str| Diagnostic::error(e.span, msg.to_string());
        match &e.kind {
            ExprKind::Number { value, int: true } if *value >= 1.0 && *value <= 9_007_199_254_740_992.0 => {
                Some(DimSpec::Known(Dim::lit(*value as u64)))
            }
            ExprKind::Number { value, int: true } if *value == 0.0 => {
                self.report_none(bad("a dimension of 0 is not allowed"))
            }
            ExprKind::Number { int: true, .. } => self.report_none(bad("this dimension is too large")),
            ExprKind::Neg(a) if matches!(a.kind, ExprKind::Number { value, int: true } if value == 1.0) => {
                Some(DimSpec::Rest)
            }
            ExprKind::Name(n) => Some(DimSpec::Known(Dim::var(n))),
            ExprKind::Chain { first, rest } if rest.iter().all(|l| l.op == BinOp::Mul) => {
                let mut acc = self.known_dim(first)?;
                for l in rest {
                    let d = self.known_dim(&l.rhs)?;
                    match acc.checked_mul(&d) {
                        Some(p) => acc = p,
                        None => return self.report_none(bad("this dimension is too large")),
                    }
                }
                Some(DimSpec::Known(acc))
            }
            ExprKind::TooDeep | ExprKind::Error => None,
            _ => self.report_none(
                bad("a reshape dimension is a positive integer, a size variable, a product of them, or -1")
                    .with_label("not a dimension"),
            ),
        }
    }

    /// A dimension argument (`one_hot`'s class count): a positive integer, a size
    /// variable, or a product of them.
    pub(super) fn dimension(&mut self, e: &Expr) -> Option<Dim> {
        self.known_dim(e)
    }

    /// A bracketed shape without `-1` (`broadcast_to`'s target).
    pub(super) fn shape_list(&mut self, list: &Expr) -> Option<Shape> {
        let ExprKind::List(items) = &list.kind else {
            return self.report_none(
                Diagnostic::error(list.span, "the shape is a bracketed list, e.g. [N, 10]")
                    .with_label("not a shape list"),
            );
        };
        let mut dims = Vec::with_capacity(items.len());
        for item in items {
            dims.push(self.known_dim(item)?);
        }
        Some(Shape(dims))
    }

    /// The dimension a divisor or value stands for when it is written with size variables
    /// (`N`, `N * 784`): names that are not values of the scope but size variables of the
    /// model, integer literals, and products of them, with at least one variable.
    pub(super) fn size_expr(&self, e: &Expr, scope: &Scope) -> Option<Dim> {
        let (d, vars) = self.size_factors(e, scope)?;
        (vars > 0).then_some(d)
    }

    fn size_factors(&self, e: &Expr, scope: &Scope) -> Option<(Dim, usize)> {
        match &e.kind {
            ExprKind::Name(n) if self.is_size_var(n, scope) => Some((Dim::var(n), 1)),
            ExprKind::Number { value, int: true } if *value >= 1.0 && *value <= 9_007_199_254_740_992.0 => {
                Some((Dim::lit(*value as u64), 0))
            }
            ExprKind::Chain { first, rest } if rest.iter().all(|l| l.op == BinOp::Mul) => {
                let (mut acc, mut vars) = self.size_factors(first, scope)?;
                for l in rest {
                    let (d, v) = self.size_factors(&l.rhs, scope)?;
                    acc = acc.checked_mul(&d)?;
                    vars += v;
                }
                Some((acc, vars))
            }
            _ => None,
        }
    }

    fn known_dim(&mut self, e: &Expr) -> Option<Dim> {
        match self.dim_spec(e)? {
            DimSpec::Known(d) => Some(d),
            DimSpec::Rest => self.report_none(Diagnostic::error(e.span, "-1 cannot be part of a product")),
        }
    }
}

/// The value of a node built only from constants (a `fn` parameter bound to `-1`, say).
fn node_const(g: &Graph, id: NodeId, depth: u32) -> Option<f64> {
    if depth > 32 {
        return None;
    }
    let args = g.args(id);
    let arg = |i: usize| args.get(i).and_then(|&a| node_const(g, a, depth + 1));
    match &g.node(id).op {
        Op::Const { value, per } if per.is_one() => Some(value.0),
        Op::Unary(Unary::Neg) => Some(-arg(0)?),
        Op::Unary(Unary::Pow(c)) => Some(arg(0)?.powf(c.0)),
        Op::Binary(Binary::Add) => Some(arg(0)? + arg(1)?),
        Op::Binary(Binary::Sub) => Some(arg(0)? - arg(1)?),
        Op::Binary(Binary::Mul) => Some(arg(0)? * arg(1)?),
        Op::Binary(Binary::Div) => Some(arg(0)? / arg(1)?),
        _ => None,
    }
}
