//! Scalar functions called per element by JIT code (rare ops, so not vectorised).

/// `sin(x)`.
pub extern "C" fn nnc_sinf(x: f32) -> f32 {
    x.sin()
}

/// `cos(x)`.
pub extern "C" fn nnc_cosf(x: f32) -> f32 {
    x.cos()
}

/// `x^c` for a non-integer `c` (NaN for a negative base).
pub extern "C" fn nnc_powf(x: f32, c: f32) -> f32 {
    x.powf(c)
}
