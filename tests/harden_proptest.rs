//! The bounded fuzz run of `cargo test`: random mutations of the conformance models go
//! through the whole compile (checker, autodiff, passes, JIT) and a call, and mutated
//! tensor files through the loaders and an instantiation, with a fixed number of cases.
//! The code under test is the fuzz targets' own (`fuzz/harness.rs`); a failure here is
//! a crash input to add to `tests/regressions/`.

#[path = "../fuzz/harness.rs"]
mod harness;

use proptest::prelude::*;
use std::path::Path;

/// Tokens a mutation may insert: numbers at the edges of what the compiler handles,
/// operators, brackets, built-ins and keywords.
const INSERTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "1e30",
    "-1e30",
    "1e-45",
    "100000000000",
    "4294967296",
    "0.5",
    "N",
    "M",
    "x",
    "y",
    "W",
    "+",
    "-",
    "*",
    "/",
    "^",
    "@",
    ".T",
    "(",
    ")",
    "[",
    "]",
    ",",
    "=",
    ":",
    "i32",
    "f32",
    "sum(",
    "mean(",
    "max(",
    "exp(",
    "log(",
    "sqrt(",
    "relu(",
    "softmax(",
    "reshape(",
    "grad(",
    "axis=1",
    "axis=-1",
    "keepdims=true",
    "cross_entropy(",
    "one_hot(",
    "transpose(",
    "let z =",
    "output",
    "loss =",
    "param P: [N, N]",
    "input",
    "\n",
    "fn g(a) = a * a\n",
];

fn models() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<String> = std::fs::read_dir(root.join("tests/conformance"))
        .unwrap()
        .map(|e| e.unwrap().path().join("model.nn"))
        .filter(|p| p.exists())
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    v.sort();
    v.push(std::fs::read_to_string(root.join("examples/mnist_mlp.nn")).unwrap());
    v
}

fn tensor_files() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<Vec<u8>> = Vec::new();
    for dir in std::fs::read_dir(root.join("tests/conformance")).unwrap() {
        let dir = dir.unwrap().path();
        for f in ["inputs.safetensors", "params.safetensors"] {
            if let Ok(b) = std::fs::read(dir.join(f)) {
                v.push(b);
            }
        }
    }
    v.extend(
        std::fs::read_dir(root.join("tests/regressions/inputs"))
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap()),
    );
    v
}

/// Splits into tokens: runs of word characters, runs of spaces, single other characters.
fn tokens(src: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            0
        } else if c == ' ' {
            1
        } else {
            2
        }
    };
    for c in src.chars() {
        match out.last_mut() {
            Some(last) if class(c) != 2 && last.chars().next().map(class) == Some(class(c)) => last.push(c),
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// One token-level edit: (kind, position, choice).
type Edit = (u8, usize, usize);

fn mutate(src: &str, edits: &[Edit]) -> String {
    let mut t = tokens(src);
    for &(kind, pos, choice) in edits {
        if t.is_empty() {
            t.push(String::new());
        }
        let i = pos % t.len();
        match kind % 5 {
            0 => {
                t.remove(i);
            }
            1 => t.insert(i, INSERTS[choice % INSERTS.len()].to_string()),
            2 => t[i] = INSERTS[choice % INSERTS.len()].to_string(),
            3 => {
                let j = choice % t.len();
                t.swap(i, j);
            }
            _ => {
                let j = choice % t.len();
                let copy = t[i.min(j)..i.max(j).min(i.min(j) + 8)].to_vec();
                t.splice(j..j, copy);
            }
        }
    }
    t.concat()
}

fn flip_bytes(mut v: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(i, b) in edits {
        if !v.is_empty() {
            let n = v.len();
            v[i % n] = b;
        }
    }
    if let Some(c) = cut {
        v.truncate(c % (v.len() + 1));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_models_compile_and_run_or_fail_cleanly(
        which in any::<usize>(),
        edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..4),
        knob in any::<u8>(),
    ) {
        let ms = models();
        let mut src = mutate(&ms[which % ms.len()], &edits).into_bytes();
        // the last byte picks the optimisation level and the sizes in the harness
        src.push(b'\n');
        src.push(b' ' + knob % 64);
        harness::check(&src);
        harness::compile(&src);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_tensor_files_load_or_fail_cleanly(
        which in any::<usize>(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<usize>()),
    ) {
        let files = tensor_files();
        let bytes = flip_bytes(files[which % files.len()].clone(), &edits, cut);
        harness::tensors(&bytes);
        harness::inputs(&bytes);
    }

    #[test]
    fn crafted_headers_bind_any_sizes_without_overflow(
        n in prop::sample::select(vec![0usize, 1, 2, 3, 1 << 16, 1 << 31, 1 << 32, 1 << 62, usize::MAX]),
        d in prop::sample::select(vec![0usize, 1, 2, 1 << 16, 1 << 31, 1 << 40, usize::MAX]),
        c in prop::sample::select(vec![0usize, 1, 3, 1 << 20, 1 << 33, usize::MAX]),
    ) {
        // every tensor empty unless tiny, so the file is valid when its shapes are
        let small = n <= 64 && n.saturating_mul(d) <= 64 && n.saturating_mul(c) <= 64;
        let shapes = [("x", "F32", vec![n, d]), ("t", "F32", vec![n, c]), ("y", "I32", vec![n])];
        let mut header = serde_json::Map::new();
        let mut offset = 0usize;
        for (name, dtype, shape) in &shapes {
            let count: usize = if small { shape.iter().product() } else { 0 };
            let shape: Vec<usize> = if small {
                shape.clone()
            } else {
                std::iter::once(0).chain(shape[1..].iter().copied()).collect()
            };
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + 4 * count]}),
            );
            offset += 4 * count;
        }
        let h = serde_json::Value::Object(header).to_string();
        let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(h.as_bytes());
        bytes.resize(bytes.len() + offset, 0);
        harness::inputs(&bytes);
    }
}

#[test]
fn mutation_changes_the_text() {
    let src = "model m {\n input x: [N]\n output y = x * 2\n}\n";
    assert_eq!(tokens(src).concat(), src);
    assert_ne!(mutate(src, &[(0, 3, 0)]), src);
    assert!(mutate(src, &[(1, 0, 0)]).starts_with('0'));
}
