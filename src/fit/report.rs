//! What the loop reports: one record per epoch (also the `--log` line and the checkpoint's
//! history), and the progress events an [`Observer`] receives.

use serde_json::{json, Value};

/// The evaluation after an epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalReport {
    /// Mean loss over the evaluation examples (chunk losses weighted by chunk size).
    pub loss: f64,
    /// Fraction of examples classified correctly, in [0, 1], when the model has a
    /// classifier output and labels (see [`crate::fit::AccuracyRule`]).
    pub accuracy: Option<f64>,
    /// How many examples were evaluated.
    pub examples: usize,
}

/// One finished epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch's number, counted from 1 over the whole (possibly resumed) run.
    pub epoch: u64,
    /// Optimiser steps taken so far, over the whole run.
    pub step: u64,
    /// Mean training loss over the epoch's examples: each mini-batch's loss (computed
    /// before its update) weighted by its size.
    pub train_loss: f64,
    /// The evaluation, when an evaluation set was given.
    pub eval: Option<EvalReport>,
    /// Wall time of the epoch: training and evaluation.
    pub seconds: f64,
    /// Training examples per second (training steps only).
    pub examples_per_second: f64,
}

impl EpochReport {
    /// The JSON object written as one `--log` line. `eval_loss` and `eval_accuracy` are
    /// present when there was an evaluation (accuracy `null` when the model has no
    /// classifier output); non-finite numbers are written as `null`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "epoch": self.epoch,
            "step": self.step,
            "train_loss": self.train_loss,
            "seconds": self.seconds,
            "examples_per_second": self.examples_per_second,
        });
        if let (Some(e), Some(map)) = (&self.eval, v.as_object_mut()) {
            map.insert("eval_loss".into(), json!(e.loss));
            map.insert("eval_accuracy".into(), json!(e.accuracy));
            map.insert("eval_examples".into(), json!(e.examples));
        }
        v
    }

    /// Reads what [`EpochReport::to_json`] wrote (`null` losses become NaN).
    pub fn from_json(v: &Value) -> Option<EpochReport> {
        let num = |k: &str| v.get(k).map(|x| x.as_f64().unwrap_or(f64::NAN));
        let eval = num("eval_loss").map(|loss| EvalReport {
            loss,
            accuracy: v.get("eval_accuracy").and_then(Value::as_f64),
            examples: v.get("eval_examples").and_then(Value::as_u64).unwrap_or(0) as usize,
        });
        Some(EpochReport {
            epoch: v.get("epoch")?.as_u64()?,
            step: v.get("step")?.as_u64()?,
            train_loss: num("train_loss")?,
            eval,
            seconds: num("seconds").unwrap_or(0.0),
            examples_per_second: num("examples_per_second").unwrap_or(0.0),
        })
    }
}

/// An epoch is about to run.
#[derive(Clone, Debug)]
pub struct EpochStart {
    /// Its number, counted from 1 over the whole run.
    pub epoch: u64,
    /// The number of the last epoch this run will train.
    pub last_epoch: u64,
    /// Mini-batches in the epoch (the last one may be partial).
    pub steps: usize,
    /// Of those, how many a resumed checkpoint had already taken (0 normally).
    pub steps_done: usize,
}

/// A training step finished.
#[derive(Clone, Debug)]
pub struct StepInfo {
    /// The epoch's number (from 1).
    pub epoch: u64,
    /// Steps of this epoch done, including this one.
    pub steps_done: usize,
    /// Mini-batches in the epoch.
    pub steps: usize,
    /// This step's loss.
    pub loss: f32,
    /// Mean loss of the epoch so far.
    pub mean_loss: f64,
    /// Training examples per second in this epoch so far.
    pub examples_per_second: f64,
}

/// Receives progress as training runs. The loop never prints; the CLI implements this
/// with a progress bar or plain lines. Every method has an empty default.
pub trait Observer {
    /// An epoch is starting.
    fn epoch_started(&mut self, _e: &EpochStart) {}
    /// A step finished (called after every step: keep it cheap).
    fn step(&mut self, _s: &StepInfo) {}
    /// The epoch's training is done and evaluation starts.
    fn evaluating(&mut self, _epoch: u64) {}
    /// An epoch finished (after its evaluation, checkpoint, log line and plot).
    fn epoch_finished(&mut self, _r: &EpochReport) {}
}

/// An observer that ignores everything.
impl Observer for () {}
