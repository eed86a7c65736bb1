//! Printing a graph back as a `.nn` model (`nnc compile --emit grad-nn`).
//!
//! Every interior node becomes one `let`, named after the output it is (if any) or `tK`
//! with `K` its number in schedule order (as in `--emit ir`). Output names that are not
//! identifiers are mapped character by character: anything outside `[A-Za-z0-9_]`
//! becomes `_` (`grad.W1` -> `grad_W1`); a keyword, built-in or size-variable name gets a
//! trailing `_`; a clash gets `_2`, `_3`, ...
//!
//! Every primitive has a surface form: the built-ins of LANGUAGE.md, plus nnc's extension
//! built-ins for the primitives that differentiation introduces (docs/language-notes.md):
//! `step`, `sign`, `greater_eq`, `one_hot`, `broadcast_to`, `argmax_mask`, and a size
//! variable as a divisor for the constant `c / N` of a mean (`1.0 / N`, `1.0 / (3 * N)`).
//! Each reads back as exactly the same primitive, so the printed model computes the same
//! values bit for bit (except reductions over several but not all axes, printed as nested
//! single-axis reductions, and `mean`/`cross_entropy`, recognised in their expanded forms
//! and printed as the built-ins).
//!
//! Errors: a training step's param updates have no form in a model; nor do declared
//! shapes with product dimensions (`[2*N]`), an `argmax_mask` over several but not all
//! axes, or a constant `c / N` when an input or param is itself named `N`.

use super::dim::Dim;
use super::graph::{Graph, Init, NodeId};
use super::op::{Binary, DType, Op, Reduce, Unary};
use super::shape::Shape;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;
use thiserror::Error;

/// Why a graph cannot be printed as a `.nn` model.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EmitError {
    /// A primitive with no equivalent in the language at this place.
    #[error("node {}: `{op}` has no form in the .nn language", node.index())]
    NoSurfaceForm {
        /// the node
        node: NodeId,
        /// its op's name
        op: String,
    },
    /// A declared or reshaped shape the language cannot write (product dimensions).
    #[error("shape {shape} of {what} cannot be written in the .nn language")]
    Shape {
        /// what has it
        what: String,
        /// the shape
        shape: String,
    },
    /// A constant `c / N` where an input or param named `N` hides the size variable.
    #[error("the size variable {var} is hidden by a tensor of the same name, so `c / {var}` cannot be written")]
    SizeHidden {
        /// the size variable
        var: String,
    },
    /// The graph updates params (a training step), which a model cannot express.
    #[error("a training step (param updates) has no form in the .nn language")]
    Updates,
}

const RESERVED: &[&str] = &[
    "fn",
    "model",
    "input",
    "param",
    "let",
    "output",
    "loss",
    "return",
    "true",
    "false",
    "f32",
    "i32",
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "softplus",
    "sin",
    "cos",
    "leaky_relu",
    "gelu",
    "maximum",
    "minimum",
    "sum",
    "mean",
    "max",
    "logsumexp",
    "softmax",
    "log_softmax",
    "cross_entropy",
    "mse",
    "reshape",
    "grad",
    "transpose",
    "step",
    "sign",
    "greater_eq",
    "one_hot",
    "broadcast_to",
    "argmax_mask",
];

/// Prints `g` as a model named `model_name`.
pub fn to_nn(g: &Graph, model_name: &str) -> Result<String, EmitError> {
    if !g.updates.is_empty() {
        return Err(EmitError::Updates);
    }
    let mut e = Emitter::new(g);
    e.run(&identifier(model_name))
}

/// `s` as an identifier: other characters become `_`, a leading digit gets a `_` before
/// it, a reserved word a `_` after it.
fn identifier(s: &str) -> String {
    let mut id: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, '_');
    }
    if RESERVED.contains(&id.as_str()) {
        id.push('_');
    }
    id
}

/// A number as an expression: the shortest text that reads back as the same `f64`.
fn literal(v: f64) -> String {
    if v.is_nan() {
        "(0 / 0)".into()
    } else if v.is_infinite() {
        if v > 0.0 { "(1 / 0)" } else { "(-1 / 0)" }.into()
    } else if v < 0.0 || (v == 0.0 && v.is_sign_negative()) {
        format!("({v:?})")
    } else {
        format!("{v:?}")
    }
}

