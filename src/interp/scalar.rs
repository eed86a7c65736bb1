//! The scalar semantics of the elementwise primitives, including their edge cases.
//!
//! NaN: arithmetic, `Max`/`Min`/`Relu` (as NumPy's `maximum`) and `Sign` propagate it;
//! the comparisons `Step` and `GreaterEq` are false for it (they give `0`).

use super::float::Float;
use crate::ir::{Binary, Unary};

/// `u` applied to one element.
pub fn unary<T: Float>(u: Unary, x: T) -> T {
    let zero = T::zero();
    let one = T::one();
    match u {
        Unary::Neg => -x,
        Unary::Exp => x.exp(),
        Unary::Log => x.ln(),
        Unary::Sqrt => x.sqrt(),
        Unary::Abs => x.abs(),
        Unary::Sign => {
            if x > zero {
                one
            } else if x < zero {
                -one
            } else {
                // 0 stays 0 (so abs'(0) = 0); NaN stays NaN.
                x
            }
        }
        Unary::Tanh => x.tanh(),
        Unary::Sigmoid => {
            // Never exponentiate a large positive number.
            if x >= zero {
                one / (one + (-x).exp())
            } else {
                let e = x.exp();
                e / (one + e)
            }
        }
        Unary::Relu => {
            if x > zero || x.is_nan() {
                x
            } else {
                zero
            }
        }
        Unary::Step => {
            if x > zero {
                one
            } else {
                zero
            }
        }
        Unary::Softplus => {
            let pos = if x > zero || x.is_nan() { x } else { zero };
            pos + (-x.abs()).exp().ln_1p()
        }
        Unary::Sin => x.sin(),
        Unary::Cos => x.cos(),
        Unary::Pow(c) => pow(x, c.0),
        Unary::LeakyRelu(a) => {
            if x > zero {
                x
            } else {
                T::from_f64(a.0) * x
            }
        }
    }
}

/// `x^c`: repeated multiplication for an integer `c` (so a negative base is fine), the
/// real power otherwise (NaN for a negative base, as NumPy).
fn pow<T: Float>(x: T, c: f64) -> T {
    if c.fract() == 0.0 && c.abs() <= i32::MAX as f64 {
        x.powi(c as i32)
    } else {
        x.powf(T::from_f64(c))
    }
}

/// `b` applied to one pair of elements.
pub fn binary<T: Float>(b: Binary, x: T, y: T) -> T {
    match b {
        Binary::Add => x + y,
        Binary::Sub => x - y,
        Binary::Mul => x * y,
        Binary::Div => x / y,
        Binary::Max => {
            if x.is_nan() || y.is_nan() {
                x + y
            } else if x >= y {
                x
            } else {
                y
            }
        }
        Binary::Min => {
            if x.is_nan() || y.is_nan() {
                x + y
            } else if x <= y {
                x
            } else {
                y
            }
        }
        Binary::GreaterEq => {
            if x >= y {
                T::one()
            } else {
                T::zero()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::F64;

    #[test]
    fn stable_forms_do_not_overflow() {
        assert_eq!(unary(Unary::Sigmoid, -1000.0f32), 0.0);
        assert_eq!(unary(Unary::Sigmoid, 1000.0f32), 1.0);
        assert_eq!(unary(Unary::Softplus, 1000.0f32), 1000.0);
        assert_eq!(unary(Unary::Softplus, -1000.0f32), 0.0);
        assert!((unary(Unary::Softplus, 0.0f64) - 2f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn derivative_primitives_take_the_conventional_values_at_kinks() {
        assert_eq!(unary(Unary::Step, 0.0f64), 0.0);
        assert_eq!(unary(Unary::Sign, 0.0f64), 0.0);
        assert_eq!(unary(Unary::Sign, -3.0f64), -1.0);
        assert_eq!(binary(Binary::GreaterEq, 2.0f64, 2.0), 1.0);
        assert!(unary(Unary::Sign, f64::NAN).is_nan());
    }

    #[test]
    fn powers_follow_numpy() {
        assert_eq!(unary(Unary::Pow(F64(3.0)), -2.0f64), -8.0);
        assert_eq!(unary(Unary::Pow(F64(-1.0)), 4.0f64), 0.25);
        assert!(unary(Unary::Pow(F64(0.5)), -4.0f64).is_nan());
        assert_eq!(unary(Unary::Pow(F64(0.5)), 4.0f64), 2.0);
    }

    #[test]
    fn max_and_min_propagate_nan() {
        assert!(binary(Binary::Max, f64::NAN, 1.0).is_nan());
        assert!(binary(Binary::Min, 1.0, f64::NAN).is_nan());
        assert_eq!(binary(Binary::Max, -1.0f64, 2.0), 2.0);
    }
}
