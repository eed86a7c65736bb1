//! The language's `grad(e, v)` and the gradient outputs of `nnc run --grad`.

use super::error::AdError;
use super::reverse::gradients;
use crate::ir::{DType, Graph, NodeId, Op};

/// Replaces every `Op::Grad` node (operands `[e, v]`) by the gradient of `e` with respect
/// to `v`, innermost first, then removes dead nodes. The result is ordinary IR, so a grad
/// of a grad (and training through one) just differentiates again.
pub fn expand_grads(g: &mut Graph) -> Result<(), AdError> {
    g.remove_dead();
    // A grad inside the definition of another's `e` is an ancestor of it, so it comes
    // first in this topological order: expanding in order is innermost first. Expanding
    // one only replaces it by nodes built from its own ancestors, so the order stays valid.
    let grads: Vec<NodeId> = g
        .schedule()
        .into_iter()
        .filter(|&n| matches!(g.node(n).op, Op::Grad))
        .collect();
    for n in grads {
        let args = g.args(n);
        let (e, v) = match args.as_slice() {
            &[e, v] => (e, v),
            _ => {
                return Err(AdError::Internal {
                    node: n,
                    message: format!("grad with {} operands", args.len()),
                })
            }
        };
        let r = gradients(g, e, &[v])?[0];
        g.replace_uses(n, r);
        g.remove(n);
    }
    g.remove_dead();
    Ok(())
}

/// Expands `grad` nodes, then appends an output `grad.NAME` for every param (when
/// `params`) and every f32 input (when `inputs`): the gradient of the loss.
pub fn add_gradient_outputs(g: &mut Graph, params: bool, inputs: bool) -> Result<(), AdError> {
    if g.loss.is_none() {
        return Err(AdError::NoLoss);
    }
    expand_grads(g)?;
    let loss = g.loss.ok_or(AdError::NoLoss)?;
    let mut wrt = Vec::new();
    let mut names = Vec::new();
    if params {
        for (i, p) in g.params.iter().enumerate() {
            wrt.push(g.param_node(i));
            names.push(format!("grad.{}", p.name));
        }
    }
    if inputs {
        for (i, decl) in g.inputs.iter().enumerate() {
            if decl.ty.dtype == DType::F32 {
                wrt.push(g.input_node(i));
                names.push(format!("grad.{}", decl.name));
            }
        }
    }
    let grads = gradients(g, loss, &wrt)?;
    g.outputs.extend(names.into_iter().zip(grads));
    Ok(())
}