/// A dimension as written in a shape list or a divisor: `784`, `N`, `2 * N * N`.
fn dim_product(d: &Dim) -> String {
    d.to_string().replace('*', " * ")
}

/// A dimension as written in a declared type, if it can be.
fn dim_text(d: &Dim) -> Option<String> {
    if let Some(n) = d.as_lit() {
        return Some(n.to_string());
    }
    let vars: Vec<&Arc<str>> = d.vars().collect();
    (vars.len() == 1 && *d == Dim::var(vars[0])).then(|| vars[0].to_string())
}

fn shape_text(s: &Shape, what: &str) -> Result<String, EmitError> {
    let dims: Option<Vec<String>> = s.dims().iter().map(dim_text).collect();
    dims.map(|d| format!("[{}]", d.join(", ")))
        .ok_or_else(|| EmitError::Shape {
            what: what.to_string(),
            shape: s.to_string(),
        })
}

fn init_text(init: &Init) -> String {
    match init {
        Init::Const(c) if *c == 0.0 => "zeros".into(),
        Init::Const(c) if *c == 1.0 => "ones".into(),
        Init::Const(c) if *c < 0.0 => format!("-{:?}", -c),
        Init::Const(c) => format!("{c:?}"),
        Init::Normal { mean, std } => format!("normal(mean={}, std={})", literal(*mean), literal(*std)),
        Init::Uniform { lo, hi } => format!("uniform({}, {})", literal(*lo), literal(*hi)),
        Init::HeNormal => "he_normal".into(),
        Init::HeUniform => "he_uniform".into(),
        Init::GlorotNormal => "glorot_normal".into(),
        Init::GlorotUniform => "glorot_uniform".into(),
    }
}

/// Writes a call from the names of its arguments.
type CallText = Box<dyn Fn(&[String]) -> String>;

/// A recognised composite: the built-in call and the nodes it reads.
struct Idiom {
    text_of: CallText,
    reads: Vec<NodeId>,
}

struct Emitter<'g> {
    g: &'g Graph,
    /// The expression naming each defined node (an identifier, or a literal for constants).
    names: HashMap<NodeId, String>,
    taken: HashSet<String>,
    lines: Vec<String>,
}

