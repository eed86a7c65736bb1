//! The IR graph: tensor operations with static symbolic shapes, stored in petgraph.
//!
//! Operands are incoming edges whose weight is the operand position. Leaves (`Input`,
//! `Param`) exist exactly once each and are never removed, so an index into
//! [`Graph::inputs`] or [`Graph::params`] always names a live node.

use super::op::{DType, Op, ShapeError, TensorType, F64};
use super::shape::Shape;
use super::Dim;
use crate::diag::Span;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, NodeIndexable};
use petgraph::Direction;

/// A node of the graph.
pub type NodeId = NodeIndex<u32>;

/// Which part of the computation a node belongs to, for printers and error messages.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Phase {
    /// Written by the user (or a composite built-in's expansion).
    #[default]
    Forward,
    /// Made by differentiation.
    Backward,
    /// Made by an optimiser's parameter update.
    Update,
}

/// Where a node came from: the source expression (also for backward nodes, whose span is
/// that of the forward expression they differentiate) and its phase.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Origin {
    /// The source span, if the node comes from a model file.
    pub span: Option<Span>,
    /// Forward, backward or update.
    pub phase: Phase,
}

impl Origin {
    /// A forward node from this span.
    pub fn forward(span: Span) -> Origin {
        Origin {
            span: Some(span),
            phase: Phase::Forward,
        }
    }
    /// The same source position, in another phase.
    pub fn in_phase(self, phase: Phase) -> Origin {
        Origin { phase, ..self }
    }
}

/// One operation with its result type.
#[derive(Clone, Debug)]
pub struct Node {
    /// The operation.
    pub op: Op,
    /// Element type and shape of the result.
    pub ty: TensorType,
    /// Provenance.
    pub origin: Origin,
}

/// How a param is initialised (LANGUAGE.md §7).
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// Fill with a constant (`zeros`, `ones`, a number).
    Const(f64),
    /// Gaussian.
    Normal {
        /// mean
        mean: f64,
        /// standard deviation
        std: f64,
    },
    /// Uniform on `[lo, hi)`.
    Uniform {
        /// lower bound
        lo: f64,
        /// upper bound
        hi: f64,
    },
    /// Gaussian with std `sqrt(2 / fan_in)`.
    HeNormal,
    /// Uniform with bound `sqrt(6 / fan_in)`.
    HeUniform,
    /// Gaussian with std `sqrt(2 / (fan_in + fan_out))`.
    GlorotNormal,
    /// Uniform with bound `sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
}

/// A named input of the graph.
#[derive(Clone, Debug)]
pub struct InputDecl {
    /// Name in the model.
    pub name: String,
    /// Declared type.
    pub ty: TensorType,
    /// Where it was declared.
    pub span: Option<Span>,
}

/// A named param of the graph (always f32).
#[derive(Clone, Debug)]
pub struct ParamDecl {
    /// Name in the model (or of optimiser state, e.g. `adam.m.W1`).
    pub name: String,
    /// Declared shape.
    pub shape: Shape,
    /// Initialiser.
    pub init: Init,
    /// Where it was declared.
    pub span: Option<Span>,
}

/// A graph of tensor operations with named inputs, params, outputs, an optional loss and
/// optional in-place param updates (the training step).
#[derive(Clone, Debug, Default)]
pub struct Graph {
    g: StableDiGraph<Node, u32>,
    /// Inputs, by index of `Op::Input`.
    pub inputs: Vec<InputDecl>,
    /// Params, by index of `Op::Param`.
    pub params: Vec<ParamDecl>,
    input_nodes: Vec<NodeId>,
    param_nodes: Vec<NodeId>,
    /// Named results, in declaration order.
    pub outputs: Vec<(String, NodeId)>,
    /// The scalar objective, if any.
    pub loss: Option<NodeId>,
    /// `(param index, new value)`: assignments applied together after evaluation.
    pub updates: Vec<(usize, NodeId)>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Declares an input and returns its leaf node.
    pub fn add_input(&mut self, name: &str, ty: TensorType, span: Option<Span>) -> NodeId {
        let index = self.inputs.len();
        self.inputs.push(InputDecl {
            name: name.to_string(),
            ty: ty.clone(),
            span,
        });
        let id = self.g.add_node(Node {
            op: Op::Input(index),
            ty,
            origin: Origin {
                span,
                phase: Phase::Forward,
            },
        });
        self.input_nodes.push(id);
        id
    }

