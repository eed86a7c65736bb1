//! [`Function`]: a graph compiled from a model (forward, or with gradients), and
//! [`Instance`]: a function specialised for concrete sizes, called on caller buffers.

use super::error::{Error, NonFinite};
use super::model::{Model, TensorSpec};
use super::options::Backend;
use crate::ir::{Bindings, DType, Graph, Op};
use crate::runtime::{Arg, Executable, Program, Workspace};
use crate::tensor::{Data, Tensor};
use std::sync::Arc;

/// Which graph of a model a function computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FunctionKind {
    Forward,
    Gradients { inputs: bool },
}

/// A compiled graph of a model. Compiled once per binding of the size variables, on
/// first use, and shared. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Function {
    inner: Arc<FnInner>,
}

struct FnInner {
    model: Model,
    /// The graph before optimisation: its nodes keep their source positions, so the
    /// interpreter runs it for `--interp` and to locate non-finite values.
    reference: Graph,
    engine: Engine,
}

enum Engine {
    Jit(Program),
    Interpreter,
}

/// What a call returns on host tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    /// The outputs by name, in declaration order (gradients `grad.NAME` after them).
    pub tensors: Vec<(String, Tensor)>,
    /// The loss, when the model has one.
    pub loss: Option<f32>,
}

impl Outputs {
    /// The output named `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.0 == name).map(|t| &t.1)
    }
}

impl Function {
    pub(crate) fn build(model: Model, kind: FunctionKind) -> Result<Function, Error> {
        let mut graph = model.inner.graph.clone();
        if let FunctionKind::Gradients { inputs } = kind {
            crate::autodiff::add_gradient_outputs(&mut graph, true, inputs)?;
        }
        Function::from_graph(model, graph)
    }

    /// Wraps a graph over the model's inputs and params (and possibly more), optimising
    /// and compiling it for the model's backend.
    pub(crate) fn from_graph(model: Model, graph: Graph) -> Result<Function, Error> {
        let options = model.inner.options.clone();
        let engine = match options.backend {
            Backend::Interpreter => Engine::Interpreter,
            Backend::Jit => {
                let mut optimised = graph.clone();
                super::optimise(&mut optimised, &options)?;
                Engine::Jit(Program::new(optimised, options.runtime())?)
            }
        };
        Ok(Function {
            inner: Arc::new(FnInner {
                model,
                reference: graph,
                engine,
            }),
        })
    }

    /// The model this function was compiled from.
    pub fn model(&self) -> &Model {
        &self.inner.model
    }

    /// The graph as differentiated, before optimisation.
    pub fn graph(&self) -> &Graph {
        &self.inner.reference
    }

    /// The graph the native code computes (after the optimiser's passes).
    pub fn optimised_graph(&self) -> &Graph {
        match &self.inner.engine {
            Engine::Jit(p) => p.graph(),
            Engine::Interpreter => &self.inner.reference,
        }
    }

    /// The inputs of the function, in order.
    pub fn inputs(&self) -> Vec<TensorSpec> {
        let g = &self.inner.reference;
        g.inputs
            .iter()
            .map(|d| TensorSpec {
                name: d.name.clone(),
                dtype: d.ty.dtype,
                shape: d.ty.shape.clone(),
            })
            .collect()
    }

    /// The outputs (for a gradient function: the model's outputs, then `grad.NAME`).
    pub fn outputs(&self) -> Vec<TensorSpec> {
        let g = &self.inner.reference;
        g.outputs
            .iter()
            .map(|(name, id)| TensorSpec {
                name: name.clone(),
                dtype: DType::F32,
                shape: g.shape(*id).clone(),
            })
            .collect()
    }

    /// Binds the size variables from concrete input and param shapes (declaration order).
    pub fn sizes(&self, inputs: &[&[usize]], params: &[&[usize]]) -> Result<Bindings, Error> {
        let g = &self.inner.reference;
        if inputs.len() != g.inputs.len() || params.len() != g.params.len() {
            return Err(Error::Usage(format!(
                "expected {} inputs and {} params, got {} and {}",
                g.inputs.len(),
                g.params.len(),
                inputs.len(),
                params.len()
            )));
        }
        crate::ir::bind_sizes(g, inputs, Some(params))
            .map_err(|e| Error::Runtime(crate::runtime::RuntimeError::Bind(e)))
    }

