//! Shared helpers of the gradient and interpreter tests: graph building shorthands, the
//! composites of the language expanded by hand into primitives (as `sema` does), and a
//! gradient checker by random projection against central finite differences in f64.
#![allow(dead_code)]

use nnc::autodiff::gradients;
use nnc::interp::{eval_nodes_from, NodeValue, NodeValues, Value};
use nnc::ir::{verify, Binary, Dim, Expect, Graph, Init, NodeId, Op, Origin, Reduce, Shape, TensorType, Unary, F64};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

// ---------- building graphs ----------

pub fn add(g: &mut Graph, op: Op, args: &[NodeId]) -> NodeId {
    g.add(op, args, Origin::default()).expect("test graphs are well typed")
}
pub fn un(g: &mut Graph, u: Unary, x: NodeId) -> NodeId {
    add(g, Op::Unary(u), &[x])
}
pub fn bin(g: &mut Graph, b: Binary, x: NodeId, y: NodeId) -> NodeId {
    add(g, Op::Binary(b), &[x, y])
}
pub fn konst(g: &mut Graph, v: f64) -> NodeId {
    g.constant(v, Origin::default())
}
pub fn konst_per(g: &mut Graph, v: f64, per: Dim) -> NodeId {
    add(g, Op::Const { value: F64(v), per }, &[])
}
pub fn reduce(g: &mut Graph, kind: Reduce, axes: &[usize], x: NodeId) -> NodeId {
    add(
        g,
        Op::Reduce {
            kind,
            axes: axes.to_vec(),
        },
        &[x],
    )
}
pub fn sum_all(g: &mut Graph, x: NodeId) -> NodeId {
    let axes: Vec<usize> = (0..g.shape(x).rank()).collect();
    reduce(g, Reduce::Sum, &axes, x)
}
pub fn reshape(g: &mut Graph, x: NodeId, to: Shape) -> NodeId {
    add(g, Op::Reshape(to), &[x])
}
pub fn matmul(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    add(g, Op::MatMul { ta: false, tb: false }, &[a, b])
}
pub fn f32_input(g: &mut Graph, name: &str, shape: Shape) -> NodeId {
    g.add_input(name, TensorType::f32(shape), None)
}
pub fn param(g: &mut Graph, name: &str, shape: Shape) -> NodeId {
    g.add_param(name, shape, Init::Const(0.0), None)
}
pub fn lit(dims: &[usize]) -> Shape {
    Shape(dims.iter().map(|&d| Dim::lit(d as u64)).collect())
}

// ---------- the composites, expanded by hand into primitives ----------

/// `x - logsumexp(x, axis)` with the reduced axis kept.
pub fn log_softmax(g: &mut Graph, x: NodeId, axis: usize) -> NodeId {
    let lse = reduce(g, Reduce::LogSumExp, &[axis], x);
    let keep = g.shape(x).with_axes_one(&[axis]);
    let lse = reshape(g, lse, keep);
    bin(g, Binary::Sub, x, lse)
}
/// `exp(log_softmax(x, axis))`.
pub fn softmax(g: &mut Graph, x: NodeId, axis: usize) -> NodeId {
    let ls = log_softmax(g, x, axis);
    un(g, Unary::Exp, ls)
}
/// `(sum(logsumexp(logits, 1)) - sum(one_hot(labels) * logits)) * (1/N)`.
pub fn cross_entropy(g: &mut Graph, logits: NodeId, labels: NodeId) -> NodeId {
    let s = g.shape(logits).clone();
    let (n, c) = (s.0[0].clone(), s.0[1].clone());
    let lse = reduce(g, Reduce::LogSumExp, &[1], logits);
    let lse = sum_all(g, lse);
    let oh = add(g, Op::OneHot { classes: c }, &[labels]);
    let picked = bin(g, Binary::Mul, oh, logits);
    let picked = sum_all(g, picked);
    let diff = bin(g, Binary::Sub, lse, picked);
    let inv_n = konst_per(g, 1.0, n);
    bin(g, Binary::Mul, diff, inv_n)
}
/// `sum(x) * (1/numel)`.
pub fn mean_all(g: &mut Graph, x: NodeId) -> NodeId {
    let n = g.shape(x).numel().expect("small");
    let s = sum_all(g, x);
    let k = konst_per(g, 1.0, n);
    bin(g, Binary::Mul, s, k)
}
/// `mean((a - b)^2)`.
pub fn mse(g: &mut Graph, a: NodeId, b: NodeId) -> NodeId {
    let d = bin(g, Binary::Sub, a, b);
    let d2 = un(g, Unary::Pow(F64(2.0)), d);
    mean_all(g, d2)
}
/// `0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3)))`.
pub fn gelu(g: &mut Graph, a: NodeId) -> NodeId {
    let a3 = un(g, Unary::Pow(F64(3.0)), a);
    let c = konst(g, 0.044715);
    let t = bin(g, Binary::Mul, c, a3);
    let inner = bin(g, Binary::Add, a, t);
    let k = konst(g, (2.0 / std::f64::consts::PI).sqrt());
    let inner = bin(g, Binary::Mul, k, inner);
    let th = un(g, Unary::Tanh, inner);
    let one = konst(g, 1.0);
    let s = bin(g, Binary::Add, one, th);
    let half = konst(g, 0.5);
    let h = bin(g, Binary::Mul, half, a);
    bin(g, Binary::Mul, h, s)
}
/// `x @ W + b`.
pub fn dense(g: &mut Graph, x: NodeId, w: NodeId, b: NodeId) -> NodeId {
    let m = matmul(g, x, w);
    bin(g, Binary::Add, m, b)
}

