//! Loading tensor files against a model's declarations: names, dtypes and shapes, with
//! size variables bound consistently across every tensor of every file.

use super::tensors::{convert, parse_safetensors, read_file, RawTensor};
use super::IoError;
use crate::ir::{BindError, Binder, Bindings, DType, Dim, Graph, Shape, TensorType};
use crate::tensor::Tensor;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a loader checks one tensor against.
struct Decl<'g> {
    name: &'g str,
    dtype: DType,
    shape: &'g Shape,
}

/// Binds size variables from tensors of possibly several files, turning every mismatch
/// into an [`IoError`] that names the tensor, its file, and what was expected.
#[derive(Default)]
pub struct SizeCheck {
    binder: Binder,
    /// tensor name -> the file it came from, for messages
    origin: BTreeMap<String, PathBuf>,
    /// every tensor checked so far, to verify product dimensions (`2*N`) at the end
    seen: Vec<(String, Shape, Vec<usize>)>,
}

/// How a binding that did not come from a tensor is described in conflicts.
const GIVEN: &str = "given sizes";

impl SizeCheck {
    /// Nothing bound yet.
    pub fn new() -> SizeCheck {
        SizeCheck::default()
    }

    /// Starts from sizes already known (e.g. bound by the inputs or a data set).
    pub fn with(bindings: Bindings) -> SizeCheck {
        SizeCheck {
            binder: Binder::with(bindings),
            ..SizeCheck::default()
        }
    }

    /// Checks tensor `name` from `path`, of shape `found`, against its declared shape.
    pub fn bind(&mut self, path: &Path, name: &str, declared: &Shape, found: &[usize]) -> Result<(), IoError> {
        self.origin.insert(name.to_string(), path.to_path_buf());
        self.seen.push((name.to_string(), declared.clone(), found.to_vec()));
        self.binder
            .bind(name, declared, found)
            .map_err(|e| self.error(e, declared))
    }

    /// The sizes bound so far.
    pub fn bindings(&self) -> &Bindings {
        self.binder.bindings()
    }

    /// Verifies product dimensions of every checked tensor and returns the bindings.
    /// Variables that no checked tensor binds stay absent (a later stage reports them).
    pub fn finish(self) -> Result<Bindings, IoError> {
        let bindings = self.binder.bindings();
        for (name, declared, found) in &self.seen {
            // A product over a variable bound nowhere yet cannot be checked here; the
            // instantiation of the model checks it once everything is bound.
            if let Ok(dims) = declared.eval(bindings) {
                if &dims != found {
                    let e = BindError::Shape {
                        name: name.clone(),
                        expected: declared.clone(),
                        found: found.clone(),
                    };
                    return Err(self.error(e, declared));
                }
            }
        }
        Ok(self.binder.bindings().clone())
    }

    fn describe(&self, name: &str) -> String {
        match self.origin.get(name) {
            Some(p) => format!("tensor `{name}` in {}", p.display()),
            None if name == GIVEN => "the sizes already bound (by the inputs or data set)".to_string(),
            None => format!("`{name}`"),
        }
    }

    fn error(&self, e: BindError, declared: &Shape) -> IoError {
        match e {
            BindError::Shape { name, expected, found } => IoError::Shape {
                path: self.origin.get(&name).cloned().unwrap_or_default(),
                expected: expected_text(&expected, self.bindings()),
                name,
                found,
            },
            BindError::Conflict { var, first, second } => IoError::SizeConflict {
                var: var.to_string(),
                first: self.describe(&first.1),
                first_value: first.0,
                second: self.describe(&second.1),
                second_value: second.0,
            },
            BindError::Unbound(var) => IoError::Unbound {
                name: format!("{declared}"),
                var: var.to_string(),
            },
            BindError::Overflow(name) => IoError::TooLarge {
                name,
                shape: Vec::new(),
            },
        }
    }
}

/// `[N, 784]`, followed by the concrete shape when every variable is bound: `[N, 784] = [32, 784]`.
fn expected_text(shape: &Shape, bindings: &Bindings) -> String {
    match shape.eval(bindings) {
        Ok(dims) if shape.dims().iter().any(|d| d.as_lit().is_none()) => format!("{shape} = {dims:?}"),
        _ => format!("{shape}"),
    }
}

