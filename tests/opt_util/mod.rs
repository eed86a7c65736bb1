//! Shared helpers of the optimiser tests: a tiny s-expression notation for graphs (to
//! write rule tests as one line each), the models of the real workloads built by hand, and
//! a comparison of a graph's results before and after optimisation in f32 and f64.
#![allow(dead_code)]

pub mod random;

use super::grad_util::*;
use nnc::interp::{eval_nodes_from, NodeValue, NodeValues, Value};
use nnc::ir::{Binary, DType, Dim, Graph, NodeId, Op, Reduce, Shape, TensorType, Unary, F64};
use nnc::opt::{optimize, PassOptions, PassReport};
use std::collections::HashMap;

/// Options for tests: verify after every pass.
pub fn opts() -> PassOptions {
    PassOptions {
        verify: true,
        ..PassOptions::default()
    }
}

/// Optimises with [`opts`], panicking with the graph if the verifier fails.
pub fn optimized(g: &mut Graph) -> PassReport {
    optimize(g, &opts()).unwrap_or_else(|e| panic!("{e}"))
}

pub fn n() -> Dim {
    Dim::var("N")
}

/// The variables of the s-expression cases: `(name, dims)`; `N` is bound to 2.
pub const VARS: &[(&str, &str)] = &[
    ("x", "N 3"),
    ("y", "N 3"),
    ("s", ""),
    ("v", "3"),
    ("col", "N 1"),
    ("a", "N 4"),
    ("w", "4 3"),
];

/// A graph with the variables of [`VARS`] as f32 inputs and the labels input `lbl: i32[N]`.
pub fn env() -> (Graph, HashMap<String, NodeId>) {
    let mut g = Graph::new();
    let mut vars = HashMap::new();
    for (name, dims) in VARS {
        let id = f32_input(&mut g, name, parse_shape(dims));
        vars.insert(name.to_string(), id);
    }
    let lbl = g.add_input(
        "lbl",
        TensorType {
            dtype: DType::I32,
            shape: Shape(vec![n()]),
        },
        None,
    );
    vars.insert("lbl".into(), lbl);
    (g, vars)
}

/// Random values for the inputs of [`env`] with `N = 2` (f32-representable).
pub fn env_inputs(g: &Graph, seed: u64) -> Vec<NodeValue<f64>> {
    let mut r = rng(seed);
    g.inputs
        .iter()
        .map(|d| {
            let shape: Vec<usize> =
                d.ty.shape
                    .dims()
                    .iter()
                    .map(|x| x.as_lit().unwrap_or(2) as usize)
                    .collect();
            let k = numel(&shape);
            match d.ty.dtype {
                DType::F32 => NodeValue::F(Value::new(shape, f32_values(draw(&mut r, k, Domain::Any)))),
                DType::I32 => NodeValue::Labels {
                    shape,
                    data: (0..k as i32).map(|i| i % 3).collect(),
                },
            }
        })
        .collect()
}

pub fn f32_values(v: Vec<f64>) -> Vec<f64> {
    v.into_iter().map(|x| x as f32 as f64).collect()
}

fn parse_dim(t: &str) -> Dim {
    t.split('*')
        .map(|f| match f.parse::<u64>() {
            Ok(k) => Dim::lit(k),
            Err(_) => Dim::var(f),
        })
        .reduce(|a, b| a.checked_mul(&b).expect("small"))
        .expect("a dimension")
}

fn parse_shape(dims: &str) -> Shape {
    Shape(dims.split_whitespace().map(parse_dim).collect())
}

/// An s-expression: an atom or a list.
#[derive(Debug)]
enum Sx {
    Atom(String),
    List(Vec<Sx>),
}

fn read(tokens: &mut std::iter::Peekable<std::vec::IntoIter<String>>) -> Sx {
    let t = tokens.next().expect("unexpected end");
    if t == "(" {
        let mut items = Vec::new();
        while tokens.peek().map(String::as_str) != Some(")") {
            items.push(read(tokens));
        }
        tokens.next();
        Sx::List(items)
    } else {
        Sx::Atom(t)
    }
}

