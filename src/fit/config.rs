//! How to train: optimiser, batching, seed, and which files to keep up to date.

use crate::train::Optimizer;
use std::path::PathBuf;

/// The default mini-batch size.
pub const DEFAULT_BATCH: usize = 64;
/// The default number of epochs.
pub const DEFAULT_EPOCHS: u64 = 10;
/// Examples per forward call when evaluating.
pub const DEFAULT_EVAL_CHUNK: usize = 1000;

/// The default learning rate of each optimiser: Adam 0.001 (PyTorch's default), SGD and
/// momentum 0.01.
pub fn default_lr(optimizer_name: &str) -> f64 {
    match optimizer_name {
        "adam" => 0.001,
        _ => 0.01,
    }
}

/// Everything the loop needs besides the model and the data.
#[derive(Clone, Debug, PartialEq)]
pub struct FitConfig {
    /// The optimiser and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Examples per mini-batch; the last batch of an epoch holds the rest (it is used,
    /// not dropped).
    pub batch: usize,
    /// Epochs to train in this run (a resumed run continues the epoch count).
    pub epochs: u64,
    /// Seeds param initialisation and the per-epoch shuffle.
    pub seed: u64,
    /// Examples per forward call when evaluating.
    pub eval_chunk: usize,
    /// After every step, check the loss, params and optimiser state for NaN or infinity
    /// and stop with the source location of the first non-finite value.
    pub check_finite: bool,
    /// Checkpoint written (atomically) after every epoch, on a stop, and at the end.
    pub save: Option<PathBuf>,
    /// JSON-lines metrics log, one line per epoch, rewritten atomically.
    pub log: Option<PathBuf>,
    /// SVG plot of the loss and accuracy curves, rewritten after every epoch.
    pub plot: Option<PathBuf>,
}

impl FitConfig {
    /// The defaults with this optimiser: batch 64, 10 epochs, seed 0, no files.
    pub fn new(optimizer: Optimizer) -> FitConfig {
        FitConfig {
            optimizer,
            batch: DEFAULT_BATCH,
            epochs: DEFAULT_EPOCHS,
            seed: 0,
            eval_chunk: DEFAULT_EVAL_CHUNK,
            check_finite: false,
            save: None,
            log: None,
            plot: None,
        }
    }
}