impl<'g> Emitter<'g> {
    fn new(g: &'g Graph) -> Emitter<'g> {
        Emitter {
            g,
            names: HashMap::new(),
            taken: HashSet::new(),
            lines: Vec::new(),
        }
    }

    fn fresh(&mut self, base: &str) -> String {
        let base = identifier(base);
        let mut name = base.clone();
        let mut k = 2;
        while self.taken.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    fn run(&mut self, model: &str) -> Result<String, EmitError> {
        let g = self.g;
        // Size variables are values in expressions (`1.0 / N`): no let may hide one.
        let size_vars = g.size_vars();
        let mut head = Vec::new();
        for (i, d) in g.inputs.iter().enumerate() {
            let name = self.fresh(&d.name);
            let ty = shape_text(&d.ty.shape, &d.name)?;
            let ty = if d.ty.dtype == DType::I32 {
                format!("i32{ty}")
            } else {
                ty
            };
            head.push(format!("    input {name}: {ty}"));
            self.names.insert(g.input_node(i), name);
        }
        for (i, d) in g.params.iter().enumerate() {
            let name = self.fresh(&d.name);
            head.push(format!(
                "    param {name}: {} = {}",
                shape_text(&d.shape, &d.name)?,
                init_text(&d.init)
            ));
            self.names.insert(g.param_node(i), name);
        }
        self.taken.extend(size_vars.iter().map(|v| v.to_string()));
        let order = g.schedule();
        let number: HashMap<NodeId, usize> = order.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let idioms: HashMap<NodeId, Idiom> = order.iter().filter_map(|&n| self.idiom(n).map(|i| (n, i))).collect();
        let needed = self.needed(&idioms);
        let mut output_name: HashMap<NodeId, &str> = HashMap::new();
        let mut named_for_output: HashSet<NodeId> = HashSet::new();
        for (name, n) in g.outputs.iter().rev() {
            output_name.insert(*n, name);
        }
        for &n in &order {
            if !needed.contains(&n) || self.names.contains_key(&n) {
                continue;
            }
            if let Op::Const { value, per } = &g.node(n).op {
                if per.is_one() {
                    self.names.insert(n, literal(value.0));
                    continue;
                }
            }
            let expr = match idioms.get(&n) {
                Some(i) => (i.text_of)(&i.reads.iter().map(|r| self.names[r].clone()).collect::<Vec<_>>()),
                None => self.expr(n)?,
            };
            let name = match output_name.get(&n) {
                Some(o) => {
                    named_for_output.insert(n);
                    self.fresh(o)
                }
                None => self.fresh(&format!("t{}", number[&n])),
            };
            self.lines.push(format!("    let {name} = {expr}"));
            self.names.insert(n, name);
        }
        let mut tail = Vec::new();
        let mut announced: HashSet<NodeId> = HashSet::new();
        for (o, n) in &g.outputs {
            let node_name = self.names[n].clone();
            let same_leaf = g.node(*n).op.is_leaf() && node_name == identifier(o);
            if (named_for_output.contains(n) || same_leaf) && announced.insert(*n) {
                tail.push(format!("    output {node_name}"));
            } else {
                let name = self.fresh(o);
                tail.push(format!("    output {name} = {node_name}"));
            }
        }
        if let Some(l) = g.loss {
            tail.push(format!("    loss = {}", self.names[&l]));
        }
        let mut out = String::new();
        let _ = writeln!(out, "// Printed by nnc from its IR: one `let` per operation.");
        let _ = writeln!(out, "model {model} {{");
        for l in head.iter().chain(&self.lines).chain(&tail) {
            let _ = writeln!(out, "{l}");
        }
        out.push_str("}\n");
        Ok(out)
    }

    /// The nodes the printed model computes: those the roots read, where a recognised
    /// composite reads only its arguments.
    fn needed(&self, idioms: &HashMap<NodeId, Idiom>) -> HashSet<NodeId> {
        let mut seen = HashSet::new();
        let mut stack = self.g.roots();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                match idioms.get(&n) {
                    Some(i) => stack.extend(&i.reads),
                    None => stack.extend(self.g.args(n)),
                }
            }
        }
        seen
    }

    /// `mean(x[, axis=k])` for `sum(x, axes) * (1 / numel of axes)`, and
    /// `cross_entropy(L, y)` for `(sum(lse(L, 1)) - sum(one_hot(y) * L)) * (1 / N)`.
    fn idiom(&self, n: NodeId) -> Option<Idiom> {
        let g = self.g;
        if g.node(n).op != Op::Binary(Binary::Mul) {
            return None;
        }
        let args = g.args(n);
        let (body, per) = [(args[0], args[1]), (args[1], args[0])]
            .into_iter()
            .find_map(|(b, k)| match &g.node(k).op {
                Op::Const { value, per } if value.0 == 1.0 => Some((b, per.clone())),
                _ => None,
            })?;
        match &g.node(body).op {
            Op::Reduce {
                kind: Reduce::Sum,
                axes,
            } => {
                let x = g.args(body)[0];
                let dims: Vec<Dim> = axes.iter().map(|&a| g.shape(x).0[a].clone()).collect();
                if Dim::product(&dims)? != per {
                    return None;
                }
                if axes.len() == g.shape(x).rank() && !axes.is_empty() {
                    return Some(Idiom {
                        text_of: Box::new(|r| format!("mean({})", r[0])),
                        reads: vec![x],
                    });
                }
                if let &[k] = axes.as_slice() {
                    return Some(Idiom {
                        text_of: Box::new(move |r| format!("mean({}, axis={k})", r[0])),
                        reads: vec![x],
                    });
                }
                None
            }
            Op::Binary(Binary::Sub) => {
                let (lse_sum, picked_sum) = match g.args(body).as_slice() {
                    &[a, b] => (a, b),
                    _ => return None,
                };
                let logits = self.sum_all_of(
                    lse_sum,
                    |op| matches!(op, Op::Reduce { kind: Reduce::LogSumExp, axes } if axes == &[1]),
                )?;
                let product = self.sum_all_of(picked_sum, |op| *op == Op::Binary(Binary::Mul))?;
                let pa = g.args(product);
                let (oh, other) = [(pa[0], pa[1]), (pa[1], pa[0])]
                    .into_iter()
                    .find(|(o, _)| matches!(g.node(*o).op, Op::OneHot { .. }))?;
                let logits = g.args(logits)[0];
                if other != logits || g.shape(logits).rank() != 2 || g.shape(logits).0[0] != per {
                    return None;
                }
                Some(Idiom {
                    text_of: Box::new(|r| format!("cross_entropy({}, {})", r[0], r[1])),
                    reads: vec![logits, g.args(oh)[0]],
                })
            }
            _ => None,
        }
    }

