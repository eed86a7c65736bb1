//! The conformance cases (copied from the shared spec) through the built `nnc check`:
//! error cases exit 1 naming the right line and the listed words, as `conform.py` checks;
//! every value case's model checks clean. Also the exit statuses of `nnc check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nnc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(args)
        .output()
        .expect("run nnc")
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("tests/conformance")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn error_cases_name_their_line_and_words() {
    let mut checked = 0;
    for dir in cases() {
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let Some(line) = spec.get("error_line") else { continue };
        let lines: Vec<u64> = match line {
            serde_json::Value::Array(v) => v.iter().filter_map(|x| x.as_u64()).collect(),
            v => v.as_u64().into_iter().collect(),
        };
        let model = dir.join("model.nn");
        let out = nnc(&["check", model.to_str().unwrap()]);
        let text = text(&out).replace(model.to_str().unwrap(), "model.nn");
        let name = dir.display();
        assert_eq!(out.status.code(), Some(1), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
        assert!(
            lines
                .iter()
                .any(|l| text.contains(&format!(":{l}:")) || text.contains(&format!("line {l}"))),
            "{name} does not name line {lines:?}: {text}"
        );
        for word in spec.get("mentions").and_then(|m| m.as_array()).into_iter().flatten() {
            let word = word.as_str().unwrap().to_lowercase();
            assert!(
                text.to_lowercase().contains(&word),
                "{name} does not mention {word}: {text}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} error cases");
}

#[test]
fn value_case_models_check_clean() {
    let mut checked = 0;
    for dir in cases() {
        if dir.file_name().unwrap().to_string_lossy().starts_with("err_") {
            continue;
        }
        for file in ["params.safetensors", "inputs.safetensors", "expected.safetensors"] {
            assert!(dir.join(file).is_file(), "{} lacks {file}", dir.display());
        }
        let out = nnc(&["check", dir.join("model.nn").to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", dir.display(), text(&out));
        assert!(out.stderr.is_empty() && out.stdout.is_empty());
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} value cases");
}

#[test]
fn exit_statuses_of_check() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.nn");
    let out = nnc(&["check", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("missing.nn"), "{}", text(&out));

    let two = dir.path().join("two.nn");
    std::fs::write(&two, "model a { input x: [2] }\nmodel b { input x: [3] }\n").unwrap();
    assert_eq!(nnc(&["check", two.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(
        nnc(&["check", two.to_str().unwrap(), "--model", "b"]).status.code(),
        Some(0)
    );
    let out = nnc(&["check", two.to_str().unwrap(), "--model", "c"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no model named `c` (found a, b)"), "{}", text(&out));

    assert_eq!(nnc(&["check"]).status.code(), Some(2));
    assert_eq!(nnc(&["check", two.to_str().unwrap(), "--bogus"]).status.code(), Some(2));

    let bad = dir.path().join("bad.nn");
    std::fs::write(&bad, b"model a {\n input x: [2] \xff\xfe\n}\n").unwrap();
    let out = nnc(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("bad.nn:2:"), "{}", text(&out));
}
