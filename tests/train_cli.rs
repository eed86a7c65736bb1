//! `nnc train` end to end: data loaders, defaults, log, plot, checkpoints, resume,
//! refusals, atomic saves and Ctrl-C.

mod fit_util;

use fit_util::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn nnc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nnc"))
}

fn run(args: &[&str]) -> Output {
    nnc().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn log_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

#[test]
fn trains_on_safetensors_data_with_log_plot_and_save() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    write_blobs(&d.join("train.safetensors"), 60, 1);
    write_blobs(&d.join("test.safetensors"), 30, 2);
    let (log, plot, save) = (d.join("m.jsonl"), d.join("curves.svg"), d.join("ckpt.safetensors"));
    let o = run(&[
        "train",
        s(&model),
        "--data",
        s(&d.join("train.safetensors")),
        "--eval",
        s(&d.join("test.safetensors")),
        "--lr",
        "0.01",
        "--batch",
        "8",
        "--epochs",
        "5",
        "--log",
        s(&log),
        "--plot",
        s(&plot),
        "--save",
        s(&save),
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("test accuracy"),
        "{}",
        text(&o)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().filter(|l| l.starts_with("epoch")).count(), 5, "{stderr}");

    let lines = log_lines(&log);
    assert_eq!(lines.len(), 5);
    for (k, l) in lines.iter().enumerate() {
        assert_eq!(l["epoch"].as_u64(), Some(k as u64 + 1));
        for f in ["train_loss", "eval_loss", "seconds"] {
            assert!(l[f].as_f64().is_some(), "field {f} in {l}");
        }
        let acc = l["eval_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{l}");
    }
    let first = lines[0]["train_loss"].as_f64().unwrap();
    let last = lines[4]["train_loss"].as_f64().unwrap();
    assert!(last < first, "train loss {first} -> {last}");

    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{}",
        &svg[..100]
    );
    assert!(svg.contains("train loss") && svg.contains("eval accuracy"));

    let ckpt = nnc::io::read_metadata(&save).unwrap();
    assert_eq!(ckpt["format"], "nnc.checkpoint");
    assert_eq!(ckpt["epoch"], "5");
    assert_eq!(ckpt["step"], (5 * 60usize.div_ceil(8)).to_string());
    assert_eq!(ckpt["optimizer"], "adam");
    assert!(ckpt["model_hash"].starts_with("sha256:"));
    // No temporary files are left beside the outputs.
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn trains_on_idx_directories_gzipped_or_not() {
    for gzip in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let model = write_file(d, "pixels.nn", PIXELS);
        let mnist = d.join("mnist");
        write_mnist_dir(&mnist, 200, 50, gzip);
        let log = d.join("log.jsonl");
        let o = run(&[
            "train",
            s(&model),
            "--data",
            s(&mnist),
            "--eval",
            s(&mnist),
            "--optimizer",
            "sgd",
            "--lr",
            "0.5",
            "--batch",
            "16",
            "--epochs",
            "4",
            "--log",
            s(&log),
        ]);
        assert!(o.status.success(), "gzip {gzip}: {}", text(&o));
        let lines = log_lines(&log);
        assert_eq!(
            lines[3]["eval_examples"].as_u64(),
            Some(50),
            "the t10k split is evaluated"
        );
        assert!(lines[3]["train_loss"].as_f64().unwrap() < lines[0]["train_loss"].as_f64().unwrap());
        assert!(lines[3]["eval_accuracy"].as_f64().unwrap() > 0.5, "{}", lines[3]);
    }
}

