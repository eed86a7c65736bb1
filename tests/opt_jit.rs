//! The optimised graphs through the JIT: every conformance case (with gradients) and the
//! MNIST training steps compile after the graph passes, give the results of the
//! unoptimised graph, and never cost more kernels or floating-point operations.

mod grad_util;
mod opt_util;

use nnc::ir::{Bindings, Graph};
use nnc::runtime::{Executable, OptLevel, Options, Results};
use nnc::tensor::Tensor;
use nnc::train::{build_step, Optimizer};
use nnc::{Backend, Model};
use opt_util::*;
use std::path::{Path, PathBuf};

fn jit() -> Options {
    Options {
        opt_level: OptLevel::O1,
        threads: 1,
        verify: true,
        keep_clif: false,
    }
}

fn interpreted() -> nnc::Options {
    nnc::Options {
        backend: Backend::Interpreter,
        ..nnc::Options::default()
    }
}

fn value_cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/conformance")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("expected.safetensors").exists())
        .collect();
    cases.sort();
    cases
}

/// Compiles and runs `g`; returns the results, the params after updates and the stats.
fn run(
    g: &Graph,
    b: &Bindings,
    inputs: &[Tensor],
    params: &[Tensor],
) -> Result<(Results, Vec<Tensor>, nnc::runtime::Stats), String> {
    let exe = Executable::compile(g, b, &jit()).map_err(|e| e.to_string())?;
    let mut ps = params.to_vec();
    let r = exe.run_tensors(inputs, &mut ps).map_err(|e| e.to_string())?;
    Ok((r, ps, exe.stats().clone()))
}

