//! The pipeline on the real workloads: the MNIST MLP's gradients and training steps (SGD,
//! Adam), and a model written with transposed weights. Structure after optimisation (node
//! counts observed when this was written, so that a regression fails), values before and
//! after in f32 and f64, idempotence, and the verifier catching a broken graph.

mod grad_util;
mod opt_util;

use grad_util::*;
use nnc::interp::{NodeValue, Value};
use nnc::ir::{print, Binary, Graph, Op, Reduce, Unary};
use nnc::opt::{optimize, PassOptions};
use opt_util::*;

const MNIST: [usize; 4] = [784, 128, 64, 10];
const SMALL: [usize; 4] = [6, 5, 4, 3];

fn is_unary(u: Unary) -> impl Fn(&Op) -> bool {
    move |op| *op == Op::Unary(u)
}

fn mlp_inputs(g: &Graph, n: usize, seed: u64) -> Vec<NodeValue<f64>> {
    let mut r = rng(seed);
    let features = g.inputs[0].ty.shape.dims()[1].as_lit().unwrap() as usize;
    let classes = SMALL[3] as i32;
    vec![
        NodeValue::F(Value::new(
            vec![n, features],
            f32_values(draw(&mut r, n * features, Domain::Any)),
        )),
        NodeValue::Labels {
            shape: vec![n],
            data: (0..n as i32).map(|i| (i * 7 + seed as i32) % classes).collect(),
        },
    ]
}

#[test]
fn mnist_mlp_gradients_lose_their_redundant_nodes() {
    let mut g = mnist_mlp(MNIST);
    assert_eq!(g.node_count(), 51);
    let report = optimized(&mut g);
    assert_eq!(g.node_count(), 43, "{}", print(&g, "mlp", &|_| None));
    assert_eq!((report.nodes_before, report.nodes_after), (51, 43));
    // probs = exp(logits - logsumexp) is also the backward of cross-entropy: CSE shares it
    assert_eq!(report.changes("cse"), 4);
    assert_eq!(count(&g, is_unary(Unary::Exp)), 1);
    assert_eq!(
        count(&g, |op| matches!(
            op,
            Op::Reduce {
                kind: Reduce::LogSumExp,
                ..
            }
        )),
        1
    );
    // one relu derivative per hidden layer, never recomputed
    assert_eq!(count(&g, is_unary(Unary::Step)), 2);
    // 3 forward products, 5 backward (no gradient of the input x)
    assert_eq!(count(&g, |op| matches!(op, Op::MatMul { .. })), 8);
    assert!(!transpose_feeds_matmul(&g));
    // the -(1/N) of cross-entropy is folded; its broadcasts are absorbed by the products
    assert_eq!(count(&g, is_unary(Unary::Neg)), 0);
    assert_eq!(count(&g, |op| matches!(op, Op::BroadcastTo(_))), 0);
    assert_eq!(report.fired("binary_broadcast"), 2);
    assert_eq!(report.fired("reshape_broadcast_one"), 1);
}

#[test]
fn mnist_training_steps_shrink() {
    let mut sgd = with_sgd(mnist_mlp(MNIST), 0.1);
    assert_eq!(sgd.node_count(), 69);
    let report = optimized(&mut sgd);
    assert_eq!(sgd.node_count(), 56);
    // the six copies of the learning rate are one constant
    assert_eq!(report.changes("cse"), 9);

    let mut adam = with_adam(mnist_mlp(MNIST));
    assert_eq!(adam.node_count(), 183);
    let report = optimized(&mut adam);
    assert_eq!(adam.node_count(), 134);
    assert_eq!(report.changes("cse"), 45);
    // the 6 copies of each `1 - beta` are one node each (not folded: `1 - 0.9` rounds
    // differently in f32 and f64); with the 6 parameter updates and 2 in the loss and its
    // softmax, 10 subtractions are left of 21
    assert_eq!(count(&adam, |op| *op == Op::Binary(Binary::Sub)), 10);
    assert!(!transpose_feeds_matmul(&adam));
}

