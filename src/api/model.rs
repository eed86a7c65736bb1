//! [`Model`]: a checked model and the functions compiled from it.

use super::check::{read_model_file, select};
use super::error::{Diagnostics, Error};
use super::function::{Function, FunctionKind};
use super::options::Options;
use super::train::TrainStep;
use crate::autodiff::AdError;
use crate::diag::Diagnostic;
use crate::ir::CallError;
use crate::ir::{self, Bindings, DType, Graph, Shape};
use crate::tensor::Tensor;
use crate::train::Optimizer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The name, element type and symbolic shape of an input, param or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// The name in the model (`grad.W1` for gradients).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape over the model's size variables.
    pub shape: Shape,
}

impl TensorSpec {
    /// The concrete shape for these sizes ([`Error::Sizes`] if one is missing).
    pub fn shape_for(&self, sizes: &Bindings) -> Result<Vec<usize>, Error> {
        super::layout::concrete(&self.name, &self.shape, sizes)
    }

    pub(crate) fn inputs(g: &Graph) -> Vec<TensorSpec> {
        g.inputs
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: d.ty.dtype,
                shape: d.ty.shape.clone(),
            })
            .collect()
    }

    pub(crate) fn params(g: &Graph) -> Vec<TensorSpec> {
        g.params
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: DType::F32,
                shape: d.shape.clone(),
            })
            .collect()
    }

    pub(crate) fn outputs(g: &Graph) -> Vec<TensorSpec> {
        g.outputs
            .iter()
            .map(|(name, id)| TensorSpec {
                name: name.clone(),
                dtype: DType::F32,
                shape: g.shape(*id).clone(),
            })
            .collect()
    }
}

/// A checked model: its forward graph (every `grad(...)` already expanded) and the
/// functions compiled from it, each compiled once and shared. Cheap to clone;
/// `Send + Sync`, so one model serves many threads (each with its own workspace).
#[derive(Clone)]
pub struct Model {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) file_name: String,
    pub(crate) source: String,
    pub(crate) graph: Graph,
    pub(crate) options: Options,
    functions: Mutex<HashMap<FunctionKind, Function>>,
}

