//! Training: optimisers expressed as IR, data sets, the loop, checkpoints.

mod optim;

pub use optim::{build_step, Optimizer, StepError, StepGraph};
