//! Value helpers generic over scalar (`f32`, `i32`) and vector (`f32x4`, `i32x4`) types,
//! and the transcendental functions as inline polynomial code.
//!
//! Error bounds (checked against the platform's libm over sweeps in `tests/jit_math.rs`):
//! `exp` (Cephes `expf`: Cody–Waite reduction by ln 2, degree-5 polynomial, the scale
//! split in two factors so that results near the overflow and underflow limits are
//! correctly rounded by the final multiplications): max 2 ulp on [-87, 88], `inf` above
//! ~88.72, gradual underflow to 0 below; `log` (Cephes `logf`: mantissa in
//! [sqrt(1/2), sqrt(2)), degree-8 polynomial, subnormals rescaled): max 2 ulp for positive
//! normal and subnormal inputs, `-inf` at 0, NaN below 0; `tanh` (Cephes `tanhf`: an odd
//! polynomial below 0.625, `1 - 2/(e^2|x| + 1)` above): max 2 ulp, exactly ±1 far out. NaN propagates through all three.

// Coefficients are quoted as published (Cephes), beyond f32 precision.
#![allow(clippy::excessive_precision)]

use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;

/// The 4-lane vector type with lanes of `t`.
pub(super) fn vec_ty(t: Type) -> Type {
    if t == types::I32 {
        types::I32X4
    } else {
        types::F32X4
    }
}

/// The integer type with the shape of float type `t`.
pub(super) fn int_ty(t: Type) -> Type {
    if t.is_vector() {
        types::I32X4
    } else {
        types::I32
    }
}

fn ty(fb: &FunctionBuilder, v: Value) -> Type {
    fb.func.dfg.value_type(v)
}

/// An f32 constant of type `t` (splatted for vectors).
pub(super) fn fconst(fb: &mut FunctionBuilder, t: Type, x: f32) -> Value {
    let c = fb.ins().f32const(x);
    if t.is_vector() {
        fb.ins().splat(t, c)
    } else {
        c
    }
}

/// An i32 constant of type `t` (splatted for vectors).
pub(super) fn iconst_t(fb: &mut FunctionBuilder, t: Type, x: i64) -> Value {
    let c = fb.ins().iconst(types::I32, x);
    if t.is_vector() {
        fb.ins().splat(t, c)
    } else {
        c
    }
}

/// `v` as type `t`: splatted if `v` is a scalar and `t` a vector, else unchanged.
pub(super) fn splat_to(fb: &mut FunctionBuilder, v: Value, t: Type) -> Value {
    if t.is_vector() && !ty(fb, v).is_vector() {
        fb.ins().splat(t, v)
    } else {
        v
    }
}

/// Two operands of one type: a scalar meeting a vector is splatted.
pub(super) fn unify(fb: &mut FunctionBuilder, a: Value, b: Value) -> (Value, Value) {
    let (ta, tb) = (ty(fb, a), ty(fb, b));
    if ta.is_vector() && !tb.is_vector() {
        (a, fb.ins().splat(ta, b))
    } else if tb.is_vector() && !ta.is_vector() {
        (fb.ins().splat(tb, a), b)
    } else {
        (a, b)
    }
}

/// `mask ? a : b` per lane; `mask` is the result of a comparison of `a`'s shape.
pub(super) fn sel(fb: &mut FunctionBuilder, mask: Value, a: Value, b: Value) -> Value {
    let (a, b) = unify(fb, a, b);
    let t = ty(fb, a);
    if t.is_vector() {
        let mask = splat_mask(fb, mask, t);
        let m = if ty(fb, mask) != t {
            fb.ins().bitcast(t, MemFlagsData::new(), mask)
        } else {
            mask
        };
        fb.ins().bitselect(m, a, b)
    } else {
        fb.ins().select(mask, a, b)
    }
}

/// A scalar comparison result used with vectors becomes an all-ones/zeros lane mask.
fn splat_mask(fb: &mut FunctionBuilder, mask: Value, t: Type) -> Value {
    if ty(fb, mask).is_vector() {
        return mask;
    }
    let wide = fb.ins().uextend(types::I32, mask);
    let neg = fb.ins().ineg(wide);
    fb.ins().splat(int_ty(t), neg)
}

