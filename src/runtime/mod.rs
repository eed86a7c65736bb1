//! Owns compiled code and buffers; checks every shape and label before native code runs.
//!
//! The safe entry points are [`Executable::run`], [`Executable::run_ref`],
//! [`Executable::run_tensors`] and [`Program::run_tensors`]. Before native code runs they
//! check the number, element type and length of every buffer against the bindings the
//! code was specialised for, and every i32 label a one-hot reads against its class
//! count. Together with the bounds check every kernel passed when it was scheduled (each
//! access provably inside its buffer for those lengths), no input can make the native
//! code read or write out of bounds.

mod error;
mod stats;

pub use crate::opt::schedule::OptLevel;
pub use error::RuntimeError;
pub use stats::Stats;

use crate::codegen::{self, CodegenOptions, NativeCode};
use crate::ir::CallError;
use crate::ir::{self, Bindings, DType, Graph, Op};
use crate::opt::memplan::{self, MemPlan};
use crate::opt::schedule::{self, Schedule, Storage};
use crate::tensor::{Data, Tensor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How to compile.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Options {
    /// Fusion on (`O1`) or off (`O0`: one kernel per node).
    pub opt_level: OptLevel,
    /// Threads for large matrix products; 1 makes every result bit-for-bit reproducible.
    pub threads: usize,
    /// Run Cranelift's IR verifier on the generated code.
    pub verify: bool,
    /// Keep the Cranelift IR text (see [`Executable::clif`]).
    pub keep_clif: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            opt_level: OptLevel::O1,
            threads: 1,
            verify: cfg!(debug_assertions),
            keep_clif: false,
        }
    }
}

