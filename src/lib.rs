//! nnc: a compiler from small neural-network programs (`.nn` files) to native code for
//! forward, backward (gradients) and training steps, usable as a command (`nnc`) and as
//! this library.
//!
//! # The API
//!
//! The stable API is what the crate root re-exports (the same items live in [`api`]):
//!
//! - [`Model`]: compile a model from source text or a file with [`Options`]
//!   (optimisation on/off, threads, [`Backend`], memory limit); inspect its inputs,
//!   params and outputs ([`TensorSpec`]: name, [`DType`], symbolic [`Shape`]); make
//!   [`Bindings`] of its size variables ([`Model::sizes`]); initialise, load and save
//!   params (safetensors).
//! - [`Function`] ([`Model::forward`], [`Model::gradients`], [`Model::gradients_only`]) and
//!   [`TrainStep`] ([`Model::train_step`] with an [`Optimizer`]): compiled once, then
//!   specialised for concrete sizes as an [`Instance`] / [`TrainInstance`] and called on
//!   the caller's own slices ([`Arg`] for inputs, `&[f32]` for params, `&mut [f32]` for
//!   outputs) without copying. Counts, lengths, element types and label ranges are
//!   checked before any native code runs.
//! - [`Session`]: the common case in one owner — params, optimiser state and a
//!   [`Workspace`] — with [`Session::step`] and [`Session::forward`].
//! - [`Error`]: every failure, as a value. Model errors carry spans and render
//!   ([`Error::render`]) exactly as `nnc check` prints them; [`check_source`] reports
//!   every diagnostic of a file without compiling it. The library never prints, exits
//!   or panics on bad input.
//!
//! The stage modules ([`syntax`], [`sema`], [`ir`], [`autodiff`], [`opt`], [`codegen`],
//! [`runtime`], [`interp`], [`train`], [`kernels`]) are public for the CLI, tools and
//! tests, and for inspecting compiled graphs; their items may change between versions.
//! [`io`] reads and writes tensor files and data sets (e.g. [`io::load_mnist_dir`]).
//!
//! # Example
//!
//! Compile an MNIST-style classifier from text, train it for a few steps on one batch,
//! then run the forward function on the same batch:
//!
//! ```
//! use nnc::{Arg, Model, Optimizer, Options, Session};
//!
//! let source = "
//!     model mlp {
//!         input x: [N, 784]
//!         input y: i32[N]
//!         param W1: [784, 32] = he_normal
//!         param b1: [32]
//!         param W2: [32, 10]
//!         param b2: [10]
//!         let logits = relu(x @ W1 + b1) @ W2 + b2
//!         output probs = softmax(logits, axis=1)
//!         loss = cross_entropy(logits, y)
//!     }";
//! let model = Model::from_source(source, "mlp.nn", None, Options::default())?;
//! assert_eq!(model.inputs()[0].shape.to_string(), "[N, 784]");
//!
//! // A batch of 8 examples: the caller owns the data, nnc reads it in place.
//! let x: Vec<f32> = (0..8 * 784).map(|i| (i % 7) as f32 / 7.0).collect();
//! let y: Vec<i32> = (0..8).map(|i| i % 10).collect();
//! let batch = [Arg::F32(&x), Arg::I32(&y)];
//!
//! let sizes = model.sizes(&[("N", 8)])?;
//! let mut session = Session::new(&model, &sizes, 0)?; // params from the initialisers, seed 0
//! session.set_optimizer(Optimizer::sgd(0.1))?;
//! let first = session.step(&batch)?;
//! let mut last = first;
//! for _ in 0..20 {
//!     last = session.step(&batch)?;
//! }
//! assert!(last < first, "the loss falls: {first} -> {last}");
//!
//! let out = session.forward(&sizes, &batch)?;
//! let probs = out.get("probs").expect("an output named probs");
//! assert_eq!(probs.shape, [8, 10]);
//! # Ok::<(), nnc::Error>(())
//! ```
//!
//! The same without the session, on the caller's buffers throughout (this is what
//! [`Session`] does; several threads may share one [`Instance`], each with its own
//! [`Workspace`]):
//!
//! ```
//! # use nnc::{Arg, Model, Optimizer, Options, Workspace};
//! # let source = "model lin { input x: [N, 3] input y: i32[N] param W: [3, 2] \
//! #     output logits = x @ W  loss = cross_entropy(x @ W, y) }";
//! let model = Model::from_source(source, "lin.nn", None, Options::default())?;
//! let sizes = model.sizes(&[("N", 2)])?;
//! let params = model.init_params(&sizes, 7)?;
//! let (x, y) = ([1.0f32, 0.0, 0.5, 0.0, 1.0, -0.5], [0i32, 1]);
//!
//! let step = model.train_step(Optimizer::sgd(0.5))?.instantiate(&sizes)?;
//! let mut ws = Workspace::new();
//! let mut w: Vec<f32> = params[0].as_f32().unwrap().to_vec();
//! for t in 1..=10 {
//!     step.step(&mut ws, t, &[Arg::F32(&x), Arg::I32(&y)], &mut [&mut w], &mut [])?;
//! }
//!
//! let grads = model.gradients_only(false)?; // the loss and grad.W, not the outputs
//! let g = grads.instantiate(&sizes)?;
//! let mut grad_w = vec![0.0f32; 6];
//! let loss = g.call(&mut ws, &[Arg::F32(&x), Arg::I32(&y)], &[&w], &mut [&mut grad_w])?;
//! assert!(loss.is_some() && grad_w.iter().all(|v| v.is_finite()));
//! assert_eq!(grads.output_index("grad.W")?, 0);
//! # Ok::<(), nnc::Error>(())
//! ```
//!
//! # Pipeline
//!
//! The stages, in dependency order (each imports only those before it):
//! [`diag`] → [`syntax`] → [`ir`] → [`sema`] → [`interp`], [`autodiff`] → [`opt`] →
//! [`kernels`], [`codegen`] → [`runtime`] → [`io`], [`train`] → the public API ([`api`])
//! → the CLI (`main.rs`).

#![warn(missing_docs)]

pub mod api;
pub mod autodiff;
pub mod codegen;
pub mod diag;
pub mod fit;
pub mod interp;
pub mod io;
pub mod ir;
pub mod kernels;
pub mod opt;
pub mod runtime;
pub mod sema;
pub mod syntax;
pub mod tensor;
pub mod train;

pub use api::{
    check_file, check_source, Backend, Checked, Diagnostics, Error, Function, Instance, Model, NonFinite, OptLevel,
    Options, Outputs, Session, TensorSpec, TrainInstance, TrainStep, DEFAULT_MEMORY_LIMIT,
};
pub use diag::{Diagnostic, Severity, Span};
pub use io::IoError;
pub use ir::{BindError, Bindings, CallError, DType, Dim, Shape};
pub use runtime::{Arg, Workspace};
pub use tensor::{Data, DataLengthError, Tensor};
pub use train::Optimizer;
