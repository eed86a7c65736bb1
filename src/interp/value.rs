//! Values the interpreter computes: float tensors in the chosen precision, and labels.

use super::float::Float;
use crate::tensor::{Data, Tensor};

/// A float tensor: concrete shape and row-major data in precision `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Value<T> {
    /// Concrete dimensions; `[]` is a scalar.
    pub shape: Vec<usize>,
    /// The elements, row-major; their count is the product of `shape`.
    pub data: Vec<T>,
}

impl<T: Float> Value<T> {
    /// A value from a shape and data of matching length (the caller guarantees it).
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Value<T> {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Value { shape, data }
    }

    /// A scalar.
    pub fn scalar(x: T) -> Value<T> {
        Value {
            shape: Vec::new(),
            data: vec![x],
        }
    }

    /// The value of an f32 host tensor in precision `T` (`None` for an i32 tensor).
    pub fn from_tensor(t: &Tensor) -> Option<Value<T>> {
        let data = t.as_f32()?.iter().map(|&x| T::from_f32(x)).collect();
        Some(Value {
            shape: t.shape.clone(),
            data,
        })
    }

    /// The f32 host tensor of this value (rounding `f64` to `f32`).
    pub fn to_tensor(&self) -> Tensor {
        Tensor {
            shape: self.shape.clone(),
            data: Data::F32(self.data.iter().map(|x| x.to_f32()).collect()),
        }
    }

    /// The elements widened to `f64`.
    pub fn to_f64(&self) -> Vec<f64> {
        self.data.iter().map(|x| x.to_f64()).collect()
    }
}

/// The value of one node: a float tensor, or the labels of an i32 input.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeValue<T> {
    /// An f32 node, computed in precision `T`.
    F(Value<T>),
    /// An i32 node (only inputs are i32).
    Labels {
        /// concrete dimensions
        shape: Vec<usize>,
        /// the labels, row-major
        data: Vec<i32>,
    },
}

impl<T: Float> NodeValue<T> {
    /// The float value, if this is one.
    pub fn as_f(&self) -> Option<&Value<T>> {
        match self {
            NodeValue::F(v) => Some(v),
            NodeValue::Labels { .. } => None,
        }
    }

    /// The concrete shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            NodeValue::F(v) => &v.shape,
            NodeValue::Labels { shape, .. } => shape,
        }
    }

    /// The host tensor (f32 values rounded to f32; labels as i32).
    pub fn to_tensor(&self) -> Tensor {
        match self {
            NodeValue::F(v) => v.to_tensor(),
            NodeValue::Labels { shape, data } => Tensor {
                shape: shape.clone(),
                data: Data::I32(data.clone()),
            },
        }
    }

    /// Whether every element is finite (labels always are).
    pub fn all_finite(&self) -> bool {
        match self {
            NodeValue::F(v) => v.data.iter().all(|x| x.is_finite()),
            NodeValue::Labels { .. } => true,
        }
    }
}