// ---------- random values ----------

/// How to draw the values of a differentiated variable: away from the op's kinks and
/// outside its domain's edges, so that finite differences are meaningful.
#[derive(Clone, Copy, Debug)]
pub enum Domain {
    /// uniform on [-2, 2]
    Any,
    /// uniform on [0.5, 2]
    Positive,
    /// |x| uniform on [0.3, 2], random sign
    AwayFromZero,
    /// `offset + 0.2 k` plus noise below 0.02: two grids with offsets 0 and 0.1 never come
    /// within 0.06 of each other (for comparisons)
    Grid(f64),
    /// distinct values at least 0.08 apart (for maxima)
    Distinct,
}

pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

pub fn draw(r: &mut ChaCha8Rng, n: usize, d: Domain) -> Vec<f64> {
    match d {
        Domain::Any => (0..n).map(|_| r.random_range(-2.0..2.0)).collect(),
        Domain::Positive => (0..n).map(|_| r.random_range(0.5..2.0)).collect(),
        Domain::AwayFromZero => (0..n)
            .map(|_| {
                let m: f64 = r.random_range(0.3..2.0);
                if r.random_bool(0.5) {
                    m
                } else {
                    -m
                }
            })
            .collect(),
        Domain::Grid(off) => (0..n)
            .map(|_| off + 0.2 * r.random_range(-10..10) as f64 + r.random_range(-0.02..0.02))
            .collect(),
        Domain::Distinct => {
            let mut v: Vec<f64> = (0..n)
                .map(|k| 0.1 * k as f64 - 0.05 * n as f64 + r.random_range(-0.01..0.01))
                .collect();
            for i in (1..n).rev() {
                let j = r.random_range(0..=i);
                v.swap(i, j);
            }
            v
        }
    }
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

pub fn concrete(s: &Shape) -> Vec<usize> {
    s.dims()
        .iter()
        .map(|d| d.as_lit().expect("literal shape") as usize)
        .collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

// ---------- evaluation ----------

pub fn verified(g: &Graph) {
    if let Err(e) = verify(g, Expect::default()) {
        panic!("{e}\n{}", nnc::ir::print(g, "failed", &|_| None));
    }
}

pub fn eval_f64(g: &Graph, roots: &[NodeId], inputs: &[NodeValue<f64>], params: &[Value<f64>]) -> NodeValues<f64> {
    eval_nodes_from(g, roots, &Default::default(), inputs, params).expect("evaluation succeeds")
}

pub fn values_of(nv: &NodeValues<f64>, id: NodeId) -> Vec<f64> {
    nv.f(id).expect("a float value").data.clone()
}

// ---------- gradient check by random projection ----------

/// A fixed (not differentiated) input of the function under test.
pub struct Fixed {
    pub name: &'static str,
    pub ty: TensorType,
    pub value: NodeValue<f64>,
}

/// Builds the function under test from the variables and the fixed inputs.
pub type BuildFn<'a> = dyn Fn(&mut Graph, &[NodeId], &[NodeId]) -> NodeId + 'a;

/// A function of differentiated variables (params `vars`, drawn from their domains)
/// and fixed inputs, returning a node of any shape.
pub struct Spec<'a> {
    pub vars: Vec<(Vec<usize>, Domain)>,
    pub fixed: Vec<Fixed>,
    pub build: &'a BuildFn<'a>,
    /// Derivative orders to check: 1 = gradient, 2 = also the gradient of a projection
    /// of the gradient, ...
    pub order: usize,
    pub seed: u64,
}

/// Checks `order` levels of derivatives of `f`: level 0 is `S0 = sum(f(x) * U0)`, level
/// `k+1` is `S(k+1) = sum_i sum(dSk/dx_i * U(k+1),i)`; at each level the directional
/// derivative `<dSk/dx, v>` computed by `gradients` must match central differences of `Sk`
/// along `v`. Returns a description of the first mismatch.
pub fn check(spec: &Spec) -> Result<(), String> {
    let mut r = rng(spec.seed);
    let mut g = Graph::new();
    let mut inputs: Vec<NodeValue<f64>> = Vec::new();
    let fixed: Vec<NodeId> = spec
        .fixed
        .iter()
        .map(|f| {
            inputs.push(f.value.clone());
            g.add_input(f.name, f.ty.clone(), None)
        })
        .collect();
    let xs: Vec<NodeId> = spec
        .vars
        .iter()
        .enumerate()
        .map(|(i, (s, _))| param(&mut g, &format!("x{i}"), lit(s)))
        .collect();
    let x0: Vec<Value<f64>> = spec
        .vars
        .iter()
        .map(|(s, d)| Value::new(s.clone(), draw(&mut r, numel(s), *d)))
        .collect();
    let dir: Vec<Vec<f64>> = spec
        .vars
        .iter()
        .map(|(s, _)| draw(&mut r, numel(s), Domain::Any))
        .collect();
    let y = (spec.build)(&mut g, &xs, &fixed);
    verified(&g);
    // S0 = sum(y * U0)
    let mut weigh = |g: &mut Graph, inputs: &mut Vec<NodeValue<f64>>, node: NodeId, name: String| {
        let s = concrete(g.shape(node));
        let u = f32_input(g, &name, lit(&s));
        inputs.push(NodeValue::F(Value::new(
            s.clone(),
            draw(&mut r, numel(&s), Domain::Any),
        )));
        let p = bin(g, Binary::Mul, node, u);
        sum_all(g, p)
    };
    let mut target = weigh(&mut g, &mut inputs, y, "u0".into());
    let mut levels = Vec::new();
    for k in 0..spec.order {
        let grads = gradients(&mut g, target, &xs).map_err(|e| format!("order {}: {e}", k + 1))?;
        verified(&g);
        levels.push((target, grads.clone()));
        if k + 1 < spec.order {
            let mut next = None;
            for (i, &gi) in grads.iter().enumerate() {
                let t = weigh(&mut g, &mut inputs, gi, format!("u{}_{i}", k + 1));
                next = Some(match next {
                    None => t,
                    Some(acc) => bin(&mut g, Binary::Add, acc, t),
                });
            }
            target = next.expect("at least one variable");
        }
    }
    let roots: Vec<NodeId> = levels
        .iter()
        .flat_map(|(t, gs)| std::iter::once(*t).chain(gs.iter().copied()))
        .collect();
    let at = |eps: f64| -> Vec<Value<f64>> {
        x0.iter()
            .zip(&dir)
            .map(|(x, v)| {
                Value::new(
                    x.shape.clone(),
                    x.data.iter().zip(v).map(|(a, b)| a + eps * b).collect(),
                )
            })
            .collect()
    };
    let eps = 1e-5;
    let here = eval_f64(&g, &roots, &inputs, &x0);
    let plus = eval_f64(&g, &roots, &inputs, &at(eps));
    let minus = eval_f64(&g, &roots, &inputs, &at(-eps));
    for (k, (t, grads)) in levels.iter().enumerate() {
        let ad: f64 = grads
            .iter()
            .zip(&dir)
            .map(|(gi, v)| dot(&values_of(&here, *gi), v))
            .sum();
        let (sp, sm) = (values_of(&plus, *t)[0], values_of(&minus, *t)[0]);
        let fd = (sp - sm) / (2.0 * eps);
        let scale = 1.0 + ad.abs() + sp.abs().max(sm.abs());
        // written so that a NaN on either side fails
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !((ad - fd).abs() <= 2e-6 * scale) {
            return Err(format!("order {}: autodiff {ad} vs finite differences {fd}", k + 1));
        }
    }
    Ok(())
}

// ---------- conformance fixtures ----------

/// The tensors of a safetensors file by name; F32, F64 and I32 are read.
pub fn load_safetensors(path: &std::path::Path) -> std::collections::BTreeMap<String, nnc::tensor::Tensor> {
    use safetensors::{Dtype, SafeTensors};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).expect("a safetensors file");
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            let shape = view.shape().to_vec();
            let raw = view.data();
            let t = match view.dtype() {
                Dtype::F32 => nnc::tensor::Tensor::f32(
                    shape,
                    raw.chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                ),
                Dtype::F64 => nnc::tensor::Tensor::f32(
                    shape,
                    raw.chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
                        .collect(),
                ),
                Dtype::I32 => nnc::tensor::Tensor::i32(
                    shape,
                    raw.chunks_exact(4)
                        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                ),
                other => panic!("unexpected dtype {other:?}"),
            };
            (name, t)
        })
        .collect()
}

