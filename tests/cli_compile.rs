//! `nnc compile` (every `--emit` kind and `--stats` on the MNIST model), `nnc init`, and
//! `nnc run --check-finite`.

mod cli_util;

use cli_util::*;
use nnc::Tensor;
use std::path::PathBuf;

fn mnist() -> String {
    arg(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/mnist_mlp.nn"))
}

fn emit(kind: &str, extra: &[&str]) -> String {
    let m = mnist();
    let mut args = vec!["compile", m.as_str(), "--emit", kind];
    args.extend_from_slice(extra);
    nnc(&args).ok().stdout
}

#[test]
fn every_emit_kind_on_the_mnist_model() {
    let ir = emit("ir", &[]);
    assert!(ir.starts_with("graph mnist_mlp(N) {"), "{ir}");
    assert!(
        ir.contains("matmul") && ir.contains("// line 15") && !ir.contains("backward"),
        "{ir}"
    );
    let grad = emit("grad", &[]);
    assert!(
        grad.contains("backward") && grad.contains("output grad.W1 = "),
        "{grad}"
    );
    let opt = emit("opt", &[]);
    assert!(
        opt.starts_with("graph mnist_mlp(N) {") && opt.contains("output grad.b3"),
        "{opt}"
    );
    let clif = emit("clif", &[]);
    assert!(clif.contains("function ") && clif.contains("block0"), "{clif}");
    let dot = emit("dot", &[]);
    assert!(
        dot.starts_with("digraph \"mnist_mlp\"") && dot.contains("cluster_backward"),
        "{dot}"
    );
    let kernels = emit("kernels", &["--sizes", "N=2"]);
    assert!(
        kernels.contains("k0: ") && kernels.contains("matmul 2x784x128"),
        "{kernels}"
    );
    let nn = emit("grad-nn", &[]);
    assert!(
        nn.contains("model mnist_mlp_grad {") && nn.contains("output grad_W1"),
        "{nn}"
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.nn");
    std::fs::write(&p, &nn).unwrap();
    nnc(&["check", &arg(&p)]).ok();
}

#[test]
fn several_kinds_are_separated_by_headers() {
    let both = emit("ir,grad-nn", &["--emit", "kernels"]);
    let headers: Vec<&str> = both.lines().filter(|l| l.starts_with("// ==== ")).collect();
    assert_eq!(
        headers,
        ["// ==== ir ====", "// ==== grad-nn ====", "// ==== kernels ===="]
    );
}

/// The number after `label` in `--stats` output.
fn stat(text: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("{label} in {text}"));
    line[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn stats_count_nodes_kernels_flops_and_bytes() {
    let m = mnist();
    let one = nnc(&["compile", &m, "--stats"]).ok().stdout;
    assert!(one.starts_with("model mnist_mlp: gradients at N=1"), "{one}");
    let two = nnc(&["compile", &m, "--stats", "--sizes", "N=2"]).ok().stdout;
    let fwd = nnc(&["compile", &m, "--stats", "--forward"]).ok().stdout;
    for t in [&one, &two, &fwd] {
        for label in ["nodes", "kernels", "flops", "io bytes", "workspace bytes"] {
            assert!(stat(t, label) > 0, "{label} in {t}");
        }
    }
    // the products of the 784x128 layer alone, forward and for grad.W1: 2 * 2 * N * 784 * 128
    assert!(stat(&one, "flops") >= 2 * 2 * 784 * 128, "{one}");
    assert!(stat(&two, "flops") > stat(&one, "flops"));
    assert!(stat(&two, "io bytes") > stat(&one, "io bytes"));
    // params alone are (784*128 + 128 + 128*64 + 64 + 64*10 + 10) * 4 bytes
    assert!(stat(&fwd, "io bytes") >= 109_386 * 4, "{fwd}");
    assert!(stat(&fwd, "nodes") < stat(&one, "nodes"));
    assert!(stat(&fwd, "flops") < stat(&one, "flops"));
}

#[test]
fn compile_without_emit_reports_success_and_bad_sizes_fail() {
    let m = mnist();
    let r = nnc(&["compile", &m]).ok();
    assert!(r.stdout.contains("compiled model mnist_mlp"), "{}", r.stdout);
    let r = nnc(&["compile", &m, "--sizes", "M=3"]).fails(1);
    assert!(
        r.stderr.contains("`M` is not a size variable") && r.stderr.contains("N"),
        "{}",
        r.stderr
    );
    let r = nnc(&["compile", &m, "--sizes", "N=0"]).fails(1);
    assert!(r.stderr.contains("at least 1"), "{}", r.stderr);
    nnc(&["compile", &m, "--sizes", "N"]).fails(2);
}

#[test]
fn emitting_gradients_of_a_model_without_loss_fails() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.nn");
    std::fs::write(&p, "model m { input x: [3]\n output y = exp(x) }\n").unwrap();
    nnc(&["compile", &arg(&p), "--emit", "ir", "--stats"]).ok();
    let r = nnc(&["compile", &arg(&p), "--emit", "grad"]).fails(1);
    assert!(r.stderr.contains("no loss"), "{}", r.stderr);
}

#[test]
fn init_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let m = mnist();
    let out = |name: &str| dir.path().join(name);
    nnc(&["init", &m, "--out", &arg(&out("a"))]).ok();
    nnc(&["init", &m, "--seed", "0", "--out", &arg(&out("b"))]).ok();
    nnc(&["init", &m, "--seed", "1", "--out", &arg(&out("c"))]).ok();
    let (a, c) = (read(&out("a")), read(&out("c")));
    assert_eq!(std::fs::read(out("a")).unwrap(), std::fs::read(out("b")).unwrap());
    assert_ne!(a["W1"], c["W1"]);
    let names: Vec<&str> = a.keys().map(String::as_str).collect();
    assert_eq!(names, ["W1", "W2", "W3", "b1", "b2", "b3"]);
    assert_eq!(a["W1"].shape, [784, 128]);
    // declared initialisers: biases are zeros, he_normal has std sqrt(2/784)
    assert!(values(&a["b1"]).iter().all(|&v| v == 0.0));
    let w = values(&a["W1"]);
    let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
    assert!((std - (2.0f64 / 784.0).sqrt()).abs() < 0.003, "std {std}");
}

#[test]
fn init_needs_sizes_for_params_with_size_variables() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.nn");
    std::fs::write(
        &p,
        "model emb {\n input x: [N, V]\n param E: [V, 4]\n output h = x @ E\n}\n",
    )
    .unwrap();
    let out = dir.path().join("p.safetensors");
    let r = nnc(&["init", &arg(&p), "--out", &arg(&out)]).fails(1);
    assert!(
        r.stderr.contains("`E`") && r.stderr.contains("--sizes V="),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    nnc(&["init", &arg(&p), "--out", &arg(&out), "--sizes", "V=5"]).ok();
    assert_eq!(read(&out)["E"].shape, [5, 4]);
}

const FORWARD_NAN: &str = "\
model m {
    input x: [N]
    param w: [N] = ones

    let a = x * w
    let b = log(a)
    loss = sum(b)
}
";

