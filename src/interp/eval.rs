//! Evaluation of a graph: checking the given tensors, then one exhaustive `match` over
//! the ops, node by node in schedule order.

use super::error::InterpError;
use super::float::Float;
use super::kernels;
use super::scalar::{binary, unary};
use super::value::{NodeValue, Value};
use crate::ir::CallError;
use crate::ir::{Binder, Bindings, DType, Dim, Graph, NodeId, Op, Reduce, Shape};
use crate::tensor::Tensor;
use std::collections::HashMap;

/// The results of a graph: every output by name, the loss and every param update.
#[derive(Clone, Debug, PartialEq)]
pub struct Values<T> {
    /// Outputs in declaration order.
    pub outputs: Vec<(String, NodeValue<T>)>,
    /// The loss, if the graph has one.
    pub loss: Option<T>,
    /// `(param index, new value)` for each update.
    pub updates: Vec<(usize, Value<T>)>,
}

impl<T: Float> Values<T> {
    /// The output named `name`.
    pub fn output(&self, name: &str) -> Option<&NodeValue<T>> {
        self.outputs.iter().find(|o| o.0 == name).map(|o| &o.1)
    }

    /// Every output by name, then `loss` (a scalar) if present: what `nnc run --out` writes.
    pub fn to_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out: Vec<(String, Tensor)> = self.outputs.iter().map(|(n, v)| (n.clone(), v.to_tensor())).collect();
        if let Some(l) = self.loss {
            out.push(("loss".to_string(), Value::scalar(l).to_tensor()));
        }
        out
    }
}

/// The value of every evaluated node, and the order they were computed in.
#[derive(Clone, Debug)]
pub struct NodeValues<T> {
    /// The evaluated nodes, operands before users (the graph's schedule).
    pub order: Vec<NodeId>,
    /// The size variables' values.
    pub bindings: Bindings,
    values: HashMap<NodeId, NodeValue<T>>,
}

impl<T: Float> NodeValues<T> {
    /// The value of node `id`, if it was evaluated.
    pub fn get(&self, id: NodeId) -> Option<&NodeValue<T>> {
        self.values.get(&id)
    }

    /// The float value of node `id`, if it was evaluated and is a float.
    pub fn f(&self, id: NodeId) -> Option<&Value<T>> {
        self.get(id).and_then(NodeValue::as_f)
    }
}

/// The first node, in evaluation order, whose value has a NaN or an infinity: the op that
/// produced it (its operands, evaluated before it, were finite) or a leaf that holds one.
pub fn first_non_finite<T: Float>(values: &NodeValues<T>) -> Option<NodeId> {
    values
        .order
        .iter()
        .copied()
        .find(|&n| values.get(n).is_some_and(|v| !v.all_finite()))
}

/// Evaluates the outputs, loss and updates of `g`. `bindings` may be empty: size variables
/// are then bound from the shapes of `inputs` and `params` (given in declaration order).
pub fn eval<T: Float>(
    g: &Graph,
    bindings: &Bindings,
    inputs: &[Tensor],
    params: &[Tensor],
) -> Result<Values<T>, InterpError> {
    let (inputs, params) = leaf_values(g, inputs, params)?;
    eval_values(g, bindings, &inputs, &params)
}

/// [`eval`] with inputs and params already in precision `T` (finite differences in f64
/// need perturbations that an f32 tensor would round away).
pub fn eval_values<T: Float>(
    g: &Graph,
    bindings: &Bindings,
    inputs: &[NodeValue<T>],
    params: &[Value<T>],
) -> Result<Values<T>, InterpError> {
    let nv = eval_nodes_from(g, &g.roots(), bindings, inputs, params)?;
    let float = |id: NodeId| {
        nv.f(id).cloned().ok_or_else(|| InterpError::Internal {
            node: id,
            message: "expected a float value".into(),
        })
    };
    let outputs = g
        .outputs
        .iter()
        .map(|(name, id)| (name.clone(), nv.values[id].clone()))
        .collect();
    let loss = g.loss.map(float).transpose()?.map(|v| v.data[0]);
    let updates = g
        .updates
        .iter()
        .map(|&(p, id)| Ok((p, float(id)?)))
        .collect::<Result<_, InterpError>>()?;
    Ok(Values { outputs, loss, updates })
}

