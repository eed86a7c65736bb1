//! Checkpoints: a safetensors file with the params by name, the optimiser state by its
//! names (`adam.m.W1`, `momentum.v.W1`, ...) and, in `__metadata__`, everything needed to
//! continue exactly where training stopped.
//!
//! | metadata key | value |
//! |---|---|
//! | `format` | `nnc.checkpoint` ([`crate::io::CHECKPOINT_FORMAT`]) |
//! | `format_version` | `1` |
//! | `model`, `model_hash` | the model's name; `sha256:` + hex of its forward graph's IR text ([`model_hash`]) |
//! | `optimizer`, `lr`, `momentum` / `beta1`, `beta2`, `eps` | the optimiser and its hyper-parameters |
//! | `epoch` | epochs completed |
//! | `step` | optimiser steps taken (`t` of the last step; Adam's bias correction continues from it) |
//! | `epoch_examples`, `epoch_loss_sum` | progress inside an interrupted epoch (0 after a whole epoch) |
//! | `seed`, `batch` | the shuffle seed and batch size, the defaults of a resumed run |
//! | `history` | a JSON array of the finished epochs' records (the `--log` lines) |
//!
//! Numbers are written with Rust's shortest round-tripping formatting, so they read back
//! bit for bit. Because optimiser-state names contain a `.` and param names cannot, any
//! params loader ([`crate::io::load_params`]) reads a checkpoint as a plain params file.

use super::error::FitError;
use super::report::EpochReport;
use crate::api::Model;
use crate::io::{self, CHECKPOINT_FORMAT};
use crate::tensor::Tensor;
use crate::train::Optimizer;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The version of the metadata layout this code writes and reads.
pub const FORMAT_VERSION: &str = "1";

/// Where training stands: what a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    /// Epochs completed.
    pub epoch: u64,
    /// Optimiser steps taken.
    pub step: u64,
    /// Examples of epoch `epoch + 1` already trained (after a stop inside an epoch).
    pub epoch_examples: usize,
    /// Sum over those examples' batches of loss × batch size.
    pub epoch_loss_sum: f64,
}

impl Position {
    /// The start of training.
    pub fn start() -> Position {
        Position {
            epoch: 0,
            step: 0,
            epoch_examples: 0,
            epoch_loss_sum: 0.0,
        }
    }
}

/// The metadata of a checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointMeta {
    /// The model's name.
    pub model: String,
    /// [`model_hash`] of the model.
    pub model_hash: String,
    /// The optimiser with its hyper-parameters.
    pub optimizer: Optimizer,
    /// Where training stands.
    pub position: Position,
    /// The shuffle seed.
    pub seed: u64,
    /// The batch size.
    pub batch: usize,
    /// The finished epochs.
    pub history: Vec<EpochReport>,
}

/// A checkpoint read from a file.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: CheckpointMeta,
    /// Params and optimiser state, by name.
    pub tensors: BTreeMap<String, Tensor>,
}

/// Identifies a model's structure: `sha256:` and the hex SHA-256 of the IR text of its
/// forward graph (name, inputs, params, shapes and operations; not comments, layout or
/// initialisers), so a checkpoint is never applied to a model it was not trained for.
pub fn model_hash(model: &Model) -> String {
    let text = crate::ir::print(model.graph(), model.name(), &|_| None);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Whether the file at `path` is a checkpoint (rather than a plain params file).
pub fn is_checkpoint_file(path: &Path) -> Result<bool, FitError> {
    Ok(io::read_metadata(path)?.get("format").map(String::as_str) == Some(CHECKPOINT_FORMAT))
}

impl Checkpoint {
    /// Reads a checkpoint; a file that is not one, or has malformed metadata, is refused.
    pub fn read(path: impl AsRef<Path>) -> Result<Checkpoint, FitError> {
        let path = path.as_ref();
        let meta = io::read_metadata(path)?;
        let meta = parse_meta(&meta).map_err(|reason| FitError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        })?;
        let tensors = io::read_tensors(path)?;
        Ok(Checkpoint {
            path: path.to_path_buf(),
            meta,
            tensors,
        })
    }

    /// Writes a checkpoint atomically: `tensors` are the params and optimiser state by name.
    pub fn write(path: impl AsRef<Path>, meta: &CheckpointMeta, tensors: &[(&str, &Tensor)]) -> Result<(), FitError> {
        io::write_tensors_with_metadata(path, tensors, &format_meta(meta))?;
        Ok(())
    }
}

