//! Command-line parsing (clap) and dispatch. Exit statuses (CLI.md): 0 success,
//! 1 the model, data or a file is wrong (a diagnostic was printed), 2 the command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod bench;
mod check;
mod compile;
mod init;
mod run;
mod train;

/// Exit status for a wrong model, data or file.
pub const EXIT_FAILURE: i32 = 1;

#[derive(Parser)]
#[command(
    name = "nnc",
    version,
    about = "Compile small neural-network programs (.nn) to native forward, backward and training code"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The model file and which model in it.
#[derive(Args, Clone)]
pub struct ModelArgs {
    /// The model file (.nn).
    pub model_file: PathBuf,
    /// Which model of the file, when it holds several.
    #[arg(long = "model", value_name = "NAME")]
    pub model_name: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type/shape-check a model; print only diagnostics.
    Check(check::CheckArgs),
    /// Run the whole pipeline to native code and show its stages.
    Compile(compile::CompileArgs),
    /// Evaluate a model once on given inputs.
    Run(run::RunArgs),
    /// Write freshly initialised params.
    Init(init::InitArgs),
    /// Train a model on a data set.
    Train(train::TrainArgs),
    /// Time training steps on synthetic data.
    Bench(bench::BenchArgs),
}

/// Parses the command line and runs the command; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap exits 2 for usage errors and 0 for --help/--version; keep both.
            let _ = e.print();
            return e.exit_code();
        }
    };
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Run(a) => run::run(a),
        Command::Init(a) => init::run(a),
        Command::Train(a) => train::run(a),
        Command::Bench(a) => bench::run(a),
    }
}

/// Parses `N=64,D=16` into size-variable bindings (empty string: none).
pub fn parse_sizes(s: &str) -> Result<nnc::ir::Bindings, String> {
    let mut b = nnc::ir::Bindings::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("expected NAME=VALUE, found `{part}`"))?;
        let v: usize = v.trim().parse().map_err(|_| format!("`{}` is not a size", v.trim()))?;
        b.insert(std::sync::Arc::from(k.trim()), v);
    }
    Ok(b)
}

/// `N=64, D=16`.
pub fn format_sizes(b: &nnc::ir::Bindings) -> String {
    b.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// The process's peak resident set size (Linux: `VmHWM` of /proc/self/status).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
