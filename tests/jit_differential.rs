//! The JIT against the reference interpreter in f64 (`interp::eval::<f64>`): every op on
//! its own, then random small graphs (random ops, shapes and broadcasting, with and
//! without their gradients and SGD updates), at both optimisation levels with the
//! Cranelift verifier on.
//!
//! Tolerance: `|jit - ref| <= 2e-5 |ref| + 2e-6 (1 + scale)`, where `scale` is the
//! largest magnitude in the reference tensor. The JIT computes in f32, so each op adds a
//! relative rounding error of about 6e-8 (2 ulp for the inline transcendentals); over
//! graphs of a few dozen ops and sums of a few dozen terms that stays well below 2e-5.
//! The absolute term is for cancellation, which f32 cannot avoid: an element that is the
//! small difference of larger terms carries their absolute error, not a relative one of
//! its own (`1 - tanh(y)^2` near saturation: tanh's 6e-8 becomes an absolute 1.2e-7). Discontinuous
//! ops (comparisons, steps, arg-max, relu, max/min of two values) are applied only to
//! leaves, whose values both sides share exactly, so no rounding can flip them.

mod jit_util;
use jit_util::{bindings, opts};
use nnc::interp;
use nnc::ir::{Binary, DType, Dim, Graph, Init, NodeId, Op, Origin, Reduce, Shape, TensorType, Unary, F64};
use nnc::runtime::{Executable, OptLevel};
use nnc::tensor::{Data, Tensor};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn lit(d: &[usize]) -> Shape {
    Shape(d.iter().map(|&x| Dim::lit(x as u64)).collect())
}

fn add(g: &mut Graph, op: Op, args: &[NodeId]) -> Option<NodeId> {
    g.add(op, args, Origin::default()).ok()
}

/// Leaves: f32 params and inputs of shapes that broadcast and chain in products, and
/// i32 labels for one-hot encodings.
const PARAMS: [&[usize]; 3] = [&[2, 3], &[3], &[]];
const INPUTS: [&[usize]; 3] = [&[2, 1], &[3, 2], &[2, 3, 4]];
const CLASSES: usize = 3;

struct Case {
    g: Graph,
    inputs: Vec<Tensor>,
    params: Vec<Tensor>,
}

fn leaves(g: &mut Graph) -> (Vec<NodeId>, NodeId) {
    let mut xs = Vec::new();
    for (i, s) in PARAMS.iter().enumerate() {
        xs.push(g.add_param(&format!("p{i}"), lit(s), Init::Const(0.0), None));
    }
    for (i, s) in INPUTS.iter().enumerate() {
        xs.push(g.add_input(&format!("x{i}"), TensorType::f32(lit(s)), None));
    }
    let y = g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: lit(&[2]),
        },
        None,
    );
    (xs, y)
}

fn data_for(g: &Graph, seed: u64) -> (Vec<Tensor>, Vec<Tensor>) {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| r.random_range(-2.0f32..2.0)).collect() };
    let params = PARAMS
        .iter()
        .map(|s| Tensor::f32(s.to_vec(), draw(s.iter().product())))
        .collect();
    let mut inputs: Vec<Tensor> = INPUTS
        .iter()
        .map(|s| Tensor::f32(s.to_vec(), draw(s.iter().product())))
        .collect();
    let labels: Vec<i32> = draw(2)
        .iter()
        .map(|v| ((v + 2.0) * 0.75) as i32 % CLASSES as i32)
        .collect();
    inputs.push(Tensor::i32(vec![2], labels));
    assert_eq!(inputs.len(), g.inputs.len());
    (inputs, params)
}

/// One step of a random program: which op and two bytes choosing operands and details.
type Step = (u8, u8, u8);