/// Evaluates every node the roots (outputs, loss, updates) depend on.
pub fn eval_nodes<T: Float>(
    g: &Graph,
    bindings: &Bindings,
    inputs: &[Tensor],
    params: &[Tensor],
) -> Result<NodeValues<T>, InterpError> {
    let (inputs, params) = leaf_values(g, inputs, params)?;
    eval_nodes_from(g, &g.roots(), bindings, &inputs, &params)
}

/// Evaluates every node that `roots` depend on (which need not be outputs), from inputs
/// and params in precision `T`.
pub fn eval_nodes_from<T: Float>(
    g: &Graph,
    roots: &[NodeId],
    bindings: &Bindings,
    inputs: &[NodeValue<T>],
    params: &[Value<T>],
) -> Result<NodeValues<T>, InterpError> {
    let bindings = check_leaves(g, bindings, inputs, params)?;
    let order = g.order_from(roots);
    check_labels(g, &order, &bindings, inputs)?;
    let mut values: HashMap<NodeId, NodeValue<T>> = HashMap::with_capacity(order.len());
    for &id in &order {
        let args: Vec<&NodeValue<T>> = g.args(id).iter().map(|a| &values[a]).collect();
        let v = eval_node(g, id, &args, &bindings, inputs, params)?;
        let want = eval_shape(&g.node(id).ty.shape, &bindings)?;
        if v.shape() != want.as_slice() {
            return Err(InterpError::Internal {
                node: id,
                message: format!("computed shape {:?}, recorded {want:?}", v.shape()),
            });
        }
        values.insert(id, v);
    }
    Ok(NodeValues {
        order,
        bindings,
        values,
    })
}

