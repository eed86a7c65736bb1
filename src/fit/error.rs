//! The error type of the training loop.

use crate::api::Error;
use crate::io::IoError;
use std::fmt;
use std::path::PathBuf;

/// Why training could not start or go on.
#[derive(Debug)]
#[non_exhaustive]
pub enum FitError {
    /// The model, a data or params file, compilation or a call failed.
    Api(Error),
    /// A checkpoint does not fit this run (another model, another optimiser) or is malformed.
    Checkpoint {
        /// the checkpoint file
        path: PathBuf,
        /// what does not fit, naming both sides
        reason: String,
    },
    /// The configuration or data cannot be trained on (batch size 0, no examples, ...).
    Config(String),
}

impl FitError {
    /// The message as the CLI prints it (model diagnostics rendered with their source).
    pub fn render(&self, color: bool) -> String {
        match self {
            FitError::Api(e) => e.render(color),
            other => format!("error: {other}\n"),
        }
    }
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitError::Api(e) => write!(f, "{e}"),
            FitError::Checkpoint { path, reason } => write!(f, "checkpoint {}: {reason}", path.display()),
            FitError::Config(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for FitError {}

impl From<Error> for FitError {
    fn from(e: Error) -> Self {
        FitError::Api(e)
    }
}

impl From<IoError> for FitError {
    fn from(e: IoError) -> Self {
        FitError::Api(Error::Io(e))
    }
}
