//! Algebraic simplification: the rules of [`crate::opt::rules`], applied at every live
//! node in schedule order (operands first, so a chain like `-(-(-x))` collapses in one
//! sweep as each node sees its already simplified operands).

use crate::ir::Graph;
use crate::opt::rules::{apply_first, Rule};
use std::collections::BTreeMap;

/// How many times each rule fired, by name.
pub type RuleCounts = BTreeMap<&'static str, usize>;

/// Applies every rule. Returns how many nodes were rewritten.
pub fn run(g: &mut Graph) -> usize {
    run_with(g, &|_| true, &mut RuleCounts::new())
}

/// Applies the rules that `allowed` accepts, adding to `counts`. Returns how many nodes
/// were rewritten. The replaced nodes are removed; operands they leave dead stay for DCE.
pub fn run_with(g: &mut Graph, allowed: &dyn Fn(&Rule) -> bool, counts: &mut RuleCounts) -> usize {
    let mut fired = Vec::new();
    for n in g.schedule() {
        if let Some((rule, rep)) = apply_first(g, n, allowed) {
            g.replace_uses(n, rep);
            *counts.entry(rule.name).or_default() += 1;
            fired.push(n);
        }
    }
    // Together, newest first (see `Graph::remove_all`); rules never look at users, so the
    // replaced nodes waiting for removal change nothing.
    let count = fired.len();
    g.remove_all(fired);
    count
}
