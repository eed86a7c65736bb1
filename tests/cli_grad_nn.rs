//! `nnc compile --emit grad-nn` round trip: for every conformance value case the printed
//! gradient model checks again, and running it gives the gradients `nnc run --grad` gives
//! on the original (its outputs `grad_W1`, ... are them). Also snapshots of `--emit ir`,
//! `grad` and `grad-nn` for a small model.

mod cli_util;

use cli_util::*;

/// `grad.W1` -> `grad_W1`, as `ir::to_nn` names outputs.
fn printed_name(name: &str) -> String {
    name.replace('.', "_")
}

fn round_trip(case: &Case, engine: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("grad.nn");
    let mut emit = vec![
        "compile".to_string(),
        arg(&case.model_file()),
        "--emit".into(),
        "grad-nn".into(),
    ];
    let mut run_orig = vec![
        "run".to_string(),
        arg(&case.model_file()),
        "--grad".into(),
        "--out".into(),
        arg(&dir.path().join("orig.safetensors")),
    ];
    if case.grad_inputs {
        emit.push("--grad-inputs".into());
        run_orig.push("--grad-inputs".into());
    }
    if let Some(m) = &case.model {
        emit.extend(["--model".into(), m.clone()]);
        run_orig.extend(["--model".into(), m.clone()]);
    }
    let r = nnc(&emit);
    if r.code != 0 {
        return Err(format!("emit: {}", r.stderr));
    }
    std::fs::write(&g, &r.stdout).unwrap();
    let r = nnc(&["check", &arg(&g)]);
    if r.code != 0 {
        return Err(format!("check:\n{}\n{}", r.stderr, r.stdout));
    }
    let run_grad = vec![
        "run".to_string(),
        arg(&g),
        "--out".into(),
        arg(&dir.path().join("printed.safetensors")),
    ];
    for mut args in [run_orig, run_grad] {
        args.extend([
            "--inputs".into(),
            arg(&case.inputs()),
            "--params".into(),
            arg(&case.params()),
            engine.into(),
            "--threads".into(),
            "1".into(),
        ]);
        let r = nnc(&args);
        if r.code != 0 {
            return Err(format!("{args:?}: {}", r.stderr));
        }
    }
    let orig = read(&dir.path().join("orig.safetensors"));
    let printed = read(&dir.path().join("printed.safetensors"));
    let grads = orig.keys().filter(|k| k.starts_with("grad.")).count();
    if grads == 0 || printed.keys().filter(|k| k.starts_with("grad_")).count() != grads {
        return Err(format!("gradients {:?} vs {:?}", orig.keys(), printed.keys()));
    }
    // The same primitives in the same order, except `mean` and `cross_entropy` being
    // re-expanded and common subexpressions shared differently: rounding only.
    compare(&printed, &orig, 1e-5, 1e-5, &|n| Some(printed_name(n)))
}

fn round_trip_all(engine: &str) {
    let failures: Vec<String> = value_cases()
        .iter()
        .filter_map(|c| round_trip(c, engine).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn printed_gradient_models_compute_the_same_gradients_interpreted() {
    round_trip_all("--interp");
}

#[test]
fn printed_gradient_models_compute_the_same_gradients_native() {
    round_trip_all("-O0");
}

const SMALL: &str = "\
// A small regression model for snapshot tests.
model small {
    input x: [N, 3]
    input t: [N]
    param w: [3] = ones
    param b: [] = 0.5

    let h = tanh(x @ w + b)
    output h
    loss = mean((h - t) ^ 2) + 0.1 * max(abs(w))
}
";

fn emit_small(kind: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("small.nn");
    std::fs::write(&p, SMALL).unwrap();
    nnc(&["compile", &arg(&p), "--emit", kind]).ok().stdout
}

#[test]
fn snapshot_ir() {
    insta::assert_snapshot!(emit_small("ir"));
}

#[test]
fn snapshot_grad() {
    insta::assert_snapshot!(emit_small("grad"));
}

#[test]
fn snapshot_grad_nn() {
    let text = emit_small("grad-nn");
    // the printed model uses the extension built-ins for the derivatives of abs and max
    assert!(text.contains("sign(") && text.contains("argmax_mask("), "{text}");
    insta::assert_snapshot!(text);
}