const BACKWARD_INF: &str = "\
model m {
    input x: [N]
    param w: [N] = ones

    let a = x * w
    let r = sqrt(a) + 1
    loss = sum(r)
}
";

fn check_finite(model: &str, x: Vec<f32>, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (m, i) = (dir.path().join("m.nn"), dir.path().join("i.safetensors"));
    std::fs::write(&m, model).unwrap();
    write(&i, &[("x", Tensor::f32(vec![x.len()], x))]);
    let out = dir.path().join("o.safetensors");
    let mut args = vec![
        "run".to_string(),
        arg(&m),
        "--inputs".into(),
        arg(&i),
        "--check-finite".into(),
        "--out".into(),
        arg(&out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let r = nnc(&args);
    assert_eq!(out.exists(), r.code == 0, "{}", r.stderr);
    r
}

#[test]
fn check_finite_names_the_forward_operation_and_line() {
    let r = check_finite(FORWARD_NAN, vec![1.0, -2.0, 3.0], &[]).fails(1);
    assert!(
        r.stderr.contains("`log`") && r.stderr.contains("forward"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("m.nn:6:13") && r.stderr.contains("let b = log(a)"),
        "{}",
        r.stderr
    );
    check_finite(FORWARD_NAN, vec![1.0, 2.0, 3.0], &[]).ok();
    // without the flag a NaN is just a result, counted in the summary
    let dir = tempfile::tempdir().unwrap();
    let (m, i) = (dir.path().join("m.nn"), dir.path().join("i.safetensors"));
    std::fs::write(&m, FORWARD_NAN).unwrap();
    write(&i, &[("x", Tensor::f32(vec![3], vec![1.0, -2.0, 3.0]))]);
    let r = nnc(&["run", &arg(&m), "--inputs", &arg(&i)]).ok();
    assert!(r.stdout.contains("loss") && r.stdout.contains("NaN"), "{}", r.stdout);
    // the interpreter finds it too
    let r = check_finite(FORWARD_NAN, vec![1.0, -2.0, 3.0], &["--interp"]).fails(1);
    assert!(r.stderr.contains("m.nn:6:13"), "{}", r.stderr);
}

#[test]
fn check_finite_names_the_backward_pass_of_the_source_line() {
    // sqrt(0) = 0 is finite; its derivative 1 / (2 sqrt(0)) is not
    let x = vec![1.0, 0.0, 4.0];
    check_finite(BACKWARD_INF, x.clone(), &[]).ok();
    let r = check_finite(BACKWARD_INF, x.clone(), &["--grad"]).fails(1);
    assert!(
        r.stderr.contains("backward") && r.stderr.contains("m.nn:6:13"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("let r = sqrt(a) + 1"), "{}", r.stderr);
    check_finite(BACKWARD_INF, x, &["--grad", "-O0"]).fails(1);
}
