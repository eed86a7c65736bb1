//! The interpreter's contract: checked tensors (errors as values), labels validated
//! before evaluation, `Const` per size variable, finding the first non-finite node.

mod grad_util;

use grad_util::*;
use nnc::interp::{eval, eval_nodes, first_non_finite, InterpError, NodeValue};
use nnc::ir::{Binary, BindError, CallError, DType, Dim, Graph, Op, Shape, TensorType, Unary};
use nnc::tensor::Tensor;

fn n() -> Dim {
    Dim::var("N")
}

/// `x: [N, 3]`, `y: i32[N]`, `W: [3, 4]`; outputs the mean cross entropy of `x @ W`.
fn classifier() -> Graph {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", Shape(vec![n(), Dim::lit(3)]));
    let y = g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: Shape(vec![n()]),
        },
        None,
    );
    let w = param(&mut g, "W", lit(&[3, 4]));
    let logits = matmul(&mut g, x, w);
    g.outputs.push(("logits".into(), logits));
    g.outputs.push(("labels".into(), y));
    g.loss = Some(cross_entropy(&mut g, logits, y));
    g
}

fn x(n: usize) -> Tensor {
    Tensor::f32(vec![n, 3], (0..n * 3).map(|i| i as f32 * 0.1).collect())
}
fn w() -> Tensor {
    Tensor::f32(vec![3, 4], (0..12).map(|i| (i as f32 - 6.0) * 0.05).collect())
}

#[test]
fn evaluates_outputs_loss_and_labels() {
    let g = classifier();
    let y = Tensor::i32(vec![2], vec![3, 0]);
    let v = eval::<f32>(&g, &Default::default(), &[x(2), y.clone()], &[w()]).unwrap();
    assert_eq!(v.output("logits").unwrap().shape(), &[2, 4]);
    assert_eq!(v.output("labels").unwrap().to_tensor(), y);
    let loss = v.loss.unwrap();
    assert!(loss.is_finite() && loss > 0.0);
    let names: Vec<String> = v.to_tensors().into_iter().map(|t| t.0).collect();
    assert_eq!(names, vec!["logits", "labels", "loss"]);
}

#[test]
fn a_label_out_of_range_is_an_error_naming_the_input() {
    let g = classifier();
    let err = eval::<f32>(
        &g,
        &Default::default(),
        &[x(3), Tensor::i32(vec![3], vec![0, 4, 1])],
        &[w()],
    )
    .unwrap_err();
    assert_eq!(
        err,
        InterpError::Call(CallError::Label {
            name: "y".into(),
            index: 1,
            value: 4,
            classes: 4
        })
    );
    assert!(err.to_string().contains("`y`"));
    let neg = eval::<f64>(&g, &Default::default(), &[x(1), Tensor::i32(vec![1], vec![-1])], &[w()]);
    assert!(matches!(
        neg,
        Err(InterpError::Call(CallError::Label { value: -1, .. }))
    ));
}

#[test]
fn shapes_counts_and_dtypes_are_checked() {
    let g = classifier();
    let y2 = Tensor::i32(vec![2], vec![0, 1]);
    // N is 3 from x but 2 from y
    let conflict = eval::<f32>(&g, &Default::default(), &[x(3), y2.clone()], &[w()]).unwrap_err();
    assert!(
        matches!(conflict, InterpError::Bind(BindError::Conflict { .. })),
        "{conflict}"
    );
    let bad_w = Tensor::zeros(vec![4, 3]);
    assert!(matches!(
        eval::<f32>(&g, &Default::default(), &[x(2), y2.clone()], &[bad_w]),
        Err(InterpError::Bind(BindError::Shape { .. }))
    ));
    assert!(matches!(
        eval::<f32>(&g, &Default::default(), &[x(2)], &[w()]),
        Err(InterpError::Call(CallError::Count { what: "inputs", .. }))
    ));
    let float_labels = Tensor::zeros(vec![2]);
    assert!(matches!(
        eval::<f32>(&g, &Default::default(), &[x(2), float_labels], &[w()]),
        Err(InterpError::Call(CallError::DType { .. }))
    ));
    // given bindings must agree with the tensors
    let mut b = nnc::ir::Bindings::new();
    b.insert("N".into(), 5);
    assert!(eval::<f32>(&g, &b, &[x(2), y2], &[w()]).is_err());
}

#[test]
fn a_grad_node_must_be_expanded_first() {
    let mut g = Graph::new();
    let w = param(&mut g, "w", lit(&[2]));
    let s = sum_all(&mut g, w);
    let d = add(&mut g, Op::Grad, &[s, w]);
    g.outputs.push(("d".into(), d));
    let err = eval::<f32>(&g, &Default::default(), &[], &[Tensor::zeros(vec![2])]).unwrap_err();
    assert!(matches!(err, InterpError::GradNotExpanded { .. }));
    assert!(err.to_string().contains("grad must be expanded first"));
}

#[test]
fn constants_divided_by_a_size_variable_use_the_bindings() {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", Shape(vec![n(), Dim::lit(2)]));
    let per = n().checked_mul(&Dim::lit(2)).unwrap();
    let k = konst_per(&mut g, 3.0, per);
    let y = bin(&mut g, Binary::Mul, x, k);
    g.outputs.push(("y".into(), y));
    let v = eval::<f64>(&g, &Default::default(), &[Tensor::f32(vec![3, 2], vec![6.0; 6])], &[]).unwrap();
    assert_eq!(v.output("y").unwrap().as_f().unwrap().data, vec![3.0; 6]);
}

#[test]
fn the_first_non_finite_node_is_the_op_that_made_it() {
    // y = log(x) * 2 with x containing 0: log makes -inf, the product inherits it
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", lit(&[3]));
    let l = un(&mut g, Unary::Log, x);
    let two = konst(&mut g, 2.0);
    let y = bin(&mut g, Binary::Mul, l, two);
    g.outputs.push(("y".into(), y));
    let nv = eval_nodes::<f32>(
        &g,
        &Default::default(),
        &[Tensor::f32(vec![3], vec![1.0, 0.0, 2.0])],
        &[],
    )
    .unwrap();
    assert_eq!(first_non_finite(&nv), Some(l));
    let ok = eval_nodes::<f32>(
        &g,
        &Default::default(),
        &[Tensor::f32(vec![3], vec![1.0, 3.0, 2.0])],
        &[],
    )
    .unwrap();
    assert_eq!(first_non_finite(&ok), None);
    assert_eq!(ok.order.last(), Some(&y));
    assert!(matches!(ok.get(x), Some(NodeValue::F(_))));
}

#[test]
fn f32_and_f64_agree_on_a_small_network() {
    let g = classifier();
    let ins = [x(4), Tensor::i32(vec![4], vec![0, 1, 2, 3])];
    let a = eval::<f32>(&g, &Default::default(), &ins, &[w()]).unwrap();
    let b = eval::<f64>(&g, &Default::default(), &ins, &[w()]).unwrap();
    assert!((a.loss.unwrap() as f64 - b.loss.unwrap()).abs() < 1e-6);
    let la = a.output("logits").unwrap().as_f().unwrap().to_f64();
    let lb = &b.output("logits").unwrap().as_f().unwrap().data;
    assert!(la.iter().zip(lb).all(|(p, q)| (p - q).abs() < 1e-6));
}
