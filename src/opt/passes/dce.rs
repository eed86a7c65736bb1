//! Dead-code elimination: nodes that no root (output, loss, update) depends on go.

use crate::ir::Graph;

/// Removes every non-leaf node no root depends on. Leaves stay: their indices name the
/// declarations. Returns how many nodes went.
pub fn run(g: &mut Graph) -> usize {
    g.remove_dead()
}
