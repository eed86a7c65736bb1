//! Every op through the JIT on hand-built graphs, checked against values computed
//! directly in the test (f64 formulas and naive loops), at both optimisation levels.

mod jit_util;
use jit_util::*;
use nnc::ir::{Binary, Dim, Graph, Op, Reduce, Shape, Unary, F64};
use nnc::tensor::Tensor;

fn one_output(g: &mut Graph, y: nnc::ir::NodeId) {
    g.outputs.push(("y".into(), y));
}

fn out(r: &nnc::runtime::Results, i: usize) -> Vec<f32> {
    r.outputs[i].as_f32().unwrap().to_vec()
}

#[test]
fn add_constant() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[5]));
    let c = g.constant(1.5, Default::default());
    let y = op(&mut g, Op::Binary(Binary::Add), &[x, c]);
    one_output(&mut g, y);
    let r = run_both(&g, &bindings(&[]), &[t(&[5], &[1., 2., 3., 4., 5.])], &[]);
    assert_close(&out(&r, 0), &[2.5, 3.5, 4.5, 5.5, 6.5], 0.0, "y");
}

fn check_unary(u: Unary, xs: &[f32], f: impl Fn(f64) -> f64, tol: f32) {
    let n = xs.len();
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[n as u64]));
    let y = op(&mut g, Op::Unary(u), &[x]);
    one_output(&mut g, y);
    let r = run_both(&g, &bindings(&[]), &[t(&[n], xs)], &[]);
    let want: Vec<f32> = xs.iter().map(|&v| f(v as f64) as f32).collect();
    assert_close(&out(&r, 0), &want, tol, &format!("{u:?}"));
}

#[test]
fn unary_functions_match_their_definitions() {
    // 13 elements: three vectors and a scalar tail.
    let xs: Vec<f32> = vec![-3.0, -1.5, -1.0, -0.25, 0.0, 0.1, 0.5, 1.0, 1.7, 2.5, 4.0, -0.0, 7.5];
    let pos: Vec<f32> = xs.iter().map(|v| v.abs() + 0.01).collect();
    let sign = |v: f64| {
        if v > 0.0 {
            1.0
        } else if v < 0.0 {
            -1.0
        } else {
            v
        }
    };
    check_unary(Unary::Neg, &xs, |v| -v, 0.0);
    check_unary(Unary::Exp, &xs, f64::exp, 3e-7);
    check_unary(Unary::Log, &pos, f64::ln, 3e-7);
    check_unary(Unary::Sqrt, &pos, f64::sqrt, 1e-7);
    check_unary(Unary::Abs, &xs, f64::abs, 0.0);
    check_unary(Unary::Sign, &xs, sign, 0.0);
    check_unary(Unary::Tanh, &xs, f64::tanh, 3e-7);
    check_unary(Unary::Sigmoid, &xs, |v| 1.0 / (1.0 + (-v).exp()), 3e-7);
    check_unary(Unary::Relu, &xs, |v| v.max(0.0), 0.0);
    check_unary(Unary::Step, &xs, |v| if v > 0.0 { 1.0 } else { 0.0 }, 0.0);
    check_unary(Unary::Softplus, &xs, |v| v.exp().ln_1p(), 3e-7);
    check_unary(Unary::Sin, &xs, f64::sin, 3e-7);
    check_unary(Unary::Cos, &xs, f64::cos, 3e-7);
    check_unary(Unary::Pow(F64(2.0)), &xs, |v| v * v, 1e-7);
    check_unary(Unary::Pow(F64(3.0)), &xs, |v| v * v * v, 1e-7);
    check_unary(Unary::Pow(F64(-2.0)), &pos, |v| 1.0 / (v * v), 3e-7);
    check_unary(Unary::Pow(F64(0.0)), &xs, |_| 1.0, 0.0);
    check_unary(Unary::Pow(F64(0.5)), &pos, f64::sqrt, 1e-7);
    check_unary(Unary::Pow(F64(1.5)), &pos, |v| v.powf(1.5), 3e-7);
    check_unary(Unary::Pow(F64(-0.7)), &pos, |v| v.powf(-0.7), 3e-7);
    check_unary(
        Unary::LeakyRelu(F64(0.1)),
        &xs,
        |v| if v > 0.0 { v } else { 0.1 * v },
        1e-7,
    );
}

