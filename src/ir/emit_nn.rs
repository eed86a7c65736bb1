//! Printing a graph back as a `.nn` model (LANGUAGE.md syntax only).
//!
//! Every interior node becomes one `let`, named after the output it is (if any) or `tK`
//! with `K` its number in schedule order (as in `--emit ir`). Output names that are not
//! identifiers are mapped character by character: anything outside `[A-Za-z0-9_]`
//! becomes `_` (`grad.W1` -> `grad_W1`); a keyword or built-in name gets a trailing `_`;
//! a clash gets `_2`, `_3`, ...
//!
//! Primitives without a built-in are written as exact expressions in built-ins:
//! - `step(x)` = `minimum(relu(x) * 2^127 * 2^22, 1)`: the smallest positive f32 is 2^-149,
//!   so any `x > 0` scales to at least 1 (overflow to inf is clamped), and `x <= 0` gives 0.
//! - `sign(x)` = `minimum(maximum(x * 2^127 * 2^22, -1), 1)`, by the same argument.
//! - `greater_eq(a, b)` = `1 - step(b - a)`: with gradual underflow `b - a` is 0 only when
//!   `a == b` and has the sign of the exact difference.
//! - `broadcast_to(x, S)` = `x + Z`, with `Z` a zero tensor of shape `S` made from a tensor
//!   already defined: `minimum(maximum(t, 0), 0)` (zero for every non-NaN `t`, infinities
//!   included), summed or reshaped as needed.
//! - a constant `c / N` (the `1/N` of a mean) = `c / size_N`, with `size_N` the count
//!   `sum(Z + 1)` over a zero vector of length `N`.
//! - `reduce` over several axes: nested single-axis reductions (an all-axes sum is `sum(x)`).
//! - `mean` and `cross_entropy` with labels are recognised in their expanded forms and
//!   printed as the built-ins.
//!
//! Known limits: these forms differ from the primitives only for NaN operands (and a `-0`
//! that `x + Z` turns into `+0`); `greater_eq(inf, inf)` gives NaN. `argmax_mask` is
//! written `greater_eq(x, max(x, keepdims))`, which marks every maximum of a slice, not
//! only the first: exact only without ties. `one_hot` outside `cross_entropy` has no
//! surface form at all (labels can only be read by `cross_entropy`), nor does a training
//! step's param updates: both are errors.

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
    /// No tensor has a dimension needed to build a broadcast or a size count.
    #[error("no tensor of the model has a dimension {dim} to build a broadcast or count from")]
    NoTensorFor {
        /// the dimension
        dim: String,
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
];

/// `2^127` and `2^22`: multiplying by both maps the smallest positive f32 to 1.
const SCALE: &str = "1.7014118346046923e38 * 4194304";

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

/// A dimension as written in a type or a reshape, if it can be.
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
    /// Nodes whose names can be used, in definition order: where zeros are made from.
    defined: Vec<NodeId>,
    sizes: HashMap<Arc<str>, String>,
    helpers: usize,
}

