//! `nnc init`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: InitArgs) -> i32 {
    eprintln!("error: `nnc init` is not implemented yet");
    super::EXIT_FAILURE
}