    /// Specialises the function for concrete sizes (compiling native code on first use),
    /// refusing sizes whose buffers would exceed the memory limit.
    pub fn instantiate(&self, sizes: &Bindings) -> Result<Instance, Error> {
        let limit = self.inner.model.inner.options.memory_limit as u128;
        let caller = caller_bytes(&self.inner.reference, sizes)?;
        let describe = || {
            sizes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let over = |needed: u128| Error::MemoryLimit {
            needed,
            limit,
            sizes: describe(),
        };
        if caller > limit {
            return Err(over(caller));
        }
        let exe = match &self.inner.engine {
            Engine::Interpreter => {
                let needed = caller.saturating_add(interpreter_bytes(&self.inner.reference, sizes)?);
                if needed > limit {
                    return Err(over(needed));
                }
                None
            }
            Engine::Jit(p) => {
                let exe = p.executable(sizes)?;
                let needed = caller.saturating_add(exe.workspace_bytes() as u128);
                if needed > limit {
                    return Err(over(needed));
                }
                Some(exe)
            }
        };
        Ok(Instance {
            function: self.clone(),
            sizes: sizes.clone(),
            exe,
        })
    }

    /// Binds sizes from the tensors, instantiates and runs: the convenient, copying call.
    pub fn call_tensors(&self, inputs: &[Tensor], params: &[Tensor]) -> Result<Outputs, Error> {
        let ishapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let pshapes: Vec<&[usize]> = params.iter().map(|t| t.shape.as_slice()).collect();
        let sizes = self.sizes(&ishapes, &pshapes)?;
        let instance = self.instantiate(&sizes)?;
        let mut outs: Vec<Vec<f32>> = instance
            .output_shapes()
            .iter()
            .map(|s| vec![0.0; s.iter().product()])
            .collect();
        let mut slices: Vec<&mut [f32]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
        let args: Vec<Arg> = inputs.iter().map(Arg::of).collect();
        let pslices = float_slices(params, &self.inner.reference)?;
        let mut ws = Workspace::new();
        let loss = instance.call(&mut ws, &args, &pslices, &mut slices)?;
        let tensors = self
            .inner
            .reference
            .outputs
            .iter()
            .zip(outs.into_iter().zip(instance.output_shapes()))
            .map(|((name, _), (data, shape))| (name.clone(), Tensor::f32(shape, data)))
            .collect();
        Ok(Outputs { tensors, loss })
    }

    /// Evaluates the unoptimised graph with the reference interpreter in f32 and returns
    /// the first node (operands before users) whose value is NaN or infinite, with the
    /// source line it came from — for `--check-finite`.
    pub fn locate_non_finite(&self, inputs: &[Tensor], params: &[Tensor]) -> Result<Option<NonFinite>, Error> {
        let g = &self.inner.reference;
        let values = crate::interp::eval_nodes::<f32>(g, &Bindings::new(), inputs, params)?;
        // Forward before backward before update: a backward node can come earlier in the
        // schedule than the forward node that went wrong (`1/x` of `log(x)` at x = 0).
        let phases = [
            crate::ir::Phase::Forward,
            crate::ir::Phase::Backward,
            crate::ir::Phase::Update,
        ];
        let first = phases.iter().find_map(|&phase| {
            values
                .order
                .iter()
                .copied()
                .find(|&n| g.node(n).origin.phase == phase && values.get(n).is_some_and(|v| !v.all_finite()))
        });
        let Some(id) = first.or_else(|| crate::interp::first_non_finite(&values)) else {
            return Ok(None);
        };
        let node = g.node(id);
        let value = values
            .f(id)
            .and_then(|v| v.data.iter().copied().find(|x| !x.is_finite()))
            .unwrap_or(f32::NAN);
        let op = match &node.op {
            Op::Input(i) => format!("input {}", g.inputs[*i].name),
            Op::Param(i) => format!("param {}", g.params[*i].name),
            op => op.name(),
        };
        let (location, line_text) = match node.origin.span {
            Some(s) => {
                let (loc, text) = self.inner.model.locate(s.start);
                (Some(loc), Some(text))
            }
            None => (None, None),
        };
        Ok(Some(NonFinite {
            op,
            phase: node.origin.phase,
            location,
            line_text,
            value,
        }))
    }
}

/// A function specialised for concrete sizes. `Send + Sync`: call it from several
/// threads, each with its own [`Workspace`].
#[derive(Clone)]
pub struct Instance {
    function: Function,
    sizes: Bindings,
    exe: Option<Arc<Executable>>,
}

impl Instance {
    /// The sizes it is specialised for.
    pub fn sizes(&self) -> &Bindings {
        &self.sizes
    }

    /// The concrete shapes of the outputs, in order.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        let g = &self.function.inner.reference;
        g.outputs
            .iter()
            .map(|(_, id)| g.shape(*id).eval(&self.sizes).unwrap_or_default())
            .collect()
    }

    /// The native code, for inspection (`None` with the interpreter).
    pub fn executable(&self) -> Option<&Executable> {
        self.exe.as_deref()
    }

