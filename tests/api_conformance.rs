//! Every value case of the conformance suite through the public API: JIT at both
//! optimisation levels and the reference interpreter, outputs, loss and gradients within
//! the tolerance of LANGUAGE.md §9 (or the case's own).

use nnc::{Backend, Model, OptLevel, Options};
use std::path::{Path, PathBuf};

fn value_cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.safetensors").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "conformance cases missing from {}", root.display());
    cases
}

fn check_case(dir: &Path, options: &Options) -> Result<(), String> {
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let atol = spec.get("atol").and_then(|v| v.as_f64()).unwrap_or(1e-4);
    let rtol = spec.get("rtol").and_then(|v| v.as_f64()).unwrap_or(1e-3);
    let grad_inputs = spec.get("grad_inputs").and_then(|v| v.as_bool()).unwrap_or(false);
    let model = Model::from_file(dir.join("model.nn"), None, options.clone()).map_err(|e| e.to_string())?;
    let loaded = nnc::io::load_run(
        model.graph(),
        dir.join("inputs.safetensors"),
        Some(&dir.join("params.safetensors")),
    )
    .map_err(|e| e.to_string())?;
    let f = model.gradients(grad_inputs).map_err(|e| e.to_string())?;
    let out = f
        .call_tensors(&loaded.inputs, loaded.params.as_ref().unwrap())
        .map_err(|e| e.to_string())?;
    let want = nnc::io::read_tensors(dir.join("expected.safetensors")).unwrap();
    for (name, w) in &want {
        let got: Vec<f32> = if name == "loss" {
            vec![out.loss.ok_or("no loss")?]
        } else {
            out.get(name)
                .ok_or(format!("missing {name}"))?
                .as_f32()
                .unwrap()
                .to_vec()
        };
        let w = w.as_f32().unwrap();
        if got.len() != w.len() {
            return Err(format!("{name}: {} values, want {}", got.len(), w.len()));
        }
        for (i, (&g, &w)) in got.iter().zip(w).enumerate() {
            let ok = if w.is_nan() {
                g.is_nan()
            } else {
                ((g - w).abs() as f64) <= atol + rtol * (w.abs() as f64)
            };
            if !ok {
                return Err(format!("{name}[{i}]: got {g}, want {w}"));
            }
        }
    }
    Ok(())
}

fn run_all(options: Options) {
    let failures: Vec<String> = value_cases()
        .iter()
        .filter_map(|d| {
            check_case(d, &options)
                .err()
                .map(|e| format!("{}: {e}", d.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "{:?}: {failures:#?}", options);
}

#[test]
fn conformance_through_the_jit_optimised() {
    run_all(Options {
        threads: 1,
        verify: true,
        ..Options::default()
    });
}

#[test]
fn conformance_through_the_jit_unoptimised() {
    run_all(Options {
        opt_level: OptLevel::O0,
        threads: 1,
        verify: true,
        ..Options::default()
    });
}

#[test]
fn conformance_through_the_interpreter() {
    run_all(Options {
        backend: Backend::Interpreter,
        ..Options::default()
    });
}
