//! Host tensors: a shape and row-major data. Imports nothing of nnc.

/// Row-major tensor data of either element type.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// f32 elements.
    F32(Vec<f32>),
    /// i32 elements (labels).
    I32(Vec<i32>),
}

/// A host tensor: concrete shape and row-major data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Concrete dimensions; `[]` is a scalar.
    pub shape: Vec<usize>,
    /// The elements; their count is the product of `shape`.
    pub data: Data,
}

impl Tensor {
    /// An f32 tensor. Panics if the data length is not the product of the shape.
    pub fn f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data does not fill its shape"
        );
        Tensor {
            shape,
            data: Data::F32(data),
        }
    }

    /// An i32 tensor. Panics if the data length is not the product of the shape.
    pub fn i32(shape: Vec<usize>, data: Vec<i32>) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "tensor data does not fill its shape"
        );
        Tensor {
            shape,
            data: Data::I32(data),
        }
    }

    /// An f32 tensor of zeros.
    pub fn zeros(shape: Vec<usize>) -> Tensor {
        let n = shape.iter().product();
        Tensor::f32(shape, vec![0.0; n])
    }

    /// The element count.
    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I32(v) => v.len(),
        }
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The f32 elements, if f32.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            Data::F32(v) => Some(v),
            Data::I32(_) => None,
        }
    }

    /// The i32 elements, if i32.
    pub fn as_i32(&self) -> Option<&[i32]> {
        match &self.data {
            Data::I32(v) => Some(v),
            Data::F32(_) => None,
        }
    }
}