    /// If `n` sums all axes of a node whose op satisfies `inner`, that node.
    fn sum_all_of(&self, n: NodeId, inner: impl Fn(&Op) -> bool) -> Option<NodeId> {
        let g = self.g;
        let Op::Reduce {
            kind: Reduce::Sum,
            axes,
        } = &g.node(n).op
        else {
            return None;
        };
        let x = g.args(n)[0];
        (axes.len() == g.shape(x).rank() && inner(&g.node(x).op)).then_some(x)
    }

    /// The expression computing node `n` from its operands' names.
    fn expr(&mut self, n: NodeId) -> Result<String, EmitError> {
        let g = self.g;
        let args: Vec<String> = g.args(n).iter().map(|a| self.names[a].clone()).collect();
        let a = || args[0].clone();
        let no_form = || EmitError::NoSurfaceForm {
            node: n,
            op: g.node(n).op.name(),
        };
        Ok(match &g.node(n).op {
            Op::Input(_) | Op::Param(_) => return Err(no_form()),
            Op::Const { value, per } => match per.as_lit() {
                // Exact: the interpreter and the JIT compute `value / per` in f64 too.
                Some(k) => literal(value.0 / k as f64),
                None => {
                    if let Some(v) = per.vars().find(|v| self.taken_by_leaf(v)) {
                        return Err(EmitError::SizeHidden { var: v.to_string() });
                    }
                    match dim_text(per) {
                        Some(var) => format!("{} / {var}", literal(value.0)),
                        None => format!("{} / ({})", literal(value.0), dim_product(per)),
                    }
                }
            },
            Op::Unary(u) => match u {
                Unary::Neg => format!("-{}", a()),
                Unary::Pow(c) => format!("{} ^ {:?}", a(), c.0),
                Unary::LeakyRelu(al) => format!("leaky_relu({}, alpha={})", a(), literal(al.0)),
                // The rest are built-in calls `f(x)` (`call: true` in `ir/unary_table.rs`).
                u => match u.call_name() {
                    Some(f) => format!("{f}({})", a()),
                    None => return Err(no_form()),
                },
            },
            Op::Binary(b) => {
                let (x, y) = (&args[0], &args[1]);
                match b {
                    Binary::Add => format!("{x} + {y}"),
                    Binary::Sub => format!("{x} - {y}"),
                    Binary::Mul => format!("{x} * {y}"),
                    Binary::Div => format!("{x} / {y}"),
                    Binary::Max => format!("maximum({x}, {y})"),
                    Binary::Min => format!("minimum({x}, {y})"),
                    Binary::GreaterEq => format!("greater_eq({x}, {y})"),
                }
            }
            Op::Reduce { kind, axes } => {
                let f = match kind {
                    Reduce::Sum => "sum",
                    Reduce::Max => "max",
                    Reduce::LogSumExp => "logsumexp",
                };
                if *kind != Reduce::LogSumExp && !axes.is_empty() && axes.len() == g.shape(args_node(g, n)).rank() {
                    format!("{f}({})", a())
                } else {
                    axes.iter().rev().fold(a(), |e, k| format!("{f}({e}, axis={k})"))
                }
            }
            Op::ArgMaxMask { axes } => {
                let rank = g.shape(args_node(g, n)).rank();
                match axes.as_slice() {
                    _ if axes.len() == rank => format!("argmax_mask({})", a()),
                    [k] => format!("argmax_mask({}, axis={k})", a()),
                    _ => return Err(no_form()),
                }
            }
            Op::BroadcastTo(to) => format!("broadcast_to({}, {})", a(), shape_list(to)),
            Op::Reshape(to) => format!("reshape({}, {})", a(), shape_list(to)),
            Op::Transpose => format!("{}.T", a()),
            Op::MatMul { ta, tb } => format!(
                "{}{} @ {}{}",
                args[0],
                if *ta { ".T" } else { "" },
                args[1],
                if *tb { ".T" } else { "" }
            ),
            Op::OneHot { classes } => format!("one_hot({}, {})", a(), dim_product(classes)),
            Op::Grad => format!("grad({}, {})", args[0], args[1]),
        })
    }

