//! Lowering a model: statements to graph leaves, outputs and loss; expressions to nodes.
//!
//! Spans: every node's origin is the span of the source expression it implements. Nodes
//! made by inlining a `fn` carry the spans of the expressions inside the `fn` body (not the
//! call site), so `--emit ir` and errors point at the code that computes them; errors
//! inside an inlined body add a note naming each call site on the way.

use super::builtins::{self, Builtin};
use super::fns::FnTable;
use super::{init, suggest, types, CheckedModel};
use crate::diag::{Diagnostic, Span};
use crate::ir::{self, Binary, DType, Graph, NodeId, Op, Origin, Shape, Unary, F64};
use crate::syntax::ast::{Arg, BinOp, ChainLink, Expr, ExprKind, Ident, Model, StmtKind};
use crate::syntax::short;
use std::collections::{HashMap, HashSet};

/// A lowered value: a node, or poison after an error (already reported).
pub(super) type Val = Option<NodeId>;

/// The most nested lowering calls (expression depth plus inlined `fn` bodies); deeper
/// models get a diagnostic instead of overflowing the stack.
const MAX_LOWER_DEPTH: u32 = 512;

/// The most nodes one model may lower to (inlining can multiply a file's size).
const MAX_NODES: usize = 1 << 18;

/// Where names are looked up.
pub(super) enum Scope<'s> {
    /// The model's own names.
    Model,
    /// An inlined `fn` body: its parameters and lets only.
    Fn(&'s HashMap<String, Val>),
}

struct NameDef {
    val: Val,
    span: Span,
}

/// The state of lowering one model.
pub(super) struct Lowerer<'a> {
    pub(super) g: Graph,
    pub(super) fns: &'a FnTable<'a>,
    src: &'a str,
    diags: Vec<Diagnostic>,
    names: HashMap<String, NameDef>,
    output_spans: HashMap<String, Span>,
    /// Every name the model's statements define, at its first definition: an undefined
    /// name found here is a forward reference, reported as such.
    declared: HashMap<String, Span>,
    /// Constant nodes that stand for `true` or `false`: a `let` or a `fn` parameter may
    /// hold a boolean for a `keepdims=` option, and nothing else may use it.
    pub(super) bools: HashSet<NodeId>,
    /// A statement did not parse, so an undefined name may be defined by it.
    quiet_names: bool,
    /// An item did not parse, so an unknown function may be defined by it.
    quiet_fns: bool,
    /// The `fn` calls being inlined, outermost first.
    calls: Vec<(String, Span)>,
    depth: u32,
    limit_reported: bool,
}

/// The names a model's statements define, each at its first definition.
fn declared_names(m: &Model) -> HashMap<String, Span> {
    let mut out = HashMap::new();
    for stmt in &m.stmts {
        let name = match &stmt.kind {
            StmtKind::Input { name, .. }
            | StmtKind::Param { name, .. }
            | StmtKind::Let { name, .. }
            | StmtKind::Output { name, .. } => name,
            StmtKind::Loss { .. } | StmtKind::Error => continue,
        };
        out.entry(name.name.clone()).or_insert(name.span);
    }
    out
}

