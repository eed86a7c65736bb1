//! `nnc check MODEL.nn [--model NAME]`: parse and check, print only diagnostics.
//! Also [`load`], the same front end for the commands that go on to compile a model.

use super::ModelArgs;
use clap::Args;
use nnc::diag::{self, Diagnostic, Severity};
use nnc::sema::CheckedModel;
use std::io::IsTerminal;

/// Arguments of `nnc check`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Runs `nnc check`; returns the exit status. Without `--model` every model of the file
/// is checked and none has to be chosen.
pub fn run(args: CheckArgs) -> i32 {
    let Ok(file) = read(&args.model) else {
        return super::EXIT_FAILURE;
    };
    let (models, diags) = nnc::sema::check_source(&file.source);
    file.print(&diags);
    if diags.iter().any(is_error) {
        return super::EXIT_FAILURE;
    }
    if let Some(name) = args.model.model_name.as_deref() {
        if let Err(d) = nnc::sema::select_model(models, Some(name)) {
            file.print(&[d]);
            return super::EXIT_FAILURE;
        }
    }
    0
}

/// A model file's text, read for checking.
pub struct SourceFile {
    /// The path as the user gave it, for diagnostics.
    pub file_name: String,
    /// The text; invalid UTF-8 is replaced by U+FFFD, which the lexer reports.
    pub source: String,
}

impl SourceFile {
    /// Prints diagnostics about this file to stderr, in colour when it is a terminal.
    pub fn print(&self, diags: &[Diagnostic]) {
        if !diags.is_empty() {
            let color = std::io::stderr().is_terminal();
            eprint!("{}", diag::render(diags, &self.file_name, &self.source, color));
        }
    }
}

/// Reads the model file; prints a message naming it when it cannot be read.
fn read(args: &ModelArgs) -> Result<SourceFile, ()> {
    let file_name = args.model_file.display().to_string();
    match std::fs::read(&args.model_file) {
        Ok(bytes) => Ok(SourceFile {
            file_name,
            source: String::from_utf8_lossy(&bytes).into_owned(),
        }),
        Err(e) => {
            eprintln!("error: cannot read {file_name}: {e}");
            Err(())
        }
    }
}

/// Reads, checks and selects the model for the commands that compile one (`compile`,
/// `run`, `init`, `train`, `bench`), printing any diagnostics. `Err` holds the exit status.
#[allow(dead_code)] // used by the other commands as they land
pub fn load(args: &ModelArgs) -> Result<(SourceFile, CheckedModel), i32> {
    let file = read(args).map_err(|()| super::EXIT_FAILURE)?;
    let (models, diags) = nnc::sema::check_source(&file.source);
    file.print(&diags);
    if diags.iter().any(is_error) {
        return Err(super::EXIT_FAILURE);
    }
    match nnc::sema::select_model(models, args.model_name.as_deref()) {
        Ok(model) => Ok((file, model)),
        Err(d) => {
            file.print(&[d]);
            Err(super::EXIT_FAILURE)
        }
    }
}

fn is_error(d: &Diagnostic) -> bool {
    d.severity == Severity::Error
}