    /// Whether an input or param has the name `v` (hiding the size variable `v`).
    fn taken_by_leaf(&self, v: &str) -> bool {
        self.g.inputs.iter().any(|d| d.name == v) || self.g.params.iter().any(|d| d.name == v)
    }
}

/// A shape as the bracketed list of `reshape` and `broadcast_to`.
fn shape_list(s: &Shape) -> String {
    let dims: Vec<String> = s.dims().iter().map(dim_product).collect();
    format!("[{}]", dims.join(", "))
}

fn args_node(g: &Graph, n: NodeId) -> NodeId {
    g.args(n)[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Origin, TensorType, F64};

    fn add(g: &mut Graph, op: Op, args: &[NodeId]) -> NodeId {
        g.add(op, args, Origin::default()).unwrap()
    }

    fn classifier() -> (Graph, NodeId, NodeId) {
        let n = Dim::var("N");
        let mut g = Graph::new();
        let x = g.add_input("x", TensorType::f32(Shape(vec![n.clone(), Dim::lit(3)])), None);
        let y = g.add_input(
            "y",
            TensorType {
                dtype: DType::I32,
                shape: Shape(vec![n.clone()]),
            },
            None,
        );
        let w = g.add_param("W", Shape::lit(&[3, 2]), Init::Normal { mean: 0.0, std: 0.5 }, None);
        let logits = add(&mut g, Op::MatMul { ta: false, tb: false }, &[x, w]);
        let lse = add(
            &mut g,
            Op::Reduce {
                kind: Reduce::LogSumExp,
                axes: vec![1],
            },
            &[logits],
        );
        let s1 = add(
            &mut g,
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0],
            },
            &[lse],
        );
        let oh = add(&mut g, Op::OneHot { classes: Dim::lit(2) }, &[y]);
        let picked = add(&mut g, Op::Binary(Binary::Mul), &[oh, logits]);
        let s2 = add(
            &mut g,
            Op::Reduce {
                kind: Reduce::Sum,
                axes: vec![0, 1],
            },
            &[picked],
        );
        let d = add(&mut g, Op::Binary(Binary::Sub), &[s1, s2]);
        let k = add(
            &mut g,
            Op::Const {
                value: F64(1.0),
                per: n,
            },
            &[],
        );
        let ce = add(&mut g, Op::Binary(Binary::Mul), &[d, k]);
        g.loss = Some(ce);
        (g, logits, oh)
    }

    #[test]
    fn prints_declarations_lets_outputs_and_recognised_composites() {
        let (mut g, logits, _) = classifier();
        let sq = add(&mut g, Op::Unary(Unary::Pow(F64(-1.5))), &[logits]);
        let st = add(&mut g, Op::Unary(Unary::Step), &[logits]);
        let m = add(
            &mut g,
            Op::Reduce {
                kind: Reduce::Max,
                axes: vec![0, 1],
            },
            &[st],
        );
        g.outputs.push(("grad.logits".into(), logits));
        g.outputs.push(("sum".into(), sq));
        g.outputs.push(("again".into(), logits));
        g.outputs.push(("m".into(), m));
        let text = to_nn(&g, "my model").unwrap();
        let want = "\
// Printed by nnc from its IR: one `let` per operation.
model my_model {
    input x: [N, 3]
    input y: i32[N]
    param W: [3, 2] = normal(mean=0.0, std=0.5)
    let grad_logits = x @ W
    let sum_ = grad_logits ^ -1.5
    let t4 = step(grad_logits)
    let m = max(t4)
    let t14 = cross_entropy(grad_logits, y)
    output grad_logits
    output sum_
    output again = grad_logits
    output m
    loss = t14
}
";
        assert_eq!(text, want);
    }

    #[test]
    fn one_hot_is_printed_and_updates_are_errors() {
        let (mut g, _, oh) = classifier();
        g.outputs.push(("oh".into(), oh));
        let text = to_nn(&g, "m").unwrap();
        assert!(text.contains("let oh = one_hot(y, 2)"), "{text}");
        let (mut g, _, _) = classifier();
        let w = g.param_node(0);
        g.updates.push((0, w));
        assert_eq!(to_nn(&g, "m"), Err(EmitError::Updates));
    }

    #[test]
    fn broadcasts_masks_and_per_size_constants_use_the_extension_built_ins() {
        let n = Dim::var("N");
        let mut g = Graph::new();
        let x = g.add_input("x", TensorType::f32(Shape(vec![n.clone(), Dim::lit(3)])), None);
        let b = g.add_param("b", Shape::lit(&[3]), Init::Const(-0.5), None);
        let up = add(&mut g, Op::BroadcastTo(Shape(vec![n.clone(), Dim::lit(3)])), &[b]);
        let k = add(
            &mut g,
            Op::Const {
                value: F64(2.0),
                per: n.checked_mul(&Dim::lit(3)).unwrap(),
            },
            &[],
        );
        let k1 = add(
            &mut g,
            Op::Const {
                value: F64(-1.0),
                per: n.clone(),
            },
            &[],
        );
        let k2 = add(
            &mut g,
            Op::Const {
                value: F64(1.0),
                per: Dim::lit(4),
            },
            &[],
        );
        let m0 = add(&mut g, Op::ArgMaxMask { axes: vec![1] }, &[x]);
        let m1 = add(&mut g, Op::ArgMaxMask { axes: vec![0, 1] }, &[x]);
        let s = add(&mut g, Op::Unary(Unary::Sign), &[x]);
        let ge = add(&mut g, Op::Binary(Binary::GreaterEq), &[x, b]);
        for (name, id) in [
            ("up", up),
            ("k", k),
            ("k1", k1),
            ("k2", k2),
            ("m0", m0),
            ("m1", m1),
            ("s", s),
            ("ge", ge),
        ] {
            g.outputs.push((name.into(), id));
        }
        let text = to_nn(&g, "m").unwrap();
        for want in [
            "param b: [3] = -0.5",
            "let up = broadcast_to(b, [N, 3])",
            "let k = 2.0 / (3 * N)",
            "let k1 = (-1.0) / N",
            "let k2 = 0.25",
            "let m0 = argmax_mask(x, axis=1)",
            "let m1 = argmax_mask(x)",
            "let s = sign(x)",
            "let ge = greater_eq(x, b)",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }

    #[test]
    fn names_never_hide_size_variables() {
        let n = Dim::var("N");
        let mut g = Graph::new();
        let x = g.add_input("x", TensorType::f32(Shape(vec![n.clone()])), None);
        let e = add(&mut g, Op::Unary(Unary::Exp), &[x]);
        g.outputs.push(("N".into(), e));
        let text = to_nn(&g, "m").unwrap();
        assert!(text.contains("let N_2 = exp(x)"), "{text}");
        let mut g = Graph::new();
        g.add_input("N", TensorType::f32(Shape(vec![n.clone()])), None);
        let k = add(
            &mut g,
            Op::Const {
                value: F64(1.0),
                per: n,
            },
            &[],
        );
        g.outputs.push(("k".into(), k));
        assert_eq!(to_nn(&g, "m"), Err(EmitError::SizeHidden { var: "N".into() }));
    }
}