impl<'g> Emitter<'g> {
    fn new(g: &'g Graph) -> Emitter<'g> {
        Emitter {
            g,
            names: HashMap::new(),
            taken: HashSet::new(),
            lines: Vec::new(),
            defined: Vec::new(),
            sizes: HashMap::new(),
            helpers: 0,
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
            self.defined.push(g.input_node(i));
        }
        for (i, d) in g.params.iter().enumerate() {
            let name = self.fresh(&d.name);
            head.push(format!(
                "    param {name}: {} = {}",
                shape_text(&d.shape, &d.name)?,
                init_text(&d.init)
            ));
            self.names.insert(g.param_node(i), name);
            self.defined.push(g.param_node(i));
        }
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
            self.defined.push(n);
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
            Op::Const { value, per } => {
                let count = self.count(per)?;
                format!("{} / {count}", literal(value.0))
            }
            Op::Unary(u) => match u {
                Unary::Neg => format!("-{}", a()),
                Unary::Exp => format!("exp({})", a()),
                Unary::Log => format!("log({})", a()),
                Unary::Sqrt => format!("sqrt({})", a()),
                Unary::Abs => format!("abs({})", a()),
                Unary::Sign => format!("minimum(maximum({} * {SCALE}, -1), 1)", a()),
                Unary::Tanh => format!("tanh({})", a()),
                Unary::Sigmoid => format!("sigmoid({})", a()),
                Unary::Relu => format!("relu({})", a()),
                Unary::Step => step(&a()),
                Unary::Softplus => format!("softplus({})", a()),
                Unary::Sin => format!("sin({})", a()),
                Unary::Cos => format!("cos({})", a()),
                Unary::Pow(c) => format!("{} ^ {:?}", a(), c.0),
                Unary::LeakyRelu(al) => format!("leaky_relu({}, alpha={})", a(), literal(al.0)),
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
                    Binary::GreaterEq => greater_eq(x, y),
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
                let m = axes
                    .iter()
                    .rev()
                    .fold(a(), |e, k| format!("max({e}, axis={k}, keepdims=true)"));
                greater_eq(&a(), &format!("({m})"))
            }
            Op::BroadcastTo(to) => {
                let from = g.shape(args_node(g, n)).clone();
                if from.numel() == to.numel() {
                    // only unit axes are added
                    format!("reshape({}, {})", a(), self.reshape_dims(n, to)?)
                } else {
                    let z = self.zeros(&from, to)?;
                    format!("{} + {z}", a())
                }
            }
            Op::Reshape(to) => format!("reshape({}, {})", a(), self.reshape_dims(n, to)?),
            Op::Transpose => format!("{}.T", a()),
            Op::MatMul { ta, tb } => format!(
                "{}{} @ {}{}",
                args[0],
                if *ta { ".T" } else { "" },
                args[1],
                if *tb { ".T" } else { "" }
            ),
            Op::OneHot { .. } => return Err(no_form()),
            Op::Grad => format!("grad({}, {})", args[0], args[1]),
        })
    }

    fn reshape_dims(&self, n: NodeId, to: &Shape) -> Result<String, EmitError> {
        let mut rest = false;
        let mut dims = Vec::new();
        for d in to.dims() {
            match dim_text(d) {
                Some(t) => dims.push(t),
                None if !rest => {
                    rest = true;
                    dims.push("-1".into());
                }
                None => {
                    return Err(EmitError::Shape {
                        what: format!("reshape at node {}", n.index()),
                        shape: to.to_string(),
                    })
                }
            }
        }
        Ok(format!("[{}]", dims.join(", ")))
    }

    /// The name of a new `let` holding a zero tensor that `from + zeros` broadcasts to `to`.
    fn zeros(&mut self, from: &Shape, to: &Shape) -> Result<String, EmitError> {
        let g = self.g;
        if let Some(&t) = self
            .defined
            .iter()
            .find(|&&t| g.shape(t) == to && g.dtype(t) == DType::F32)
        {
            let z = format!("minimum(maximum({}, 0), 0)", self.names[&t]);
            return Ok(self.helper("zeros", z));
        }
        let rank = to.rank();
        let lead = rank - from.rank();
        let mut parts = Vec::new();
        for (i, d) in to.dims().iter().enumerate() {
            let covered = i >= lead && from.0[i - lead] == *d;
            if covered || d.is_one() {
                continue;
            }
            let v = self.zero_vector(d)?;
            let ones = vec!["1"; rank - i - 1];
            parts.push(if ones.is_empty() {
                v
            } else {
                format!("reshape({v}, [-1, {}])", ones.join(", "))
            });
        }
        Ok(self.helper("zeros", parts.join(" + ")))
    }

    /// An expression for a zero vector of length `d`, from a defined f32 tensor with
    /// such an axis.
    fn zero_vector(&mut self, d: &Dim) -> Result<String, EmitError> {
        let g = self.g;
        let found = self.defined.iter().find_map(|&t| {
            let axis = g.shape(t).dims().iter().position(|x| x == d)?;
            (g.dtype(t) == DType::F32).then_some((t, axis))
        });
        let (t, axis) = found.ok_or_else(|| EmitError::NoTensorFor { dim: d.to_string() })?;
        let rank = g.shape(t).rank();
        let z = format!("minimum(maximum({}, 0), 0)", self.names[&t]);
        Ok((0..rank)
            .rev()
            .filter(|&k| k != axis)
            .fold(z, |e, k| format!("sum({e}, axis={k})")))
    }

    /// An expression for the value of a product of dimensions, e.g. `(2 * size_N)`.
    fn count(&mut self, per: &Dim) -> Result<String, EmitError> {
        let mut rest = per.clone();
        let mut factors = Vec::new();
        for v in per.vars().cloned().collect::<Vec<_>>() {
            while let Some(r) = rest.exact_div(&Dim::var(&v)) {
                rest = r;
                factors.push(self.size(&v)?);
            }
        }
        match rest.as_lit() {
            Some(1) if !factors.is_empty() => {}
            Some(c) => factors.insert(0, c.to_string()),
            None => {
                return Err(EmitError::Shape {
                    what: "a constant's divisor".into(),
                    shape: per.to_string(),
                })
            }
        }
        Ok(if factors.len() == 1 {
            factors.remove(0)
        } else {
            format!("({})", factors.join(" * "))
        })
    }

    /// The name of a `let` holding the value of size variable `v`.
    fn size(&mut self, v: &Arc<str>) -> Result<String, EmitError> {
        if let Some(s) = self.sizes.get(v) {
            return Ok(s.clone());
        }
        let z = self.zero_vector(&Dim::var(v))?;
        let name = self.fresh(&format!("size_{v}"));
        self.lines.push(format!("    let {name} = sum({z} + 1)"));
        self.sizes.insert(v.clone(), name.clone());
        Ok(name)
    }

    fn helper(&mut self, base: &str, expr: String) -> String {
        self.helpers += 1;
        let name = self.fresh(&format!("{base}{}", self.helpers));
        self.lines.push(format!("    let {name} = {expr}"));
        name
    }
}

