//! Replays `tests/regressions/TARGET/*` through the fuzz targets' code (`fuzz/harness.rs`),
//! and every seed of the fuzzers too, so crashes found by fuzzing stay fixed without
//! cargo-fuzz.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 5] = [
    ("parse", harness::parse),
    ("check", harness::check),
    ("compile", harness::compile),
    ("tensors", harness::tensors),
    ("inputs", harness::inputs),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `target` on `path` in a thread with a 2 MiB stack; returns the panic message.
fn replay(target: Target, path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).unwrap();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || target(&bytes))
        .unwrap()
        .join()
        .map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
}

fn replay_all(name: &str, target: Target, inputs: &[PathBuf]) {
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|p| replay(target, p).err().map(|e| format!("{}: {e}", p.display())))
        .collect();
    assert!(failures.is_empty(), "target {name}:\n{}", failures.join("\n"));
}

#[test]
fn regression_corpus() {
    let mut count = 0;
    for (name, target) in TARGETS {
        let inputs = files(&root().join("tests/regressions").join(name));
        count += inputs.len();
        replay_all(name, target, &inputs);
    }
    assert!(count > 0, "the regression corpus is empty");
}

/// The fuzzers' seeds: every example and conformance model through the source targets,
/// every conformance tensor file through the tensor targets.
#[test]
fn seed_corpus() {
    let conformance = files(&root().join("tests/conformance"));
    assert!(conformance.is_empty(), "conformance cases are folders");
    let dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/conformance"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut models: Vec<PathBuf> = dirs.iter().map(|d| d.join("model.nn")).filter(|p| p.exists()).collect();
    models.extend(
        files(&root().join("examples"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "nn")),
    );
    let tensors: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| files(d))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    assert!(
        models.len() > 20 && tensors.len() > 40,
        "{} models, {} tensor files",
        models.len(),
        tensors.len()
    );
    for (name, target) in TARGETS {
        let inputs = if matches!(name, "tensors" | "inputs") {
            &tensors
        } else {
            &models
        };
        replay_all(name, target, inputs);
    }
}
