//! The one error type of the public API.
//!
//! Refusals of a call (wrong buffer count, length, element type, shape or label) are
//! [`Error::Call`] with a [`CallError`], and sizes that do not fit are [`Error::Sizes`],
//! the same for the JIT and the interpreter backend.

use crate::autodiff::AdError;
use crate::diag::{self, Diagnostic};
use crate::interp::InterpError;
use crate::io::IoError;
use crate::ir::{BindError, CallError};
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
    /// Empty when there are no diagnostics.
    pub fn render(&self, color: bool) -> String {
        if self.diagnostics.is_empty() {
            return String::new();
        }
        diag::render(&self.diagnostics, &self.file_name, &self.source, color)
    }

    /// Whether any diagnostic is an error (warnings alone do not reject a model).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == diag::Severity::Error)
    }
}

/// Anything that can go wrong between model text and results.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The model file has errors (every independent one is listed, with its span).
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
    /// A call was refused, nothing computed: the wrong number of buffers, or a buffer
    /// of the wrong length, shape or element type, or a label out of range. The same
    /// for the JIT and the interpreter backend.
    Call(CallError),
    /// Params passed read-only to a function that updates them (a training step).
    ParamsReadOnly,
    /// Concrete shapes do not fit the declarations, or size variables conflict or are
    /// missing.
    Sizes(BindError),
    /// A name the model does not have (an output, input, param or size variable).
    UnknownName {
        /// `output`, `input`, `param` or `size variable`
        kind: &'static str,
        /// the name asked for
        name: String,
        /// the names that exist
        known: Vec<String>,
    },
    /// Gradients or training asked of a model without `loss`.
    NoLoss {
        /// the model's name
        model: String,
    },
    /// Native code could not be generated for the graph (a bug in nnc).
    Runtime(RuntimeError),
    /// The reference interpreter failed (other than a refused call).
    Interp(InterpError),
    /// Differentiation failed.
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
    /// A value that is not finite, found by `locate_non_finite`.
    NonFinite(NonFinite),
    /// A request that does not fit the model, described in words.
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
    /// The message as the CLI prints it: model diagnostics rendered with their source
    /// (exactly what `nnc check` prints), anything else as one `error: ...` line.
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
            Error::Call(e) => write!(f, "{e}"),
            Error::ParamsReadOnly => write!(f, "this function updates its params: pass them mutably"),
            Error::Sizes(e) => write!(f, "{e}"),
            Error::UnknownName { kind, name, known } => {
                write!(f, "no {kind} named `{name}`")?;
                match known.as_slice() {
                    [] => write!(f, " (the model has none)"),
                    names => write!(f, " (found {})", names.join(", ")),
                }
            }
            Error::NoLoss { model } => write!(f, "model `{model}` has no loss to differentiate"),
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Call(e) => Some(e),
            Error::Sizes(e) => Some(e),
            Error::Runtime(e) => Some(e),
            Error::Interp(e) => Some(e),
            Error::Autodiff(e) => Some(e),
            Error::Step(e) => Some(e),
            _ => None,
        }
    }
}

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

/// A refused call becomes the same top-level variant whichever backend refused it.
impl From<RuntimeError> for Error {
    fn from(e: RuntimeError) -> Self {
        match e {
            RuntimeError::Call(e) => Error::Call(e),
            RuntimeError::ParamsReadOnly => Error::ParamsReadOnly,
            RuntimeError::Bind(e) => Error::Sizes(e),
            e @ (RuntimeError::Verify(_) | RuntimeError::Schedule(_) | RuntimeError::Codegen(_)) => Error::Runtime(e),
        }
    }
}

impl From<InterpError> for Error {
    fn from(e: InterpError) -> Self {
        match e {
            InterpError::Call(e) => Error::Call(e),
            InterpError::Bind(e) => Error::Sizes(e),
            e @ (InterpError::Size { .. } | InterpError::GradNotExpanded { .. } | InterpError::Internal { .. }) => {
                Error::Interp(e)
            }
        }
    }
}

impl From<AdError> for Error {
    fn from(e: AdError) -> Self {
        Error::Autodiff(e)
    }
}

impl From<IoError> for Error {
    fn from(e: IoError) -> Self {
        Error::Io(e)
    }
}

impl From<StepError> for Error {
    fn from(e: StepError) -> Self {
        Error::Step(e)
    }
}

impl From<BindError> for Error {
    fn from(e: BindError) -> Self {
        Error::Sizes(e)
    }
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Self {
        Error::Call(e)
    }
}
