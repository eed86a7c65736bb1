//! Random small programs for the optimiser's property tests: random ops on random
//! operands, with broadcasting, the constants the rules look for, and gradient outputs.

use super::super::grad_util::*;
use nnc::ir::{Binary, Dim, Graph, NodeId, Op, Reduce, Shape, Unary, F64};

/// The variables' shapes (`N` is bound to 2): they broadcast against each other and chain
/// in products.
pub fn var_shapes() -> Vec<Shape> {
    let n = || Dim::var("N");
    vec![
        Shape(vec![n(), Dim::lit(3)]),
        Shape(vec![Dim::lit(3)]),
        Shape(vec![n(), Dim::lit(1)]),
        Shape::scalar(),
        Shape(vec![Dim::lit(3), n()]),
    ]
}

/// Constants the rules look for, as `(value, per)`.
pub fn konsts() -> Vec<(f64, Dim)> {
    vec![
        (0.0, Dim::one()),
        (1.0, Dim::one()),
        (-1.0, Dim::one()),
        (2.0, Dim::one()),
        (0.5, Dim::one()),
        (3.0, Dim::one()),
        (1.0, Dim::var("N")),
        (1.0, Dim::lit(4)),
    ]
}

/// One step of a random program: which op, and two numbers choosing operands and details.
pub type Step = (u8, u8, u8);

/// Replays `prog` on the variables `xs`: each step adds nodes whose operands are earlier
/// nodes; steps whose shapes do not fit are skipped. Returns every node made.
pub fn build(g: &mut Graph, xs: &[NodeId], prog: &[Step]) -> Vec<NodeId> {
    let shapes = var_shapes();
    let ks = konsts();
    let mut nodes: Vec<NodeId> = xs.to_vec();
    for &(op, a, b) in prog {
        let x = nodes[a as usize % nodes.len()];
        let y = nodes[b as usize % nodes.len()];
        let rank = g.shape(x).rank();
        let axes: Vec<usize> = (0..rank).filter(|k| b >> k & 1 == 1).collect();
        let (kv, kp) = ks[b as usize % ks.len()].clone();
        let k = add(
            g,
            Op::Const {
                value: F64(kv),
                per: kp,
            },
            &[],
        );
        let pick_binary = |s: u8| [Binary::Add, Binary::Sub, Binary::Mul, Binary::Max, Binary::Min][s as usize % 5];
        let made: Result<NodeId, _> = match op % 24 {
            0 => g.add(Op::Unary(Unary::Neg), &[x], Default::default()),
            1 => g.add(Op::Unary(Unary::Exp), &[x], Default::default()),
            2 => g.add(Op::Unary(Unary::Tanh), &[x], Default::default()),
            3 => g.add(Op::Unary(Unary::Sin), &[x], Default::default()),
            4 => g.add(Op::Unary(Unary::Relu), &[x], Default::default()),
            5 => g.add(Op::Unary(Unary::Step), &[x], Default::default()),
            6 => g.add(Op::Unary(Unary::Abs), &[x], Default::default()),
            7 => g.add(Op::Unary(Unary::Pow(F64((b % 4) as f64))), &[x], Default::default()),
            8..=10 => g.add(Op::Binary(pick_binary(op % 24 - 8)), &[x, y], Default::default()),
            // the same on negated operands
            11 => {
                let (nx, ny) = (add(g, Op::Unary(Unary::Neg), &[x]), add(g, Op::Unary(Unary::Neg), &[y]));
                g.add(Op::Binary(pick_binary(b)), &[nx, ny], Default::default())
            }
            12 => {
                let kind = [Reduce::Sum, Reduce::Max, Reduce::LogSumExp][(a % 3) as usize];
                g.add(Op::Reduce { kind, axes }, &[x], Default::default())
            }
            13 => {
                let to = shapes[b as usize % shapes.len()].clone();
                g.add(Op::BroadcastTo(to), &[x], Default::default())
            }
            14 => {
                let flat = Shape(vec![g.shape(x).numel().expect("small")]);
                let to = if b % 2 == 0 {
                    flat
                } else {
                    shapes[b as usize / 2 % shapes.len()].clone()
                };
                g.add(Op::Reshape(to), &[x], Default::default())
            }
            15 => g.add(Op::Transpose, &[x], Default::default()),
            16 => g.add(
                Op::MatMul {
                    ta: a & 1 == 1,
                    tb: b & 1 == 1,
                },
                &[x, y],
                Default::default(),
            ),
            // x op c, or c op x
            17 => {
                let args = if a & 1 == 0 { [x, k] } else { [k, x] };
                g.add(Op::Binary(pick_binary(a / 2)), &args, Default::default())
            }
            // x / c, c not zero
            18 if kv != 0.0 => g.add(Op::Binary(Binary::Div), &[x, k], Default::default()),
            // log(exp(x))
            19 => {
                let e = add(g, Op::Unary(Unary::Exp), &[x]);
                g.add(Op::Unary(Unary::Log), &[e], Default::default())
            }
            // -(x * c)
            20 => {
                let m = add(g, Op::Binary(Binary::Mul), &[x, k]);
                g.add(Op::Unary(Unary::Neg), &[m], Default::default())
            }
            // a product of a transposed copy
            21 => g.add(Op::Transpose, &[x], Default::default()).and_then(|t| {
                let args = if b & 2 == 0 { [t, y] } else { [y, t] };
                g.add(
                    Op::MatMul {
                        ta: a & 2 == 2,
                        tb: b & 1 == 1,
                    },
                    &args,
                    Default::default(),
                )
            }),
            // the transpose of a product
            22 => g
                .add(
                    Op::MatMul {
                        ta: a & 2 == 2,
                        tb: b & 1 == 1,
                    },
                    &[x, y],
                    Default::default(),
                )
                .and_then(|m| g.add(Op::Transpose, &[m], Default::default())),
            // a splat of c meeting x
            _ => {
                let s = g.shape(x).clone();
                let splat = add(g, Op::BroadcastTo(s), &[k]);
                g.add(Op::Binary(pick_binary(a)), &[splat, x], Default::default())
            }
        };
        if let Ok(n) = made {
            nodes.push(n);
        }
    }
    nodes
}

/// A random program's graph: the variables as params, the last node and one earlier one
/// as outputs, the sum of the last as the loss, and the gradient of every param.
pub fn graph(prog: &[Step]) -> Graph {
    let mut g = Graph::new();
    let xs: Vec<NodeId> = var_shapes()
        .into_iter()
        .enumerate()
        .map(|(i, s)| param(&mut g, &format!("x{i}"), s))
        .collect();
    let nodes = build(&mut g, &xs, prog);
    let last = *nodes.last().expect("the variables at least");
    let mid = nodes[nodes.len() / 2 + 2];
    g.outputs.push(("y".into(), last));
    g.outputs.push(("mid".into(), mid));
    g.loss = Some(sum_all(&mut g, last));
    nnc::autodiff::add_gradient_outputs(&mut g, true, false).expect("differentiable");
    g
}
