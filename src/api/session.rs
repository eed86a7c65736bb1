//! [`Session`]: the common case in one owner — a model's params, an optimiser's state
//! and step counter, a workspace, and the instances compiled for it.

use super::buffers::collect_with;
use super::error::Error;
use super::function::{Instance, Outputs};
use super::model::Model;
use super::train::TrainInstance;
use crate::ir::CallError;
use crate::ir::{Bindings, DType};
use crate::runtime::{Arg, Workspace};
use crate::tensor::{Data, Tensor};
use crate::train::Optimizer;
use std::path::Path;

/// Owns params, optimiser state and a workspace for one model, and calls its training
/// step and forward function on the caller's input slices.
///
/// The params are shaped for the sizes given at creation; the training step runs at
/// those sizes (e.g. the batch size), the forward function at any sizes that keep the
/// params' shapes (e.g. a whole test set). See the crate documentation for an example.
/// One session serves one thread; for several, share a [`Model`] or an [`Instance`].
pub struct Session {
    model: Model,
    sizes: Bindings,
    params: Vec<Tensor>,
    training: Option<Training>,
    forward: Option<Instance>,
    ws: Workspace,
}

struct Training {
    instance: TrainInstance,
    state: Vec<Tensor>,
    steps: u64,
}

impl Session {
    /// A session with fresh params from the model's initialisers (deterministic in `seed`).
    pub fn new(model: &Model, sizes: &Bindings, seed: u64) -> Result<Session, Error> {
        let params = model.init_params(sizes, seed)?;
        Session::with_params(model, sizes, params)
    }

    /// A session with the given params, checked against the model's declarations at
    /// `sizes` (count, element type and shape).
    pub fn with_params(model: &Model, sizes: &Bindings, params: Vec<Tensor>) -> Result<Session, Error> {
        let specs = model.params();
        if specs.len() != params.len() {
            return Err(Error::Call(CallError::Count {
                what: "params",
                expected: specs.len(),
                found: params.len(),
            }));
        }
        for (spec, p) in specs.iter().zip(&params) {
            if p.as_f32().is_none() {
                return Err(Error::Call(CallError::DType {
                    name: spec.name.clone(),
                    expected: DType::F32,
                    found: DType::I32,
                }));
            }
            let expected = spec.shape_for(sizes)?;
            if expected != p.shape {
                return Err(Error::Call(CallError::Shape {
                    name: spec.name.clone(),
                    expected,
                    found: p.shape.clone(),
                }));
            }
        }
        Ok(Session {
            model: model.clone(),
            sizes: sizes.clone(),
            params,
            training: None,
            forward: None,
            ws: Workspace::new(),
        })
    }