/// Lowers one model. Returns the model (meaningful only without errors) and diagnostics.
pub(super) fn lower_model(
    m: &Model,
    fns: &FnTable<'_>,
    src: &str,
    item_errors: bool,
) -> (Option<CheckedModel>, Vec<Diagnostic>) {
    let mut lw = Lowerer {
        g: Graph::new(),
        fns,
        src,
        diags: Vec::new(),
        names: HashMap::new(),
        output_spans: HashMap::new(),
        declared: declared_names(m),
        bools: HashSet::new(),
        quiet_names: false,
        quiet_fns: item_errors,
        calls: Vec::new(),
        depth: 0,
        limit_reported: false,
    };
    let mut loss_span: Option<Span> = None;
    for stmt in &m.stmts {
        match &stmt.kind {
            StmtKind::Input { name, ty } => {
                if lw.is_new(name) {
                    let val = match types::tensor_type(ty) {
                        Ok(t) => Some(lw.g.add_input(&name.name, t, Some(name.span))),
                        Err(d) => lw.report_none(d),
                    };
                    lw.define(name, val);
                }
            }
            StmtKind::Param { name, ty, init } => {
                if lw.is_new(name) {
                    let val = lw.param(name, ty, init.as_ref());
                    lw.define(name, val);
                }
            }
            StmtKind::Let { name, value } => {
                let val = lw.value_or_bool(value, &Scope::Model);
                if lw.is_new(name) {
                    lw.define(name, val);
                }
            }
            StmtKind::Output { name, value } => lw.output(name, value.as_ref()),
            StmtKind::Loss { value } => {
                let val = lw.expr(value, &Scope::Model);
                if let Some(first) = loss_span {
                    lw.report(
                        Diagnostic::error(stmt.span, "the model defines `loss` twice")
                            .with_secondary(first, "first defined here"),
                    );
                } else if let Some(id) = val {
                    lw.loss(id, value.span);
                }
                loss_span = Some(stmt.span);
            }
            StmtKind::Error => lw.quiet_names = true,
        }
    }
    let Lowerer { mut g, mut diags, .. } = lw;
    if !diags.is_empty() {
        return (None, diags);
    }
    g.remove_dead();
    if let Err(e) = ir::verify(&g, ir::Expect::default()) {
        diags.push(Diagnostic::error(m.name.span, format!("internal compiler error: {e}")));
        return (None, diags);
    }
    let model = CheckedModel {
        name: m.name.name.clone(),
        span: m.span,
        graph: g,
    };
    (Some(model), diags)
}

