//! The one error type of the public API.

use crate::autodiff::AdError;
use crate::diag::{self, Diagnostic};
use crate::interp::InterpError;
use crate::io::IoError;
use crate::runtime::RuntimeError;
use crate::train::StepError;
use std::fmt;

/// Diagnostics about a model file, with the text they point into, so they render alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostics {
    /// The file name as the user gave it.
    pub file_name: String,
    /// The source text.
    pub source: String,
    /// The diagnostics, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Renders as `nnc check` prints them: `file:line:col`, the source line, the span marked.
    pub fn render(&self, color: bool) -> String {
        diag::render(&self.diagnostics, &self.file_name, &self.source, color)
    }
}

/// Anything that can go wrong between model text and results.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The model file has errors (every independent one is listed).
    Model(Diagnostics),
    /// A model file could not be read.
    Read {
        /// the path
        path: String,
        /// the OS error
        message: String,
    },
    /// A tensor or data file is missing, malformed or does not fit the model.
    Io(IoError),
    /// Compiling or calling native code was refused (wrong buffers, labels, sizes).
    Runtime(RuntimeError),
    /// The reference interpreter refused the call.
    Interp(InterpError),
    /// Differentiation failed (e.g. gradients of a model without `loss`).
    Autodiff(AdError),
    /// The training step could not be built.
    Step(StepError),
    /// The buffers of a model instance would exceed the memory limit.
    MemoryLimit {
        /// bytes needed (workspace plus caller buffers)
        needed: u128,
        /// the limit
        limit: u128,
        /// the sizes the model was instantiated with, e.g. `N=64`
        sizes: String,
    },
    /// A value that is not finite, found by `check_finite`.
    NonFinite(NonFinite),
    /// A request that does not fit the model (unknown name, missing loss, ...).
    Usage(String),
    /// A graph cannot be printed as a `.nn` model (`--emit grad-nn`).
    Emit(crate::ir::EmitError),
    /// A compiler invariant failed (a bug in nnc, reported rather than panicking).
    Internal(String),
}

/// Where the first NaN or infinity appeared.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// The primitive that produced it.
    pub op: String,
    /// Forward, backward or update.
    pub phase: crate::ir::Phase,
    /// `file:line:col` of the source expression, when known.
    pub location: Option<String>,
    /// The source line's text, when known.
    pub line_text: Option<String>,
    /// NaN, +inf or -inf.
    pub value: f32,
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            crate::ir::Phase::Forward => "forward pass",
            crate::ir::Phase::Backward => "backward pass",
            crate::ir::Phase::Update => "parameter update",
        };
        write!(
            f,
            "non-finite value {} produced by `{}` in the {phase}",
            self.value, self.op
        )?;
        if let Some(l) = &self.location {
            write!(f, " at {l}")?;
        }
        if let Some(t) = &self.line_text {
            write!(f, "\n  | {}", t.trim_end())?;
        }
        Ok(())
    }
}

impl Error {
    /// The message as the CLI prints it (diagnostics rendered with their source).
    pub fn render(&self, color: bool) -> String {
        match self {
            Error::Model(d) => d.render(color),
            other => format!("error: {other}\n"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Model(d) => {
                let n = d.diagnostics.len();
                let first = d.diagnostics.first().map(|x| x.message.as_str()).unwrap_or("");
                write!(f, "{}: {n} error(s) in the model, first: {first}", d.file_name)
            }
            Error::Read { path, message } => write!(f, "cannot read {path}: {message}"),
            Error::Io(e) => write!(f, "{e}"),
            Error::Runtime(e) => write!(f, "{e}"),
            Error::Interp(e) => write!(f, "{e}"),
            Error::Autodiff(e) => write!(f, "{e}"),
            Error::Step(e) => write!(f, "{e}"),
            Error::MemoryLimit { needed, limit, sizes } => write!(
                f,
                "the model needs {} of buffers for {sizes}, over the memory limit of {} (raise it with --memory-limit)",
                human_bytes(*needed),
                human_bytes(*limit)
            ),
            Error::NonFinite(n) => write!(f, "{n}"),
            Error::Usage(s) => f.write_str(s),
            Error::Emit(e) => write!(f, "{e}"),
            Error::Internal(s) => write!(f, "internal compiler error (please report): {s}"),
        }
    }
}

impl std::error::Error for Error {}

/// `1234567` → `1.2 MB`.
pub fn human_bytes(b: u128) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut x = b as f64;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < UNITS.len() {
        x /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

macro_rules! from_error {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::$v(e)
            }
        }
    )*};
}

from_error!(IoError => Io, RuntimeError => Runtime, InterpError => Interp, AdError => Autodiff, StepError => Step);
