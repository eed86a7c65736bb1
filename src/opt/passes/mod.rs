//! The graph passes, one file each. Each is a plain function of the graph that returns how
//! many changes it made (0 means the graph is untouched), so the pipeline can iterate the
//! rewriting passes to a fixpoint. None of them changes a leaf, an output's name or the
//! order of outputs and updates.

pub mod cse;
pub mod dce;
pub mod fold;
pub mod simplify;
pub mod transpose;
