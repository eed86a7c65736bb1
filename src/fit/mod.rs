//! Training real models: the loop, evaluation, metrics, checkpoints and plots, built on
//! the public API ([`crate::Model::train_step`], [`crate::Model::forward`]).
//!
//! The library never prints, installs signal handlers or exits: progress goes to an
//! [`Observer`], and a stop request is an [`AtomicBool`](std::sync::atomic::AtomicBool)
//! the caller raises (the CLI raises it on Ctrl-C).
//!
//! ```no_run
//! use nnc::fit::{FitConfig, Trainer};
//! use nnc::io::{Dataset, Split};
//! use nnc::{Model, Optimizer, Options};
//! use std::sync::atomic::AtomicBool;
//!
//! let model = Model::from_file("examples/mnist_mlp.nn", None, Options::default())?;
//! let train = Dataset::load("examples/data/mnist-10k", Split::Train, model.graph())?;
//! let test = Dataset::load("examples/data/mnist-10k", Split::Test, model.graph())?;
//! let mut trainer = Trainer::new(&model, FitConfig::new(Optimizer::adam(0.001)), &train)?;
//! trainer.fit(&train, Some(&test), &mut (), &AtomicBool::new(false))?;
//! println!("{:?}", trainer.history().last());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reproducibility: with one thread ([`crate::Options::threads`] = 1), training is
//! bit-for-bit deterministic given the seed, and training 5 epochs, checkpointing, and
//! resuming for 5 more gives the same params as 10 epochs at once: the shuffle of each
//! epoch depends only on (seed, epoch index) ([`epoch_permutation`]), and a checkpoint
//! holds the optimiser state and step count (and the position inside an interrupted epoch).

mod checkpoint;
mod config;
mod error;
mod eval;
pub mod plot;
mod report;
mod shuffle;
mod trainer;

pub use checkpoint::{is_checkpoint_file, model_hash, Checkpoint, CheckpointMeta, Position, FORMAT_VERSION};
pub use config::{default_lr, FitConfig, DEFAULT_BATCH, DEFAULT_EPOCHS, DEFAULT_EVAL_CHUNK};
pub use error::FitError;
pub use eval::{count_correct, AccuracyRule, Evaluator};
pub use report::{EpochReport, EpochStart, EvalReport, Observer, StepInfo};
pub use shuffle::epoch_permutation;
pub use trainer::{FitOutcome, Trainer};
