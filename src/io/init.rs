//! Param initialisation (LANGUAGE.md §7), deterministic and reproducible outside nnc.
//!
//! # Random streams
//!
//! Each param draws from its own ChaCha8 stream, so adding, removing or reordering params
//! never changes another param's values. The stream's 32-byte key is
//!
//! ```text
//! key = SHA-256( "nnc-init-v1" || seed as 8 bytes little-endian || param name in UTF-8 )
//! ```
//!
//! and the generator is `rand_chacha::ChaCha8Rng::from_seed(key)` (rand_chacha 0.9:
//! 8 rounds, nonce/stream 0, block counter from 0). Each draw `w` is one `next_u64`: two
//! consecutive 32-bit keystream words, the first as the low half.
//!
//! # From words to values (computed in f64, rounded to f32 once at the end)
//!
//! - uniform `u = (w >> 11) * 2^-53`, in `[0, 1)`;
//! - `Uniform{lo, hi}`: `lo + (hi - lo) * u`; a value that rounds up to `hi` in f32 becomes
//!   the largest f32 below `hi`, so the interval stays half-open;
//! - `Normal{mean, std}`: Box–Muller with two draws per element, `u1` then `u2`:
//!   `mean + std * sqrt(-2 ln(1 - u1)) * cos(2 pi u2)` (`1 - u1` is in `(0, 1]`, so the
//!   logarithm is finite); the sine half is discarded, so element `i` uses draws `2i, 2i+1`;
//! - `Const(c)`: no draws.
//!
//! Elements are generated in row-major order.
//!
//! # Fans
//!
//! `HeNormal`: std `sqrt(2 / fan_in)`; `HeUniform`: bound `sqrt(6 / fan_in)`;
//! `GlorotNormal`: std `sqrt(2 / (fan_in + fan_out))`; `GlorotUniform`: bound
//! `sqrt(6 / (fan_in + fan_out))`; the uniform ones are `Uniform{-bound, bound}`. For a
//! param of shape `dims`:
//!
//! | rank | fan_in | fan_out |
//! |---|---|---|
//! | 0 | 1 | 1 |
//! | 1 | `dims[0]` | `dims[0]` |
//! | 2 | `dims[0]` | `dims[1]` |
//! | > 2 | `dims[0] * prod(dims[2..])` | `dims[1] * prod(dims[2..])` |

use super::IoError;
use crate::ir::{Bindings, DimError, Graph, Init, ParamDecl};
use crate::tensor::{Data, Tensor};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

/// Domain separation, versioned so a future change of scheme cannot silently collide.
const DOMAIN: &[u8] = b"nnc-init-v1";

/// Initialises every param of `graph` (in graph order) with the seed, evaluating shapes
/// under `bindings`. A size variable without a value, or an invalid initialiser (negative
/// std, `lo > hi`, non-finite numbers), is an error naming the param.
pub fn init_params(graph: &Graph, bindings: &Bindings, seed: u64) -> Result<Vec<Tensor>, IoError> {
    graph.params.iter().map(|p| init_param(p, bindings, seed)).collect()
}

/// Initialises one param (see the module docs for the exact values).
pub fn init_param(param: &ParamDecl, bindings: &Bindings, seed: u64) -> Result<Tensor, IoError> {
    let shape = param.shape.eval(bindings).map_err(|e| match e {
        DimError::Unbound(v) => IoError::Unbound {
            name: param.name.clone(),
            var: v.to_string(),
        },
        DimError::Overflow => IoError::TooLarge {
            name: param.name.clone(),
            shape: Vec::new(),
        },
    })?;
    let numel: usize = shape.iter().product();
    let mut data: Vec<f32> = Vec::new();
    data.try_reserve_exact(numel).map_err(|_| IoError::TooLarge {
        name: param.name.clone(),
        shape: shape.clone(),
    })?;
    let mut rng = param_rng(seed, &param.name);
    let bad = |reason: String| IoError::Init {
        name: param.name.clone(),
        reason,
    };
    match resolve(&param.init, &shape).map_err(bad)? {
        Draw::Const(c) => data.resize(numel, c as f32),
        Draw::Normal { mean, std } => data.extend((0..numel).map(|_| normal(&mut rng, mean, std))),
        Draw::Uniform { lo, hi } => data.extend((0..numel).map(|_| uniform(&mut rng, lo, hi))),
    }
    Ok(Tensor {
        shape,
        data: Data::F32(data),
    })
}

/// The generator of one param: see the module docs.
pub fn param_rng(seed: u64, name: &str) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seed.to_le_bytes());
    h.update(name.as_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}

/// `(fan_in, fan_out)` of a param shape (module docs, "Fans").
pub fn fans(shape: &[usize]) -> (f64, f64) {
    let rest: f64 = shape.iter().skip(2).map(|&d| d as f64).product();
    match shape {
        [] => (1.0, 1.0),
        [d] => (*d as f64, *d as f64),
        [d0, d1, ..] => (*d0 as f64 * rest, *d1 as f64 * rest),
    }
}

/// An initialiser reduced to one of three samplers, parameters checked.
enum Draw {
    Const(f64),
    Normal { mean: f64, std: f64 },
    Uniform { lo: f64, hi: f64 },
}

fn resolve(init: &Init, shape: &[usize]) -> Result<Draw, String> {
    let (fan_in, fan_out) = fans(shape);
    // An empty param draws nothing; avoid dividing by a zero fan for it.
    let fan_in = fan_in.max(1.0);
    let fan_sum = (fan_in + fan_out).max(1.0);
    let draw = match *init {
        Init::Const(c) => Draw::Const(c),
        Init::Normal { mean, std } => Draw::Normal { mean, std },
        Init::Uniform { lo, hi } => Draw::Uniform { lo, hi },
        Init::HeNormal => Draw::Normal {
            mean: 0.0,
            std: (2.0 / fan_in).sqrt(),
        },
        Init::HeUniform => symmetric((6.0 / fan_in).sqrt()),
        Init::GlorotNormal => Draw::Normal {
            mean: 0.0,
            std: (2.0 / fan_sum).sqrt(),
        },
        Init::GlorotUniform => symmetric((6.0 / fan_sum).sqrt()),
    };
    match draw {
        Draw::Const(c) if !c.is_finite() => Err(format!("constant initialiser {c} is not finite")),
        Draw::Normal { mean, std } if !(mean.is_finite() && std.is_finite() && std >= 0.0) => Err(format!(
            "normal(mean={mean}, std={std}) needs a finite mean and a finite std >= 0"
        )),
        Draw::Uniform { lo, hi } if !(lo.is_finite() && hi.is_finite() && lo <= hi) => {
            Err(format!("uniform({lo}, {hi}) needs finite bounds with lo <= hi"))
        }
        d => Ok(d),
    }
}

fn symmetric(bound: f64) -> Draw {
    Draw::Uniform { lo: -bound, hi: bound }
}

/// A uniform f64 in `[0, 1)` from the top 53 bits of one draw.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f32 {
    let v = (lo + (hi - lo) * unit(rng)) as f32;
    let top = hi as f32;
    if v >= top && lo < hi {
        top.next_down().max(lo as f32)
    } else {
        v
    }
}

fn normal(rng: &mut ChaCha8Rng, mean: f64, std: f64) -> f32 {
    let u1 = unit(rng);
    let u2 = unit(rng);
    let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (mean + std * z) as f32
}
