//! The primitive operations: the single list every later stage matches on.
//!
//! Each stage has one exhaustive `match` over [`Op`]: the shape rule here, the reference
//! semantics in `interp`, the vector-Jacobian product in `autodiff`, and the lowering in
//! `codegen`. Adding a variant is therefore a compile error until all four exist. The
//! elementwise unary primitives ([`Unary`]) are instead one row each of `ir/unary_table.rs`,
//! which every stage expands into its `match`.
//! Composite built-ins of the language (softmax, cross_entropy, mse, gelu, mean, ...)
//! are expansions into these primitives, made in `sema`.

use super::dim::Dim;
use super::shape::{broadcast, broadcasts_to, Shape};
use std::fmt;
use std::hash::{Hash, Hasher};

/// An `f64` that compares and hashes by its bits, so ops carrying constants can be
/// deduplicated by common-subexpression elimination.
#[derive(Clone, Copy, Debug)]
pub struct F64(pub f64);

impl PartialEq for F64 {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}
impl Eq for F64 {}
impl Hash for F64 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// Element types. `I32` tensors are data only (class labels).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 32-bit signed integer (labels).
    I32,
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::I32 => "i32",
        })
    }
}

/// `Some(Unary::Op)` for a row without a parameter, `None` for one with a parameter.
macro_rules! plain_unary {
    ($op:ident) => {
        Some(Unary::$op)
    };
    ($op:ident $p:ident) => {
        None
    };
}

/// Declares [`Unary`] and its names from the rows of [`super::unary_table`].
macro_rules! declare_unary {
    ($(
        $(#[doc = $doc:literal])*
        $op:ident $(($p:ident: $pt:ty))? {
            name: $name:literal, call: $call:literal,
            eval: |$ex:pat_param| $eval:expr,
            vjp: |$vb:pat_param, $vx:pat_param, $vy:pat_param, $vct:pat_param| $vjp:expr,
            lower: |$ll:pat_param, $lx:pat_param| $lower:expr,
            $(host: $host:expr,)?
        }
    )*) => {
        /// Elementwise functions of one argument, one row each of `ir/unary_table.rs` (which
        /// also holds their semantics, derivatives and lowerings). The result has the
        /// operand's shape.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum Unary {
            $( $(#[doc = $doc])* $op $(($pt))?, )*
        }

        /// Every op without a parameter.
        const PLAIN_UNARY: &[Option<Unary>] = &[$( plain_unary!($op $($p)?) ),*];

        impl Unary {
            /// The op's name in printed graphs (without its parameter).
            pub fn name(self) -> &'static str {
                match self {
                    $( Unary::$op { .. } => $name, )*
                }
            }

            /// `f` if the language writes this op as the built-in call `f(x)`.
            pub fn call_name(self) -> Option<&'static str> {
                match self {
                    $( Unary::$op { .. } => $call.then_some($name), )*
                }
            }
        }
    };
}

super::unary_table::unary_ops!(declare_unary);

impl Unary {
    /// The ops the language writes as a built-in call `f(x)`, with their `f`.
    pub fn calls() -> impl Iterator<Item = (&'static str, Unary)> {
        PLAIN_UNARY.iter().flatten().filter_map(|u| Some((u.call_name()?, *u)))
    }
}

/// Elementwise functions of two arguments, with NumPy broadcasting.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `maximum(a, b)`; at ties the gradient goes to `a`
    Max,
    /// `minimum(a, b)`; at ties the gradient goes to `a`
    Min,
    /// `1 if a >= b else 0`: the tie-breaking mask of `Max` and `Min`
    GreaterEq,
}

/// Reductions over a set of axes; the reduced axes are dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Reduce {
    /// sum
    Sum,
    /// maximum
    Max,
    /// `log(sum(exp(x)))`, max-shifted so that it never overflows
    LogSumExp,
}

