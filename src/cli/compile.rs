//! `nnc compile`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: CompileArgs) -> i32 {
    eprintln!("error: `nnc compile` is not implemented yet");
    super::EXIT_FAILURE
}