/// `1.0` where `mask` is set, else `0.0`.
pub(super) fn mask_to_one(fb: &mut FunctionBuilder, mask: Value) -> Value {
    let mt = ty(fb, mask);
    if mt.is_vector() {
        let m = fb.ins().bitcast(types::F32X4, MemFlagsData::new(), mask);
        let one = fconst(fb, types::F32X4, 1.0);
        fb.ins().band(m, one)
    } else {
        let one = fb.ins().f32const(1.0);
        let zero = fb.ins().f32const(0.0);
        fb.ins().select(mask, one, zero)
    }
}

/// Mask of lanes that are neither infinite nor NaN.
pub(super) fn is_finite(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = ty(fb, x);
    let a = fb.ins().fabs(x);
    let inf = fconst(fb, t, f32::INFINITY);
    fb.ins().fcmp(FloatCC::LessThan, a, inf)
}

/// The maximum, NaN propagating (as the reference interpreter's reductions).
pub(super) fn fmax_nan(fb: &mut FunctionBuilder, a: Value, b: Value) -> Value {
    let (a, b) = unify(fb, a, b);
    fb.ins().fmax(a, b)
}

/// The i32x4 vector `[0, 1, 2, 3]`.
pub(super) fn iota(fb: &mut FunctionBuilder) -> Value {
    let bytes: Vec<u8> = (0u32..4).flat_map(|i| i.to_le_bytes()).collect();
    let c = fb.func.dfg.constants.insert(bytes.into());
    fb.ins().vconst(types::I32X4, c)
}

/// `a * x + b` with constants `a`, `b`... evaluated by Horner's rule: `coeffs[0]` is the
/// highest power.
fn horner(fb: &mut FunctionBuilder, x: Value, coeffs: &[f32]) -> Value {
    let t = ty(fb, x);
    let mut p = fconst(fb, t, coeffs[0]);
    for &c in &coeffs[1..] {
        let m = fb.ins().fmul(p, x);
        let k = fconst(fb, t, c);
        p = fb.ins().fadd(m, k);
    }
    p
}

/// `2^n` for integer lanes `n` in the normal exponent range.
fn pow2i(fb: &mut FunctionBuilder, n: Value, t: Type) -> Value {
    let bias = iconst_t(fb, int_ty(t), 127);
    let biased = fb.ins().iadd(n, bias);
    let bits = fb.ins().ishl_imm_s(biased, 23);
    fb.ins().bitcast(t, MemFlagsData::new(), bits)
}

/// `e^x`.
pub(super) fn exp(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = ty(fb, x);
    // Past these limits the result is inf or 0 anyway; clamping keeps n small. NaN stays.
    let lo = fconst(fb, t, -104.0);
    let hi = fconst(fb, t, 89.0);
    let x = fb.ins().fmax(x, lo);
    let x = fb.ins().fmin(x, hi);
    let log2e = fconst(fb, t, std::f32::consts::LOG2_E);
    let tx = fb.ins().fmul(x, log2e);
    let n = fb.ins().nearest(tx);
    // r = x - n ln 2, with ln 2 split so that n * C1 is exact.
    let c1 = fconst(fb, t, 0.693_359_4);
    let c2 = fconst(fb, t, -2.121_944_4e-4);
    let a = fb.ins().fmul(n, c1);
    let r = fb.ins().fsub(x, a);
    let b = fb.ins().fmul(n, c2);
    let r = fb.ins().fsub(r, b);
    let p = horner(
        fb,
        r,
        &[
            1.987_569_1e-4,
            1.398_199_9e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            1.666_666_5e-1,
            5.000_000_1e-1,
        ],
    );
    let z = fb.ins().fmul(r, r);
    let pz = fb.ins().fmul(p, z);
    let one = fconst(fb, t, 1.0);
    let s = fb.ins().fadd(pz, r);
    let y = fb.ins().fadd(s, one);
    // 2^n as 2^(n/2) * 2^(n - n/2): each factor stays a normal float for |n| <= 150.
    let ni = fb.ins().fcvt_to_sint_sat(int_ty(t), n);
    let n1 = fb.ins().sshr_imm_s(ni, 1);
    let n2 = fb.ins().isub(ni, n1);
    let s1 = pow2i(fb, n1, t);
    let s2 = pow2i(fb, n2, t);
    let y = fb.ins().fmul(y, s1);
    fb.ins().fmul(y, s2)
}

