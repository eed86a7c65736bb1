//! [`Model`]: a checked model and the functions compiled from it.

use super::error::{Diagnostics, Error};
use super::function::{Function, FunctionKind};
use super::options::Options;
use super::train::TrainStep;
use crate::diag::{Diagnostic, Severity};
use crate::ir::{self, Bindings, DType, Graph, Shape};
use crate::sema;
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
    /// is what diagnostics call the text.
    pub fn from_source(source: &str, file_name: &str, model: Option<&str>, options: Options) -> Result<Model, Error> {
        let fail = |diagnostics: Vec<Diagnostic>| {
            Error::Model(Diagnostics {
                file_name: file_name.to_string(),
                source: source.to_string(),
                diagnostics,
            })
        };
        let (models, diags) = sema::check_source(source);
        if diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(fail(diags));
        }
        let checked = sema::select_model(models, model).map_err(|d| fail(vec![d]))?;
        let mut graph = checked.graph;
        crate::autodiff::expand_grads(&mut graph)?;
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

    /// Reads and checks a model file (invalid UTF-8 is reported as a diagnostic).
    pub fn from_file(path: impl AsRef<Path>, model: Option<&str>, options: Options) -> Result<Model, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Model::from_source(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
            model,
            options,
        )
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

    /// The inputs, in declaration order.
    pub fn inputs(&self) -> Vec<TensorSpec> {
        let g = &self.inner.graph;
        g.inputs
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: d.ty.dtype,
                shape: d.ty.shape.clone(),
            })
            .collect()
    }

    /// The params, in declaration order.
    pub fn params(&self) -> Vec<TensorSpec> {
        let g = &self.inner.graph;
        g.params
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: DType::F32,
                shape: d.shape.clone(),
            })
            .collect()
    }

    /// The outputs, in declaration order (without the loss).
    pub fn outputs(&self) -> Vec<TensorSpec> {
        let g = &self.inner.graph;
        g.outputs
            .iter()
            .map(|(name, id)| TensorSpec {
                name: name.clone(),
                dtype: DType::F32,
                shape: g.shape(*id).clone(),
            })
            .collect()
    }

    /// Whether the model has a `loss` (needed for gradients and training).
    pub fn has_loss(&self) -> bool {
        self.inner.graph.loss.is_some()
    }

    /// The size variables, sorted by name.
    pub fn size_vars(&self) -> Vec<String> {
        self.inner.graph.size_vars().iter().map(|v| v.to_string()).collect()
    }

    /// Binds the size variables from the shapes of the inputs (and params, when given),
    /// in declaration order.
    pub fn sizes_from_shapes(&self, inputs: &[&[usize]], params: Option<&[&[usize]]>) -> Result<Bindings, Error> {
        let g = &self.inner.graph;
        if inputs.len() != g.inputs.len() {
            return Err(Error::Usage(format!(
                "expected {} inputs, got {}",
                g.inputs.len(),
                inputs.len()
            )));
        }
        ir::bind_sizes(g, inputs, params).map_err(|e| Error::Runtime(crate::runtime::RuntimeError::Bind(e)))
    }

    /// Fresh params from the initialisers of the model, for these sizes and seed (the
    /// scheme is documented in [`crate::io`]; the same seed gives the same params).
    pub fn init_params(&self, sizes: &Bindings, seed: u64) -> Result<Vec<Tensor>, Error> {
        Ok(crate::io::init_params(&self.inner.graph, sizes, seed)?)
    }

    /// Reads params from a safetensors file, checked against the declarations.
    pub fn load_params(&self, path: impl AsRef<Path>, sizes: &Bindings) -> Result<Vec<Tensor>, Error> {
        Ok(crate::io::load_params_with(path, &self.inner.graph, sizes)?)
    }

    /// Writes params to a safetensors file atomically, named after the model's params.
    pub fn save_params(&self, path: impl AsRef<Path>, params: &[Tensor]) -> Result<(), Error> {
        let names = self.params();
        if names.len() != params.len() {
            return Err(Error::Usage(format!(
                "expected {} params, got {}",
                names.len(),
                params.len()
            )));
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
        if !self.has_loss() {
            return Err(Error::Usage(format!(
                "model `{}` has no loss to differentiate",
                self.name()
            )));
        }
        self.function(FunctionKind::Gradients { inputs })
    }

    /// The training step for an optimiser: forward, loss, backward and the update of
    /// every param and optimiser state, as one native function.
    pub fn train_step(&self, optimizer: Optimizer) -> Result<TrainStep, Error> {
        TrainStep::new(self.clone(), optimizer)
    }

    fn function(&self, kind: FunctionKind) -> Result<Function, Error> {
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
