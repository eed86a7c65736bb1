//! Host routines that JIT code calls: matrix products, vectorised transcendental functions.
