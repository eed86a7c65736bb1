//! The oracle cases (`tests/oracle/cases`, written by `tests/oracle/gen.py` from PyTorch in
//! float64) through the built `nnc`, exactly as the spec's `conform.py` runs them: value
//! cases by `nnc run MODEL --params P --inputs I --grad [--grad-inputs] [--model M] --out O`
//! at the default level, at `-O0` and with `--interp`, compared elementwise within
//! `atol + rtol * |want|` against the float64 expected values; error cases by `nnc check`:
//! exit 1, the line named (`:L:` or `line L`), every listed word mentioned, no panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cases_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/cases")
}

fn cases() -> Vec<(String, PathBuf, serde_json::Value)> {
    let mut out: Vec<_> = std::fs::read_dir(cases_root())
        .expect("tests/oracle/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("case.json").is_file())
        .map(|dir| {
            let spec = serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
            (dir.file_name().unwrap().to_string_lossy().into_owned(), dir, spec)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A tensor of a safetensors file as f64 values with its shape.
struct Values {
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// Reads a safetensors file (F32, F64, I32) without nnc's reader: the check must not
/// share code with the program it checks.
fn read(path: &Path) -> BTreeMap<String, Values> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let n = u64::from_le_bytes(raw[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&raw[8..8 + n]).unwrap();
    let base = 8 + n;
    let mut out = BTreeMap::new();
    for (name, meta) in header.as_object().unwrap() {
        if name == "__metadata__" {
            continue;
        }
        let offs: Vec<usize> = meta["data_offsets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let bytes = &raw[base + offs[0]..base + offs[1]];
        let data: Vec<f64> = match meta["dtype"].as_str().unwrap() {
            "F32" => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            "F64" => bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            "I32" => bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            other => panic!("{}: dtype {other}", path.display()),
        };
        let shape = meta["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        out.insert(name.clone(), Values { shape, data });
    }
    out
}

fn run_value(dir: &Path, spec: &serde_json::Value, level: &[&str]) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.safetensors");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nnc"));
    cmd.arg("run")
        .arg(dir.join("model.nn"))
        .arg("--params")
        .arg(dir.join("params.safetensors"))
        .arg("--inputs")
        .arg(dir.join("inputs.safetensors"))
        .arg("--grad")
        .arg("--out")
        .arg(&out)
        .args(level);
    if spec["grad_inputs"].as_bool().unwrap_or(false) {
        cmd.arg("--grad-inputs");
    }
    if let Some(m) = spec["model"].as_str() {
        cmd.args(["--model", m]);
    }
    let p = cmd.output().expect("run nnc");
    if !p.status.success() {
        let text = String::from_utf8_lossy(&p.stderr);
        return Err(format!("exit {:?}: {}", p.status.code(), text.trim()));
    }
    let got = read(&out);
    let want = read(&dir.join("expected.safetensors"));
    let atol = spec["atol"].as_f64().unwrap_or(1e-4);
    let rtol = spec["rtol"].as_f64().unwrap_or(1e-3);
    for (name, w) in &want {
        let g = got.get(name).ok_or_else(|| format!("missing tensor {name}"))?;
        let scalar_ok = w.shape.is_empty() && (g.shape.is_empty() || g.shape == [1]);
        if g.shape != w.shape && !scalar_ok {
            return Err(format!("{name}: shape {:?}, want {:?}", g.shape, w.shape));
        }
        let bad: Vec<usize> = (0..w.data.len())
            .filter(|&i| {
                let (a, b) = (g.data[i], w.data[i]);
                !(if b.is_nan() {
                    a.is_nan()
                } else {
                    (a - b).abs() <= atol + rtol * b.abs()
                })
            })
            .collect();
        if let Some(&i) = bad.first() {
            return Err(format!(
                "{name}: {}/{} values off, e.g. [{i}] got {} want {}",
                bad.len(),
                w.data.len(),
                g.data[i],
                w.data[i]
            ));
        }
    }
    Ok(())
}

fn run_error(dir: &Path, spec: &serde_json::Value) -> Result<(), String> {
    let model = dir.join("model.nn");
    let p = Command::new(env!("CARGO_BIN_EXE_nnc"))
        .arg("check")
        .arg(&model)
        .output()
        .expect("run nnc");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&p.stdout),
        String::from_utf8_lossy(&p.stderr)
    )
    .replace(model.to_str().unwrap(), "model.nn");
    if text.contains("panicked") {
        return Err(format!("panicked: {text}"));
    }
    if p.status.code() != Some(1) {
        return Err(format!("exit {:?}, want 1: {text}", p.status.code()));
    }
    let lines: Vec<u64> = match &spec["error_line"] {
        serde_json::Value::Array(v) => v.iter().filter_map(|x| x.as_u64()).collect(),
        v => v.as_u64().into_iter().collect(),
    };
    if !lines
        .iter()
        .any(|l| text.contains(&format!(":{l}:")) || text.contains(&format!("line {l}")))
    {
        return Err(format!("does not name line {lines:?}: {text}"));
    }
    for word in spec["mentions"].as_array().into_iter().flatten() {
        let word = word.as_str().unwrap();
        if !text.to_lowercase().contains(&word.to_lowercase()) {
            return Err(format!("does not mention {word:?}: {text}"));
        }
    }
    Ok(())
}

fn run_values(level: &[&str]) {
    let mut checked = 0;
    let failures: Vec<String> = cases()
        .iter()
        .filter(|(_, _, spec)| spec.get("error_line").is_none())
        .filter_map(|(name, dir, spec)| {
            checked += 1;
            run_value(dir, spec, level).err().map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(
        checked >= 60,
        "only {checked} value cases in {}",
        cases_root().display()
    );
    assert!(
        failures.is_empty(),
        "{level:?}: {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn oracle_values_at_the_default_level() {
    run_values(&[]);
}

#[test]
fn oracle_values_unoptimised() {
    run_values(&["-O0"]);
}

#[test]
fn oracle_values_through_the_interpreter() {
    run_values(&["--interp"]);
}

#[test]
fn oracle_errors_name_their_line_and_words() {
    let mut checked = 0;
    let failures: Vec<String> = cases()
        .iter()
        .filter(|(_, _, spec)| spec.get("error_line").is_some())
        .filter_map(|(name, dir, spec)| {
            checked += 1;
            run_error(dir, spec).err().map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(
        checked >= 40,
        "only {checked} error cases in {}",
        cases_root().display()
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
