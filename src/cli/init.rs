//! `nnc init MODEL.nn [--model NAME] [--seed S] [--sizes N=64,...] --out P.safetensors`:
//! writes freshly initialised params.

use super::{fail, ModelArgs};
use clap::Args;
use nnc::io::IoError;
use nnc::{Error, Model, Options};
use std::path::PathBuf;

/// Arguments of `nnc init`.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Seed of the random initialisers; the same seed gives the same params.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Values of the size variables that param shapes use, e.g. `H=256,K=3`.
    #[arg(long, value_name = "N=64,...", value_parser = super::parse_sizes, default_value = "")]
    pub sizes: nnc::ir::Bindings,
    /// Where to write the params (atomically).
    #[arg(long, value_name = "P.safetensors")]
    pub out: PathBuf,
}

/// Runs `nnc init`; returns the exit status.
pub fn run(args: InitArgs) -> i32 {
    match init(&args) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn init(args: &InitArgs) -> Result<(), Error> {
    let model = Model::from_file(
        &args.model.model_file,
        args.model.model_name.as_deref(),
        Options::default(),
    )?;
    // Variables the params do not use need no value: bind the given ones, nothing else.
    let mut sizes = model.sizes_or(&args.sizes, 1)?;
    sizes.retain(|k, _| args.sizes.contains_key(k));
    let params = model.init_params(&sizes, args.seed).map_err(|e| match e {
        Error::Io(IoError::Unbound { name, var }) => Error::Usage(format!(
            "param `{name}` has a shape with the size variable {var}: give its value with --sizes {var}=..."
        )),
        e => e,
    })?;
    model.save_params(&args.out, &params)
}
