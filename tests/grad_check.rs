//! Every VJP rule against central finite differences in f64, by random projection: one
//! table row per primitive (and per broadcasting shape, axis set and transpose flag),
//! with second derivatives for all and third derivatives for a few.

mod grad_util;

use grad_util::*;
use nnc::ir::{Binary, Graph, NodeId, Op, Reduce, Unary, F64};
use Domain::*;

type Build = Box<dyn Fn(&mut Graph, &[NodeId], &[NodeId]) -> NodeId>;

struct Row {
    name: String,
    vars: Vec<(Vec<usize>, Domain)>,
    order: usize,
    build: Build,
}

fn row(name: &str, vars: &[(&[usize], Domain)], order: usize, build: Build) -> Row {
    Row {
        name: name.to_string(),
        vars: vars.iter().map(|(s, d)| (s.to_vec(), *d)).collect(),
        order,
        build,
    }
}

fn unary_row(u: Unary, d: Domain, order: usize) -> Row {
    row(
        &format!("{u:?}"),
        &[(&[3, 4], d)],
        order,
        Box::new(move |g, x, _| un(g, u, x[0])),
    )
}

fn binary_row(b: Binary, a: &[usize], bs: &[usize], da: Domain, db: Domain, order: usize) -> Row {
    row(
        &format!("{b:?} {a:?} {bs:?}"),
        &[(a, da), (bs, db)],
        order,
        Box::new(move |g, x, _| bin(g, b, x[0], x[1])),
    )
}

fn op_row(name: &str, shapes: &[&[usize]], d: Domain, order: usize, op: Op) -> Row {
    let vars: Vec<(&[usize], Domain)> = shapes.iter().map(|s| (*s, d)).collect();
    row(name, &vars, order, Box::new(move |g, x, _| add(g, op.clone(), x)))
}

fn run(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let spec = Spec {
            vars: r.vars.clone(),
            fixed: Vec::new(),
            build: &*r.build,
            order: r.order,
            seed: 1000 + i as u64,
        };
        if let Err(e) = check(&spec) {
            failures.push(format!("{}: {e}", r.name));
        }
    }
    assert!(failures.is_empty(), "gradient check failures:\n{}", failures.join("\n"));
}

#[test]
fn unary_rules_match_finite_differences() {
    use Unary::*;
    let p = |c: f64| Pow(F64(c));
    run(vec![
        unary_row(Neg, Any, 2),
        unary_row(Exp, Any, 3),
        unary_row(Log, Positive, 3),
        unary_row(Sqrt, Positive, 3),
        unary_row(Abs, AwayFromZero, 2),
        unary_row(Sign, AwayFromZero, 2),
        unary_row(Tanh, Any, 3),
        unary_row(Sigmoid, Any, 3),
        unary_row(Relu, AwayFromZero, 2),
        unary_row(Step, AwayFromZero, 2),
        unary_row(Softplus, Any, 3),
        unary_row(Sin, Any, 3),
        unary_row(Cos, Any, 3),
        unary_row(p(2.0), Any, 3),
        unary_row(p(3.0), Any, 3),
        unary_row(p(0.0), Any, 2),
        unary_row(p(1.0), Any, 2),
        unary_row(p(-1.0), AwayFromZero, 3),
        unary_row(p(-2.0), AwayFromZero, 2),
        unary_row(p(0.5), Positive, 3),
        unary_row(p(-1.5), Positive, 2),
        unary_row(LeakyRelu(F64(0.1)), AwayFromZero, 2),
        unary_row(LeakyRelu(F64(-0.3)), AwayFromZero, 2),
    ]);
}

#[test]
fn binary_rules_match_finite_differences_with_broadcasting() {
    use Binary::*;
    let shapes: [(&[usize], &[usize]); 6] = [
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[3, 1], &[1, 4]),
        (&[], &[2, 3]),
        (&[2, 3, 4], &[3, 1]),
        (&[1, 4], &[2, 3, 1]),
    ];
    let mut rows = Vec::new();
    for (a, b) in shapes {
        rows.push(binary_row(Add, a, b, Any, Any, 2));
        rows.push(binary_row(Sub, a, b, Any, Any, 2));
        rows.push(binary_row(Mul, a, b, Any, Any, 3));
        rows.push(binary_row(Div, a, b, Any, Positive, 3));
        rows.push(binary_row(Div, a, b, Any, AwayFromZero, 2));
        rows.push(binary_row(Max, a, b, Grid(0.0), Grid(0.1), 2));
        rows.push(binary_row(Min, a, b, Grid(0.1), Grid(0.0), 2));
        rows.push(binary_row(GreaterEq, a, b, Grid(0.0), Grid(0.1), 2));
    }
    run(rows);
}