#[test]
fn training_steps_compute_the_same_values_after_optimisation() {
    for (name, g) in [
        ("grads", mnist_mlp(SMALL)),
        ("sgd", with_sgd(mnist_mlp(SMALL), 0.1)),
        ("adam", with_adam(mnist_mlp(SMALL))),
    ] {
        let mut opt = g.clone();
        optimized(&mut opt);
        for seed in 0..4 {
            let inputs = mlp_inputs(&g, 5, seed);
            let params = random_params(&g, seed + 100, 5);
            if let Err(e) = same_results(&g, &opt, &inputs, &params, 1e-12, 1e-5) {
                panic!("{name}, seed {seed}: {e}");
            }
        }
    }
}

#[test]
fn exact_only_keeps_every_bit_of_the_training_step() {
    let g = with_sgd(mnist_mlp(SMALL), 0.1);
    let mut opt = g.clone();
    let strict = PassOptions {
        exact_only: true,
        ..opts()
    };
    let report = optimize(&mut opt, &strict).unwrap();
    assert!(opt.node_count() < g.node_count(), "{report}");
    for seed in 0..3 {
        let inputs = mlp_inputs(&g, 4, seed);
        let params = random_params(&g, seed, 4);
        assert!(bit_identical::<f32>(&g, &opt, &inputs, &params));
        assert!(bit_identical::<f64>(&g, &opt, &inputs, &params));
    }
}

/// `y = relu(x @ W1.T + b1) @ W2.T + b2` with weights stored `[out, in]`, as a user
/// porting from PyTorch writes it, with an MSE loss and an output of `W1.T` itself.
fn transposed_weights() -> Graph {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", nnc::ir::Shape(vec![n(), nnc::ir::Dim::lit(4)]));
    let t = f32_input(&mut g, "t", nnc::ir::Shape(vec![n(), nnc::ir::Dim::lit(2)]));
    let w1 = param(&mut g, "W1", lit(&[3, 4]));
    let b1 = param(&mut g, "b1", lit(&[3]));
    let w2 = param(&mut g, "W2", lit(&[2, 3]));
    let b2 = param(&mut g, "b2", lit(&[2]));
    let w1t = add(&mut g, Op::Transpose, &[w1]);
    let h = dense(&mut g, x, w1t, b1);
    let h = un(&mut g, Unary::Relu, h);
    let w2t = add(&mut g, Op::Transpose, &[w2]);
    let y = dense(&mut g, h, w2t, b2);
    // (y^T)^T written out, as `(y.T).T` would lower
    let yt = add(&mut g, Op::Transpose, &[y]);
    let ytt = add(&mut g, Op::Transpose, &[yt]);
    g.outputs.push(("y".into(), ytt));
    g.loss = Some(mse(&mut g, ytt, t));
    nnc::autodiff::add_gradient_outputs(&mut g, true, true).expect("differentiable");
    g
}

#[test]
fn transposed_weights_leave_no_transposed_copies() {
    let g = transposed_weights();
    assert_eq!(count(&g, |op| *op == Op::Transpose), 8);
    assert!(transpose_feeds_matmul(&g));
    let mut opt = g.clone();
    let report = optimized(&mut opt);
    // forward reads W.T through the product's flag; the backward's transposes of the
    // weight gradients become products with swapped operands
    assert_eq!(
        count(&opt, |op| *op == Op::Transpose),
        0,
        "{}",
        print(&opt, "t", &|_| None)
    );
    assert!(report.changes("transpose") >= 4, "{report}");
    assert_eq!(report.fired("transpose_transpose"), 2);
    // 2 forward; the gradients of W1, W2, the hidden layer and x
    assert_eq!(count(&opt, |op| matches!(op, Op::MatMul { .. })), 6);
    assert_eq!((g.node_count(), opt.node_count()), (38, 28));
    // the 2/(2N) of the mean's derivative is in lowest terms
    assert_eq!(
        count(
            &opt,
            |op| matches!(op, Op::Const { value, per } if value.0 == -1.0 && *per == n())
        ),
        1
    );
    for seed in 0..3 {
        let mut r = rng(seed);
        let inputs = vec![
            NodeValue::F(Value::new(vec![3, 4], f32_values(draw(&mut r, 12, Domain::Any)))),
            NodeValue::F(Value::new(vec![3, 2], f32_values(draw(&mut r, 6, Domain::Any)))),
        ];
        let params = random_params(&g, seed, 3);
        same_results(&g, &opt, &inputs, &params, 1e-12, 1e-5).unwrap();
        assert!(bit_identical::<f32>(&g, &opt, &inputs, &params) || report.fired("mul_const_const") > 0);
    }
}

