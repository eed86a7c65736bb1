//! Training data sets: tensors whose leading dimension is the example index, checked
//! against the model's inputs, and mini-batch gathering by row copies.
//!
//! An input declared `[N, 784]` (leading dimension a size variable, the batch size) takes
//! examples of shape `[784]`; a data set stores them as `[count, 784]`.

use super::check::{single_var, SizeCheck};
use super::idx::{load_mnist_dir, Split};
use super::tensors::{convert, parse_safetensors, read_file};
use super::IoError;
use crate::ir::{DType, Dim, Graph, InputDecl, Shape};
use crate::tensor::{Data, Tensor};
use std::path::Path;
use std::sync::Arc;

/// Named tensors sharing their leading dimension, the example count.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The tensors, in the model's input order when loaded for a model.
    pub tensors: Vec<(String, Tensor)>,
}

impl Dataset {
    /// The number of examples (0 for a data set without tensors).
    pub fn len(&self) -> usize {
        self.tensors
            .first()
            .and_then(|t| t.1.shape.first().copied())
            .unwrap_or(0)
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shape of one example of tensor `i` (its shape without the leading dimension).
    pub fn example_shape(&self, i: usize) -> &[usize] {
        self.tensors.get(i).map_or(&[], |t| t.1.shape.get(1..).unwrap_or(&[]))
    }

    /// Zeroed tensors of shape `[batch, example shape...]`, one per data set tensor and of
    /// its element type, to be filled by [`Dataset::gather`].
    pub fn batch_buffers(&self, batch: usize) -> Vec<Tensor> {
        self.tensors
            .iter()
            .map(|(_, t)| {
                let mut shape = vec![batch];
                shape.extend_from_slice(t.shape.get(1..).unwrap_or(&[]));
                let n = shape.iter().product();
                let data = match t.data {
                    Data::F32(_) => Data::F32(vec![0.0; n]),
                    Data::I32(_) => Data::I32(vec![0; n]),
                };
                Tensor { shape, data }
            })
            .collect()
    }

    /// Copies the examples `indices` (in that order) into `out`, whose tensors have the
    /// shapes [`Dataset::batch_buffers`] gives for `indices.len()`.
    pub fn gather(&self, indices: &[usize], out: &mut [Tensor]) -> Result<(), IoError> {
        let bad = |reason: String| IoError::Batch { reason };
        if out.len() != self.tensors.len() {
            return Err(bad(format!("{} buffers for {} tensors", out.len(), self.tensors.len())));
        }
        let count = self.len();
        if let Some(i) = indices.iter().find(|&&i| i >= count) {
            return Err(bad(format!("example {i} out of range (the data set has {count})")));
        }
        for ((name, src), dst) in self.tensors.iter().zip(out.iter_mut()) {
            let row = src.shape.get(1..).unwrap_or(&[]).iter().product::<usize>();
            if dst.shape.first() != Some(&indices.len()) || dst.len() != row * indices.len() {
                return Err(bad(format!(
                    "buffer for `{name}` has shape {:?}, expected {} rows of {row} elements",
                    dst.shape,
                    indices.len()
                )));
            }
            match (&src.data, &mut dst.data) {
                (Data::F32(s), Data::F32(d)) => copy_rows(s, d, row, indices),
                (Data::I32(s), Data::I32(d)) => copy_rows(s, d, row, indices),
                _ => return Err(bad(format!("buffer for `{name}` has the wrong element type"))),
            }
        }
        Ok(())
    }

    /// Checks that there is at least one tensor, each of rank >= 1, all with one count.
    pub fn new(tensors: Vec<(String, Tensor)>) -> Result<Dataset, IoError> {
        let bad = |reason: String| IoError::Batch { reason };
        let first = tensors
            .first()
            .ok_or_else(|| bad("a data set needs at least one tensor".into()))?;
        let count = first.1.shape.first().copied();
        for (name, t) in &tensors {
            let numel = t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if numel != Some(t.len()) {
                return Err(bad(format!(
                    "tensor `{name}` has {} elements but shape {:?}",
                    t.len(),
                    t.shape
                )));
            }
            if t.shape.is_empty() || t.shape.first().copied() != count {
                return Err(bad(format!(
                    "tensor `{name}` has shape {:?}; every tensor needs the leading example count {count:?}",
                    t.shape
                )));
            }
        }
        Ok(Dataset { tensors })
    }

    /// A data set at `path`: a directory is read as MNIST IDX files of `split`, a file
    /// as safetensors (`split` is then irrelevant).
    pub fn load(path: impl AsRef<Path>, split: Split, graph: &Graph) -> Result<Dataset, IoError> {
        let path = path.as_ref();
        if path.is_dir() {
            Dataset::from_mnist_dir(path, split, graph)
        } else {
            Dataset::from_safetensors(path, graph)
        }
    }

    /// Reads a safetensors data set: one tensor per model input, named after it, with
    /// the example count as leading dimension (the input's leading size variable).
    pub fn from_safetensors(path: impl AsRef<Path>, graph: &Graph) -> Result<Dataset, IoError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        let raw = parse_safetensors(&bytes, path)?;
        for i in &graph.inputs {
            batch_var(path, i)?;
        }
        let missing = graph.inputs.iter().find(|i| !raw.contains_key(&i.name));
        if let Some(i) = missing {
            return Err(IoError::Missing {
                path: path.to_path_buf(),
                name: i.name.clone(),
                expected: format!("{} with the example count as leading dimension", i.ty),
                found: raw.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            });
        }
        if let Some(extra) = raw.keys().find(|k| !graph.inputs.iter().any(|i| &i.name == *k)) {
            return Err(IoError::Extra {
                path: path.to_path_buf(),
                name: extra.clone(),
                what: "an input",
                expected: graph
                    .inputs
                    .iter()
                    .map(|i| format!("`{}`", i.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let mut sizes = SizeCheck::new();
        let mut tensors = Vec::with_capacity(graph.inputs.len());
        for i in &graph.inputs {
            let r = &raw[&i.name];
            let t = convert(r, i.ty.dtype, path, &i.name)?;
            // The whole shape at once: the leading variable binds to the count, so tensors
            // with different counts are reported as a size conflict naming both.
            sizes.bind(path, &i.name, &i.ty.shape, &r.shape)?;
            tensors.push((i.name.clone(), t));
        }
        sizes.finish()?;
        same_count(path, &tensors)?;
        non_empty(path, Dataset { tensors })
    }

    /// Reads one split of an MNIST-style directory for a model with two inputs: images
    /// (f32, per example `rows*cols` values in any shape, e.g. `[N, 784]` or `[N, 28, 28]`)
    /// and labels (i32, one per example, e.g. `[N]`).
    pub fn from_mnist_dir(dir: impl AsRef<Path>, split: Split, graph: &Graph) -> Result<Dataset, IoError> {
        let dir = dir.as_ref();
        let bad = |reason: String| IoError::Dataset {
            path: dir.to_path_buf(),
            reason,
        };
        let [xi, yi] = graph.inputs.as_slice() else {
            return Err(bad(format!(
                "an MNIST directory feeds a model with exactly two inputs (images, labels); this model has {}",
                graph.inputs.len()
            )));
        };
        batch_var(dir, xi)?;
        batch_var(dir, yi)?;
        if xi.ty.dtype != DType::F32 {
            return Err(bad(format!(
                "the first input `{}` receives the MNIST images and must be f32, but is declared {}",
                xi.name, xi.ty
            )));
        }
        if yi.ty.dtype != DType::I32 {
            return Err(bad(format!(
                "the second input `{}` receives the MNIST labels as class indices and must be i32 \
                 (e.g. `{}: i32[N]`), but is declared {}",
                yi.name, yi.name, yi.ty
            )));
        }
        let mut data = load_mnist_dir(dir, split)?;
        let (mut x, mut y) = match (data.tensors.pop(), data.tensors.pop()) {
            (Some(y), Some(x)) => (x.1, y.1),
            _ => return Err(bad("the MNIST reader returned no tensors".into())),
        };
        let count = x.shape[0];
        let pixels = x.shape.get(1).copied().unwrap_or(0);
        x.shape = with_count(count, per_example(dir, xi, pixels, "images")?);
        y.shape = with_count(count, per_example(dir, yi, 1, "labels")?);
        non_empty(
            dir,
            Dataset {
                tensors: vec![(xi.name.clone(), x), (yi.name.clone(), y)],
            },
        )
    }
}

fn copy_rows<T: Copy>(src: &[T], dst: &mut [T], row: usize, indices: &[usize]) {
    if row == 0 {
        return;
    }
    for (d, &i) in dst.chunks_exact_mut(row).zip(indices) {
        d.copy_from_slice(&src[i * row..(i + 1) * row]);
    }
}

fn with_count(count: usize, example: Vec<usize>) -> Vec<usize> {
    let mut s = vec![count];
    s.extend(example);
    s
}

/// Inputs with different leading variables (`[N, 4]`, `[M]`) still need one count.
fn same_count(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), IoError> {
    let Some((first, t0)) = tensors.first() else {
        return Ok(());
    };
    for (name, t) in tensors {
        if t.shape.first() != t0.shape.first() {
            return Err(IoError::Dataset {
                path: path.to_path_buf(),
                reason: format!(
                    "tensor `{first}` has {:?} examples but tensor `{name}` has {:?}",
                    t0.shape.first(),
                    t.shape.first()
                ),
            });
        }
    }
    Ok(())
}

fn non_empty(path: &Path, d: Dataset) -> Result<Dataset, IoError> {
    if d.is_empty() {
        return Err(IoError::Dataset {
            path: path.to_path_buf(),
            reason: "the data set has no examples".into(),
        });
    }
    Ok(d)
}

/// The input's leading size variable, which indexes examples. It must not reappear in
/// the per-example dimensions, which stay fixed while the batch size varies.
fn batch_var(path: &Path, input: &InputDecl) -> Result<Arc<str>, IoError> {
    let bad = |reason: String| IoError::Dataset {
        path: path.to_path_buf(),
        reason,
    };
    let dims = input.ty.shape.dims();
    let Some(v) = dims.first().and_then(single_var) else {
        return Err(bad(format!(
            "input `{}` is declared {}; a data set feeds inputs in batches, so its first \
             dimension must be a size variable for the batch (e.g. `{}: [N, ...]`)",
            input.name, input.ty, input.name
        )));
    };
    if dims[1..].iter().any(|d| d.vars().any(|u| *u == v)) {
        return Err(bad(format!(
            "input `{}` is declared {}: the batch size variable {v} also appears after the \
             first dimension, so the examples' shape would change with the batch size",
            input.name, input.ty
        )));
    }
    Ok(v)
}

/// The concrete per-example shape of `input` holding `values` elements (MNIST fixes the
/// element count, not the layout). At most one per-example dimension may be a size
/// variable; it takes whatever makes the count right.
fn per_example(dir: &Path, input: &InputDecl, values: usize, what: &str) -> Result<Vec<usize>, IoError> {
    let dims = &input.ty.shape.dims()[1..];
    let lits: Vec<Option<u64>> = dims.iter().map(Dim::as_lit).collect();
    let known: u64 = lits.iter().flatten().product();
    let unknown: Vec<usize> = (0..dims.len()).filter(|&k| lits[k].is_none()).collect();
    let fail = || IoError::Dataset {
        path: dir.to_path_buf(),
        reason: format!(
            "input `{}` is declared {}, so each example has shape {}, but the MNIST {what} have \
             {values} value(s) per example",
            input.name,
            input.ty,
            Shape(dims.to_vec())
        ),
    };
    let mut out: Vec<usize> = lits.iter().map(|l| l.unwrap_or(0) as usize).collect();
    match unknown.as_slice() {
        [] if known == values as u64 => Ok(out),
        [k] if known != 0 && (values as u64).is_multiple_of(known) && single_var(&dims[*k]).is_some() => {
            out[*k] = (values as u64 / known) as usize;
            Ok(out)
        }
        _ => Err(fail()),
    }
}
