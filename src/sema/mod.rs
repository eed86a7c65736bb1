//! Name resolution, `fn` inlining, type and shape checking, and lowering to IR.
//!
//! Checking *is* building the graph: every expression is added with [`ir::Graph::add`],
//! whose shape rule ([`ir::Op::result_type`]) is the only one; a [`ir::ShapeError`] becomes a
//! diagnostic at the expression's span. An expression with an error lowers to a poison
//! value (`None`), and anything built from poison reports nothing more, so every
//! diagnostic is an independent error.
//!
//! Choices where LANGUAGE.md is silent are listed in `docs/language-notes.md`.

mod builtins;
mod consts;
mod fns;
mod init;
mod lower;
mod suggest;
mod types;

use crate::diag::{Diagnostic, Severity, Span};
use crate::ir;
use crate::syntax::{self, ast};

/// A model that checked without errors, lowered to its forward graph (with `Grad` nodes).
#[derive(Clone, Debug)]
pub struct CheckedModel {
    /// The model's name.
    pub name: String,
    /// The whole `model ... { }` item.
    pub span: Span,
    /// The lowered graph; it passes [`ir::verify`].
    pub graph: ir::Graph,
}

/// Parses and checks a whole file. Returns every diagnostic (sorted by position) and, when
/// none of them is an error, every model in source order. With an error anywhere in the
/// file no model is returned: a broken `fn` or statement can leave a model incomplete
/// without an error of its own (its uses are poison, reported once where they arise).
pub fn check_source(src: &str) -> (Vec<CheckedModel>, Vec<Diagnostic>) {
    let (file, mut diags) = syntax::parse(src);
    let syntax_errors = !diags.is_empty();
    let (models, mut more) = check_file(&file, src, syntax_errors);
    diags.append(&mut more);
    let models = if diags.iter().any(|d| d.severity == Severity::Error) {
        Vec::new()
    } else {
        models
    };
    diags.sort_by_key(|d| (d.span.start, d.span.end));
    dedup(&mut diags);
    (models, diags)
}

/// Checks a parsed file: the models without errors of their own, and diagnostics.
/// `syntax_errors` says the parser already reported errors. Prefer [`check_source`],
/// which also drops the models when the file has any error.
pub fn check_file(file: &ast::File, src: &str, syntax_errors: bool) -> (Vec<CheckedModel>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let item_errors = file.items.iter().any(|i| matches!(i, ast::Item::Error(_)));
    let fns = fns::FnTable::collect(file, item_errors, &mut diags);
    let mut models = Vec::new();
    let mut seen: Vec<&ast::Ident> = Vec::new();
    for item in &file.items {
        let ast::Item::Model(m) = item else { continue };
        if let Some(first) = seen.iter().find(|n| n.name == m.name.name) {
            diags.push(
                Diagnostic::error(
                    m.name.span,
                    format!("model `{}` is defined twice", syntax::short(&m.name.name)),
                )
                .with_label("second definition")
                .with_secondary(first.span, "first defined here"),
            );
            continue;
        }
        seen.push(&m.name);
        let (model, mut d) = lower::lower_model(m, &fns, src, item_errors);
        let clean = !d.iter().any(|d| d.severity == Severity::Error);
        diags.append(&mut d);
        if clean {
            models.extend(model);
        }
    }
    if seen.is_empty() && !syntax_errors && !item_errors {
        diags.push(
            Diagnostic::error(Span::default(), "file has no model")
                .with_note("a file holds `fn`s and one or more `model NAME { ... }`"),
        );
    }
    (models, diags)
}

/// Picks the model named `name`, or the only one when `name` is `None`.
pub fn select_model(models: Vec<CheckedModel>, name: Option<&str>) -> Result<CheckedModel, Diagnostic> {
    let names = || models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ");
    match name {
        Some(n) => {
            let found = names();
            match models.into_iter().find(|m| m.name == n) {
                Some(m) => Ok(m),
                None if found.is_empty() => Err(Diagnostic::error(Span::default(), format!("no model named `{n}`"))),
                None => Err(Diagnostic::error(
                    Span::default(),
                    format!("no model named `{n}` (found {found})"),
                )),
            }
        }
        None => match models.len() {
            0 => Err(Diagnostic::error(Span::default(), "file has no model")),
            1 => Ok(models.into_iter().next().expect("one model")),
            _ => Err(Diagnostic::error(
                Span::default(),
                format!("several models: pass --model NAME (found {})", names()),
            )),
        },
    }
}

/// Removes repeated (span, message) pairs, e.g. one error inside a `fn` inlined twice.
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.span, d.message.clone())));
}
