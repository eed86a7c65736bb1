//! [`Trainer`]: the training loop over the public API.
//!
//! One epoch: the examples in the order of [`epoch_permutation`], cut into mini-batches
//! of `batch` examples (the last one holds the rest and is used); each batch is gathered
//! into a preallocated buffer and one native call runs forward, loss, backward and the
//! optimiser update in place. A compiled step is specialised per batch size, so the last
//! partial batch has its own (compiled once). Then the evaluation, the checkpoint, the
//! log line and the plot.

use super::checkpoint::{model_hash, Checkpoint, CheckpointMeta, Position};
use super::config::FitConfig;
use super::error::FitError;
use super::eval::Evaluator;
use super::report::{EpochReport, EpochStart, EvalReport, Observer, StepInfo};
use super::shuffle::epoch_permutation;
use crate::api::{Error, Model, TrainInstance, TrainStep};
use crate::io::{Dataset, LineLog};
use crate::ir::Bindings;
use crate::runtime::{Arg, Workspace};
use crate::tensor::{Data, Tensor};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A compiled step for one batch size and its batch buffers.
struct Slot {
    size: usize,
    instance: TrainInstance,
    buffers: Vec<Tensor>,
}

/// How a call to [`Trainer::fit`] ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOutcome {
    /// The stop flag was raised: training stopped after a step, possibly inside an epoch.
    pub stopped: bool,
    /// The checkpoint file written last, if any.
    pub saved: Option<PathBuf>,
    /// Where training stands now.
    pub position: Position,
}

/// Trains one model on one data set: params, optimiser state, position and history.
pub struct Trainer {
    model: Model,
    step: TrainStep,
    config: FitConfig,
    sizes: Bindings,
    params: Vec<Tensor>,
    opt_state: Vec<Tensor>,
    position: Position,
    history: Vec<EpochReport>,
    slots: Vec<Slot>,
    evaluator: Option<Evaluator>,
    ws: Workspace,
    perm: Vec<usize>,
    /// Copies of params and state before the current step, for `check_finite`.
    backup: Vec<Vec<f32>>,
    log: Option<LineLog>,
    /// The position the last checkpoint recorded.
    saved_at: Option<(u64, usize)>,
}