    /// Declares a param and returns its leaf node.
    pub fn add_param(&mut self, name: &str, shape: Shape, init: Init, span: Option<Span>) -> NodeId {
        let index = self.params.len();
        self.params.push(ParamDecl {
            name: name.to_string(),
            shape: shape.clone(),
            init,
            span,
        });
        let node = Node {
            op: Op::Param(index),
            ty: TensorType::f32(shape),
            origin: Origin {
                span,
                phase: Phase::Forward,
            },
        };
        let id = self.g.add_node(node);
        self.param_nodes.push(id);
        id
    }

    /// The leaf node of input `i`.
    pub fn input_node(&self, i: usize) -> NodeId {
        self.input_nodes[i]
    }

    /// The leaf node of param `i`.
    pub fn param_node(&self, i: usize) -> NodeId {
        self.param_nodes[i]
    }

    /// Adds `op` applied to `args`, checking the shape rule.
    pub fn add(&mut self, op: Op, args: &[NodeId], origin: Origin) -> Result<NodeId, ShapeError> {
        if matches!(op, Op::Input(_) | Op::Param(_)) {
            return Err(ShapeError::Other("declare leaves with add_input / add_param".into()));
        }
        let ty = {
            let tys: Vec<&TensorType> = args.iter().map(|&a| &self.g[a].ty).collect();
            op.result_type(&tys)?
        };
        let id = self.g.add_node(Node { op, ty, origin });
        for (pos, &a) in args.iter().enumerate() {
            self.g.add_edge(a, id, pos as u32);
        }
        Ok(id)
    }

    /// Adds the f32 scalar constant `value`.
    pub fn constant(&mut self, value: f64, origin: Origin) -> NodeId {
        self.add(
            Op::Const {
                value: F64(value),
                per: Dim::one(),
            },
            &[],
            origin,
        )
        .expect("a constant has no operands to mismatch")
    }

