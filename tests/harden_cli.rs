//! Hardening at the command line: the memory limit before anything large is allocated,
//! atomic output files (a failed command leaves the previous file and no temporary
//! file), and `--check-finite` inside inlined `fn`s.

mod cli_util;

use cli_util::{arg, nnc, write};
use nnc::Tensor;
use std::path::Path;

const MLP: &str = "\
model m {
    input x: [N, D]
    input y: i32[N]
    param W: [D, 3]
    param b: [3]
    loss = cross_entropy(x @ W + b, y)
}
";

/// A model file and a good inputs file in a fresh directory.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(model: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.nn"), model).unwrap();
        Fixture { dir }
    }
    fn path(&self, name: &str) -> String {
        arg(&self.dir.path().join(name))
    }
    fn mlp_inputs(&self) -> String {
        let p = self.path("i.safetensors");
        write(
            Path::new(&p),
            &[
                ("x", Tensor::f32(vec![2, 4], vec![0.5; 8])),
                ("y", Tensor::i32(vec![2], vec![0, 2])),
            ],
        );
        p
    }
    /// Names in the directory, sorted (temporary files would show here).
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

#[test]
fn run_refuses_a_param_that_the_inputs_make_huge_before_allocating_it() {
    let f = Fixture::new("model m {\n input x: [N, D]\n param W: [D, D]\n loss = sum(x @ W)\n}\n");
    let i = f.path("i.safetensors");
    // no elements, but D = 131072 makes W 64 GiB
    write(Path::new(&i), &[("x", Tensor::f32(vec![0, 131072], vec![]))]);
    let r = nnc(&["run", &f.path("m.nn"), "--inputs", &i]).fails(1);
    assert!(
        r.stderr.contains("memory limit") && r.stderr.contains("D=131072"),
        "{}",
        r.stderr
    );
    let r = nnc(&["run", &f.path("m.nn"), "--inputs", &i, "--grad", "--interp"]).fails(1);
    assert!(r.stderr.contains("memory limit"), "{}", r.stderr);
}

#[test]
fn run_refuses_sizes_whose_element_count_overflows() {
    let f = Fixture::new("model m {\n input x: [N, D]\n input z: [M, 1]\n param W: [D, M]\n loss = sum(x @ W)\n}\n");
    let i = f.path("i.safetensors");
    write(
        Path::new(&i),
        &[
            ("x", Tensor::f32(vec![0, 1 << 40], vec![])),
            ("z", Tensor::f32(vec![0, 1], vec![])),
        ],
    );
    // M = 0: W has no elements either; the model still runs (on nothing)
    nnc(&["run", &f.path("m.nn"), "--inputs", &i]).ok();
    write(
        Path::new(&i),
        &[
            ("x", Tensor::f32(vec![0, 1 << 40], vec![])),
            ("z", Tensor::f32(vec![1 << 40, 0], vec![])),
        ],
    );
    let r = nnc(&["run", &f.path("m.nn"), "--inputs", &i]).fails(1);
    assert!(r.stderr.contains("z"), "{}", r.stderr);
}

#[test]
fn bench_refuses_over_the_memory_limit_with_the_size_needed() {
    let f = Fixture::new(MLP);
    let base = [
        "bench",
        &f.path("m.nn"),
        "--batch",
        "8",
        "--steps",
        "1",
        "--warmup",
        "0",
    ];
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--sizes", "D=4", "--memory-limit", "256"]);
    let r = nnc(&args).fails(1);
    assert!(
        r.stderr.contains("memory limit") && r.stderr.contains("N=8") && r.stderr.contains("256 B"),
        "{}",
        r.stderr
    );
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--sizes", "D=4", "--memory-limit", "1M"]);
    nnc(&args).ok();
}

#[test]
fn run_out_into_a_missing_directory_fails_and_creates_nothing() {
    let f = Fixture::new(MLP);
    let i = f.mlp_inputs();
    let out = f.path("no/such/dir/o.safetensors");
    let r = nnc(&["run", &f.path("m.nn"), "--inputs", &i, "--out", &out]).fails(1);
    assert!(r.stderr.contains("o.safetensors"), "{}", r.stderr);
    assert_eq!(f.listing(), ["i.safetensors", "m.nn"]);
}

#[test]
fn run_out_onto_a_directory_fails_and_leaves_no_temporary_file() {
    let f = Fixture::new(MLP);
    let i = f.mlp_inputs();
    let out = f.path("o.safetensors");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(Path::new(&out).join("kept"), "x").unwrap();
    let r = nnc(&["run", &f.path("m.nn"), "--inputs", &i, "--grad", "--out", &out]).fails(1);
    assert!(r.stderr.contains("o.safetensors"), "{}", r.stderr);
    assert_eq!(f.listing(), ["i.safetensors", "m.nn", "o.safetensors"]);
    assert_eq!(std::fs::read_to_string(Path::new(&out).join("kept")).unwrap(), "x");
}