    /// A session with params read from a safetensors file (checked by name and shape).
    pub fn load(model: &Model, sizes: &Bindings, path: impl AsRef<Path>) -> Result<Session, Error> {
        let params = model.load_params(path, sizes)?;
        Session::with_params(model, sizes, params)
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The sizes the params are shaped for and the training step runs at.
    pub fn sizes(&self) -> &Bindings {
        &self.sizes
    }

    /// The session's sizes with some values replaced, e.g. `[("N", 2000)]` to run the
    /// forward function on 2000 examples ([`Error::UnknownName`] for a name the model
    /// does not have).
    pub fn sizes_with(&self, values: &[(&str, usize)]) -> Result<Bindings, Error> {
        let mut sizes = self.sizes.clone();
        for &(name, value) in values {
            match sizes.get_mut(name) {
                Some(v) => *v = value,
                None => {
                    return Err(Error::UnknownName {
                        kind: "size variable",
                        name: name.to_string(),
                        known: self.model.size_vars(),
                    })
                }
            }
        }
        Ok(sizes)
    }

    /// The params, in declaration order.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The params, giving up the session.
    pub fn into_params(self) -> Vec<Tensor> {
        self.params
    }

    /// Writes the params to a safetensors file atomically, named after the model's params.
    pub fn save_params(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        self.model.save_params(path, &self.params)
    }

    /// Compiles the training step for `optimizer` at the session's sizes and starts its
    /// state from zero (replacing any previous optimiser and its state).
    pub fn set_optimizer(&mut self, optimizer: Optimizer) -> Result<(), Error> {
        let step = self.model.train_step(optimizer)?;
        let state = step.init_state(&self.sizes)?;
        let instance = step.instantiate(&self.sizes)?;
        self.training = Some(Training {
            instance,
            state,
            steps: 0,
        });
        Ok(())
    }

    /// The optimiser state (e.g. Adam's moments), in the step's order; empty before
    /// [`Session::set_optimizer`] or for plain SGD.
    pub fn optimizer_state(&self) -> &[Tensor] {
        self.training.as_ref().map_or(&[], |t| &t.state)
    }

    /// Training steps taken since [`Session::set_optimizer`].
    pub fn steps(&self) -> u64 {
        self.training.as_ref().map_or(0, |t| t.steps)
    }

    /// One training step on a mini-batch (the model's inputs, in order, at the session's
    /// sizes): updates the params and optimiser state in place and returns the loss
    /// before the update. Checked before any code runs; allocates nothing.
    pub fn step(&mut self, inputs: &[Arg<'_>]) -> Result<f32, Error> {
        let Some(training) = self.training.as_mut() else {
            return Err(Error::Usage(
                "no optimiser: call Session::set_optimizer before step".into(),
            ));
        };
        let t = training.steps + 1;
        let loss = collect_with(self.params.iter_mut().map(f32_mut), Default::default, |params| {
            collect_with(training.state.iter_mut().map(f32_mut), Default::default, |state| {
                training.instance.step(&mut self.ws, t, inputs, params, state)
            })
        })?;
        training.steps = t;
        Ok(loss)
    }

    /// Runs the forward function at `sizes` on the caller's inputs and returns the
    /// outputs as fresh tensors (and the loss, when the model has one).
    pub fn forward(&mut self, sizes: &Bindings, inputs: &[Arg<'_>]) -> Result<Outputs, Error> {
        let instance = forward_instance(&mut self.forward, &self.model, sizes)?;
        let ws = &mut self.ws;
        collect_with(self.params.iter().map(f32_ref), Default::default, |params| {
            instance.call_outputs(ws, inputs, params)
        })
    }

    /// Runs the forward function at `sizes` on the caller's inputs, writing the caller's
    /// output buffers (in [`Model::outputs`] order); returns the loss, if any. Allocates
    /// nothing when called again with the same sizes.
    pub fn forward_into(
        &mut self,
        sizes: &Bindings,
        inputs: &[Arg<'_>],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, Error> {
        let instance = forward_instance(&mut self.forward, &self.model, sizes)?;
        let ws = &mut self.ws;
        collect_with(self.params.iter().map(f32_ref), Default::default, |params| {
            instance.call(ws, inputs, params, outputs)
        })
    }
}

/// The forward function's instance at `sizes`, kept for the next call.
fn forward_instance<'a>(
    slot: &'a mut Option<Instance>,
    model: &Model,
    sizes: &Bindings,
) -> Result<&'a Instance, Error> {
    if slot.as_ref().is_none_or(|i| i.sizes() != sizes) {
        *slot = Some(model.forward()?.instantiate(sizes)?);
    }
    slot.as_ref()
        .ok_or_else(|| Error::Internal("forward instance missing".into()))
}

/// Params and state are f32 (checked on creation): an i32 tensor cannot occur here, and
/// would be refused by the length check as an empty buffer.
fn f32_mut(t: &mut Tensor) -> &mut [f32] {
    match &mut t.data {
        Data::F32(v) => v,
        Data::I32(_) => &mut [],
    }
}

fn f32_ref(t: &Tensor) -> &[f32] {
    t.as_f32().unwrap_or(&[])
}
