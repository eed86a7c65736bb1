//! Showing the stages of the pipeline (`nnc compile --emit KIND` and `--stats`).
//!
//! The graph kinds (`ir`, `grad`, `dot`, `grad-nn`) are symbolic; the native kinds
//! (`opt`, `clif`, `kernels`, and [`Model::stats`]) describe the code compiled for
//! concrete sizes of the size variables (see [`Model::sizes_or`]).

use super::error::Error;
use super::model::Model;
use super::options::Backend;
use crate::ir::{self, Bindings, Graph};
use crate::runtime::{Executable, Stats};
use std::fmt;

/// A stage to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmitKind {
    /// The forward graph (every `grad(...)` expanded), with source lines.
    Ir,
    /// The differentiated graph: forward, loss and backward (`grad.NAME` outputs).
    Grad,
    /// The graph the native code computes, after the optimiser's passes.
    Opt,
    /// The Cranelift IR of every compiled function.
    Clif,
    /// Graphviz of the forward and backward graph, coloured by phase.
    Dot,
    /// The gradient computation as a `.nn` model whose outputs are the gradients
    /// (`grad_W1`, ...); it checks and runs like any model.
    GradNn,
    /// The kernel schedule: buffers, fused loops and matrix products.
    Kernels,
}

impl EmitKind {
    /// Every kind, in the order `nnc compile --help` lists them.
    pub const ALL: [EmitKind; 7] = [
        EmitKind::Ir,
        EmitKind::Grad,
        EmitKind::Opt,
        EmitKind::Clif,
        EmitKind::Dot,
        EmitKind::GradNn,
        EmitKind::Kernels,
    ];

    /// The name on the command line (`grad-nn`).
    pub fn name(self) -> &'static str {
        match self {
            EmitKind::Ir => "ir",
            EmitKind::Grad => "grad",
            EmitKind::Opt => "opt",
            EmitKind::Clif => "clif",
            EmitKind::Dot => "dot",
            EmitKind::GradNn => "grad-nn",
            EmitKind::Kernels => "kernels",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<EmitKind> {
        EmitKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the kind describes native code for concrete sizes.
    pub fn is_native(self) -> bool {
        matches!(self, EmitKind::Opt | EmitKind::Clif | EmitKind::Kernels)
    }
}

impl fmt::Display for EmitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which function of a model the native kinds and statistics describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// Outputs and loss only.
    Forward,
    /// Outputs, loss and the gradients of the params (and of every f32 input when `inputs`).
    Gradients {
        /// also the gradients of the f32 inputs
        inputs: bool,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Target::Forward => "forward",
            Target::Gradients { inputs: false } => "gradients",
            Target::Gradients { inputs: true } => "gradients (params and inputs)",
        })
    }
}

impl Model {
    /// The function a model is usually compiled for: its gradients when it has a loss,
    /// else its forward function.
    pub fn default_target(&self) -> Target {
        if self.has_loss() {
            Target::Gradients { inputs: false }
        } else {
            Target::Forward
        }
    }

    /// Binds every size variable: those in `given` to their values, the others to
    /// `default`. A name that is not a size variable of the model, or a 0, is an error.
    pub fn sizes_or(&self, given: &Bindings, default: usize) -> Result<Bindings, Error> {
        let vars = self.size_vars();
        let mut b = Bindings::new();
        for v in &vars {
            b.insert(v.as_str().into(), default);
        }
        for (name, value) in given {
            if !vars.iter().any(|v| **v == **name) {
                let known = if vars.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("its size variables are {}", vars.join(", "))
                };
                return Err(Error::Usage(format!(
                    "`{name}` is not a size variable of model `{}` ({known})",
                    self.name()
                )));
            }
            if *value == 0 {
                return Err(Error::Usage(format!("size variable {name} must be at least 1")));
            }
            b.insert(name.clone(), *value);
        }
        Ok(b)
    }

    /// The text of a stage for the default target ([`Model::default_target`]).
    pub fn emit(&self, kind: EmitKind, sizes: &Bindings) -> Result<String, Error> {
        self.emit_for(kind, self.default_target(), sizes)
    }

    /// The text of a stage. `target` selects the function for `opt`, `clif` and `kernels`,
    /// and whether `grad`, `dot` and `grad-nn` include the gradients of the inputs;
    /// `sizes` binds the size variables for the native kinds.
    pub fn emit_for(&self, kind: EmitKind, target: Target, sizes: &Bindings) -> Result<String, Error> {
        let name = self.name();
        let line_of = |offset: u32| Some(crate::diag::line_col(self.source().1, offset as usize).0);
        let with_inputs = matches!(target, Target::Gradients { inputs: true });
        match kind {
            EmitKind::Ir => Ok(ir::print(self.graph(), name, &line_of)),
            EmitKind::Grad => Ok(ir::print(self.gradients(with_inputs)?.graph(), name, &line_of)),
            EmitKind::Dot => {
                let g = match self.has_loss() {
                    true => self.gradients(with_inputs)?.graph().clone(),
                    false => self.graph().clone(),
                };
                Ok(ir::to_dot(&g, name, &line_of))
            }
            EmitKind::GradNn => {
                let g = self.gradients(with_inputs)?;
                ir::to_nn(g.graph(), &format!("{name}_grad")).map_err(Error::Emit)
            }
            EmitKind::Opt => Ok(ir::print(&self.native_graph(target)?, name, &line_of)),
            EmitKind::Clif => {
                let exe = self.native(target, sizes, true)?;
                Ok(exe.clif().unwrap_or_default().to_string())
            }
            EmitKind::Kernels => Ok(self.native(target, sizes, false)?.schedule().to_string()),
        }
    }

    /// Compiles `target` for `sizes` and returns its counts: nodes, kernels, FLOPs and
    /// bytes of buffers.
    pub fn stats(&self, target: Target, sizes: &Bindings) -> Result<Stats, Error> {
        Ok(self.native(target, sizes, false)?.stats().clone())
    }

    /// The graph of `target` after the optimiser's passes (also with the interpreter
    /// backend, which does not optimise).
    fn native_graph(&self, target: Target) -> Result<Graph, Error> {
        let f = match target {
            Target::Forward => self.forward()?,
            Target::Gradients { inputs } => self.gradients(inputs)?,
        };
        match self.options().backend {
            Backend::Jit => Ok(f.optimised_graph().clone()),
            Backend::Interpreter => {
                let mut g = f.graph().clone();
                super::optimise(&mut g, self.options())?;
                Ok(g)
            }
        }
    }

    /// Native code of `target` for `sizes`, compiled afresh (keeping the Cranelift IR
    /// when asked), so that inspection never changes what the model's functions cache.
    fn native(&self, target: Target, sizes: &Bindings, keep_clif: bool) -> Result<Executable, Error> {
        let g = self.native_graph(target)?;
        let opts = crate::runtime::Options {
            keep_clif,
            ..self.options().runtime()
        };
        Ok(Executable::compile(&g, sizes, &opts)?)
    }
}
