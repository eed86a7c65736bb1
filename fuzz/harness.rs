//! The bodies of the fuzz targets, shared with `tests/harden_regressions.rs` (which
//! includes this file), so a crash input in `tests/regressions/TARGET/` replays exactly
//! what the fuzzer ran, under a plain `cargo test`.
//!
//! Each function takes arbitrary bytes and panics only on a bug: a panic or abort inside
//! nnc, or an error that nnc itself calls a bug (an internal error, a verifier or code
//! generator failure). Errors about the input are the expected outcome.

#![allow(dead_code)] // each user calls a different part

use nnc::ir::{Bindings, DType};
use nnc::{Error, Model, Options, Tensor};
use std::sync::{Arc, OnceLock};

/// Longest model text the compile target accepts: longer inputs only find slow programs.
pub const MAX_SOURCE: usize = 4096;
/// Largest graph (after `grad` expansion) the compile target compiles.
pub const MAX_NODES: usize = 1500;
/// Memory limit of every instance the targets create.
pub const MEMORY_LIMIT: u64 = 16 << 20;

/// Target `parse`: lexer and parser, and rendering their diagnostics.
pub fn parse(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let (_ast, diags) = nnc::syntax::parse(&src);
    let _ = nnc::diag::render(&diags, "fuzz.nn", &src, false);
}

/// Target `check`: the checker and lowering, the verifier on every graph it returns,
/// and the public API's `Model::from_source` (which also expands `grad`).
pub fn check(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let (models, diags) = nnc::sema::check_source(&src);
    let _ = nnc::diag::render(&diags, "fuzz.nn", &src, false);
    for m in &models {
        if let Err(e) = nnc::ir::verify(&m.graph, nnc::ir::Expect { grads_expanded: false }) {
            panic!("checked model {} fails the verifier: {e:?}", m.name);
        }
    }
    if data.len() > MAX_SOURCE {
        return;
    }
    match Model::from_source(&src, "fuzz.nn", None, options(false)) {
        Ok(m) => {
            if let Err(e) = nnc::ir::verify(m.graph(), nnc::ir::Expect { grads_expanded: true }) {
                panic!("expanded graph fails the verifier: {e:?}");
            }
        }
        Err(e) => expect_user_error(&e),
    }
}

/// Target `compile`: source to native code and a call. The model is compiled forward
/// and with gradients, instantiated with small sizes taken from the input, and called
/// on zeros and on values taken from the input bytes (NaN, infinities, bad labels).
pub fn compile(data: &[u8]) {
    if data.len() > MAX_SOURCE {
        return;
    }
    let src = String::from_utf8_lossy(data);
    // the last byte picks the optimisation level and the sizes, so the corpus varies both
    let knob = data.last().copied().unwrap_or(0);
    let model = match Model::from_source(&src, "fuzz.nn", None, options(knob & 1 == 1)) {
        Ok(m) => m,
        Err(e) => return expect_user_error(&e),
    };
    if model.graph().node_count() > MAX_NODES {
        return;
    }
    let sizes: Bindings = model
        .size_vars()
        .iter()
        .enumerate()
        .map(|(i, v)| (Arc::from(v.as_str()), 1 + (knob as usize / 2 + i) % 3))
        .collect();
    let mut functions = vec![model.forward()];
    if model.has_loss() {
        functions.push(model.gradients(true));
    }
    for f in functions {
        match f {
            Ok(f) => call_function(&model, &f, &sizes, data),
            Err(e) => expect_user_error(&e),
        }
    }
}

/// Target `tensors`: the safetensors and IDX readers on arbitrary bytes. What they
/// accept must be consistent (element count = product of the shape).
pub fn tensors(data: &[u8]) {
    if let Ok(map) = nnc::io::read_tensors_bytes(data) {
        for (name, t) in &map {
            assert_eq!(t.len(), t.shape.iter().product::<usize>(), "tensor {name}");
        }
    }
    if let Ok(a) = nnc::io::read_idx_bytes(data) {
        assert_eq!(a.data.len(), a.dims.iter().product::<usize>(), "IDX array");
    }
}

