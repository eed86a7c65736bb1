//! Helpers for the tests that run the `nnc` binary: running it, conformance cases, and
//! comparing tensor files.

#![allow(dead_code)] // each test file uses a different part

use nnc::Tensor;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0 and returns self.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Asserts exit status `code`, no panic, and returns self.
    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

/// Runs `nnc` with these arguments.
pub fn nnc<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(args)
        .output()
        .expect("the nnc binary runs");
    Run {
        // a signal is a failure no test expects
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A path as an argument.
pub fn arg(p: &Path) -> String {
    p.display().to_string()
}

/// The conformance cases copied into `tests/conformance`.
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// A value case: model, params, inputs, expected results, tolerances.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub grad_inputs: bool,
    pub model: Option<String>,
    pub atol: f64,
    pub rtol: f64,
}

impl Case {
    pub fn model_file(&self) -> PathBuf {
        self.dir.join("model.nn")
    }
    pub fn inputs(&self) -> PathBuf {
        self.dir.join("inputs.safetensors")
    }
    pub fn params(&self) -> PathBuf {
        self.dir.join("params.safetensors")
    }
    pub fn expected(&self) -> PathBuf {
        self.dir.join("expected.safetensors")
    }
}

/// Every value case (a folder with `expected.safetensors`), sorted by name.
pub fn value_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(conformance_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.safetensors").exists())
        .map(|dir| {
            let spec: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                grad_inputs: spec.get("grad_inputs").and_then(|v| v.as_bool()).unwrap_or(false),
                model: spec.get("model").and_then(|v| v.as_str()).map(str::to_string),
                atol: spec.get("atol").and_then(|v| v.as_f64()).unwrap_or(1e-4),
                rtol: spec.get("rtol").and_then(|v| v.as_f64()).unwrap_or(1e-3),
                dir,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        cases.len() >= 14,
        "value cases missing from {}",
        conformance_dir().display()
    );
    cases
}

/// Reads a safetensors file.
pub fn read(path: &Path) -> BTreeMap<String, Tensor> {
    nnc::io::read_tensors(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The f32 values of a tensor (i32 converted).
pub fn values(t: &Tensor) -> Vec<f64> {
    match (t.as_f32(), t.as_i32()) {
        (Some(f), _) => f.iter().map(|&x| x as f64).collect(),
        (_, Some(i)) => i.iter().map(|&x| x as f64).collect(),
        _ => Vec::new(),
    }
}

/// Conformance's check: every expected tensor present (a scalar may be `[]` or `[1]`)
/// and `|got - want| <= atol + rtol * |want|` elementwise (NaN matches NaN). `rename`
/// maps an expected name to the name in `got`.
pub fn compare(
    got: &BTreeMap<String, Tensor>,
    want: &BTreeMap<String, Tensor>,
    atol: f64,
    rtol: f64,
    rename: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    for (name, w) in want {
        let Some(gname) = rename(name) else { continue };
        let g = got.get(&gname).ok_or_else(|| format!("missing tensor {gname}"))?;
        let scalar_ok = w.shape.is_empty() && (g.shape.is_empty() || g.shape == [1]);
        if g.shape != w.shape && !scalar_ok {
            return Err(format!("{gname}: shape {:?}, want {:?}", g.shape, w.shape));
        }
        let (gv, wv) = (values(g), values(w));
        let bad: Vec<usize> = (0..wv.len())
            .filter(|&i| {
                let (a, b) = (gv[i], wv[i]);
                let close = if b.is_nan() {
                    a.is_nan()
                } else {
                    (a - b).abs() <= atol + rtol * b.abs()
                };
                !close
            })
            .collect();
        if let Some(&i) = bad.first() {
            return Err(format!(
                "{gname}: {}/{} values off, e.g. [{i}] got {} want {}",
                bad.len(),
                wv.len(),
                gv[i],
                wv[i]
            ));
        }
    }
    Ok(())
}

/// Writes tensors to a safetensors file.
pub fn write(path: &Path, tensors: &[(&str, Tensor)]) {
    let named: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    nnc::io::write_tensors(path, &named).unwrap();
}
