//! The lowering of each elementwise function: the `lower` column of `ir/unary_table.rs`
//! expanded into one exhaustive `match` over `Unary`, and one `match` over `Binary`.
//! Edge cases follow the reference interpreter: NaN propagates through `max`, `min`,
//! `relu` and `sign`; comparisons (`step`, `greater_eq`) are false for NaN.

use super::loops::{Lg, LANES};
use super::math;
use crate::ir::{unary_ops, Binary, Unary};
use cranelift_codegen::ir::condcodes::FloatCC;
use cranelift_codegen::ir::{types, InstBuilder, Value};
use cranelift_frontend::FunctionBuilder;

/// Whether `x ^ c` is computed by repeated multiplication (as the interpreter's `powi`).
fn is_integer_power(c: f64) -> bool {
    c.fract() == 0.0 && c.abs() <= i32::MAX as f64
}

/// `$host`, or `None` for a row without a `host` column.
macro_rules! host_or_none {
    () => {
        None
    };
    ($host:expr) => {
        $host
    };
}

/// The lowering's `match`es over [`Unary`]: the `lower` and `host` columns of
/// `ir/unary_table.rs`.
macro_rules! lower_unary {
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
        /// The host routine a function calls per element, if it is not inline code.
        pub(super) fn host_call(u: Unary) -> Option<&'static str> {
            match u {
                $( Unary::$op $(($p))? => {
                    $( let _ = $p; )?
                    host_or_none!($($host)?)
                } )*
            }
        }

        impl Lg<'_, '_> {
            /// `u(x)` for a scalar or vector `x`.
            pub(super) fn unary(&mut self, u: Unary, x: Value) -> Value {
                match u {
                    $( Unary::$op $(($p))? => {
                        let ($ll, $lx) = (&mut *self, x);
                        $lower
                    } )*
                }
            }
        }
    };
}

unary_ops!(lower_unary);

/// `-1, 0, 1` by the sign of `x`; 0 and NaN stay themselves.
fn sign(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = fb.func.dfg.value_type(x);
    let zero = math::fconst(fb, t, 0.0);
    let gt = fb.ins().fcmp(FloatCC::GreaterThan, x, zero);
    let lt = fb.ins().fcmp(FloatCC::LessThan, x, zero);
    let one = math::fconst(fb, t, 1.0);
    let minus = math::fconst(fb, t, -1.0);
    let r = math::sel(fb, lt, minus, x);
    math::sel(fb, gt, one, r)
}

/// `1 if x > 0 else 0` (0 for NaN).
fn step(fb: &mut FunctionBuilder, x: Value) -> Value {
    let t = fb.func.dfg.value_type(x);
    let zero = math::fconst(fb, t, 0.0);
    let gt = fb.ins().fcmp(FloatCC::GreaterThan, x, zero);
    math::mask_to_one(fb, gt)
}

/// `x if x > 0 else alpha * x`.
fn leaky_relu(fb: &mut FunctionBuilder, x: Value, alpha: f64) -> Value {
    let t = fb.func.dfg.value_type(x);
    let zero = math::fconst(fb, t, 0.0);
    let gt = fb.ins().fcmp(FloatCC::GreaterThan, x, zero);
    let alpha = math::fconst(fb, t, alpha as f32);
    let ax = fb.ins().fmul(x, alpha);
    math::sel(fb, gt, x, ax)
}

impl Lg<'_, '_> {
    /// `b(x, y)` for operands of one type.
    pub(super) fn binary(&mut self, b: Binary, x: Value, y: Value) -> Value {
        let fb = &mut *self.fb;
        match b {
            Binary::Add => fb.ins().fadd(x, y),
            Binary::Sub => fb.ins().fsub(x, y),
            Binary::Mul => fb.ins().fmul(x, y),
            Binary::Div => fb.ins().fdiv(x, y),
            Binary::Max => pick(fb, FloatCC::GreaterThanOrEqual, x, y),
            Binary::Min => pick(fb, FloatCC::LessThanOrEqual, x, y),
            Binary::GreaterEq => {
                let ge = fb.ins().fcmp(FloatCC::GreaterThanOrEqual, x, y);
                math::mask_to_one(fb, ge)
            }
        }
    }

    /// `x ^ c`: repeated squaring for integer `c` (as `powi`), `sqrt` for one half, the
    /// host's `powf` otherwise.
    fn pow(&mut self, x: Value, c: f64) -> Value {
        let t = self.fb.func.dfg.value_type(x);
        let fb = &mut *self.fb;
        if is_integer_power(c) {
            let mut n = c.abs() as u64;
            let mut acc: Option<Value> = None;
            let mut base = x;
            while n > 0 {
                if n & 1 == 1 {
                    acc = Some(match acc {
                        Some(a) => fb.ins().fmul(a, base),
                        None => base,
                    });
                }
                n >>= 1;
                if n > 0 {
                    base = fb.ins().fmul(base, base);
                }
            }
            let r = acc.unwrap_or_else(|| math::fconst(fb, t, 1.0));
            if c < 0.0 {
                let one = math::fconst(fb, t, 1.0);
                return fb.ins().fdiv(one, r);
            }
            return r;
        }
        if c == 0.5 {
            // sqrt(-inf) is NaN but (-inf)^0.5 is inf.
            let s = fb.ins().sqrt(x);
            let ninf = math::fconst(fb, t, f32::NEG_INFINITY);
            let is_ninf = fb.ins().fcmp(FloatCC::Equal, x, ninf);
            let inf = math::fconst(fb, t, f32::INFINITY);
            return math::sel(fb, is_ninf, inf, s);
        }
        self.call_lanes("nnc_powf", x, Some(c as f32))
    }

    /// Calls a scalar host function on each lane.
    fn call_lanes(&mut self, name: &'static str, x: Value, extra: Option<f32>) -> Value {
        let f = self.hosts[name];
        let t = self.fb.func.dfg.value_type(x);
        let one = |fb: &mut cranelift_frontend::FunctionBuilder, v: Value| {
            let mut args = vec![v];
            if let Some(c) = extra {
                args.push(fb.ins().f32const(c));
            }
            let call = fb.ins().call(f, &args);
            fb.inst_results(call)[0]
        };
        if !t.is_vector() {
            return one(self.fb, x);
        }
        let lanes: Vec<Value> = (0..LANES as u8)
            .map(|l| {
                let e = self.fb.ins().extractlane(x, l);
                one(self.fb, e)
            })
            .collect();
        let mut v = self.fb.ins().scalar_to_vector(types::F32X4, lanes[0]);
        for (l, &r) in lanes.iter().enumerate().skip(1) {
            v = self.fb.ins().insertlane(v, r, l as u8);
        }
        v
    }
}

/// `x` if `x cc y` else `y`, and `x + y` (NaN) if either is NaN.
fn pick(fb: &mut cranelift_frontend::FunctionBuilder, cc: FloatCC, x: Value, y: Value) -> Value {
    let c = fb.ins().fcmp(cc, x, y);
    let r = math::sel(fb, c, x, y);
    let uno = fb.ins().fcmp(FloatCC::Unordered, x, y);
    let s = fb.ins().fadd(x, y);
    math::sel(fb, uno, s, r)
}