/// Checks the set of names: every declared tensor present, nothing else.
fn check_names(
    path: &Path,
    raw: &BTreeMap<String, RawTensor<'_>>,
    decls: &[Decl<'_>],
    what: &'static str,
) -> Result<(), IoError> {
    let list = |names: Vec<&str>| {
        if names.is_empty() {
            "no tensors".to_string()
        } else {
            names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        }
    };
    for d in decls {
        if !raw.contains_key(d.name) {
            return Err(IoError::Missing {
                path: path.to_path_buf(),
                name: d.name.to_string(),
                expected: type_text(d),
                found: list(raw.keys().map(String::as_str).collect()),
            });
        }
    }
    if let Some(extra) = raw.keys().find(|k| !decls.iter().any(|d| d.name == k.as_str())) {
        return Err(IoError::Extra {
            path: path.to_path_buf(),
            name: extra.clone(),
            what,
            expected: list(decls.iter().map(|d| d.name).collect()),
        });
    }
    Ok(())
}

fn type_text(d: &Decl<'_>) -> String {
    TensorType {
        dtype: d.dtype,
        shape: d.shape.clone(),
    }
    .to_string()
}

/// The `format` metadata value that marks a training checkpoint (see [`is_checkpoint`]).
pub const CHECKPOINT_FORMAT: &str = "nnc.checkpoint";

/// Whether a safetensors file image is a training checkpoint: its `__metadata__` has
/// `format` = [`CHECKPOINT_FORMAT`]. Besides the params (by name) a checkpoint holds the
/// optimiser state, whose names always contain a `.` (`adam.m.W1`), which a param name
/// never does; loaders of params skip those tensors, so a checkpoint serves as a params file.
pub fn is_checkpoint(bytes: &[u8], path: &Path) -> Result<bool, IoError> {
    let meta = super::tensors::metadata_of(bytes, path)?;
    Ok(meta.get("format").map(String::as_str) == Some(CHECKPOINT_FORMAT))
}

/// How errors call a params file's tensors; also selects the checkpoint rule.
const PARAM: &str = "a param";

/// Converts and shape-checks the declared tensors of one file, in declaration order.
fn load_against(
    path: &Path,
    bytes: &[u8],
    decls: &[Decl<'_>],
    what: &'static str,
    sizes: &mut SizeCheck,
) -> Result<Vec<Tensor>, IoError> {
    let mut raw = parse_safetensors(bytes, path)?;
    if what == PARAM && is_checkpoint(bytes, path)? {
        raw.retain(|name, _| !name.contains('.'));
    }
    check_names(path, &raw, decls, what)?;
    let mut out = Vec::with_capacity(decls.len());
    for d in decls {
        let r = &raw[d.name];
        // Dtype before shape: a wrong dtype usually means a wrong file, not a wrong size.
        let t = convert(r, d.dtype, path, d.name)?;
        sizes.bind(path, d.name, d.shape, &r.shape)?;
        out.push(t);
    }
    Ok(out)
}

fn input_decls(graph: &Graph) -> Vec<Decl<'_>> {
    graph
        .inputs
        .iter()
        .map(|i| Decl {
            name: &i.name,
            dtype: i.ty.dtype,
            shape: &i.ty.shape,
        })
        .collect()
}

fn param_decls(graph: &Graph) -> Vec<Decl<'_>> {
    graph
        .params
        .iter()
        .map(|p| Decl {
            name: &p.name,
            dtype: DType::F32,
            shape: &p.shape,
        })
        .collect()
}

/// Reads the model's inputs from a safetensors file, in the graph's input order.
pub fn load_inputs(path: impl AsRef<Path>, graph: &Graph) -> Result<Vec<Tensor>, IoError> {
    let path = path.as_ref();
    let mut sizes = SizeCheck::new();
    let t = load_against(path, &read_file(path)?, &input_decls(graph), "an input", &mut sizes)?;
    sizes.finish()?;
    Ok(t)
}

/// Reads the model's params from a safetensors file, in the graph's param order.
pub fn load_params(path: impl AsRef<Path>, graph: &Graph) -> Result<Vec<Tensor>, IoError> {
    load_params_with(path, graph, &Bindings::new())
}

/// [`load_params`] with size variables already bound (by the inputs or a data set): a
/// param that disagrees with them is reported.
pub fn load_params_with(path: impl AsRef<Path>, graph: &Graph, known: &Bindings) -> Result<Vec<Tensor>, IoError> {
    let path = path.as_ref();
    let mut sizes = SizeCheck::with(known.clone());
    let t = load_against(path, &read_file(path)?, &param_decls(graph), PARAM, &mut sizes)?;
    sizes.finish()?;
    Ok(t)
}

/// Inputs and (optionally) params of one evaluation, with the size variables they bind.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The inputs, in graph order.
    pub inputs: Vec<Tensor>,
    /// The params, in graph order, when a params file was given.
    pub params: Option<Vec<Tensor>>,
    /// Every size variable the tensors bind (params' own variables are bound only when a
    /// params file was given or an input binds them).
    pub bindings: Bindings,
}

/// Reads the inputs file and, when given, the params file, binding size variables across
/// both: a param disagreeing with an input is reported naming both tensors and files.
pub fn load_run(graph: &Graph, inputs: impl AsRef<Path>, params: Option<&Path>) -> Result<Loaded, IoError> {
    let ipath = inputs.as_ref();
    let mut sizes = SizeCheck::new();
    let inputs = load_against(ipath, &read_file(ipath)?, &input_decls(graph), "an input", &mut sizes)?;
    let params = match params {
        Some(p) => Some(load_against(p, &read_file(p)?, &param_decls(graph), PARAM, &mut sizes)?),
        None => None,
    };
    let bindings = sizes.finish()?;
    Ok(Loaded {
        inputs,
        params,
        bindings,
    })
}

/// [`load_run`] for a model without inputs: only the params file, when given.
pub fn load_params_only(graph: &Graph, params: Option<&Path>) -> Result<Loaded, IoError> {
    let mut sizes = SizeCheck::new();
    let params = match params {
        Some(p) => Some(load_against(p, &read_file(p)?, &param_decls(graph), PARAM, &mut sizes)?),
        None => None,
    };
    let bindings = sizes.finish()?;
    Ok(Loaded {
        inputs: Vec::new(),
        params,
        bindings,
    })
}

/// The single size variable a dimension is, if it is one (`N`, not `2*N` or `784`).
pub(crate) fn single_var(d: &Dim) -> Option<Arc<str>> {
    let vars: Vec<&Arc<str>> = d.vars().collect();
    match vars.as_slice() {
        [v] if d == &Dim::var(v) => Some((*v).clone()),
        _ => None,
    }
}
