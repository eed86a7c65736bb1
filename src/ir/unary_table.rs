//! The elementwise unary primitives: one row per op, with every rule side by side.
//!
//! This is an X-macro (as LLVM's `.def` files): [`unary_ops!`] holds only tokens, and each
//! stage expands it with a small local macro that picks the column it needs and generates its
//! exhaustive `match` (or, in `ir::op`, the [`super::Unary`] enum itself). Paths in the rows
//! (`math::exp`, `chain`, `pow`, `T`) resolve where they are expanded, so this file imports
//! nothing and the one-way module dependencies hold. Adding an elementwise unary op is one row.
//!
//! A row is `/// doc` then `Name` (or `Name(param: F64)`) and its columns:
//! - `name`: the printer's name of the op; also the language's built-in when `call` is true.
//! - `call`: whether the language spells the op `name(x)` (those ops have no parameter).
//! - `eval`: the reference semantics in `interp` on one element of any `T: interp::Float`.
//! - `vjp`: `|b, x, y, ct|` the cotangent of the operand (`autodiff`): `b` the builder, `x` the
//!   operand, `y` the result, `ct` the cotangent arriving at `y`; a `Result<Cot, AdError>`.
//! - `lower`: `|l, x|` the Cranelift code in `codegen` for a scalar or vector `x`; `l` the loop
//!   generator (`Lg`), whose `fb` is the function builder.
//! - `host` (optional): the host routine the lowering calls per lane, if any.
//!
//! The columns are closures over explicit arguments: macro hygiene hides each expander's local
//! variables from these tokens. A parameterised row's parameter (`c`, `a`) is in scope in every
//! column. Shape rule: a unary op keeps its operand's shape (the one `Op::Unary` case of
//! `Op::result_type`). Numerics are the interpreter's, bit for bit in `eval`; the lowering
//! follows them (NaN propagates through `relu` and `sign`; `step` is false for NaN).

