//! [`TrainStep`]: forward, loss, backward and the optimiser update as one function that
//! updates params and optimiser state in place.

use super::error::Error;
use super::function::{Function, Instance};
use super::model::{Model, TensorSpec};
use crate::ir::{Bindings, DType};
use crate::runtime::{Arg, Workspace};
use crate::tensor::Tensor;
use crate::train::{build_step, Optimizer};

/// A model's training step for one optimiser.
#[derive(Clone)]
pub struct TrainStep {
    optimizer: Optimizer,
    function: Function,
    model_inputs: usize,
    model_params: usize,
}

impl TrainStep {
    pub(crate) fn new(model: Model, optimizer: Optimizer) -> Result<TrainStep, Error> {
        if !model.has_loss() {
            return Err(Error::Usage(format!("model `{}` has no loss to train", model.name())));
        }
        let step = build_step(model.graph(), &optimizer)?;
        let function = Function::from_graph(model, step.graph)?;
        Ok(TrainStep {
            optimizer,
            function,
            model_inputs: step.model_inputs,
            model_params: step.model_params,
        })
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// The compiled step (its graph, for inspection).
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// The optimiser state tensors (e.g. `adam.m.W1`), in the order `step` takes them.
    pub fn state(&self) -> Vec<TensorSpec> {
        let g = self.function.graph();
        g.params[self.model_params..]
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: DType::F32,
                shape: d.shape.clone(),
            })
            .collect()
    }

    /// Fresh (zero) optimiser state for these sizes.
    pub fn init_state(&self, sizes: &Bindings) -> Result<Vec<Tensor>, Error> {
        self.state()
            .iter()
            .map(|s| {
                let shape = s
                    .shape
                    .eval(sizes)
                    .map_err(|e| Error::Usage(format!("state {}: {e:?}", s.name)))?;
                Ok(Tensor::zeros(shape))
            })
            .collect()
    }

    /// Specialises the step for concrete sizes (e.g. a batch size).
    pub fn instantiate(&self, sizes: &Bindings) -> Result<TrainInstance, Error> {
        Ok(TrainInstance {
            instance: self.function.instantiate(sizes)?,
            optimizer: self.optimizer,
            model_inputs: self.model_inputs,
        })
    }
}

/// A training step specialised for concrete sizes.
#[derive(Clone)]
pub struct TrainInstance {
    instance: Instance,
    optimizer: Optimizer,
    model_inputs: usize,
}

impl TrainInstance {
    /// The sizes it is specialised for.
    pub fn sizes(&self) -> &Bindings {
        self.instance.sizes()
    }

    /// Runs step number `t` (counted from 1; Adam's bias correction uses it) on one
    /// mini-batch: updates `params` and `state` in place and returns the loss before
    /// the update. Lengths and labels are checked before native code runs.
    pub fn step(
        &self,
        ws: &mut Workspace,
        t: u64,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        state: &mut [&mut [f32]],
    ) -> Result<f32, Error> {
        if inputs.len() != self.model_inputs {
            return Err(Error::Usage(format!(
                "expected {} inputs, got {}",
                self.model_inputs,
                inputs.len()
            )));
        }
        let scalars = self.optimizer.step_inputs(t.max(1));
        let mut args: Vec<Arg<'_>> = Vec::with_capacity(inputs.len() + scalars.len());
        args.extend_from_slice(inputs);
        args.extend(scalars.iter().map(std::slice::from_ref).map(Arg::F32));
        let mut all: Vec<&mut [f32]> = Vec::with_capacity(params.len() + state.len());
        all.extend(params.iter_mut().map(|p| &mut **p));
        all.extend(state.iter_mut().map(|s| &mut **s));
        let loss = self.instance.call_mut(ws, &args, &mut all, &mut [])?;
        loss.ok_or_else(|| Error::Usage("the training step has no loss".into()))
    }
}