/// A primitive operation. Operands are the node's incoming edges, in order.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Op {
    /// The model input with this index in [`super::Graph::inputs`]. No operands.
    Input(usize),
    /// The param with this index in [`super::Graph::params`]. No operands.
    Param(usize),
    /// The f32 scalar `value / per`; `per` is a product of dims (the `1/N` of a mean). No operands.
    Const {
        /// numerator
        value: F64,
        /// divisor, `1` for a plain constant
        per: Dim,
    },
    /// One operand, same shape.
    Unary(Unary),
    /// Two operands, broadcast.
    Binary(Binary),
    /// One operand; `axes` sorted, distinct and in range; they are dropped from the shape.
    Reduce {
        /// what to combine
        kind: Reduce,
        /// which axes
        axes: Vec<usize>,
    },
    /// One operand: `1` at the first maximum (row-major over `axes`) of each reduced slice,
    /// `0` elsewhere. The derivative of `Reduce::Max`. Same shape.
    ArgMaxMask {
        /// the axes `Reduce::Max` reduced
        axes: Vec<usize>,
    },
    /// One operand, broadcast (NumPy rule) to this shape.
    BroadcastTo(Shape),
    /// One operand, same element count, row-major.
    Reshape(Shape),
    /// One operand of rank 2, axes swapped.
    Transpose,
    /// Two operands of rank 2: `op(a) @ op(b)`, where `op` transposes when the flag is set.
    MatMul {
        /// transpose the left operand
        ta: bool,
        /// transpose the right operand
        tb: bool,
    },
    /// One `i32` operand of shape `[..]`: the f32 one-hot encoding, shape `[.., classes]`.
    /// Labels outside `[0, classes)` are rejected before any evaluation.
    OneHot {
        /// number of classes
        classes: Dim,
    },
    /// `grad(e, v)`: operands `[e, v]`, `e` scalar, `v` an `Input` or `Param` node; the
    /// shape of `v`. Expanded away by `autodiff::expand_grads` before anything evaluates.
    Grad,
}

/// Why an op cannot apply to its operands. The front end turns these into diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShapeError {
    /// Wrong number of operands.
    Arity {
        /// expected
        expected: usize,
        /// found
        found: usize,
    },
    /// An i32 operand where f32 is needed (or the reverse).
    DType {
        /// expected
        expected: DType,
        /// found
        found: DType,
    },
    /// Two shapes do not broadcast; the first differing pair of dims.
    Broadcast {
        /// left shape
        a: Shape,
        /// right shape
        b: Shape,
        /// the dims that differ
        dims: (Dim, Dim),
    },
    /// A matrix product's inner dimensions differ.
    MatMul {
        /// left shape (after any transpose flag)
        a: Shape,
        /// right shape (after any transpose flag)
        b: Shape,
    },
    /// An operand has the wrong rank.
    Rank {
        /// expected rank, as text ("2", "at least 1")
        expected: String,
        /// found shape
        found: Shape,
    },
    /// An axis outside the operand's rank, or repeated.
    Axis {
        /// the axis
        axis: usize,
        /// the operand's rank
        rank: usize,
    },
    /// A reshape or broadcast to an incompatible shape.
    Incompatible {
        /// from
        from: Shape,
        /// to
        to: Shape,
    },
    /// A shape whose element count overflows.
    Overflow,
    /// Something else, described.
    Other(String),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Arity { expected, found } => write!(f, "expected {expected} operands, found {found}"),
            ShapeError::DType { expected, found } => write!(f, "expected {expected}, found {found}"),
            ShapeError::Broadcast { a, b, dims } => {
                write!(f, "shapes {a} and {b} do not broadcast ({} vs {})", dims.0, dims.1)
            }
            ShapeError::MatMul { a, b } => {
                let k1 = a.dims().last().map(|d| d.to_string()).unwrap_or_default();
                let k2 = b.dims().first().map(|d| d.to_string()).unwrap_or_default();
                write!(f, "matmul inner dimensions differ: {a} @ {b} ({k1} vs {k2})")
            }
            ShapeError::Rank { expected, found } => write!(f, "expected rank {expected}, found shape {found}"),
            ShapeError::Axis { axis, rank } => write!(f, "axis {axis} is out of range for rank {rank}"),
            ShapeError::Incompatible { from, to } => write!(f, "cannot reshape {from} to {to}"),
            ShapeError::Overflow => write!(f, "element count overflows"),
            ShapeError::Other(s) => f.write_str(s),
        }
    }
}

