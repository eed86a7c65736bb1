//! The IR verifier: run after lowering, after differentiation and after every pass in tests.

use super::graph::{Graph, NodeId};
use super::op::{DType, Op};
use std::fmt;

/// An invariant of the graph that does not hold. Always a compiler bug, never a user error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The offending node, if one.
    pub node: Option<NodeId>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node {
            Some(n) => write!(f, "IR verifier: node {}: {}", n.index(), self.message),
            None => write!(f, "IR verifier: {}", self.message),
        }
    }
}

impl std::error::Error for VerifyError {}

/// What else the verifier requires beyond well-formedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Expect {
    /// No `Op::Grad` remains (after `autodiff::expand_grads`).
    pub grads_expanded: bool,
}

/// Checks that the graph is well formed: acyclic; every operand list is contiguous and
/// its length fits the op; every node's recorded type is what the shape rule gives; leaves
/// match their declarations; roots exist, the loss is a scalar and updates keep shapes.
pub fn verify(g: &Graph, expect: Expect) -> Result<(), VerifyError> {
    let err = |node: Option<NodeId>, message: String| Err(VerifyError { node, message });
    // `toposort` walks with an explicit stack; `is_cyclic_directed` recurses and overflows
    // the stack on long chains (a 50,000-term sum).
    if petgraph::algo::toposort(g.petgraph(), None).is_err() {
        return err(None, "the graph has a cycle".into());
    }
    for (i, decl) in g.inputs.iter().enumerate() {
        let n = g.input_node(i);
        if !g.contains(n) || g.node(n).op != Op::Input(i) || g.node(n).ty != decl.ty {
            return err(Some(n), format!("input {i} ({}) does not match its leaf", decl.name));
        }
    }
    for (i, decl) in g.params.iter().enumerate() {
        let n = g.param_node(i);
        if !g.contains(n) || g.node(n).op != Op::Param(i) || g.node(n).ty.shape != decl.shape {
            return err(Some(n), format!("param {i} ({}) does not match its leaf", decl.name));
        }
    }
    for id in g.node_ids() {
        let node = g.node(id);
        let args = g.args(id);
        let mut positions: Vec<u32> = g
            .petgraph()
            .edges_directed(id, petgraph::Direction::Incoming)
            .map(|e| *e.weight())
            .collect();
        positions.sort_unstable();
        if positions.iter().enumerate().any(|(i, &p)| p as usize != i) {
            return err(Some(id), format!("operand positions {positions:?} are not 0..n"));
        }
        match &node.op {
            Op::Input(_) | Op::Param(_) => {
                if !args.is_empty() {
                    return err(Some(id), "a leaf has operands".into());
                }
            }
            op => {
                let tys: Vec<_> = args.iter().map(|&a| &g.node(a).ty).collect();
                match op.result_type(&tys) {
                    Ok(t) if t == node.ty => {}
                    Ok(t) => {
                        return err(
                            Some(id),
                            format!("{} records type {} but its rule gives {t}", op.name(), node.ty),
                        )
                    }
                    Err(e) => return err(Some(id), format!("{}: {e}", op.name())),
                }
            }
        }
        if let Op::Grad = node.op {
            if expect.grads_expanded {
                return err(Some(id), "grad node left after expansion".into());
            }
            if !matches!(g.node(args[1]).op, Op::Input(_) | Op::Param(_)) {
                return err(Some(id), "grad with respect to a non-leaf".into());
            }
        }
    }
    for (name, n) in &g.outputs {
        if !g.contains(*n) {
            return err(Some(*n), format!("output {name} names a removed node"));
        }
    }
    if let Some(l) = g.loss {
        if !g.contains(l) || g.node(l).ty.shape.rank() != 0 || g.node(l).ty.dtype != DType::F32 {
            return err(Some(l), "loss is not a live f32 scalar".into());
        }
    }
    for &(p, n) in &g.updates {
        if p >= g.params.len() || !g.contains(n) || g.node(n).ty.shape != g.params[p].shape {
            return err(Some(n), format!("update of param {p} has the wrong shape or target"));
        }
    }
    Ok(())
}
