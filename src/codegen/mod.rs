//! IR to native code with Cranelift. The only module that imports cranelift-*.
//!
//! One compiled graph is one [`NativeCode`]: a JIT module holding one function per kernel
//! of the schedule and an entry function that calls them in order, with the fixed ABI
//!
//! ```text
//! extern "C" fn(args: *const *mut u8, workspace: *mut u8)
//! ```
//!
//! `args[i]` is the base address of caller buffer `i` of the schedule (inputs, params,
//! outputs, then the loss, in declaration order: `Schedule::buffers[..slots]`), and
//! `workspace` holds the temps at the offsets of the memory plan.
//!
//! The lowering of each primitive is in two exhaustive tables: which kernel form an op
//! takes (`opt::schedule`), and the machine operations of each elementwise function
//! (`ops.rs`, one `match` over `Unary` and one over `Binary`). Transcendentals are
//! polynomial code emitted inline (`math.rs`), vectorised like everything else.

mod loops;
mod math;
mod ops;
mod stream;

use crate::opt::memplan::MemPlan;
use crate::opt::schedule::{BufferId, Kernel, KernelKind, MatMulKernel, Schedule, Storage};
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, UserFuncName, Value};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use std::collections::HashMap;
use std::fmt;

/// Code generation settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodegenOptions {
    /// Threads a matrix product may use (1: deterministic, single-threaded).
    pub threads: usize,
    /// Run Cranelift's IR verifier on every function (slower compiles; on in tests).
    pub verify: bool,
    /// Keep the Cranelift IR text of every function (for `--emit clif`).
    pub keep_clif: bool,
    /// Call `kernels::profile::nnc_tick` before the first and after every kernel.
    pub profile: bool,
}

impl Default for CodegenOptions {
    fn default() -> Self {
        CodegenOptions {
            threads: 1,
            verify: cfg!(debug_assertions),
            keep_clif: false,
            profile: false,
        }
    }
}

/// Why code generation failed. Always a compiler bug or a resource problem, never a
/// property of the user's model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodegenError(pub String);

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "code generation failed: {}", self.0)
    }
}

impl std::error::Error for CodegenError {}

fn err(e: impl fmt::Display) -> CodegenError {
    CodegenError(e.to_string())
}

/// The signature of the entry function.
pub type EntryFn = unsafe extern "C" fn(args: *const *mut u8, workspace: *mut u8);

/// Compiled code of one schedule. Owns its JIT memory and frees it on drop.
pub struct NativeCode {
    module: Option<JITModule>,
    entry: EntryFn,
    clif: Option<String>,
}

// SAFETY: after `finalize_definitions` the module's code is immutable, and the module is
// touched again only by `Drop` (which needs `&mut self`, so no call can be running). The
// generated code keeps no state between calls: it reads and writes only the buffers and
// workspace passed to each call. So sharing it between threads is sound; callers give each
// concurrent call its own workspace and output buffers.
unsafe impl Send for NativeCode {}
// SAFETY: see `Send`; `&NativeCode` only allows calling the immutable code.
unsafe impl Sync for NativeCode {}

impl NativeCode {
    /// Runs the compiled graph.
    ///
    /// # Safety
    /// `args` must hold one pointer per caller buffer of the schedule, each valid for that
    /// buffer's length (reads, and writes for params, outputs and the loss), outputs not
    /// overlapping anything else; `workspace` must be valid for the plan's bytes and
    /// 64-byte aligned; every i32 label a one-hot reads must lie in `[0, classes)`.
    pub unsafe fn call(&self, args: *const *mut u8, workspace: *mut u8) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.entry)(args, workspace) }
    }

    /// The Cranelift IR of every function, if kept.
    pub fn clif(&self) -> Option<&str> {
        self.clif.as_deref()
    }
}

impl Drop for NativeCode {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: `&mut self` means no call into the code is running, and the entry
            // pointer dies with `self`.
            unsafe { m.free_memory() };
        }
    }
}

/// Number of caller buffers (the ABI's slots) at the front of `s.buffers`.
pub fn slots(s: &Schedule) -> usize {
    s.buffers.iter().take_while(|b| b.storage != Storage::Temp).count()
}