fn compare(what: &str, want: &[f32], got: &[f32]) -> Result<(), String> {
    if want.len() != got.len() {
        return Err(format!("{what}: {} values, want {}", got.len(), want.len()));
    }
    for (i, (x, y)) in want.iter().zip(got).enumerate() {
        let ok = (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-4 + 1e-4 * x.abs();
        if !ok {
            return Err(format!("{what}[{i}]: {y}, want {x}"));
        }
    }
    Ok(())
}

/// The interpreter's f32 results of `g` (outputs, loss, updated params), the oracle.
fn reference(g: &Graph, inputs: &[Tensor], params: &[Tensor]) -> Result<(Results, Vec<Tensor>), String> {
    let v = nnc::interp::eval::<f32>(g, &Default::default(), inputs, params).map_err(|e| e.to_string())?;
    let mut ps = params.to_vec();
    for (p, value) in &v.updates {
        ps[*p] = value.to_tensor();
    }
    let outputs = v.outputs.iter().map(|o| o.1.to_tensor()).collect();
    Ok((Results { outputs, loss: v.loss }, ps))
}

/// Whether the JIT's results of `g` are the interpreter's `want`.
fn agrees(
    g: &Graph,
    b: &Bindings,
    inputs: &[Tensor],
    params: &[Tensor],
    want: &(Results, Vec<Tensor>),
) -> Result<nnc::runtime::Stats, String> {
    let (r, ps, stats) = run(g, b, inputs, params)?;
    for ((name, _), (x, y)) in g.outputs.iter().zip(want.0.outputs.iter().zip(&r.outputs)) {
        compare(name, x.as_f32().ok_or("f32")?, y.as_f32().ok_or("f32")?)?;
    }
    if let (Some(x), Some(y)) = (want.0.loss, r.loss) {
        compare("loss", &[x], &[y])?;
    }
    for (k, (x, y)) in want.1.iter().zip(&ps).enumerate() {
        compare(
            &format!("param {k}"),
            x.as_f32().ok_or("f32")?,
            y.as_f32().ok_or("f32")?,
        )?;
    }
    Ok(stats)
}

/// How `g` fared in the JIT before and after the graph passes.
enum Outcome {
    /// Both agree with the interpreter; the costs before and after.
    Both(nnc::runtime::Stats, nnc::runtime::Stats),
    /// The unoptimised graph already fails in the JIT (a JIT bug); the optimised one
    /// agrees with the interpreter.
    OnlyOptimised(String),
    /// Both fail in the JIT, the optimised graph as the unoptimised one does.
    Neither(String),
}

/// Runs `g` unoptimised and optimised in the JIT against the interpreter's results of the
/// unoptimised graph. An error only when the optimised graph fails where the other does not.
fn both(g: &Graph, b: &Bindings, inputs: &[Tensor], params: &[Tensor]) -> Result<Outcome, String> {
    let mut opt = g.clone();
    nnc::opt::optimize(&mut opt, &opts()).map_err(|e| e.to_string())?;
    let want = reference(g, inputs, params)?;
    match (
        agrees(g, b, inputs, params, &want),
        agrees(&opt, b, inputs, params, &want),
    ) {
        (Ok(s0), Ok(s1)) if s1.flops > s0.flops => Err(format!("more work: {s1:?}\nthan: {s0:?}")),
        (Ok(s0), Ok(s1)) => Ok(Outcome::Both(s0, s1)),
        (Err(e), Ok(_)) => Ok(Outcome::OnlyOptimised(e)),
        (Err(e0), Err(e1)) => Ok(Outcome::Neither(format!("{e0} / optimised: {e1}"))),
        (Ok(_), Err(e)) => Err(format!("optimised: {e}")),
    }
}

fn check_case(dir: &Path) -> Result<Outcome, String> {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let grad_inputs = spec.get("grad_inputs").and_then(|v| v.as_bool()).unwrap_or(false);
    let model = Model::from_file(dir.join("model.nn"), None, interpreted()).map_err(|e| e.to_string())?;
    let mut g = model.graph().clone();
    nnc::autodiff::add_gradient_outputs(&mut g, true, grad_inputs).map_err(|e| e.to_string())?;
    let loaded = nnc::io::load_run(
        model.graph(),
        dir.join("inputs.safetensors"),
        Some(&dir.join("params.safetensors")),
    )
    .map_err(|e| e.to_string())?;
    both(&g, &loaded.bindings, &loaded.inputs, &loaded.params.ok_or("no params")?)
}

#[test]
fn conformance_cases_compile_and_agree_after_the_graph_passes() {
    let mut failures = Vec::new();
    let mut agreeing = 0;
    for dir in value_cases() {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
        match check_case(&dir) {
            Ok(Outcome::Both(..)) => agreeing += 1,
            // JIT bugs that the unoptimised graph shows too are the JIT's tests' business
            Ok(Outcome::OnlyOptimised(e)) => eprintln!("{name}: the JIT fails only before the passes: {e}"),
            Ok(Outcome::Neither(e)) => eprintln!("{name}: the JIT fails before and after the passes: {e}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(agreeing >= 12, "only {agreeing} cases agree");
}

#[test]
fn mnist_training_steps_cost_less_after_the_graph_passes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mnist_mlp.nn");
    let model = Model::from_file(path, None, interpreted()).expect("the example model");
    for opt in [Optimizer::sgd(0.1), Optimizer::adam(1e-3)] {
        let step = build_step(model.graph(), &opt).expect("a step").graph;
        let n = 16;
        let mut b = Bindings::new();
        b.insert("N".into(), n);
        let mut r = grad_util::rng(3);
        let inputs: Vec<Tensor> = step
            .inputs
            .iter()
            .map(|d| {
                let shape: Vec<usize> =
                    d.ty.shape
                        .dims()
                        .iter()
                        .map(|x| x.as_lit().unwrap_or(n as u64) as usize)
                        .collect();
                let k: usize = shape.iter().product();
                match d.ty.dtype {
                    nnc::ir::DType::I32 => Tensor::i32(shape, (0..k as i32).map(|j| j * 7 % 10).collect()),
                    nnc::ir::DType::F32 => Tensor::f32(
                        shape,
                        grad_util::draw(&mut r, k, grad_util::Domain::Any)
                            .iter()
                            .map(|&x| x as f32)
                            .collect(),
                    ),
                }
            })
            .collect();
        let params: Vec<Tensor> = random_params(&step, 5, n).iter().map(|v| v.to_tensor()).collect();
        let Ok(Outcome::Both(s0, s1)) = both(&step, &b, &inputs, &params) else {
            panic!("{opt}: the JIT does not agree with the interpreter")
        };
        eprintln!("{opt}: {s0:?}\n -> {s1:?}");
        assert!(s1.kernels < s0.kernels || s1.flops < s0.flops, "{opt}: no cheaper");
    }
}

// ---------- JIT bugs the optimised graphs run into (for the JIT's owner) ----------

/// Runs the one-output-or-more graph `g` (params only) in the JIT at `N = 2` against the
/// interpreter.
fn jit_agrees(g: &Graph, params: &[Tensor]) -> Result<(), String> {
    let mut b = Bindings::new();
    b.insert("N".into(), 2);
    let want = reference(g, &[], params)?;
    agrees(g, &b, &[], params, &want).map(|_| ())
}

#[test]
#[ignore = "JIT bug: a computed scalar used through a broadcast and directly is read as zero"]
fn jit_scalar_used_broadcast_and_directly() {
    use grad_util::*;
    use nnc::ir::{Binary, Dim, Op, Shape, Unary};
    // c = -(1 / (1/N)); out1 = broadcast_to(c, [3]) * relu(s); out2 = sum(c * v) * step(s)
    let mut g = Graph::new();
    let v = param(&mut g, "v", lit(&[3]));
    let s = param(&mut g, "s", lit(&[]));
    // an input of size N, so that N has a value
    f32_input(&mut g, "x", Shape(vec![Dim::var("N")]));
    let one = konst(&mut g, 1.0);
    let inv = konst_per(&mut g, 1.0, Dim::var("N"));
    let q = bin(&mut g, Binary::Div, one, inv);
    let c = un(&mut g, Unary::Neg, q);
    let cb = add(&mut g, Op::BroadcastTo(lit(&[3])), &[c]);
    let r = un(&mut g, Unary::Relu, s);
    let out1 = bin(&mut g, Binary::Mul, cb, r);
    let cv = bin(&mut g, Binary::Mul, c, v);
    let sum = sum_all(&mut g, cv);
    let st = un(&mut g, Unary::Step, s);
    let out2 = bin(&mut g, Binary::Mul, sum, st);
    g.outputs.push(("out1".into(), out1));
    g.outputs.push(("out2".into(), out2));
    let params = [
        Tensor::f32(vec![3], vec![1.0, 2.0, 3.0]),
        Tensor::f32(vec![], vec![0.5]),
    ];
    let mut b = Bindings::new();
    b.insert("N".into(), 2);
    let inputs = [Tensor::f32(vec![2], vec![0.0; 2])];
    let want = reference(&g, &inputs, &params).unwrap();
    agrees(&g, &b, &inputs, &params, &want).unwrap();
}

#[test]
#[ignore = "JIT bug: an output that is a reshape of an unmaterialised node fails to schedule"]
fn jit_output_is_a_reshape_of_an_intermediate() {
    use grad_util::*;
    use nnc::ir::{Dim, Shape, Unary};
    let mut g = Graph::new();
    let x = param(&mut g, "x", Shape(vec![Dim::var("N"), Dim::lit(1)]));
    let r = un(&mut g, Unary::Relu, x);
    let y = reshape(&mut g, r, Shape(vec![Dim::var("N")]));
    let e = un(&mut g, Unary::Exp, y);
    g.outputs.push(("y".into(), y));
    g.outputs.push(("e".into(), e));
    jit_agrees(&g, &[Tensor::f32(vec![2, 1], vec![0.5, -1.0])]).unwrap();
}
