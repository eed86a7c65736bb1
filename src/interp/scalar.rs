//! The scalar semantics of the elementwise primitives, including their edge cases.
//!
//! NaN: arithmetic, `Max`/`Min`/`Relu` (as NumPy's `maximum`) and `Sign` propagate it;
//! the comparisons `Step` and `GreaterEq` are false for it (they give `0`).

use super::float::Float;
use crate::ir::{unary_ops, Binary, Unary};

/// The interpreter's `match` over [`Unary`]: the `eval` column of `ir/unary_table.rs`.
macro_rules! eval_unary {
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
        /// `u` applied to one element.
        pub fn unary<T: Float>(u: Unary, x: T) -> T {
            match u {
                $( Unary::$op $(($p))? => {
                    let $ex = x;
                    $eval
                } )*
            }
        }
    };
}

unary_ops!(eval_unary);

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
