//! Declared types to IR types, and IR shape errors to diagnostics.

use crate::diag::{Diagnostic, Span};
use crate::ir::{DType, Dim, Shape, ShapeError, TensorType};
use crate::syntax::ast::{DimExpr, DimKind, ElemType, Type};

/// The dimension written as `d`: a positive integer literal or a size variable.
pub(super) fn dim(d: &DimExpr) -> Result<Dim, Diagnostic> {
    match &d.kind {
        DimKind::Var(name) => Ok(Dim::var(name)),
        DimKind::Int(digits) => {
            match digits.parse::<u64>() {
                Ok(0) => Err(Diagnostic::error(d.span, "a dimension of 0 is not allowed")
                    .with_label("dimensions are at least 1")),
                Ok(n) => Ok(Dim::lit(n)),
                Err(_) => Err(Diagnostic::error(
                    d.span,
                    format!("dimension `{}` is too large", crate::syntax::short(digits)),
                )
                .with_label(format!("the largest dimension is {}", u64::MAX))),
            }
        }
    }
}

/// The shape of a declared type, with its element count checked for overflow.
pub(super) fn shape(ty: &Type) -> Result<Shape, Diagnostic> {
    let dims = ty.dims.iter().map(dim).collect::<Result<Vec<_>, _>>()?;
    let shape = Shape(dims);
    match shape.numel() {
        Some(n) if n.as_lit().is_none_or(|n| n <= MAX_ELEMENTS) => Ok(shape),
        _ => Err(
            Diagnostic::error(ty.span, format!("shape {shape} has too many elements"))
                .with_label(format!("more than {MAX_ELEMENTS} elements")),
        ),
    }
}

/// The most elements a tensor may have: its f32 bytes must be addressable.
const MAX_ELEMENTS: u64 = (isize::MAX as u64) / 4;

/// The tensor type of a declaration (f32 unless written otherwise).
pub(super) fn tensor_type(ty: &Type) -> Result<TensorType, Diagnostic> {
    let dtype = match ty.elem {
        Some((ElemType::I32, _)) => DType::I32,
        Some((ElemType::F32, _)) | None => DType::F32,
    };
    Ok(TensorType {
        dtype,
        shape: shape(ty)?,
    })
}

/// The diagnostic for a shape rule's complaint about `what` (an operator or function
/// name, shown in messages) at `span`.
pub(super) fn shape_error(e: ShapeError, span: Span, what: &str) -> Diagnostic {
    match e {
        ShapeError::DType {
            expected: DType::F32,
            found,
        } => Diagnostic::error(span, format!("`{what}` needs f32 operands, found an {found} tensor"))
            .with_label(format!("{found} operand"))
            .with_note("i32 tensors hold class labels; they can only be passed to cross_entropy"),
        ShapeError::DType { expected, found } => {
            Diagnostic::error(span, format!("`{what}` needs an {expected} operand, found {found}"))
        }
        ShapeError::Broadcast { a, b, dims } => broadcast_error(span, what, &a, &b, &dims),
        ShapeError::MatMul { .. } => Diagnostic::error(span, e.to_string()),
        ShapeError::Rank { expected, found } => Diagnostic::error(
            span,
            format!("`{what}` expects an operand of rank {expected}, found shape {found}"),
        ),
        ShapeError::Axis { axis, rank } => {
            Diagnostic::error(span, format!("axis {axis} is out of range for a tensor of rank {rank}"))
        }
        ShapeError::Incompatible { from, to } => Diagnostic::error(span, format!("cannot reshape {from} to {to}")),
        ShapeError::Overflow => Diagnostic::error(span, format!("the result of `{what}` has too many elements")),
        ShapeError::Arity { .. } | ShapeError::Other(_) => {
            Diagnostic::error(span, format!("internal compiler error in `{what}`: {e}"))
        }
    }
}

/// Two shapes that do not broadcast, with a note when two size variables differ.
pub(super) fn broadcast_error(span: Span, what: &str, a: &Shape, b: &Shape, dims: &(Dim, Dim)) -> Diagnostic {
    let mut d = Diagnostic::error(
        span,
        format!(
            "shapes {a} and {b} do not broadcast in `{what}` ({} vs {})",
            dims.0, dims.1
        ),
    )
    .with_label(format!("{a} {what} {b}"));
    if dims.0.as_lit().is_none() && dims.1.as_lit().is_none() {
        d = d.with_note("nnc does not unify different size variables: use one name for one size");
    } else if dims.0.as_lit().is_none() || dims.1.as_lit().is_none() {
        d = d.with_note("a size variable only broadcasts against itself or 1");
    }
    d
}
