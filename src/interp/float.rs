//! The element type the interpreter computes in: `f32` (what the compiled code computes)
//! or `f64` (for gradient checks by finite differences).

use std::fmt::{Debug, Display};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// A floating-point element type. Implemented for `f32` and `f64` only.
pub trait Float:
    Copy
    + Debug
    + Display
    + PartialOrd
    + Default
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Rounds an `f64` to this type.
    fn from_f64(x: f64) -> Self;
    /// Widens to `f64`.
    fn to_f64(self) -> f64;
    /// Rounds an `f32` to this type (exact for both implementations).
    fn from_f32(x: f32) -> Self;
    /// Rounds to `f32`.
    fn to_f32(self) -> f32;
    /// `e^x`
    fn exp(self) -> Self;
    /// natural logarithm
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate near zero
    fn ln_1p(self) -> Self;
    /// square root
    fn sqrt(self) -> Self;
    /// `|x|`
    fn abs(self) -> Self;
    /// hyperbolic tangent
    fn tanh(self) -> Self;
    /// sine
    fn sin(self) -> Self;
    /// cosine
    fn cos(self) -> Self;
    /// integer power
    fn powi(self, n: i32) -> Self;
    /// real power
    fn powf(self, e: Self) -> Self;
    /// whether NaN
    fn is_nan(self) -> bool;
    /// whether neither infinite nor NaN
    fn is_finite(self) -> bool;

    /// `0`
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    /// `1`
    fn one() -> Self {
        Self::from_f64(1.0)
    }
}

macro_rules! impl_float {
    ($t:ty) => {
        impl Float for $t {
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f32(x: f32) -> Self {
                x as $t
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}

impl_float!(f32);
impl_float!(f64);
