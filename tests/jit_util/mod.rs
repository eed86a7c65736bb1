//! Helpers shared by the JIT tests: building small graphs and running them at both
//! optimisation levels.
#![allow(dead_code)]

use nnc::ir::{Bindings, DType, Dim, Graph, Init, NodeId, Op, Origin, Shape, TensorType};
use nnc::runtime::{Executable, OptLevel, Options, Results};
use nnc::tensor::Tensor;
use std::sync::Arc;

pub fn opts(level: OptLevel) -> Options {
    Options {
        opt_level: level,
        threads: 1,
        verify: true,
        keep_clif: false,
    }
}

pub fn lit(d: &[u64]) -> Shape {
    Shape::lit(d)
}

pub fn bindings(pairs: &[(&str, usize)]) -> Bindings {
    pairs.iter().map(|(k, v)| (Arc::from(*k), *v)).collect()
}

pub fn input(g: &mut Graph, name: &str, shape: Shape) -> NodeId {
    g.add_input(name, TensorType::f32(shape), None)
}

pub fn labels(g: &mut Graph, name: &str, shape: Shape) -> NodeId {
    g.add_input(
        name,
        TensorType {
            dtype: DType::I32,
            shape,
        },
        None,
    )
}

pub fn param(g: &mut Graph, name: &str, shape: Shape) -> NodeId {
    g.add_param(name, shape, Init::Const(0.0), None)
}

pub fn op(g: &mut Graph, op: Op, args: &[NodeId]) -> NodeId {
    g.add(op, args, Origin::default()).expect("test graphs are well typed")
}

pub fn var(n: &str) -> Dim {
    Dim::var(n)
}

/// Runs at both levels and checks that they agree to within rounding, returning the O1
/// results.
pub fn run_both(g: &Graph, b: &Bindings, inputs: &[Tensor], params: &[Tensor]) -> Results {
    let mut results = Vec::new();
    for level in [OptLevel::O0, OptLevel::O1] {
        let exe = Executable::compile(g, b, &opts(level)).unwrap_or_else(|e| panic!("{level:?}: {e}"));
        let mut ps = params.to_vec();
        let r = exe
            .run_tensors(inputs, &mut ps)
            .unwrap_or_else(|e| panic!("{level:?}: {e}"));
        results.push((r, ps));
    }
    let (r1, p1) = results.pop().unwrap();
    let (r0, p0) = results.pop().unwrap();
    for (a, b) in r0.outputs.iter().zip(&r1.outputs) {
        assert_close(a.as_f32().unwrap(), b.as_f32().unwrap(), 1e-5, "O0 vs O1 output");
    }
    for (a, b) in p0.iter().zip(&p1) {
        assert_close(a.as_f32().unwrap(), b.as_f32().unwrap(), 1e-5, "O0 vs O1 params");
    }
    if let (Some(a), Some(b)) = (r0.loss, r1.loss) {
        assert_close(&[a], &[b], 1e-5, "O0 vs O1 loss");
    }
    r1
}

pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * (1.0 + w.abs());
        assert!(
            ok,
            "{what}: element {i}: got {g}, want {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

pub fn t(shape: &[usize], data: &[f32]) -> Tensor {
    Tensor::f32(shape.to_vec(), data.to_vec())
}

/// Deterministic pseudo-random data in [-2, 2).
pub fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect()
}

/// Row-major strides.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of flat position `f`.
pub fn unflat(f: usize, shape: &[usize]) -> Vec<usize> {
    let st = strides(shape);
    shape.iter().zip(&st).map(|(&d, &s)| (f / s) % d.max(1)).collect()
}

/// NumPy broadcast of `x` (shape `from`) to `to`.
pub fn bcast(x: &[f32], from: &[usize], to: &[usize]) -> Vec<f32> {
    let n: usize = to.iter().product();
    let lead = to.len() - from.len();
    let fs = strides(from);
    (0..n)
        .map(|f| {
            let idx = unflat(f, to);
            let mut off = 0;
            for j in 0..from.len() {
                if from[j] != 1 {
                    off += idx[j + lead] * fs[j];
                }
            }
            x[off]
        })
        .collect()
}

/// Reduction of `x` (shape `shape`) over `axes` with `init` and `f`.
pub fn reduce(x: &[f32], shape: &[usize], axes: &[usize], init: f64, f: impl Fn(f64, f64) -> f64) -> Vec<f32> {
    let out_shape: Vec<usize> = (0..shape.len())
        .filter(|a| !axes.contains(a))
        .map(|a| shape[a])
        .collect();
    let os = strides(&out_shape);
    let mut out = vec![init; out_shape.iter().product()];
    for (fl, &v) in x.iter().enumerate() {
        let idx = unflat(fl, shape);
        let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).map(|a| idx[a]).collect();
        let o: usize = kept.iter().zip(&os).map(|(i, s)| i * s).sum();
        out[o] = f(out[o], v as f64);
    }
    out.into_iter().map(|v| v as f32).collect()
}

