//! [`Function`]: a graph compiled from a model (forward, or with gradients), and
//! [`Instance`]: a function specialised for concrete sizes, called on caller buffers.

use super::buffers::collect_with;
use super::error::{Error, NonFinite};
use super::layout::Layout;
use super::model::{name_index, Model, TensorSpec};
use super::options::Backend;
use crate::ir::CallError;
use crate::ir::{Bindings, DType, Graph, Op};
use crate::runtime::{Arg, Executable, Program, Workspace};
use crate::tensor::{Data, Tensor};
use std::sync::Arc;

/// Which graph of a model a function computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum FunctionKind {
    Forward,
    /// `grad.NAME` of every param (and f32 input when `inputs`), after the model's
    /// outputs when `outputs`.
    Gradients {
        inputs: bool,
        outputs: bool,
    },
}

/// A compiled graph of a model: native code is generated once per binding of the size
/// variables, on first use, and shared. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Function {
    inner: Arc<FnInner>,
}

struct FnInner {
    model: Model,
    /// The graph before optimisation: its nodes keep their source positions, so the
    /// interpreter runs it for [`Backend::Interpreter`] and to locate non-finite values.
    reference: Graph,
    engine: Engine,
}

// One per function, behind an `Arc`: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Engine {
    Jit(Program),
    Interpreter,
}

/// What a call returns on host tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    /// The outputs with their names, in the function's order (see [`Function::outputs`];
    /// gradients `grad.NAME` come after the model's outputs).
    pub tensors: Vec<(String, Tensor)>,
    /// The loss, when the model has one.
    pub loss: Option<f32>,
}

impl Outputs {
    /// The output named `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.0 == name).map(|t| &t.1)
    }

    /// The f32 data of the output named `name`, or [`Error::UnknownName`].
    pub fn f32(&self, name: &str) -> Result<&[f32], Error> {
        let names = || self.tensors.iter().map(|t| t.0.as_str());
        let i = name_index("output", names(), name)?;
        Ok(self.tensors[i].1.as_f32().unwrap_or(&[]))
    }
}

impl Function {
    pub(crate) fn build(model: Model, kind: FunctionKind) -> Result<Function, Error> {
        let mut graph = model.graph().clone();
        if let FunctionKind::Gradients { inputs, outputs } = kind {
            if !outputs {
                graph.outputs.clear();
            }
            crate::autodiff::add_gradient_outputs(&mut graph, true, inputs)?;
        }
        Function::from_graph(model, graph)
    }

