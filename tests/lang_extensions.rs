//! nnc's extension built-ins (`step`, `sign`, `greater_eq`, `one_hot`, `broadcast_to`,
//! `argmax_mask`) and size variables as values: each lowers to its one primitive, computes
//! the documented values natively and in the interpreter, differentiates, and misuse is a
//! diagnostic.

use nnc::ir::{Binary, Op, Unary};
use nnc::{Backend, Model, OptLevel, Options, Tensor};

fn errors(src: &str) -> Vec<String> {
    nnc::sema::check_source(src).1.into_iter().map(|d| d.message).collect()
}

fn graph(src: &str) -> nnc::ir::Graph {
    let (mut models, diags) = nnc::sema::check_source(src);
    assert!(diags.is_empty(), "{diags:?}");
    models.remove(0).graph
}

fn ops(src: &str) -> Vec<Op> {
    let g = graph(src);
    g.schedule().into_iter().map(|n| g.node(n).op.clone()).collect()
}

fn engines() -> Vec<Options> {
    let base = Options {
        threads: 1,
        verify: true,
        ..Options::default()
    };
    vec![
        base.clone(),
        Options {
            opt_level: OptLevel::O0,
            ..base.clone()
        },
        Options {
            backend: Backend::Interpreter,
            ..base
        },
    ]
}

/// The outputs of `src` (params from their initialisers, seed 0) from the interpreter;
/// asserts that the native engines agree (up to summation order).
fn outputs(src: &str, inputs: &[Tensor]) -> Vec<(String, Vec<f32>)> {
    let mut results: Vec<Vec<(String, Vec<f32>)>> = Vec::new();
    for options in engines() {
        let m = Model::from_source(src, "t.nn", None, options).unwrap();
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let sizes = m.sizes_from_shapes(&shapes, None).unwrap();
        let params = m.init_params(&sizes, 0).unwrap();
        let f = if m.has_loss() { m.gradients(false) } else { m.forward() }.unwrap();
        let out = f.call_tensors(inputs, &params).unwrap();
        let mut r: Vec<(String, Vec<f32>)> = out
            .tensors
            .iter()
            .map(|(n, t)| (n.clone(), t.as_f32().unwrap().to_vec()))
            .collect();
        if let Some(l) = out.loss {
            r.push(("loss".into(), vec![l]));
        }
        results.push(r);
    }
    let oracle = results.pop().unwrap();
    for r in &results {
        for ((n, a), (_, b)) in r.iter().zip(&oracle) {
            let close = a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6 * y.abs().max(1.0));
            assert!(close && a.len() == b.len(), "{n}: {a:?} vs {b:?}");
        }
    }
    oracle
}

fn get<'a>(out: &'a [(String, Vec<f32>)], name: &str) -> &'a [f32] {
    &out.iter().find(|o| o.0 == name).unwrap_or_else(|| panic!("{name}")).1
}

#[test]
fn each_extension_is_one_primitive() {
    type Is = fn(&Op) -> bool;
    let cases: [(&str, Is); 6] = [
        ("step(x)", |o| *o == Op::Unary(Unary::Step)),
        ("sign(x)", |o| *o == Op::Unary(Unary::Sign)),
        ("greater_eq(x, 1)", |o| *o == Op::Binary(Binary::GreaterEq)),
        (
            "one_hot(y, 5) + x",
            |o| matches!(o, Op::OneHot { classes } if classes.as_lit() == Some(5)),
        ),
        (
            "broadcast_to(x, [2, N, 5])",
            |o| matches!(o, Op::BroadcastTo(s) if s.rank() == 3),
        ),
        ("argmax_mask(x, axis=-1)", |o| *o == Op::ArgMaxMask { axes: vec![1] }),
    ];
    for (expr, is) in cases {
        let src = format!("model m {{ input x: [N, 5]\n input y: i32[N]\n output o = {expr} }}");
        let ops = ops(&src);
        assert_eq!(ops.iter().filter(|o| is(o)).count(), 1, "{expr}: {ops:?}");
    }
}

#[test]
fn values_of_the_piecewise_constant_built_ins() {
    let src = "model m {
        input x: [N]
        input z: [N]
        input y: i32[N]
        input k: [K]
        input q: [2, 2]
        output st = step(x)
        output sg = sign(x)
        output ge = greater_eq(x, z)
        output oh = one_hot(y, 3)
        output ohk = one_hot(y, K)
        output am = argmax_mask(q, axis=1)
        output all = argmax_mask(x)
    }";
    let x = Tensor::f32(vec![4], vec![-1.0, 0.0, 2.0, 2.0]);
    let z = Tensor::f32(vec![4], vec![0.0, 0.0, 3.0, 1.0]);
    let y = Tensor::i32(vec![4], vec![2, 0, 1, 0]);
    let k = Tensor::f32(vec![3], vec![0.0; 3]);
    let q = Tensor::f32(vec![2, 2], vec![1.0, 3.0, 2.0, 2.0]);
    let out = outputs(src, &[x, z, y, k, q]);
    assert_eq!(get(&out, "st"), [0.0, 0.0, 1.0, 1.0]);
    assert_eq!(get(&out, "sg"), [-1.0, 0.0, 1.0, 1.0]);
    assert_eq!(get(&out, "ge"), [0.0, 1.0, 0.0, 1.0]);
    let oh = [0., 0., 1., 1., 0., 0., 0., 1., 0., 1., 0., 0.];
    assert_eq!(get(&out, "oh"), oh);
    assert_eq!(get(&out, "ohk"), oh);
    assert_eq!(get(&out, "am"), [0.0, 1.0, 1.0, 0.0]);
    assert_eq!(get(&out, "all"), [0.0, 0.0, 1.0, 0.0]);
}

