//! `nnc train`: trains a model on a data set with the library loop ([`nnc::fit`]),
//! showing progress, and handles Ctrl-C (finish the step, save, exit 130).

use super::{CompileFlags, ModelArgs};
use clap::{Args, ValueEnum};
use nnc::fit::{self, Checkpoint, FitConfig, FitError, Trainer};
use nnc::io::{Dataset, Split};
use nnc::{Model, Optimizer};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

mod progress;

/// Exit status after Ctrl-C: 128 + SIGINT, as shells report a process the signal ended.
pub const EXIT_INTERRUPTED: i32 = 130;
/// Exit status for a wrong command line.
const EXIT_USAGE: i32 = 2;

/// The optimisers `--optimizer` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// plain SGD: p -= lr * g (default lr 0.01)
    Sgd,
    /// SGD with momentum, as torch.optim.SGD(momentum=0.9) (default lr 0.01)
    Momentum,
    /// Adam, as torch.optim.Adam (default lr 0.001)
    Adam,
}

/// Arguments of `nnc train`.
#[derive(Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct TrainArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Training data: a safetensors file with one tensor per model input (leading
    /// dimension = examples), or an MNIST IDX directory (its train-* files). Default:
    /// the directory data/mnist-10k next to the model file, if it exists.
    #[arg(long, value_name = "DATA")]
    pub data: Option<PathBuf>,
    /// Evaluation data after every epoch (an MNIST directory means its t10k-* files).
    /// Default: the test split of the default --data directory; none for an explicit --data.
    #[arg(long, value_name = "DATA")]
    pub eval: Option<PathBuf>,
    /// Start from these params, or continue from a checkpoint written by --save.
    #[arg(long, value_name = "P.safetensors")]
    pub params: Option<PathBuf>,
    /// With a checkpoint as --params: take only its params and start a fresh optimiser
    /// (new state, epoch and step counts).
    #[arg(long)]
    pub fresh_optimizer: bool,
    /// The optimiser [default: adam, or the checkpoint's when resuming].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Learning rate [default: adam 0.001, sgd 0.01, momentum 0.01].
    #[arg(long, value_name = "X")]
    pub lr: Option<f64>,
    /// Momentum factor μ of `momentum` [default: 0.9].
    #[arg(long, value_name = "MU")]
    pub momentum: Option<f64>,
    /// Adam's β1 [default: 0.9].
    #[arg(long, value_name = "B1")]
    pub beta1: Option<f64>,
    /// Adam's β2 [default: 0.999].
    #[arg(long, value_name = "B2")]
    pub beta2: Option<f64>,
    /// Adam's ε [default: 1e-8].
    #[arg(long, value_name = "EPS")]
    pub eps: Option<f64>,
    /// Examples per mini-batch; the last, partial batch of an epoch is used [default: 64].
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Epochs to train in this run (a resumed run continues the epoch count).
    #[arg(long, value_name = "E", default_value_t = fit::DEFAULT_EPOCHS)]
    pub epochs: u64,
    /// Seed of param initialisation and shuffling [default: 0].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Write a checkpoint (params, optimiser state, position) after every epoch, on
    /// Ctrl-C and at the end, atomically. It also serves as --params for `nnc run`.
    #[arg(long, value_name = "P.safetensors")]
    pub save: Option<PathBuf>,
    /// Write one JSON object per epoch (epoch, step, train_loss, eval_loss,
    /// eval_accuracy, seconds, examples_per_second) to this file.
    #[arg(long, value_name = "METRICS.jsonl")]
    pub log: Option<PathBuf>,
    /// Draw the loss and accuracy curves to this SVG file after every epoch.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Stop at the first NaN or infinity and name the source line that produced it.
    #[arg(long)]
    pub check_finite: bool,
    #[command(flatten)]
    pub compile: CompileFlags,
}

const AFTER_HELP: &str = "\
With no --data, `nnc train examples/mnist_mlp.nn` trains on the bundled MNIST subset
(examples/data/mnist-10k: 8000 training digits) and evaluates on its 2000 test digits.

Defaults: --optimizer adam, --lr 0.001 (sgd and momentum: 0.01), --momentum 0.9,
--beta1 0.9, --beta2 0.999, --eps 1e-8, --batch 64, --epochs 10, --seed 0.
Resuming from a checkpoint (--params CKPT), the optimiser, its hyper-parameters, the
batch size and the seed default to the checkpoint's; --epochs counts the epochs to add.