#[test]
fn unary_edge_values_follow_the_reference_semantics() {
    let inf = f32::INFINITY;
    let nan = f32::NAN;
    check_unary(Unary::Exp, &[-inf, inf, nan, 100.0, -200.0], f64::exp, 0.0);
    check_unary(Unary::Log, &[0.0, -1.0, inf, nan, 1e-40], f64::ln, 3e-7);
    check_unary(Unary::Tanh, &[-inf, inf, nan, 20.0, -20.0], f64::tanh, 0.0);
    check_unary(
        Unary::Sigmoid,
        &[-1000.0, 1000.0, -80.0, 80.0, nan],
        |v| 1.0 / (1.0 + (-v).exp()),
        1e-7,
    );
    check_unary(
        Unary::Softplus,
        &[-1000.0, 1000.0, -20.0, 30.0, nan],
        |v| if v > 30.0 { v } else { v.exp().ln_1p() },
        3e-7,
    );
    check_unary(
        Unary::Relu,
        &[nan, -inf, inf, -0.0, 0.0],
        |v| if v > 0.0 || v.is_nan() { v } else { 0.0 },
        0.0,
    );
    check_unary(
        Unary::Sign,
        &[nan, -inf, inf, 0.0, -2.0],
        |v| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
        0.0,
    );
    check_unary(
        Unary::Step,
        &[nan, -inf, inf, 0.0, 1e-30],
        |v| if v > 0.0 { 1.0 } else { 0.0 },
        0.0,
    );
}

fn check_binary(b: Binary, sa: &[usize], sb: &[usize], f: impl Fn(f64, f64) -> f64) {
    let mut g = Graph::new();
    let x = input(
        &mut g,
        "a",
        Shape::lit(&sa.iter().map(|&d| d as u64).collect::<Vec<_>>()),
    );
    let y = input(
        &mut g,
        "b",
        Shape::lit(&sb.iter().map(|&d| d as u64).collect::<Vec<_>>()),
    );
    let z = op(&mut g, Op::Binary(b), &[x, y]);
    one_output(&mut g, z);
    let out_shape: Vec<usize> = g.shape(z).eval(&bindings(&[])).unwrap();
    let (na, nb) = (sa.iter().product(), sb.iter().product());
    let (da, db) = (data(na, 1), data(nb, 2));
    let r = run_both(&g, &bindings(&[]), &[t(sa, &da), t(sb, &db)], &[]);
    let (ba, bb) = (bcast(&da, sa, &out_shape), bcast(&db, sb, &out_shape));
    let want: Vec<f32> = ba
        .iter()
        .zip(&bb)
        .map(|(&p, &q)| f(p as f64, q as f64) as f32)
        .collect();
    assert_close(&out(&r, 0), &want, 1e-7, &format!("{b:?} {sa:?} {sb:?}"));
}

#[test]
fn binary_functions_broadcast_in_every_position() {
    let shapes: &[(&[usize], &[usize])] = &[
        (&[7], &[7]),
        (&[2, 9], &[9]),
        (&[9], &[2, 9]),
        (&[], &[3, 5]),
        (&[3, 5], &[]),
        (&[2, 1], &[1, 6]),
        (&[4, 1], &[4, 6]),
        (&[2, 3, 5], &[3, 1]),
        (&[1, 3, 1], &[2, 1, 5]),
        (&[6, 1, 4], &[6, 5, 4]),
    ];
    for &(sa, sb) in shapes {
        check_binary(Binary::Add, sa, sb, |a, b| a + b);
        check_binary(Binary::Sub, sa, sb, |a, b| a - b);
        check_binary(Binary::Mul, sa, sb, |a, b| a * b);
        check_binary(Binary::Div, sa, sb, |a, b| a / b);
        check_binary(Binary::Max, sa, sb, f64::max);
        check_binary(Binary::Min, sa, sb, f64::min);
        check_binary(Binary::GreaterEq, sa, sb, |a, b| if a >= b { 1.0 } else { 0.0 });
    }
}

