//! [`TrainStep`]: forward, loss, backward and the optimiser update as one function that
//! updates params and optimiser state in place.

use super::buffers::collect_with;
use super::error::Error;
use super::function::{Function, Instance};
use super::model::{Model, TensorSpec};
use crate::ir::Bindings;
use crate::ir::CallError;
use crate::runtime::{Arg, Workspace};
use crate::tensor::Tensor;
use crate::train::{build_step, Optimizer};

/// A model's training step for one optimiser. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct TrainStep {
    optimizer: Optimizer,
    function: Function,
    model_inputs: usize,
    model_params: usize,
}

impl TrainStep {
    pub(crate) fn new(model: Model, optimizer: Optimizer) -> Result<TrainStep, Error> {
        let step = build_step(model.graph(), &optimizer)?;
        let function = Function::from_graph(model, step.graph)?;
        Ok(TrainStep {
            optimizer,
            function,
            model_inputs: step.model_inputs,
            model_params: step.model_params,
        })
    }

    /// The model it trains.
    pub fn model(&self) -> &Model {
        self.function.model()
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// The compiled step (its graph, for inspection). Its inputs are the model's, then
    /// the optimiser's step scalars; its params are the model's, then the state.
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// The optimiser state tensors (e.g. `adam.m.W1`), in the order `step` takes them.
    pub fn state(&self) -> Vec<TensorSpec> {
        let mut all = self.function.params();
        all.drain(..self.model_params);
        all
    }

    /// Fresh (zero) optimiser state for these sizes.
    pub fn init_state(&self, sizes: &Bindings) -> Result<Vec<Tensor>, Error> {
        self.state()
            .iter()
            .map(|s| Ok(Tensor::zeros(s.shape_for(sizes)?)))
            .collect()
    }

    /// Specialises the step for concrete sizes (e.g. a batch size).
    pub fn instantiate(&self, sizes: &Bindings) -> Result<TrainInstance, Error> {
        Ok(TrainInstance {
            instance: self.function.instantiate(sizes)?,
            optimizer: self.optimizer,
            model_inputs: self.model_inputs,
            model_params: self.model_params,
        })
    }
}

/// A training step specialised for concrete sizes. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct TrainInstance {
    instance: Instance,
    optimizer: Optimizer,
    model_inputs: usize,
    model_params: usize,
}

impl TrainInstance {
    /// The sizes it is specialised for.
    pub fn sizes(&self) -> &Bindings {
        self.instance.sizes()
    }

    /// The step's instance (inputs and params including the optimiser's).
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Runs step number `t` (counted from 1; Adam's bias correction uses it) on one
    /// mini-batch: updates `params` and `state` in place and returns the loss before
    /// the update. Counts, lengths, element types and labels are checked before any code
    /// runs. Allocates nothing for up to 32 params plus state tensors.
    pub fn step(
        &self,
        ws: &mut Workspace,
        t: u64,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        state: &mut [&mut [f32]],
    ) -> Result<f32, Error> {
        let model_state = self.instance.function().graph().params.len() - self.model_params;
        count("inputs", self.model_inputs, inputs.len())?;
        count("params", self.model_params, params.len())?;
        count("state", model_state, state.len())?;
        let (scalars, n) = self.optimizer.step_scalars(t.max(1));
        let scalar_args = scalars[..n].iter().map(std::slice::from_ref).map(Arg::F32);
        let all_inputs = inputs.iter().copied().chain(scalar_args);
        let loss = collect_with(
            all_inputs,
            || Arg::F32(&[]),
            |args| {
                let all = (params.iter_mut().map(|p| &mut **p)).chain(state.iter_mut().map(|s| &mut **s));
                collect_with(all, Default::default, |all| {
                    self.instance.call_mut(ws, args, all, &mut [])
                })
            },
        )?;
        loss.ok_or_else(|| Error::Internal("the training step computes no loss".into()))
    }
}

fn count(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Call(CallError::Count { what, expected, found }))
    }
}
