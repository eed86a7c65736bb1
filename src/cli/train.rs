//! `nnc train`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: TrainArgs) -> i32 {
    eprintln!("error: `nnc train` is not implemented yet");
    super::EXIT_FAILURE
}
