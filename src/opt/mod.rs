//! The optimiser: an ordered pipeline of graph passes, fusion into kernels, memory planning.

pub mod memplan;
pub mod schedule;