/// Builds `src` in `g`. Atoms: variable names, numbers (`2`, `-0.5`), constants with a
/// divisor (`1/N`, `2/8`). Lists: `(op args..)` with unary ops by name (`neg exp log sqrt
/// abs sign tanh sigmoid relu step softplus sin cos`), `(pow x c)`, binary `add sub mul div
/// max min ge`, `(sum|rmax|lse x axes..)`, `(bcast|reshape x dims..)`, `(t x)`,
/// `(mm|mm_ta|mm_tb|mm_tatb a b)`, `(onehot lbl classes)`.
pub fn build(g: &mut Graph, vars: &HashMap<String, NodeId>, src: &str) -> NodeId {
    let spaced = src.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<String> = spaced.split_whitespace().map(str::to_string).collect();
    let sx = read(&mut tokens.into_iter().peekable());
    lower(g, vars, &sx)
}

fn lower(g: &mut Graph, vars: &HashMap<String, NodeId>, sx: &Sx) -> NodeId {
    let items = match sx {
        Sx::Atom(a) => return atom(g, vars, a),
        Sx::List(items) => items,
    };
    let Sx::Atom(head) = &items[0] else {
        panic!("operator expected")
    };
    let rest = &items[1..];
    let text = |k: usize| match &rest[k] {
        Sx::Atom(a) => a.clone(),
        Sx::List(_) => panic!("atom expected"),
    };
    let tail = |from: usize| (from..rest.len()).map(text).collect::<Vec<_>>();
    let unary = |h: &str| -> Option<Unary> {
        Some(match h {
            "neg" => Unary::Neg,
            "exp" => Unary::Exp,
            "log" => Unary::Log,
            "sqrt" => Unary::Sqrt,
            "abs" => Unary::Abs,
            "sign" => Unary::Sign,
            "tanh" => Unary::Tanh,
            "sigmoid" => Unary::Sigmoid,
            "relu" => Unary::Relu,
            "step" => Unary::Step,
            "softplus" => Unary::Softplus,
            "sin" => Unary::Sin,
            "cos" => Unary::Cos,
            _ => return None,
        })
    };
    let binary = |h: &str| -> Option<Binary> {
        Some(match h {
            "add" => Binary::Add,
            "sub" => Binary::Sub,
            "mul" => Binary::Mul,
            "div" => Binary::Div,
            "max" => Binary::Max,
            "min" => Binary::Min,
            "ge" => Binary::GreaterEq,
            _ => return None,
        })
    };
    let (op, args): (Op, Vec<&Sx>) = if let Some(u) = unary(head) {
        (Op::Unary(u), vec![&rest[0]])
    } else if let Some(b) = binary(head) {
        (Op::Binary(b), vec![&rest[0], &rest[1]])
    } else {
        match head.as_str() {
            "pow" => (Op::Unary(Unary::Pow(F64(text(1).parse().unwrap()))), vec![&rest[0]]),
            "sum" | "rmax" | "lse" => {
                let kind = match head.as_str() {
                    "sum" => Reduce::Sum,
                    "rmax" => Reduce::Max,
                    _ => Reduce::LogSumExp,
                };
                let axes = tail(1).iter().map(|a| a.parse().unwrap()).collect();
                (Op::Reduce { kind, axes }, vec![&rest[0]])
            }
            "bcast" => (Op::BroadcastTo(parse_shape(&tail(1).join(" "))), vec![&rest[0]]),
            "reshape" => (Op::Reshape(parse_shape(&tail(1).join(" "))), vec![&rest[0]]),
            "t" => (Op::Transpose, vec![&rest[0]]),
            "mm" | "mm_ta" | "mm_tb" | "mm_tatb" => (
                Op::MatMul {
                    ta: head.contains("ta"),
                    tb: head.ends_with("tb"),
                },
                vec![&rest[0], &rest[1]],
            ),
            "onehot" => (
                Op::OneHot {
                    classes: parse_dim(&text(1)),
                },
                vec![&rest[0]],
            ),
            other => panic!("unknown operator {other}"),
        }
    };
    let args: Vec<NodeId> = args.into_iter().map(|a| lower(g, vars, a)).collect();
    g.add(op, &args, Default::default())
        .unwrap_or_else(|e| panic!("ill-typed case {sx:?}: {e}"))
}