#[test]
fn a_second_run_changes_nothing() {
    for g in [
        mnist_mlp(MNIST),
        with_sgd(mnist_mlp(MNIST), 0.1),
        with_adam(mnist_mlp(SMALL)),
        transposed_weights(),
    ] {
        let mut g = g;
        let first = optimized(&mut g);
        assert!(first.converged && first.total_changes() > 0);
        let text = print(&g, "g", &|_| None);
        let second = optimized(&mut g);
        assert_eq!(second.total_changes(), 0, "{second}");
        assert!(second.converged);
        assert_eq!(second.rounds, 1);
        assert_eq!(print(&g, "g", &|_| None), text);
    }
}

#[test]
fn the_verifier_names_the_pass_that_broke_the_graph() {
    // a graph that is wrong on entry: a node whose op no longer fits its operands
    let mut g = mnist_mlp(SMALL);
    let bad = g.output("logits").unwrap();
    g.set_op(bad, Op::Transpose);
    let err = optimize(&mut g, &opts()).unwrap_err();
    assert_eq!(err.pass, "input");
    assert!(err.to_string().contains("after pass input"), "{err}");
    // without verification the pipeline does not look
    let mut g = mnist_mlp(SMALL);
    let quiet = PassOptions {
        verify: false,
        ..PassOptions::default()
    };
    assert!(optimize(&mut g, &quiet).is_ok());
}

#[test]
fn the_report_lists_every_pass_and_the_rules_that_fired() {
    let mut g = mnist_mlp(MNIST);
    let report = optimized(&mut g);
    let text = report.to_string();
    for line in [
        "51 -> 43 nodes in 2 rounds",
        "cse",
        "fold",
        "simplify",
        "transpose",
        "binary_broadcast",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    // dead code first, 2 rounds of 4 passes, dead code last
    assert_eq!(report.runs.len(), 10);
    assert_eq!(report.runs.first().unwrap().pass, "dce");
    assert_eq!(report.runs.last().unwrap().nodes, 43);
}

#[test]
fn leaves_and_roots_survive() {
    // a param that nothing uses and an output that is a leaf
    let mut g = mnist_mlp(SMALL);
    let unused = param(&mut g, "unused", lit(&[2]));
    let x = g.input_node(0);
    g.outputs.push(("x".into(), x));
    optimized(&mut g);
    assert!(g.contains(unused));
    assert_eq!(g.output("x"), Some(x));
    assert_eq!(g.outputs.len(), 2 + 6 + 1);
    assert!(g.loss.is_some());
}

#[test]
fn graphs_with_grad_nodes_keep_them_and_the_tie_breaking_of_max() {
    // s = sum(max(w, v)) + sum(max(v, w)); at ties d/dw is 1 from the first, 0 from the second
    let mut g = Graph::new();
    let w = param(&mut g, "w", lit(&[3]));
    let v = param(&mut g, "v", lit(&[3]));
    let m1 = bin(&mut g, Binary::Max, w, v);
    let m2 = bin(&mut g, Binary::Max, v, w);
    let s1 = sum_all(&mut g, m1);
    let s2 = sum_all(&mut g, m2);
    let s = bin(&mut g, Binary::Add, s1, s2);
    let d = add(&mut g, Op::Grad, &[s, w]);
    let one = konst(&mut g, 1.0);
    let d1 = bin(&mut g, Binary::Mul, d, one);
    g.outputs.push(("d".into(), d1));
    let report = optimized(&mut g);
    assert_eq!(report.fired("mul_one"), 1);
    assert_eq!(count(&g, |op| *op == Op::Grad), 1);
    assert_eq!(count(&g, |op| *op == Op::Binary(Binary::Max)), 2);
    nnc::autodiff::expand_grads(&mut g).unwrap();
    let ties = [
        Value::new(vec![3], vec![1.0, -2.0, 0.5]),
        Value::new(vec![3], vec![1.0, -2.0, 0.5]),
    ];
    let nv = eval_f64(&g, &[g.output("d").unwrap()], &[], &ties);
    assert_eq!(values_of(&nv, g.output("d").unwrap()), vec![1.0; 3]);
}