#[test]
fn one_hot_refuses_labels_out_of_range() {
    let src = "model m { input y: i32[N]\n output o = one_hot(y, 3) }";
    for options in engines() {
        let m = Model::from_source(src, "t.nn", None, options).unwrap();
        let y = Tensor::i32(vec![2], vec![1, 3]);
        let e = m.forward().unwrap().call_tensors(&[y], &[]).unwrap_err().to_string();
        assert!(e.contains("`y`") && e.contains('3'), "{e}");
    }
}

#[test]
fn broadcast_to_stretches_and_its_gradient_sums() {
    let src = "model m {
        input x: [N, 3]
        param b: [3] = 0.5
        let big = broadcast_to(b, [N, 3])
        output big
        loss = sum(big * x) + sum(step(b) * b)
    }";
    let x = Tensor::f32(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let out = outputs(src, &[x]);
    assert_eq!(get(&out, "big"), [0.5; 6]);
    // d/db sum(b * x) = column sums of x; step's derivative is zero, so step(b) * b gives 1
    assert_eq!(get(&out, "grad.b"), [6.0, 8.0, 10.0]);
}

#[test]
fn size_variables_as_values() {
    let src = "model m {
        input x: [N, M]
        output a = sum(x) / (N * M)
        output b = mean(x)
        output c = x * N + M
        output d = 1 / N
        output e = -2 / (N * 2) + 0 * sum(x)
    }";
    let x = Tensor::f32(vec![2, 5], (0..10).map(|i| i as f32 * 0.37).collect());
    let out = outputs(src, &[x]);
    // true division by 10 against multiplication by 1/10: equal up to rounding
    assert!((get(&out, "a")[0] - get(&out, "b")[0]).abs() <= 1e-6);
    assert_eq!(get(&out, "c")[1], 0.37 * 2.0 + 5.0);
    assert_eq!(get(&out, "d"), [0.5]);
    assert_eq!(get(&out, "e"), [-0.5]);
}

#[test]
fn a_constant_over_a_size_is_the_constant_of_mean() {
    let g = graph("model m { input x: [N, 4]\n output a = 3 / (N * 4)\n output b = 1 / N / N }");
    let consts: Vec<String> = g
        .schedule()
        .into_iter()
        .filter_map(|n| match &g.node(n).op {
            Op::Const { value, per } => Some(format!("{}/{per}", value.0)),
            _ => None,
        })
        .collect();
    assert_eq!(consts, ["3/4*N", "1/N*N"]);
    // `mean` is the same graph as `sum / N`
    let a = graph("model m { input x: [N]\n output o = mean(x) }");
    let b = graph("model m { input x: [N]\n output o = sum(x) * (1 / N) }");
    let text = |g: &nnc::ir::Graph| nnc::ir::print(g, "m", &|_| None);
    assert_eq!(text(&a), text(&b));
}

#[test]
fn values_hide_size_variables_and_fn_bodies_do_not_see_them() {
    let out = outputs(
        "model m { input x: [N]\n let N = 10\n output o = x / N }",
        &[Tensor::f32(vec![2], vec![1.0, 2.0])],
    );
    assert_eq!(get(&out, "o"), [0.1, 0.2]);
    let e = errors("fn f(x) = x / N\nmodel m { input x: [N]\n output o = f(x) }");
    assert!(e.iter().any(|m| m.contains("undefined name `N`")), "{e:?}");
    let e = errors("model m { input x: [N]\n output o = x / M }");
    assert!(e.iter().any(|m| m.contains("undefined name `M`")), "{e:?}");
}

#[test]
fn misuse_is_a_diagnostic() {
    let cases = [
        ("one_hot(x, 3)", "`one_hot` needs i32 labels"),
        ("one_hot(y, 0)", "a dimension of 0 is not allowed"),
        ("one_hot(y)", "wrong number of arguments"),
        ("one_hot(y, 2.5)", "reshape dimension is a positive integer"),
        ("broadcast_to(x, [N, 4])", "cannot broadcast [N, 3] to [N, 4]"),
        ("broadcast_to(x, [-1, 3])", "-1"),
        ("broadcast_to(x, N)", "bracketed list"),
        ("argmax_mask(x, axis=2)", "axis 2 is out of range"),
        ("greater_eq(x, y)", "needs an f32 tensor"),
        ("step(y)", "needs an f32 tensor"),
        ("y / N", "i32 tensor used in arithmetic"),
    ];
    for (expr, want) in cases {
        let src = format!("model m {{ input x: [N, 3]\n input y: i32[N]\n output o = {expr} }}");
        let e = errors(&src);
        assert!(e.iter().any(|m| m.contains(want)), "{expr}: {e:?}");
    }
}