/// `a @ b` for row-major `a: [m, k]`, `b: [k, n]`.
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for l in 0..k {
                s += a[i * k + l] as f64 * b[l * n + j] as f64;
            }
            c[i * n + j] = s as f32;
        }
    }
    c
}

/// The transpose of a row-major `[r, c]` matrix.
pub fn transpose(a: &[f32], r: usize, c: usize) -> Vec<f32> {
    let mut o = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            o[j * r + i] = a[i * c + j];
        }
    }
    o
}

/// The MNIST classifier's training step (784 -> 128 -> 64 -> 10, relu, softmax cross
/// entropy on i32 labels, SGD with `lr`), with the backward pass written out by hand the
/// way reverse-mode differentiation produces it. Params: W1 b1 W2 b2 W3 b3.
pub fn mlp_train_graph(lr: f64) -> Graph {
    use nnc::ir::{Binary, Reduce, Unary, F64};
    let mut g = Graph::new();
    let n = Dim::var("N");
    let x = input(&mut g, "x", Shape(vec![n.clone(), Dim::lit(784)]));
    let y = labels(&mut g, "y", Shape(vec![n.clone()]));
    let sizes = [784u64, 128, 64, 10];
    let mut ws = Vec::new();
    let mut bs = Vec::new();
    for l in 0..3 {
        ws.push(param(&mut g, &format!("W{}", l + 1), lit(&[sizes[l], sizes[l + 1]])));
        bs.push(param(&mut g, &format!("b{}", l + 1), lit(&[sizes[l + 1]])));
    }
    let mm = |g: &mut Graph, a, b, ta, tb| op(g, Op::MatMul { ta, tb }, &[a, b]);
    let bin = |g: &mut Graph, k, a, b| op(g, Op::Binary(k), &[a, b]);
    // forward
    let mut h = x;
    let mut pre = Vec::new();
    let mut acts = vec![x];
    for l in 0..3 {
        let z = mm(&mut g, h, ws[l], false, false);
        let a = bin(&mut g, Binary::Add, z, bs[l]);
        if l < 2 {
            pre.push(a);
            h = op(&mut g, Op::Unary(Unary::Relu), &[a]);
            acts.push(h);
        } else {
            h = a;
        }
    }
    let logits = h;
    let lse = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::LogSumExp,
            axes: vec![1],
        },
        &[logits],
    );
    let lse_col = op(&mut g, Op::Reshape(Shape(vec![n.clone(), Dim::one()])), &[lse]);
    let logp = bin(&mut g, Binary::Sub, logits, lse_col);
    let oh = op(&mut g, Op::OneHot { classes: Dim::lit(10) }, &[y]);
    let picked = bin(&mut g, Binary::Mul, oh, logp);
    let total = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[picked],
    );
    let minus_inv_n = op(
        &mut g,
        Op::Const {
            value: F64(-1.0),
            per: n.clone(),
        },
        &[],
    );
    let loss = bin(&mut g, Binary::Mul, total, minus_inv_n);
    g.loss = Some(loss);
    g.outputs.push(("logits".into(), logits));
    // backward
    let inv_n = op(
        &mut g,
        Op::Const {
            value: F64(1.0),
            per: n.clone(),
        },
        &[],
    );
    let p = op(&mut g, Op::Unary(Unary::Exp), &[logp]);
    let diff = bin(&mut g, Binary::Sub, p, oh);
    let mut d = bin(&mut g, Binary::Mul, diff, inv_n);
    let mut grads = vec![None; 6];
    for l in (0..3).rev() {
        let db = op(
            &mut g,
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0],
            },
            &[d],
        );
        let dw = mm(&mut g, acts[l], d, true, false);
        grads[2 * l] = Some(dw);
        grads[2 * l + 1] = Some(db);
        if l > 0 {
            let dh = mm(&mut g, d, ws[l], false, true);
            let mask = op(&mut g, Op::Unary(Unary::Step), &[pre[l - 1]]);
            d = bin(&mut g, Binary::Mul, dh, mask);
        }
    }
    let lr = g.constant(lr, Default::default());
    for (i, gr) in grads.into_iter().enumerate() {
        let leaf = if i % 2 == 0 { ws[i / 2] } else { bs[i / 2] };
        let step = bin(&mut g, Binary::Mul, gr.unwrap(), lr);
        let new = bin(&mut g, Binary::Sub, leaf, step);
        g.updates.push((i, new));
    }
    g
}

/// Params of the MLP: small deterministic weights, zero biases.
pub fn mlp_params() -> Vec<Tensor> {
    let sizes = [784usize, 128, 64, 10];
    let mut v = Vec::new();
    for l in 0..3 {
        let scale = (2.0 / sizes[l] as f32).sqrt() / 2.0;
        let w: Vec<f32> = data(sizes[l] * sizes[l + 1], 100 + l as u64)
            .iter()
            .map(|x| x * scale)
            .collect();
        v.push(Tensor::f32(vec![sizes[l], sizes[l + 1]], w));
        v.push(Tensor::zeros(vec![sizes[l + 1]]));
    }
    v
}