impl Model {
    /// Checks `source` and selects the model named `model` (or the only one). `file_name`
    /// is what diagnostics call the text. Any error in the file is an [`Error::Model`]
    /// whose [`Error::render`] is what `nnc check` prints for it.
    pub fn from_source(source: &str, file_name: &str, model: Option<&str>, options: Options) -> Result<Model, Error> {
        let checked = select(source, file_name, model)?;
        let mut graph = checked.graph;
        crate::autodiff::expand_grads(&mut graph).map_err(|e| located(e, file_name, source))?;
        Ok(Model {
            inner: Arc::new(Inner {
                name: checked.name,
                file_name: file_name.to_string(),
                source: source.to_string(),
                graph,
                options,
                functions: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Reads and checks a model file (invalid UTF-8 is reported as a diagnostic); the
    /// diagnostics call it by `path` as given.
    pub fn from_file(path: impl AsRef<Path>, model: Option<&str>, options: Options) -> Result<Model, Error> {
        let (file_name, source) = read_model_file(path.as_ref())?;
        Model::from_source(&source, &file_name, model, options)
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The options it was compiled with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The forward graph (with `grad` expanded), for inspection.
    pub fn graph(&self) -> &Graph {
        &self.inner.graph
    }

    /// The source file name and text.
    pub fn source(&self) -> (&str, &str) {
        (&self.inner.file_name, &self.inner.source)
    }

    /// The inputs, in declaration order (the order calls take them).
    pub fn inputs(&self) -> Vec<TensorSpec> {
        TensorSpec::inputs(&self.inner.graph)
    }

    /// The params, in declaration order (the order calls take them).
    pub fn params(&self) -> Vec<TensorSpec> {
        TensorSpec::params(&self.inner.graph)
    }

    /// The outputs, in declaration order (without the loss).
    pub fn outputs(&self) -> Vec<TensorSpec> {
        TensorSpec::outputs(&self.inner.graph)
    }

    /// The position of the input named `name`, or [`Error::UnknownName`].
    pub fn input_index(&self, name: &str) -> Result<usize, Error> {
        name_index("input", self.inner.graph.inputs.iter().map(|d| d.name.as_str()), name)
    }

    /// The position of the param named `name`, or [`Error::UnknownName`].
    pub fn param_index(&self, name: &str) -> Result<usize, Error> {
        name_index("param", self.inner.graph.params.iter().map(|d| d.name.as_str()), name)
    }

    /// The position of the output named `name`, or [`Error::UnknownName`].
    pub fn output_index(&self, name: &str) -> Result<usize, Error> {
        name_index("output", self.inner.graph.outputs.iter().map(|o| o.0.as_str()), name)
    }

    /// Whether the model has a `loss` (needed for gradients and training).
    pub fn has_loss(&self) -> bool {
        self.inner.graph.loss.is_some()
    }

    /// The size variables, sorted by name.
    pub fn size_vars(&self) -> Vec<String> {
        self.inner.graph.size_vars().iter().map(|v| v.to_string()).collect()
    }

    /// Sizes from `(name, value)` pairs, e.g. `model.sizes(&[("N", 64)])`: every size
    /// variable of the model must be given ([`Error::Sizes`] otherwise), and only those
    /// ([`Error::UnknownName`]).
    pub fn sizes(&self, values: &[(&str, usize)]) -> Result<Bindings, Error> {
        let vars = self.inner.graph.size_vars();
        let mut sizes = Bindings::new();
        for &(name, value) in values {
            let Some(var) = vars.iter().find(|v| &***v == name) else {
                return Err(Error::UnknownName {
                    kind: "size variable",
                    name: name.to_string(),
                    known: self.size_vars(),
                });
            };
            sizes.insert(var.clone(), value);
        }
        if let Some(missing) = vars.iter().find(|v| !sizes.contains_key(*v)) {
            return Err(Error::Sizes(ir::BindError::Unbound(missing.clone())));
        }
        Ok(sizes)
    }

    /// Binds the size variables from the shapes of the inputs (and params, when given),
    /// in declaration order.
    pub fn sizes_from_shapes(&self, inputs: &[&[usize]], params: Option<&[&[usize]]>) -> Result<Bindings, Error> {
        let g = &self.inner.graph;
        if inputs.len() != g.inputs.len() {
            return Err(Error::Call(CallError::Count {
                what: "inputs",
                expected: g.inputs.len(),
                found: inputs.len(),
            }));
        }
        if let Some(p) = params.filter(|p| p.len() != g.params.len()) {
            return Err(Error::Call(CallError::Count {
                what: "params",
                expected: g.params.len(),
                found: p.len(),
            }));
        }
        Ok(ir::bind_sizes(g, inputs, params)?)
    }

    /// For each input, the class count of the one-hot encoding that reads it (labels
    /// must lie in `[0, classes)`), or `None` if no one-hot reads it.
    pub fn label_classes(&self, sizes: &Bindings) -> Result<Vec<Option<usize>>, Error> {
        super::layout::label_classes(&self.inner.graph, sizes)
    }

    /// Fresh params from the initialisers of the model, for these sizes and seed (the
    /// scheme is documented in [`crate::io`]; the same seed gives the same params).
    pub fn init_params(&self, sizes: &Bindings, seed: u64) -> Result<Vec<Tensor>, Error> {
        Ok(crate::io::init_params(&self.inner.graph, sizes, seed)?)
    }

    /// Reads params from a safetensors file, checked against the declarations (every
    /// param present by name, f32, of the declared shape under `sizes`).
    pub fn load_params(&self, path: impl AsRef<Path>, sizes: &Bindings) -> Result<Vec<Tensor>, Error> {
        Ok(crate::io::load_params_with(path, &self.inner.graph, sizes)?)
    }

    /// Writes params to a safetensors file atomically, named after the model's params.
    pub fn save_params(&self, path: impl AsRef<Path>, params: &[Tensor]) -> Result<(), Error> {
        let names = self.params();
        if names.len() != params.len() {
            return Err(Error::Call(CallError::Count {
                what: "params",
                expected: names.len(),
                found: params.len(),
            }));
        }
        let named: Vec<(&str, &Tensor)> = names.iter().map(|s| s.name.as_str()).zip(params).collect();
        Ok(crate::io::write_tensors(path, &named)?)
    }

    /// The forward function: outputs and (if any) the loss.
    pub fn forward(&self) -> Result<Function, Error> {
        self.function(FunctionKind::Forward)
    }

    /// Outputs, loss, and `grad.NAME` for every param (and every f32 input when
    /// `inputs`): the derivatives of the loss.
    pub fn gradients(&self, inputs: bool) -> Result<Function, Error> {
        self.need_loss()?;
        self.function(FunctionKind::Gradients { inputs, outputs: true })
    }

    /// Only the loss and `grad.NAME` for every param (and every f32 input when `inputs`):
    /// the model's outputs are neither computed nor passed.
    pub fn gradients_only(&self, inputs: bool) -> Result<Function, Error> {
        self.need_loss()?;
        self.function(FunctionKind::Gradients { inputs, outputs: false })
    }

    /// The training step for an optimiser: forward, loss, backward and the update of
    /// every param and optimiser state, as one native function.
    pub fn train_step(&self, optimizer: Optimizer) -> Result<TrainStep, Error> {
        self.need_loss()?;
        TrainStep::new(self.clone(), optimizer)
    }

    fn need_loss(&self) -> Result<(), Error> {
        match self.has_loss() {
            true => Ok(()),
            false => Err(Error::NoLoss {
                model: self.name().to_string(),
            }),
        }
    }

    fn function(&self, kind: FunctionKind) -> Result<Function, Error> {
        // Compiling under the lock: two threads asking for one function compile it once.
        let mut cache = self.inner.functions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = cache.get(&kind) {
            return Ok(f.clone());
        }
        let f = Function::build(self.clone(), kind)?;
        cache.insert(kind, f.clone());
        Ok(f)
    }

    /// `file:line:col` of a byte offset into the source, and the line's text.
    pub(crate) fn locate(&self, offset: u32) -> (String, String) {
        let src = &self.inner.source;
        let (line, col) = crate::diag::line_col(src, offset as usize);
        let text = src.lines().nth(line.saturating_sub(1)).unwrap_or("").to_string();
        (format!("{}:{line}:{col}", self.inner.file_name), text)
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.inner.name)
            .field("file", &self.inner.file_name)
            .finish()
    }
}

/// The position of `name` among `names`, or [`Error::UnknownName`] listing them.
pub(crate) fn name_index<'a>(
    kind: &'static str,
    names: impl Iterator<Item = &'a str> + Clone,
    name: &str,
) -> Result<usize, Error> {
    names.clone().position(|n| n == name).ok_or_else(|| Error::UnknownName {
        kind,
        name: name.to_string(),
        known: names.map(str::to_string).collect(),
    })
}

/// A differentiation error with a source position becomes a model diagnostic (sema
/// checks `grad`'s operands, so this is a safety net rather than the usual path).
fn located(e: AdError, file_name: &str, source: &str) -> Error {
    let span = match &e {
        AdError::NotScalar { span, .. }
        | AdError::WrtNotLeaf { span, .. }
        | AdError::NotDifferentiable { span, .. }
        | AdError::GradNotExpanded { span, .. } => *span,
        AdError::NoLoss | AdError::Internal { .. } => None,
    };
    match span {
        Some(span) => Error::Model(Diagnostics {
            file_name: file_name.to_string(),
            source: source.to_string(),
            diagnostics: vec![Diagnostic::error(span, e.to_string())],
        }),
        None => Error::Autodiff(e),
    }
}
