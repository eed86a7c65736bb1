//! The public API: compile a model, inspect it, instantiate it for concrete sizes, and
//! call its forward, gradient and training-step functions on the caller's buffers.
//! The CLI is a client of exactly this API.

mod bench;
mod emit;
mod error;
mod function;
mod model;
mod options;
mod train;

pub use bench::{bench_train_step, BenchConfig, BenchReport};
pub use emit::{EmitKind, Target};
pub use error::{human_bytes, Diagnostics, Error, NonFinite};
pub use function::{Function, Instance, Outputs};
pub use model::{Model, TensorSpec};
pub use options::{Backend, OptLevel, Options, DEFAULT_MEMORY_LIMIT};
pub use train::{TrainInstance, TrainStep};

/// The graph optimiser's pipeline as the API runs it (graph passes at `O1`).
pub(crate) fn optimise(graph: &mut crate::ir::Graph, options: &Options) -> Result<(), Error> {
    if options.opt_level != OptLevel::O0 {
        let passes = crate::opt::PassOptions {
            verify: options.verify,
            ..Default::default()
        };
        crate::opt::optimize(graph, &passes).map_err(|e| Error::Internal(e.to_string()))?;
    }
    Ok(())
}