#[test]
fn a_failed_run_keeps_the_previous_out_file() {
    let f = Fixture::new(MLP);
    let i = f.mlp_inputs();
    let out = f.path("o.safetensors");
    nnc(&["run", &f.path("m.nn"), "--inputs", &i, "--out", &out]).ok();
    let before = std::fs::read(&out).unwrap();
    // a wrong inputs file, then labels out of range, then a non-finite result
    let bad = f.path("bad.safetensors");
    write(Path::new(&bad), &[("x", Tensor::f32(vec![2, 4], vec![0.5; 8]))]);
    nnc(&["run", &f.path("m.nn"), "--inputs", &bad, "--out", &out]).fails(1);
    write(
        Path::new(&bad),
        &[
            ("x", Tensor::f32(vec![2, 4], vec![0.5; 8])),
            ("y", Tensor::i32(vec![2], vec![0, 3])),
        ],
    );
    nnc(&["run", &f.path("m.nn"), "--inputs", &bad, "--out", &out, "--seed", "5"]).fails(1);
    write(
        Path::new(&bad),
        &[
            ("x", Tensor::f32(vec![2, 4], vec![f32::INFINITY; 8])),
            ("y", Tensor::i32(vec![2], vec![0, 1])),
        ],
    );
    nnc(&[
        "run",
        &f.path("m.nn"),
        "--inputs",
        &bad,
        "--out",
        &out,
        "--check-finite",
    ])
    .fails(1);
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(
        f.listing(),
        ["bad.safetensors", "i.safetensors", "m.nn", "o.safetensors"]
    );
}

#[test]
fn init_out_failures_keep_the_previous_file() {
    let f = Fixture::new(MLP);
    let out = f.path("p.safetensors");
    nnc(&["init", &f.path("m.nn"), "--sizes", "D=4", "--out", &out]).ok();
    let before = std::fs::read(&out).unwrap();
    // an unbound size variable, then a missing directory
    let r = nnc(&["init", &f.path("m.nn"), "--seed", "3", "--out", &out]).fails(1);
    assert!(r.stderr.contains("--sizes D="), "{}", r.stderr);
    nnc(&[
        "init",
        &f.path("m.nn"),
        "--sizes",
        "D=4",
        "--out",
        &f.path("missing/p.safetensors"),
    ])
    .fails(1);
    assert_eq!(std::fs::read(&out).unwrap(), before);
    assert_eq!(f.listing(), ["m.nn", "p.safetensors"]);
}

const IN_FN: &str = "\
fn safe_log(a) = log(a)
fn root(a) =
    sqrt(a) + 1

model fwd {
    input x: [N]
    param w: [N] = ones
    loss = sum(safe_log(x * w))
}

model bwd {
    input x: [N]
    param w: [N] = ones
    loss = sum(root(x * w))
}
";

fn check_finite_in_fn(model: &str, x: Vec<f32>, extra: &[&str]) -> cli_util::Run {
    let f = Fixture::new(IN_FN);
    let i = f.path("i.safetensors");
    write(Path::new(&i), &[("x", Tensor::f32(vec![x.len()], x))]);
    let mut args = vec!["run".to_string(), f.path("m.nn"), "--model".into(), model.into()];
    args.extend(["--inputs".to_string(), i, "--check-finite".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    nnc(&args)
}

const BACKENDS: [&[&str]; 3] = [&[], &["--interp"], &["-O0"]];

#[test]
fn check_finite_points_into_the_body_of_an_inlined_fn() {
    check_finite_in_fn("fwd", vec![1.0, 2.0], &[]).ok();
    for backend in BACKENDS {
        let r = check_finite_in_fn("fwd", vec![1.0, -1.0], backend).fails(1);
        assert!(
            r.stderr.contains("`log`") && r.stderr.contains("forward") && r.stderr.contains("m.nn:1:18"),
            "{backend:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("fn safe_log(a) = log(a)"), "{}", r.stderr);
    }
}

#[test]
fn check_finite_names_the_backward_pass_inside_an_inlined_fn() {
    // sqrt(0) = 0 is finite, its derivative is not
    check_finite_in_fn("bwd", vec![1.0, 0.0], &[]).ok();
    for backend in BACKENDS {
        let mut args = vec!["--grad"];
        args.extend(backend);
        let r = check_finite_in_fn("bwd", vec![1.0, 0.0], &args).fails(1);
        assert!(
            r.stderr.contains("backward") && r.stderr.contains("m.nn:3:5") && r.stderr.contains("sqrt(a) + 1"),
            "{backend:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn check_finite_names_the_forward_value_before_a_backward_one_scheduled_earlier() {
    // d/dx log(x) = 1/x needs only x, so the backward `div` may be evaluated before the
    // forward `log`; at x = 0 both are infinite, and the forward one is the cause.
    let f = Fixture::new(
        "model m {\n    input x: [N]\n    param w: [N] = ones\n    let b = log(x * w)\n    loss = sum(b)\n}\n",
    );
    let i = f.path("i.safetensors");
    write(Path::new(&i), &[("x", Tensor::f32(vec![2], vec![1.0, 0.0]))]);
    for extra in [&["--grad"][..], &["--grad", "--interp"][..]] {
        let mut args = ["run", &f.path("m.nn"), "--inputs", &i, "--check-finite"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        let r = nnc(&args).fails(1);
        assert!(
            r.stderr.contains("`log` in the forward pass at") && r.stderr.contains("m.nn:4:13"),
            "{}",
            r.stderr
        );
    }
}
