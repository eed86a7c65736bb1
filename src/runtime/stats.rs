//! Counts of a compiled graph, for `nnc compile --stats`.

use crate::opt::memplan::MemPlan;
use crate::opt::schedule::{KernelKind, Schedule, Storage};
use std::fmt;

/// What one compiled graph does and needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Live graph nodes.
    pub nodes: usize,
    /// Kernels (one native function each).
    pub kernels: usize,
    /// Of which matrix products.
    pub matmuls: usize,
    /// Floating-point operations per call (see `Kernel::flops`).
    pub flops: u64,
    /// Bytes of the caller's buffers (inputs, params, outputs, loss).
    pub io_bytes: usize,
    /// Bytes of workspace (temps, after sharing memory between lifetimes).
    pub workspace_bytes: usize,
    /// Bytes the temps would take without sharing.
    pub temp_bytes: usize,
}

impl Stats {
    /// The statistics of a schedule and its plan.
    pub fn of(s: &Schedule, plan: &MemPlan) -> Stats {
        Stats {
            nodes: s.nodes,
            kernels: s.kernels.len(),
            matmuls: s
                .kernels
                .iter()
                .filter(|k| matches!(k.kind, KernelKind::MatMul(_)))
                .count(),
            flops: s.kernels.iter().map(|k| k.flops()).sum(),
            io_bytes: s
                .buffers
                .iter()
                .filter(|b| b.storage != Storage::Temp)
                .map(|b| b.len * 4)
                .sum(),
            workspace_bytes: plan.workspace_bytes,
            temp_bytes: plan.unshared_bytes,
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes           {}", self.nodes)?;
        writeln!(f, "kernels         {} ({} matrix products)", self.kernels, self.matmuls)?;
        writeln!(f, "flops           {}", self.flops)?;
        writeln!(f, "io bytes        {}", self.io_bytes)?;
        writeln!(
            f,
            "workspace bytes {} (unshared {})",
            self.workspace_bytes, self.temp_bytes
        )
    }
}