    /// Wraps a graph over the model's inputs and params (and possibly more), optimising
    /// and compiling it for the model's backend.
    pub(crate) fn from_graph(model: Model, graph: Graph) -> Result<Function, Error> {
        let options = model.options().clone();
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

    /// The inputs of the function, in the order calls take them.
    pub fn inputs(&self) -> Vec<TensorSpec> {
        TensorSpec::inputs(&self.inner.reference)
    }

    /// The params of the function, in the order calls take them.
    pub fn params(&self) -> Vec<TensorSpec> {
        TensorSpec::params(&self.inner.reference)
    }

    /// The outputs, in the order calls write them (for a gradient function: the model's
    /// outputs, then `grad.NAME`).
    pub fn outputs(&self) -> Vec<TensorSpec> {
        TensorSpec::outputs(&self.inner.reference)
    }

    /// The position of the output named `name` among [`Function::outputs`] (e.g. of
    /// `grad.W1`), or [`Error::UnknownName`].
    pub fn output_index(&self, name: &str) -> Result<usize, Error> {
        name_index(
            "output",
            self.inner.reference.outputs.iter().map(|o| o.0.as_str()),
            name,
        )
    }

    /// Whether the function has a loss (returned by every call).
    pub fn has_loss(&self) -> bool {
        self.inner.reference.loss.is_some()
    }

    /// Binds the size variables from concrete input and param shapes (in order).
    pub fn sizes(&self, inputs: &[&[usize]], params: &[&[usize]]) -> Result<Bindings, Error> {
        let g = &self.inner.reference;
        count("inputs", g.inputs.len(), inputs.len())?;
        count("params", g.params.len(), params.len())?;
        Ok(crate::ir::bind_sizes(g, inputs, Some(params))?)
    }

    /// Specialises the function for concrete sizes (compiling native code on first use),
    /// refusing sizes whose buffers would exceed the memory limit ([`Error::MemoryLimit`])
    /// before anything is compiled or allocated.
    pub fn instantiate(&self, sizes: &Bindings) -> Result<Instance, Error> {
        let layout = Layout::of(&self.inner.reference, sizes)?;
        let limit = self.inner.model.options().memory_limit as u128;
        let over = |needed: u128| Error::MemoryLimit {
            needed,
            limit,
            sizes: describe(sizes),
        };
        let caller = layout.caller_bytes();
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
            layout: Arc::new(layout),
            exe,
        })
    }

    /// Binds sizes from the tensors' shapes, instantiates and runs: the convenient,
    /// copying call (outputs are fresh tensors). Params are only read.
    pub fn call_tensors(&self, inputs: &[Tensor], params: &[Tensor]) -> Result<Outputs, Error> {
        let ishapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let pshapes: Vec<&[usize]> = params.iter().map(|t| t.shape.as_slice()).collect();
        let sizes = self.sizes(&ishapes, &pshapes)?;
        let instance = self.instantiate(&sizes)?;
        let args: Vec<Arg> = inputs.iter().map(Arg::of).collect();
        let pslices = f32_slices(params, &self.inner.reference)?;
        instance.call_outputs(&mut Workspace::new(), &args, &pslices)
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

/// A function specialised for concrete sizes, called on the caller's buffers without
/// copying. Cheap to clone; `Send + Sync`: call it from several threads at once, each
/// with its own [`Workspace`].
#[derive(Clone)]
pub struct Instance {
    function: Function,
    sizes: Bindings,
    layout: Arc<Layout>,
    exe: Option<Arc<Executable>>,
}

impl Instance {
    /// The function it specialises.
    pub fn function(&self) -> &Function {
        &self.function
    }

    /// The sizes it is specialised for.
    pub fn sizes(&self) -> &Bindings {
        &self.sizes
    }

    /// The concrete shapes of the inputs, in order.
    pub fn input_shapes(&self) -> Vec<&[usize]> {
        self.layout.inputs.iter().map(|i| i.2.as_slice()).collect()
    }

    /// The concrete shapes of the params, in order.
    pub fn param_shapes(&self) -> Vec<&[usize]> {
        self.layout.params.iter().map(|p| p.1.as_slice()).collect()
    }

    /// The concrete shapes of the outputs, in order.
    pub fn output_shapes(&self) -> Vec<&[usize]> {
        self.layout.outputs.iter().map(|o| o.1.as_slice()).collect()
    }

    /// Zeroed buffers of the right length for every output, in order: pass them to
    /// [`Instance::call`] as `&mut [&mut [f32]]` (e.g. through `iter_mut().map(Vec::as_mut_slice)`).
    pub fn output_buffers(&self) -> Vec<Vec<f32>> {
        self.layout
            .outputs
            .iter()
            .map(|o| vec![0.0; o.1.iter().product()])
            .collect()
    }

    /// The native code, for inspection (`None` with the interpreter).
    pub fn executable(&self) -> Option<&Executable> {
        self.exe.as_deref()
    }

    /// Runs on the caller's buffers without copying: reads `inputs` and `params` (in
    /// order), writes `outputs`, returns the loss (when the function has one). The count,
    /// element type and length of every buffer and every label are checked before any
    /// code runs; a function that updates its params (a training step) is refused with
    /// [`Error::ParamsReadOnly`]: use [`Instance::call_mut`].
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
                if self.layout.updates {
                    return Err(Error::ParamsReadOnly);
                }
                self.interpret(inputs, params, outputs).map(|(loss, _)| loss)
            }
        }
    }

    /// Like [`Instance::call`], and applies the function's updates to `params` in place
    /// (for a training step's graph).
    pub fn call_mut(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, Error> {
        match &self.exe {
            Some(exe) => Ok(exe.run(ws, inputs, params, outputs)?),
            None => {
                let (loss, updates) = collect_with(params.iter().map(|p| &**p), <&[f32]>::default, |ps| {
                    self.interpret(inputs, ps, outputs)
                })?;
                for (i, v) in updates {
                    params[i].copy_from_slice(&v);
                }
                Ok(loss)
            }
        }
    }

    /// Runs into fresh output buffers and returns them as named tensors.
    pub fn call_outputs(&self, ws: &mut Workspace, inputs: &[Arg<'_>], params: &[&[f32]]) -> Result<Outputs, Error> {
        let mut outs = self.output_buffers();
        let loss = collect_with(outs.iter_mut().map(Vec::as_mut_slice), Default::default, |o| {
            self.call(ws, inputs, params, o)
        })?;
        let tensors = self
            .layout
            .outputs
            .iter()
            .zip(outs)
            .map(|((name, shape), data)| (name.clone(), Tensor::f32(shape.clone(), data)))
            .collect();
        Ok(Outputs { tensors, loss })
    }

    /// The reference interpreter on the caller's buffers (copied into host tensors):
    /// the loss and the new values of updated params.
    #[allow(clippy::type_complexity)]
    fn interpret(
        &self,
        inputs: &[Arg<'_>],
        params: &[&[f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<(Option<f32>, Vec<(usize, Vec<f32>)>), Error> {
        let layout = &self.layout;
        let param_lens: Vec<usize> = params.iter().map(|p| p.len()).collect();
        let output_lens: Vec<usize> = outputs.iter().map(|o| o.len()).collect();
        layout.check(inputs, &param_lens, &output_lens)?;
        let in_tensors: Vec<Tensor> = layout
            .inputs
            .iter()
            .zip(inputs)
            .map(|((_, _, shape), arg)| {
                let data = match arg {
                    Arg::F32(s) => Data::F32(s.to_vec()),
                    Arg::I32(s) => Data::I32(s.to_vec()),
                };
                Tensor {
                    shape: shape.clone(),
                    data,
                }
            })
            .collect();
        let p_tensors: Vec<Tensor> = layout
            .params
            .iter()
            .zip(params)
            .map(|((_, shape), p)| Tensor::f32(shape.clone(), p.to_vec()))
            .collect();
        let g = &self.function.inner.reference;
        let values = crate::interp::eval::<f32>(g, &self.sizes, &in_tensors, &p_tensors)?;
        for ((name, value), out) in values.outputs.iter().zip(outputs.iter_mut()) {
            let t = value.to_tensor();
            let data = t
                .as_f32()
                .ok_or_else(|| Error::Internal(format!("output {name} is not f32")))?;
            if data.len() != out.len() {
                return Err(Error::Internal(format!(
                    "output {name}: {} values for a buffer of {}",
                    data.len(),
                    out.len()
                )));
            }
            out.copy_from_slice(data);
        }
        let updates = values.updates.into_iter().map(|(i, v)| (i, v.data)).collect();
        Ok((values.loss, updates))
    }
}

fn count(what: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Call(CallError::Count { what, expected, found }))
    }
}

/// `N=64, D=16`.
pub(crate) fn describe(sizes: &Bindings) -> String {
    sizes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The params of a call on host tensors as f32 slices (params are always f32).
pub(crate) fn f32_slices<'a>(params: &'a [Tensor], g: &Graph) -> Result<Vec<&'a [f32]>, Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.as_f32().ok_or_else(|| {
                Error::Call(CallError::DType {
                    name: g.params.get(i).map(|p| p.name.clone()).unwrap_or_default(),
                    expected: DType::F32,
                    found: DType::I32,
                })
            })
        })
        .collect()
}

/// The interpreter keeps every node's value: the sum of them all.
fn interpreter_bytes(g: &Graph, sizes: &Bindings) -> Result<u128, Error> {
    let mut total = 0u128;
    for id in g.schedule() {
        let dims = super::layout::concrete("an intermediate value", g.shape(id), sizes)?;
        let elems = dims.iter().fold(1u128, |n, &d| n.saturating_mul(d as u128));
        total = total.saturating_add(elems.saturating_mul(4));
    }
    Ok(total)
}
