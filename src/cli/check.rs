//! `nnc check MODEL.nn [--model NAME]`: parse and check, print only diagnostics.

use super::ModelArgs;
use clap::Args;
use nnc::diag::{self, Diagnostic, Severity};
use std::io::IsTerminal;

/// Arguments of `nnc check`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Runs `nnc check`; returns the exit status.
pub fn run(args: CheckArgs) -> i32 {
    let path = &args.model.model_file;
    let file_name = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {file_name}: {e}");
            return super::EXIT_FAILURE;
        }
    };
    // Invalid UTF-8 becomes U+FFFD, which the lexer reports with its position.
    let source = String::from_utf8_lossy(&bytes);
    let (models, mut diags) = nnc::sema::check_source(&source);
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    if !failed {
        if let Some(name) = args.model.model_name.as_deref() {
            if let Err(d) = nnc::sema::select_model(models, Some(name)) {
                diags.push(d);
            }
        }
    }
    print(&diags, &file_name, &source);
    if diags.iter().any(|d: &Diagnostic| d.severity == Severity::Error) {
        super::EXIT_FAILURE
    } else {
        0
    }
}

fn print(diags: &[Diagnostic], file_name: &str, source: &str) {
    if diags.is_empty() {
        return;
    }
    let color = std::io::stderr().is_terminal();
    eprint!("{}", diag::render(diags, file_name, source, color));
}