/// Host tensors as values in precision `T`, checking counts and element types.
#[allow(clippy::type_complexity)]
fn leaf_values<T: Float>(
    g: &Graph,
    inputs: &[Tensor],
    params: &[Tensor],
) -> Result<(Vec<NodeValue<T>>, Vec<Value<T>>), InterpError> {
    count("inputs", g.inputs.len(), inputs.len())?;
    count("params", g.params.len(), params.len())?;
    let inputs = inputs
        .iter()
        .map(|t| match t.as_i32() {
            Some(l) => NodeValue::Labels {
                shape: t.shape.clone(),
                data: l.to_vec(),
            },
            None => NodeValue::F(Value::from_tensor(t).unwrap_or_else(|| Value::new(vec![0], vec![]))),
        })
        .collect();
    let params = g
        .params
        .iter()
        .zip(params)
        .map(|(decl, t)| {
            Value::from_tensor(t).ok_or_else(|| {
                InterpError::Call(CallError::DType {
                    name: decl.name.clone(),
                    expected: DType::F32,
                    found: DType::I32,
                })
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((inputs, params))
}

fn count(what: &'static str, expected: usize, found: usize) -> Result<(), InterpError> {
    if expected == found {
        Ok(())
    } else {
        Err(InterpError::Call(CallError::Count { what, expected, found }))
    }
}

/// Checks counts and element types, then binds size variables from the leaves' shapes
/// (starting from `given`), checking every declared shape.
fn check_leaves<T: Float>(
    g: &Graph,
    given: &Bindings,
    inputs: &[NodeValue<T>],
    params: &[Value<T>],
) -> Result<Bindings, InterpError> {
    count("inputs", g.inputs.len(), inputs.len())?;
    count("params", g.params.len(), params.len())?;
    let mut all: Vec<(&str, &Shape, &[usize])> = Vec::new();
    for (decl, v) in g.inputs.iter().zip(inputs) {
        let found = match v {
            NodeValue::F(_) => DType::F32,
            NodeValue::Labels { .. } => DType::I32,
        };
        if found != decl.ty.dtype {
            return Err(InterpError::Call(CallError::DType {
                name: decl.name.clone(),
                expected: decl.ty.dtype,
                found,
            }));
        }
        all.push((&decl.name, &decl.ty.shape, v.shape()));
    }
    for (decl, v) in g.params.iter().zip(params) {
        all.push((&decl.name, &decl.shape, &v.shape));
    }
    let mut binder = Binder::with(given.clone());
    for (name, expected, found) in &all {
        binder.bind(name, expected, found)?;
    }
    Ok(binder.finish(g, all)?)
}

/// Rejects labels outside `[0, classes)` of every input that a `OneHot` reads, before
/// anything is computed.
fn check_labels<T: Float>(
    g: &Graph,
    order: &[NodeId],
    bindings: &Bindings,
    inputs: &[NodeValue<T>],
) -> Result<(), InterpError> {
    for &id in order {
        let Op::OneHot { classes } = &g.node(id).op else {
            continue;
        };
        let classes = eval_dim(classes, bindings)?;
        let arg = g.args(id)[0];
        let (Op::Input(i), Some(NodeValue::Labels { data, .. })) = (&g.node(arg).op, inputs.get(input_index(g, arg)))
        else {
            return Err(InterpError::Internal {
                node: id,
                message: "one_hot of something other than an i32 input".into(),
            });
        };
        if let Some((index, &label)) = data.iter().enumerate().find(|(_, &l)| l < 0 || l as usize >= classes) {
            return Err(InterpError::Call(CallError::Label {
                name: g.inputs[*i].name.clone(),
                index,
                value: label,
                classes,
            }));
        }
    }
    Ok(())
}

fn input_index(g: &Graph, n: NodeId) -> usize {
    match g.node(n).op {
        Op::Input(i) => i,
        _ => usize::MAX,
    }
}

fn eval_dim(d: &Dim, bindings: &Bindings) -> Result<usize, InterpError> {
    d.eval(bindings).map_err(|e| InterpError::Size {
        dim: d.to_string(),
        why: format!("{e:?}"),
    })
}

fn eval_shape(s: &Shape, bindings: &Bindings) -> Result<Vec<usize>, InterpError> {
    s.eval(bindings).map_err(|e| InterpError::Size {
        dim: s.to_string(),
        why: format!("{e:?}"),
    })
}

/// The value of one node from its operands' values: the interpreter's single `match`.
fn eval_node<T: Float>(
    g: &Graph,
    id: NodeId,
    args: &[&NodeValue<T>],
    bindings: &Bindings,
    inputs: &[NodeValue<T>],
    params: &[Value<T>],
) -> Result<NodeValue<T>, InterpError> {
    let internal = |message: &str| InterpError::Internal {
        node: id,
        message: message.to_string(),
    };
    let f = |k: usize| {
        args.get(k)
            .and_then(|a| a.as_f())
            .ok_or_else(|| internal("expected a float operand"))
    };
    let value = match &g.node(id).op {
        Op::Input(i) => return Ok(inputs[*i].clone()),
        Op::Param(i) => params[*i].clone(),
        Op::Const { value, per } => Value::scalar(T::from_f64(value.0 / eval_dim(per, bindings)? as f64)),
        Op::Unary(u) => kernels::map(f(0)?, |x| unary(*u, x)),
        Op::Binary(b) => kernels::zip(f(0)?, f(1)?, |x, y| binary(*b, x, y)),
        Op::Reduce { kind, axes } => match kind {
            Reduce::Sum => kernels::reduce_sum(f(0)?, axes),
            Reduce::Max => kernels::reduce_max(f(0)?, axes),
            Reduce::LogSumExp => kernels::reduce_logsumexp(f(0)?, axes),
        },
        Op::ArgMaxMask { axes } => kernels::argmax_mask(f(0)?, axes),
        Op::BroadcastTo(to) => kernels::broadcast_to(f(0)?, &eval_shape(to, bindings)?),
        Op::Reshape(to) => {
            let (to, x) = (eval_shape(to, bindings)?, f(0)?);
            if to.iter().product::<usize>() != x.data.len() {
                return Err(internal("reshape changes the element count"));
            }
            Value::new(to, x.data.clone())
        }
        Op::Transpose => kernels::transpose(f(0)?),
        Op::MatMul { ta, tb } => kernels::matmul(f(0)?, f(1)?, *ta, *tb),
        Op::OneHot { classes } => {
            let NodeValue::Labels { shape, data } = args[0] else {
                return Err(internal("one_hot of a float operand"));
            };
            let classes = eval_dim(classes, bindings)?;
            if data.iter().any(|&l| l < 0 || l as usize >= classes) {
                return Err(internal("label out of range after checking"));
            }
            kernels::one_hot(shape, data, classes)
        }
        Op::Grad => return Err(InterpError::GradNotExpanded { node: id }),
    };
    Ok(NodeValue::F(value))
}
