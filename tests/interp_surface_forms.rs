//! Spellings of `step`, `sign` and `greater_eq` in LANGUAGE.md built-ins only (what
//! `ir::to_nn` printed before nnc had extension built-ins for them; still useful to write
//! a model for another implementation of the language) are exact in f32: evaluated here
//! by the interpreter, as the front end would lower them, on edge values (signed zeros,
//! the smallest subnormal, the largest finite values, infinities).

mod grad_util;

use grad_util::*;
use nnc::interp::{eval_nodes_from, Value};
use nnc::ir::{Binary, Graph, NodeId, Unary};

const TWO_127: f64 = 1.7014118346046923e38;

fn edge_values() -> Vec<f32> {
    let tiny = f32::from_bits(1);
    vec![
        0.0,
        -0.0,
        tiny,
        -tiny,
        f32::MIN_POSITIVE,
        1e-30,
        -1e-30,
        0.5,
        -0.5,
        1.0,
        -1.0,
        3.0e38,
        -3.0e38,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ]
}

/// `x * 2^127 * 2^22`, as `x * 1.7014118346046923e38 * 4194304` parses (left to right).
fn scaled(g: &mut Graph, x: NodeId) -> NodeId {
    let a = konst(g, TWO_127);
    let b = konst(g, 4194304.0);
    let t = bin(g, Binary::Mul, x, a);
    bin(g, Binary::Mul, t, b)
}

/// `minimum(relu(x) * 2^127 * 2^22, 1)`
fn step_form(g: &mut Graph, x: NodeId) -> NodeId {
    let r = un(g, Unary::Relu, x);
    let s = scaled(g, r);
    let one = konst(g, 1.0);
    bin(g, Binary::Min, s, one)
}

fn eval32(g: &Graph, roots: &[NodeId], params: Vec<Value<f32>>) -> Vec<Vec<f32>> {
    let nv = eval_nodes_from::<f32>(g, roots, &Default::default(), &[], &params).unwrap();
    roots.iter().map(|r| nv.f(*r).unwrap().data.clone()).collect()
}

#[test]
fn step_and_sign_forms_are_exact_on_edge_values() {
    let xs = edge_values();
    let n = xs.len();
    let mut g = Graph::new();
    let x = param(&mut g, "x", lit(&[n]));
    let step = un(&mut g, Unary::Step, x);
    let step_f = step_form(&mut g, x);
    let sign = un(&mut g, Unary::Sign, x);
    // minimum(maximum(x * 2^127 * 2^22, -1), 1)
    let s = scaled(&mut g, x);
    let m1 = konst(&mut g, -1.0);
    let one = konst(&mut g, 1.0);
    let s = bin(&mut g, Binary::Max, s, m1);
    let sign_f = bin(&mut g, Binary::Min, s, one);
    let v = eval32(&g, &[step, step_f, sign, sign_f], vec![Value::new(vec![n], xs.clone())]);
    for i in 0..n {
        assert_eq!(v[0][i], v[1][i], "step({})", xs[i]);
        assert_eq!(v[2][i], v[3][i], "sign({})", xs[i]);
    }
}

#[test]
fn greater_eq_form_is_exact_on_edge_pairs() {
    // 1 - step(b - a)
    let xs = edge_values();
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &p in &xs {
        for &q in &xs {
            // inf - inf is NaN: the documented exception
            if !(p.is_infinite() && q.is_infinite() && p == q) {
                a.push(p);
                b.push(q);
            }
        }
    }
    // neighbours: differences that are a single ulp
    for &p in &[1.0f32, -1.0, 1e-38, 3.0e38] {
        let next = f32::from_bits(p.to_bits() + 1);
        a.extend([p, next]);
        b.extend([next, p]);
    }
    let n = a.len();
    let mut g = Graph::new();
    let pa = param(&mut g, "a", lit(&[n]));
    let pb = param(&mut g, "b", lit(&[n]));
    let ge = bin(&mut g, Binary::GreaterEq, pa, pb);
    let d = bin(&mut g, Binary::Sub, pb, pa);
    let st = step_form(&mut g, d);
    let one = konst(&mut g, 1.0);
    let ge_f = bin(&mut g, Binary::Sub, one, st);
    let v = eval32(
        &g,
        &[ge, ge_f],
        vec![Value::new(vec![n], a.clone()), Value::new(vec![n], b.clone())],
    );
    for i in 0..n {
        assert_eq!(v[0][i], v[1][i], "greater_eq({}, {})", a[i], b[i]);
    }
}

#[test]
fn zeros_made_from_a_tensor_are_zero_even_for_infinities() {
    // minimum(maximum(t, 0), 0)
    let xs = edge_values();
    let n = xs.len();
    let mut g = Graph::new();
    let t = param(&mut g, "t", lit(&[n]));
    let zero = konst(&mut g, 0.0);
    let m = bin(&mut g, Binary::Max, t, zero);
    let z = bin(&mut g, Binary::Min, m, zero);
    let v = eval32(&g, &[z], vec![Value::new(vec![n], xs)]);
    assert!(v[0].iter().all(|&x| x == 0.0), "{:?}", v[0]);
}
