//! Param initialisers (LANGUAGE.md §7) to [`crate::ir::Init`]. The fan-in and fan-out of
//! `he_*` and `glorot_*` are computed where params are filled (`io::fans`); here a scalar
//! param with one of them is rejected, since it has no fans to speak of.

use super::lower::{Lowerer, Scope};
use super::suggest;
use crate::diag::Diagnostic;
use crate::ir::{Init, Shape};
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident};
use crate::syntax::short;

const NAMED: &[&str] = &[
    "zeros",
    "ones",
    "normal",
    "uniform",
    "he_normal",
    "he_uniform",
    "glorot_normal",
    "glorot_uniform",
];

const FORMS: &str = "an initialiser is zeros, ones, a number, normal(std=s), normal(mean=m, std=s), \
                     uniform(lo, hi), he_normal, he_uniform, glorot_normal or glorot_uniform";

/// The initialiser written after `=`, or the default for `shape` (rank >= 2
/// `glorot_uniform`, else zeros).
pub(super) fn initialiser(lw: &mut Lowerer, init: Option<&Expr>, shape: &Shape) -> Option<Init> {
    let Some(e) = init else {
        return Some(if shape.rank() >= 2 {
            Init::GlorotUniform
        } else {
            Init::Const(0.0)
        });
    };
    match &e.kind {
        ExprKind::Name(name) => named(lw, name, e, shape, None),
        ExprKind::Call { callee, args } => named(lw, &callee.name, e, shape, Some((callee, args))),
        ExprKind::TooDeep | ExprKind::Error => None,
        _ => {
            let v = lw.const_value(e, &Scope::Model, "a constant initialiser")?;
            Some(Init::Const(v))
        }
    }
}

fn named(lw: &mut Lowerer, name: &str, e: &Expr, shape: &Shape, call: Option<(&Ident, &Vec<Arg>)>) -> Option<Init> {
    let init = match name {
        "zeros" => Init::Const(0.0),
        "ones" => Init::Const(1.0),
        "he_normal" => Init::HeNormal,
        "he_uniform" => Init::HeUniform,
        "glorot_normal" => Init::GlorotNormal,
        "glorot_uniform" => Init::GlorotUniform,
        "normal" => return normal(lw, call.map(|c| c.1.as_slice()).unwrap_or(&[])),
        "uniform" => return uniform(lw, e, call.map(|c| c.1.as_slice())),
        _ => {
            let mut d = Diagnostic::error(e.span, format!("unknown initialiser `{}`", short(name)))
                .with_label("not an initialiser")
                .with_note(FORMS);
            if let Some(s) = suggest::nearest(name, NAMED.iter().copied()) {
                d = d.with_note(format!("did you mean `{s}`?"));
            }
            return lw.report_none(d);
        }
    };
    if let Some((callee, args)) = call {
        if !args.is_empty() {
            return lw.report_none(
                Diagnostic::error(e.span, format!("`{}` takes no arguments", callee.name))
                    .with_label(format!("write `{}` alone", callee.name)),
            );
        }
    }
    if matches!(
        init,
        Init::HeNormal | Init::HeUniform | Init::GlorotNormal | Init::GlorotUniform
    ) && shape.rank() == 0
    {
        return lw.report_none(
            Diagnostic::error(
                e.span,
                format!("`{name}` needs a param of rank 1 or more, found a scalar"),
            )
            .with_label("a scalar has no fan-in")
            .with_note("use a number, normal(std=s) or uniform(lo, hi) for scalars"),
        );
    }
    Some(init)
}

/// `normal`, `normal(std=s)` or `normal(mean=m, std=s)` (keywords only: `normal(0.1)`
/// would be ambiguous between mean and std).
fn normal(lw: &mut Lowerer, args: &[Arg]) -> Option<Init> {
    let (mut mean, mut std) = (0.0, 1.0);
    for a in args {
        let Some(k) = &a.keyword else {
            return lw.report_none(
                Diagnostic::error(a.value.span, "normal takes keyword arguments")
                    .with_label("write std=... or mean=...")
                    .with_note("e.g. normal(std=0.01) or normal(mean=0, std=0.1)"),
            );
        };
        let v = lw.const_value(&a.value, &Scope::Model, &format!("`{}`", k.name))?;
        match k.name.as_str() {
            "mean" => mean = v,
            "std" if v < 0.0 => {
                return lw.report_none(
                    Diagnostic::error(a.value.span, format!("std must not be negative, found {v}"))
                        .with_label("negative"),
                )
            }
            "std" => std = v,
            other => {
                return lw.report_none(
                    Diagnostic::error(
                        k.span,
                        format!("unknown keyword argument `{}` for `normal`", short(other)),
                    )
                    .with_label("`normal` takes mean, std"),
                )
            }
        }
    }
    Some(Init::Normal { mean, std })
}

/// `uniform(lo, hi)`, positional or by keyword.
fn uniform(lw: &mut Lowerer, e: &Expr, args: Option<&[Arg]>) -> Option<Init> {
    let usage = "write uniform(lo, hi), e.g. uniform(-0.1, 0.1)";
    let Some(args) = args else {
        return lw.report_none(Diagnostic::error(e.span, "uniform needs bounds").with_label(usage));
    };
    let mut bounds: [Option<f64>; 2] = [None, None];
    for (i, a) in args.iter().enumerate() {
        let slot = match a.keyword.as_ref().map(|k| k.name.as_str()) {
            None if i < 2 => i,
            Some("lo") => 0,
            Some("hi") => 1,
            None => {
                return lw.report_none(
                    Diagnostic::error(
                        e.span,
                        format!("wrong number of arguments: `uniform` takes 2, found {}", args.len()),
                    )
                    .with_label(usage),
                )
            }
            Some(other) => {
                let span = a.keyword.as_ref().map_or(e.span, |k| k.span);
                return lw.report_none(
                    Diagnostic::error(
                        span,
                        format!("unknown keyword argument `{}` for `uniform`", short(other)),
                    )
                    .with_label("`uniform` takes lo, hi"),
                );
            }
        };
        bounds[slot] = Some(lw.const_value(&a.value, &Scope::Model, "a bound of `uniform`")?);
    }
    match bounds {
        [Some(lo), Some(hi)] if lo <= hi => Some(Init::Uniform { lo, hi }),
        [Some(lo), Some(hi)] => lw.report_none(
            Diagnostic::error(e.span, format!("uniform needs lo <= hi, found uniform({lo}, {hi})"))
                .with_label("bounds reversed"),
        ),
        _ => lw.report_none(
            Diagnostic::error(
                e.span,
                format!("wrong number of arguments: `uniform` takes 2, found {}", args.len()),
            )
            .with_label(usage),
        ),
    }
}
