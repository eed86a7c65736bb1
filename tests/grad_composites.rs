//! Gradients of the language's composites (expanded into primitives by hand, as `sema`
//! does) against closed-form derivatives written independently in plain Rust, and the
//! numerical stability of the softmax family at logits of size 1e3.

mod grad_util;

use grad_util::*;
use nnc::autodiff::gradients;
use nnc::interp::{eval_nodes_from, NodeValue, Value};
use nnc::ir::{Binary, DType, Graph, NodeId, TensorType};

const N: usize = 4;
const C: usize = 5;

/// Row-wise softmax of an `N x C` matrix, the textbook way.
fn softmax_rows(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    for n in 0..N {
        let row = &x[n * C..(n + 1) * C];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for c in 0..C {
            out[n * C + c] = (row[c] - m).exp() / z;
        }
    }
    out
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: got {g}, want {w}");
    }
}

/// A graph `L = sum(f(x) * u)` with `x: [N, C]` a param and `u` an input; returns
/// (graph, x, f(x), dL/dx).
fn projected(f: impl Fn(&mut Graph, NodeId) -> NodeId) -> (Graph, NodeId, NodeId, NodeId) {
    let mut g = Graph::new();
    let u = f32_input(&mut g, "u", lit(&[N, C]));
    let x = param(&mut g, "x", lit(&[N, C]));
    let y = f(&mut g, x);
    let p = bin(&mut g, Binary::Mul, y, u);
    let l = sum_all(&mut g, p);
    let dx = gradients(&mut g, l, &[x]).unwrap()[0];
    verified(&g);
    (g, u, y, dx)
}

fn data(seed: u64, scale: f64) -> (Vec<f64>, Vec<f64>) {
    let mut r = rng(seed);
    let x = draw(&mut r, N * C, Domain::Any).iter().map(|v| v * scale).collect();
    let u = draw(&mut r, N * C, Domain::Any);
    (x, u)
}

#[test]
fn softmax_gradient_is_s_times_u_minus_its_row_mean_under_s() {
    let (x, u) = data(1, 1.0);
    let (g, _, y, dx) = projected(|g, x| softmax(g, x, 1));
    let nv = eval_f64(
        &g,
        &[y, dx],
        &[NodeValue::F(Value::new(vec![N, C], u.clone()))],
        &[Value::new(vec![N, C], x.clone())],
    );
    let s = softmax_rows(&x);
    let mut want = vec![0.0; N * C];
    for n in 0..N {
        let su: f64 = (0..C).map(|c| s[n * C + c] * u[n * C + c]).sum();
        for c in 0..C {
            want[n * C + c] = s[n * C + c] * (u[n * C + c] - su);
        }
    }
    assert_close(&values_of(&nv, y), &s, 1e-13, "softmax");
    assert_close(&values_of(&nv, dx), &want, 1e-13, "d softmax");
}

#[test]
fn log_softmax_gradient_is_u_minus_s_times_row_sum_of_u() {
    let (x, u) = data(2, 1.0);
    let (g, _, y, dx) = projected(|g, x| log_softmax(g, x, 1));
    let nv = eval_f64(
        &g,
        &[y, dx],
        &[NodeValue::F(Value::new(vec![N, C], u.clone()))],
        &[Value::new(vec![N, C], x.clone())],
    );
    let s = softmax_rows(&x);
    let mut want = vec![0.0; N * C];
    for n in 0..N {
        let su: f64 = (0..C).map(|c| u[n * C + c]).sum();
        for c in 0..C {
            want[n * C + c] = u[n * C + c] - s[n * C + c] * su;
        }
    }
    let logs: Vec<f64> = s.iter().map(|v| v.ln()).collect();
    assert_close(&values_of(&nv, y), &logs, 1e-13, "log_softmax");
    assert_close(&values_of(&nv, dx), &want, 1e-13, "d log_softmax");
}

fn cross_entropy_graph() -> (Graph, NodeId, NodeId) {
    let mut g = Graph::new();
    let y = g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: lit(&[N]),
        },
        None,
    );
    let x = param(&mut g, "logits", lit(&[N, C]));
    let l = cross_entropy(&mut g, x, y);
    let dx = gradients(&mut g, l, &[x]).unwrap()[0];
    verified(&g);
    (g, l, dx)
}

fn cross_entropy_check(scale: f64, tol: f64) {
    let labels = vec![3i32, 0, 4, 1];
    let (x, _) = data(3, scale);
    let (g, l, dx) = cross_entropy_graph();
    let inputs = [NodeValue::Labels {
        shape: vec![N],
        data: labels.clone(),
    }];
    let nv = eval_f64(&g, &[l, dx], &inputs, &[Value::new(vec![N, C], x.clone())]);
    let s = softmax_rows(&x);
    let mut want = s.clone();
    let mut loss = 0.0;
    for n in 0..N {
        let k = n * C + labels[n] as usize;
        want[k] -= 1.0;
        // -log s computed without the rounding of s itself, for large logits
        let row = &x[n * C..(n + 1) * C];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        loss += m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - x[k];
    }
    let want: Vec<f64> = want.iter().map(|v| v / N as f64).collect();
    assert_close(&values_of(&nv, l), &[loss / N as f64], tol, "cross_entropy");
    assert_close(&values_of(&nv, dx), &want, tol, "d cross_entropy");
}