/// The expected tensors of a case as f64 (read without rounding to f32).
pub fn load_expected(path: &std::path::Path) -> std::collections::BTreeMap<String, (Vec<usize>, Vec<f64>)> {
    use safetensors::{Dtype, SafeTensors};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = SafeTensors::deserialize(&bytes).expect("a safetensors file");
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), Dtype::F64, "{name}");
            let data = view
                .data()
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (name, (view.shape().to_vec(), data))
        })
        .collect()
}

pub fn fixture_dir(case: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(case)
}

/// Runs a hand-built graph of a conformance case in f32 and in f64 (with `--grad` and, when
/// asked, `--grad-inputs`) and compares every expected tensor within
/// `|got - want| <= atol + 1e-3 |want|`.
pub fn run_conformance(case: &str, mut g: Graph, grad_inputs: bool, atol: f64) {
    let dir = fixture_dir(case);
    let params = load_safetensors(&dir.join("params.safetensors"));
    let inputs = load_safetensors(&dir.join("inputs.safetensors"));
    let expected = load_expected(&dir.join("expected.safetensors"));
    let ins: Vec<nnc::tensor::Tensor> = g.inputs.iter().map(|d| inputs[&d.name].clone()).collect();
    let ps: Vec<nnc::tensor::Tensor> = g.params.iter().map(|d| params[&d.name].clone()).collect();
    nnc::autodiff::add_gradient_outputs(&mut g, true, grad_inputs).expect("differentiable");
    verify(&g, Expect { grads_expanded: true }).expect("verified");
    let got32 = nnc::interp::eval::<f32>(&g, &Default::default(), &ins, &ps).expect("f32 evaluation");
    let got64 = nnc::interp::eval::<f64>(&g, &Default::default(), &ins, &ps).expect("f64 evaluation");
    let mut checked = 0;
    for (name, (shape, want)) in &expected {
        let pick32 = |n: &str| -> (Vec<usize>, Vec<f64>) {
            if n == "loss" {
                (vec![], vec![got32.loss.expect("a loss") as f64])
            } else {
                let v = got32
                    .output(n)
                    .unwrap_or_else(|| panic!("{case}: no output {n}"))
                    .as_f()
                    .unwrap();
                (v.shape.clone(), v.to_f64())
            }
        };
        let pick64 = |n: &str| -> (Vec<usize>, Vec<f64>) {
            if n == "loss" {
                (vec![], vec![got64.loss.expect("a loss")])
            } else {
                let v = got64.output(n).unwrap().as_f().unwrap();
                (v.shape.clone(), v.data.clone())
            }
        };
        for (precision, (gshape, got)) in [("f32", pick32(name)), ("f64", pick64(name))] {
            assert_eq!(&gshape, shape, "{case}: {name} shape ({precision})");
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert!(
                    (g - w).abs() <= atol + 1e-3 * w.abs(),
                    "{case}: {name}[{i}] ({precision}) got {g}, want {w}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 2, "{case}: compared {checked} tensors");
}
