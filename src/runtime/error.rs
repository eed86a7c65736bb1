//! Errors of compiling and calling executables.

use crate::codegen::CodegenError;
use crate::ir::{BindError, DType, VerifyError};
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
    /// Wrong number of buffers.
    Count {
        /// inputs, params or outputs
        what: &'static str,
        /// expected count
        expected: usize,
        /// given count
        found: usize,
    },
    /// A buffer's element count differs from what the bindings give.
    Length {
        /// the tensor's name
        name: String,
        /// expected element count
        expected: usize,
        /// given element count
        found: usize,
    },
    /// A tensor's shape differs from what the bindings give.
    Shape {
        /// the tensor's name
        name: String,
        /// expected shape
        expected: Vec<usize>,
        /// given shape
        found: Vec<usize>,
    },
    /// A buffer has the wrong element type.
    DType {
        /// the tensor's name
        name: String,
        /// expected type
        expected: DType,
        /// given type
        found: DType,
    },
    /// A label outside `[0, classes)`.
    Label {
        /// the input's name
        name: String,
        /// position of the first bad label
        index: usize,
        /// its value
        value: i32,
        /// the class count of the one-hot that reads it
        classes: usize,
    },
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
            RuntimeError::Count { what, expected, found } => {
                write!(f, "expected {expected} {what}, got {found}")
            }
            RuntimeError::Length { name, expected, found } => {
                write!(f, "tensor `{name}` has {found} elements, expected {expected}")
            }
            RuntimeError::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?}, expected {expected:?}")
            }
            RuntimeError::DType { name, expected, found } => {
                write!(f, "tensor `{name}` is {found}, expected {expected}")
            }
            RuntimeError::Label {
                name,
                index,
                value,
                classes,
            } => write!(
                f,
                "label {value} at position {index} of `{name}` is outside [0, {classes})"
            ),
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
