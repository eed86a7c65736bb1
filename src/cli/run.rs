//! `nnc run`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: RunArgs) -> i32 {
    eprintln!("error: `nnc run` is not implemented yet");
    super::EXIT_FAILURE
}
