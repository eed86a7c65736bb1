//! The public API: compile a model, inspect it, instantiate it for concrete sizes, and
//! call its forward, gradient and training-step functions on the caller's buffers.
//! The CLI is a client of exactly this API. Everything here but the benchmarking helpers
//! ([`bench_train_step`]) is re-exported at the crate root; see the crate documentation
//! for an overview and an example.

mod bench;
mod buffers;
mod check;
mod emit;
mod error;
mod function;
mod layout;
mod model;
mod options;
mod session;
mod train;

pub use bench::{bench_train_step, BenchConfig, BenchReport};
pub use check::{check_file, check_source, Checked};
pub use emit::{EmitKind, Target};
pub use error::{human_bytes, Diagnostics, Error, NonFinite};
pub use function::{Function, Instance, Outputs};
pub use model::{Model, TensorSpec};
pub use options::{Backend, OptLevel, Options, DEFAULT_MEMORY_LIMIT};
pub use session::Session;
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

/// Compile-time proof of the thread-safety the documentation promises: a compiled model
/// and everything instantiated from it may be shared between threads.
#[allow(dead_code)]
fn assert_send_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    fn is_send<T: Send>() {}
    is_send_sync::<Model>();
    is_send_sync::<Function>();
    is_send_sync::<Instance>();
    is_send_sync::<TrainStep>();
    is_send_sync::<TrainInstance>();
    is_send_sync::<Outputs>();
    is_send_sync::<Error>();
    is_send::<Session>();
    is_send::<crate::runtime::Workspace>();
}
