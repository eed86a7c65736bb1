//! Wrong files and wrong command lines: exit status 1 (or 2 for the command line), a
//! message naming the tensor or file, no panic, and no `--out` file written (an existing
//! one is left as it was).

mod cli_util;

use cli_util::*;
use nnc::Tensor;
use std::path::{Path, PathBuf};

const MODEL: &str = "\
model clf {
    input x: [N, 3]
    input y: i32[N]
    param W: [3, 2]
    param b: [2]
    let logits = x @ W + b
    output logits
    loss = cross_entropy(logits, y)
}
";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.nn"), MODEL).unwrap();
        let f = Fixture { dir };
        f.inputs("good", &[("x", x(4)), ("y", Tensor::i32(vec![4], vec![0, 1, 1, 0]))]);
        f
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn inputs(&self, name: &str, tensors: &[(&str, Tensor)]) -> PathBuf {
        let p = self.path(&format!("{name}.safetensors"));
        write(&p, tensors);
        p
    }
    /// `nnc run` with these inputs (and extra args), writing `out.safetensors`.
    fn run(&self, inputs: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "run".to_string(),
            arg(&self.path("m.nn")),
            "--inputs".into(),
            arg(inputs),
            "--grad".into(),
            "--out".into(),
            arg(&self.path("out.safetensors")),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        nnc(&args)
    }
    /// Runs, expects exit 1 with every word of `words` in the message, and checks that
    /// no output file appeared, nor an existing one changed.
    #[track_caller]
    fn refuses(&self, inputs: &Path, extra: &[&str], words: &[&str]) {
        let out = self.path("out.safetensors");
        let _ = std::fs::remove_file(&out);
        let r = self.run(inputs, extra).fails(1);
        for w in words {
            assert!(r.stderr.contains(w), "`{w}` not in:\n{}", r.stderr);
        }
        assert!(!out.exists(), "an output file was written");
        std::fs::write(&out, b"previous contents").unwrap();
        self.run(inputs, extra).fails(1);
        assert_eq!(std::fs::read(&out).unwrap(), b"previous contents");
        std::fs::remove_file(&out).unwrap();
    }
}

fn x(n: usize) -> Tensor {
    Tensor::f32(vec![n, 3], (0..n * 3).map(|i| i as f32 * 0.1).collect())
}

#[test]
fn good_inputs_run() {
    let f = Fixture::new();
    f.run(&f.path("good.safetensors"), &[]).ok();
    assert!(read(&f.path("out.safetensors")).contains_key("grad.W"));
}

#[test]
fn missing_tensor() {
    let f = Fixture::new();
    let p = f.inputs("missing", &[("x", x(4))]);
    f.refuses(&p, &[], &["`y`", "missing.safetensors"]);
}

#[test]
fn extra_tensor() {
    let f = Fixture::new();
    let y = Tensor::i32(vec![4], vec![0, 1, 1, 0]);
    let p = f.inputs("extra", &[("x", x(4)), ("y", y), ("z", Tensor::zeros(vec![2]))]);
    f.refuses(&p, &[], &["`z`", "extra.safetensors"]);
}

#[test]
fn wrong_dtype() {
    let f = Fixture::new();
    let p = f.inputs("dtype", &[("x", x(4)), ("y", Tensor::zeros(vec![4]))]);
    f.refuses(&p, &[], &["`y`", "i32", "dtype.safetensors"]);
}

#[test]
fn wrong_shape() {
    let f = Fixture::new();
    let x5 = Tensor::f32(vec![4, 5], vec![0.0; 20]);
    let p = f.inputs("shape", &[("x", x5), ("y", Tensor::i32(vec![4], vec![0; 4]))]);
    f.refuses(&p, &[], &["`x`", "[N, 3]", "[4, 5]"]);
}

#[test]
fn disagreeing_size_variables() {
    let f = Fixture::new();
    let p = f.inputs("sizes", &[("x", x(4)), ("y", Tensor::i32(vec![5], vec![0; 5]))]);
    f.refuses(&p, &[], &["N", "`x`", "`y`", "4", "5"]);
}

