//! The shape of the backward graph: symbolic zeros, summed cotangents, pruning, origins,
//! `expand_grads` at several nesting depths, gradient outputs and typed errors.

mod grad_util;

use grad_util::*;
use nnc::autodiff::{add_gradient_outputs, expand_grads, gradients, AdError};
use nnc::diag::Span;
use nnc::interp::{NodeValue, Value};
use nnc::ir::{verify, Binary, DType, Expect, Graph, NodeId, Op, Origin, Phase, TensorType, Unary};

fn expanded_ok(g: &Graph) {
    verify(g, Expect { grads_expanded: true }).unwrap();
}

#[test]
fn a_param_that_does_not_influence_the_loss_gets_zeros_for_at_most_one_node() {
    let mut g = Graph::new();
    let w = param(&mut g, "w", lit(&[3]));
    let unused = param(&mut g, "unused", lit(&[2, 2]));
    let unused2 = param(&mut g, "unused2", lit(&[5]));
    let t = un(&mut g, Unary::Tanh, w);
    let l = sum_all(&mut g, t);

    let mut only_w = g.clone();
    let before = only_w.node_count();
    gradients(&mut only_w, l, &[w]).unwrap();
    verified(&only_w);
    let cost_w = only_w.node_count() - before;

    let mut with_one = g.clone();
    let d = gradients(&mut with_one, l, &[w, unused]).unwrap();
    verified(&with_one);
    // the shared constant 0 and one broadcast
    assert!(with_one.node_count() - before - cost_w <= 2);
    let mut with_two = g.clone();
    gradients(&mut with_two, l, &[w, unused, unused2]).unwrap();
    verified(&with_two);
    // each further zero gradient is one node
    assert_eq!(with_two.node_count() - with_one.node_count(), 1);

    let nv = eval_f64(
        &with_one,
        &[d[1]],
        &[],
        &[
            Value::new(vec![3], vec![0.1, 0.2, 0.3]),
            Value::new(vec![2, 2], vec![1.0; 4]),
            Value::new(vec![5], vec![1.0; 5]),
        ],
    );
    assert_eq!(values_of(&nv, d[1]), vec![0.0; 4]);
    assert_eq!(nv.f(d[1]).unwrap().shape, vec![2, 2]);
}

#[test]
fn nothing_is_built_for_a_leaf_that_does_not_influence_the_target() {
    let mut g = Graph::new();
    let w = param(&mut g, "w", lit(&[3]));
    let v = param(&mut g, "v", lit(&[]));
    let t = un(&mut g, Unary::Exp, w);
    let l = sum_all(&mut g, t);
    let before = g.node_count();
    let d = gradients(&mut g, l, &[v]).unwrap();
    verified(&g);
    assert_eq!(g.node_count() - before, 1, "only the constant 0 of a scalar");
    assert!(matches!(g.node(d[0]).op, Op::Const { .. }));
}

#[test]
fn piecewise_constant_ops_stop_cotangents() {
    // l = sum(step(w) * x): d/dw is zero everywhere; nothing flows through step
    let mut g = Graph::new();
    let w = param(&mut g, "w", lit(&[3]));
    let x = param(&mut g, "x", lit(&[3]));
    let s = un(&mut g, Unary::Step, w);
    let p = bin(&mut g, Binary::Mul, s, x);
    let l = sum_all(&mut g, p);
    let before = g.node_count();
    let d = gradients(&mut g, l, &[w]).unwrap();
    verified(&g);
    assert_eq!(g.node_count() - before, 2, "a zero gradient, nothing else");
    assert!(matches!(g.node(d[0]).op, Op::BroadcastTo(_)));
}

#[test]
fn a_value_used_twice_gets_the_sum_of_its_cotangents() {
    let mut g = Graph::new();
    let x = param(&mut g, "x", lit(&[3]));
    let sq = bin(&mut g, Binary::Mul, x, x);
    let l = sum_all(&mut g, sq);
    let d = gradients(&mut g, l, &[x]).unwrap()[0];
    verified(&g);
    assert!(
        matches!(g.node(d).op, Op::Binary(Binary::Add)),
        "the two contributions are summed"
    );
    let nv = eval_f64(&g, &[d], &[], &[Value::new(vec![3], vec![1.0, -2.0, 0.5])]);
    assert_eq!(values_of(&nv, d), vec![2.0, -4.0, 1.0]);
}