/// One input buffer: f32 data or i32 labels.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// f32 elements.
    F32(&'a [f32]),
    /// i32 elements (labels).
    I32(&'a [i32]),
}

impl<'a> Arg<'a> {
    fn ptr(&self) -> *mut u8 {
        match self {
            Arg::F32(s) => s.as_ptr() as *mut u8,
            Arg::I32(s) => s.as_ptr() as *mut u8,
        }
    }
    fn len(&self) -> usize {
        match self {
            Arg::F32(s) => s.len(),
            Arg::I32(s) => s.len(),
        }
    }
    fn dtype(&self) -> DType {
        match self {
            Arg::F32(_) => DType::F32,
            Arg::I32(_) => DType::I32,
        }
    }

    /// The data of a host tensor.
    pub fn of(t: &'a Tensor) -> Arg<'a> {
        match &t.data {
            Data::F32(v) => Arg::F32(v),
            Data::I32(v) => Arg::I32(v),
        }
    }
}

/// Scratch memory for the temps of a call: one per thread that runs executables. It
/// grows to the largest plan it is used with and is reused across calls.
#[derive(Default)]
pub struct Workspace {
    lines: Vec<Line>,
}

/// 64-byte aligned storage unit of a workspace.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Its current size in bytes.
    pub fn bytes(&self) -> usize {
        self.lines.len() * 64
    }

    fn ensure(&mut self, bytes: usize) -> *mut u8 {
        let lines = bytes.div_ceil(64);
        if self.lines.len() < lines {
            self.lines.resize(lines, Line([0; 64]));
        }
        self.lines.as_mut_ptr() as *mut u8
    }
}

/// Names and facts about the graph the checks need.
struct Signature {
    inputs: Vec<(String, DType)>,
    params: Vec<String>,
    outputs: Vec<String>,
    has_loss: bool,
    /// `(input index, classes)` of every one-hot of a live graph input.
    labels: Vec<(usize, usize)>,
    /// Whether any kernel writes a param (the graph has updates).
    writes_params: bool,
    /// Concrete shapes of inputs, params and outputs.
    input_shapes: Vec<Vec<usize>>,
    param_shapes: Vec<Vec<usize>>,
    output_shapes: Vec<Vec<usize>>,
}

/// A graph compiled for one binding of its size variables.
///
/// `Executable` is `Send + Sync`: its native code is immutable after compilation and
/// keeps no state between calls (see [`NativeCode`]); every call gets its own workspace
/// and output buffers through `&mut` borrows, so concurrent calls share nothing mutable.
pub struct Executable {
    code: NativeCode,
    schedule: Schedule,
    plan: MemPlan,
    sig: Signature,
    stats: Stats,
}

impl Executable {
    /// Compiles `graph` (no `Op::Grad` left) for `bindings`.
    pub fn compile(graph: &Graph, bindings: &Bindings, opts: &Options) -> Result<Executable, RuntimeError> {
        Self::build(graph, bindings, opts, false)
    }

    /// [`Executable::compile`], with a timestamp taken after every kernel (see
    /// [`Executable::profile`]).
    pub fn compile_profiled(graph: &Graph, bindings: &Bindings, opts: &Options) -> Result<Executable, RuntimeError> {
        Self::build(graph, bindings, opts, true)
    }

    fn build(graph: &Graph, bindings: &Bindings, opts: &Options, profile: bool) -> Result<Executable, RuntimeError> {
        ir::verify(graph, ir::Expect { grads_expanded: true }).map_err(RuntimeError::Verify)?;
        let schedule = schedule::schedule(graph, bindings, opts.opt_level)?;
        let plan = memplan::plan(&schedule);
        let copts = CodegenOptions {
            threads: opts.threads.max(1),
            verify: opts.verify,
            keep_clif: opts.keep_clif,
            profile,
        };
        let code = codegen::compile(&schedule, &plan, &copts)?;
        let sig = signature(graph, bindings, &schedule)?;
        let stats = Stats::of(&schedule, &plan);
        Ok(Executable {
            code,
            schedule,
            plan,
            sig,
            stats,
        })
    }

    /// Seconds spent in each kernel during the calls this thread made since the last
    /// `profile` (zeros unless made by [`Executable::compile_profiled`]), summed over calls.
    pub fn profile(&self) -> Vec<f64> {
        let mut t = vec![0.0; self.schedule.kernels.len()];
        let mut last = None;
        for (k, at) in crate::kernels::profile::take_ticks() {
            if let (Some(prev), Some(slot)) = (last, t.get_mut(k)) {
                *slot += at.duration_since(prev).as_secs_f64();
            }
            last = Some(at);
        }
        t
    }

    /// Counts for `--stats`.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The Cranelift IR of every function, when compiled with `keep_clif`.
    pub fn clif(&self) -> Option<&str> {
        self.code.clif()
    }

    /// The kernels (for inspection and tests).
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The bindings the code is specialised for.
    pub fn bindings(&self) -> &Bindings {
        &self.schedule.bindings
    }

    /// Workspace bytes one call needs.
    pub fn workspace_bytes(&self) -> usize {
        self.plan.workspace_bytes
    }

    /// Concrete shapes of the outputs, in declaration order.
    pub fn output_shapes(&self) -> &[Vec<usize>] {
        &self.sig.output_shapes
    }

    /// Runs one step: reads `inputs` and `params`, writes `outputs` (declaration order)
    /// and applies the graph's updates to `params` in place. Returns the loss, if the
    /// graph has one.
    pub fn run(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &mut [&mut [f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, RuntimeError> {
        let ptrs: Vec<*mut u8> = params.iter_mut().map(|p| p.as_mut_ptr() as *mut u8).collect();
        let lens: Vec<usize> = params.iter().map(|p| p.len()).collect();
        self.call(ws, inputs, &ptrs, &lens, outputs)
    }

    /// Runs a graph without updates: `params` are only read.
    pub fn run_ref(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &[&[f32]],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, RuntimeError> {
        if self.sig.writes_params {
            return Err(RuntimeError::ParamsReadOnly);
        }
        // Never written: the schedule has no kernel storing to a param buffer.
        let ptrs: Vec<*mut u8> = params.iter().map(|p| p.as_ptr() as *mut u8).collect();
        let lens: Vec<usize> = params.iter().map(|p| p.len()).collect();
        self.call(ws, inputs, &ptrs, &lens, outputs)
    }

    /// Runs on host tensors (shapes checked exactly), returning fresh output tensors and
    /// the loss; updates are applied to `params`.
    pub fn run_tensors(&self, inputs: &[Tensor], params: &mut [Tensor]) -> Result<Results, RuntimeError> {
        let args: Vec<Arg> = inputs.iter().map(Arg::of).collect();
        for (i, t) in inputs.iter().enumerate() {
            if let Some(want) = self.sig.input_shapes.get(i) {
                check_shape(&self.sig.inputs[i].0, want, &t.shape)?;
            }
        }
        for (i, t) in params.iter().enumerate() {
            if let Some(want) = self.sig.param_shapes.get(i) {
                check_shape(&self.sig.params[i], want, &t.shape)?;
            }
        }
        let mut pslices: Vec<&mut [f32]> = Vec::with_capacity(params.len());
        for (i, p) in params.iter_mut().enumerate() {
            match &mut p.data {
                Data::F32(v) => pslices.push(v.as_mut_slice()),
                Data::I32(_) => {
                    return Err(RuntimeError::Call(CallError::DType {
                        name: self.sig.params.get(i).cloned().unwrap_or_default(),
                        expected: DType::F32,
                        found: DType::I32,
                    }))
                }
            }
        }
        let mut outs: Vec<Vec<f32>> = self
            .sig
            .output_shapes
            .iter()
            .map(|s| vec![0.0; s.iter().product()])
            .collect();
        let mut oslices: Vec<&mut [f32]> = outs.iter_mut().map(|v| v.as_mut_slice()).collect();
        let mut ws = Workspace::new();
        let loss = self.run(&mut ws, &args, &mut pslices, &mut oslices)?;
        let outputs = outs
            .into_iter()
            .zip(&self.sig.output_shapes)
            .map(|(v, s)| Tensor::f32(s.clone(), v))
            .collect();
        Ok(Results { outputs, loss })
    }

    /// Checks everything, then calls the native code.
    fn call(
        &self,
        ws: &mut Workspace,
        inputs: &[Arg<'_>],
        params: &[*mut u8],
        param_lens: &[usize],
        outputs: &mut [&mut [f32]],
    ) -> Result<Option<f32>, RuntimeError> {
        self.check(inputs, param_lens, outputs)?;
        let mut loss = 0.0f32;
        let mut args: Vec<*mut u8> = Vec::with_capacity(codegen::slots(&self.schedule));
        args.extend(inputs.iter().map(Arg::ptr));
        args.extend_from_slice(params);
        args.extend(outputs.iter_mut().map(|o| o.as_mut_ptr() as *mut u8));
        if self.sig.has_loss {
            args.push(&mut loss as *mut f32 as *mut u8);
        }
        let wsp = ws.ensure(self.plan.workspace_bytes);
        // SAFETY: `check` verified one buffer per slot with the exact length and element
        // type of the schedule's caller buffers, and every label in range; the schedule
        // proved each kernel's accesses inside those lengths. Outputs and params are
        // distinct `&mut` borrows (they cannot alias each other or the inputs), and the
        // loss is a local. The workspace has at least the plan's bytes, 64-byte aligned.
        unsafe { self.code.call(args.as_ptr(), wsp) };
        Ok(self.sig.has_loss.then_some(loss))
    }

    fn check(&self, inputs: &[Arg<'_>], params: &[usize], outputs: &[&mut [f32]]) -> Result<(), RuntimeError> {
        let sig = &self.sig;
        let count = |what: &'static str, expected: usize, found: usize| {
            if expected == found {
                Ok(())
            } else {
                Err(RuntimeError::Call(CallError::Count { what, expected, found }))
            }
        };
        count("inputs", sig.inputs.len(), inputs.len())?;
        count("params", sig.params.len(), params.len())?;
        count("outputs", sig.outputs.len(), outputs.len())?;
        let len_of = |s: Storage| {
            self.schedule
                .caller_buffer(s)
                .map(|b| self.schedule.buffers[b.0].len)
                .unwrap_or(0)
        };
        let length = |name: &str, expected: usize, found: usize| {
            if expected == found {
                Ok(())
            } else {
                Err(RuntimeError::Call(CallError::Length {
                    name: name.to_string(),
                    expected,
                    found,
                }))
            }
        };
        for (i, a) in inputs.iter().enumerate() {
            let (name, dtype) = &sig.inputs[i];
            if a.dtype() != *dtype {
                return Err(RuntimeError::Call(CallError::DType {
                    name: name.clone(),
                    expected: *dtype,
                    found: a.dtype(),
                }));
            }
            length(name, len_of(Storage::Input(i)), a.len())?;
        }
        for (i, &l) in params.iter().enumerate() {
            length(&sig.params[i], len_of(Storage::Param(i)), l)?;
        }
        for (i, o) in outputs.iter().enumerate() {
            length(&sig.outputs[i], len_of(Storage::Output(i)), o.len())?;
        }
        for &(i, classes) in &sig.labels {
            if let Arg::I32(labels) = inputs[i] {
                if let Some((pos, &v)) = labels.iter().enumerate().find(|(_, &v)| v < 0 || v as usize >= classes) {
                    return Err(RuntimeError::Call(CallError::Label {
                        name: sig.inputs[i].0.clone(),
                        index: pos,
                        value: v,
                        classes,
                    }));
                }
            }
        }
        Ok(())
    }
}

fn check_shape(name: &str, want: &[usize], found: &[usize]) -> Result<(), RuntimeError> {
    if want == found {
        Ok(())
    } else {
        Err(RuntimeError::Call(CallError::Shape {
            name: name.to_string(),
            expected: want.to_vec(),
            found: found.to_vec(),
        }))
    }
}

fn signature(g: &Graph, b: &Bindings, s: &Schedule) -> Result<Signature, RuntimeError> {
    let eval = |sh: &ir::Shape| sh.eval(b).map_err(|e| RuntimeError::Schedule(e.into()));
    let mut labels = Vec::new();
    for n in g.schedule() {
        if let Op::OneHot { classes } = &g.node(n).op {
            let classes = classes.eval(b).map_err(|e| RuntimeError::Schedule(e.into()))?;
            if let Op::Input(i) = g.node(g.args(n)[0]).op {
                labels.push((i, classes));
            }
        }
    }
    let writes_params = s.kernels.iter().any(|k| {
        k.writes()
            .iter()
            .any(|w| matches!(s.buffers[w.0].storage, Storage::Param(_)))
    });
    Ok(Signature {
        inputs: g.inputs.iter().map(|d| (d.name.clone(), d.ty.dtype)).collect(),
        params: g.params.iter().map(|d| d.name.clone()).collect(),
        outputs: g.outputs.iter().map(|o| o.0.clone()).collect(),
        has_loss: g.loss.is_some(),
        labels,
        writes_params,
        input_shapes: g.inputs.iter().map(|d| eval(&d.ty.shape)).collect::<Result<_, _>>()?,
        param_shapes: g.params.iter().map(|d| eval(&d.shape)).collect::<Result<_, _>>()?,
        output_shapes: g
            .outputs
            .iter()
            .map(|o| eval(&g.node(o.1).ty.shape))
            .collect::<Result<_, _>>()?,
    })
}

/// What a call on host tensors returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// The outputs, in declaration order.
    pub outputs: Vec<Tensor>,
    /// The loss, if the graph has one.
    pub loss: Option<f32>,
}

/// A graph with compile options, compiled on demand once per binding of its size
/// variables (the cache is shared by all threads).
pub struct Program {
    graph: Graph,
    opts: Options,
    cache: Mutex<HashMap<Bindings, Arc<Executable>>>,
}

impl Program {
    /// Wraps a graph (no `Op::Grad` left; checked by the verifier).
    pub fn new(graph: Graph, opts: Options) -> Result<Program, RuntimeError> {
        ir::verify(&graph, ir::Expect { grads_expanded: true }).map_err(RuntimeError::Verify)?;
        Ok(Program {
            graph,
            opts,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The executable for `bindings`, compiled on first use.
    pub fn executable(&self, bindings: &Bindings) -> Result<Arc<Executable>, RuntimeError> {
        if let Some(e) = self.lock().get(bindings) {
            return Ok(e.clone());
        }
        // Compile outside the lock: another thread may compile the same binding
        // meanwhile; the first one stored wins and both are correct.
        let exe = Arc::new(Executable::compile(&self.graph, bindings, &self.opts)?);
        Ok(self.lock().entry(bindings.clone()).or_insert(exe).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Bindings, Arc<Executable>>> {
        // A panic while holding the lock cannot leave the map inconsistent (inserts are
        // atomic), so a poisoned lock is still usable.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of executables compiled so far.
    pub fn cached(&self) -> usize {
        self.lock().len()
    }

    /// Binds the size variables from the shapes of the inputs and params.
    pub fn bind(&self, inputs: &[&[usize]], params: &[&[usize]]) -> Result<Bindings, RuntimeError> {
        if inputs.len() != self.graph.inputs.len() {
            return Err(RuntimeError::Call(CallError::Count {
                what: "inputs",
                expected: self.graph.inputs.len(),
                found: inputs.len(),
            }));
        }
        if params.len() != self.graph.params.len() {
            return Err(RuntimeError::Call(CallError::Count {
                what: "params",
                expected: self.graph.params.len(),
                found: params.len(),
            }));
        }
        ir::bind_sizes(&self.graph, inputs, Some(params)).map_err(RuntimeError::Bind)
    }

    /// Binds sizes from the tensors' shapes, compiles if needed and runs (see
    /// [`Executable::run_tensors`]).
    pub fn run_tensors(&self, inputs: &[Tensor], params: &mut [Tensor]) -> Result<Results, RuntimeError> {
        let ishapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let pshapes: Vec<&[usize]> = params.iter().map(|t| t.shape.as_slice()).collect();
        let b = self.bind(&ishapes, &pshapes)?;
        self.executable(&b)?.run_tensors(inputs, params)
    }
}

/// Schedules and compiles `graph` for `bindings` and returns its statistics and, when
/// `opts.keep_clif`, the Cranelift IR text (for `nnc compile --stats --emit clif`).
pub fn inspect(graph: &Graph, bindings: &Bindings, opts: &Options) -> Result<(Stats, Option<String>), RuntimeError> {
    let exe = Executable::compile(graph, bindings, opts)?;
    Ok((exe.stats.clone(), exe.clif().map(str::to_string)))
}