/// Expands to `$then! { rows }`: every elementwise unary primitive, one row each.
macro_rules! unary_ops {
    ($then:ident) => {
        $then! {
            /// `-x`
            Neg {
                name: "neg", call: false,
                eval: |x| -x,
                // -ct
                vjp: |b, _, _, ct| b.neg(ct).map(Cot::Node),
                lower: |l, x| l.fb.ins().fneg(x),
            }
            /// `e^x`
            Exp {
                name: "exp", call: true,
                eval: |x| x.exp(),
                // ct * e^x
                vjp: |b, _, y, ct| chain(b, ct, y),
                lower: |l, x| math::exp(l.fb, x),
            }
            /// natural logarithm
            Log {
                name: "log", call: true,
                eval: |x| x.ln(),
                // ct / x
                vjp: |b, x, _, ct| b.div(ct, x).map(Cot::Node),
                lower: |l, x| math::log(l.fb, x),
            }
            /// square root
            Sqrt {
                name: "sqrt", call: true,
                eval: |x| x.sqrt(),
                // ct * 0.5 / sqrt(x)
                vjp: |b, _, y, ct| {
                    let half = b.mul_const(ct, 0.5)?;
                    b.div(half, y).map(Cot::Node)
                },
                lower: |l, x| l.fb.ins().sqrt(x),
            }
            /// `|x|`
            Abs {
                name: "abs", call: true,
                eval: |x| x.abs(),
                // ct * sign(x); abs'(0) = 0
                vjp: |b, x, _, ct| {
                    let s = b.unary(Unary::Sign, x)?;
                    chain(b, ct, s)
                },
                lower: |l, x| l.fb.ins().fabs(x),
            }
            /// `-1, 0, 1`; the derivative of `abs` (so `abs'(0) = 0`)
            Sign {
                name: "sign", call: true,
                eval: |x| {
                    if x > T::zero() {
                        T::one()
                    } else if x < T::zero() {
                        -T::one()
                    } else {
                        // 0 stays 0 (so abs'(0) = 0); NaN stays NaN.
                        x
                    }
                },
                // piecewise constant
                vjp: |_, _, _, _| Ok(Cot::Zero),
                lower: |l, x| sign(l.fb, x),
            }
            /// hyperbolic tangent
            Tanh {
                name: "tanh", call: true,
                eval: |x| x.tanh(),
                // ct * (1 - tanh(x)^2)
                vjp: |b, _, y, ct| {
                    let y2 = b.mul(y, y)?;
                    let d = b.rsub_const(1.0, y2)?;
                    chain(b, ct, d)
                },
                lower: |l, x| math::tanh(l.fb, x),
            }
            /// `1 / (1 + e^-x)`
            Sigmoid {
                name: "sigmoid", call: true,
                eval: |x| {
                    // Never exponentiate a large positive number.
                    if x >= T::zero() {
                        T::one() / (T::one() + (-x).exp())
                    } else {
                        let e = x.exp();
                        e / (T::one() + e)
                    }
                },
                // ct * s(x) * (1 - s(x))
                vjp: |b, _, y, ct| {
                    let one_minus = b.rsub_const(1.0, y)?;
                    let d = b.mul(y, one_minus)?;
                    chain(b, ct, d)
                },
                lower: |l, x| math::sigmoid(l.fb, x),
            }
            /// `max(x, 0)`
            Relu {
                name: "relu", call: true,
                eval: |x| if x > T::zero() || x.is_nan() { x } else { T::zero() },
                // ct * step(x); relu'(0) = 0
                vjp: |b, x, _, ct| {
                    let d = b.unary(Unary::Step, x)?;
                    chain(b, ct, d)
                },
                lower: |l, x| math::relu(l.fb, x),
            }
            /// `1 if x > 0 else 0`; the derivative of `relu` (so `relu'(0) = 0`)
            Step {
                name: "step", call: true,
                eval: |x| if x > T::zero() { T::one() } else { T::zero() },
                // piecewise constant
                vjp: |_, _, _, _| Ok(Cot::Zero),
                lower: |l, x| step(l.fb, x),
            }
            /// `log(1 + e^x)`, computed stably
            Softplus {
                name: "softplus", call: true,
                eval: |x| {
                    let pos = if x > T::zero() || x.is_nan() { x } else { T::zero() };
                    pos + (-x.abs()).exp().ln_1p()
                },
                // ct * sigmoid(x)
                vjp: |b, x, _, ct| {
                    let d = b.unary(Unary::Sigmoid, x)?;
                    chain(b, ct, d)
                },
                lower: |l, x| math::softplus(l.fb, x),
            }
            /// sine
            Sin {
                name: "sin", call: true,
                eval: |x| x.sin(),
                // ct * cos(x)
                vjp: |b, x, _, ct| {
                    let d = b.unary(Unary::Cos, x)?;
                    chain(b, ct, d)
                },
                lower: |l, x| l.call_lanes("nnc_sinf", x, None),
                host: Some("nnc_sinf"),
            }
            /// cosine
            Cos {
                name: "cos", call: true,
                eval: |x| x.cos(),
                // -(ct * sin(x))
                vjp: |b, x, _, ct| {
                    let d = b.unary(Unary::Sin, x)?;
                    let t = b.mul(ct, d)?;
                    b.neg(t).map(Cot::Node)
                },
                lower: |l, x| l.call_lanes("nnc_cosf", x, None),
                host: Some("nnc_cosf"),
            }
            /// `x ^ c` for a constant `c`
            Pow(c: F64) {
                name: "pow", call: false,
                eval: |x| pow(x, c.0),
                // ct * c * x^(c-1)
                vjp: |b, x, _, ct| pow_vjp(b, c.0, x, ct),
                lower: |l, x| l.pow(x, c.0),
                host: (!is_integer_power(c.0) && c.0 != 0.5).then_some("nnc_powf"),
            }
            /// `x if x > 0 else alpha * x`
            LeakyRelu(a: F64) {
                name: "leaky_relu", call: false,
                eval: |x| if x > T::zero() { x } else { T::from_f64(a.0) * x },
                // ct * (alpha + (1 - alpha) * step(x))
                vjp: |b, x, _, ct| {
                    let s = b.unary(Unary::Step, x)?;
                    let scaled = b.mul_const(s, 1.0 - a.0)?;
                    let k = b.konst(a.0);
                    let d = b.binary(Binary::Add, k, scaled)?;
                    chain(b, ct, d)
                },
                lower: |l, x| leaky_relu(l.fb, x, a.0),
            }
        }
    };
}
pub(crate) use unary_ops;
