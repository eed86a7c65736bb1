//! The reference interpreter of the IR, in f32 and f64: the oracle for everything after.
