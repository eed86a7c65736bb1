//! A stable, readable text form of the graph, for `nnc compile --emit ir` and snapshots.
//!
//! Nodes are numbered in schedule order (operands first), so the numbering does not
//! depend on how the graph was built or which passes removed nodes.

use super::graph::{Graph, NodeId, Phase};
use super::op::Op;
use std::collections::HashMap;
use std::fmt::Write;

/// Renders the graph. `line_of` maps a byte offset to a 1-based source line, so each
/// node can say where it came from; pass `|_| None` when there is no source.
pub fn print(g: &Graph, name: &str, line_of: &dyn Fn(u32) -> Option<usize>) -> String {
    let mut out = String::new();
    let vars = g.size_vars();
    let vars: Vec<&str> = vars.iter().map(|v| &**v).collect();
    let _ = writeln!(out, "graph {name}({}) {{", vars.join(", "));
    for decl in &g.inputs {
        let _ = writeln!(out, "  input {}: {}", decl.name, decl.ty);
    }
    for decl in &g.params {
        let _ = writeln!(out, "  param {}: {}", decl.name, decl.shape);
    }
    let order = g.schedule();
    let number: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let name_of = |n: NodeId| format!("%{}", number[&n]);
    for &id in &order {
        let node = g.node(id);
        let what = match &node.op {
            Op::Input(i) => format!("input {}", g.inputs[*i].name),
            Op::Param(i) => format!("param {}", g.params[*i].name),
            op => {
                let args: Vec<String> = g.args(id).into_iter().map(name_of).collect();
                if args.is_empty() {
                    op.name()
                } else {
                    format!("{} {}", op.name(), args.join(", "))
                }
            }
        };
        let mut line = format!("  {} = {what} : {}", name_of(id), node.ty);
        let mut notes = Vec::new();
        match node.origin.phase {
            Phase::Forward => {}
            Phase::Backward => notes.push("backward".to_string()),
            Phase::Update => notes.push("update".to_string()),
        }
        if let Some(l) = node.origin.span.and_then(|s| line_of(s.start)) {
            notes.push(format!("line {l}"));
        }
        if !notes.is_empty() {
            let pad = 48usize.saturating_sub(line.len());
            let _ = write!(line, "{:pad$}  // {}", "", notes.join(", "));
        }
        let _ = writeln!(out, "{line}");
    }
    for (n, id) in &g.outputs {
        let _ = writeln!(out, "  output {n} = {}", name_of(*id));
    }
    if let Some(l) = g.loss {
        let _ = writeln!(out, "  loss = {}", name_of(l));
    }
    for (p, id) in &g.updates {
        let _ = writeln!(out, "  update {} = {}", g.params[*p].name, name_of(*id));
    }
    out.push_str("}\n");
    out
}
