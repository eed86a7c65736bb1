//! The memory plan: every workspace temp gets a byte offset in one allocation; temps whose
//! lifetimes (first write to last read, in kernel order) do not overlap share memory.
//! Caller buffers (inputs, params, outputs, loss) are not part of the workspace.

use super::schedule::{Schedule, Storage};

/// Alignment of every temp, in bytes (a cache line; also enough for any vector load).
pub const ALIGN: usize = 64;

/// Byte offsets of the temps of one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemPlan {
    /// For each buffer of the schedule, its byte offset in the workspace (`None` for
    /// caller buffers and for temps no kernel touches).
    pub offsets: Vec<Option<usize>>,
    /// Total workspace bytes needed.
    pub workspace_bytes: usize,
    /// Bytes the temps would need without sharing, for statistics.
    pub unshared_bytes: usize,
}

fn round_up(x: usize) -> usize {
    x.div_ceil(ALIGN).saturating_mul(ALIGN)
}

/// Places the temps of `s`: largest first, each at the lowest offset that does not
/// overlap a placed temp with an overlapping lifetime.
pub fn plan(s: &Schedule) -> MemPlan {
    let n = s.buffers.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    for (k, kern) in s.kernels.iter().enumerate() {
        for b in kern.reads().into_iter().chain(kern.writes()) {
            first[b.0] = first[b.0].min(k);
            last[b.0] = last[b.0].max(k);
        }
    }
    let mut temps: Vec<usize> = (0..n)
        .filter(|&b| s.buffers[b].storage == Storage::Temp && first[b] != usize::MAX)
        .collect();
    temps.sort_by_key(|&b| (std::cmp::Reverse(s.buffers[b].len), b));
    let mut offsets = vec![None; n];
    // (start, end, buffer), kept sorted by offset: sorting the overlapping ones for every
    // temp made 15,000 temps take minutes.
    let mut placed: Vec<(usize, usize, usize)> = Vec::new();
    let mut total = 0;
    let mut unshared = 0;
    for b in temps {
        // Saturating: absurd sizes make an absurd workspace, which the memory limit refuses.
        let size = round_up(s.buffers[b].len.saturating_mul(4)).max(ALIGN);
        unshared = size.saturating_add(unshared);
        let mut at = 0usize;
        for &(st, en, _) in placed
            .iter()
            .filter(|&&(_, _, o)| first[o] <= last[b] && first[b] <= last[o])
        {
            if at.saturating_add(size) <= st {
                break;
            }
            at = at.max(en);
        }
        let end = at.saturating_add(size);
        let pos = placed.partition_point(|&(st, en, _)| (st, en) <= (at, end));
        placed.insert(pos, (at, end, b));
        offsets[b] = Some(at);
        total = total.max(end);
    }
    MemPlan {
        offsets,
        workspace_bytes: total,
        unshared_bytes: unshared,
    }
}
