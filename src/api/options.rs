//! Compile options.

pub use crate::runtime::OptLevel;

/// Which engine evaluates compiled functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// Native code from the Cranelift JIT.
    #[default]
    Jit,
    /// The reference interpreter (slow, obviously correct; `--interp`).
    Interpreter,
}

/// How to compile and run a model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// `O1`: graph passes and kernel fusion; `O0`: neither (for debugging).
    pub opt_level: OptLevel,
    /// Worker threads for large matrix products; `0` means every core. With `1`, results
    /// are bit-for-bit reproducible.
    pub threads: usize,
    /// JIT or reference interpreter.
    pub backend: Backend,
    /// Refuse to instantiate a model whose buffers would exceed this many bytes.
    pub memory_limit: u64,
    /// Run the IR verifier after every pass and Cranelift's verifier on generated code.
    pub verify: bool,
}

/// The default memory limit: 4 GiB of buffers per model instance.
pub const DEFAULT_MEMORY_LIMIT: u64 = 4 << 30;

impl Default for Options {
    fn default() -> Self {
        Options {
            opt_level: OptLevel::O1,
            threads: 0,
            backend: Backend::Jit,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            verify: cfg!(debug_assertions),
        }
    }
}

impl Options {
    /// The thread count with `0` resolved to the number of cores.
    pub fn resolved_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n => n,
        }
    }

    pub(crate) fn runtime(&self) -> crate::runtime::Options {
        crate::runtime::Options {
            opt_level: self.opt_level,
            threads: self.resolved_threads(),
            verify: self.verify,
            keep_clif: false,
        }
    }
}
