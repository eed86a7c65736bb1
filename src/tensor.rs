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

/// Data whose element count is not the product of the shape it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLengthError {
    /// the shape asked for
    pub shape: Vec<usize>,
    /// the element count given
    pub len: usize,
}

impl std::fmt::Display for DataLengthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} elements do not fill the shape {:?}", self.len, self.shape)
    }
}

impl std::error::Error for DataLengthError {}

impl Tensor {
    /// A tensor of either element type, or an error if the data does not fill the shape
    /// exactly (the checked form of [`Tensor::f32`] and [`Tensor::i32`]).
    pub fn new(shape: Vec<usize>, data: Data) -> Result<Tensor, DataLengthError> {
        let len = match &data {
            Data::F32(v) => v.len(),
            Data::I32(v) => v.len(),
        };
        let elements = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if elements == Some(len) {
            Ok(Tensor { shape, data })
        } else {
            Err(DataLengthError { shape, len })
        }
    }

    /// An f32 tensor. Panics if the data length is not the product of the shape (for
    /// data from outside the program, use [`Tensor::new`], which returns an error).
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

    /// An i32 tensor. Panics if the data length is not the product of the shape (see
    /// [`Tensor::new`] for the checked form).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_that_the_data_fills_the_shape() {
        assert!(Tensor::new(vec![2, 3], Data::F32(vec![0.0; 6])).is_ok());
        assert!(Tensor::new(vec![], Data::I32(vec![7])).is_ok());
        let e = Tensor::new(vec![2, 3], Data::F32(vec![0.0; 5])).unwrap_err();
        assert_eq!(
            e,
            DataLengthError {
                shape: vec![2, 3],
                len: 5
            }
        );
        assert!(Tensor::new(vec![usize::MAX, 2], Data::I32(vec![])).is_err());
    }
}