/// Compiles a schedule with its memory plan.
pub fn compile(s: &Schedule, plan: &MemPlan, opts: &CodegenOptions) -> Result<NativeCode, CodegenError> {
    // Step 1: an ISA for this host (features detected at run time), with our settings.
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(err)?;
    flags
        .set("enable_verifier", if opts.verify { "true" } else { "false" })
        .map_err(err)?;
    flags.set("use_colocated_libcalls", "false").map_err(err)?;
    flags.set("is_pic", "false").map_err(err)?;
    let isa = cranelift_native::builder()
        .map_err(err)?
        .finish(settings::Flags::new(flags))
        .map_err(err)?;
    // Step 2: a module that resolves every host routine JIT code may call.
    let mut jb = JITBuilder::with_isa(isa, default_libcall_names());
    for (name, ptr) in crate::kernels::symbols() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    // Step 3: one function per kernel, then the entry calling them in order.
    let mut g = Gen {
        module: &mut module,
        ctx: None,
        fctx: FunctionBuilderContext::new(),
        s,
        plan,
        opts,
        clif: String::new(),
        hosts: HashMap::new(),
    };
    let mut ids = Vec::new();
    for (i, k) in s.kernels.iter().enumerate() {
        ids.push(g.kernel(i, k)?);
    }
    let entry = g.entry(&ids)?;
    let clif = opts.keep_clif.then(|| std::mem::take(&mut g.clif));
    // Step 4: link and make the code executable.
    module.finalize_definitions().map_err(err)?;
    let ptr = module.get_finalized_function(entry);
    // SAFETY: `entry` was defined with exactly the signature of `EntryFn`.
    let entry = unsafe { std::mem::transmute::<*const u8, EntryFn>(ptr) };
    Ok(NativeCode {
        module: Some(module),
        entry,
        clif,
    })
}

/// The Cranelift IR text of every function of a schedule (compiled and then discarded).
pub fn clif_text(s: &Schedule, plan: &MemPlan, opts: &CodegenOptions) -> Result<String, CodegenError> {
    let opts = CodegenOptions {
        keep_clif: true,
        ..opts.clone()
    };
    let mut code = compile(s, plan, &opts)?;
    Ok(code.clif.take().unwrap_or_default())
}

struct Gen<'a> {
    module: &'a mut JITModule,
    ctx: Option<Context>,
    fctx: FunctionBuilderContext,
    s: &'a Schedule,
    plan: &'a MemPlan,
    opts: &'a CodegenOptions,
    clif: String,
    hosts: HashMap<&'static str, FuncId>,
}

/// A host routine's signature: `params` integer (pointer-sized) then `floats` f32
/// parameters in the given order, `ret_f32` whether it returns an f32.
pub(crate) struct HostSig {
    pub params: &'static [types::Type],
    pub ret_f32: bool,
}

/// The host routines JIT code calls, with their signatures.
pub(crate) fn host_sig(name: &str) -> HostSig {
    const I: types::Type = types::I64;
    const F: types::Type = types::F32;
    match name {
        "nnc_matmul" => HostSig {
            params: &[I, I, I, I, I, I, I, I, I, I, I, I, types::I32, F, I],
            ret_f32: false,
        },
        "nnc_tick" => HostSig {
            params: &[I],
            ret_f32: false,
        },
        "nnc_powf" => HostSig {
            params: &[F, F],
            ret_f32: true,
        },
        _ => HostSig {
            params: &[F],
            ret_f32: true,
        },
    }
}