/// The natural logarithm.
pub(super) fn log(fb: &mut FunctionBuilder, x0: Value) -> Value {
    let t = ty(fb, x0);
    let it = int_ty(t);
    // Subnormals: scale by 2^23 first and take 23 off the exponent.
    let min_normal = fconst(fb, t, f32::MIN_POSITIVE);
    let small = fb.ins().fcmp(FloatCC::LessThan, x0, min_normal);
    let scale = fconst(fb, t, 8_388_608.0);
    let scaled = fb.ins().fmul(x0, scale);
    let x = sel(fb, small, scaled, x0);
    let e_adj = fconst(fb, t, 23.0);
    let zero = fconst(fb, t, 0.0);
    let adj = sel(fb, small, e_adj, zero);
    // x = m * 2^e with m in [0.5, 1).
    let bits = fb.ins().bitcast(it, MemFlagsData::new(), x);
    let eb = fb.ins().ushr_imm_s(bits, 23);
    let bias = iconst_t(fb, it, -126);
    let eb = fb.ins().iadd(eb, bias);
    let e = fb.ins().fcvt_from_sint(t, eb);
    let e = fb.ins().fsub(e, adj);
    let mant_mask = iconst_t(fb, it, 0x807F_FFFF);
    let half_bits = iconst_t(fb, it, 0x3F00_0000);
    let mb = fb.ins().band(bits, mant_mask);
    let mb = fb.ins().bor(mb, half_bits);
    let m = fb.ins().bitcast(t, MemFlagsData::new(), mb);
    // Bring m into [sqrt(1/2), sqrt(2)) - 1.
    let sqrthf = fconst(fb, t, std::f32::consts::FRAC_1_SQRT_2);
    let low = fb.ins().fcmp(FloatCC::LessThan, m, sqrthf);
    let one = fconst(fb, t, 1.0);
    let e_minus = fb.ins().fsub(e, one);
    let e = sel(fb, low, e_minus, e);
    let m2 = fb.ins().fadd(m, m);
    let m = sel(fb, low, m2, m);
    let m = fb.ins().fsub(m, one);
    let z = fb.ins().fmul(m, m);
    let p = horner(
        fb,
        m,
        &[
            7.037_683_6e-2,
            -1.151_461e-1,
            1.167_699_9e-1,
            -1.242_014_1e-1,
            1.424_932_3e-1,
            -1.666_805_8e-1,
            2.000_071_4e-1,
            -2.499_999_4e-1,
            3.333_333_1e-1,
        ],
    );
    let y = fb.ins().fmul(p, m);
    let y = fb.ins().fmul(y, z);
    let q1 = fconst(fb, t, -2.121_944_4e-4);
    let eq1 = fb.ins().fmul(e, q1);
    let y = fb.ins().fadd(y, eq1);
    let half = fconst(fb, t, 0.5);
    let hz = fb.ins().fmul(z, half);
    let y = fb.ins().fsub(y, hz);
    let r = fb.ins().fadd(m, y);
    let q2 = fconst(fb, t, 0.693_359_4);
    let eq2 = fb.ins().fmul(e, q2);
    let r = fb.ins().fadd(r, eq2);
    // Special values: log(inf) = inf, log(0) = -inf, log(<0 or NaN) = NaN.
    let inf = fconst(fb, t, f32::INFINITY);
    let is_inf = fb.ins().fcmp(FloatCC::Equal, x0, inf);
    let r = sel(fb, is_inf, inf, r);
    let is_zero = fb.ins().fcmp(FloatCC::Equal, x0, zero);
    let ninf = fconst(fb, t, f32::NEG_INFINITY);
    let r = sel(fb, is_zero, ninf, r);
    let bad = fb.ins().fcmp(FloatCC::UnorderedOrLessThan, x0, zero);
    let nan = fconst(fb, t, f32::NAN);
    sel(fb, bad, nan, r)
}

