//! The file's `fn`s: collected once, their names checked once (at definition, not per
//! call), then inlined at each call site by `lower`.
//!
//! A `fn` body sees only its parameters, its own `let`s and the `fn`s defined before it;
//! calling itself or a later `fn` is reported as recursion. A `fn` with an error here is
//! not inlined (its calls lower to poison without further messages).

use super::builtins;
use super::suggest;
use crate::diag::Diagnostic;
use crate::syntax::ast::{Arg, Expr, ExprKind, File, FnDef, Ident, Item};
use crate::syntax::short;
use std::collections::HashMap;

/// The `fn`s of a file, in source order.
pub(super) struct FnTable<'a> {
    defs: Vec<&'a FnDef>,
    by_name: HashMap<&'a str, usize>,
    ok: Vec<bool>,
}

impl<'a> FnTable<'a> {
    /// Collects and checks every `fn` of `file`. `item_errors` says some item did not parse,
    /// so an unknown function may be one of them and is not reported.
    pub(super) fn collect(file: &'a File, item_errors: bool, diags: &mut Vec<Diagnostic>) -> FnTable<'a> {
        let mut table = FnTable {
            defs: Vec::new(),
            by_name: HashMap::new(),
            ok: Vec::new(),
        };
        for item in &file.items {
            let Item::Fn(f) = item else { continue };
            let index = table.defs.len();
            let mut ok = true;
            if builtins::lookup(&f.name.name).is_some() {
                diags.push(
                    Diagnostic::error(f.name.span, format!("`{}` is a built-in function", f.name.name))
                        .with_label("choose another name"),
                );
                ok = false;
            } else if let Some(&first) = table.by_name.get(f.name.name.as_str()) {
                diags.push(
                    Diagnostic::error(f.name.span, format!("fn `{}` is defined twice", short(&f.name.name)))
                        .with_label("second definition")
                        .with_secondary(table.defs[first].name.span, "first defined here"),
                );
                ok = false;
            } else {
                table.by_name.insert(&f.name.name, index);
            }
            table.defs.push(f);
            table.ok.push(ok);
        }
        // Bodies are checked once every name is known, so a call of a later fn is
        // reported as such rather than as an unknown function.
        for index in 0..table.defs.len() {
            let mut checker = BodyCheck {
                table: &table,
                index,
                quiet_fns: item_errors,
                diags,
                errors: 0,
            };
            checker.check(table.defs[index]);
            let errors = checker.errors;
            table.ok[index] &= errors == 0;
        }
        table
    }

    /// The index of the `fn` named `name`.
    pub(super) fn get(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The definition of `fn` number `index`.
    pub(super) fn def(&self, index: usize) -> &'a FnDef {
        self.defs[index]
    }

    /// Whether `fn` number `index` checked cleanly (and so may be inlined).
    pub(super) fn is_ok(&self, index: usize) -> bool {
        self.ok[index]
    }

    /// The number of `fn`s.
    pub(super) fn len(&self) -> usize {
        self.defs.len()
    }

    /// Built-in names and the names of the first `n` `fn`s: what a call may name.
    pub(super) fn names_before(&self, n: usize) -> Vec<&str> {
        let mut v: Vec<&str> = builtins::names().collect();
        v.extend(self.defs[..n.min(self.defs.len())].iter().map(|f| f.name.name.as_str()));
        v
    }
}

/// "unknown function", with the nearest known name as a suggestion.
pub(super) fn unknown_function(callee: &Ident, candidates: Vec<&str>) -> Diagnostic {
    let mut d = Diagnostic::error(callee.span, format!("unknown function `{}`", short(&callee.name)))
        .with_label("not a built-in or a fn of this file");
    if let Some(hint) = familiar(&callee.name) {
        d = d.with_note(hint);
    } else if let Some(s) = suggest::nearest(&callee.name, candidates) {
        d = d.with_note(format!("did you mean `{s}`?"));
    }
    d
}

/// Hints for names users bring from NumPy and PyTorch, whose nearest spelling would mislead.
fn familiar(name: &str) -> Option<&'static str> {
    Some(match name {
        "min" => "the elementwise minimum is minimum(a, b); a min reduction is -max(-x)",
        "matmul" | "dot" | "mm" => "the matrix product is written a @ b",
        "pow" | "power" => "powers are written a ^ c with a constant c",
        "square" => "squares are written a ^ 2",
        "neg" | "negative" => "negation is written -a",
        "add" | "sub" | "mul" | "div" | "multiply" | "divide" => "arithmetic is written with + - * /",
        _ => return None,
    })
}

/// A call of `f` with keyword arguments or the wrong number of arguments.
pub(super) fn call_shape_error(f: &FnDef, callee: &Ident, args: &[Arg]) -> Option<Diagnostic> {
    if let Some(k) = args.iter().find_map(|a| a.keyword.as_ref()) {
        return Some(
            Diagnostic::error(
                k.span,
                format!("fn `{}` takes no keyword arguments", short(&f.name.name)),
            )
            .with_label("unknown keyword argument")
            .with_secondary(f.name.span, "defined here"),
        );
    }
    if args.len() != f.params.len() {
        let n = f.params.len();
        return Some(
            Diagnostic::error(
                callee.span,
                format!(
                    "wrong number of arguments: fn `{}` takes {n} argument{}, found {}",
                    short(&f.name.name),
                    if n == 1 { "" } else { "s" },
                    args.len()
                ),
            )
            .with_label(format!("called with {}", args.len()))
            .with_secondary(f.name.span, "defined here"),
        );
    }
    None
}

