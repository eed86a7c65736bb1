//! Per-kernel timing: when compiled with profiling, the entry function calls
//! [`nnc_tick`] after each kernel; [`take_ticks`] returns what this thread recorded.

use std::cell::RefCell;
use std::time::Instant;

thread_local! {
    static TICKS: RefCell<Vec<(usize, Instant)>> = const { RefCell::new(Vec::new()) };
}

/// Records that kernel `k` (or, for `usize::MAX`, the start of a call) just finished.
pub extern "C" fn nnc_tick(k: usize) {
    let now = Instant::now();
    // A poisoned or re-entered cell cannot happen here (no callbacks); ignore if it did.
    let _ = TICKS.try_with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            t.push((k, now));
        }
    });
}

/// The ticks this thread recorded since the last call, in order.
pub fn take_ticks() -> Vec<(usize, Instant)> {
    TICKS.with(|t| std::mem::take(&mut *t.borrow_mut()))
}