#[test]
fn cross_entropy_gradient_is_softmax_minus_one_hot_over_n() {
    cross_entropy_check(1.0, 1e-13);
}

#[test]
fn mse_gradients_are_two_differences_over_the_count() {
    let mut g = Graph::new();
    let a = param(&mut g, "a", lit(&[3, 2]));
    let b = param(&mut g, "b", lit(&[3, 2]));
    let l = mse(&mut g, a, b);
    let d = gradients(&mut g, l, &[a, b]).unwrap();
    verified(&g);
    let mut r = rng(4);
    let (av, bv) = (draw(&mut r, 6, Domain::Any), draw(&mut r, 6, Domain::Any));
    let nv = eval_f64(
        &g,
        &[l, d[0], d[1]],
        &[],
        &[Value::new(vec![3, 2], av.clone()), Value::new(vec![3, 2], bv.clone())],
    );
    let diff: Vec<f64> = av.iter().zip(&bv).map(|(x, y)| x - y).collect();
    let loss: f64 = diff.iter().map(|d| d * d).sum::<f64>() / 6.0;
    assert_close(&values_of(&nv, l), &[loss], 1e-14, "mse");
    let da: Vec<f64> = diff.iter().map(|d| 2.0 * d / 6.0).collect();
    let db: Vec<f64> = da.iter().map(|v| -v).collect();
    assert_close(&values_of(&nv, d[0]), &da, 1e-14, "d mse / da");
    assert_close(&values_of(&nv, d[1]), &db, 1e-14, "d mse / db");
}

#[test]
fn gelu_gradient_matches_its_closed_form() {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    let mut g = Graph::new();
    let a = param(&mut g, "a", lit(&[9]));
    let y = gelu(&mut g, a);
    let l = sum_all(&mut g, y);
    let d = gradients(&mut g, l, &[a]).unwrap()[0];
    verified(&g);
    let av: Vec<f64> = (0..9).map(|i| -4.0 + i as f64).collect();
    let nv = eval_f64(&g, &[y, d], &[], &[Value::new(vec![9], av.clone())]);
    let want_y: Vec<f64> = av
        .iter()
        .map(|&x| 0.5 * x * (1.0 + (k * (x + 0.044715 * x.powi(3))).tanh()))
        .collect();
    let want_d: Vec<f64> = av
        .iter()
        .map(|&x| {
            let t = (k * (x + 0.044715 * x.powi(3))).tanh();
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * x * x)
        })
        .collect();
    assert_close(&values_of(&nv, y), &want_y, 1e-14, "gelu");
    assert_close(&values_of(&nv, d), &want_d, 1e-13, "d gelu");
}

#[test]
fn cross_entropy_stays_exact_with_logits_of_size_1e3() {
    cross_entropy_check(1000.0, 1e-12);
}

#[test]
fn softmax_family_is_finite_in_f32_with_logits_of_size_1e3() {
    let mut g = Graph::new();
    let y = g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: lit(&[N]),
        },
        None,
    );
    let x = param(&mut g, "x", lit(&[N, C]));
    let ce = cross_entropy(&mut g, x, y);
    let ls = log_softmax(&mut g, x, 1);
    let sm = softmax(&mut g, x, 1);
    let lse = reduce(&mut g, nnc::ir::Reduce::LogSumExp, &[1], x);
    let t = sum_all(&mut g, ls);
    let k = konst(&mut g, 0.001);
    let t = bin(&mut g, Binary::Mul, t, k);
    let loss = bin(&mut g, Binary::Add, ce, t);
    let dx = gradients(&mut g, loss, &[x]).unwrap()[0];
    verified(&g);
    let (xv, _) = data(5, 1000.0);
    let mut xv: Vec<f32> = xv.iter().map(|&v| v as f32).collect();
    xv[0] = 3000.0; // one dominant logit
    xv[1] = -3000.0;
    let inputs = [NodeValue::Labels {
        shape: vec![N],
        data: vec![1, 2, 3, 4],
    }];
    let nv = eval_nodes_from::<f32>(
        &g,
        &[loss, dx, sm, lse, ls],
        &Default::default(),
        &inputs,
        &[Value::new(vec![N, C], xv)],
    )
    .unwrap();
    for (what, id) in [
        ("loss", loss),
        ("grad", dx),
        ("softmax", sm),
        ("logsumexp", lse),
        ("log_softmax", ls),
    ] {
        let v = &nv.f(id).unwrap().data;
        assert!(v.iter().all(|x| x.is_finite()), "{what} is not finite: {v:?}");
    }
    let s: f32 = nv.f(sm).unwrap().data[..C].iter().sum();
    assert!((s - 1.0).abs() < 1e-6, "softmax row sums to {s}");
    assert_eq!(nv.f(lse).unwrap().data[0], 3000.0);
}