#[test]
fn backward_nodes_carry_the_span_of_the_forward_node_they_differentiate() {
    let mut g = Graph::new();
    let x = param(&mut g, "x", lit(&[3]));
    let span = Span::new(10, 20);
    let l_span = Span::new(30, 40);
    let t = g.add(Op::Unary(Unary::Log), &[x], Origin::forward(span)).unwrap();
    let l = g
        .add(
            Op::Reduce {
                kind: nnc::ir::Reduce::Sum,
                axes: vec![0],
            },
            &[t],
            Origin::forward(l_span),
        )
        .unwrap();
    let before: Vec<NodeId> = g.node_ids();
    let d = gradients(&mut g, l, &[x]).unwrap()[0];
    verified(&g);
    let new: Vec<NodeId> = g.node_ids().into_iter().filter(|n| !before.contains(n)).collect();
    assert!(!new.is_empty());
    for n in &new {
        assert_eq!(g.node(*n).origin.phase, Phase::Backward);
        assert!(g.node(*n).origin.span == Some(span) || g.node(*n).origin.span == Some(l_span));
    }
    // the division by x is log's rule
    assert!(matches!(g.node(d).op, Op::Binary(Binary::Div)));
    assert_eq!(g.node(d).origin.span, Some(span));
}

#[test]
fn typed_errors_for_bad_targets_and_variables() {
    let mut g = Graph::new();
    let labels = g.add_input(
        "labels",
        TensorType {
            dtype: DType::I32,
            shape: lit(&[2]),
        },
        None,
    );
    let x = param(&mut g, "x", lit(&[2]));
    let e = un(&mut g, Unary::Exp, x);
    let l = sum_all(&mut g, e);
    assert!(matches!(gradients(&mut g, e, &[x]), Err(AdError::NotScalar { .. })));
    assert!(matches!(gradients(&mut g, l, &[e]), Err(AdError::WrtNotLeaf { .. })));
    match gradients(&mut g, l, &[labels]) {
        Err(AdError::NotDifferentiable { name, .. }) => assert_eq!(name, "labels"),
        other => panic!("expected NotDifferentiable, got {other:?}"),
    }
    assert_eq!(add_gradient_outputs(&mut g, true, false), Err(AdError::NoLoss));
    // a grad on the path is reported, not differentiated
    let gr = add(&mut g, Op::Grad, &[l, x]);
    let s = sum_all(&mut g, gr);
    assert!(matches!(
        gradients(&mut g, s, &[x]),
        Err(AdError::GradNotExpanded { .. })
    ));
}

/// `L(w) = sum(tanh(w) * u)`; returns the graph, w, u and L.
fn tanh_graph() -> (Graph, NodeId, NodeId, NodeId) {
    let mut g = Graph::new();
    let u = f32_input(&mut g, "u", lit(&[3]));
    let w = param(&mut g, "w", lit(&[3]));
    let t = un(&mut g, Unary::Tanh, w);
    let p = bin(&mut g, Binary::Mul, t, u);
    let l = sum_all(&mut g, p);
    (g, w, u, l)
}

/// Inputs, params, and the raw values of `w` and `u`.
type TanhValues = (Vec<NodeValue<f64>>, Vec<Value<f64>>, Vec<f64>, Vec<f64>);

fn tanh_values() -> TanhValues {
    let (w, u) = (vec![0.3, -0.7, 1.1], vec![0.5, -1.5, 2.0]);
    (
        vec![NodeValue::F(Value::new(vec![3], u.clone()))],
        vec![Value::new(vec![3], w.clone())],
        w,
        u,
    )
}

