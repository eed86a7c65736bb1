//! Why a call was refused: buffers that do not fit a graph's declarations. Both backends
//! (the JIT runtime and the reference interpreter) check calls and refuse them with this
//! one type, so the API reports a refusal the same way whichever backend made it.

use super::DType;
use std::fmt;

/// A refused call: nothing was computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// The wrong number of inputs, params, outputs or optimiser state tensors.
    Count {
        /// `inputs`, `params`, `outputs` or `state`
        what: &'static str,
        /// how many the function takes
        expected: usize,
        /// how many were given
        found: usize,
    },
    /// A buffer's element count differs from its tensor's at the bound sizes.
    Length {
        /// the tensor's name
        name: String,
        /// expected element count
        expected: usize,
        /// given element count
        found: usize,
    },
    /// A tensor's shape differs from the one the sizes give.
    Shape {
        /// the tensor's name
        name: String,
        /// expected shape
        expected: Vec<usize>,
        /// given shape
        found: Vec<usize>,
    },
    /// A buffer of the wrong element type (e.g. i32 where f32 is expected).
    DType {
        /// the tensor's name
        name: String,
        /// declared type
        expected: DType,
        /// given type
        found: DType,
    },
    /// A label outside `[0, classes)`.
    Label {
        /// the input's name
        name: String,
        /// flat (row-major) position of the first bad label
        index: usize,
        /// its value
        value: i32,
        /// the class count of the one-hot that reads it
        classes: usize,
    },
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Count { what, expected, found } => write!(f, "expected {expected} {what}, got {found}"),
            CallError::Length { name, expected, found } => {
                write!(f, "tensor `{name}` has {found} elements, expected {expected}")
            }
            CallError::Shape { name, expected, found } => {
                write!(f, "tensor `{name}` has shape {found:?}, expected {expected:?}")
            }
            CallError::DType { name, expected, found } => write!(f, "tensor `{name}` is {found}, expected {expected}"),
            CallError::Label {
                name,
                index,
                value,
                classes,
            } => write!(
                f,
                "label {value} at position {index} of `{name}` is outside [0, {classes})"
            ),
        }
    }
}

impl std::error::Error for CallError {}