#[test]
fn params_file_of_the_wrong_shape() {
    let f = Fixture::new();
    let params = f.inputs(
        "params",
        &[("W", Tensor::zeros(vec![3, 3])), ("b", Tensor::zeros(vec![2]))],
    );
    let good = f.path("good.safetensors");
    f.refuses(&good, &["--params", &arg(&params)], &["`W`", "[3, 2]", "[3, 3]"]);
}

#[test]
fn truncated_file() {
    let f = Fixture::new();
    let bytes = std::fs::read(f.path("good.safetensors")).unwrap();
    let p = f.path("cut.safetensors");
    std::fs::write(&p, &bytes[..bytes.len() - 7]).unwrap();
    f.refuses(&p, &[], &["cut.safetensors"]);
}

#[test]
fn garbage_file() {
    let f = Fixture::new();
    let p = f.path("junk.safetensors");
    let junk: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&p, junk).unwrap();
    f.refuses(&p, &[], &["junk.safetensors"]);
    std::fs::write(&p, b"").unwrap();
    f.refuses(&p, &[], &["junk.safetensors"]);
}

#[test]
fn absent_inputs_file() {
    let f = Fixture::new();
    f.refuses(&f.path("nowhere.safetensors"), &[], &["nowhere.safetensors"]);
}

#[test]
fn label_out_of_range_native_and_interpreted() {
    let f = Fixture::new();
    let p = f.inputs("labels", &[("x", x(4)), ("y", Tensor::i32(vec![4], vec![0, 1, 2, 0]))]);
    f.refuses(&p, &[], &["`y`", "2"]);
    f.refuses(&p, &["-O0"], &["`y`", "2"]);
    f.refuses(&p, &["--interp"], &["`y`", "2"]);
    let p = f.inputs(
        "negative",
        &[("x", x(4)), ("y", Tensor::i32(vec![4], vec![0, -1, 1, 0]))],
    );
    f.refuses(&p, &[], &["`y`", "-1"]);
}

#[test]
fn model_errors_render_as_diagnostics() {
    let f = Fixture::new();
    std::fs::write(f.path("m.nn"), MODEL.replace("x @ W", "x @ Q")).unwrap();
    f.refuses(&f.path("good.safetensors"), &[], &["m.nn:6:", "undefined name `Q`"]);
    std::fs::remove_file(f.path("m.nn")).unwrap();
    f.refuses(&f.path("good.safetensors"), &[], &["m.nn"]);
}

#[test]
fn gradients_of_a_model_without_loss() {
    let f = Fixture::new();
    std::fs::write(
        f.path("m.nn"),
        MODEL.replace("    loss = cross_entropy(logits, y)\n", ""),
    )
    .unwrap();
    // y is then unused but still an input of the model. Nothing to differentiate: the
    // outputs are written as without --grad, and a note says why there are no gradients.
    let r = f.run(&f.path("good.safetensors"), &[]).ok();
    assert!(r.stderr.contains("no loss"), "{}", r.stderr);
    let written = nnc::io::read_tensors(f.path("out.safetensors")).unwrap();
    let names: Vec<&str> = written.keys().map(|n| n.as_str()).collect();
    assert!(names.contains(&"logits"), "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with("grad.") && *n != "loss"),
        "{names:?}"
    );
}

#[test]
fn memory_limit_refuses_with_the_size_needed() {
    let f = Fixture::new();
    let good = f.path("good.safetensors");
    f.refuses(&good, &["--memory-limit", "100"], &["memory limit", "N=4", "100 B"]);
    f.refuses(&good, &["--memory-limit", "100", "--interp"], &["memory limit"]);
    f.run(&good, &["--memory-limit", "1M"]).ok();
}

#[test]
fn command_line_errors_exit_2() {
    let f = Fixture::new();
    let m = arg(&f.path("m.nn"));
    nnc(&["run", &m]).fails(2); // no --inputs
    nnc(&["run", &m, "--inputs", "i", "--bogus"]).fails(2);
    nnc(&["run", &m, "--inputs", "i", "--memory-limit", "lots"]).fails(2);
    nnc(&["run", &m, "--inputs", "i", "-O3"]).fails(2);
    nnc(&["run", &m, "--inputs", "i", "--threads", "-1"]).fails(2);
    nnc(&["compile", &m, "--emit", "assembly"]).fails(2);
    nnc(&["init", &m]).fails(2); // no --out
    nnc(&["frobnicate"]).fails(2);
}