#[test]
fn max_min_and_greater_eq_handle_nan_and_ties() {
    let mut g = Graph::new();
    let a = input(&mut g, "a", lit(&[5]));
    let b = input(&mut g, "b", lit(&[5]));
    for bop in [Binary::Max, Binary::Min, Binary::GreaterEq] {
        let z = op(&mut g, Op::Binary(bop), &[a, b]);
        g.outputs.push((format!("{bop:?}"), z));
    }
    let nan = f32::NAN;
    let xa = [1.0, nan, 2.0, 3.0, -1.0];
    let xb = [1.0, 1.0, nan, 2.0, 4.0];
    let r = run_both(&g, &bindings(&[]), &[t(&[5], &xa), t(&[5], &xb)], &[]);
    assert_close(&out(&r, 0), &[1.0, nan, nan, 3.0, 4.0], 0.0, "max");
    assert_close(&out(&r, 1), &[1.0, nan, nan, 2.0, -1.0], 0.0, "min");
    assert_close(&out(&r, 2), &[1.0, 0.0, 0.0, 1.0, 0.0], 0.0, "greater_eq");
}

fn check_reduce(kind: Reduce, shape: &[usize], axes: &[usize]) {
    let mut g = Graph::new();
    let x = input(
        &mut g,
        "x",
        Shape::lit(&shape.iter().map(|&d| d as u64).collect::<Vec<_>>()),
    );
    let y = op(
        &mut g,
        Op::Reduce {
            kind,
            axes: axes.to_vec(),
        },
        &[x],
    );
    one_output(&mut g, y);
    let n = shape.iter().product();
    let d = data(n, 7);
    let r = run_both(&g, &bindings(&[]), &[t(shape, &d)], &[]);
    let want = match kind {
        Reduce::Sum => reduce(&d, shape, axes, 0.0, |a, b| a + b),
        Reduce::Max => reduce(&d, shape, axes, f64::NEG_INFINITY, f64::max),
        Reduce::LogSumExp => {
            let m = reduce(&d, shape, axes, f64::NEG_INFINITY, f64::max);
            let s = reduce(&d, shape, axes, 0.0, |a, b| a + b.exp());
            m.iter().zip(&s).map(|(_, &s)| (s as f64).ln() as f32).collect()
        }
    };
    assert_close(&out(&r, 0), &want, 2e-6, &format!("{kind:?} {shape:?} {axes:?}"));
}

#[test]
fn reductions_over_several_axis_sets() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[13], &[0]),
        (&[4, 9], &[0]),
        (&[4, 9], &[1]),
        (&[4, 9], &[0, 1]),
        (&[3, 4, 5], &[1]),
        (&[3, 4, 5], &[0, 2]),
        (&[3, 4, 5], &[0, 1]),
        (&[3, 4, 5], &[1, 2]),
        (&[3, 4, 5], &[]),
        (&[2, 1, 6], &[1]),
        (&[5, 3], &[0]),
        (&[64, 10], &[1]),
    ];
    for &(shape, axes) in cases {
        for kind in [Reduce::Sum, Reduce::Max, Reduce::LogSumExp] {
            check_reduce(kind, shape, axes);
        }
    }
}

#[test]
fn logsumexp_is_stable_for_large_and_infinite_values() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[3, 4]));
    let y = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::LogSumExp,
            axes: vec![1],
        },
        &[x],
    );
    one_output(&mut g, y);
    let ninf = f32::NEG_INFINITY;
    let d = [
        1000.0,
        1000.0,
        999.0,
        0.0,
        ninf,
        ninf,
        ninf,
        ninf,
        1.0,
        f32::INFINITY,
        2.0,
        3.0,
    ];
    let r = run_both(&g, &bindings(&[]), &[t(&[3, 4], &d)], &[]);
    let first = 1000.0 + (2.0f64 + (-1.0f64).exp() + (-1000.0f64).exp()).ln();
    assert_close(&out(&r, 0), &[first as f32, ninf, f32::INFINITY], 1e-7, "lse");
}

