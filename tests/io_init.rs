//! Param initialisation: determinism, per-param streams, and each initialiser's statistics.

use nnc::io::{fans, init_params, IoError};
use nnc::ir::{Bindings, Dim, Graph, Init, Shape};
use nnc::tensor::Tensor;
use std::sync::Arc;

fn graph(params: &[(&str, &[u64], Init)]) -> Graph {
    let mut g = Graph::new();
    for (name, dims, init) in params {
        g.add_param(name, Shape::lit(dims), init.clone(), None);
    }
    g
}

fn one(dims: &[u64], init: Init, seed: u64) -> Vec<f32> {
    let t = init_params(&graph(&[("p", dims, init)]), &Bindings::new(), seed).unwrap();
    t[0].as_f32().unwrap().to_vec()
}

fn mean_std(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Checks mean and std of a large sample; the tolerances are several standard errors
/// wide, yet a wrong formula (a missing factor 2, fan_out for fan_in) is far outside.
fn assert_stats(v: &[f32], mean: f64, std: f64, what: &str) {
    let (m, s) = mean_std(v);
    assert!(
        (m - mean).abs() < 0.02 * std + 1e-9,
        "{what}: mean {m}, expected {mean}"
    );
    assert!((s - std).abs() < 0.03 * std, "{what}: std {s}, expected {std}");
}

#[test]
fn deterministic_for_a_seed_and_different_for_another() {
    let g = graph(&[("W", &[30, 20], Init::GlorotUniform), ("V", &[50], Init::HeNormal)]);
    let a = init_params(&g, &Bindings::new(), 7).unwrap();
    let b = init_params(&g, &Bindings::new(), 7).unwrap();
    let c = init_params(&g, &Bindings::new(), 8).unwrap();
    assert_eq!(a, b);
    assert_ne!(a[0], c[0]);
    assert_ne!(a[1], c[1]);
    assert_eq!(a[0].shape, vec![30, 20]);
    // Two params with the same shape and initialiser still get different values.
    let g2 = graph(&[("A", &[10], Init::HeNormal), ("B", &[10], Init::HeNormal)]);
    let t = init_params(&g2, &Bindings::new(), 0).unwrap();
    assert_ne!(t[0], t[1]);
}

#[test]
fn adding_or_reordering_params_does_not_change_the_others() {
    let small = graph(&[
        ("W1", &[8, 4], Init::HeUniform),
        ("b1", &[4], Init::Normal { mean: 0.0, std: 1.0 }),
    ]);
    let big = graph(&[
        ("W0", &[3, 3], Init::GlorotNormal),
        ("b1", &[4], Init::Normal { mean: 0.0, std: 1.0 }),
        ("W1", &[8, 4], Init::HeUniform),
    ]);
    let s = init_params(&small, &Bindings::new(), 42).unwrap();
    let b = init_params(&big, &Bindings::new(), 42).unwrap();
    assert_eq!(s[0], b[2]);
    assert_eq!(s[1], b[1]);
}

#[test]
fn constants_fill_exactly() {
    assert!(one(&[3, 2], Init::Const(0.0), 1).iter().all(|&x| x == 0.0));
    assert!(one(&[5], Init::Const(1.0), 1).iter().all(|&x| x == 1.0));
    assert_eq!(one(&[], Init::Const(-2.5), 1), vec![-2.5]);
}

#[test]
fn normal_has_the_requested_mean_and_std() {
    let v = one(&[100_000], Init::Normal { mean: 3.0, std: 0.5 }, 1);
    assert_stats(&v, 3.0, 0.5, "normal");
    // Gaussian, not uniform: about 68% within one std.
    let within = v.iter().filter(|&&x| (x - 3.0).abs() < 0.5).count() as f64 / v.len() as f64;
    assert!((within - 0.6827).abs() < 0.01, "fraction within 1 std: {within}");
}

#[test]
fn uniform_stays_in_bounds_with_the_right_moments() {
    let v = one(&[100_000], Init::Uniform { lo: -1.0, hi: 3.0 }, 2);
    assert!(v.iter().all(|&x| (-1.0..3.0).contains(&x)));
    assert_stats(&v, 1.0, 4.0 / 12f64.sqrt(), "uniform");
    assert!(v.iter().any(|&x| x < -0.99) && v.iter().any(|&x| x > 2.99));
}

#[test]
fn he_normal_uses_fan_in_dim_0() {
    let v = one(&[400, 250], Init::HeNormal, 3);
    assert_stats(&v, 0.0, (2.0f64 / 400.0).sqrt(), "he_normal");
}

#[test]
fn he_uniform_bound_is_sqrt_6_over_fan_in() {
    let v = one(&[400, 250], Init::HeUniform, 4);
    let bound = (6.0f64 / 400.0).sqrt() as f32;
    assert!(v.iter().all(|&x| x >= -bound && x < bound));
    assert!(v.iter().any(|&x| x > 0.99 * bound) && v.iter().any(|&x| x < -0.99 * bound));
    assert_stats(&v, 0.0, bound as f64 / 3f64.sqrt(), "he_uniform");
}

#[test]
fn glorot_uses_fan_in_plus_fan_out() {
    let v = one(&[400, 100], Init::GlorotNormal, 5);
    assert_stats(&v, 0.0, (2.0f64 / 500.0).sqrt(), "glorot_normal");
    let v = one(&[400, 100], Init::GlorotUniform, 6);
    let bound = (6.0f64 / 500.0).sqrt() as f32;
    assert!(v.iter().all(|&x| x >= -bound && x < bound));
    assert!(v.iter().any(|&x| x > 0.99 * bound));
    assert_stats(&v, 0.0, bound as f64 / 3f64.sqrt(), "glorot_uniform");
}

#[test]
fn fans_of_other_ranks_follow_the_documented_rule() {
    assert_eq!(fans(&[]), (1.0, 1.0));
    assert_eq!(fans(&[7]), (7.0, 7.0));
    assert_eq!(fans(&[3, 5]), (3.0, 5.0));
    assert_eq!(fans(&[3, 5, 2, 4]), (24.0, 40.0));
    let v = one(&[100, 10, 5, 20], Init::HeNormal, 9);
    assert_stats(&v, 0.0, (2.0f64 / 10_000.0).sqrt(), "he_normal rank 4");
    let v = one(&[100_000], Init::GlorotNormal, 9);
    assert_stats(&v, 0.0, (2.0f64 / 200_000.0).sqrt(), "glorot_normal rank 1");
}

#[test]
fn size_variables_come_from_bindings_and_unbound_ones_name_the_param() {
    let mut g = Graph::new();
    g.add_param("W", Shape(vec![Dim::var("D"), Dim::lit(3)]), Init::HeNormal, None);
    let mut b = Bindings::new();
    b.insert(Arc::from("D"), 4);
    let t = init_params(&g, &b, 0).unwrap();
    assert_eq!(t[0].shape, vec![4, 3]);
    let err = init_params(&g, &Bindings::new(), 0).unwrap_err();
    assert!(matches!(err, IoError::Unbound { ref name, ref var } if name == "W" && var == "D"));
    assert!(err.to_string().contains("`W`"));
}

#[test]
fn invalid_initialisers_are_errors_naming_the_param() {
    for init in [
        Init::Normal { mean: 0.0, std: -1.0 },
        Init::Uniform { lo: 2.0, hi: 1.0 },
        Init::Const(f64::NAN),
    ] {
        let err = init_params(&graph(&[("bad", &[2], init)]), &Bindings::new(), 0).unwrap_err();
        assert!(err.to_string().contains("`bad`"), "{err}");
    }
    let huge = graph(&[("big", &[1 << 40, 1 << 30], Init::Const(0.0))]);
    assert!(init_params(&huge, &Bindings::new(), 0).is_err());
}

#[test]
fn empty_params_are_fine() {
    let t = init_params(&graph(&[("e", &[0, 5], Init::HeNormal)]), &Bindings::new(), 0).unwrap();
    assert_eq!(t[0], Tensor::f32(vec![0, 5], vec![]));
}

/// Values from an independent Python implementation of the scheme in the `io::init` docs
/// (ChaCha8 written out from the specification, SHA-256 from hashlib), so the docs are
/// enough for another tool to reproduce nnc's params.
#[test]
fn values_match_an_independent_implementation_of_the_documented_scheme() {
    let n = init_params(
        &graph(&[("W", &[4], Init::Normal { mean: 0.0, std: 1.0 })]),
        &Bindings::new(),
        0,
    )
    .unwrap();
    assert_eq!(
        widen(&n[0]),
        [
            0.1706947684288025,
            1.1510818004608154,
            0.3146108388900757,
            -2.3862547874450684
        ]
    );
    let u = init_params(
        &graph(&[("b1", &[4], Init::Uniform { lo: -1.0, hi: 1.0 })]),
        &Bindings::new(),
        42,
    )
    .unwrap();
    assert_eq!(
        widen(&u[0]),
        [
            0.809095561504364,
            -0.17648006975650787,
            -0.9829732179641724,
            -0.6844660639762878
        ]
    );
}

/// The f32 values as f64 (exactly), to compare with the f64 printout of the reference.
fn widen(t: &Tensor) -> Vec<f64> {
    t.as_f32().unwrap().iter().map(|&x| x as f64).collect()
}
