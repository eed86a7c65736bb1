//! Optimisers expressed as IR: the training step is one graph computing the loss, the
//! gradients and the new value of every param and every piece of optimiser state, so that
//! forward, backward and update compile into one native function that updates in place.
//!
//! Update rules follow PyTorch's `torch.optim` (no weight decay, no dampening, no Nesterov):
//!
//! | optimiser | state | update |
//! |---|---|---|
//! | `sgd` | — | `p ← p − lr·g` |
//! | `momentum` | `momentum.v.P` | `v ← μ·v + g`, `p ← p − lr·v` |
//! | `adam` | `adam.m.P`, `adam.v.P` | `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − (lr/c₁)·m / (√v/√c₂ + ε)` |
//!
//! with Adam's bias corrections `c₁ = 1−β₁ᵗ`, `c₂ = 1−β₂ᵗ` at step `t` (from 1). The two
//! step-dependent factors are scalar inputs of the step graph (so one compiled function
//! serves every step); everything else is a constant of the graph.

use crate::autodiff::{self, AdError};
use crate::ir::{Binary, Graph, Init, NodeId, Op, Origin, Phase, Shape, ShapeError, TensorType, Unary, F64};
use std::fmt;

/// An optimiser with its hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimizer {
    /// Plain stochastic gradient descent.
    Sgd {
        /// learning rate
        lr: f64,
    },
    /// SGD with (heavy-ball) momentum, as `torch.optim.SGD(momentum=μ)`.
    Momentum {
        /// learning rate
        lr: f64,
        /// momentum factor μ
        momentum: f64,
    },
    /// Adam, as `torch.optim.Adam`.
    Adam {
        /// learning rate
        lr: f64,
        /// decay of the first moment
        beta1: f64,
        /// decay of the second moment
        beta2: f64,
        /// added to the denominator for stability
        eps: f64,
    },
}

impl Optimizer {
    /// SGD with PyTorch-style defaults where PyTorch has them (`lr` must be given there).
    pub fn sgd(lr: f64) -> Optimizer {
        Optimizer::Sgd { lr }
    }

    /// Momentum SGD with μ = 0.9.
    pub fn momentum(lr: f64) -> Optimizer {
        Optimizer::Momentum { lr, momentum: 0.9 }
    }

    /// Adam with PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
    pub fn adam(lr: f64) -> Optimizer {
        Optimizer::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// The short name used on the command line and in checkpoints.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Momentum { .. } => "momentum",
            Optimizer::Adam { .. } => "adam",
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Optimizer::Sgd { lr } | Optimizer::Momentum { lr, .. } | Optimizer::Adam { lr, .. } => lr,
        }
    }

    /// Names of the state tensors kept for a param, e.g. `["adam.m.W1", "adam.v.W1"]`.
    pub fn state_names(&self, param: &str) -> Vec<String> {
        match self {
            Optimizer::Sgd { .. } => vec![],
            Optimizer::Momentum { .. } => vec![format!("momentum.v.{param}")],
            Optimizer::Adam { .. } => vec![format!("adam.m.{param}"), format!("adam.v.{param}")],
        }
    }

    /// Values of the step graph's extra scalar inputs for step `t` (counted from 1).
    pub fn step_inputs(&self, t: u64) -> Vec<f32> {
        match *self {
            Optimizer::Sgd { .. } | Optimizer::Momentum { .. } => vec![],
            Optimizer::Adam { lr, beta1, beta2, .. } => {
                let t = t.min(i32::MAX as u64) as i32;
                let c1 = 1.0 - beta1.powi(t);
                let c2 = 1.0 - beta2.powi(t);
                vec![(lr / c1) as f32, (1.0 / c2.sqrt()) as f32]
            }
        }
    }

    fn step_input_names(&self) -> &'static [&'static str] {
        match self {
            Optimizer::Sgd { .. } | Optimizer::Momentum { .. } => &[],
            Optimizer::Adam { .. } => &["adam.step_size", "adam.inv_sqrt_c2"],
        }
    }
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Optimizer::Sgd { lr } => write!(f, "sgd(lr={lr})"),
            Optimizer::Momentum { lr, momentum } => write!(f, "momentum(lr={lr}, momentum={momentum})"),
            Optimizer::Adam { lr, beta1, beta2, eps } => {
                write!(f, "adam(lr={lr}, beta1={beta1}, beta2={beta2}, eps={eps})")
            }
        }
    }
}

/// The training-step graph and how its inputs and params line up with the model's.
#[derive(Clone, Debug)]
pub struct StepGraph {
    /// Inputs: the model's, then the optimiser's step scalars. Params: the model's, then
    /// the optimiser state (in `Optimizer::state_names` order, param by param). Output:
    /// the loss. Updates: every param and state tensor.
    pub graph: Graph,
    /// How many of the inputs are the model's (the rest are step scalars).
    pub model_inputs: usize,
    /// How many of the params are the model's (the rest are optimiser state).
    pub model_params: usize,
}