impl Lowerer<'_> {
    /// Records a diagnostic, noting the `fn` calls being inlined.
    pub(super) fn report(&mut self, mut d: Diagnostic) {
        for (name, span) in self.calls.iter().rev() {
            let (line, _) = crate::diag::line_col(self.src, span.start as usize);
            d = d.with_note(format!("in the call of `{}` at line {line}", short(name)));
        }
        if let Some((_, span)) = self.calls.first() {
            d = d.with_secondary(*span, "in this call");
        }
        self.diags.push(d);
    }

    /// Records a diagnostic and returns poison.
    pub(super) fn report_none<T>(&mut self, d: Diagnostic) -> Option<T> {
        self.report(d);
        None
    }

    /// Adds `op` over `args`, turning a shape error into a diagnostic about `what`.
    pub(super) fn node(&mut self, op: Op, args: &[NodeId], span: Span, what: &str) -> Val {
        match self.g.add(op, args, Origin::forward(span)) {
            Ok(id) => Some(id),
            Err(e) => self.report_none(types::shape_error(e, span, what)),
        }
    }

    /// The f32 scalar `value`.
    pub(super) fn constant(&mut self, value: f64, span: Span) -> NodeId {
        self.g.constant(value, Origin::forward(span))
    }

    /// The f32 scalar `value / per`.
    pub(super) fn constant_per(&mut self, value: f64, per: ir::Dim, span: Span) -> NodeId {
        let op = Op::Const { value: F64(value), per };
        self.node(op, &[], span, "constant")
            .expect("a constant has no operands to mismatch")
    }

    /// The shape of a node.
    pub(super) fn shape(&self, id: NodeId) -> Shape {
        self.g.shape(id).clone()
    }

    /// Lowers an expression.
    pub(super) fn expr(&mut self, e: &Expr, scope: &Scope) -> Val {
        if self.depth >= MAX_LOWER_DEPTH || self.g.node_count() >= MAX_NODES {
            return self.limit(e.span);
        }
        self.depth += 1;
        let v = self.expr_inner(e, scope);
        self.depth -= 1;
        v
    }

    fn limit(&mut self, span: Span) -> Val {
        if !self.limit_reported {
            self.limit_reported = true;
            let d = if self.depth >= MAX_LOWER_DEPTH {
                Diagnostic::error(
                    span,
                    format!("expression nested deeper than {MAX_LOWER_DEPTH} levels after inlining fns"),
                )
            } else {
                Diagnostic::error(
                    span,
                    format!("model too large: more than {MAX_NODES} operations after inlining fns"),
                )
            };
            self.report(d);
        }
        None
    }

    // The functions on the recursion path (`expr`, `expr_inner`, `call`, `builtin`,
    // `inline`, `chain`) keep few locals and leave diagnostics and IR construction to
    // helpers: in debug builds each local takes its own stack slot, and a 2 MiB thread
    // must hold the deepest accepted nesting.
    fn expr_inner(&mut self, e: &Expr, scope: &Scope) -> Val {
        match &e.kind {
            ExprKind::Number { value, .. } => Some(self.constant(*value, e.span)),
            ExprKind::Bool(_) => self.misplaced(e.span, "`true` and `false` are only allowed as a `keepdims=` value"),
            ExprKind::Name(name) => self.lookup(name, e.span, scope),
            ExprKind::Call { callee, args } => self.call(callee, args, e.span, scope),
            ExprKind::List(_) => self.misplaced(
                e.span,
                "a bracket list is only allowed as the shape argument of `reshape`",
            ),
            // `-1.5` is the constant -1.5, not a negation node.
            ExprKind::Neg(a) => match a.kind {
                ExprKind::Number { value, .. } => Some(self.constant(-value, e.span)),
                _ => {
                    let a = self.expr(a, scope)?;
                    self.unary(Unary::Neg, a, e.span, "-")
                }
            },
            ExprKind::Pow(base, exponent) => {
                let b = self.expr(base, scope);
                let c = self.const_value(exponent, scope, "the exponent of `^`");
                self.unary(Unary::Pow(F64(c?)), b?, e.span, "^")
            }
            ExprKind::Transpose(a) => {
                let a = self.expr(a, scope)?;
                builtins::transpose(self, a, e.span, ".T")
            }
            ExprKind::Chain { first, rest } => self.chain(first, rest, scope),
            ExprKind::TooDeep | ExprKind::Error => None,
        }
    }

    fn misplaced(&mut self, span: Span, message: &str) -> Val {
        self.report_none(Diagnostic::error(span, message).with_label("not a tensor"))
    }

    fn unary(&mut self, u: Unary, a: NodeId, span: Span, what: &str) -> Val {
        self.node(Op::Unary(u), &[a], span, what)
    }

    /// `first op rhs op rhs ...`, left to right; every operand is lowered (and its errors
    /// reported) even after one fails.
    fn chain(&mut self, first: &Expr, rest: &[ChainLink], scope: &Scope) -> Val {
        let mut acc = self.expr(first, scope);
        let mut left_span = first.span;
        for link in rest {
            let span = left_span.to(link.rhs.span);
            acc = self.link(acc, link, scope, (left_span, span));
            left_span = span;
        }
        acc
    }

    /// `acc op rhs`; `spans` are the left operand's and the whole expression's.
    fn link(&mut self, acc: Val, link: &ChainLink, scope: &Scope, spans: (Span, Span)) -> Val {
        if link.op == BinOp::Div {
            if let Some(d) = self.size_expr(&link.rhs, scope) {
                return self.divide_by_size(acc?, d, spans, link.rhs.span);
            }
        }
        let rhs = self.expr(&link.rhs, scope);
        self.binary(link.op, acc?, rhs?, spans.1, (spans.0, link.rhs.span))
    }

    /// `a / S` for a size expression `S` (nnc extension): a constant `c / S` is the exact
    /// constant `Const{c, per: S}` (the form `mean` lowers to); any other value is divided
    /// by the value of `S`. `spans` are the left operand's and the whole expression's.
    fn divide_by_size(&mut self, a: NodeId, d: ir::Dim, spans: (Span, Span), dspan: Span) -> Val {
        let span = spans.1;
        if let Op::Const { value, per } = &self.g.node(a).op {
            let Some(per) = per.checked_mul(&d) else {
                return self.report_none(Diagnostic::error(span, "this divisor is too large"));
            };
            let value = value.0;
            return Some(self.constant_per(value, per, span));
        }
        let s = self.size_value(d, dspan)?;
        self.binary(BinOp::Div, a, s, span, (spans.0, dspan))
    }

    /// The value of a size expression as an f32 scalar: the sum of a vector of ones of
    /// that length (exact up to 2^24).
    pub(super) fn size_value(&mut self, d: ir::Dim, span: Span) -> Val {
        let one = self.constant(1.0, span);
        let ones = self.node(Op::BroadcastTo(Shape(vec![d])), &[one], span, "a size variable")?;
        let sum = Op::Reduce {
            kind: ir::Reduce::Sum,
            axes: vec![0],
        };
        self.node(sum, &[ones], span, "a size variable")
    }

    /// Whether `name` is a size variable of the model, not shadowed by a value (size
    /// variables are values only in the model's own statements, not in `fn` bodies).
    pub(super) fn is_size_var(&self, name: &str, scope: &Scope) -> bool {
        matches!(scope, Scope::Model)
            && self.name_value(name, scope).is_none()
            && self.g.size_vars().iter().any(|v| &**v == name)
    }

    fn binary(&mut self, op: BinOp, a: NodeId, b: NodeId, span: Span, operands: (Span, Span)) -> Val {
        let sym = op.symbol();
        for (id, s) in [(a, operands.0), (b, operands.1)] {
            if self.g.dtype(id) == DType::I32 {
                return self.report_none(
                    Diagnostic::error(s, format!("i32 tensor used in arithmetic (`{sym}` needs f32 operands)"))
                        .with_label(format!("this is {}", self.g.node(id).ty))
                        .with_note("i32 tensors hold class labels; they can only be passed to cross_entropy"),
                );
            }
        }
        let bin = match op {
            BinOp::Add => Binary::Add,
            BinOp::Sub => Binary::Sub,
            BinOp::Mul => Binary::Mul,
            BinOp::Div => Binary::Div,
            BinOp::MatMul => return builtins::matmul(self, a, b, span, "@"),
        };
        match self.g.add(Op::Binary(bin), &[a, b], Origin::forward(span)) {
            Ok(id) => Some(id),
            Err(ir::ShapeError::Broadcast { a: sa, b: sb, dims }) => {
                let mut d = types::broadcast_error(span, sym, &sa, &sb, &dims);
                d.label.clear();
                let d = d
                    .with_secondary(operands.0, format!("{sa}"))
                    .with_secondary(operands.1, format!("{sb}"));
                self.report_none(d)
            }
            Err(e) => self.report_none(types::shape_error(e, span, sym)),
        }
    }

    /// The value bound to a name, `None` if it is not defined.
    pub(super) fn name_value(&self, name: &str, scope: &Scope) -> Option<Val> {
        match scope {
            Scope::Model => self.names.get(name).map(|d| d.val),
            Scope::Fn(vals) => vals.get(name).copied(),
        }
    }

    /// The value a name or `true`/`false` is bound to by a `let` or a `fn` argument:
    /// an expression, or a boolean for a later `keepdims=`.
    fn value_or_bool(&mut self, e: &Expr, scope: &Scope) -> Val {
        match &e.kind {
            ExprKind::Bool(b) => {
                let id = self.constant(if *b { 1.0 } else { 0.0 }, e.span);
                self.bools.insert(id);
                Some(id)
            }
            ExprKind::Name(n) => match self.name_value(n, scope) {
                Some(Some(id)) if self.bools.contains(&id) => Some(id),
                _ => self.expr(e, scope),
            },
            _ => self.expr(e, scope),
        }
    }

    /// The value of a name.
    fn lookup(&mut self, name: &str, span: Span, scope: &Scope) -> Val {
        if let Some(v) = self.name_value(name, scope) {
            if v.is_some_and(|id| self.bools.contains(&id)) {
                return self.misplaced(
                    span,
                    &format!(
                        "`{}` is `true` or `false`, only allowed as a `keepdims=` value",
                        short(name)
                    ),
                );
            }
            return v;
        }
        if self.is_size_var(name, scope) {
            return self.size_value(ir::Dim::var(name), span);
        }
        if builtins::lookup(name).is_some() || self.fns.get(name).is_some() {
            return self.report_none(
                Diagnostic::error(span, format!("`{}` is a function, not a value", short(name)))
                    .with_label("call it with arguments: `f(x)`"),
            );
        }
        if self.quiet_names {
            return None;
        }
        if let (Scope::Model, Some(&at)) = (scope, self.declared.get(name)) {
            return self.report_none(
                Diagnostic::error(
                    span,
                    format!("undefined name `{}`: it is used before its definition", short(name)),
                )
                .with_label("used here")
                .with_secondary(at, "defined here")
                .with_note("a model's names must be defined before they are used"),
            );
        }
        let mut d = Diagnostic::error(span, format!("undefined name `{}`", short(name))).with_label("not defined");
        let candidates: Vec<&str> = match scope {
            Scope::Model => self.names.keys().map(|k| k.as_str()).collect(),
            Scope::Fn(vals) => vals.keys().map(|k| k.as_str()).collect(),
        };
        if let Some(s) = suggest::nearest(name, candidates) {
            d = d.with_note(format!("did you mean `{s}`?"));
        }
        self.report_none(d)
    }

    /// `callee(args)`: a built-in or an inlined `fn`.
    fn call(&mut self, callee: &Ident, args: &[Arg], span: Span, scope: &Scope) -> Val {
        if let Some(b) = builtins::lookup(&callee.name) {
            return self.builtin(b, callee, args, span, scope);
        }
        if let Some(index) = self.fns.get(&callee.name) {
            return self.inline(index, callee, args, span, scope);
        }
        self.lower_args_after_error(args, scope);
        self.not_callable(callee, scope)
    }

    fn not_callable(&mut self, callee: &Ident, scope: &Scope) -> Val {
        if self.name_value(&callee.name, scope).is_some() {
            return self.report_none(
                Diagnostic::error(
                    callee.span,
                    format!("`{}` is a value, not a function", short(&callee.name)),
                )
                .with_label("cannot be called"),
            );
        }
        if self.quiet_fns {
            return None;
        }
        let d = super::fns::unknown_function(callee, self.fns.names_before(self.fns.len()));
        self.report_none(d)
    }

    fn builtin(&mut self, b: Builtin, callee: &Ident, args: &[Arg], span: Span, scope: &Scope) -> Val {
        match builtins::bind(b, callee, args) {
            Ok(bound) => builtins::lower(self, b, &bound, span, scope),
            Err(d) => {
                self.report(d);
                self.lower_args_after_error(args, scope);
                None
            }
        }
    }

    /// Lowers the arguments of a call that is itself an error, for their own independent
    /// errors. Shape lists and `true`/`false` are skipped: they are wrong only where they
    /// stand, and where they stand is what was already reported.
    fn lower_args_after_error(&mut self, args: &[Arg], scope: &Scope) {
        for a in args {
            if !matches!(a.value.kind, ExprKind::List(_) | ExprKind::Bool(_)) {
                self.expr(&a.value, scope);
            }
        }
    }

    /// Inlines `fn` number `index` at a call site.
    fn inline(&mut self, index: usize, callee: &Ident, args: &[Arg], span: Span, scope: &Scope) -> Val {
        let mut vals: Vec<Val> = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.value_or_bool(&a.value, scope));
        }
        if !self.call_fits(index, callee, args, scope) || vals.iter().any(|v| v.is_none()) {
            return None;
        }
        let f = self.fns.def(index);
        let mut local: HashMap<String, Val> = HashMap::with_capacity(f.params.len() + f.lets.len());
        for (p, v) in f.params.iter().zip(vals) {
            local.insert(p.name.clone(), v);
        }
        self.calls.push((callee.name.clone(), span));
        for l in &f.lets {
            let v = self.value_or_bool(&l.value, &Scope::Fn(&local));
            local.insert(l.name.name.clone(), v);
        }
        let result = self.expr(&f.result, &Scope::Fn(&local));
        self.calls.pop();
        result
    }

    /// Whether a call of `fn` number `index` may be inlined: its arguments fit and the fn
    /// checked cleanly. Reports a misfit at a model's call site (inside a fn body it was
    /// reported when the fn was checked).
    fn call_fits(&mut self, index: usize, callee: &Ident, args: &[Arg], scope: &Scope) -> bool {
        if let Some(d) = super::fns::call_shape_error(self.fns.def(index), callee, args) {
            if let Scope::Model = scope {
                self.report(d);
            }
            return false;
        }
        self.fns.is_ok(index)
    }

    /// Whether `name` is free to define in the model; reports a duplicate otherwise.
    fn is_new(&mut self, name: &Ident) -> bool {
        match self.names.get(&name.name) {
            None => true,
            Some(first) => {
                let first = first.span;
                self.report(
                    Diagnostic::error(name.span, format!("the name `{}` is defined twice", short(&name.name)))
                        .with_label("second definition")
                        .with_secondary(first, "first defined here"),
                );
                false
            }
        }
    }

    fn define(&mut self, name: &Ident, val: Val) {
        self.names.insert(name.name.clone(), NameDef { val, span: name.span });
    }

    fn param(&mut self, name: &Ident, ty: &crate::syntax::ast::Type, init: Option<&Expr>) -> Val {
        if let Some((crate::syntax::ast::ElemType::I32, s)) = ty.elem {
            return self.report_none(
                Diagnostic::error(
                    s,
                    format!(
                        "param `{}` is declared i32, but params are always f32",
                        short(&name.name)
                    ),
                )
                .with_label("remove `i32`"),
            );
        }
        let shape = match types::shape(ty) {
            Ok(s) => s,
            Err(d) => return self.report_none(d),
        };
        let init = init::initialiser(self, init, &shape)?;
        Some(self.g.add_param(&name.name, shape, init, Some(name.span)))
    }

    fn output(&mut self, name: &Ident, value: Option<&Expr>) {
        let val = match value {
            Some(e) => {
                let v = self.expr(e, &Scope::Model);
                if !self.is_new(name) {
                    return;
                }
                self.define(name, v);
                v
            }
            None => self.lookup(&name.name, name.span, &Scope::Model),
        };
        let Some(id) = val else { return };
        if let Some(&first) = self.output_spans.get(&name.name) {
            let d = Diagnostic::error(name.span, format!("`{}` is output twice", short(&name.name)))
                .with_secondary(first, "first output here");
            self.report(d);
            return;
        }
        if self.g.dtype(id) != DType::F32 {
            let d = Diagnostic::error(name.span, format!("output `{}` is an i32 tensor", short(&name.name)))
                .with_label("outputs must be f32")
                .with_note("i32 tensors hold class labels; they can only be passed to cross_entropy");
            self.report(d);
            return;
        }
        self.output_spans.insert(name.name.clone(), name.span);
        self.g.outputs.push((name.name.clone(), id));
    }

    fn loss(&mut self, id: NodeId, span: Span) {
        let ty = self.g.node(id).ty.clone();
        if ty.shape.rank() != 0 || ty.dtype != DType::F32 {
            self.report(
                Diagnostic::error(span, format!("loss must be an f32 scalar, found shape {ty}"))
                    .with_label(format!("this has shape {ty}"))
                    .with_note("reduce it to a scalar, e.g. with sum(...) or mean(...)"),
            );
            return;
        }
        self.g.loss = Some(id);
    }
}