    /// The node `id`. Panics if `id` was removed: holding a dead id is a bug in a pass.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.g[id]
    }

    /// Whether `id` names a node of this graph.
    pub fn contains(&self, id: NodeId) -> bool {
        self.g.contains_node(id)
    }

    /// The operands of `id`, in order.
    pub fn args(&self, id: NodeId) -> Vec<NodeId> {
        let mut edges: Vec<(u32, NodeId)> = self
            .g
            .edges_directed(id, Direction::Incoming)
            .map(|e| (*e.weight(), e.source()))
            .collect();
        edges.sort_unstable_by_key(|e| e.0);
        edges.into_iter().map(|e| e.1).collect()
    }

    /// The nodes that use `id` as an operand (once per use).
    pub fn users(&self, id: NodeId) -> Vec<NodeId> {
        self.g
            .edges_directed(id, Direction::Outgoing)
            .map(|e| e.target())
            .collect()
    }

    /// All node ids, in index order.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.g.node_indices().collect()
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.g.node_count()
    }

    /// The nodes the results depend on (outputs, loss, updates), in that order.
    pub fn roots(&self) -> Vec<NodeId> {
        let mut roots: Vec<NodeId> = self.outputs.iter().map(|o| o.1).collect();
        roots.extend(self.loss);
        roots.extend(self.updates.iter().map(|u| u.1));
        roots
    }

    /// Every node reachable from the roots, operands before users; among independent
    /// nodes, the order of first use from the roots. Deterministic, so printers are stable.
    pub fn schedule(&self) -> Vec<NodeId> {
        self.order_from(&self.roots())
    }

    /// Nodes reachable from `roots`, operands first, deterministic.
    pub fn order_from(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut state = vec![0u8; self.g.node_bound()];
        let mut order = Vec::new();
        // Explicit stack: graphs of 50,000-term sums must not overflow the call stack.
        let mut stack: Vec<(NodeId, bool)> = roots.iter().rev().map(|&r| (r, false)).collect();
        while let Some((n, expanded)) = stack.pop() {
            let s = &mut state[n.index()];
            if expanded {
                if *s == 1 {
                    *s = 2;
                    order.push(n);
                }
                continue;
            }
            if *s != 0 {
                continue;
            }
            *s = 1;
            stack.push((n, true));
            for a in self.args(n).into_iter().rev() {
                if state[a.index()] == 0 {
                    stack.push((a, false));
                }
            }
        }
        order
    }

    /// Makes every use of `old` (operands, outputs, loss, updates) use `new` instead.
    pub fn replace_uses(&mut self, old: NodeId, new: NodeId) {
        if old == new {
            return;
        }
        let uses: Vec<(petgraph::stable_graph::EdgeIndex<u32>, NodeId, u32)> = self
            .g
            .edges_directed(old, Direction::Outgoing)
            .map(|e| (e.id(), e.target(), *e.weight()))
            .collect();
        for (edge, user, pos) in uses {
            self.g.remove_edge(edge);
            self.g.add_edge(new, user, pos);
        }
        for o in &mut self.outputs {
            if o.1 == old {
                o.1 = new;
            }
        }
        if self.loss == Some(old) {
            self.loss = Some(new);
        }
        for u in &mut self.updates {
            if u.1 == old {
                u.1 = new;
            }
        }
    }

    /// Removes a non-leaf node and its edges. Leaves stay: their indices name the decls.
    pub fn remove(&mut self, id: NodeId) {
        if !matches!(self.g[id].op, Op::Input(_) | Op::Param(_)) {
            self.g.remove_node(id);
        }
    }

    /// Removes many non-leaf nodes, newest first. petgraph unlinks an edge by walking its
    /// endpoints' edge lists from the newest edge, so removing nodes one by one in
    /// schedule order is quadratic in the fan-out of a shared operand (50,000 users of
    /// `x` in a long sum); newest first finds each edge near the head of the list.
    pub fn remove_all(&mut self, mut nodes: Vec<NodeId>) {
        nodes.sort_unstable_by_key(|n| std::cmp::Reverse(n.index()));
        nodes.dedup();
        for n in nodes {
            self.remove(n);
        }
    }

    /// Removes every non-leaf node that no root depends on. Returns how many went.
    pub fn remove_dead(&mut self) -> usize {
        let mut live = vec![false; self.g.node_bound()];
        for n in self.schedule() {
            live[n.index()] = true;
        }
        let dead: Vec<NodeId> = self
            .g
            .node_indices()
            .filter(|n| !live[n.index()] && !matches!(self.g[*n].op, Op::Input(_) | Op::Param(_)))
            .collect();
        // Newest first: petgraph unlinks each edge by walking its endpoints' edge lists from
        // the newest edge, so oldest-first is quadratic in the fan-out of a shared operand.
        for &n in dead.iter().rev() {
            self.g.remove_node(n);
        }
        dead.len()
    }

    /// Replaces the op of `id` in place (same operands); the caller keeps the type valid
    /// and the verifier checks it.
    pub fn set_op(&mut self, id: NodeId, op: Op) {
        self.g[id].op = op;
    }

    /// The underlying petgraph, for algorithms (read-only).
    pub fn petgraph(&self) -> &StableDiGraph<Node, u32> {
        &self.g
    }

    /// The element type of node `id`.
    pub fn dtype(&self, id: NodeId) -> DType {
        self.g[id].ty.dtype
    }

    /// The shape of node `id`.
    pub fn shape(&self, id: NodeId) -> &Shape {
        &self.g[id].ty.shape
    }

    /// The index of the output named `name`.
    pub fn output(&self, name: &str) -> Option<NodeId> {
        self.outputs.iter().find(|o| o.0 == name).map(|o| o.1)
    }

    /// Size variables mentioned by any input or param, sorted by name.
    pub fn size_vars(&self) -> Vec<std::sync::Arc<str>> {
        let mut vars: Vec<std::sync::Arc<str>> = self
            .inputs
            .iter()
            .flat_map(|i| i.ty.shape.dims().to_vec())
            .chain(self.params.iter().flat_map(|p| p.shape.dims().to_vec()))
            .flat_map(|d| d.vars().cloned().collect::<Vec<_>>())
            .collect();
        vars.sort();
        vars.dedup();
        vars
    }
}
