//! `nnc run` without `--inputs`: fine for a model without inputs, a command-line error
//! (exit 2) naming the inputs otherwise.

use std::process::Command;

fn nnc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nnc")).args(args).output().unwrap()
}

#[test]
fn a_model_without_inputs_runs_without_an_inputs_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("chain.nn");
    std::fs::write(
        &model,
        "model chain {\n  param x: [] = 1.5\n  let u = x * x\n  loss = sin(u)\n}\n",
    )
    .unwrap();
    let out_file = dir.path().join("out.safetensors");
    let out = nnc(&[
        "run",
        model.to_str().unwrap(),
        "--grad",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t = nnc::io::read_tensors(&out_file).unwrap();
    let g = t["grad.x"].as_f32().unwrap()[0] as f64;
    let want = (2.25f64).cos() * 3.0;
    assert!((g - want).abs() < 1e-5, "d sin(x^2)/dx at 1.5: got {g}, want {want}");
}

#[test]
fn a_model_with_inputs_needs_the_inputs_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.nn");
    std::fs::write(
        &model,
        "model m {\n  input a: [3]\n  input b: [3]\n  output c = a + b\n}\n",
    )
    .unwrap();
    let out = nnc(&["run", model.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--inputs") && err.contains("a, b"), "{err}");
}