fn atom(g: &mut Graph, vars: &HashMap<String, NodeId>, a: &str) -> NodeId {
    if let Some(&id) = vars.get(a) {
        return id;
    }
    let (value, per) = match a.split_once('/') {
        Some((v, p)) => (v, parse_dim(p)),
        None => (a, Dim::one()),
    };
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("unknown name {a}"));
    konst_per(g, value, per)
}

/// The s-expression of the value of `n` (shared nodes written out each time).
pub fn show(g: &Graph, n: NodeId) -> String {
    let node = g.node(n);
    let args: Vec<String> = g.args(n).into_iter().map(|a| show(g, a)).collect();
    let dims = |s: &Shape| s.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" ");
    let list = |head: String, extra: String| {
        let mut parts = vec![head];
        parts.extend(args.iter().cloned());
        if !extra.is_empty() {
            parts.push(extra);
        }
        format!("({})", parts.join(" "))
    };
    match &node.op {
        Op::Input(i) => g.inputs[*i].name.clone(),
        Op::Param(i) => g.params[*i].name.clone(),
        Op::Const { value, per } if per.is_one() => number(value.0),
        Op::Const { value, per } => format!("{}/{}", number(value.0), per),
        Op::Unary(Unary::Pow(c)) => list("pow".into(), format!("{}", c.0)),
        Op::Unary(u) => list(format!("{u:?}").to_lowercase(), String::new()),
        Op::Binary(Binary::GreaterEq) => list("ge".into(), String::new()),
        Op::Binary(b) => list(format!("{b:?}").to_lowercase(), String::new()),
        Op::Reduce { kind, axes } => {
            let head = match kind {
                Reduce::Sum => "sum",
                Reduce::Max => "rmax",
                Reduce::LogSumExp => "lse",
            };
            let axes = axes.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ");
            list(head.into(), axes)
        }
        Op::BroadcastTo(s) => list("bcast".into(), dims(s)),
        Op::Reshape(s) => list("reshape".into(), dims(s)),
        Op::Transpose => list("t".into(), String::new()),
        Op::MatMul { ta, tb } => {
            let head = match (ta, tb) {
                (false, false) => "mm",
                (true, false) => "mm_ta",
                (false, true) => "mm_tb",
                (true, true) => "mm_tatb",
            };
            list(head.into(), String::new())
        }
        Op::OneHot { classes } => list("onehot".into(), classes.to_string()),
        other => list(other.name(), String::new()),
    }
}

/// A number as the cases write it: `2`, `-0.25`, `1e30`.
fn number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

// ---------- comparing results ----------

/// Evaluates every root of `g` in precision `T`.
pub fn roots<T: nnc::interp::Float>(
    g: &Graph,
    inputs: &[NodeValue<f64>],
    params: &[Value<f64>],
) -> (Vec<Vec<f64>>, NodeValues<T>) {
    let ins: Vec<NodeValue<T>> = inputs
        .iter()
        .map(|v| match v {
            NodeValue::F(v) => NodeValue::F(Value::new(
                v.shape.clone(),
                v.data.iter().map(|&x| T::from_f64(x)).collect(),
            )),
            NodeValue::Labels { shape, data } => NodeValue::Labels {
                shape: shape.clone(),
                data: data.clone(),
            },
        })
        .collect();
    let ps: Vec<Value<T>> = params
        .iter()
        .map(|v| Value::new(v.shape.clone(), v.data.iter().map(|&x| T::from_f64(x)).collect()))
        .collect();
    let all: Vec<NodeId> = g.schedule();
    let nv = eval_nodes_from::<T>(g, &all, &Default::default(), &ins, &ps).expect("evaluation succeeds");
    let vals = g
        .roots()
        .iter()
        .map(|&r| nv.f(r).expect("a float root").to_f64())
        .collect();
    (vals, nv)
}

/// The largest finite magnitude of any node's value: the scale that rounding errors of
/// intermediate results are relative to.
fn magnitude<T: nnc::interp::Float>(g: &Graph, nv: &NodeValues<T>) -> f64 {
    g.schedule()
        .iter()
        .filter_map(|&n| nv.f(n))
        .flat_map(|v| v.to_f64())
        .filter(|x| x.is_finite())
        .fold(0.0, |m, x| m.max(x.abs()))
}