/// The type of one operand or result: element type and shape.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TensorType {
    /// element type
    pub dtype: DType,
    /// shape
    pub shape: Shape,
}

impl TensorType {
    /// An f32 tensor type.
    pub fn f32(shape: Shape) -> TensorType {
        TensorType {
            dtype: DType::F32,
            shape,
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dtype {
            DType::F32 => write!(f, "{}", self.shape),
            DType::I32 => write!(f, "i32{}", self.shape),
        }
    }
}

impl Op {
    /// Whether the result is a function of each element independently (fusable into one loop).
    pub fn is_elementwise(&self) -> bool {
        matches!(self, Op::Unary(_) | Op::Binary(_))
    }

    /// Whether the op has no operands.
    pub fn is_leaf(&self) -> bool {
        matches!(self, Op::Input(_) | Op::Param(_) | Op::Const { .. })
    }

    /// Whether the result is piecewise constant in its operands, so its derivative is zero.
    pub fn is_piecewise_constant(&self) -> bool {
        matches!(
            self,
            Op::Unary(Unary::Sign | Unary::Step)
                | Op::Binary(Binary::GreaterEq)
                | Op::ArgMaxMask { .. }
                | Op::OneHot { .. }
        )
    }

    /// The shape rule: the result type of this op on operands of types `args`.
    /// Leaves (`Input`, `Param`) take their type from the graph, not from here.
    pub fn result_type(&self, args: &[&TensorType]) -> Result<TensorType, ShapeError> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(ShapeError::Arity {
                    expected: n,
                    found: args.len(),
                })
            }
        };
        let all_f32 = || {
            args.iter().try_for_each(|t| match t.dtype {
                DType::F32 => Ok(()),
                found => Err(ShapeError::DType {
                    expected: DType::F32,
                    found,
                }),
            })
        };
        match self {
            Op::Input(_) | Op::Param(_) => Err(ShapeError::Other("leaf types come from the graph".into())),
            Op::Const { .. } => {
                arity(0)?;
                Ok(TensorType::f32(Shape::scalar()))
            }
            Op::Unary(_) => {
                arity(1)?;
                all_f32()?;
                Ok(args[0].clone())
            }
            Op::Binary(_) => {
                arity(2)?;
                all_f32()?;
                let (a, b) = (&args[0].shape, &args[1].shape);
                broadcast(a, b)
                    .map(TensorType::f32)
                    .map_err(|dims| ShapeError::Broadcast {
                        a: a.clone(),
                        b: b.clone(),
                        dims,
                    })
            }
            Op::Reduce { axes, .. } | Op::ArgMaxMask { axes } => {
                arity(1)?;
                all_f32()?;
                let s = &args[0].shape;
                check_axes(axes, s.rank())?;
                Ok(TensorType::f32(if matches!(self, Op::Reduce { .. }) {
                    s.without_axes(axes)
                } else {
                    s.clone()
                }))
            }
            Op::BroadcastTo(to) => {
                arity(1)?;
                all_f32()?;
                if broadcasts_to(&args[0].shape, to) {
                    Ok(TensorType::f32(to.clone()))
                } else {
                    Err(ShapeError::Incompatible {
                        from: args[0].shape.clone(),
                        to: to.clone(),
                    })
                }
            }
            Op::Reshape(to) => {
                arity(1)?;
                all_f32()?;
                let from = &args[0].shape;
                if from.numel().ok_or(ShapeError::Overflow)? == to.numel().ok_or(ShapeError::Overflow)? {
                    Ok(TensorType::f32(to.clone()))
                } else {
                    Err(ShapeError::Incompatible {
                        from: from.clone(),
                        to: to.clone(),
                    })
                }
            }
            Op::Transpose => {
                arity(1)?;
                all_f32()?;
                let s = rank2(&args[0].shape)?;
                Ok(TensorType::f32(Shape(vec![s[1].clone(), s[0].clone()])))
            }
            Op::MatMul { ta, tb } => {
                arity(2)?;
                all_f32()?;
                let a = oriented(rank2(&args[0].shape)?, *ta);
                let b = oriented(rank2(&args[1].shape)?, *tb);
                if a.0[1] != b.0[0] {
                    return Err(ShapeError::MatMul { a, b });
                }
                Ok(TensorType::f32(Shape(vec![a.0[0].clone(), b.0[1].clone()])))
            }
            Op::OneHot { classes } => {
                arity(1)?;
                if args[0].dtype != DType::I32 {
                    return Err(ShapeError::DType {
                        expected: DType::I32,
                        found: args[0].dtype,
                    });
                }
                let mut dims = args[0].shape.0.clone();
                dims.push(classes.clone());
                Ok(TensorType::f32(Shape(dims)))
            }
            Op::Grad => {
                arity(2)?;
                all_f32()?;
                if args[0].shape.rank() != 0 {
                    return Err(ShapeError::Rank {
                        expected: "0 (a scalar)".into(),
                        found: args[0].shape.clone(),
                    });
                }
                Ok(args[1].clone())
            }
        }
    }

    /// A short lowercase name for printers.
    pub fn name(&self) -> String {
        match self {
            Op::Input(i) => format!("input{i}"),
            Op::Param(i) => format!("param{i}"),
            Op::Const { value, per } if per.is_one() => format!("const {}", value.0),
            Op::Const { value, per } => format!("const {}/{}", value.0, per),
            Op::Unary(u @ (Unary::Pow(c) | Unary::LeakyRelu(c))) => format!("{} {}", u.name(), c.0),
            Op::Unary(u) => u.name().to_string(),
            Op::Binary(Binary::GreaterEq) => "greater_eq".into(),
            Op::Binary(b) => format!("{b:?}").to_lowercase(),
            Op::Reduce {
                kind: Reduce::LogSumExp,
                axes,
            } => format!("reduce_logsumexp {axes:?}"),
            Op::Reduce { kind, axes } => format!("reduce_{} {axes:?}", format!("{kind:?}").to_lowercase()),
            Op::ArgMaxMask { axes } => format!("argmax_mask {axes:?}"),
            Op::BroadcastTo(s) => format!("broadcast_to {s}"),
            Op::Reshape(s) => format!("reshape {s}"),
            Op::Transpose => "transpose".into(),
            Op::MatMul { ta: false, tb: false } => "matmul".into(),
            Op::MatMul { ta, tb } => format!("matmul{}{}", if *ta { " ta" } else { "" }, if *tb { " tb" } else { "" }),
            Op::OneHot { classes } => format!("one_hot {classes}"),
            Op::Grad => "grad".into(),
        }
    }
}