#[test]
fn argmax_mask_marks_the_first_maximum() {
    // rows: [7 7 1 0], [0 2 2 1], [-1 5 9 -3]
    let d = [7., 7., 1., 0., 0., 2., 2., 1., -1., 5., 9., -3.];
    let cases = [
        (vec![1], vec![1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0.]),
        (vec![0], vec![1., 1., 0., 0., 0., 0., 0., 1., 0., 0., 1., 0.]),
        (vec![0, 1], vec![0., 0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0.]),
    ];
    for (axes, want) in cases {
        let mut g = Graph::new();
        let x = input(&mut g, "x", lit(&[3, 4]));
        let y = op(&mut g, Op::ArgMaxMask { axes: axes.clone() }, &[x]);
        one_output(&mut g, y);
        let r = run_both(&g, &bindings(&[]), &[t(&[3, 4], &d)], &[]);
        assert_close(&out(&r, 0), &want, 0.0, &format!("argmax mask {axes:?}"));
    }
}

#[test]
fn argmax_mask_counts_nan_as_the_maximum_and_vectorises_lanes() {
    // Reduce over axis 0 of [3, 9]: nine independent columns (lane mode with a tail).
    let nan = f32::NAN;
    let mut d = data(27, 3);
    d[9 + 4] = nan; // column 4: NaN in row 1 wins
    d[4] = 100.0;
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[3, 9]));
    let y = op(&mut g, Op::ArgMaxMask { axes: vec![0] }, &[x]);
    one_output(&mut g, y);
    let r = run_both(&g, &bindings(&[]), &[t(&[3, 9], &d)], &[]);
    let mut want = vec![0.0f32; 27];
    for c in 0..9 {
        let col: Vec<f32> = (0..3).map(|r| d[r * 9 + c]).collect();
        let best = match col.iter().position(|v| v.is_nan()) {
            Some(p) => p,
            None => {
                let m = col.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                col.iter().position(|&v| v == m).unwrap()
            }
        };
        want[best * 9 + c] = 1.0;
    }
    assert_close(&out(&r, 0), &want, 0.0, "argmax mask");
}

fn check_matmul(m: usize, k: usize, n: usize, ta: bool, tb: bool, via_transpose: bool) {
    let mut g = Graph::new();
    let sa = if ta { [k, m] } else { [m, k] };
    let sb = if tb { [n, k] } else { [k, n] };
    let a = input(&mut g, "a", lit(&[sa[0] as u64, sa[1] as u64]));
    let b = input(&mut g, "b", lit(&[sb[0] as u64, sb[1] as u64]));
    let y = if via_transpose {
        // Transpose nodes feeding the product fold into its flags.
        let a2 = if ta { op(&mut g, Op::Transpose, &[a]) } else { a };
        let b2 = if tb { op(&mut g, Op::Transpose, &[b]) } else { b };
        op(&mut g, Op::MatMul { ta: false, tb: false }, &[a2, b2])
    } else {
        op(&mut g, Op::MatMul { ta, tb }, &[a, b])
    };
    one_output(&mut g, y);
    let (da, db) = (data(m * k, 11), data(k * n, 12));
    let r = run_both(&g, &bindings(&[]), &[t(&sa, &da), t(&sb, &db)], &[]);
    let a_rm = if ta { transpose(&da, k, m) } else { da };
    let b_rm = if tb { transpose(&db, n, k) } else { db };
    let want = matmul(&a_rm, &b_rm, m, k, n);
    assert_close(&out(&r, 0), &want, 1e-5, &format!("matmul {m}x{k}x{n} ta={ta} tb={tb}"));
}

#[test]
fn matrix_products_with_every_flag_combination() {
    for &(m, k, n) in &[(1, 1, 1), (3, 5, 2), (7, 16, 9), (64, 33, 10), (2, 0, 3)] {
        for ta in [false, true] {
            for tb in [false, true] {
                check_matmul(m, k, n, ta, tb, false);
                check_matmul(m, k, n, ta, tb, true);
            }
        }
    }
}