#[test]
fn reduction_rules_match_finite_differences_over_axis_sets() {
    let mut rows = Vec::new();
    let cases: [(&[usize], &[usize]); 8] = [
        (&[3, 4, 5], &[0]),
        (&[3, 4, 5], &[1]),
        (&[3, 4, 5], &[2]),
        (&[3, 4, 5], &[0, 2]),
        (&[3, 4, 5], &[0, 1, 2]),
        (&[3, 4], &[]),
        (&[6], &[0]),
        (&[2, 1, 3], &[1]),
    ];
    for (shape, axes) in cases {
        for kind in [Reduce::Sum, Reduce::Max, Reduce::LogSumExp] {
            let d = if kind == Reduce::Max { Distinct } else { Any };
            let op = Op::Reduce {
                kind,
                axes: axes.to_vec(),
            };
            rows.push(op_row(&format!("{kind:?} {shape:?} {axes:?}"), &[shape], d, 3, op));
        }
        let op = Op::ArgMaxMask { axes: axes.to_vec() };
        rows.push(op_row(
            &format!("ArgMaxMask {shape:?} {axes:?}"),
            &[shape],
            Distinct,
            2,
            op,
        ));
    }
    run(rows);
}

#[test]
fn shape_and_matrix_rules_match_finite_differences() {
    use nnc::ir::Shape;
    let s = |d: &[usize]| lit(d);
    let mut rows = vec![
        op_row(
            "BroadcastTo [3,1]->[2,3,4]",
            &[&[3, 1]],
            Any,
            2,
            Op::BroadcastTo(s(&[2, 3, 4])),
        ),
        op_row("BroadcastTo [4]->[3,4]", &[&[4]], Any, 2, Op::BroadcastTo(s(&[3, 4]))),
        op_row("BroadcastTo []->[2,2]", &[&[]], Any, 2, Op::BroadcastTo(s(&[2, 2]))),
        op_row(
            "BroadcastTo [1,1]->[1,3]",
            &[&[1, 1]],
            Any,
            2,
            Op::BroadcastTo(s(&[1, 3])),
        ),
        op_row("Reshape [2,3,4]->[6,4]", &[&[2, 3, 4]], Any, 2, Op::Reshape(s(&[6, 4]))),
        op_row("Reshape [4,6]->[24]", &[&[4, 6]], Any, 2, Op::Reshape(s(&[24]))),
        op_row(
            "Reshape [5]->[1,5,1]",
            &[&[5]],
            Any,
            2,
            Op::Reshape(Shape(s(&[1, 5, 1]).0)),
        ),
        op_row("Transpose", &[&[3, 5]], Any, 2, Op::Transpose),
    ];
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        let a: &[usize] = if ta { &[4, 3] } else { &[3, 4] };
        let b: &[usize] = if tb { &[5, 4] } else { &[4, 5] };
        rows.push(op_row(
            &format!("MatMul ta={ta} tb={tb}"),
            &[a, b],
            Any,
            3,
            Op::MatMul { ta, tb },
        ));
    }
    // a matrix times itself: both cotangents reach one variable
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
        rows.push(row(
            &format!("MatMul self ta={ta} tb={tb}"),
            &[(&[4, 4], Any)],
            2,
            Box::new(move |g, x, _| add(g, Op::MatMul { ta, tb }, &[x[0], x[0]])),
        ));
    }
    run(rows);
}

#[test]
fn compositions_and_constants_match_finite_differences() {
    run(vec![
        row(
            "x * x (one value used twice)",
            &[(&[3], Any)],
            3,
            Box::new(|g, x, _| bin(g, Binary::Mul, x[0], x[0])),
        ),
        row(
            "tanh(x @ W) * c / n",
            &[(&[2, 3], Any), (&[3, 4], Any)],
            3,
            Box::new(|g, x, _| {
                let m = matmul(g, x[0], x[1]);
                let t = un(g, Unary::Tanh, m);
                let c = konst_per(g, 3.0, nnc::ir::Dim::lit(4));
                bin(g, Binary::Mul, t, c)
            }),
        ),
        row(
            "softplus(sin(x)) / (1 + exp(y))",
            &[(&[4], Any), (&[2, 1], Any)],
            3,
            Box::new(|g, x, _| {
                let s = un(g, Unary::Sin, x[0]);
                let s = un(g, Unary::Softplus, s);
                let e = un(g, Unary::Exp, x[1]);
                let one = konst(g, 1.0);
                let d = bin(g, Binary::Add, one, e);
                bin(g, Binary::Div, s, d)
            }),
        ),
        row(
            "log_softmax and softmax",
            &[(&[3, 5], Any)],
            3,
            Box::new(|g, x, _| {
                let a = log_softmax(g, x[0], 1);
                let b = softmax(g, x[0], 0);
                bin(g, Binary::Add, a, b)
            }),
        ),
        row("gelu", &[(&[7], Any)], 3, Box::new(|g, x, _| gelu(g, x[0]))),
        row(
            "mse",
            &[(&[3, 2], Any), (&[3, 2], Any)],
            3,
            Box::new(|g, x, _| mse(g, x[0], x[1])),
        ),
    ]);
}

#[test]
fn cross_entropy_with_labels_matches_finite_differences_to_third_order() {
    use nnc::interp::NodeValue;
    use nnc::ir::{DType, TensorType};
    let labels = Fixed {
        name: "y",
        ty: TensorType {
            dtype: DType::I32,
            shape: lit(&[4]),
        },
        value: NodeValue::Labels {
            shape: vec![4],
            data: vec![2, 0, 1, 2],
        },
    };
    let spec = Spec {
        vars: vec![(vec![4, 3], Any)],
        fixed: vec![labels],
        build: &|g, x, f| cross_entropy(g, x[0], f[0]),
        order: 3,
        seed: 7,
    };
    check(&spec).unwrap();
}
