//! `nnc bench MODEL.nn --batch B [--steps S] [--optimizer ...] [--threads T] [--json]`:
//! times training steps on synthetic data after warm-up.

use super::ModelArgs;
use clap::{Args, ValueEnum};
use nnc::api::{bench_train_step, BenchConfig};
use nnc::{Optimizer, Options};
use std::io::IsTerminal;

/// Arguments of `nnc bench`.
#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Batch size: the value of the size variable that leads each input's shape.
    #[arg(long)]
    pub batch: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Untimed warm-up steps before them.
    #[arg(long, default_value_t = 20)]
    pub warmup: usize,
    /// The optimiser whose update is part of the timed step.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// Learning rate (the peer scripts use SGD with 0.01).
    #[arg(long, default_value_t = 0.01)]
    pub lr: f64,
    /// Seed of the synthetic data and params.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Values of size variables that do not lead an input, e.g. `D=16,H=32`.
    #[arg(long, value_parser = super::parse_sizes, default_value = "")]
    pub sizes: nnc::ir::Bindings,
    #[command(flatten)]
    pub compile: super::CompileFlags,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The optimisers on the command line.
#[derive(Clone, Copy, ValueEnum)]
pub enum OptimizerKind {
    /// plain SGD
    Sgd,
    /// SGD with momentum 0.9
    Momentum,
    /// Adam with PyTorch's defaults
    Adam,
}

impl OptimizerKind {
    /// The optimiser with learning rate `lr` and default hyper-parameters.
    pub fn with_lr(self, lr: f64) -> Optimizer {
        match self {
            OptimizerKind::Sgd => Optimizer::sgd(lr),
            OptimizerKind::Momentum => Optimizer::momentum(lr),
            OptimizerKind::Adam => Optimizer::adam(lr),
        }
    }
}

/// Runs `nnc bench`; returns the exit status.
pub fn run(args: BenchArgs) -> i32 {
    let file_name = args.model.model_file.display().to_string();
    let source = match std::fs::read(&args.model.model_file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            eprintln!("error: cannot read {file_name}: {e}");
            return super::EXIT_FAILURE;
        }
    };
    // Timing measures the code users run: no verifier passes in the compile time.
    let options = Options {
        verify: false,
        ..args.compile.options()
    };
    let threads = options.resolved_threads();
    let cfg = BenchConfig {
        batch: args.batch,
        sizes: args.sizes.clone(),
        steps: args.steps.max(1),
        warmup: args.warmup,
        optimizer: args.optimizer.with_lr(args.lr),
        seed: args.seed,
    };
    let report = match bench_train_step(&source, &file_name, args.model.model_name.as_deref(), options, &cfg) {
        Ok(r) => r,
        Err(e) => {
            eprint!("{}", e.render(std::io::stderr().is_terminal()));
            return super::EXIT_FAILURE;
        }
    };
    let peak_rss_mb = super::peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0));
    if args.json {
        let sizes: serde_json::Map<String, serde_json::Value> =
            report.sizes.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
        let obj = serde_json::json!({
            "model": file_name,
            "batch": args.batch,
            "threads": threads,
            "optimizer": cfg.optimizer.name(),
            "compile_ms": report.compile_ms,
            "step_ms_median": report.step_ms_median,
            "step_ms_min": report.step_ms_min,
            "step_ms_p10": report.step_ms_p10,
            "step_ms_p90": report.step_ms_p90,
            "steps": report.steps,
            "warmup": args.warmup,
            "first_loss": report.first_loss,
            "last_loss": report.last_loss,
            "workspace_bytes": report.workspace_bytes,
            "peak_rss_mb": peak_rss_mb,
            "sizes": sizes,
        });
        println!("{obj}");
    } else {
        println!("model        {file_name} ({} step, {threads} thread(s))", cfg.optimizer);
        println!("sizes        {}", super::format_sizes(&report.sizes));
        println!(
            "compile      {:.2} ms (source text to callable native step)",
            report.compile_ms
        );
        println!(
            "step         median {:.4} ms, min {:.4} ms, p10 {:.4} ms, p90 {:.4} ms over {} steps",
            report.step_ms_median, report.step_ms_min, report.step_ms_p10, report.step_ms_p90, report.steps
        );
        println!("loss         {:.4} -> {:.4}", report.first_loss, report.last_loss);
        println!("workspace    {}", nnc::api::human_bytes(report.workspace_bytes as u128));
        if let Some(mb) = peak_rss_mb {
            println!("peak RSS     {mb:.1} MiB");
        }
    }
    0
}
