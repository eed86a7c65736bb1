//! The optimiser: an ordered pipeline of graph passes, fusion into kernels, memory planning.

pub mod memplan;
pub mod schedule;

pub mod passes;
mod pipeline;
pub mod rules;

pub use pipeline::{optimize, OptError, PassOptions, PassReport, PassRun};
