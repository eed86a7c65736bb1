//! Timing training steps on synthetic data (`nnc bench`): compile latency from source
//! text to a callable native step, then the step time after warm-up.

use super::error::Error;
use super::model::Model;
use super::options::Options;
use crate::ir::{Bindings, DType, Op};
use crate::runtime::{Arg, Workspace};
use crate::train::Optimizer;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// What to time.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// The batch size: the value of every size variable that leads an input's shape.
    pub batch: usize,
    /// Other size variables, if the model has any.
    pub sizes: Bindings,
    /// Timed steps.
    pub steps: usize,
    /// Untimed steps first.
    pub warmup: usize,
    /// The optimiser of the timed step.
    pub optimizer: Optimizer,
    /// Seed of the synthetic data and the params.
    pub seed: u64,
}

/// The measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// Source text to callable native training step (check, differentiate, optimise, JIT).
    pub compile_ms: f64,
    /// Median step time.
    pub step_ms_median: f64,
    /// Fastest step.
    pub step_ms_min: f64,
    /// 10th and 90th percentiles.
    pub step_ms_p10: f64,
    /// 90th percentile.
    pub step_ms_p90: f64,
    /// Timed steps.
    pub steps: usize,
    /// The loss of the first and last step (a sanity check that training happened).
    pub first_loss: f32,
    /// Loss of the last step.
    pub last_loss: f32,
    /// The sizes the step was compiled for.
    pub sizes: Bindings,
    /// Bytes of the step's workspace.
    pub workspace_bytes: usize,
}

/// Compiles `source` and times its training step on synthetic batches (4 distinct
/// batches cycled, as the peer scripts do).
pub fn bench_train_step(
    source: &str,
    file_name: &str,
    model_name: Option<&str>,
    options: Options,
    cfg: &BenchConfig,
) -> Result<BenchReport, Error> {
    let started = Instant::now();
    let model = Model::from_source(source, file_name, model_name, options)?;
    let sizes = batch_sizes(&model, cfg)?;
    let step = model.train_step(cfg.optimizer)?;
    let instance = step.instantiate(&sizes)?;
    let compile_ms = started.elapsed().as_secs_f64() * 1e3;

    let mut params = model.init_params(&sizes, cfg.seed)?;
    let mut state = step.init_state(&sizes)?;
    let batches = synthetic_batches(&model, &sizes, cfg.seed, 4)?;
    let mut ws = Workspace::new();
    let mut run = |t: u64| -> Result<f32, Error> {
        let batch = &batches[(t as usize) % batches.len()];
        let args: Vec<Arg> = batch.iter().map(Arg::of).collect();
        let mut p: Vec<&mut [f32]> = params.iter_mut().map(float_mut).collect::<Result<_, _>>()?;
        let mut s: Vec<&mut [f32]> = state.iter_mut().map(float_mut).collect::<Result<_, _>>()?;
        instance.step(&mut ws, t, &args, &mut p, &mut s)
    };
    let first_loss = run(1)?;
    for t in 0..cfg.warmup {
        run(2 + t as u64)?;
    }
    let mut times = Vec::with_capacity(cfg.steps);
    let mut last_loss = first_loss;
    for t in 0..cfg.steps {
        let t0 = Instant::now();
        last_loss = run((2 + cfg.warmup + t) as u64)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let q = |f: f64| {
        times
            .get(((times.len() as f64 - 1.0) * f).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let workspace_bytes = instance_workspace(&step, &sizes);
    Ok(BenchReport {
        compile_ms,
        step_ms_median: median(&times),
        step_ms_min: times.first().copied().unwrap_or(f64::NAN),
        step_ms_p10: q(0.1),
        step_ms_p90: q(0.9),
        steps: cfg.steps,
        first_loss,
        last_loss,
        sizes,
        workspace_bytes,
    })
}

fn instance_workspace(step: &super::TrainStep, sizes: &Bindings) -> usize {
    step.function()
        .instantiate(sizes)
        .ok()
        .and_then(|i| i.executable().map(|e| e.workspace_bytes()))
        .unwrap_or(0)
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn float_mut(t: &mut crate::tensor::Tensor) -> Result<&mut [f32], Error> {
    match &mut t.data {
        crate::tensor::Data::F32(v) => Ok(v.as_mut_slice()),
        crate::tensor::Data::I32(_) => Err(Error::Usage("a param is not f32".into())),
    }
}

/// Every size variable leading an input's shape is the batch; the rest must be given.
fn batch_sizes(model: &Model, cfg: &BenchConfig) -> Result<Bindings, Error> {
    let mut sizes = cfg.sizes.clone();
    for input in model.inputs() {
        if let Some(first) = input.shape.dims().first() {
            let vars: Vec<_> = first.vars().cloned().collect();
            if vars.len() == 1 && *first == crate::ir::Dim::var(&vars[0]) {
                sizes.entry(vars[0].clone()).or_insert(cfg.batch);
            }
        }
    }
    for v in model.graph().size_vars() {
        if !sizes.contains_key(&v) {
            return Err(Error::Usage(format!(
                "size variable {v} does not lead an input, so --batch does not set it: give it with --sizes {v}=..."
            )));
        }
    }
    Ok(sizes)
}

/// Uniform [0, 1) floats; labels uniform over the classes of the one-hot that reads them.
fn synthetic_batches(
    model: &Model,
    sizes: &Bindings,
    seed: u64,
    count: usize,
) -> Result<Vec<Vec<crate::tensor::Tensor>>, Error> {
    let classes = model.label_classes(sizes)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x6e6e_635f_6265_6e63);
    let mut batches = Vec::with_capacity(count);
    for _ in 0..count {
        let mut batch = Vec::new();
        for (i, input) in model.inputs().iter().enumerate() {
            let shape = input
                .shape
                .eval(sizes)
                .map_err(|e| Error::Usage(format!("input {}: {e:?}", input.name)))?;
            let n: usize = shape.iter().product();
            batch.push(match input.dtype {
                DType::F32 => crate::tensor::Tensor::f32(shape, (0..n).map(|_| rng.random::<f32>()).collect()),
                DType::I32 => {
                    let c = classes[i].unwrap_or(1).max(1) as i32;
                    crate::tensor::Tensor::i32(shape, (0..n).map(|_| rng.random_range(0..c)).collect())
                }
            });
        }
        batches.push(batch);
    }
    Ok(batches)
}

impl Model {
    /// For each input, the class count of the one-hot encoding that reads it (labels
    /// must lie in `[0, classes)`), or `None` if no one-hot reads it.
    pub fn label_classes(&self, sizes: &Bindings) -> Result<Vec<Option<usize>>, Error> {
        let g = self.graph();
        let mut classes = vec![None; g.inputs.len()];
        for n in g.schedule() {
            if let Op::OneHot { classes: c } = &g.node(n).op {
                if let Op::Input(i) = g.node(g.args(n)[0]).op {
                    classes[i] = Some(c.eval(sizes).map_err(|e| Error::Usage(format!("classes: {e:?}")))?);
                }
            }
        }
        Ok(classes)
    }
}
