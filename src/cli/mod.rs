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

/// How to compile and run a model: shared by `run`, `compile`, `train` and `bench`.
#[derive(Args, Clone, Debug)]
pub struct CompileFlags {
    /// Optimisation level: -O1 (default) fuses operations into kernels and runs the graph
    /// passes; -O0 compiles one kernel per operation, for debugging.
    #[arg(short = 'O', value_name = "LEVEL", default_value = "1", value_parser = parse_opt_level)]
    pub opt_level: nnc::OptLevel,
    /// Worker threads for large matrix products (default: all cores); with 1, every
    /// result is bit-for-bit reproducible.
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Evaluate with the reference interpreter instead of native code (slow; a check).
    #[arg(long)]
    pub interp: bool,
    /// Refuse to instantiate a model whose buffers exceed this many bytes; suffixes K, M,
    /// G, T are powers of 1024 (512M, 4G). Default 4G.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub memory_limit: Option<u64>,
}

impl CompileFlags {
    /// The API's options for these flags.
    pub fn options(&self) -> nnc::Options {
        let defaults = nnc::Options::default();
        nnc::Options {
            opt_level: self.opt_level,
            threads: self.threads.unwrap_or(defaults.threads),
            backend: if self.interp {
                nnc::Backend::Interpreter
            } else {
                nnc::Backend::Jit
            },
            memory_limit: self.memory_limit.unwrap_or(defaults.memory_limit),
            ..defaults
        }
    }
}

fn parse_opt_level(s: &str) -> Result<nnc::OptLevel, String> {
    match s {
        "0" => Ok(nnc::OptLevel::O0),
        "1" => Ok(nnc::OptLevel::O1),
        _ => Err("the optimisation levels are 0 and 1 (-O0, -O1)".into()),
    }
}

/// `4096`, `512K`, `512M`, `4G`, `1T` (powers of 1024; a trailing `B` or `iB` is allowed).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown suffix `{c}` in `{s}`: use K, M, G or T")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a byte count like 4096, 512M or 4G"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Prints an API error to stderr (in colour on a terminal) and returns exit status 1.
pub fn fail(e: &nnc::Error) -> i32 {
    use std::io::IsTerminal;
    eprint!("{}", e.render(std::io::stderr().is_terminal()));
    EXIT_FAILURE
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
