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
    x.div_ceil(ALIGN) * ALIGN
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
    let mut placed: Vec<(usize, usize, usize)> = Vec::new(); // (buffer, start, end) bytes
    let mut total = 0;
    let mut unshared = 0;
    for b in temps {
        let size = round_up(s.buffers[b].len * 4).max(ALIGN);
        unshared += size;
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&(o, _, _)| first[o] <= last[b] && first[b] <= last[o])
            .map(|&(_, st, en)| (st, en))
            .collect();
        busy.sort_unstable();
        let mut at = 0;
        for (st, en) in busy {
            if at + size <= st {
                break;
            }
            at = at.max(en);
        }
        placed.push((b, at, at + size));
        offsets[b] = Some(at);
        total = total.max(at + size);
    }
    MemPlan {
        offsets,
        workspace_bytes: total,
        unshared_bytes: unshared,
    }
}