#[test]
fn transpose_and_reshape_as_outputs_and_views() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[3, 4]));
    let xt = op(&mut g, Op::Transpose, &[x]);
    let e = op(&mut g, Op::Unary(Unary::Neg), &[xt]);
    let r1 = op(&mut g, Op::Reshape(lit(&[2, 6])), &[x]);
    let r2 = op(&mut g, Op::Reshape(lit(&[12])), &[xt]); // a reshape of a strided view
    let r3 = op(&mut g, Op::Reshape(lit(&[6, 2])), &[e]);
    g.outputs.push(("xt".into(), xt));
    g.outputs.push(("neg_xt".into(), e));
    g.outputs.push(("r1".into(), r1));
    g.outputs.push(("r2".into(), r2));
    g.outputs.push(("r3".into(), r3));
    let d = data(12, 5);
    let r = run_both(&g, &bindings(&[]), &[t(&[3, 4], &d)], &[]);
    let dt = transpose(&d, 3, 4);
    let neg: Vec<f32> = dt.iter().map(|v| -v).collect();
    assert_close(&out(&r, 0), &dt, 0.0, "xt");
    assert_close(&out(&r, 1), &neg, 0.0, "neg xt");
    assert_close(&out(&r, 2), &d, 0.0, "r1");
    assert_close(&out(&r, 3), &dt, 0.0, "r2");
    assert_close(&out(&r, 4), &neg, 0.0, "r3");
    assert_eq!(r.outputs[4].shape, vec![6, 2]);
}

#[test]
fn broadcast_to_and_const_per_dims() {
    let mut g = Graph::new();
    let n = Dim::var("N");
    let x = input(&mut g, "x", Shape(vec![n.clone(), Dim::lit(3)]));
    let b = input(&mut g, "b", lit(&[3]));
    let bb = op(&mut g, Op::BroadcastTo(Shape(vec![n.clone(), Dim::lit(3)])), &[b]);
    let s = op(&mut g, Op::Binary(Binary::Mul), &[x, bb]);
    let tot = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[s],
    );
    let inv = op(
        &mut g,
        Op::Const {
            value: F64(2.0),
            per: n.checked_mul(&Dim::lit(3)).unwrap(),
        },
        &[],
    );
    let mean2 = op(&mut g, Op::Binary(Binary::Mul), &[tot, inv]);
    g.outputs.push(("bb".into(), bb));
    g.loss = Some(mean2);
    let dx = data(15, 1);
    let db = [1.0, -2.0, 0.5];
    let r = run_both(&g, &bindings(&[("N", 5)]), &[t(&[5, 3], &dx), t(&[3], &db)], &[]);
    let want_bb = bcast(&db, &[3], &[5, 3]);
    assert_close(&out(&r, 0), &want_bb, 0.0, "broadcast_to");
    let total: f64 = dx.iter().zip(&want_bb).map(|(&a, &b)| a as f64 * b as f64).sum();
    assert_close(&[r.loss.unwrap()], &[(total * 2.0 / 15.0) as f32], 1e-6, "mean");
}

