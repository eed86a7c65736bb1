//! Evaluation: the forward function over a data set in chunks, mean loss and accuracy.
//!
//! Accuracy rule: the labels are the model's first `i32` input of rank 1 (`y: i32[N]`);
//! the scores are the model's first output of rank 2 whose leading dimension is the
//! labels' (`logits: [N, C]`). An example is correct when the index of the largest
//! score (the first one at ties; NaN never counts as largest) equals its label. A model
//! without such an input and output reports the loss only.

use super::error::FitError;
use super::report::EvalReport;
use crate::api::{Function, Instance, Model};
use crate::io::Dataset;
use crate::ir::DType;
use crate::runtime::{Arg, Workspace};
use crate::tensor::{Data, Tensor};

/// Which input holds the labels and which output the class scores (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccuracyRule {
    /// Index of the labels among the model's inputs.
    pub labels: usize,
    /// Index of the scores among the model's outputs.
    pub scores: usize,
}

impl AccuracyRule {
    /// The rule for a model, if it has labels and a matching output.
    pub fn of(model: &Model) -> Option<AccuracyRule> {
        let inputs = model.inputs();
        let (labels, batch) = inputs
            .iter()
            .enumerate()
            .find(|(_, i)| i.dtype == DType::I32 && i.shape.dims().len() == 1)
            .map(|(k, i)| (k, i.shape.dims()[0].clone()))?;
        let scores = model
            .outputs()
            .iter()
            .position(|o| o.shape.dims().len() == 2 && o.shape.dims()[0] == batch)?;
        Some(AccuracyRule { labels, scores })
    }
}

/// One compiled chunk size with its output buffers.
struct Chunk {
    size: usize,
    instance: Instance,
    outputs: Vec<Vec<f32>>,
}

/// Evaluates a model's forward function on data sets, reusing compiled code and buffers.
pub struct Evaluator {
    forward: Function,
    chunk: usize,
    rule: Option<AccuracyRule>,
    compiled: Vec<Chunk>,
    ws: Workspace,
}

impl Evaluator {
    /// An evaluator calling the forward function on at most `chunk` examples at a time.
    pub fn new(model: &Model, chunk: usize) -> Result<Evaluator, FitError> {
        if !model.has_loss() {
            return Err(FitError::Config(format!(
                "model `{}` has no loss to evaluate",
                model.name()
            )));
        }
        Ok(Evaluator {
            forward: model.forward()?,
            chunk: chunk.max(1),
            rule: AccuracyRule::of(model),
            compiled: Vec::new(),
            ws: Workspace::new(),
        })
    }

    /// The accuracy rule in use, if the model has one.
    pub fn rule(&self) -> Option<AccuracyRule> {
        self.rule
    }

    /// Mean loss and accuracy of `params` on `data`.
    pub fn evaluate(&mut self, data: &Dataset, params: &[Tensor]) -> Result<EvalReport, FitError> {
        let n = data.len();
        let pslices = f32_slices(params)?;
        let (mut loss_sum, mut correct) = (0.0f64, 0usize);
        let mut start = 0;
        while start < n {
            let size = self.chunk.min(n - start);
            let k = self.chunk_index(data, params, size)?;
            let chunk = &mut self.compiled[k];
            let args: Vec<Arg<'_>> = data.tensors.iter().map(|(_, t)| rows(t, start, size)).collect();
            let mut outs: Vec<&mut [f32]> = chunk.outputs.iter_mut().map(|o| o.as_mut_slice()).collect();
            let loss = chunk.instance.call(&mut self.ws, &args, &pslices, &mut outs)?;
            loss_sum += loss.unwrap_or(f32::NAN) as f64 * size as f64;
            if let Some(rule) = self.rule {
                if let Arg::I32(labels) = args[rule.labels] {
                    correct += count_correct(&chunk.outputs[rule.scores], labels);
                }
            }
            start += size;
        }
        Ok(EvalReport {
            loss: loss_sum / n.max(1) as f64,
            accuracy: self.rule.map(|_| correct as f64 / n.max(1) as f64),
            examples: n,
        })
    }

    /// The compiled instance for `size` examples, compiling it on first use.
    fn chunk_index(&mut self, data: &Dataset, params: &[Tensor], size: usize) -> Result<usize, FitError> {
        if let Some(k) = self.compiled.iter().position(|c| c.size == size) {
            return Ok(k);
        }
        let shapes: Vec<Vec<usize>> = (0..data.tensors.len())
            .map(|i| {
                let mut s = vec![size];
                s.extend_from_slice(data.example_shape(i));
                s
            })
            .collect();
        let ishapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let pshapes: Vec<&[usize]> = params.iter().map(|p| p.shape.as_slice()).collect();
        let sizes = self.forward.sizes(&ishapes, &pshapes)?;
        let instance = self.forward.instantiate(&sizes)?;
        let outputs = instance
            .output_shapes()
            .iter()
            .map(|s| vec![0.0; s.iter().product()])
            .collect();
        self.compiled.push(Chunk {
            size,
            instance,
            outputs,
        });
        Ok(self.compiled.len() - 1)
    }
}

/// Examples `start..start + count` of a data set tensor, without copying.
fn rows(t: &Tensor, start: usize, count: usize) -> Arg<'_> {
    let row: usize = t.shape.iter().skip(1).product();
    let range = start * row..(start + count) * row;
    match &t.data {
        Data::F32(v) => Arg::F32(&v[range]),
        Data::I32(v) => Arg::I32(&v[range]),
    }
}

/// The params as f32 slices (they are always f32; an i32 one is a caller's mistake).
pub(crate) fn f32_slices(params: &[Tensor]) -> Result<Vec<&[f32]>, FitError> {
    params
        .iter()
        .map(|p| p.as_f32().ok_or_else(|| FitError::Config("params must be f32".into())))
        .collect()
}

/// How many rows of `scores` (`labels.len()` rows) have their first maximum at the label.
pub fn count_correct(scores: &[f32], labels: &[i32]) -> usize {
    if labels.is_empty() {
        return 0;
    }
    let classes = scores.len() / labels.len();
    if classes == 0 {
        return 0;
    }
    scores
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, &label)| argmax(row) == Some(label as usize) && label >= 0)
        .count()
}

/// The index of the first largest value; NaN is never the largest.
fn argmax(row: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in row.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|b| b.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_maximum_wins_and_nan_never_does() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, 0.5, 0.1]), Some(1));
        assert_eq!(argmax(&[f32::NAN]), None);
        let scores = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5];
        assert_eq!(count_correct(&scores, &[1, 1, 0]), 2);
        assert_eq!(count_correct(&scores, &[-1, 0, 1]), 1);
    }
}
