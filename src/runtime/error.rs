//! Errors of compiling and calling executables.

use crate::codegen::CodegenError;
use crate::ir::{BindError, CallError, VerifyError};
use crate::opt::schedule::ScheduleError;
use std::fmt;

/// Why a graph could not be compiled or a call was refused. A refused call never ran
/// any native code.
#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeError {
    /// The graph is malformed (a compiler bug upstream).
    Verify(VerifyError),
    /// Kernel formation failed.
    Schedule(ScheduleError),
    /// Code generation failed.
    Codegen(CodegenError),
    /// Size variables could not be bound from the given shapes.
    Bind(BindError),
    /// The call's buffers do not fit the executable (count, length, shape, type, label).
    Call(CallError),
    /// `run_ref` on a graph that updates its params.
    ParamsReadOnly,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Verify(e) => write!(f, "{e}"),
            RuntimeError::Schedule(e) => write!(f, "{e}"),
            RuntimeError::Codegen(e) => write!(f, "{e}"),
            RuntimeError::Bind(e) => write!(f, "{e}"),
            RuntimeError::Call(e) => write!(f, "{e}"),
            RuntimeError::ParamsReadOnly => write!(f, "this graph updates its params: pass them mutably"),
        }
    }
}

impl std::error::Error for RuntimeError {}

impl From<ScheduleError> for RuntimeError {
    fn from(e: ScheduleError) -> Self {
        RuntimeError::Schedule(e)
    }
}

impl From<CodegenError> for RuntimeError {
    fn from(e: CodegenError) -> Self {
        RuntimeError::Codegen(e)
    }
}

impl From<CallError> for RuntimeError {
    fn from(e: CallError) -> Self {
        RuntimeError::Call(e)
    }
}