impl Trainer {
    /// A trainer with params initialised from `config.seed` and zero optimiser state,
    /// for data shaped like `train` (its tensors in the model's input order).
    pub fn new(model: &Model, config: FitConfig, train: &Dataset) -> Result<Trainer, FitError> {
        check_config(model, &config, train)?;
        let sizes = batch_sizes(model, train, config.batch)?;
        let step = model.train_step(config.optimizer)?;
        let params = model.init_params(&sizes, config.seed)?;
        let opt_state = step.init_state(&sizes)?;
        let log = config.log.as_ref().map(LineLog::new);
        Ok(Trainer {
            model: model.clone(),
            step,
            config,
            sizes,
            params,
            opt_state,
            position: Position::start(),
            history: Vec::new(),
            slots: Vec::new(),
            evaluator: None,
            ws: Workspace::new(),
            perm: Vec::new(),
            backup: Vec::new(),
            log,
            saved_at: None,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The configuration.
    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    /// The params, in the model's declaration order.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The optimiser state, in [`TrainStep::state`] order.
    pub fn optimizer_state(&self) -> &[Tensor] {
        &self.opt_state
    }

    /// Where training stands.
    pub fn position(&self) -> &Position {
        &self.position
    }

    /// The finished epochs (including those of a restored checkpoint).
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// Replaces the params with those of a params file (or of a checkpoint's params:
    /// optimiser state, position and history stay fresh).
    pub fn load_params(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), FitError> {
        self.params = self.model.load_params(path, &self.sizes)?;
        Ok(())
    }

    /// Continues from a checkpoint: params, optimiser state, position and history. A
    /// checkpoint of another model or another optimiser is refused; hyper-parameters may
    /// differ (this trainer's are used from now on).
    pub fn restore(&mut self, ckpt: &Checkpoint) -> Result<(), FitError> {
        let fail = |reason: String| FitError::Checkpoint {
            path: ckpt.path.clone(),
            reason,
        };
        let meta = &ckpt.meta;
        let hash = model_hash(&self.model);
        if meta.model_hash != hash {
            let which = if meta.model == self.model.name() {
                format!("a different version of model `{}`", meta.model)
            } else {
                format!("model `{}`", meta.model)
            };
            return Err(fail(format!(
                "it was saved for {which} ({}), not for model `{}` ({hash}); \
                 their inputs, params or operations differ",
                meta.model_hash,
                self.model.name()
            )));
        }
        let (theirs, ours) = (meta.optimizer.name(), self.config.optimizer.name());
        if theirs != ours {
            return Err(fail(format!(
                "it holds {theirs} optimiser state, but this run uses {ours}; continue with \
                 `--optimizer {theirs}`, or use only its params with `--fresh-optimizer`"
            )));
        }
        let names: Vec<String> = self.model.params().into_iter().map(|s| s.name).collect();
        let state_names: Vec<String> = self.step.state().into_iter().map(|s| s.name).collect();
        let params = take_tensors(ckpt, &names, &self.params).map_err(fail)?;
        let state = take_tensors(ckpt, &state_names, &self.opt_state).map_err(fail)?;
        if let Some(extra) = ckpt
            .tensors
            .keys()
            .find(|k| !names.contains(k) && !state_names.contains(k))
        {
            return Err(fail(format!(
                "it has a tensor `{extra}` that is neither a param nor {ours} state"
            )));
        }
        self.params = params;
        self.opt_state = state;
        self.position = meta.position.clone();
        self.history = meta.history.clone();
        let lines: Vec<String> = self.history.iter().map(|r| r.to_json().to_string()).collect();
        self.log = self.config.log.as_ref().map(|p| LineLog::with_lines(p, &lines));
        self.saved_at = None;
        Ok(())
    }

    /// The checkpoint metadata of the current position.
    pub fn checkpoint_meta(&self) -> CheckpointMeta {
        CheckpointMeta {
            model: self.model.name().to_string(),
            model_hash: model_hash(&self.model),
            optimizer: self.config.optimizer,
            position: self.position.clone(),
            seed: self.config.seed,
            batch: self.config.batch,
            history: self.history.clone(),
        }
    }

    /// Writes a checkpoint of the current position to `path`, atomically.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), FitError> {
        let pnames = self.model.params();
        let snames = self.step.state();
        let named: Vec<(&str, &Tensor)> = pnames
            .iter()
            .map(|s| s.name.as_str())
            .zip(&self.params)
            .chain(snames.iter().map(|s| s.name.as_str()).zip(&self.opt_state))
            .collect();
        Checkpoint::write(path, &self.checkpoint_meta(), &named)
    }

    /// Evaluates the current params on `data`.
    pub fn evaluate(&mut self, data: &Dataset) -> Result<EvalReport, FitError> {
        if self.evaluator.is_none() {
            self.evaluator = Some(Evaluator::new(&self.model, self.config.eval_chunk)?);
        }
        match self.evaluator.as_mut() {
            Some(e) => e.evaluate(data, &self.params),
            None => Err(FitError::Config("no evaluator".into())),
        }
    }

    /// Trains `config.epochs` epochs (finishing an interrupted one first), evaluating on
    /// `eval` and writing the checkpoint, log and plot after each. When `stop` is raised
    /// the current step finishes, the checkpoint is written, and `fit` returns with
    /// `stopped` set.
    pub fn fit(
        &mut self,
        train: &Dataset,
        eval: Option<&Dataset>,
        observer: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<FitOutcome, FitError> {
        check_config(&self.model, &self.config, train)?;
        let last_epoch = self.position.epoch + self.config.epochs;
        let mut stopped = false;
        while self.position.epoch < last_epoch {
            let started = Instant::now();
            let (complete, examples, train_seconds) = self.train_epoch(train, last_epoch, observer, stop)?;
            if !complete {
                stopped = true;
                break;
            }
            let report = self.finish_epoch(train, eval, observer, started, examples, train_seconds)?;
            observer.epoch_finished(&report);
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
        }
        let saved = self.save_if_needed()?;
        Ok(FitOutcome {
            stopped,
            saved,
            position: self.position.clone(),
        })
    }

    /// Trains the rest of the current epoch. Returns whether it completed (not stopped),
    /// the examples trained and the seconds spent in steps.
    fn train_epoch(
        &mut self,
        data: &Dataset,
        last_epoch: u64,
        observer: &mut dyn Observer,
        stop: &AtomicBool,
    ) -> Result<(bool, usize, f64), FitError> {
        let n = data.len();
        let batch = self.config.batch;
        let start = self.position.epoch_examples.min(n);
        epoch_permutation(n, self.config.seed, self.position.epoch, &mut self.perm);
        self.prepare_slots(data, n - start)?;
        let steps = n.div_ceil(batch);
        let steps_done = start.div_ceil(batch);
        let epoch = self.position.epoch + 1;
        observer.epoch_started(&EpochStart {
            epoch,
            last_epoch,
            steps,
            steps_done,
        });
        let Trainer {
            step,
            config,
            params,
            opt_state,
            position,
            slots,
            ws,
            perm,
            backup,
            ..
        } = self;
        let clock = Instant::now();
        let mut trained = 0usize;
        let mut failed = None;
        let mut p = f32_slices_mut(params);
        let mut s = f32_slices_mut(opt_state);
        for (done, indices) in (steps_done + 1..).zip(perm[start..].chunks(batch)) {
            if stop.load(Ordering::Relaxed) {
                return Ok((false, trained, clock.elapsed().as_secs_f64()));
            }
            let Some(k) = slots.iter().position(|s| s.size == indices.len()) else {
                return Err(FitError::Config(format!(
                    "no compiled step for {} examples",
                    indices.len()
                )));
            };
            let slot = &mut slots[k];
            data.gather(indices, &mut slot.buffers)?;
            let t = position.step + 1;
            if config.check_finite {
                copy_into(backup, &p, &s);
            }
            let loss = {
                let args: Vec<Arg<'_>> = slot.buffers.iter().map(Arg::of).collect();
                slot.instance.step(ws, t, &args, &mut p, &mut s)?
            };
            if config.check_finite && !all_finite(loss, &p, &s) {
                copy_back(backup, &mut p, &mut s);
                failed = Some((k, t, loss));
                break;
            }
            position.step = t;
            position.epoch_examples += indices.len();
            position.epoch_loss_sum += loss as f64 * indices.len() as f64;
            trained += indices.len();
            let secs = clock.elapsed().as_secs_f64();
            observer.step(&StepInfo {
                epoch,
                steps_done: done,
                steps,
                loss,
                mean_loss: position.epoch_loss_sum / position.epoch_examples as f64,
                examples_per_second: trained as f64 / secs.max(1e-9),
            });
        }
        drop((p, s));
        if let Some((k, t, loss)) = failed {
            return Err(locate(step, &slots[k].buffers, t, params, opt_state, loss));
        }
        Ok((true, trained, clock.elapsed().as_secs_f64()))
    }

    /// Evaluation, history, checkpoint, log and plot after a completed epoch.
    fn finish_epoch(
        &mut self,
        train: &Dataset,
        eval: Option<&Dataset>,
        observer: &mut dyn Observer,
        started: Instant,
        examples: usize,
        train_seconds: f64,
    ) -> Result<EpochReport, FitError> {
        let train_loss = self.position.epoch_loss_sum / train.len() as f64;
        self.position.epoch += 1;
        self.position.epoch_examples = 0;
        self.position.epoch_loss_sum = 0.0;
        let eval = match eval {
            Some(d) => {
                observer.evaluating(self.position.epoch);
                Some(self.evaluate(d)?)
            }
            None => None,
        };
        let report = EpochReport {
            epoch: self.position.epoch,
            step: self.position.step,
            train_loss,
            eval,
            seconds: started.elapsed().as_secs_f64(),
            examples_per_second: examples as f64 / train_seconds.max(1e-9),
        };
        self.history.push(report.clone());
        self.save_if_needed()?;
        if let Some(log) = self.log.as_mut() {
            log.append(&report.to_json().to_string())?;
        }
        if let Some(p) = &self.config.plot {
            let title = format!(
                "{}: {} lr {}, batch {}",
                self.model.name(),
                self.config.optimizer.name(),
                self.config.optimizer.lr(),
                self.config.batch
            );
            super::plot::write_svg(p, &title, &self.history)?;
        }
        Ok(report)
    }

    /// Writes the checkpoint unless the last one already holds this position.
    fn save_if_needed(&mut self) -> Result<Option<PathBuf>, FitError> {
        let Some(path) = self.config.save.clone() else {
            return Ok(None);
        };
        let here = (self.position.step, self.position.epoch_examples);
        if self.saved_at != Some(here) {
            self.save(&path)?;
            self.saved_at = Some(here);
        }
        Ok(Some(path))
    }

    /// Compiles the step for the batch sizes the rest of the epoch needs: full batches
    /// and, when the count does not divide, the last partial one.
    fn prepare_slots(&mut self, data: &Dataset, remaining: usize) -> Result<(), FitError> {
        let batch = self.config.batch;
        let mut needed = Vec::new();
        if remaining >= batch {
            needed.push(batch);
        }
        if !remaining.is_multiple_of(batch) {
            needed.push(remaining % batch);
        }
        for size in needed {
            if self.slots.iter().any(|s| s.size == size) {
                continue;
            }
            let sizes = batch_sizes(&self.model, data, size)?;
            self.slots.push(Slot {
                size,
                instance: self.step.instantiate(&sizes)?,
                buffers: data.batch_buffers(size),
            });
        }
        Ok(())
    }
}

fn check_config(model: &Model, config: &FitConfig, train: &Dataset) -> Result<(), FitError> {
    if config.batch == 0 {
        return Err(FitError::Config("the batch size must be at least 1".into()));
    }
    if train.is_empty() {
        return Err(FitError::Config("the training data has no examples".into()));
    }
    if train.tensors.len() != model.inputs().len() {
        return Err(FitError::Config(format!(
            "the data set has {} tensors but model `{}` has {} inputs",
            train.tensors.len(),
            model.name(),
            model.inputs().len()
        )));
    }
    Ok(())
}

/// The size-variable bindings for a batch of `batch` examples of `data`.
fn batch_sizes(model: &Model, data: &Dataset, batch: usize) -> Result<Bindings, FitError> {
    let shapes: Vec<Vec<usize>> = (0..data.tensors.len())
        .map(|i| {
            let mut s = vec![batch];
            s.extend_from_slice(data.example_shape(i));
            s
        })
        .collect();
    let refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    Ok(model.sizes_from_shapes(&refs, None)?)
}

/// The tensors `names` of a checkpoint, each shaped like its counterpart in `like`.
fn take_tensors(ckpt: &Checkpoint, names: &[String], like: &[Tensor]) -> Result<Vec<Tensor>, String> {
    names
        .iter()
        .zip(like)
        .map(|(name, want)| {
            let t = ckpt
                .tensors
                .get(name)
                .ok_or_else(|| format!("it lacks tensor `{name}`"))?;
            if t.shape != want.shape || t.as_f32().is_none() {
                return Err(format!(
                    "tensor `{name}` has shape {:?}, but this model needs f32 {:?}",
                    t.shape, want.shape
                ));
            }
            Ok(t.clone())
        })
        .collect()
}

fn f32_slices_mut(ts: &mut [Tensor]) -> Vec<&mut [f32]> {
    ts.iter_mut()
        .filter_map(|t| match &mut t.data {
            Data::F32(v) => Some(v.as_mut_slice()),
            Data::I32(_) => None,
        })
        .collect()
}

/// Copies params then state into `backup`, reusing its buffers.
fn copy_into(backup: &mut Vec<Vec<f32>>, params: &[&mut [f32]], state: &[&mut [f32]]) {
    backup.resize_with(params.len() + state.len(), Vec::new);
    for (b, src) in backup.iter_mut().zip(params.iter().chain(state)) {
        b.clear();
        b.extend_from_slice(src);
    }
}

/// Puts params and state back from `backup`.
fn copy_back(backup: &[Vec<f32>], params: &mut [&mut [f32]], state: &mut [&mut [f32]]) {
    let (ps, ss) = backup.split_at(params.len().min(backup.len()));
    for (dst, src) in params.iter_mut().zip(ps) {
        dst.copy_from_slice(src);
    }
    for (dst, src) in state.iter_mut().zip(ss) {
        dst.copy_from_slice(src);
    }
}

fn all_finite(loss: f32, params: &[&mut [f32]], state: &[&mut [f32]]) -> bool {
    loss.is_finite() && params.iter().chain(state).all(|v| v.iter().all(|x| x.is_finite()))
}

/// After step `t` produced a NaN or infinity (and params and state were put back as
/// before it): reruns it in the reference interpreter to find the first non-finite value
/// and its source line.
fn locate(step: &TrainStep, batch: &[Tensor], t: u64, params: &[Tensor], state: &[Tensor], loss: f32) -> FitError {
    let mut inputs = batch.to_vec();
    inputs.extend(
        step.optimizer()
            .step_inputs(t)
            .into_iter()
            .map(|v| Tensor::f32(vec![], vec![v])),
    );
    let before: Vec<Tensor> = params.iter().chain(state.iter()).cloned().collect();
    match step.function().locate_non_finite(&inputs, &before) {
        Ok(Some(nf)) => FitError::Api(Error::NonFinite(nf)),
        Ok(None) => FitError::Config(format!(
            "step {t} produced a non-finite value (loss {loss}), but the reference interpreter \
             reproduces none: the compiled code and the interpreter disagree"
        )),
        Err(e) => FitError::Api(e),
    }
}