fn format_meta(m: &CheckpointMeta) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_string(), v);
    };
    put("format", CHECKPOINT_FORMAT.into());
    put("format_version", FORMAT_VERSION.into());
    put("model", m.model.clone());
    put("model_hash", m.model_hash.clone());
    put("optimizer", m.optimizer.name().into());
    match m.optimizer {
        Optimizer::Sgd { lr } => put("lr", lr.to_string()),
        Optimizer::Momentum { lr, momentum } => {
            put("lr", lr.to_string());
            put("momentum", momentum.to_string());
        }
        Optimizer::Adam { lr, beta1, beta2, eps } => {
            put("lr", lr.to_string());
            put("beta1", beta1.to_string());
            put("beta2", beta2.to_string());
            put("eps", eps.to_string());
        }
    }
    put("epoch", m.position.epoch.to_string());
    put("step", m.position.step.to_string());
    put("epoch_examples", m.position.epoch_examples.to_string());
    put("epoch_loss_sum", m.position.epoch_loss_sum.to_string());
    put("seed", m.seed.to_string());
    put("batch", m.batch.to_string());
    let history: Vec<serde_json::Value> = m.history.iter().map(EpochReport::to_json).collect();
    put("history", serde_json::Value::Array(history).to_string());
    out
}

fn parse_meta(m: &BTreeMap<String, String>) -> Result<CheckpointMeta, String> {
    let get = |k: &str| m.get(k).ok_or_else(|| format!("its metadata lacks `{k}`"));
    if m.get("format").map(String::as_str) != Some(CHECKPOINT_FORMAT) {
        return Err(format!(
            "not a checkpoint (its metadata has no `format: {CHECKPOINT_FORMAT}`; a plain params file is read with --params only to start training)"
        ));
    }
    let version = get("format_version")?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "checkpoint format version {version}, but this nnc reads version {FORMAT_VERSION}"
        ));
    }
    fn num<T: FromStr>(m: &BTreeMap<String, String>, k: &str) -> Result<T, String> {
        let v = m.get(k).ok_or_else(|| format!("its metadata lacks `{k}`"))?;
        v.parse()
            .map_err(|_| format!("metadata `{k}` = `{v}` is not a valid number"))
    }
    let lr = num(m, "lr")?;
    let optimizer = match get("optimizer")?.as_str() {
        "sgd" => Optimizer::Sgd { lr },
        "momentum" => Optimizer::Momentum {
            lr,
            momentum: num(m, "momentum")?,
        },
        "adam" => Optimizer::Adam {
            lr,
            beta1: num(m, "beta1")?,
            beta2: num(m, "beta2")?,
            eps: num(m, "eps")?,
        },
        other => return Err(format!("unknown optimizer `{other}` in its metadata")),
    };
    let history = match m.get("history") {
        None => Vec::new(),
        Some(text) => {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|e| format!("metadata `history` is not JSON: {e}"))?;
            v.as_array()
                .ok_or("metadata `history` is not a JSON array")?
                .iter()
                .map(|e| EpochReport::from_json(e).ok_or("metadata `history` has a malformed epoch record"))
                .collect::<Result<_, _>>()?
        }
    };
    Ok(CheckpointMeta {
        model: get("model")?.clone(),
        model_hash: get("model_hash")?.clone(),
        optimizer,
        position: Position {
            epoch: num(m, "epoch")?,
            step: num(m, "step")?,
            epoch_examples: num(m, "epoch_examples")?,
            epoch_loss_sum: num(m, "epoch_loss_sum")?,
        },
        seed: num(m, "seed")?,
        batch: num(m, "batch")?,
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_exactly() {
        let meta = CheckpointMeta {
            model: "m".into(),
            model_hash: "sha256:00".into(),
            optimizer: Optimizer::Adam {
                lr: 0.1 + 0.2,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            position: Position {
                epoch: 3,
                step: 17,
                epoch_examples: 5,
                epoch_loss_sum: 1.0 / 3.0,
            },
            seed: u64::MAX,
            batch: 4,
            history: vec![EpochReport {
                epoch: 1,
                step: 3,
                train_loss: 0.7,
                eval: None,
                seconds: 0.5,
                examples_per_second: 20.0,
            }],
        };
        assert_eq!(parse_meta(&format_meta(&meta)), Ok(meta));
    }

    #[test]
    fn plain_metadata_is_not_a_checkpoint() {
        let err = parse_meta(&BTreeMap::new()).unwrap_err();
        assert!(err.contains("not a checkpoint"), "{err}");
    }
}
