//! Accuracy of the inline vectorised transcendentals against the platform's libm (in
//! f64, rounded to f32), over sweeps that include the extremes. The bounds asserted here
//! are the ones documented in `src/codegen/math.rs`.

mod jit_util;
use jit_util::*;
use nnc::ir::{Graph, Op, Unary};
use nnc::runtime::{Executable, OptLevel};

/// Distance in units in the last place (NaN equals NaN; infinities only equal themselves).
fn ulps(a: f32, b: f32) -> u64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return u64::MAX;
    }
    let key = |x: f32| {
        let i = x.to_bits() as i32;
        if i < 0 {
            -((i & 0x7fff_ffff) as i64)
        } else {
            i as i64
        }
    };
    (key(a) - key(b)).unsigned_abs()
}

/// The JIT's `u` on `xs` (vector lanes and the scalar tail both exercised).
fn eval(u: Unary, xs: &[f32]) -> Vec<f32> {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[xs.len() as u64]));
    let y = op(&mut g, Op::Unary(u), &[x]);
    g.outputs.push(("y".into(), y));
    let exe = Executable::compile(&g, &bindings(&[]), &opts(OptLevel::O1)).unwrap();
    let r = exe.run_tensors(&[t(&[xs.len()], xs)], &mut []).unwrap();
    r.outputs[0].as_f32().unwrap().to_vec()
}

fn sweep(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    (0..=n).map(|i| lo + (hi - lo) * (i as f32 / n as f32)).collect()
}

/// Powers of two times a few mantissas, from the smallest subnormal to the largest float.
fn magnitudes() -> Vec<f32> {
    let mut v = Vec::new();
    for e in -149..=127 {
        for m in [1.0f32, 1.1, 1.5, 1.9] {
            let x = m * 2f32.powi(e.max(-126)) * if e < -126 { 2f32.powi(e + 126) } else { 1.0 };
            if x.is_finite() && x > 0.0 {
                v.push(x);
            }
        }
    }
    v
}

fn worst(u: Unary, xs: &[f32], f: impl Fn(f64) -> f64) -> (u64, f32, f32, f32) {
    let got = eval(u, xs);
    let mut w = (0, 0.0, 0.0, 0.0);
    for (&x, &g) in xs.iter().zip(&got) {
        let want = f(x as f64) as f32;
        let d = ulps(g, want);
        if d > w.0 {
            w = (d, x, g, want);
        }
    }
    w
}

fn assert_ulps(name: &str, u: Unary, xs: &[f32], f: impl Fn(f64) -> f64, bound: u64) {
    let (d, x, g, want) = worst(u, xs, f);
    assert!(d <= bound, "{name}: {d} ulp at x = {x:e}: got {g:e}, want {want:e}");
}

#[test]
fn exp_is_within_two_ulp_and_saturates() {
    assert_ulps("exp", Unary::Exp, &sweep(-87.0, 88.7, 200_001), f64::exp, 2);
    assert_ulps("exp small", Unary::Exp, &sweep(-1e-3, 1e-3, 10_001), f64::exp, 2);
    let edges = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        88.73,
        89.0,
        1e30,
        -1e30,
        -104.0,
    ];
    let got = eval(Unary::Exp, &edges);
    assert_eq!(got[0], f32::INFINITY);
    assert_eq!(got[1], 0.0);
    assert!(got[2].is_nan());
    assert_eq!(&got[3..6], &[f32::INFINITY; 3]);
    assert_eq!(&got[6..], &[0.0, 0.0]);
    // Gradual underflow: subnormal results are close in absolute terms.
    for (x, g) in sweep(-103.0, -87.5, 1000)
        .into_iter()
        .zip(eval(Unary::Exp, &sweep(-103.0, -87.5, 1000)))
    {
        assert!((g as f64 - (x as f64).exp()).abs() <= 2.0 * 1.4e-45, "exp({x}) = {g}");
    }
}

#[test]
fn log_is_within_two_ulp_including_subnormals() {
    assert_ulps("log", Unary::Log, &magnitudes(), f64::ln, 2);
    assert_ulps("log near 1", Unary::Log, &sweep(0.5, 2.0, 100_001), f64::ln, 2);
    let got = eval(
        Unary::Log,
        &[0.0, -0.0, -1.0, f32::INFINITY, f32::NAN, f32::NEG_INFINITY],
    );
    assert_eq!(&got[..2], &[f32::NEG_INFINITY; 2]);
    assert!(got[2].is_nan());
    assert_eq!(got[3], f32::INFINITY);
    assert!(got[4].is_nan() && got[5].is_nan());
}

#[test]
fn tanh_is_within_two_ulp_and_exact_at_the_extremes() {
    assert_ulps("tanh", Unary::Tanh, &sweep(-12.0, 12.0, 200_001), f64::tanh, 2);
    assert_ulps("tanh small", Unary::Tanh, &sweep(-0.01, 0.01, 20_001), f64::tanh, 2);
    let got = eval(
        Unary::Tanh,
        &[f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, f32::NAN, 1e-30],
    );
    assert_eq!(&got[..4], &[1.0, -1.0, 1.0, -1.0]);
    assert!(got[4].is_nan());
    assert_eq!(got[5], 1e-30);
}

fn rel_err(u: Unary, xs: &[f32], f: impl Fn(f64) -> f64) -> f64 {
    let got = eval(u, xs);
    xs.iter()
        .zip(&got)
        .map(|(&x, &g)| {
            let w = f(x as f64);
            if w.abs() < f32::MIN_POSITIVE as f64 {
                // Subnormal results: a few units of the smallest subnormal.
                ((g as f64 - w).abs() > 4.0 * 1.4e-45) as u8 as f64
            } else {
                ((g as f64 - w) / w).abs()
            }
        })
        .fold(0.0, f64::max)
}

#[test]
fn sigmoid_and_softplus_have_small_relative_error_everywhere() {
    let xs = sweep(-100.0, 100.0, 100_001);
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let sp = |x: f64| if x > 30.0 { x + (-x).exp() } else { x.exp().ln_1p() };
    let e = rel_err(Unary::Sigmoid, &xs, sig);
    assert!(e < 1e-6, "sigmoid relative error {e}");
    let e = rel_err(Unary::Softplus, &xs, sp);
    assert!(e < 1e-6, "softplus relative error {e}");
    // The far tails: no overflow, no NaN.
    let got = eval(Unary::Softplus, &[1e30, -1e30, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(got, vec![1e30, 0.0, f32::INFINITY, 0.0]);
    let got = eval(Unary::Sigmoid, &[1e30, -1e30, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(got, vec![1.0, 0.0, 1.0, 0.0]);
}