/// `log(1 + u)` for `u >= 0`, accurate for small `u`.
pub(super) fn log1p(fb: &mut FunctionBuilder, u: Value) -> Value {
    let t = ty(fb, u);
    let one = fconst(fb, t, 1.0);
    let w = fb.ins().fadd(one, u);
    let lw = log(fb, w);
    let d = fb.ins().fsub(w, one);
    // log(w) * u / (w - 1) corrects the rounding of 1 + u.
    let num = fb.ins().fmul(lw, u);
    let corrected = fb.ins().fdiv(num, d);
    let exact = fb.ins().fcmp(FloatCC::Equal, w, one);
    sel(fb, exact, u, corrected)
}

/// The hyperbolic tangent (Cephes `tanhf`): an odd polynomial below 0.625, else
/// `1 - 2 / (e^(2|x|) + 1)` with the sign of `x` (saturating to ±1 as `exp` overflows).
pub(super) fn tanh(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = ty(fb, x);
    let a = fb.ins().fabs(x);
    let z = fb.ins().fmul(x, x);
    let p = horner(
        fb,
        z,
        &[
            -5.704_988_7e-3,
            2.063_908_9e-2,
            -5.373_971_6e-2,
            1.333_144_2e-1,
            -3.333_328_2e-1,
        ],
    );
    let pz = fb.ins().fmul(p, z);
    let pzx = fb.ins().fmul(pz, x);
    let small = fb.ins().fadd(pzx, x);
    let a2 = fb.ins().fadd(a, a);
    let e = exp(fb, a2);
    let one = fconst(fb, t, 1.0);
    let two = fconst(fb, t, 2.0);
    let d = fb.ins().fadd(e, one);
    let q = fb.ins().fdiv(two, d);
    let large = fb.ins().fsub(one, q);
    // copysign by bits (x86 has no vector fcopysign lowering).
    let sign_bit = fconst(fb, t, -0.0);
    let sign = fb.ins().band(x, sign_bit);
    let large = fb.ins().bor(large, sign);
    let cut = fconst(fb, t, 0.625);
    let is_small = fb.ins().fcmp(FloatCC::LessThan, a, cut);
    sel(fb, is_small, small, large)
}

/// `1 / (1 + e^-x)` without overflow: `e^-|x|` is at most 1.
pub(super) fn sigmoid(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = ty(fb, x);
    let a = fb.ins().fabs(x);
    let na = fb.ins().fneg(a);
    let e = exp(fb, na);
    let one = fconst(fb, t, 1.0);
    let d = fb.ins().fadd(one, e);
    let r = fb.ins().fdiv(one, d);
    let er = fb.ins().fmul(e, r);
    let zero = fconst(fb, t, 0.0);
    let pos = fb.ins().fcmp(FloatCC::GreaterThanOrEqual, x, zero);
    sel(fb, pos, r, er)
}

/// `max(x, 0)` with NaN propagating (the reference semantics of `relu`).
pub(super) fn relu(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = ty(fb, x);
    let zero = fconst(fb, t, 0.0);
    let keep = fb.ins().fcmp(FloatCC::UnorderedOrGreaterThan, x, zero);
    sel(fb, keep, x, zero)
}

/// `log(1 + e^x)` as `max(x, 0) + log1p(e^-|x|)`: no overflow, accurate in both tails.
pub(super) fn softplus(fb: &mut FunctionBuilder, x: Value) -> Value {
    let a = fb.ins().fabs(x);
    let na = fb.ins().fneg(a);
    let e = exp(fb, na);
    let l = log1p(fb, e);
    let r = relu(fb, x);
    fb.ins().fadd(r, l)
}