Accuracy is the share of examples whose largest score in the model's first [N, C]
output is at the label given by its first i32[N] input.

Exit status: 0 done, 1 the model, data or a file is wrong, 2 the command line is wrong,
130 interrupted by Ctrl-C (after saving the checkpoint, when --save is given).";

/// Runs `nnc train`; returns the exit status.
pub fn run(args: TrainArgs) -> i32 {
    match train(&args) {
        Ok(status) => status,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            EXIT_USAGE
        }
        Err(Failure::Fit(e)) => {
            eprint!("{}", e.render(std::io::stderr().is_terminal()));
            super::EXIT_FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Fit(FitError),
}

impl<E: Into<FitError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Fit(e.into())
    }
}

fn train(args: &TrainArgs) -> Result<i32, Failure> {
    let model = Model::from_file(
        &args.model.model_file,
        args.model.model_name.as_deref(),
        args.compile.options(),
    )?;
    let (data_path, eval_path) = data_paths(args)?;
    let train = Dataset::load(&data_path, Split::Train, model.graph())?;
    let eval = match &eval_path {
        Some(p) => Some(Dataset::load(p, Split::Test, model.graph())?),
        None => None,
    };
    let ckpt = match &args.params {
        Some(p) if !args.fresh_optimizer && fit::is_checkpoint_file(p)? => Some(Checkpoint::read(p)?),
        _ => None,
    };
    let config = config(args, ckpt.as_ref().map(|c| &c.meta))?;
    let mut trainer = Trainer::new(&model, config, &train)?;
    match (&ckpt, &args.params) {
        (Some(c), _) => trainer.restore(c)?,
        (None, Some(p)) => trainer.load_params(p)?,
        (None, None) => {}
    }
    announce(
        &trainer,
        &data_path,
        train.len(),
        eval_path.as_deref(),
        eval.as_ref().map(Dataset::len),
    );
    let stop = install_ctrlc();
    let mut observer = progress::Progress::new(std::io::stderr().is_terminal(), stop.clone());
    let outcome = trainer.fit(&train, eval.as_ref(), &mut observer, &stop);
    observer.finish();
    let outcome = outcome?;
    if outcome.stopped {
        let p = &outcome.position;
        match &outcome.saved {
            Some(path) => eprintln!(
                "interrupted after step {} (epoch {}, {} examples into it); checkpoint saved to {}",
                p.step,
                p.epoch + 1,
                p.epoch_examples,
                path.display()
            ),
            None => eprintln!("interrupted after step {}; nothing saved (no --save given)", p.step),
        }
        return Ok(EXIT_INTERRUPTED);
    }
    summary(&trainer, outcome.saved.as_deref());
    Ok(0)
}

/// `--data` and `--eval`, or the bundled MNIST next to the model file.
fn data_paths(args: &TrainArgs) -> Result<(PathBuf, Option<PathBuf>), Failure> {
    if let Some(d) = &args.data {
        return Ok((d.clone(), args.eval.clone()));
    }
    let beside = args
        .model
        .model_file
        .parent()
        .unwrap_or(Path::new(""))
        .join("data")
        .join("mnist-10k");
    if beside.is_dir() {
        let eval = args.eval.clone().unwrap_or_else(|| beside.clone());
        return Ok((beside, Some(eval)));
    }
    Err(Failure::Usage(format!(
        "no --data given (and no MNIST directory {} next to the model file)",
        beside.display()
    )))
}

/// The run's configuration: flags first, then (when resuming) the checkpoint's values,
/// then the defaults.
fn config(args: &TrainArgs, ckpt: Option<&fit::CheckpointMeta>) -> Result<FitConfig, Failure> {
    let theirs = ckpt.map(|m| m.optimizer);
    let kind = match (args.optimizer, theirs) {
        (Some(k), _) => k,
        (None, Some(Optimizer::Sgd { .. })) => OptimizerName::Sgd,
        (None, Some(Optimizer::Momentum { .. })) => OptimizerName::Momentum,
        (None, Some(Optimizer::Adam { .. })) | (None, None) => OptimizerName::Adam,
    };
    let optimizer = optimizer(args, kind, theirs)?;
    let batch = args.batch.or(ckpt.map(|m| m.batch)).unwrap_or(fit::DEFAULT_BATCH);
    if batch == 0 {
        return Err(Failure::Usage("--batch must be at least 1".into()));
    }
    Ok(FitConfig {
        optimizer,
        batch,
        epochs: args.epochs,
        seed: args.seed.or(ckpt.map(|m| m.seed)).unwrap_or(0),
        check_finite: args.check_finite,
        save: args.save.clone(),
        log: args.log.clone(),
        plot: args.plot.clone(),
        ..FitConfig::new(optimizer)
    })
}