/// The static check of one `fn` body: names, calls and argument lists.
struct BodyCheck<'t, 'a, 'd> {
    table: &'t FnTable<'a>,
    index: usize,
    quiet_fns: bool,
    diags: &'d mut Vec<Diagnostic>,
    errors: usize,
}

impl BodyCheck<'_, '_, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.errors += 1;
        self.diags.push(d);
    }

    fn check(&mut self, f: &FnDef) {
        let mut scope: HashMap<&str, &Ident> = HashMap::new();
        for p in &f.params {
            self.define(&mut scope, p);
        }
        for l in &f.lets {
            self.expr(&l.value, &scope, f);
            self.define(&mut scope, &l.name);
        }
        self.expr(&f.result, &scope, f);
    }

    fn define<'n>(&mut self, scope: &mut HashMap<&'n str, &'n Ident>, name: &'n Ident) {
        if let Some(first) = scope.get(name.name.as_str()) {
            let first = first.span;
            self.error(
                Diagnostic::error(name.span, format!("the name `{}` is defined twice", short(&name.name)))
                    .with_label("second definition")
                    .with_secondary(first, "first defined here"),
            );
        } else {
            scope.insert(&name.name, name);
        }
    }

    fn expr(&mut self, e: &Expr, scope: &HashMap<&str, &Ident>, f: &FnDef) {
        match &e.kind {
            ExprKind::Number { .. } | ExprKind::Bool(_) | ExprKind::TooDeep | ExprKind::Error => {}
            ExprKind::Name(name) => {
                if !scope.contains_key(name.as_str()) {
                    self.undefined(name, e, scope, f);
                }
            }
            ExprKind::Call { callee, args } => {
                self.callee(callee, args, f);
                let builtin = builtins::lookup(&callee.name);
                for (i, a) in args.iter().enumerate() {
                    // The names in a reshape's bracket list are size variables, not values.
                    let sizes = builtin.is_some_and(|b| builtins::is_size_argument(b, i));
                    if !sizes || a.keyword.is_some() {
                        self.expr(&a.value, scope, f);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i, scope, f)),
            ExprKind::Neg(a) | ExprKind::Transpose(a) => self.expr(a, scope, f),
            ExprKind::Pow(a, b) => {
                self.expr(a, scope, f);
                self.expr(b, scope, f);
            }
            ExprKind::Chain { first, rest } => {
                self.expr(first, scope, f);
                rest.iter().for_each(|l| self.expr(&l.rhs, scope, f));
            }
        }
    }

    fn undefined(&mut self, name: &str, e: &Expr, scope: &HashMap<&str, &Ident>, f: &FnDef) {
        let is_fn = builtins::lookup(name).is_some() || self.table.get(name).is_some();
        let d = if is_fn {
            Diagnostic::error(e.span, format!("`{}` is a function, not a value", short(name)))
                .with_label("call it with arguments: `f(x)`")
        } else {
            let mut d = Diagnostic::error(e.span, format!("undefined name `{}`", short(name)))
                .with_label(format!("not a parameter or let of fn `{}`", short(&f.name.name)))
                .with_note("a fn body sees only its parameters, its own lets and earlier fns");
            if let Some(s) = suggest::nearest(name, scope.keys().copied()) {
                d = d.with_note(format!("did you mean `{s}`?"));
            }
            d
        };
        self.error(d);
    }

    fn callee(&mut self, callee: &Ident, args: &[Arg], f: &FnDef) {
        if let Some(b) = builtins::lookup(&callee.name) {
            if let Err(d) = builtins::bind(b, callee, args) {
                self.error(d);
            }
            return;
        }
        match self.table.get(&callee.name) {
            Some(j) if j < self.index => {
                if let Some(d) = call_shape_error(self.table.def(j), callee, args) {
                    self.error(d);
                }
            }
            Some(j) if j == self.index => self.error(
                Diagnostic::error(callee.span, format!("fn `{}` calls itself", short(&callee.name)))
                    .with_label("recursive call")
                    .with_note("fns are inlined at compile time, so recursion is not allowed"),
            ),
            Some(j) => {
                let later = self.table.def(j).name.span;
                self.error(
                    Diagnostic::error(
                        callee.span,
                        format!(
                            "fn `{}` calls `{}`, which is defined after it",
                            short(&f.name.name),
                            short(&callee.name)
                        ),
                    )
                    .with_label("call of a later fn")
                    .with_secondary(later, "defined here")
                    .with_note("a fn may only call fns defined before it, so recursion is impossible"),
                );
            }
            None if self.quiet_fns => self.errors += 1,
            None => {
                let d = unknown_function(callee, self.table.names_before(self.index));
                self.error(d);
            }
        }
    }
}
