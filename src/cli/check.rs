//! `nnc check MODEL.nn [--model NAME]`: parse and check, print only diagnostics.

use super::ModelArgs;
use clap::Args;
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
    let color = std::io::stderr().is_terminal();
    match nnc::check_file(&args.model.model_file, args.model.model_name.as_deref()) {
        Ok(checked) => {
            eprint!("{}", checked.diagnostics.render(color));
            if checked.has_errors() {
                super::EXIT_FAILURE
            } else {
                0
            }
        }
        Err(e) => super::fail(&e),
    }
}
