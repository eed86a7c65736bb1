//! Host routines that JIT code calls: matrix products and the scalar functions that are
//! not worth vectorising (sine, cosine, real powers). Imports nothing of nnc.
//!
//! Every routine here has a C ABI and never unwinds: a panic inside would abort.

mod matmul;
pub mod profile;
mod scalar;

pub use matmul::{matmul, nnc_matmul, MatRef};
pub use scalar::{nnc_cosf, nnc_powf, nnc_sinf};

/// The host symbols JIT code may call, by name, with their addresses.
pub fn symbols() -> Vec<(&'static str, *const u8)> {
    vec![
        ("nnc_matmul", nnc_matmul as *const u8),
        ("nnc_sinf", nnc_sinf as *const u8),
        ("nnc_cosf", nnc_cosf as *const u8),
        ("nnc_powf", nnc_powf as *const u8),
        ("nnc_tick", profile::nnc_tick as *const u8),
    ]
}