impl Gen<'_> {
    fn kernel_signature(&self) -> cranelift_codegen::ir::Signature {
        let mut sig = self.module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        sig
    }

    fn host(&mut self, name: &'static str) -> Result<FuncId, CodegenError> {
        if let Some(&id) = self.hosts.get(name) {
            return Ok(id);
        }
        let hs = host_sig(name);
        let mut sig = self.module.make_signature();
        for &t in hs.params {
            sig.params.push(AbiParam::new(t));
        }
        if hs.ret_f32 {
            sig.returns.push(AbiParam::new(types::F32));
        }
        let id = self.module.declare_function(name, Linkage::Import, &sig).map_err(err)?;
        self.hosts.insert(name, id);
        Ok(id)
    }

    fn define(&mut self, name: &str, id: FuncId, mut ctx: Context) -> Result<(), CodegenError> {
        if self.opts.keep_clif {
            self.clif.push_str(&format!("; {name}\n{}\n", ctx.func.display()));
        }
        self.module.define_function(id, &mut ctx).map_err(|e| match e {
            cranelift_module::ModuleError::Compilation(c) => CodegenError(format!("{name}: {c:?}")),
            e => err(e),
        })?;
        self.module.clear_context(&mut ctx);
        self.ctx = Some(ctx);
        Ok(())
    }

    fn fresh_context(&mut self) -> Context {
        self.ctx.take().unwrap_or_else(|| self.module.make_context())
    }

    fn kernel(&mut self, i: usize, k: &Kernel) -> Result<FuncId, CodegenError> {
        let name = format!("k{i}");
        let sig = self.kernel_signature();
        let id = self.module.declare_function(&name, Linkage::Local, &sig).map_err(err)?;
        // Host routines this kernel may call, declared before the builder borrows the context.
        let mut needed: Vec<&'static str> = Vec::new();
        match &k.kind {
            KernelKind::MatMul(_) => needed.push("nnc_matmul"),
            KernelKind::Loop(l) => needed.extend(loops::host_calls(l)),
        }
        let mut host_ids = HashMap::new();
        for h in needed {
            host_ids.insert(h, self.host(h)?);
        }
        let mut ctx = self.fresh_context();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let mut host_refs = HashMap::new();
        for (h, hid) in host_ids {
            host_refs.insert(h, self.module.declare_func_in_func(hid, &mut ctx.func));
        }
        let mut fctx = std::mem::replace(&mut self.fctx, FunctionBuilderContext::new());
        let result = (|| {
            let mut fb = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = fb.create_block();
            fb.append_block_params_for_function_params(block);
            fb.switch_to_block(block);
            fb.seal_block(block);
            let (args, ws) = (fb.block_params(block)[0], fb.block_params(block)[1]);
            let bases = self.bases(&mut fb, k, args, ws);
            match &k.kind {
                KernelKind::MatMul(m) => self.matmul(&mut fb, m, &bases, host_refs["nnc_matmul"]),
                KernelKind::Loop(l) => loops::emit(&mut fb, l, &bases, &host_refs)?,
            }
            fb.ins().return_(&[]);
            fb.finalize(self.module.target_config());
            Ok::<(), CodegenError>(())
        })();
        self.fctx = fctx;
        result?;
        self.define(&name, id, ctx)?;
        Ok(id)
    }

    /// Base addresses of every buffer the kernel touches, computed once at entry.
    fn bases(&self, fb: &mut FunctionBuilder, k: &Kernel, args: Value, ws: Value) -> HashMap<BufferId, Value> {
        let mut bases = HashMap::new();
        let slots = slots(self.s);
        let flags = MemFlagsData::trusted().with_readonly();
        for b in k.reads().into_iter().chain(k.writes()) {
            if bases.contains_key(&b) {
                continue;
            }
            let v = if b.0 < slots {
                fb.ins().load(types::I64, flags, args, (8 * b.0) as i32)
            } else {
                let off = self.plan.offsets[b.0].unwrap_or(0);
                fb.ins().iadd_imm_s(ws, off as i64)
            };
            bases.insert(b, v);
        }
        bases
    }

    fn matmul(
        &self,
        fb: &mut FunctionBuilder,
        m: &MatMulKernel,
        bases: &HashMap<BufferId, Value>,
        f: cranelift_codegen::ir::FuncRef,
    ) {
        let i = |fb: &mut FunctionBuilder, x: i64| fb.ins().iconst(types::I64, x);
        let ptr = |fb: &mut FunctionBuilder, b: BufferId, off: usize| fb.ins().iadd_imm_s(bases[&b], 4 * off as i64);
        let args = [
            i(fb, m.m as i64),
            i(fb, m.k as i64),
            i(fb, m.n as i64),
            ptr(fb, m.a.buf, m.a.offset),
            i(fb, m.a.rs as i64),
            i(fb, m.a.cs as i64),
            ptr(fb, m.b.buf, m.b.offset),
            i(fb, m.b.rs as i64),
            i(fb, m.b.cs as i64),
            ptr(fb, m.c.buf, m.c.offset),
            i(fb, m.c.rs as i64),
            i(fb, m.c.cs as i64),
            fb.ins().iconst(types::I32, m.accumulate as i64),
            fb.ins().f32const(m.scale),
            i(fb, self.opts.threads.max(1) as i64),
        ];
        fb.ins().call(f, &args);
    }

    fn entry(&mut self, kernels: &[FuncId]) -> Result<FuncId, CodegenError> {
        let sig = self.kernel_signature();
        let id = self
            .module
            .declare_function("nnc_entry", Linkage::Local, &sig)
            .map_err(err)?;
        let tick = if self.opts.profile {
            Some(self.host("nnc_tick")?)
        } else {
            None
        };
        let mut ctx = self.fresh_context();
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let tick = tick.map(|t| self.module.declare_func_in_func(t, &mut ctx.func));
        let refs: Vec<_> = kernels
            .iter()
            .map(|&k| self.module.declare_func_in_func(k, &mut ctx.func))
            .collect();
        {
            let mut fb = FunctionBuilder::new(&mut ctx.func, &mut self.fctx);
            let block = fb.create_block();
            fb.append_block_params_for_function_params(block);
            fb.switch_to_block(block);
            fb.seal_block(block);
            let (args, ws) = (fb.block_params(block)[0], fb.block_params(block)[1]);
            let mark = |fb: &mut FunctionBuilder, k: i64| {
                if let Some(t) = tick {
                    let v = fb.ins().iconst(types::I64, k);
                    fb.ins().call(t, &[v]);
                }
            };
            mark(&mut fb, -1);
            for (i, r) in refs.into_iter().enumerate() {
                fb.ins().call(r, &[args, ws]);
                mark(&mut fb, i as i64);
            }
            fb.ins().return_(&[]);
            fb.finalize(self.module.target_config());
        }
        self.define("nnc_entry", id, ctx)?;
        Ok(id)
    }
}