#[test]
fn nested_grads_expand_innermost_first_and_give_second_and_third_derivatives() {
    // out2 = grad(sum(grad(L, w)), w) = u * tanh''(w); out3 = grad(sum(out2), w) = u * tanh'''(w)
    let (mut g, w, _, l) = tanh_graph();
    let g1 = add(&mut g, Op::Grad, &[l, w]);
    let s1 = sum_all(&mut g, g1);
    let g2 = add(&mut g, Op::Grad, &[s1, w]);
    let s2 = sum_all(&mut g, g2);
    let g3 = add(&mut g, Op::Grad, &[s2, w]);
    g.outputs.push(("g1".into(), g1));
    g.outputs.push(("g2".into(), g2));
    g.outputs.push(("g3".into(), g3));
    verified(&g);
    expand_grads(&mut g).unwrap();
    expanded_ok(&g);
    assert!(g.node_ids().iter().all(|&n| g.node(n).op != Op::Grad));
    let (inputs, params, wv, uv) = tanh_values();
    let out = nnc::interp::eval_values::<f64>(&g, &Default::default(), &inputs, &params).unwrap();
    let get = |name: &str| out.output(name).unwrap().as_f().unwrap().data.clone();
    for i in 0..3 {
        let t = wv[i].tanh();
        let d1 = 1.0 - t * t;
        let d2 = -2.0 * t * d1;
        let d3 = -2.0 * d1 * d1 + 4.0 * t * t * d1;
        assert!((get("g1")[i] - uv[i] * d1).abs() < 1e-14);
        assert!((get("g2")[i] - uv[i] * d2).abs() < 1e-14);
        assert!((get("g3")[i] - uv[i] * d3).abs() < 1e-13);
    }
}

#[test]
fn a_loss_through_a_grad_has_gradient_outputs() {
    // loss = L + sum(grad(L, u)^2) where grad(L, u) = tanh(w): d/dw = u (1 - t^2) + 2 t (1 - t^2)
    let (mut g, _, u, l) = tanh_graph();
    let gu = add(&mut g, Op::Grad, &[l, u]);
    let sq = un(&mut g, Unary::Pow(nnc::ir::F64(2.0)), gu);
    let s = sum_all(&mut g, sq);
    let loss = bin(&mut g, Binary::Add, l, s);
    g.loss = Some(loss);
    add_gradient_outputs(&mut g, true, true).unwrap();
    expanded_ok(&g);
    let names: Vec<&str> = g.outputs.iter().map(|o| o.0.as_str()).collect();
    assert_eq!(names, vec!["grad.w", "grad.u"]);
    let (inputs, params, wv, uv) = tanh_values();
    let out = nnc::interp::eval_values::<f64>(&g, &Default::default(), &inputs, &params).unwrap();
    let gw = out.output("grad.w").unwrap().as_f().unwrap().data.clone();
    let gu = out.output("grad.u").unwrap().as_f().unwrap().data.clone();
    for i in 0..3 {
        let t = wv[i].tanh();
        assert!((gw[i] - (uv[i] + 2.0 * t) * (1.0 - t * t)).abs() < 1e-14);
        assert!((gu[i] - t).abs() < 1e-14);
    }
}

#[test]
fn expansion_agrees_with_calling_gradients_twice() {
    let (mut a, w, _, l) = tanh_graph();
    let mut b = a.clone();
    // a: nested Grad nodes
    let g1 = add(&mut a, Op::Grad, &[l, w]);
    let sq = bin(&mut a, Binary::Mul, g1, g1);
    let s = sum_all(&mut a, sq);
    let g2 = add(&mut a, Op::Grad, &[s, w]);
    a.outputs.push(("h".into(), g2));
    expand_grads(&mut a).unwrap();
    expanded_ok(&a);
    // b: gradients called twice
    let d1 = gradients(&mut b, l, &[w]).unwrap()[0];
    let sq = bin(&mut b, Binary::Mul, d1, d1);
    let s = sum_all(&mut b, sq);
    let d2 = gradients(&mut b, s, &[w]).unwrap()[0];
    verified(&b);
    b.outputs.push(("h".into(), d2));
    let (inputs, params, _, _) = tanh_values();
    let va = nnc::interp::eval_values::<f64>(&a, &Default::default(), &inputs, &params).unwrap();
    let vb = nnc::interp::eval_values::<f64>(&b, &Default::default(), &inputs, &params).unwrap();
    assert_eq!(va.output("h"), vb.output("h"));
    assert!(va.output("h").unwrap().as_f().unwrap().data.iter().any(|&x| x != 0.0));
}

#[test]
fn expansion_removes_dead_nodes_but_keeps_leaves() {
    let (mut g, w, u, l) = tanh_graph();
    let _dead = un(&mut g, Unary::Sin, w);
    let gr = add(&mut g, Op::Grad, &[l, w]);
    g.outputs.push(("g".into(), gr));
    expand_grads(&mut g).unwrap();
    expanded_ok(&g);
    assert!(g.contains(w) && g.contains(u));
    let live = g.schedule();
    assert_eq!(live.len(), g.node_count(), "every node left is live");
}
