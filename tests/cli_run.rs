//! `nnc run` on every conformance value case, as outside scripts call it
//! (`run MODEL --params P --inputs I --grad [--grad-inputs] --out O`): outputs, loss and
//! gradients within the case's tolerance, with native code at -O1 and -O0 and with the
//! reference interpreter. Also the summary printed without `--out`.

mod cli_util;

use cli_util::*;

fn run_case(case: &Case, extra: &[&str]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.safetensors");
    let mut args = vec![
        "run".to_string(),
        arg(&case.model_file()),
        "--params".into(),
        arg(&case.params()),
        "--inputs".into(),
        arg(&case.inputs()),
        "--grad".into(),
        "--out".into(),
        arg(&out),
        "--threads".into(),
        "1".into(),
    ];
    if case.grad_inputs {
        args.push("--grad-inputs".into());
    }
    if let Some(m) = &case.model {
        args.extend(["--model".into(), m.clone()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let r = nnc(&args);
    if r.code != 0 {
        return Err(format!("exit {}: {}", r.code, r.stderr.trim()));
    }
    compare(&read(&out), &read(&case.expected()), case.atol, case.rtol, &|n| {
        Some(n.to_string())
    })
}

fn run_all(extra: &[&str]) {
    let failures: Vec<String> = value_cases()
        .iter()
        .filter_map(|c| run_case(c, extra).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "nnc run {extra:?}:\n{}", failures.join("\n"));
}

#[test]
fn conformance_native_optimised() {
    run_all(&[]);
}

#[test]
fn conformance_native_unoptimised() {
    run_all(&["-O0"]);
}

#[test]
fn conformance_interpreter() {
    run_all(&["--interp"]);
}

#[test]
fn out_holds_outputs_loss_as_a_scalar_and_gradients_by_name() {
    let case = value_cases().into_iter().find(|c| c.grad_inputs).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.safetensors");
    let base = [
        "run".to_string(),
        arg(&case.model_file()),
        "--params".into(),
        arg(&case.params()),
        "--inputs".into(),
        arg(&case.inputs()),
        "--out".into(),
        arg(&out),
        "-O0".into(),
    ];
    // forward only: outputs and loss, no gradients
    nnc(&base).ok();
    let fwd = read(&out);
    assert!(fwd.keys().all(|k| !k.starts_with("grad.")), "{:?}", fwd.keys());
    let want = read(&case.expected());
    let loss = fwd.get("loss").expect("loss written");
    assert!(loss.shape.is_empty(), "loss shape {:?}", loss.shape);
    for name in want.keys().filter(|k| !k.starts_with("grad.")) {
        assert!(fwd.contains_key(name), "{name} missing from {:?}", fwd.keys());
    }
    // --grad-inputs implies --grad: every expected gradient, of params and inputs
    let mut args = base.to_vec();
    args.push("--grad-inputs".into());
    nnc(&args).ok();
    let all = read(&out);
    compare(&all, &want, case.atol, case.rtol, &|n| Some(n.to_string())).unwrap();
    // --grad alone: params' gradients only
    let mut args = base.to_vec();
    args.push("--grad".into());
    nnc(&args).ok();
    let params_only = read(&out);
    let params = read(&case.params());
    let grads: Vec<&String> = params_only.keys().filter(|k| k.starts_with("grad.")).collect();
    assert_eq!(grads.len(), params.len(), "{grads:?}");
    assert!(all.keys().filter(|k| k.starts_with("grad.")).count() > grads.len());
}

#[test]
fn summary_without_out_names_outputs_loss_and_gradient_norms() {
    let case = value_cases()
        .into_iter()
        .find(|c| c.name == "mlp_cross_entropy")
        .unwrap();
    let r = nnc(&[
        "run",
        &arg(&case.model_file()),
        "--params",
        &arg(&case.params()),
        "--inputs",
        &arg(&case.inputs()),
        "--grad",
    ])
    .ok();
    let text = r.stdout;
    assert!(text.starts_with("model mlp (N=7)"), "{text}");
    for want in [
        "logits", "probs", "[7, 4]", "min", "max", "mean", "loss", "grad.W1", "norm",
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    let loss_line = text.lines().find(|l| l.starts_with("loss")).unwrap();
    let want = read(&case.expected())["loss"].as_f32().unwrap()[0];
    let got: f32 = loss_line.split_whitespace().last().unwrap().parse().unwrap();
    assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "{loss_line} vs {want}");
}

#[test]
fn params_default_to_the_seeded_initialisation_of_nnc_init() {
    let case = value_cases()
        .into_iter()
        .find(|c| c.name == "mlp_cross_entropy")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (p, a, b) = (
        dir.path().join("p.safetensors"),
        dir.path().join("a.safetensors"),
        dir.path().join("b.safetensors"),
    );
    let m = arg(&case.model_file());
    let i = arg(&case.inputs());
    nnc(&["init", &m, "--seed", "7", "--out", &arg(&p)]).ok();
    nnc(&[
        "run",
        &m,
        "--inputs",
        &i,
        "--seed",
        "7",
        "--out",
        &arg(&a),
        "--threads",
        "1",
    ])
    .ok();
    nnc(&[
        "run",
        &m,
        "--inputs",
        &i,
        "--params",
        &arg(&p),
        "--out",
        &arg(&b),
        "--threads",
        "1",
    ])
    .ok();
    assert_eq!(read(&a), read(&b));
    // and another seed gives other values
    nnc(&[
        "run",
        &m,
        "--inputs",
        &i,
        "--seed",
        "8",
        "--out",
        &arg(&b),
        "--threads",
        "1",
    ])
    .ok();
    assert_ne!(read(&a), read(&b));
}