fn check_axes(axes: &[usize], rank: usize) -> Result<(), ShapeError> {
    for (i, &a) in axes.iter().enumerate() {
        if a >= rank || (i > 0 && axes[i - 1] >= a) {
            return Err(ShapeError::Axis { axis: a, rank });
        }
    }
    Ok(())
}

fn rank2(s: &Shape) -> Result<&[crate::ir::Dim], ShapeError> {
    if s.rank() == 2 {
        Ok(s.dims())
    } else {
        Err(ShapeError::Rank {
            expected: "2".into(),
            found: s.clone(),
        })
    }
}

fn oriented(d: &[Dim], transposed: bool) -> Shape {
    if transposed {
        Shape(vec![d[1].clone(), d[0].clone()])
    } else {
        Shape(d.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unary_printer_names_are_the_variant_names_in_lowercase() {
        for u in PLAIN_UNARY.iter().flatten() {
            assert_eq!(Op::Unary(*u).name(), format!("{u:?}").to_lowercase());
        }
        assert_eq!(Op::Unary(Unary::Pow(F64(2.0))).name(), "pow 2");
        assert_eq!(Op::Unary(Unary::LeakyRelu(F64(0.5))).name(), "leaky_relu 0.5");
    }

    #[test]
    fn built_in_calls_are_the_plain_ops_but_neg() {
        let calls: Vec<Unary> = Unary::calls().map(|(_, u)| u).collect();
        assert_eq!(calls.len(), PLAIN_UNARY.iter().flatten().count() - 1);
        assert!(!calls.contains(&Unary::Neg));
        assert_eq!(Unary::Pow(F64(2.0)).call_name(), None);
        assert_eq!(Unary::Sign.call_name(), Some("sign"));
    }
}