#[test]
fn one_hot_cross_entropy_and_softmax_chain() {
    let (n, c) = (6usize, 10usize);
    let mut g = Graph::new();
    let nv = Dim::var("N");
    let x = input(&mut g, "x", Shape(vec![nv.clone(), Dim::lit(c as u64)]));
    let y = labels(&mut g, "y", Shape(vec![nv.clone()]));
    let lse = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::LogSumExp,
            axes: vec![1],
        },
        &[x],
    );
    let lse_b = op(&mut g, Op::Reshape(Shape(vec![nv.clone(), Dim::one()])), &[lse]);
    let logp = op(&mut g, Op::Binary(Binary::Sub), &[x, lse_b]);
    let probs = op(&mut g, Op::Unary(Unary::Exp), &[logp]);
    let oh = op(
        &mut g,
        Op::OneHot {
            classes: Dim::lit(c as u64),
        },
        &[y],
    );
    let picked = op(&mut g, Op::Binary(Binary::Mul), &[oh, logp]);
    let s = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[picked],
    );
    let k = op(
        &mut g,
        Op::Const {
            value: F64(-1.0),
            per: nv.clone(),
        },
        &[],
    );
    let loss = op(&mut g, Op::Binary(Binary::Mul), &[s, k]);
    g.outputs.push(("probs".into(), probs));
    g.outputs.push(("onehot".into(), oh));
    g.loss = Some(loss);
    let dx: Vec<f32> = data(n * c, 9).iter().map(|v| v * 3.0).collect();
    let labels_v: Vec<i32> = vec![0, 9, 3, 3, 5, 1];
    let inputs = [t(&[n, c], &dx), Tensor::i32(vec![n], labels_v.clone())];
    let r = run_both(&g, &bindings(&[("N", n)]), &inputs, &[]);
    let mut want_p = vec![0.0f32; n * c];
    let mut want_oh = vec![0.0f32; n * c];
    let mut ce = 0.0f64;
    for i in 0..n {
        let row = &dx[i * c..(i + 1) * c];
        let m = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
        let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        for j in 0..c {
            want_p[i * c + j] = ((row[j] as f64 - m).exp() / z) as f32;
        }
        want_oh[i * c + labels_v[i] as usize] = 1.0;
        ce -= row[labels_v[i] as usize] as f64 - m - z.ln();
    }
    assert_close(&out(&r, 0), &want_p, 1e-6, "softmax");
    assert_close(&out(&r, 1), &want_oh, 0.0, "one_hot");
    assert_close(&[r.loss.unwrap()], &[(ce / n as f64) as f32], 1e-6, "cross entropy");
}

#[test]
fn empty_batches_give_empty_outputs_and_zero_sums() {
    let mut g = Graph::new();
    let nv = Dim::var("N");
    let x = input(&mut g, "x", Shape(vec![nv.clone(), Dim::lit(4)]));
    let w = param(&mut g, "w", lit(&[4, 3]));
    let h = op(&mut g, Op::MatMul { ta: false, tb: false }, &[x, w]);
    let e = op(&mut g, Op::Unary(Unary::Exp), &[h]);
    let s = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[e],
    );
    let m = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Max,
            axes: vec![0],
        },
        &[h],
    );
    g.outputs.push(("e".into(), e));
    g.outputs.push(("m".into(), m));
    g.loss = Some(s);
    let r = run_both(
        &g,
        &bindings(&[("N", 0)]),
        &[t(&[0, 4], &[])],
        &[t(&[4, 3], &data(12, 1))],
    );
    assert!(r.outputs[0].is_empty());
    assert_close(&out(&r, 1), &[f32::NEG_INFINITY; 3], 0.0, "max of nothing");
    assert_eq!(r.loss, Some(0.0));
}

#[test]
fn constant_values_stored_beside_a_reduction_fill_the_whole_buffer() {
    // `c` does not vary over the reduced axis but is stored over the whole space.
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[3, 6]));
    let one = g.constant(1.0, Default::default());
    let c = op(&mut g, Op::BroadcastTo(lit(&[3, 6])), &[one]);
    let k = g.constant(0.5, Default::default());
    let ck = op(&mut g, Op::Binary(Binary::Mul), &[c, k]);
    let s = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![1],
        },
        &[ck],
    );
    let xs = op(&mut g, Op::Binary(Binary::Mul), &[x, ck]);
    g.outputs.push(("s".into(), s));
    g.outputs.push(("xs".into(), xs));
    g.outputs.push(("ck".into(), ck));
    let d = data(18, 3);
    let r = run_both(&g, &bindings(&[]), &[t(&[3, 6], &d)], &[]);
    assert_close(&out(&r, 0), &[3.0, 3.0, 3.0], 0.0, "sum");
    let half: Vec<f32> = d.iter().map(|v| v * 0.5).collect();
    assert_close(&out(&r, 1), &half, 0.0, "x * c");
    assert_close(&out(&r, 2), &[0.5; 18], 0.0, "c");
}