/// Whether `after` is an acceptable value for `before`: equal within `tol`, both NaN, the
/// same infinity, or finite where `before` overflowed to an infinity or to the NaN of
/// `inf - inf` (the rewrites that avoid an overflow: `log(exp(x)) = x`, reassociation).
pub fn close(before: f64, after: f64, tol: f64) -> bool {
    if before.is_nan() {
        return after.is_nan() || after.is_finite();
    }
    if before.is_infinite() {
        return after == before || after.is_finite();
    }
    (before - after).abs() <= tol
}

/// Checks that `after` computes what `before` computes, in f64 and in f32, within `rel`
/// times the largest intermediate magnitude (`rel64` for f64, `rel32` for f32). Returns a
/// description of the first difference.
pub fn same_results(
    before: &Graph,
    after: &Graph,
    inputs: &[NodeValue<f64>],
    params: &[Value<f64>],
    rel64: f64,
    rel32: f64,
) -> Result<(), String> {
    fn one<T: nnc::interp::Float>(
        before: &Graph,
        after: &Graph,
        inputs: &[NodeValue<f64>],
        params: &[Value<f64>],
        rel: f64,
        name: &str,
    ) -> Result<(), String> {
        let (b, nv) = roots::<T>(before, inputs, params);
        let (a, _) = roots::<T>(after, inputs, params);
        let tol = rel * (1.0 + magnitude(before, &nv));
        for (k, (rb, ra)) in b.iter().zip(&a).enumerate() {
            if rb.len() != ra.len() {
                return Err(format!("{name}: root {k} has {} elements, was {}", ra.len(), rb.len()));
            }
            for (i, (x, y)) in rb.iter().zip(ra).enumerate() {
                if !close(*x, *y, tol) {
                    return Err(format!(
                        "{name}: root {k}[{i}]: {y} after, {x} before (tolerance {tol:e})"
                    ));
                }
            }
        }
        Ok(())
    }
    if before.roots().len() != after.roots().len() {
        return Err("the roots changed".into());
    }
    one::<f64>(before, after, inputs, params, rel64, "f64")?;
    one::<f32>(before, after, inputs, params, rel32, "f32")
}

/// Whether `after` gives bit-identical roots to `before` in precision `T`.
pub fn bit_identical<T: nnc::interp::Float>(
    before: &Graph,
    after: &Graph,
    inputs: &[NodeValue<f64>],
    params: &[Value<f64>],
) -> bool {
    let (b, _) = roots::<T>(before, inputs, params);
    let (a, _) = roots::<T>(after, inputs, params);
    b.iter().zip(&a).all(|(x, y)| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
    })
}

// ---------- the real workloads, built by hand as the front end lowers them ----------

/// The MNIST MLP of LANGUAGE.md §1 (784-128-64-10, ReLU), with its `logits` and `probs`
/// outputs and cross-entropy loss, differentiated (`grad.*` outputs). `sizes` replaces
/// 784/128/64/10 so that tests can evaluate it small.
pub fn mnist_mlp(sizes: [usize; 4]) -> Graph {
    let mut g = Graph::new();
    let x = f32_input(&mut g, "x", Shape(vec![n(), Dim::lit(sizes[0] as u64)]));
    let y = g.add_input(
        "y",
        TensorType {
            dtype: DType::I32,
            shape: Shape(vec![n()]),
        },
        None,
    );
    let mut h = x;
    let mut logits = x;
    for (k, pair) in sizes.windows(2).enumerate() {
        let w = param(&mut g, &format!("W{}", k + 1), lit(pair));
        let b = param(&mut g, &format!("b{}", k + 1), lit(&pair[1..]));
        logits = dense(&mut g, h, w, b);
        h = un(&mut g, Unary::Relu, logits);
    }
    g.outputs.push(("logits".into(), logits));
    let probs = softmax(&mut g, logits, 1);
    g.outputs.push(("probs".into(), probs));
    g.loss = Some(cross_entropy(&mut g, logits, y));
    nnc::autodiff::add_gradient_outputs(&mut g, true, false).expect("differentiable");
    g
}

