//! Graphviz rendering of a graph, for `nnc compile --emit dot`: forward, backward and
//! update nodes in separate coloured clusters, each node labelled with its op, shape and
//! source line.

use super::graph::{Graph, NodeId, Phase};
use super::op::Op;
use std::collections::HashMap;
use std::fmt::Write;

/// Renders `g` as a Graphviz `digraph`. Nodes are numbered in schedule order as in
/// [`super::print`]; `line_of` maps a byte offset to a 1-based source line.
pub fn to_dot(g: &Graph, name: &str, line_of: &dyn Fn(u32) -> Option<usize>) -> String {
    let order = g.schedule();
    let number: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(name));
    out.push_str("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\"];\n");
    for (phase, label, colour) in [
        (Phase::Forward, "forward", "#dbe9f6"),
        (Phase::Backward, "backward", "#f9e1d0"),
        (Phase::Update, "update", "#dcefd9"),
    ] {
        let members: Vec<NodeId> = order
            .iter()
            .copied()
            .filter(|&n| g.node(n).origin.phase == phase)
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  subgraph cluster_{label} {{\n    label=\"{label}\"; color=\"#999999\";"
        );
        for n in members {
            let _ = writeln!(
                out,
                "    n{} [label=\"{}\", fillcolor=\"{colour}\"];",
                number[&n],
                escape(&node_label(g, n, number[&n], line_of))
            );
        }
        out.push_str("  }\n");
    }
    for &n in &order {
        let args = g.args(n);
        for (pos, a) in args.iter().enumerate() {
            let label = if args.len() > 1 {
                format!(" [label=\"{pos}\"]")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  n{} -> n{}{label};", number[a], number[&n]);
        }
    }
    let sink = |out: &mut String, id: String, label: String, from: NodeId| {
        let _ = writeln!(
            out,
            "  {id} [label=\"{}\", shape=ellipse, style=filled, fillcolor=\"#eeeeee\"];\n  n{} -> {id};",
            escape(&label),
            number[&from]
        );
    };
    for (i, (o, n)) in g.outputs.iter().enumerate() {
        sink(&mut out, format!("out{i}"), format!("output {o}"), *n);
    }
    if let Some(l) = g.loss {
        sink(&mut out, "loss".into(), "loss".into(), l);
    }
    for (i, (p, n)) in g.updates.iter().enumerate() {
        sink(&mut out, format!("upd{i}"), format!("update {}", g.params[*p].name), *n);
    }
    out.push_str("}\n");
    out
}

fn node_label(g: &Graph, n: NodeId, number: usize, line_of: &dyn Fn(u32) -> Option<usize>) -> String {
    let node = g.node(n);
    let what = match &node.op {
        Op::Input(i) => format!("input {}", g.inputs[*i].name),
        Op::Param(i) => format!("param {}", g.params[*i].name),
        op => op.name(),
    };
    let mut label = format!("%{number} {what}\n{}", node.ty);
    if let Some(l) = node.origin.span.and_then(|s| line_of(s.start)) {
        let _ = write!(label, "\nline {l}");
    }
    label
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::ir::{Init, Origin, Shape, TensorType, Unary};

    #[test]
    fn phases_are_clustered_and_nodes_say_op_shape_and_line() {
        let mut g = Graph::new();
        let x = g.add_input("x", TensorType::f32(Shape::lit(&[2])), Some(Span::new(0, 1)));
        let w = g.add_param("w", Shape::lit(&[2]), Init::Const(0.0), None);
        let t = g
            .add(Op::Unary(Unary::Tanh), &[x], Origin::forward(Span::new(12, 14)))
            .unwrap();
        let b = g
            .add(
                Op::Binary(crate::ir::Binary::Mul),
                &[t, w],
                Origin::forward(Span::new(12, 14)).in_phase(Phase::Backward),
            )
            .unwrap();
        g.outputs.push(("y\"q".into(), b));
        let line_of = |off: u32| Some(if off < 10 { 1 } else { 2 });
        let dot = to_dot(&g, "m", &line_of);
        assert!(dot.starts_with("digraph \"m\" {"));
        assert!(dot.contains("subgraph cluster_forward") && dot.contains("subgraph cluster_backward"));
        assert!(dot.contains("tanh\\n[2]\\nline 2"), "{dot}");
        assert!(dot.contains("output y\\\"q"));
        assert_eq!(dot.matches(" -> ").count(), 4, "{dot}");
    }
}
