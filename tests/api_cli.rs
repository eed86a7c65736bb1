//! The CLI is a client of the API: a model error renders through `Error::render` to
//! exactly what `nnc check` prints for the same file.

use nnc::{check_file, check_source, Model, Options};
use std::path::Path;
use std::process::Command;

fn nnc_check(path: &Path, model: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nnc"));
    cmd.arg("check").arg(path);
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    let out = cmd.output().unwrap();
    assert!(out.stdout.is_empty(), "check prints diagnostics on stderr only");
    (out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

const BROKEN: &str = "\
fn dense(x, W, b) = x @ W + b

model broken {
    input x: [N, 784]
    param W: [128, 64]
    param b: [64]
    let h = dense(x, W, b)
    output h
    output z = relu(undefined_name)
    loss = mean(h)
}
";

const TWO_MODELS: &str = "
model a {
    input x: [N]
    output y = 2 * x
}
model b {
    input x: [N]
    output y = x + 1
}
";

#[test]
fn model_errors_render_as_nnc_check_prints_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.nn");
    std::fs::write(&path, BROKEN).unwrap();
    let (status, printed) = nnc_check(&path, None);
    assert_eq!(status, 1);
    assert!(
        printed.contains("matmul") && printed.contains("undefined_name"),
        "{printed}"
    );

    let name = path.display().to_string();
    let from_file = Model::from_file(&path, None, Options::default()).unwrap_err();
    assert_eq!(from_file.render(false), printed);
    let from_source = Model::from_source(BROKEN, &name, None, Options::default()).unwrap_err();
    assert_eq!(from_source.render(false), printed);
    let checked = check_source(BROKEN, &name, None);
    assert!(checked.has_errors() && checked.models.is_empty());
    assert_eq!(checked.diagnostics.render(false), printed);
}

#[test]
fn choosing_a_missing_model_renders_the_same_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.nn");
    std::fs::write(&path, TWO_MODELS).unwrap();
    assert_eq!(nnc_check(&path, None), (0, String::new()));
    let checked = check_file(&path, None).unwrap();
    assert_eq!(checked.models, ["a", "b"]);
    assert!(!checked.has_errors());

    let (status, printed) = nnc_check(&path, Some("c"));
    assert_eq!(status, 1);
    assert!(printed.contains("no model named `c`"), "{printed}");
    let e = Model::from_file(&path, Some("c"), Options::default()).unwrap_err();
    assert_eq!(e.render(false), printed);
    assert_eq!(check_file(&path, Some("c")).unwrap().diagnostics.render(false), printed);
    assert!(Model::from_file(&path, Some("b"), Options::default()).is_ok());
}

#[test]
fn an_unreadable_file_renders_as_nnc_check_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.nn");
    let (status, printed) = nnc_check(&path, None);
    assert_eq!(status, 1);
    let e = Model::from_file(&path, None, Options::default()).unwrap_err();
    assert!(matches!(e, nnc::Error::Read { .. }));
    assert_eq!(e.render(false), printed);
    assert_eq!(check_file(&path, None).unwrap_err().render(false), printed);
}
