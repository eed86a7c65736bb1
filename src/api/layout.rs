//! The concrete buffers of a function at one binding of its size variables, and the
//! checks of a call against them. The JIT runtime makes the same checks itself; the
//! interpreter backend runs these, so both refuse a bad call with the same [`Error`].

use super::error::Error;
use crate::ir::CallError;
use crate::ir::{BindError, Bindings, DType, DimError, Graph, Op, Shape};
use crate::runtime::Arg;

/// Names, element types and concrete shapes of a function's caller buffers.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub inputs: Vec<(String, DType, Vec<usize>)>,
    pub params: Vec<(String, Vec<usize>)>,
    pub outputs: Vec<(String, Vec<usize>)>,
    /// `(input index, classes)` for every one-hot reading an input directly.
    pub labels: Vec<(usize, usize)>,
    /// Whether the function assigns new values to its params (a training step).
    pub updates: bool,
}

impl Layout {
    pub fn of(g: &Graph, sizes: &Bindings) -> Result<Layout, Error> {
        let eval = |name: &str, s: &Shape| concrete(name, s, sizes);
        Ok(Layout {
            inputs: g
                .inputs
                .iter()
                .map(|d| Ok((d.name.clone(), d.ty.dtype, eval(&d.name, &d.ty.shape)?)))
                .collect::<Result<_, Error>>()?,
            params: g
                .params
                .iter()
                .map(|d| Ok((d.name.clone(), eval(&d.name, &d.shape)?)))
                .collect::<Result<_, Error>>()?,
            outputs: g
                .outputs
                .iter()
                .map(|(name, id)| Ok((name.clone(), eval(name, g.shape(*id))?)))
                .collect::<Result<_, Error>>()?,
            labels: label_classes(g, sizes)?
                .into_iter()
                .enumerate()
                .filter_map(|(i, c)| c.map(|c| (i, c)))
                .collect(),
            updates: !g.updates.is_empty(),
        })
    }

    /// Bytes of the caller's buffers (inputs, params, outputs), all 4-byte elements.
    pub fn caller_bytes(&self) -> u128 {
        let shapes = self
            .inputs
            .iter()
            .map(|i| &i.2)
            .chain(self.params.iter().map(|p| &p.1))
            .chain(self.outputs.iter().map(|o| &o.1));
        shapes
            .map(|s| s.iter().fold(4u128, |n, &d| n.saturating_mul(d as u128)))
            .fold(0, u128::saturating_add)
    }

    /// Checks count, element type and length of every buffer, and every label, in the
    /// order the runtime does.
    pub fn check(&self, inputs: &[Arg<'_>], param_lens: &[usize], output_lens: &[usize]) -> Result<(), Error> {
        count("inputs", self.inputs.len(), inputs.len())?;
        count("params", self.params.len(), param_lens.len())?;
        count("outputs", self.outputs.len(), output_lens.len())?;
        for ((name, dtype, shape), arg) in self.inputs.iter().zip(inputs) {
            let (found, len) = match arg {
                Arg::F32(s) => (DType::F32, s.len()),
                Arg::I32(s) => (DType::I32, s.len()),
            };
            if found != *dtype {
                return Err(Error::Call(CallError::DType {
                    name: name.clone(),
                    expected: *dtype,
                    found,
                }));
            }
            length(name, shape, len)?;
        }
        for ((name, shape), &len) in self.params.iter().zip(param_lens) {
            length(name, shape, len)?;
        }
        for ((name, shape), &len) in self.outputs.iter().zip(output_lens) {
            length(name, shape, len)?;
        }
        for &(i, classes) in &self.labels {
            if let Some(Arg::I32(labels)) = inputs.get(i) {
                if let Some((index, &value)) = labels.iter().enumerate().find(|(_, &v)| v < 0 || v as usize >= classes)
                {
                    return Err(Error::Call(CallError::Label {
                        name: self.inputs[i].0.clone(),
                        index,
                        value,
                        classes,
                    }));
                }
            }
        }
        Ok(())
    }
}

/// For each input, the class count of the one-hot encoding that reads it, if any.
pub(crate) fn label_classes(g: &Graph, sizes: &Bindings) -> Result<Vec<Option<usize>>, Error> {
    let mut classes = vec![None; g.inputs.len()];
    for n in g.schedule() {
        if let Op::OneHot { classes: c } = &g.node(n).op {
            if let Op::Input(i) = g.node(g.args(n)[0]).op {
                classes[i] = Some(c.eval(sizes).map_err(|e| dim_error("one_hot classes", e))?);
            }
        }
    }
    Ok(classes)
}

/// A shape evaluated under the sizes; a missing size variable or an overflowing element
/// count is a [`Error::Sizes`] naming the tensor.
pub(crate) fn concrete(name: &str, s: &Shape, sizes: &Bindings) -> Result<Vec<usize>, Error> {
    s.eval(sizes).map_err(|e| dim_error(name, e))
}

fn dim_error(name: &str, e: DimError) -> Error {
    Error::Sizes(match e {
        DimError::Unbound(v) => BindError::Unbound(v),
        DimError::Overflow => BindError::Overflow(name.to_string()),
    })
}

fn count(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Call(CallError::Count { what, expected, found }))
    }
}

fn length(name: &str, shape: &[usize], found: usize) -> Result<(), Error> {
    let expected = shape.iter().product();
    if expected == found {
        Ok(())
    } else {
        Err(Error::Call(CallError::Length {
            name: name.to_string(),
            expected,
            found,
        }))
    }
}
