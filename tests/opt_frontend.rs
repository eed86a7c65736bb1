//! The pipeline on graphs the front end lowers: every value case of the conformance suite
//! (with its gradients) still matches its expected values after optimisation, in f32 and
//! f64; the training steps of `examples/mnist_mlp.nn` (SGD, momentum, Adam) shrink and
//! compute the same updates.

mod grad_util;
mod opt_util;

use nnc::interp::{eval, NodeValue, Value};
use nnc::ir::{print, Graph, Op};
use nnc::tensor::Tensor;
use nnc::train::{build_step, Optimizer};
use nnc::{Backend, Model, Options};
use opt_util::*;
use std::path::{Path, PathBuf};

fn interpreted() -> Options {
    Options {
        backend: Backend::Interpreter,
        ..Options::default()
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

/// Every result of `g` by name (outputs, then `loss`), in precision `T`, as f64.
fn results<T: nnc::interp::Float>(g: &Graph, inputs: &[Tensor], params: &[Tensor]) -> Vec<(String, Vec<f64>)> {
    let v = eval::<T>(g, &Default::default(), inputs, params).expect("evaluation succeeds");
    v.to_tensors()
        .into_iter()
        .map(|(name, t)| (name, t.as_f32().expect("f32").iter().map(|&x| x as f64).collect()))
        .collect()
}

fn check_case(dir: &Path) -> Result<usize, String> {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let atol = spec.get("atol").and_then(|v| v.as_f64()).unwrap_or(1e-4);
    let rtol = spec.get("rtol").and_then(|v| v.as_f64()).unwrap_or(1e-3);
    let grad_inputs = spec.get("grad_inputs").and_then(|v| v.as_bool()).unwrap_or(false);
    let model = Model::from_file(dir.join("model.nn"), None, interpreted()).map_err(|e| e.to_string())?;
    let mut before = model.graph().clone();
    nnc::autodiff::add_gradient_outputs(&mut before, true, grad_inputs).map_err(|e| e.to_string())?;
    let mut after = before.clone();
    let report = nnc::opt::optimize(&mut after, &opts()).map_err(|e| e.to_string())?;
    if transpose_feeds_matmul(&after) {
        return Err(format!(
            "a transpose feeds a product:\n{}",
            print(&after, "after", &|_| None)
        ));
    }
    let loaded = nnc::io::load_run(
        model.graph(),
        dir.join("inputs.safetensors"),
        Some(&dir.join("params.safetensors")),
    )
    .map_err(|e| e.to_string())?;
    let params = loaded.params.ok_or("no params")?;
    let want = nnc::io::read_tensors(dir.join("expected.safetensors")).map_err(|e| e.to_string())?;
    let b32 = results::<f32>(&before, &loaded.inputs, &params);
    for (precision, got) in [
        ("f32", results::<f32>(&after, &loaded.inputs, &params)),
        ("f64", results::<f64>(&after, &loaded.inputs, &params)),
    ] {
        for (name, w) in &want {
            let w = w.as_f32().ok_or("f32 expected values")?;
            let g = &got.iter().find(|r| &r.0 == name).ok_or(format!("no result {name}"))?.1;
            for (i, (&g, &w)) in g.iter().zip(w).enumerate() {
                let ok = if w.is_nan() {
                    g.is_nan()
                } else {
                    (g - w as f64).abs() <= atol + rtol * (w.abs() as f64)
                };
                if !ok {
                    return Err(format!("{name}[{i}] ({precision}): got {g}, want {w}"));
                }
            }
        }
    }
    // against the unoptimised graph in f32: the rewrites move results by rounding only
    let a32 = results::<f32>(&after, &loaded.inputs, &params);
    for ((name, b), (_, a)) in b32.iter().zip(&a32) {
        for (i, (x, y)) in b.iter().zip(a).enumerate() {
            if !close(*x, *y, 1e-5 * (1.0 + x.abs())) {
                return Err(format!("{name}[{i}]: {y} optimised, {x} not"));
            }
        }
    }
    Ok(report.nodes_before - report.nodes_after)
}

#[test]
fn conformance_cases_match_after_optimisation() {
    let cases = value_cases();
    assert!(cases.len() >= 14, "conformance cases missing");
    let mut removed = 0;
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|d| match check_case(d) {
            Ok(k) => {
                removed += k;
                None
            }
            Err(e) => Some(format!("{}: {e}", d.file_name().unwrap_or_default().to_string_lossy())),
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(removed > 100, "only {removed} nodes removed over all cases");
}

fn mnist() -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mnist_mlp.nn");
    Model::from_file(path, None, interpreted()).expect("the example model")
}

/// `(optimiser, nodes before, nodes after)`, as observed when this was written.
const STEPS: [(&str, usize, usize); 3] = [("sgd", 64, 56), ("momentum", 88, 75), ("adam", 168, 140)];

fn optimizer(name: &str) -> Optimizer {
    match name {
        "sgd" => Optimizer::sgd(0.1),
        "momentum" => Optimizer::momentum(0.1),
        _ => Optimizer::adam(1e-3),
    }
}

#[test]
fn mnist_training_steps_shrink_and_keep_their_updates() {
    let model = mnist();
    for (name, nodes_before, nodes_after) in STEPS {
        let step = build_step(model.graph(), &optimizer(name))
            .expect("a training step")
            .graph;
        let mut opt = step.clone();
        let report = optimized(&mut opt);
        assert_eq!(
            (step.node_count(), opt.node_count()),
            (nodes_before, nodes_after),
            "{name}: {report}"
        );
        assert!(!transpose_feeds_matmul(&opt));
        // the softmax of the cross-entropy's derivative, once; its -1/N folded
        assert_eq!(count(&opt, |op| *op == Op::Unary(nnc::ir::Unary::Exp)), 1, "{name}");
        assert_eq!(count(&opt, |op| *op == Op::Unary(nnc::ir::Unary::Neg)), 0, "{name}");
        // values, at N = 3, for the step with the most rewrites (the interpreter is slow
        // at 784 x 128)
        if name != "adam" {
            continue;
        }
        let n = 3;
        let inputs: Vec<NodeValue<f64>> = step
            .inputs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let shape: Vec<usize> =
                    d.ty.shape
                        .dims()
                        .iter()
                        .map(|x| x.as_lit().unwrap_or(n as u64) as usize)
                        .collect();
                let k: usize = shape.iter().product();
                match d.ty.dtype {
                    nnc::ir::DType::I32 => NodeValue::Labels {
                        shape,
                        data: (0..k as i32).map(|j| j * 3 % 10).collect(),
                    },
                    nnc::ir::DType::F32 => NodeValue::F(Value::new(
                        shape,
                        f32_values(grad_util::draw(
                            &mut grad_util::rng(i as u64),
                            k,
                            grad_util::Domain::Any,
                        )),
                    )),
                }
            })
            .collect();
        let params = random_params(&step, 11, n);
        same_results(&step, &opt, &inputs, &params, 1e-12, 1e-5).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