/// A model whose size variables are bound by its inputs and reach its params' shapes,
/// so a crafted header binds them to anything.
pub const INPUTS_MODEL: &str = "\
model m {
  input x: [N, D]
  input t: [N, C]
  input y: i32[N]
  param W: [D, C] = glorot_uniform
  param b: [C]
  let logits = x @ W + b
  output p = softmax(logits, axis=1)
  loss = cross_entropy(logits, t) + cross_entropy(logits, y)
}
";

/// Target `inputs`: arbitrary bytes as the inputs file of a fixed model, through what
/// `nnc run --grad` does: read, bind the size variables, initialise params, instantiate
/// (refusing sizes over the memory limit), call.
pub fn inputs(data: &[u8]) {
    static MODEL: OnceLock<Model> = OnceLock::new();
    let model = MODEL.get_or_init(|| Model::from_source(INPUTS_MODEL, "inputs.nn", None, options(false)).unwrap());
    let Ok(map) = nnc::io::read_tensors_bytes(data) else {
        return;
    };
    let mut inputs = Vec::new();
    for spec in model.inputs() {
        match map.get(&spec.name) {
            Some(t) => inputs.push(t.clone()),
            None => return,
        }
    }
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
    let sizes = match model.sizes_from_shapes(&shapes, None) {
        Ok(s) => s,
        Err(e) => return expect_user_error(&e),
    };
    let f = model.gradients(false).unwrap();
    // what `nnc run` does: the memory limit is checked before anything is allocated
    if let Err(e) = f.instantiate(&sizes) {
        return expect_user_error(&e);
    }
    let params = match model.init_params(&sizes, 0) {
        Ok(p) => p,
        Err(e) => return expect_user_error(&e),
    };
    if let Err(e) = f.call_tensors(&inputs, &params) {
        expect_user_error(&e);
    }
}

fn options(o0: bool) -> Options {
    Options {
        opt_level: if o0 { nnc::OptLevel::O0 } else { nnc::OptLevel::O1 },
        threads: 1,
        memory_limit: MEMORY_LIMIT,
        verify: true,
        ..Options::default()
    }
}

/// Instantiates `f` at `sizes` and calls it on zeros, then on values from `data`.
fn call_function(model: &Model, f: &nnc::Function, sizes: &Bindings, data: &[u8]) {
    if let Err(e) = f.instantiate(sizes) {
        return expect_user_error(&e);
    }
    let params = match model.init_params(sizes, 0) {
        Ok(p) => p,
        Err(e) => return expect_user_error(&e),
    };
    for garbage in [false, true] {
        let Some(inputs) = make_inputs(f, sizes, if garbage { data } else { &[] }) else {
            return;
        };
        match f.call_tensors(&inputs, &params) {
            Ok(out) => {
                for (name, t) in &out.tensors {
                    assert_eq!(t.len(), t.shape.iter().product::<usize>(), "output {name}");
                }
            }
            Err(e) => expect_user_error(&e),
        }
    }
}

/// Inputs of `f` at `sizes`, filled with zeros (`data` empty) or with values cycled from
/// `data`: every fourth byte group as an f32 bit pattern, bytes as (possibly bad) labels.
fn make_inputs(f: &nnc::Function, sizes: &Bindings, data: &[u8]) -> Option<Vec<Tensor>> {
    let mut k = 0usize;
    let mut next = || {
        if data.is_empty() {
            return [0u8; 4];
        }
        let b = [0, 1, 2, 3].map(|j| data[(k + j) % data.len()]);
        k += 4;
        b
    };
    let mut out = Vec::new();
    for spec in f.inputs() {
        let shape = spec.shape.eval(sizes).ok()?;
        let n: usize = shape.iter().product();
        out.push(match spec.dtype {
            DType::F32 => Tensor::f32(shape, (0..n).map(|_| f32::from_le_bytes(next())).collect()),
            DType::I32 => Tensor::i32(shape, (0..n).map(|_| next()[0] as i32 % 5 - 1).collect()),
        });
    }
    Some(out)
}

/// Panics if `e` is an error nnc reports as its own bug rather than the input's fault.
pub fn expect_user_error(e: &Error) {
    use nnc::runtime::RuntimeError;
    let bug = matches!(
        e,
        Error::Internal(_) | Error::Runtime(RuntimeError::Verify(_)) | Error::Runtime(RuntimeError::Codegen(_))
    );
    assert!(!bug, "nnc bug reported as an error: {e}");
    // rendering never fails either
    let _ = e.render(false);
}