/// The training step: the gradient outputs of `g` become SGD updates `p - lr * grad.p`.
pub fn with_sgd(mut g: Graph, lr: f64) -> Graph {
    let grads: Vec<(usize, NodeId)> = g
        .outputs
        .iter()
        .filter_map(|(name, id)| {
            let p = name.strip_prefix("grad.")?;
            Some((g.params.iter().position(|d| d.name == p)?, *id))
        })
        .collect();
    g.outputs.retain(|o| !o.0.starts_with("grad."));
    for (i, gr) in grads {
        let k = konst(&mut g, lr);
        let step = bin(&mut g, Binary::Mul, k, gr);
        let p = g.param_node(i);
        let u = bin(&mut g, Binary::Sub, p, step);
        g.updates.push((i, u));
    }
    g
}

/// The training step with Adam: each gradient output `g` of a param `p` adds params `m`,
/// `v` and the updates `m' = b1 m + (1-b1) g`, `v' = b2 v + (1-b2) g*g`,
/// `p' = p - lr m' / (sqrt(v') + eps)` (bias correction folded into `lr`).
pub fn with_adam(mut g: Graph) -> Graph {
    let grads: Vec<(usize, NodeId)> = g
        .outputs
        .iter()
        .filter_map(|(name, id)| {
            let p = name.strip_prefix("grad.")?;
            Some((g.params.iter().position(|d| d.name == p)?, *id))
        })
        .collect();
    g.outputs.retain(|o| !o.0.starts_with("grad."));
    for (i, gr) in grads {
        let shape = g.params[i].shape.clone();
        let name = g.params[i].name.clone();
        let m = param(&mut g, &format!("adam.m.{name}"), shape.clone());
        let v = param(&mut g, &format!("adam.v.{name}"), shape);
        let ema = |g: &mut Graph, beta: f64, old: NodeId, new: NodeId| {
            let b = konst(g, beta);
            let one = konst(g, 1.0);
            let rest = bin(g, Binary::Sub, one, b);
            let kept = bin(g, Binary::Mul, b, old);
            let added = bin(g, Binary::Mul, rest, new);
            bin(g, Binary::Add, kept, added)
        };
        let m2 = ema(&mut g, 0.9, m, gr);
        let gg = bin(&mut g, Binary::Mul, gr, gr);
        let v2 = ema(&mut g, 0.999, v, gg);
        let root = un(&mut g, Unary::Sqrt, v2);
        let eps = konst(&mut g, 1e-8);
        let den = bin(&mut g, Binary::Add, root, eps);
        let q = bin(&mut g, Binary::Div, m2, den);
        let lr = konst(&mut g, 1e-3);
        let step = bin(&mut g, Binary::Mul, lr, q);
        let p = g.param_node(i);
        let u = bin(&mut g, Binary::Sub, p, step);
        let (mi, vi) = (g.params.len() - 2, g.params.len() - 1);
        g.updates.push((i, u));
        g.updates.push((mi, m2));
        g.updates.push((vi, v2));
    }
    g
}

/// Random f32-representable values for every param of `g`.
pub fn random_params(g: &Graph, seed: u64, bindings: usize) -> Vec<Value<f64>> {
    let mut r = rng(seed);
    g.params
        .iter()
        .map(|d| {
            let shape: Vec<usize> = d
                .shape
                .dims()
                .iter()
                .map(|x| x.as_lit().unwrap_or(bindings as u64) as usize)
                .collect();
            let k = numel(&shape);
            Value::new(
                shape,
                f32_values(draw(&mut r, k, Domain::Any).iter().map(|x| x * 0.5).collect()),
            )
        })
        .collect()
}

/// Whether any `Transpose` node feeds a `MatMul`.
pub fn transpose_feeds_matmul(g: &Graph) -> bool {
    g.schedule()
        .iter()
        .any(|&n| matches!(g.node(n).op, Op::MatMul { .. }) && g.args(n).iter().any(|&a| g.node(a).op == Op::Transpose))
}

/// How many live nodes have an op satisfying `is`.
pub fn count(g: &Graph, is: impl Fn(&Op) -> bool) -> usize {
    g.schedule().iter().filter(|&&n| is(&g.node(n).op)).count()
}
