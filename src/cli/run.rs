//! `nnc run MODEL.nn --inputs I.safetensors [--params P.safetensors] [--grad] [--out O]`:
//! evaluates a model once through the public API and writes or summarises the results.

use super::{fail, CompileFlags, ModelArgs};
use clap::Args;
use nnc::{Error, Function, Model, Outputs, Tensor};
use std::path::PathBuf;

/// Arguments of `nnc run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// The model's inputs, one tensor per input name; they bind the size variables.
    /// Required unless the model has no inputs.
    #[arg(long, value_name = "I.safetensors")]
    pub inputs: Option<PathBuf>,
    /// The params (default: freshly initialised from --seed).
    #[arg(long, value_name = "P.safetensors")]
    pub params: Option<PathBuf>,
    /// Seed of the param initialisers when --params is not given.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Also compute `grad.NAME`, the gradient of the loss, for every param.
    #[arg(long)]
    pub grad: bool,
    /// Also compute `grad.NAME` for every f32 input (implies --grad).
    #[arg(long)]
    pub grad_inputs: bool,
    /// Write every output, `loss` (a scalar) and the gradients to this safetensors file
    /// (atomically; nothing is written on an error). Without it, print a summary.
    #[arg(long, value_name = "O.safetensors")]
    pub out: Option<PathBuf>,
    /// If any output, the loss or a gradient is NaN or infinite, name the operation and
    /// source line that first produced one, and fail.
    #[arg(long)]
    pub check_finite: bool,
    #[command(flatten)]
    pub compile: CompileFlags,
}

/// Runs `nnc run`; returns the exit status.
pub fn run(args: RunArgs) -> i32 {
    match evaluate(&args) {
        // Whether --inputs is needed depends on the model, so clap cannot check it: a
        // missing one is still a command-line error (exit 2).
        Err(Error::Usage(msg)) if msg.starts_with(MISSING_INPUTS) => {
            eprintln!("error: {msg}");
            2
        }
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn evaluate(args: &RunArgs) -> Result<(), Error> {
    let model = Model::from_file(
        &args.model.model_file,
        args.model.model_name.as_deref(),
        args.compile.options(),
    )?;
    let loaded = match &args.inputs {
        Some(inputs) => nnc::io::load_run(model.graph(), inputs, args.params.as_deref())?,
        None if model.inputs().is_empty() => nnc::io::load_params_only(model.graph(), args.params.as_deref())?,
        None => {
            let names: Vec<String> = model.inputs().into_iter().map(|i| i.name).collect();
            return Err(Error::Usage(format!(
                "{MISSING_INPUTS}: the model has inputs {}",
                names.join(", ")
            )));
        }
    };
    // `--grad` on an inference-only model still gives its outputs: conformance scripts pass
    // `--grad` to every model, and an absent gradient is what "no loss" means.
    let wants_gradients = args.grad || args.grad_inputs;
    if wants_gradients && !model.has_loss() {
        eprintln!(
            "note: model `{}` has no loss, so no gradients are written",
            model.name()
        );
    }
    let function = if wants_gradients && model.has_loss() {
        model.gradients(args.grad_inputs)?
    } else {
        model.forward()?
    };
    // The memory limit before the params are allocated: an inputs file can bind a size
    // variable that makes a param of many gigabytes.
    if model
        .size_vars()
        .iter()
        .all(|v| loaded.bindings.contains_key(v.as_str()))
    {
        function.instantiate(&loaded.bindings)?;
    }
    let params = match loaded.params {
        Some(p) => p,
        None => model.init_params(&loaded.bindings, args.seed)?,
    };
    let out = function.call_tensors(&loaded.inputs, &params)?;
    if args.check_finite {
        check_finite(&function, &out, &loaded.inputs, &params)?;
    }
    match &args.out {
        Some(path) => {
            let loss = out.loss.map(|l| Tensor::f32(Vec::new(), vec![l]));
            let mut named: Vec<(&str, &Tensor)> = out.tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
            if let Some(l) = &loss {
                named.push(("loss", l));
            }
            nnc::io::write_tensors(path, &named)?;
        }
        None => print!("{}", summary(&model, &loaded.bindings, &out)),
    }
    Ok(())
}

const MISSING_INPUTS: &str = "--inputs is required";

/// Fails with the first operation that produced a NaN or infinity, if any result has one.
fn check_finite(function: &Function, out: &Outputs, inputs: &[Tensor], params: &[Tensor]) -> Result<(), Error> {
    let bad_tensor = out
        .tensors
        .iter()
        .find(|(_, t)| t.as_f32().is_some_and(|d| d.iter().any(|x| !x.is_finite())))
        .map(|(n, _)| n.clone());
    let bad = bad_tensor.or_else(|| out.loss.filter(|l| !l.is_finite()).map(|_| "loss".to_string()));
    let Some(name) = bad else {
        return Ok(());
    };
    match function.locate_non_finite(inputs, params)? {
        Some(at) => Err(Error::NonFinite(at)),
        None => Err(Error::Usage(format!(
            "`{name}` has a non-finite value, but the reference interpreter computes none \
             (the native code differs from it: compare with --interp)"
        ))),
    }
}

/// A few lines per result: shape, statistics and the first values; gradient norms.
fn summary(model: &Model, sizes: &nnc::ir::Bindings, out: &Outputs) -> String {
    let mut s = String::new();
    s += &format!("model {}", model.name());
    if !sizes.is_empty() {
        s += &format!(" ({})", super::format_sizes(sizes));
    }
    s.push('\n');
    let width = out.tensors.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max(4);
    for (name, t) in &out.tensors {
        let data = t.as_f32().unwrap_or(&[]);
        let shape = format!("{:?}", t.shape);
        let line = if name.starts_with("grad.") {
            let norm = data.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt();
            format!("{name:width$}  {shape:12}  norm {}  {}", num(norm), stats(data))
        } else {
            format!("{name:width$}  {shape:12}  {}", stats(data))
        };
        s += line.trim_end();
        s.push('\n');
    }
    if let Some(l) = out.loss {
        s += &format!("{:width$}  {:12}  {}\n", "loss", "[]", num(l as f64));
    }
    s
}

/// `min .. max .. mean .. [first values]`, and the count of non-finite values.
fn stats(data: &[f32]) -> String {
    const SHOWN: usize = 6;
    let finite: Vec<f64> = data.iter().filter(|x| x.is_finite()).map(|&x| x as f64).collect();
    let mut parts = Vec::new();
    if !finite.is_empty() && data.len() > 1 {
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        parts.push(format!("min {}  max {}  mean {}", num(min), num(max), num(mean)));
    }
    let bad = data.len() - finite.len();
    if bad > 0 {
        parts.push(format!("{bad} non-finite"));
    }
    let first: Vec<String> = data.iter().take(SHOWN).map(|&x| num(x as f64)).collect();
    let more = if data.len() > SHOWN { ", ..." } else { "" };
    parts.push(format!("[{}{more}]", first.join(", ")));
    parts.join("  ")
}

/// Up to four decimals, or four significant digits in exponent form for very large or
/// small values.
fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-3..1e5).contains(&x.abs()) {
        let s = format!("{x:.4}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}
