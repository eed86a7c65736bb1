//! Random small graphs (random smooth ops on random operands, with broadcasting): the
//! interpreter agrees with itself in f32 and f64, and gradients (first and second order)
//! agree with finite differences.

mod grad_util;

use grad_util::*;
use nnc::interp::{eval_nodes_from, Value};
use nnc::ir::{Binary, Graph, NodeId, Op, Reduce, Unary, F64};
use proptest::prelude::*;

/// Shapes of the variables: they broadcast against each other and chain in products.
const VARS: [&[usize]; 5] = [&[2, 3], &[3], &[2, 1], &[], &[3, 2]];

/// One step of a random program: which op, and two numbers choosing operands and details.
type Step = (u8, u8, u8);

/// Replays `prog` on the variables `xs`: each step adds an op whose operands are earlier
/// nodes; steps whose shapes do not fit are skipped. Returns the last node.
fn build(g: &mut Graph, xs: &[NodeId], prog: &[Step]) -> NodeId {
    let mut nodes: Vec<NodeId> = xs.to_vec();
    for &(op, a, b) in prog {
        let x = nodes[a as usize % nodes.len()];
        let y = nodes[b as usize % nodes.len()];
        let rank = g.shape(x).rank();
        let axes: Vec<usize> = (0..rank).filter(|k| b >> k & 1 == 1).collect();
        let (op, args): (Op, Vec<NodeId>) = match op % 14 {
            0 => (Op::Unary(Unary::Tanh), vec![x]),
            1 => (Op::Unary(Unary::Sigmoid), vec![x]),
            2 => (Op::Unary(Unary::Sin), vec![x]),
            3 => (Op::Unary(Unary::Cos), vec![x]),
            4 => (Op::Unary(Unary::Softplus), vec![x]),
            5 => (Op::Unary(Unary::Neg), vec![x]),
            6 => (Op::Unary(Unary::Pow(F64(2.0))), vec![x]),
            7 => (Op::Binary(Binary::Add), vec![x, y]),
            8 => (Op::Binary(Binary::Sub), vec![x, y]),
            9 => (Op::Binary(Binary::Mul), vec![x, y]),
            10 => (
                Op::Reduce {
                    kind: if b & 8 == 0 { Reduce::Sum } else { Reduce::LogSumExp },
                    axes,
                },
                vec![x],
            ),
            11 => (
                Op::MatMul {
                    ta: a & 1 == 1,
                    tb: b & 1 == 1,
                },
                vec![x, y],
            ),
            12 => (Op::Transpose, vec![x]),
            _ => (
                Op::Reshape(lit(&[g
                    .shape(x)
                    .dims()
                    .iter()
                    .map(|d| d.as_lit().unwrap() as usize)
                    .product()])),
                vec![x],
            ),
        };
        if let Ok(n) = g.add(op, &args, Default::default()) {
            nodes.push(n);
        }
    }
    *nodes.last().expect("at least the variables")
}

fn program() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn f32_and_f64_interpreters_agree(prog in program(), seed in any::<u64>()) {
        let mut g = Graph::new();
        let xs: Vec<NodeId> = VARS.iter().enumerate().map(|(i, s)| param(&mut g, &format!("x{i}"), lit(s))).collect();
        build(&mut g, &xs, &prog);
        verified(&g);
        let mut r = rng(seed);
        let v64: Vec<Value<f64>> = VARS
            .iter()
            .map(|s| Value::new(s.to_vec(), draw(&mut r, numel(s), Domain::Any).iter().map(|&v| v as f32 as f64).collect()))
            .collect();
        let v32: Vec<Value<f32>> = v64.iter().map(|v| Value::new(v.shape.clone(), v.data.iter().map(|&x| x as f32).collect())).collect();
        let all = g.node_ids();
        let a = eval_nodes_from::<f32>(&g, &all, &Default::default(), &[], &v32).unwrap();
        let b = eval_nodes_from::<f64>(&g, &all, &Default::default(), &[], &v64).unwrap();
        for n in all {
            let (p, q) = (a.f(n).unwrap(), b.f(n).unwrap());
            prop_assert_eq!(&p.shape, &q.shape);
            for (x, y) in p.data.iter().zip(&q.data) {
                prop_assert!((*x as f64 - y).abs() <= 1e-4 * (1.0 + y.abs()), "node {}: {} vs {}", n.index(), x, y);
            }
        }
    }

    #[test]
    fn gradients_of_random_graphs_match_finite_differences(prog in program(), seed in any::<u64>()) {
        let spec = Spec {
            vars: VARS.iter().map(|s| (s.to_vec(), Domain::Any)).collect(),
            fixed: Vec::new(),
            build: &|g, xs, _| build(g, xs, &prog),
            order: 2,
            seed,
        };
        prop_assert!(check(&spec).is_ok(), "{:?}", check(&spec));
    }
}