/// Replays `prog`: each step adds an op on earlier nodes (skipped if shapes do not fit).
/// Returns the nodes made (leaves first).
fn build(g: &mut Graph, prog: &[Step]) -> Vec<NodeId> {
    let (xs, y) = leaves(g);
    let leaf_count = xs.len();
    let mut nodes = xs;
    for &(op, a, b) in prog {
        let x = nodes[a as usize % nodes.len()];
        let z = nodes[b as usize % nodes.len()];
        // Discontinuous ops only see leaves (exact on both sides).
        let lx = nodes[a as usize % leaf_count];
        let lz = nodes[b as usize % leaf_count];
        let rank = g.shape(x).rank();
        let axes: Vec<usize> = (0..rank).filter(|k| b >> k & 1 == 1).collect();
        let one = g.constant(1.0, Origin::default());
        let made = (|| match op % 24 {
            0 => add(g, Op::Unary(Unary::Tanh), &[x]),
            1 => add(g, Op::Unary(Unary::Sigmoid), &[x]),
            2 | 22 => {
                // sin and cos of bounded arguments: of a large one they are ill-conditioned
                // (an f32 rounding of 1e3 moves sin by 6e-5)
                let t = add(g, Op::Unary(Unary::Tanh), &[x])?;
                add(g, Op::Unary(if op % 24 == 2 { Unary::Sin } else { Unary::Cos }), &[t])
            }
            3 => add(g, Op::Unary(Unary::Softplus), &[x]),
            4 => add(g, Op::Unary(Unary::Neg), &[x]),
            5 => add(g, Op::Unary(Unary::Exp), &[x]),
            6 => {
                // log, sqrt and powers of 1 + x^2 (positive, away from zero)
                let sq = add(g, Op::Unary(Unary::Pow(F64(2.0))), &[x])?;
                let pos = add(g, Op::Binary(Binary::Add), &[sq, one])?;
                let u = [
                    Unary::Log,
                    Unary::Sqrt,
                    Unary::Pow(F64(-1.0)),
                    Unary::Pow(F64(1.5)),
                    Unary::Pow(F64(3.0)),
                ][b as usize % 5];
                add(g, Op::Unary(u), &[pos])
            }
            7 => add(g, Op::Binary(Binary::Add), &[x, z]),
            8 => add(g, Op::Binary(Binary::Sub), &[x, z]),
            9 => add(g, Op::Binary(Binary::Mul), &[x, z]),
            10 => {
                let sq = add(g, Op::Unary(Unary::Pow(F64(2.0))), &[z])?;
                let pos = add(g, Op::Binary(Binary::Add), &[sq, one])?;
                add(g, Op::Binary(Binary::Div), &[x, pos])
            }
            11 => {
                let k = [Reduce::Sum, Reduce::Max, Reduce::LogSumExp][a as usize % 3];
                add(g, Op::Reduce { kind: k, axes }, &[x])
            }
            12 => add(
                g,
                Op::MatMul {
                    ta: a & 1 == 1,
                    tb: b & 1 == 1,
                },
                &[x, z],
            ),
            13 => add(g, Op::Transpose, &[x]),
            14 => {
                let n: usize = g.shape(x).dims().iter().map(|d| d.as_lit().unwrap() as usize).product();
                add(g, Op::Reshape(lit(&[n])), &[x])
            }
            15 => {
                // a unit reshape: a leading axis of 1
                let mut s = g.shape(x).clone();
                s.0.insert(0, Dim::one());
                add(g, Op::Reshape(s), &[x])
            }
            16 => {
                let to = [lit(&[2, 3]), lit(&[4, 2, 3]), lit(&[3, 2]), lit(&[2, 3, 4])][b as usize % 4].clone();
                add(g, Op::BroadcastTo(to), &[x])
            }
            17 => {
                let u = [
                    Unary::Relu,
                    Unary::Step,
                    Unary::Abs,
                    Unary::Sign,
                    Unary::LeakyRelu(F64(0.1)),
                ][b as usize % 5];
                add(g, Op::Unary(u), &[lx])
            }
            18 => {
                let k = [Binary::Max, Binary::Min, Binary::GreaterEq][a as usize % 3];
                add(g, Op::Binary(k), &[lx, lz])
            }
            19 => {
                let r = g.shape(lx).rank();
                let ax: Vec<usize> = (0..r).filter(|k| b >> k & 1 == 1).collect();
                add(g, Op::ArgMaxMask { axes: ax }, &[lx])
            }
            20 => add(
                g,
                Op::OneHot {
                    classes: Dim::lit(CLASSES as u64),
                },
                &[y],
            ),
            21 => {
                let c = add(
                    g,
                    Op::Const {
                        value: F64(1.5),
                        per: Dim::lit(3),
                    },
                    &[],
                )?;
                add(g, Op::Binary(Binary::Mul), &[x, c])
            }
            _ => add(g, Op::Unary(Unary::LeakyRelu(F64(0.2))), &[x]),
        })();
        if let Some(n) = made {
            nodes.push(n);
        }
    }
    nodes
}

fn sum_all(g: &mut Graph, x: NodeId) -> NodeId {
    let axes: Vec<usize> = (0..g.shape(x).rank()).collect();
    add(
        g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes,
        },
        &[x],
    )
    .expect("sums apply to anything")
}

