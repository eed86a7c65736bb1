//! `nnc bench`.

use super::ModelArgs;
use clap::Args;

#[derive(Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArgs,
}

pub fn run(_args: BenchArgs) -> i32 {
    eprintln!("error: `nnc bench` is not implemented yet");
    super::EXIT_FAILURE
}
