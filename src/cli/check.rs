//! `nnc check`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: CheckArgs) -> i32 {
    eprintln!("error: `nnc check` is not implemented yet");
    super::EXIT_FAILURE
}