/// The optimiser of `kind`: each hyper-parameter from its flag, else from the
/// checkpoint's optimiser when it is the same kind, else the default.
fn optimizer(args: &TrainArgs, kind: OptimizerName, theirs: Option<Optimizer>) -> Result<Optimizer, Failure> {
    let name = match kind {
        OptimizerName::Sgd => "sgd",
        OptimizerName::Momentum => "momentum",
        OptimizerName::Adam => "adam",
    };
    let same = theirs.filter(|o| o.name() == name);
    let lr = args.lr.or(same.map(|o| o.lr())).unwrap_or(fit::default_lr(name));
    let positive = |flag: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(Failure::Usage(format!("{flag} must be a positive number, got {v}")))
        }
    };
    let unit = |flag: &str, v: f64| {
        if (0.0..1.0).contains(&v) {
            Ok(v)
        } else {
            Err(Failure::Usage(format!("{flag} must be in [0, 1), got {v}")))
        }
    };
    let lr = positive("--lr", lr)?;
    Ok(match kind {
        OptimizerName::Sgd => Optimizer::Sgd { lr },
        OptimizerName::Momentum => {
            let old = match same {
                Some(Optimizer::Momentum { momentum, .. }) => Some(momentum),
                _ => None,
            };
            let momentum = unit("--momentum", args.momentum.or(old).unwrap_or(0.9))?;
            Optimizer::Momentum { lr, momentum }
        }
        OptimizerName::Adam => {
            let (b1, b2, e) = match same {
                Some(Optimizer::Adam { beta1, beta2, eps, .. }) => (Some(beta1), Some(beta2), Some(eps)),
                _ => (None, None, None),
            };
            Optimizer::Adam {
                lr,
                beta1: unit("--beta1", args.beta1.or(b1).unwrap_or(0.9))?,
                beta2: unit("--beta2", args.beta2.or(b2).unwrap_or(0.999))?,
                eps: positive("--eps", args.eps.or(e).unwrap_or(1e-8))?,
            }
        }
    })
}

fn announce(trainer: &Trainer, data: &Path, n: usize, eval: Option<&Path>, m: Option<usize>) {
    let c = trainer.config();
    let p = trainer.position();
    eprintln!(
        "training `{}` on {n} examples from {}",
        trainer.model().name(),
        data.display()
    );
    if let (Some(e), Some(m)) = (eval, m) {
        eprintln!("evaluating on {m} examples from {}", e.display());
    }
    let resumed = if p.step > 0 {
        format!(", resuming after epoch {} (step {})", p.epoch, p.step)
    } else {
        String::new()
    };
    eprintln!(
        "{}, batch {}, {} epoch(s), seed {}{resumed}",
        c.optimizer, c.batch, c.epochs, c.seed
    );
}

fn summary(trainer: &Trainer, saved: Option<&Path>) {
    if let Some(r) = trainer.history().last() {
        match &r.eval {
            Some(e) => match e.accuracy {
                Some(a) => println!(
                    "test accuracy {:.2}% on {} examples (eval loss {:.4}, train loss {:.4}) after {} epoch(s)",
                    100.0 * a,
                    e.examples,
                    e.loss,
                    r.train_loss,
                    r.epoch
                ),
                None => println!(
                    "eval loss {:.4} on {} examples (train loss {:.4}) after {} epoch(s)",
                    e.loss, e.examples, r.train_loss, r.epoch
                ),
            },
            None => println!("train loss {:.4} after {} epoch(s)", r.train_loss, r.epoch),
        }
    }
    if let Some(p) = saved {
        println!("saved to {}", p.display());
    }
}

/// The stop flag, raised by the first Ctrl-C; a second one exits at once (files are
/// written atomically, so nothing is left half-written).
fn install_ctrlc() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let presses = AtomicUsize::new(0);
    let flag = stop.clone();
    let installed = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) > 0 {
            eprintln!("\ninterrupted again: exiting without saving");
            std::process::exit(EXIT_INTERRUPTED);
        }
        flag.store(true, Ordering::SeqCst);
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not save a checkpoint ({e})");
    }
    stop
}