/// Why a training step cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum StepError {
    /// Differentiation failed (e.g. the model has no loss).
    Autodiff(AdError),
    /// A shape rule rejected an update node: a bug, reported rather than panicking.
    Shape(ShapeError),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Autodiff(e) => write!(f, "{e}"),
            StepError::Shape(e) => write!(f, "building the optimiser update: {e}"),
        }
    }
}

impl std::error::Error for StepError {}

impl From<AdError> for StepError {
    fn from(e: AdError) -> Self {
        StepError::Autodiff(e)
    }
}

impl From<ShapeError> for StepError {
    fn from(e: ShapeError) -> Self {
        StepError::Shape(e)
    }
}

/// Builds the training step of `forward` (a graph with a loss) for `opt`. The model's
/// outputs are dropped: the step returns only the loss.
pub fn build_step(forward: &Graph, opt: &Optimizer) -> Result<StepGraph, StepError> {
    let mut g = forward.clone();
    autodiff::expand_grads(&mut g)?;
    let loss = g.loss.ok_or(AdError::NoLoss)?;
    g.outputs.clear();
    let (model_inputs, model_params) = (g.inputs.len(), g.params.len());
    let step_inputs: Vec<NodeId> = opt
        .step_input_names()
        .iter()
        .map(|name| g.add_input(name, TensorType::f32(Shape::scalar()), None))
        .collect();
    let wrt: Vec<NodeId> = (0..model_params).map(|i| g.param_node(i)).collect();
    let grads = autodiff::gradients(&mut g, loss, &wrt)?;
    for (i, &grad) in grads.iter().enumerate() {
        let mut u = Updater {
            g: &mut g,
            origin: Origin {
                span: forward.params[i].span,
                phase: Phase::Update,
            },
        };
        u.update(i, grad, opt, &step_inputs)?;
    }
    g.remove_dead();
    Ok(StepGraph {
        graph: g,
        model_inputs,
        model_params,
    })
}

/// Adds the update nodes of one param, with the origin of the param's declaration.
struct Updater<'a> {
    g: &'a mut Graph,
    origin: Origin,
}

impl Updater<'_> {
    fn update(&mut self, i: usize, grad: NodeId, opt: &Optimizer, step: &[NodeId]) -> Result<(), StepError> {
        let p = self.g.param_node(i);
        let decl = self.g.params[i].clone();
        let mut state: Vec<(usize, NodeId)> = opt
            .state_names(&decl.name)
            .into_iter()
            .map(|name| {
                let node = self.g.add_param(&name, decl.shape.clone(), Init::Const(0.0), decl.span);
                (self.g.params.len() - 1, node)
            })
            .collect();
        match *opt {
            Optimizer::Sgd { lr } => {
                let step = self.scale(grad, lr)?;
                let new_p = self.bin(Binary::Sub, p, step)?;
                self.g.updates.push((i, new_p));
            }
            Optimizer::Momentum { lr, momentum } => {
                let (vi, v) = state.remove(0);
                let decayed = self.scale(v, momentum)?;
                let new_v = self.bin(Binary::Add, decayed, grad)?;
                let step = self.scale(new_v, lr)?;
                let new_p = self.bin(Binary::Sub, p, step)?;
                self.g.updates.push((i, new_p));
                self.g.updates.push((vi, new_v));
            }
            Optimizer::Adam { beta1, beta2, eps, .. } => {
                let (mi, m) = state.remove(0);
                let (vi, v) = state.remove(0);
                let new_m = self.decay_towards(m, grad, beta1)?;
                let g2 = self.bin(Binary::Mul, grad, grad)?;
                let new_v = self.decay_towards(v, g2, beta2)?;
                let root = self.g.add(Op::Unary(Unary::Sqrt), &[new_v], self.origin)?;
                let corrected = self.bin(Binary::Mul, root, step[1])?;
                let eps = self.g.constant(eps, self.origin);
                let denom = self.bin(Binary::Add, corrected, eps)?;
                let ratio = self.bin(Binary::Div, new_m, denom)?;
                let delta = self.bin(Binary::Mul, ratio, step[0])?;
                let new_p = self.bin(Binary::Sub, p, delta)?;
                self.g.updates.extend([(i, new_p), (mi, new_m), (vi, new_v)]);
            }
        }
        Ok(())
    }

    /// `beta·s + (1−beta)·x`, the exponential moving average step.
    fn decay_towards(&mut self, s: NodeId, x: NodeId, beta: f64) -> Result<NodeId, StepError> {
        let kept = self.scale(s, beta)?;
        let added = self.scale(x, 1.0 - beta)?;
        self.bin(Binary::Add, kept, added)
    }

    fn scale(&mut self, x: NodeId, c: f64) -> Result<NodeId, StepError> {
        let c = self.g.add(
            Op::Const {
                value: F64(c),
                per: crate::ir::Dim::one(),
            },
            &[],
            self.origin,
        )?;
        self.bin(Binary::Mul, x, c)
    }

    fn bin(&mut self, op: Binary, a: NodeId, b: NodeId) -> Result<NodeId, StepError> {
        Ok(self.g.add(Op::Binary(op), &[a, b], self.origin)?)
    }
}
