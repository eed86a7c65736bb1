//! Conformance cases built by hand in IR (as the front end will lower them), evaluated
//! by the interpreter in f32 and f64 with gradients from `autodiff`, against the values
//! of an independent float64 implementation in `tests/conformance/`.

mod grad_util;

use grad_util::*;
use nnc::ir::{Binary, DType, Dim, Graph, Init, NodeId, Op, Reduce, Shape, TensorType, Unary, F64};

fn n() -> Dim {
    Dim::var("N")
}
fn shape_n(rest: &[u64]) -> Shape {
    let mut d = vec![n()];
    d.extend(rest.iter().map(|&k| Dim::lit(k)));
    Shape(d)
}
fn labels(g: &mut Graph, name: &str) -> NodeId {
    g.add_input(
        name,
        TensorType {
            dtype: DType::I32,
            shape: Shape(vec![n()]),
        },
        None,
    )
}
fn p(g: &mut Graph, name: &str, dims: &[usize]) -> NodeId {
    g.add_param(name, lit(dims), Init::Const(0.0), None)
}

#[test]
fn linear_mse() {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", shape_n(&[3]));
    let t = f32_input(&mut g, "t", shape_n(&[2]));
    let w = p(&mut g, "W", &[3, 2]);
    let b = p(&mut g, "b", &[2]);
    let y = dense(&mut g, x, w, b);
    g.outputs.push(("y".into(), y));
    g.loss = Some(mse(&mut g, y, t));
    run_conformance("linear_mse", g, true, 1e-4);
}

#[test]
fn mlp_cross_entropy() {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", shape_n(&[12]));
    let y = labels(&mut g, "y");
    let names = [("W1", "b1", [12, 8]), ("W2", "b2", [8, 6]), ("W3", "b3", [6, 4])];
    let mut layers = Vec::new();
    for (w, b, s) in names {
        let wn = p(&mut g, w, &s);
        let bn = p(&mut g, b, &[s[1]]);
        layers.push((wn, bn));
    }
    let h1 = dense(&mut g, x, layers[0].0, layers[0].1);
    let h1 = un(&mut g, Unary::Relu, h1);
    let h2 = dense(&mut g, h1, layers[1].0, layers[1].1);
    let h2 = un(&mut g, Unary::Relu, h2);
    let logits = dense(&mut g, h2, layers[2].0, layers[2].1);
    g.outputs.push(("logits".into(), logits));
    let probs = softmax(&mut g, logits, 1);
    g.outputs.push(("probs".into(), probs));
    g.loss = Some(cross_entropy(&mut g, logits, y));
    run_conformance("mlp_cross_entropy", g, false, 1e-4);
}

#[test]
fn gradient_penalty_trains_through_a_grad() {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", shape_n(&[4]));
    let y = labels(&mut g, "y");
    let w1 = p(&mut g, "W1", &[4, 5]);
    let w2 = p(&mut g, "W2", &[5, 3]);
    let h = matmul(&mut g, x, w1);
    let h = un(&mut g, Unary::Tanh, h);
    let logits = matmul(&mut g, h, w2);
    let ce = cross_entropy(&mut g, logits, y);
    let gx = add(&mut g, Op::Grad, &[ce, x]);
    g.outputs.push(("gx".into(), gx));
    let sq = un(&mut g, Unary::Pow(F64(2.0)), gx);
    let s = sum_all(&mut g, sq);
    let k = konst(&mut g, 0.1);
    let pen = bin(&mut g, Binary::Mul, k, s);
    g.loss = Some(bin(&mut g, Binary::Add, ce, pen));
    run_conformance("gradient_penalty", g, false, 1e-4);
}

#[test]
fn reductions() {
    let mut g = Graph::new();
    let u = f32_input(&mut g, "u", lit(&[5]));
    let v = f32_input(&mut g, "v", lit(&[4]));
    let x = p(&mut g, "x", &[4, 5]);
    let s0 = reduce(&mut g, Reduce::Sum, &[0], x);
    g.outputs.push(("s0".into(), s0));
    let m1 = reduce(&mut g, Reduce::Sum, &[1], x);
    let k = konst_per(&mut g, 1.0, Dim::lit(5));
    let m1 = bin(&mut g, Binary::Mul, m1, k);
    let m1 = reshape(&mut g, m1, lit(&[4, 1]));
    g.outputs.push(("m1".into(), m1));
    let mx = reduce(&mut g, Reduce::Max, &[1], x);
    g.outputs.push(("mx".into(), mx));
    let lse = reduce(&mut g, Reduce::LogSumExp, &[0], x);
    g.outputs.push(("lse".into(), lse));
    let total = sum_all(&mut g, x);
    let mean = mean_all(&mut g, x);
    let max = reduce(&mut g, Reduce::Max, &[0, 1], x);
    let all = bin(&mut g, Binary::Add, total, mean);
    let all = bin(&mut g, Binary::Add, all, max);
    g.outputs.push(("all".into(), all));
    let terms = [
        bin(&mut g, Binary::Mul, s0, u),
        {
            let d = bin(&mut g, Binary::Sub, x, m1);
            un(&mut g, Unary::Pow(F64(2.0)), d)
        },
        bin(&mut g, Binary::Mul, mx, v),
        lse,
    ];
    let mut loss = all;
    for t in terms {
        let s = sum_all(&mut g, t);
        loss = bin(&mut g, Binary::Add, s, loss);
    }
    g.loss = Some(loss);
    run_conformance("reductions", g, false, 1e-4);
}

#[test]
fn activations_min_max() {
    let mut g = Graph::new();
    let w = f32_input(&mut g, "w", lit(&[3, 4]));
    let x = p(&mut g, "x", &[3, 4]);
    let y = p(&mut g, "y", &[4]);
    let a = gelu(&mut g, x);
    let l1 = un(&mut g, Unary::LeakyRelu(F64(0.01)), x);
    let l2 = un(&mut g, Unary::LeakyRelu(F64(0.2)), x);
    let mx = bin(&mut g, Binary::Max, x, y);
    let k = konst(&mut g, 0.3);
    let y3 = bin(&mut g, Binary::Mul, k, y);
    let mn = bin(&mut g, Binary::Min, x, y3);
    let v = bin(&mut g, Binary::Add, a, l1);
    let v = bin(&mut g, Binary::Add, v, l2);
    let v = bin(&mut g, Binary::Add, v, mx);
    let v = bin(&mut g, Binary::Sub, v, mn);
    g.outputs.push(("v".into(), v));
    let vw = bin(&mut g, Binary::Mul, v, w);
    g.loss = Some(sum_all(&mut g, vw));
    run_conformance("activations_min_max", g, false, 1e-4);
}

#[test]
fn large_logits_stay_finite() {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", shape_n(&[6]));
    let y = labels(&mut g, "y");
    let s = p(&mut g, "s", &[6]);
    let lg = bin(&mut g, Binary::Mul, s, x);
    let pr = softmax(&mut g, lg, 1);
    g.outputs.push(("p".into(), pr));
    let lse = reduce(&mut g, Reduce::LogSumExp, &[1], lg);
    g.outputs.push(("lse".into(), lse));
    let ce = cross_entropy(&mut g, lg, y);
    let ls = log_softmax(&mut g, lg, 1);
    let k = konst(&mut g, 0.001);
    let t = bin(&mut g, Binary::Mul, ls, k);
    let t = sum_all(&mut g, t);
    g.loss = Some(bin(&mut g, Binary::Add, ce, t));
    run_conformance("large_logits_stable", g, false, 1e-3);
}