fn args_node(g: &Graph, n: NodeId) -> NodeId {
    g.args(n)[0]
}

fn step(x: &str) -> String {
    format!("minimum(relu({x}) * {SCALE}, 1)")
}

fn greater_eq(x: &str, y: &str) -> String {
    format!("1 - {}", step(&format!("{y} - {x}")))
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
    let t4 = minimum(relu(grad_logits) * 1.7014118346046923e38 * 4194304, 1)
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
    fn one_hot_outside_cross_entropy_and_updates_are_errors() {
        let (mut g, _, oh) = classifier();
        g.outputs.push(("oh".into(), oh));
        assert!(matches!(to_nn(&g, "m"), Err(EmitError::NoSurfaceForm { .. })));
        let (mut g, _, _) = classifier();
        let w = g.param_node(0);
        g.updates.push((0, w));
        assert_eq!(to_nn(&g, "m"), Err(EmitError::Updates));
    }

    #[test]
    fn broadcasts_and_counts_are_built_from_defined_tensors() {
        let n = Dim::var("N");
        let mut g = Graph::new();
        let x = g.add_input("x", TensorType::f32(Shape(vec![n.clone(), Dim::lit(3)])), None);
        let b = g.add_param("b", Shape::lit(&[3]), Init::Const(-0.5), None);
        let up = add(&mut g, Op::BroadcastTo(Shape(vec![n.clone(), Dim::lit(3)])), &[b]);
        let v = add(
            &mut g,
            Op::BroadcastTo(Shape(vec![Dim::lit(4), n.clone(), Dim::lit(3)])),
            &[x],
        );
        let k = add(
            &mut g,
            Op::Const {
                value: F64(2.0),
                per: n.checked_mul(&Dim::lit(3)).unwrap(),
            },
            &[],
        );
        let unit = add(&mut g, Op::BroadcastTo(Shape::lit(&[1, 3])), &[b]);
        g.outputs.push(("up".into(), up));
        g.outputs.push(("v".into(), v));
        g.outputs.push(("k".into(), k));
        g.outputs.push(("unit".into(), unit));
        // no tensor has an axis of 4: an error, not a wrong model
        assert_eq!(to_nn(&g, "m"), Err(EmitError::NoTensorFor { dim: "4".into() }));
        g.outputs.remove(1);
        let text = to_nn(&g, "m").unwrap();
        assert!(text.contains("param b: [3] = -0.5"), "{text}");
        assert!(
            text.contains("let zeros1 = minimum(maximum(x, 0), 0)\n    let up = b + zeros1"),
            "{text}"
        );
        assert!(
            text.contains(
                "let size_N = sum(sum(minimum(maximum(x, 0), 0), axis=1) + 1)\n    let k = 2.0 / (3 * size_N)"
            ),
            "{text}"
        );
        assert!(text.contains("let unit = reshape(b, [1, 3])"), "{text}");
    }
}