/// A random graph with outputs (the last node and two others) and a loss; with
/// `grads`, also the gradient of the loss for every param and an SGD update of each.
fn random_case(prog: &[Step], pick: (u8, u8), grads: bool, seed: u64) -> Case {
    let mut g = Graph::new();
    let nodes = build(&mut g, prog);
    let last = *nodes.last().unwrap();
    let f32_nodes: Vec<NodeId> = nodes.iter().copied().filter(|&n| g.dtype(n) == DType::F32).collect();
    g.outputs.push(("last".into(), last));
    for (i, p) in [pick.0, pick.1].iter().enumerate() {
        g.outputs
            .push((format!("o{i}"), f32_nodes[*p as usize % f32_nodes.len()]));
    }
    let l = sum_all(&mut g, last);
    let t = g.add(Op::Unary(Unary::Tanh), &[l], Origin::default()).unwrap();
    g.loss = Some(t);
    if grads {
        nnc::autodiff::add_gradient_outputs(&mut g, true, false).unwrap();
        let lr = g.constant(0.1, Origin::default());
        for (i, decl) in g.params.clone().iter().enumerate() {
            let gr = g.output(&format!("grad.{}", decl.name)).unwrap();
            let step = add(&mut g, Op::Binary(Binary::Mul), &[gr, lr]).unwrap();
            let leaf = g.param_node(i);
            let new = add(&mut g, Op::Binary(Binary::Sub), &[leaf, step]).unwrap();
            g.updates.push((i, new));
        }
    }
    let (inputs, params) = data_for(&g, seed);
    Case { g, inputs, params }
}

fn close(got: &[f32], want: &[f64]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} values, want {}", got.len(), want.len()));
    }
    let scale = want
        .iter()
        .filter(|v| v.is_finite())
        .fold(1e-2f64, |m, v| m.max(v.abs()));
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = g as f64;
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() || w.abs() > f32::MAX as f64 {
            g == w || (g.is_infinite() && g.signum() == w.signum())
        } else {
            (g - w).abs() <= 2e-5 * w.abs() + 2e-6 * (1.0 + scale)
        };
        if !ok {
            return Err(format!("[{i}]: jit {g}, reference {w}"));
        }
    }
    Ok(())
}

fn f64s(t: &Tensor) -> Vec<f64> {
    match &t.data {
        Data::F32(v) => v.iter().map(|&x| x as f64).collect(),
        Data::I32(v) => v.iter().map(|&x| x as f64).collect(),
    }
}

/// Runs the case on the JIT at both levels and compares with `interp::eval::<f64>`.
fn check(case: &Case) -> Result<(), String> {
    let g = &case.g;
    nnc::ir::verify(g, nnc::ir::Expect { grads_expanded: true }).map_err(|e| e.to_string())?;
    let b = bindings(&[]);
    let want = interp::eval::<f64>(g, &b, &case.inputs, &case.params).map_err(|e| e.to_string())?;
    for level in [OptLevel::O0, OptLevel::O1] {
        let exe = Executable::compile(g, &b, &opts(level)).map_err(|e| format!("{level:?}: {e}"))?;
        let mut params = case.params.clone();
        let got = exe
            .run_tensors(&case.inputs, &mut params)
            .map_err(|e| format!("{level:?}: {e}"))?;
        for ((name, w), o) in want.outputs.iter().zip(&got.outputs) {
            close(o.as_f32().unwrap(), &f64s(&w.to_tensor())).map_err(|e| format!("{level:?} output {name}{e}"))?;
        }
        if let (Some(l), Some(w)) = (got.loss, want.loss) {
            close(&[l], &[w]).map_err(|e| format!("{level:?} loss{e}"))?;
        }
        for (p, w) in &want.updates {
            close(params[*p].as_f32().unwrap(), &w.data).map_err(|e| format!("{level:?} update of p{p}{e}"))?;
        }
    }
    Ok(())
}

fn program() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 1..14)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_match_the_interpreter(prog in program(), pick in any::<(u8, u8)>(), seed in any::<u64>()) {
        let case = random_case(&prog, pick, false, seed);
        let r = check(&case);
        prop_assert!(r.is_ok(), "{}\n{}", r.unwrap_err(), nnc::ir::print(&case.g, "case", &|_| None));
    }

    #[test]
    fn random_gradient_graphs_with_updates_match_the_interpreter(prog in program(), pick in any::<(u8, u8)>(), seed in any::<u64>()) {
        let case = random_case(&prog, pick, true, seed);
        let r = check(&case);
        prop_assert!(r.is_ok(), "{}\n{}", r.unwrap_err(), nnc::ir::print(&case.g, "case", &|_| None));
    }
}

/// Every op of the IR on its own, one program step each (with its gradient and update).
#[test]
fn every_op_alone_matches_the_interpreter() {
    for op in 0..24u8 {
        for (a, b) in [(0u8, 0u8), (1, 3), (3, 1), (4, 6), (5, 5), (2, 7)] {
            for grads in [false, true] {
                let case = random_case(&[(op, a, b)], (a, b), grads, (op as u64) << 8 | a as u64);
                if let Err(e) = check(&case) {
                    panic!(
                        "op {op} ({a}, {b}) grads {grads}: {e}\n{}",
                        nnc::ir::print(&case.g, "case", &|_| None)
                    );
                }
            }
        }
    }
}
