//! The library training loop: loss falls, resume is bit-for-bit, checkpoints are checked,
//! partial batches are used, evaluation and `check_finite` work.

mod fit_util;

use fit_util::*;
use nnc::fit::{Checkpoint, EpochReport, FitConfig, FitError, Observer, StepInfo, Trainer};
use nnc::io::Dataset;
use nnc::tensor::Tensor;
use nnc::{Model, Optimizer, Options};
use std::sync::atomic::{AtomicBool, Ordering};

fn model(src: &str) -> Model {
    let options = Options {
        threads: 1,
        ..Options::default()
    };
    Model::from_source(src, "test.nn", None, options).unwrap()
}

fn config(opt: Optimizer, epochs: u64) -> FitConfig {
    FitConfig {
        batch: 8,
        epochs,
        seed: 3,
        ..FitConfig::new(opt)
    }
}

fn no_stop() -> AtomicBool {
    AtomicBool::new(false)
}

/// Bit patterns, so NaN and -0.0 compare exactly.
fn bits(ts: &[Tensor]) -> Vec<Vec<u32>> {
    ts.iter()
        .map(|t| t.as_f32().unwrap().iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The history without wall times, which differ between runs.
fn timeless(h: &[EpochReport]) -> Vec<EpochReport> {
    h.iter()
        .map(|r| EpochReport {
            seconds: 0.0,
            examples_per_second: 0.0,
            ..r.clone()
        })
        .collect()
}

#[test]
fn loss_falls_and_accuracy_is_reported() {
    let m = model(TINY);
    let train = blob_set(60, 1);
    let test = blob_set(30, 2);
    let mut t = Trainer::new(&m, config(Optimizer::adam(0.01), 6), &train).unwrap();
    let out = t.fit(&train, Some(&test), &mut (), &no_stop()).unwrap();
    assert!(!out.stopped);
    let h = t.history();
    assert_eq!(h.len(), 6);
    assert!(
        h[5].train_loss < 0.5 * h[0].train_loss,
        "train loss {} -> {}",
        h[0].train_loss,
        h[5].train_loss
    );
    let eval = h[5].eval.as_ref().unwrap();
    assert_eq!(eval.examples, 30);
    assert!(eval.accuracy.unwrap() > 0.9, "accuracy {:?}", eval.accuracy);
    assert_eq!(h[5].step, 6 * 60usize.div_ceil(8) as u64);
}

/// Trains `total` epochs at once, and `first` then the rest through a checkpoint file.
fn resume_matches(opt: Optimizer, first: u64, total: u64) {
    let m = model(TINY);
    let train = blob_set(30, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut whole = Trainer::new(&m, config(opt, total), &train).unwrap();
    whole.fit(&train, None, &mut (), &no_stop()).unwrap();

    let path = dir.path().join("ckpt.safetensors");
    let mut a = Trainer::new(
        &m,
        FitConfig {
            save: Some(path.clone()),
            ..config(opt, first)
        },
        &train,
    )
    .unwrap();
    a.fit(&train, None, &mut (), &no_stop()).unwrap();
    let ckpt = Checkpoint::read(&path).unwrap();
    assert_eq!(ckpt.meta.position.epoch, first);
    let mut b = Trainer::new(&m, config(opt, total - first), &train).unwrap();
    b.restore(&ckpt).unwrap();
    b.fit(&train, None, &mut (), &no_stop()).unwrap();

    assert_eq!(bits(b.params()), bits(whole.params()), "{opt}: params differ");
    assert_eq!(
        bits(b.optimizer_state()),
        bits(whole.optimizer_state()),
        "{opt}: state differs"
    );
    assert_eq!(b.position(), whole.position());
    assert_eq!(timeless(b.history()), timeless(whole.history()));
}

#[test]
fn resume_is_bit_for_bit_adam() {
    resume_matches(Optimizer::adam(0.01), 2, 4);
}

#[test]
fn resume_is_bit_for_bit_momentum() {
    resume_matches(Optimizer::momentum(0.05), 2, 4);
}

#[test]
fn resume_is_bit_for_bit_sgd() {
    resume_matches(Optimizer::sgd(0.1), 1, 3);
}

/// Raises the stop flag after a number of steps, as Ctrl-C would.
struct StopAfter<'a> {
    steps: usize,
    seen: usize,
    flag: &'a AtomicBool,
}

impl Observer for StopAfter<'_> {
    fn step(&mut self, _s: &StepInfo) {
        self.seen += 1;
        if self.seen == self.steps {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_stop_inside_an_epoch_saves_and_resumes_exactly() {
    let m = model(TINY);
    let train = blob_set(30, 5);
    let opt = Optimizer::adam(0.01);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let mut whole = Trainer::new(&m, config(opt, 3), &train).unwrap();
    whole.fit(&train, None, &mut (), &no_stop()).unwrap();

    let stop = AtomicBool::new(false);
    let mut a = Trainer::new(
        &m,
        FitConfig {
            save: Some(path.clone()),
            ..config(opt, 3)
        },
        &train,
    )
    .unwrap();
    // 4 steps per epoch (30 examples, batch 8): stop in the middle of epoch 2.
    let out = a
        .fit(
            &train,
            None,
            &mut StopAfter {
                steps: 6,
                seen: 0,
                flag: &stop,
            },
            &stop,
        )
        .unwrap();
    assert!(out.stopped);
    assert_eq!(out.saved.as_deref(), Some(path.as_path()));
    assert_eq!(out.position.step, 6);
    assert_eq!(out.position.epoch, 1);
    assert_eq!(out.position.epoch_examples, 16);

    let ckpt = Checkpoint::read(&path).unwrap();
    assert_eq!(ckpt.meta.position, out.position);
    let mut b = Trainer::new(&m, config(opt, 2), &train).unwrap();
    b.restore(&ckpt).unwrap();
    b.fit(&train, None, &mut (), &no_stop()).unwrap();
    assert_eq!(bits(b.params()), bits(whole.params()));
    assert_eq!(timeless(b.history()), timeless(whole.history()));
}

#[test]
fn the_last_partial_batch_is_used() {
    let m = model(TINY);
    let train = blob_set(10, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let cfg = FitConfig {
        batch: 4,
        epochs: 2,
        save: Some(path.clone()),
        ..FitConfig::new(Optimizer::sgd(0.1))
    };
    let mut t = Trainer::new(&m, cfg, &train).unwrap();
    let mut steps = StepSizes(Vec::new());
    t.fit(&train, None, &mut steps, &no_stop()).unwrap();
    assert_eq!(steps.0, vec![(1, 3), (2, 3), (3, 3), (1, 3), (2, 3), (3, 3)]);
    let ckpt = Checkpoint::read(&path).unwrap();
    assert_eq!(ckpt.meta.position.step, 6, "3 steps per epoch: 4 + 4 + 2 examples");
    assert_eq!(t.history()[1].step, 6);
}

struct StepSizes(Vec<(usize, usize)>);

impl Observer for StepSizes {
    fn step(&mut self, s: &StepInfo) {
        self.0.push((s.steps_done, s.steps));
    }
}

#[test]
fn a_checkpoint_of_another_model_is_refused_naming_both() {
    let train = blob_set(12, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.safetensors");
    let wide = model(WIDER);
    let t = Trainer::new(&wide, config(Optimizer::adam(0.01), 1), &train).unwrap();
    t.save(&path).unwrap();
    let ckpt = Checkpoint::read(&path).unwrap();
    let mut tiny = Trainer::new(&model(TINY), config(Optimizer::adam(0.01), 1), &train).unwrap();
    let err = tiny.restore(&ckpt).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, FitError::Checkpoint { .. }), "{msg}");
    assert!(msg.contains("`wider`") && msg.contains("`tiny`"), "{msg}");

    // Same name, other structure: still refused, called a different version.
    let renamed = WIDER.replace("model wider", "model tiny");
    let t = Trainer::new(&model(&renamed), config(Optimizer::adam(0.01), 1), &train).unwrap();
    t.save(&path).unwrap();
    let err = tiny.restore(&Checkpoint::read(&path).unwrap()).unwrap_err();
    assert!(err.to_string().contains("different version of model `tiny`"), "{err}");
}

#[test]
fn a_checkpoint_of_another_optimizer_is_refused() {
    let m = model(TINY);
    let train = blob_set(12, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adam.safetensors");
    let mut t = Trainer::new(&m, config(Optimizer::adam(0.01), 1), &train).unwrap();
    t.fit(&train, None, &mut (), &no_stop()).unwrap();
    t.save(&path).unwrap();
    let ckpt = Checkpoint::read(&path).unwrap();
    assert!(ckpt.tensors.contains_key("adam.m.W") && ckpt.tensors.contains_key("adam.v.c"));
    let mut s = Trainer::new(&m, config(Optimizer::momentum(0.1), 1), &train).unwrap();
    let msg = s.restore(&ckpt).unwrap_err().to_string();
    assert!(msg.contains("adam") && msg.contains("momentum"), "{msg}");
    // Its params alone are fine (the optimiser state is skipped).
    s.load_params(&path).unwrap();
    assert_eq!(bits(s.params()), bits(t.params()));
}

#[test]
fn a_checkpoint_reads_as_a_plain_params_file() {
    let m = model(TINY);
    let train = blob_set(12, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let mut t = Trainer::new(&m, config(Optimizer::adam(0.01), 1), &train).unwrap();
    t.fit(&train, None, &mut (), &no_stop()).unwrap();
    t.save(&path).unwrap();
    let params = nnc::io::load_params(&path, m.graph()).unwrap();
    assert_eq!(bits(&params), bits(t.params()));
    // A plain file with a stray dotted tensor is still refused.
    let plain = dir.path().join("plain.safetensors");
    let mut named: Vec<(String, &Tensor)> = m.params().into_iter().map(|p| p.name).zip(t.params()).collect();
    named.push(("adam.m.W".into(), &t.params()[0]));
    nnc::io::write_tensors(&plain, &named).unwrap();
    let err = nnc::io::load_params(&plain, m.graph()).unwrap_err().to_string();
    assert!(err.contains("adam.m.W"), "{err}");
}

#[test]
fn a_model_without_labels_reports_loss_only() {
    let src = "model reg { input x: [N, 4] param W: [4, 1] output p = x @ W loss = mean(p ^ 2) }";
    let m = model(src);
    let (x, _) = blobs(20, 1);
    let data = Dataset::new(vec![("x".into(), x)]).unwrap();
    let mut t = Trainer::new(&m, config(Optimizer::sgd(0.1), 3), &data).unwrap();
    t.fit(&data, Some(&data), &mut (), &no_stop()).unwrap();
    let e = t.history()[2].eval.clone().unwrap();
    assert_eq!(e.accuracy, None);
    assert!(
        e.loss < t.history()[0].train_loss,
        "{} vs {}",
        e.loss,
        t.history()[0].train_loss
    );
    let json = t.history()[2].to_json();
    assert!(json.get("eval_accuracy").unwrap().is_null());
}

#[test]
fn evaluation_in_chunks_equals_one_call() {
    let m = model(TINY);
    let train = blob_set(25, 1);
    let mut small = Trainer::new(
        &m,
        FitConfig {
            eval_chunk: 7,
            ..config(Optimizer::adam(0.01), 1)
        },
        &train,
    )
    .unwrap();
    let chunked = small.evaluate(&train).unwrap();
    let (x, y) = blobs(25, 1);
    let out = m
        .forward()
        .unwrap()
        .call_tensors(&[x, y.clone()], small.params())
        .unwrap();
    let loss = out.loss.unwrap() as f64;
    assert!((chunked.loss - loss).abs() < 1e-5, "{} vs {loss}", chunked.loss);
    let logits = out.get("logits").unwrap().as_f32().unwrap();
    let correct = nnc::fit::count_correct(logits, y.as_i32().unwrap());
    assert_eq!(chunked.accuracy, Some(correct as f64 / 25.0));
}

#[test]
fn check_finite_names_the_source_line() {
    let src = "model bad {\n  input x: [N, 4]\n  input y: i32[N]\n  param W: [4, 3] = 1\n  let z = log(x @ W - 100)\n  output logits = z\n  loss = cross_entropy(logits, y)\n}\n";
    let m = model(src);
    let train = blob_set(12, 1);
    let cfg = FitConfig {
        check_finite: true,
        ..config(Optimizer::sgd(0.1), 1)
    };
    let mut t = Trainer::new(&m, cfg, &train).unwrap();
    let before = bits(t.params());
    let err = t.fit(&train, None, &mut (), &no_stop()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("log") && msg.contains("test.nn:5"), "{msg}");
    assert_eq!(
        bits(t.params()),
        before,
        "params are put back as before the failing step"
    );
}

#[test]
fn bad_configurations_are_errors() {
    let m = model(TINY);
    let train = blob_set(12, 1);
    let cfg = FitConfig {
        batch: 0,
        ..config(Optimizer::sgd(0.1), 1)
    };
    assert!(matches!(Trainer::new(&m, cfg, &train), Err(FitError::Config(_))));
    let no_loss = model("model f { input x: [N, 4] param W: [4, 2] output o = x @ W }");
    let (x, _) = blobs(4, 1);
    let data = Dataset::new(vec![("x".into(), x)]).unwrap();
    let err = Trainer::new(&no_loss, config(Optimizer::sgd(0.1), 1), &data)
        .err()
        .unwrap();
    assert!(err.to_string().contains("no loss"), "{err}");
}