    /// Runs on the caller's buffers without copying: reads `inputs` and `params` (in
    /// declaration order), writes `outputs`, returns the loss. Every length and label is
    /// checked before native code runs.
    pub fn call(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &[&[f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, Error> {
        match &self.exe {
            Some(exe) => Ok(exe.run_ref(ws, inputs, params, outputs)?),
            None => {
                let mut owned: Vec<Vec<f32>> = params.iter().map(|p| p.to_vec()).collect();
                let mut refs: Vec<&mut [f32]> = owned.iter_mut().map(|p| p.as_mut_slice()).collect();
                self.interpret(inputs, &mut refs, outputs)
            }
        }
    }

    /// Like [`Instance::call`], and applies the graph's updates to `params` in place
    /// (the training step).
    pub fn call_mut(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, Error> {
        match &self.exe {
            Some(exe) => Ok(exe.run(ws, inputs, params, outputs)?),
            None => self.interpret(inputs, params, outputs),
        }
    }

    fn interpret(
        &self,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, Error> {
        let g = &self.function.inner.reference;
        let shape_of = |s: &crate::ir::Shape| s.eval(&self.sizes).map_err(|e| Error::Usage(format!("{e:?}")));
        check_count("inputs", g.inputs.len(), inputs.len())?;
        check_count("params", g.params.len(), params.len())?;
        check_count("outputs", g.outputs.len(), outputs.len())?;
        let mut in_tensors = Vec::with_capacity(inputs.len());
        for (decl, arg) in g.inputs.iter().zip(inputs) {
            let shape = shape_of(&decl.ty.shape)?;
            in_tensors.push(host_tensor(&decl.name, shape, arg)?);
        }
        let mut p_tensors = Vec::with_capacity(params.len());
        for (decl, p) in g.params.iter().zip(params.iter()) {
            let shape = shape_of(&decl.shape)?;
            p_tensors.push(host_tensor(&decl.name, shape, &Arg::F32(p))?);
        }
        let values = crate::interp::eval::<f32>(g, &self.sizes, &in_tensors, &p_tensors)?;
        for ((name, value), out) in values.outputs.iter().zip(outputs.iter_mut()) {
            let t = value.to_tensor();
            let data = t
                .as_f32()
                .ok_or_else(|| Error::Usage(format!("output {name} is not f32")))?;
            if data.len() != out.len() {
                return Err(Error::Usage(format!(
                    "output {name}: buffer of {} for {} values",
                    out.len(),
                    data.len()
                )));
            }
            out.copy_from_slice(data);
        }
        for (i, v) in values.updates {
            params[i].copy_from_slice(&v.data);
        }
        Ok(values.loss)
    }
}

fn check_count(what: &str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Usage(format!("expected {expected} {what}, got {found}")))
    }
}

fn host_tensor(name: &str, shape: Vec<usize>, arg: &Arg<'_>) -> Result<Tensor, Error> {
    let n: usize = shape.iter().product();
    let (len, data) = match arg {
        Arg::F32(s) => (s.len(), Data::F32(s.to_vec())),
        Arg::I32(s) => (s.len(), Data::I32(s.to_vec())),
    };
    if len != n {
        return Err(Error::Usage(format!(
            "`{name}` has {len} elements, expected {n} for shape {shape:?}"
        )));
    }
    Ok(Tensor { shape, data })
}

fn float_slices<'a>(params: &'a [Tensor], g: &Graph) -> Result<Vec<&'a [f32]>, Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.as_f32().ok_or_else(|| {
                let name = g.params.get(i).map(|p| p.name.as_str()).unwrap_or("?");
                Error::Usage(format!("param `{name}` must be f32"))
            })
        })
        .collect()
}

/// Bytes of the caller's buffers: inputs, params, outputs.
fn caller_bytes(g: &Graph, sizes: &Bindings) -> Result<u128, Error> {
    let shapes = g
        .inputs
        .iter()
        .map(|d| &d.ty.shape)
        .chain(g.params.iter().map(|d| &d.shape))
        .chain(g.outputs.iter().map(|(_, id)| g.shape(*id)));
    let mut total = 0u128;
    for s in shapes {
        total = total.saturating_add(shape_bytes(s, sizes)?);
    }
    Ok(total)
}

/// The interpreter keeps every node's value: the sum of them all.
fn interpreter_bytes(g: &Graph, sizes: &Bindings) -> Result<u128, Error> {
    let mut total = 0u128;
    for id in g.schedule() {
        total = total.saturating_add(shape_bytes(g.shape(id), sizes)?);
    }
    Ok(total)
}

fn shape_bytes(s: &crate::ir::Shape, sizes: &Bindings) -> Result<u128, Error> {
    let mut n: u128 = 4;
    for d in s.dims() {
        let v = d.eval(sizes).map_err(|e| match e {
            crate::ir::DimError::Unbound(v) => Error::Usage(format!("size variable {v} has no value")),
            crate::ir::DimError::Overflow => Error::Usage(format!("a tensor of shape {s} is too large to address")),
        })?;
        n = n.saturating_mul(v as u128);
    }
    Ok(n)
}