#[test]
fn defaults_to_mnist_beside_the_model_else_asks_for_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "pixels.nn", PIXELS);
    let o = run(&["train", s(&model), "--epochs", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no --data given"),
        "{}",
        text(&o)
    );

    write_mnist_dir(&d.join("data").join("mnist-10k"), 100, 40, true);
    let o = run(&["train", s(&model), "--epochs", "2", "--lr", "0.01"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("test accuracy") && out.contains("on 40 examples"),
        "{}",
        text(&o)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("on 100 examples") && err.contains("adam(lr=0.01"), "{err}");
}

#[test]
fn the_last_partial_batch_is_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    write_blobs(&d.join("ten.safetensors"), 10, 1);
    let log = d.join("log.jsonl");
    let o = run(&[
        "train",
        s(&model),
        "--data",
        s(&d.join("ten.safetensors")),
        "--batch",
        "4",
        "--epochs",
        "2",
        "--log",
        s(&log),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let steps: Vec<u64> = log_lines(&log).iter().map(|l| l["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, vec![3, 6]);
}

/// 2 + 2 epochs through a checkpoint give the params and state of 4 at once.
fn resume_bit_for_bit(optimizer: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    let data = d.join("train.safetensors");
    write_blobs(&data, 30, 3);
    let train = |epochs: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            s(&model),
            "--data",
            s(&data),
            "--optimizer",
            optimizer,
            "--lr",
            "0.02",
            "--batch",
            "8",
            "--seed",
            "5",
            "--threads",
            "1",
            "--epochs",
            epochs,
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", text(&o));
    };
    let (whole, half, log) = (d.join("whole.st"), d.join("half.st"), d.join("log.jsonl"));
    train("4", &["--save", s(&whole)]);
    train("2", &["--save", s(&half)]);
    // Resume: optimiser, lr, batch and seed come from the checkpoint when not given,
    // but giving the same ones is fine too.
    let o = run(&[
        "train",
        s(&model),
        "--data",
        s(&data),
        "--params",
        s(&half),
        "--epochs",
        "2",
        "--threads",
        "1",
        "--save",
        s(&half),
        "--log",
        s(&log),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("resuming after epoch 2"),
        "{}",
        text(&o)
    );
    let a = nnc::io::read_tensors(&whole).unwrap();
    let b = nnc::io::read_tensors(&half).unwrap();
    assert_eq!(a.len(), b.len());
    assert!(
        a.keys().any(|k| k.starts_with(&format!("{optimizer}."))),
        "{:?}",
        a.keys()
    );
    for (name, t) in &a {
        let bits = |t: &nnc::Tensor| t.as_f32().unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(t), bits(&b[name]), "{optimizer}: tensor {name} differs");
    }
    let (ma, mb) = (
        nnc::io::read_metadata(&whole).unwrap(),
        nnc::io::read_metadata(&half).unwrap(),
    );
    assert_eq!(ma["step"], mb["step"]);
    assert_eq!(ma["epoch"], "4");
    // The log of the resumed run holds all four epochs (the first two from the checkpoint).
    let epochs: Vec<u64> = log_lines(&log).iter().map(|l| l["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, vec![1, 2, 3, 4]);
}

#[test]
fn resume_is_bit_for_bit_adam() {
    resume_bit_for_bit("adam");
}

#[test]
fn resume_is_bit_for_bit_momentum() {
    resume_bit_for_bit("momentum");
}

#[test]
fn refuses_a_checkpoint_of_another_model_or_optimizer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tiny = write_file(d, "tiny.nn", TINY);
    let wider = write_file(d, "wider.nn", WIDER);
    let data = d.join("train.safetensors");
    write_blobs(&data, 12, 3);
    let ckpt = d.join("wider.st");
    let o = run(&[
        "train",
        s(&wider),
        "--data",
        s(&data),
        "--epochs",
        "1",
        "--save",
        s(&ckpt),
    ]);
    assert!(o.status.success(), "{}", text(&o));

    let o = run(&["train", s(&tiny), "--data", s(&data), "--params", s(&ckpt)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`wider`") && err.contains("`tiny`"), "{err}");

    let o = run(&[
        "train",
        s(&wider),
        "--data",
        s(&data),
        "--params",
        s(&ckpt),
        "--optimizer",
        "sgd",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("adam") && err.contains("sgd") && err.contains("--fresh-optimizer"),
        "{err}"
    );

    let o = run(&[
        "train",
        s(&wider),
        "--data",
        s(&data),
        "--params",
        s(&ckpt),
        "--optimizer",
        "sgd",
        "--fresh-optimizer",
        "--epochs",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_failed_run_leaves_an_existing_save_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    let save = d.join("keep.safetensors");
    std::fs::write(&save, b"previous contents").unwrap();
    // Data whose features have the wrong width: refused before anything is written.
    let bad = d.join("bad.safetensors");
    let x = nnc::Tensor::f32(vec![3, 5], vec![0.0; 15]);
    let y = nnc::Tensor::i32(vec![3], vec![0, 1, 2]);
    nnc::io::write_tensors(&bad, &[("x", &x), ("y", &y)]).unwrap();
    let o = run(&["train", s(&model), "--data", s(&bad), "--save", s(&save)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains('x'), "{}", text(&o));
    assert_eq!(std::fs::read(&save).unwrap(), b"previous contents");

    write_blobs(&d.join("good.safetensors"), 12, 1);
    let o = run(&[
        "train",
        s(&model),
        "--data",
        s(&d.join("good.safetensors")),
        "--epochs",
        "1",
        "--save",
        s(&save),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(nnc::io::read_metadata(&save).unwrap()["epoch"], "1");
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_file(dir.path(), "tiny.nn", TINY);
    let data = dir.path().join("d.safetensors");
    write_blobs(&data, 6, 1);
    for extra in [
        &["--batch", "0"][..],
        &["--lr", "-1"],
        &["--optimizer", "rmsprop"],
        &["-O", "3"],
    ] {
        let mut args = vec!["train", s(&model), "--data", s(&data)];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", text(&o));
    }
}

#[test]
fn help_documents_the_defaults() {
    let o = run(&["train", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "--optimizer adam",
        "--lr 0.001",
        "--batch 64",
        "--epochs 10",
        "--seed 0",
        "130",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_step_saves_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    let data = d.join("train.safetensors");
    write_blobs(&data, 40, 1);
    let save = d.join("ckpt.safetensors");
    let mut child = nnc()
        .args([
            "train",
            s(&model),
            "--data",
            s(&data),
            "--epochs",
            "1000000",
            "--batch",
            "8",
            "--save",
            s(&save),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("epoch") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("no epoch line within two minutes");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("checkpoint saved to"), "{stderr}");
    let ckpt = nnc::fit::Checkpoint::read(&save).unwrap();
    assert!(
        ckpt.meta.position.step >= 5,
        "at least one epoch of 5 steps: {:?}",
        ckpt.meta.position
    );
    let m = nnc::Model::from_file(&model, None, nnc::Options::default()).unwrap();
    nnc::io::load_params(&save, m.graph()).unwrap();
}

#[test]
fn nnc_run_accepts_a_checkpoint_as_params() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = write_file(d, "tiny.nn", TINY);
    let data = d.join("train.safetensors");
    write_blobs(&data, 12, 3);
    let ckpt = d.join("ckpt.safetensors");
    let o = run(&[
        "train",
        s(&model),
        "--data",
        s(&data),
        "--epochs",
        "1",
        "--save",
        s(&ckpt),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = d.join("out.safetensors");
    let o = run(&[
        "run",
        s(&model),
        "--inputs",
        s(&data),
        "--params",
        s(&ckpt),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = nnc::io::read_tensors(&out).unwrap();
    assert_eq!(t["logits"].shape, vec![12, 3]);
}
