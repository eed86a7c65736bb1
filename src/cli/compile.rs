//! `nnc compile MODEL.nn [--emit KIND]... [--stats] [--sizes N=64,...]`: runs the whole
//! pipeline to native code and shows its stages. The emission itself is the API's
//! (`Model::emit_for`); this only prints.

use super::{fail, CompileFlags, ModelArgs};
use clap::Args;
use nnc::api::{EmitKind, Target};
use nnc::{Error, Model};

/// Arguments of `nnc compile`.
#[derive(Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Show a stage (repeatable, or comma-separated): ir (forward graph), grad
    /// (differentiated graph), opt (optimised graph), clif (Cranelift IR), dot (Graphviz of
    /// forward and backward), grad-nn (the gradient computation as a .nn model), kernels
    /// (the fused kernel schedule).
    #[arg(long, value_name = "KIND", value_delimiter = ',', value_parser = parse_kind)]
    pub emit: Vec<EmitKind>,
    /// Print counts of the compiled code: nodes, kernels, FLOPs and bytes of buffers.
    #[arg(long)]
    pub stats: bool,
    /// Sizes to compile native code for (opt, clif, kernels, --stats), e.g. `N=64`;
    /// every size variable not given is 1.
    #[arg(long, value_name = "N=64,...", value_parser = super::parse_sizes, default_value = "")]
    pub sizes: nnc::ir::Bindings,
    /// Compile (and show) the forward function only; by default a model with a loss is
    /// compiled with its gradients.
    #[arg(long, conflicts_with = "grad_inputs")]
    pub forward: bool,
    /// Include the gradients of the f32 inputs.
    #[arg(long)]
    pub grad_inputs: bool,
    #[command(flatten)]
    pub compile: CompileFlags,
}

fn parse_kind(s: &str) -> Result<EmitKind, String> {
    EmitKind::parse(s).ok_or_else(|| {
        let kinds: Vec<&str> = EmitKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown kind `{s}` (the kinds are {})", kinds.join(", "))
    })
}

/// Runs `nnc compile`; returns the exit status.
pub fn run(args: CompileArgs) -> i32 {
    match compile(&args) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn compile(args: &CompileArgs) -> Result<(), Error> {
    let mut options = args.compile.options();
    // Compiling shows native code: the interpreter flag changes nothing here.
    options.backend = nnc::Backend::Jit;
    let model = Model::from_file(&args.model.model_file, args.model.model_name.as_deref(), options)?;
    let sizes = model.sizes_or(&args.sizes, 1)?;
    let target = match (args.forward, args.grad_inputs) {
        (true, _) => Target::Forward,
        (false, true) => Target::Gradients { inputs: true },
        (false, false) => model.default_target(),
    };
    let mut out = String::new();
    for kind in &args.emit {
        let text = model.emit_for(*kind, target, &sizes)?;
        if args.emit.len() > 1 || args.stats {
            out += &format!("// ==== {kind} ====\n");
        }
        out += &text;
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    print!("{out}");
    out.clear();
    // Without --emit the whole pipeline runs to native code; asking for graph stages
    // only stops after them.
    if !(args.stats || args.emit.is_empty() || args.emit.iter().any(|k| k.is_native())) {
        return Ok(());
    }
    let stats = model.stats(target, &sizes)?;
    let at = if sizes.is_empty() {
        String::new()
    } else {
        format!(" at {}", super::format_sizes(&sizes))
    };
    if args.stats {
        if !args.emit.is_empty() {
            out += "// ==== stats ====\n";
        }
        out += &format!("model {}: {target}{at}\n{stats}", model.name());
    } else if args.emit.is_empty() {
        out += &format!(
            "compiled model {}: {target}{at}, {} kernels\n",
            model.name(),
            stats.kernels
        );
    }
    print!("{out}");
    Ok(())
}
