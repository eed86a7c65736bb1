//! Algebraic simplification: a table of named rewrite rules, each preceded by its identity.
//!
//! A rule looks at one node and, when its pattern matches, builds a replacement computing
//! the same value and returns it. Rules never look at a node's users, so each is a local
//! fact about values. The engine ([`apply_first`]) then makes the replacement the node's
//! exact type: a replacement of a smaller shape that broadcasts to the node's shape gets a
//! `BroadcastTo` (so `s + zeros[N, 3]` becomes `broadcast_to(s, [N, 3])`, never `s`), and a
//! replacement that does not fit is a bug in the rule and is not used.
//!
//! Each rule says how exact it is in IEEE arithmetic ([`Exactness`]). The identities that
//! are wrong for some inputs are not rules at all; they are listed at the end of [`RULES`]
//! with the reason. A rule fires only when every node it reads has the shape it expects,
//! and it adds nodes only after its whole pattern has matched.

use crate::ir::{broadcasts_to, Binary, DType, Dim, Graph, NodeId, Op, Origin, Reduce, Shape, Unary, F64};

/// How closely a rule preserves results in IEEE arithmetic (f32 and f64 alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exactness {
    /// Bit for bit the same result for every input, infinities and NaN included (up to
    /// the payload of a NaN).
    Exact,
    /// The same except that a zero result may change sign (`x + 0` is `+0` for `x = -0`).
    /// The two zeros compare equal; only a division by the result or `sign` tells them apart.
    SignOfZero,
    /// Equal as real numbers; the rounding differs (reassociated constants, `k` copies
    /// summed versus multiplied by `k`), by a few units in the last place.
    Rounding,
}

/// A named rewrite rule.
#[derive(Clone, Copy)]
pub struct Rule {
    /// The name, for reports, `PassOptions::disable` and `grep`.
    pub name: &'static str,
    /// How exact the rewrite is.
    pub exactness: Exactness,
    /// Matches at a node and returns its replacement (of the same value).
    pub apply: fn(&mut Rw<'_>, NodeId) -> Option<NodeId>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({:?})", self.name, self.exactness)
    }
}

const fn rule(name: &'static str, exactness: Exactness, apply: fn(&mut Rw<'_>, NodeId) -> Option<NodeId>) -> Rule {
    Rule { name, exactness, apply }
}

use Binary::{Add, Div, Mul, Sub};
use Exactness::{Exact, Rounding, SignOfZero};
use Unary::{Exp, Log, Neg};

/// The rules, tried in this order at each node; the first that matches wins. `c`, `c1`,
/// `c2` stand for constants, possibly broadcast ("splats").
pub static RULES: &[Rule] = &[
    // ---------- units and zeros ----------
    // x * 1 = x
    rule("mul_one", Exact, |m, n| {
        m.either(n, Mul, |m, x, c| m.is_splat(c, 1.0).then_some(x))
    }),
    // x / 1 = x
    rule("div_one", Exact, |m, n| {
        let (x, c) = m.bin(n, Div)?;
        m.is_splat(c, 1.0).then_some(x)
    }),
    // x + 0 = x
    rule("add_zero", SignOfZero, |m, n| {
        m.either(n, Add, |m, x, c| m.is_splat(c, 0.0).then_some(x))
    }),
    // x - (+0) = x
    rule("sub_zero", Exact, |m, n| {
        let (x, c) = m.bin(n, Sub)?;
        (m.splat(c)?.to_bits() == 0f64.to_bits()).then_some(x)
    }),
    // 0 - x = -x
    rule("zero_sub", SignOfZero, |m, n| {
        let (c, x) = m.bin(n, Sub)?;
        m.is_splat(c, 0.0).then_some(())?;
        m.mk_un(Neg, x)
    }),
    // x * -1 = -x
    rule("mul_neg_one", Exact, |m, n| {
        let x = m.either(n, Mul, |m, x, c| m.is_splat(c, -1.0).then_some(x))?;
        m.mk_un(Neg, x)
    }),
    // x / c = x * (1/c)   when 1/c is exact (c a power of two): both round the same real
    rule("div_pow2", Exact, |m, n| {
        let (x, c) = m.bin(n, Div)?;
        let r = exact_reciprocal(m.splat(c)?)?;
        let k = m.mk_const(r, Dim::one())?;
        m.mk_bin(Mul, x, k)
    }),
    // x ^ 1 = x
    rule("pow_one", Exact, |m, n| m.pow(n, 1.0)),
    // x ^ 0 = 1   (for every x, NaN included, as `powi` gives)
    rule("pow_zero", Exact, |m, n| {
        m.pow(n, 0.0)?;
        m.mk_const(1.0, Dim::one())
    }),
    // ---------- signs ----------
    // -(-x) = x
    rule("neg_neg", Exact, |m, n| m.un(m.un(n, Neg)?, Neg)),
    // x - (-y) = x + y
    rule("sub_neg", Exact, |m, n| {
        let (x, ny) = m.bin(n, Sub)?;
        let y = m.un(ny, Neg)?;
        m.mk_bin(Add, x, y)
    }),
    // x + (-y) = x - y   (and (-y) + x = x - y)
    rule("add_neg", Exact, |m, n| {
        let (x, y) = m.either(n, Add, |m, x, ny| Some((x, m.un(ny, Neg)?)))?;
        m.mk_bin(Sub, x, y)
    }),
    // (-x) * (-y) = x * y
    rule("mul_neg_neg", Exact, |m, n| {
        let (nx, ny) = m.bin(n, Mul)?;
        let (x, y) = (m.un(nx, Neg)?, m.un(ny, Neg)?);
        m.mk_bin(Mul, x, y)
    }),
    // -(x * c) = x * (-c)
    rule("neg_mul_const", Exact, |m, n| {
        let p = m.un(n, Neg)?;
        let (x, c) = m.either(p, Mul, |m, x, c| Some((x, m.konst(c)?)))?;
        let nc = m.mk_un(Neg, c)?;
        m.mk_bin(Mul, x, nc)
    }),
    // (-x) * c = x * (-c)
    rule("mul_neg_const", Exact, |m, n| {
        let (x, c) = m.either(n, Mul, |m, nx, c| Some((m.un(nx, Neg)?, m.konst(c)?)))?;
        let nc = m.mk_un(Neg, c)?;
        m.mk_bin(Mul, x, nc)
    }),
    // -(x - y) = y - x
    rule("neg_sub", SignOfZero, |m, n| {
        let (x, y) = m.bin(m.un(n, Neg)?, Sub)?;
        m.mk_bin(Sub, y, x)
    }),
    // ---------- constants ----------
    // c1 op c2 = broadcast_to(c1 op c2 folded, shape)   (splats of scalar constants)
    rule("splat_binary", Exact, |m, n| {
        let Op::Binary(b) = *m.op(n) else { return None };
        let [a0, a1] = m.two(n)?;
        let (k0, k1) = (m.konst(a0)?, m.konst(a1)?);
        if (k0, k1) == (a0, a1) {
            return None; // both already scalar constants: constant folding's job
        }
        m.mk_bin(b, k0, k1)
    }),
    // (x * c1) * c2 = x * (c1 * c2)   (when c1 * c2 is far from overflow and underflow, so
    // the result overflows only where the exact product does)
    rule("mul_const_const", Rounding, |m, n| {
        let (x, c1, c2) = m.either(n, Mul, |m, p, c2| {
            let c2 = m.konst(c2)?;
            m.either(p, Mul, |m, x, c1| Some((x, m.konst(c1)?, c2)))
        })?;
        let product = m.magnitude(c1)? * m.magnitude(c2)?;
        if !(2f64.powi(-60)..=2f64.powi(60)).contains(&product) {
            return None;
        }
        let k = m.mk_bin(Mul, c1, c2)?;
        m.mk_bin(Mul, x, k)
    }),
    // ---------- inverse functions ----------
    // log(exp(x)) = x   (where exp(x) overflows to inf, the result is x instead of inf)
    rule("log_exp", Rounding, |m, n| m.un(m.un(n, Log)?, Exp)),
    // ---------- layout ----------
    // transpose(transpose(x)) = x
    rule("transpose_transpose", Exact, |m, n| {
        let t = m.arg_of(n, |op| matches!(op, Op::Transpose))?;
        m.arg_of(t, |op| matches!(op, Op::Transpose))
    }),
    // reshape(x, shape(x)) = x
    rule("reshape_same", Exact, |m, n| {
        let x = m.arg_of(n, |op| matches!(op, Op::Reshape(_)))?;
        (m.shape(x) == m.shape(n)).then_some(x)
    }),
    // broadcast_to(x, shape(x)) = x
    rule("broadcast_same", Exact, |m, n| {
        let x = m.arg_of(n, |op| matches!(op, Op::BroadcastTo(_)))?;
        (m.shape(x) == m.shape(n)).then_some(x)
    }),
    // reshape(reshape(x, s1), s2) = reshape(x, s2)
    rule("reshape_reshape", Exact, |m, n| {
        let r = m.arg_of(n, |op| matches!(op, Op::Reshape(_)))?;
        let x = m.arg_of(r, |op| matches!(op, Op::Reshape(_)))?;
        let to = m.shape(n).clone();
        m.mk_reshape(x, to)
    }),
    // broadcast_to(broadcast_to(x, s1), s2) = broadcast_to(x, s2)
    rule("broadcast_broadcast", Exact, |m, n| {
        let b = m.arg_of(n, |op| matches!(op, Op::BroadcastTo(_)))?;
        m.arg_of(b, |op| matches!(op, Op::BroadcastTo(_)))
    }),
    // reshape(broadcast_to(x, s1), s2) = broadcast_to(x, s2)   (x of one element)
    rule("reshape_broadcast_one", Exact, |m, n| {
        let b = m.arg_of(n, |op| matches!(op, Op::Reshape(_)))?;
        let x = m.arg_of(b, |op| matches!(op, Op::BroadcastTo(_)))?;
        if m.shape(x).numel()?.as_lit()? != 1 {
            return None;
        }
        if broadcasts_to(m.shape(x), m.shape(n)) {
            Some(x)
        } else {
            m.mk_reshape(x, Shape::scalar())
        }
    }),
    // reshape(u(reshape(x, s1)), s2) = u(reshape(x, s2))   (the reshapes meet and merge;
    // the backward of `x - reshape(lse)` makes `reshape(-reshape(sum))`)
    rule("reshape_unary_reshape", Exact, |m, n| {
        let un = m.arg_of(n, |op| matches!(op, Op::Reshape(_)))?;
        let Op::Unary(u) = *m.op(un) else { return None };
        let x = m.arg_of(m.one(un)?, |op| matches!(op, Op::Reshape(_)))?;
        let to = m.shape(n).clone();
        let r = m.mk_reshape(x, to)?;
        m.mk_un(u, r)
    }),
    // u(broadcast_to(x, s)) = broadcast_to(u(x), s)   (u elementwise: fewer elements)
    rule("unary_broadcast", Exact, |m, n| {
        let Op::Unary(u) = *m.op(n) else { return None };
        let x = m.arg_of(m.one(n)?, |op| matches!(op, Op::BroadcastTo(_)))?;
        m.mk_un(u, x)
    }),
    // broadcast_to(a, s) op b = a op b   when the result's shape is still the same
    rule("binary_broadcast", Exact, |m, n| {
        let Op::Binary(b) = *m.op(n) else { return None };
        let [a0, a1] = m.two(n)?;
        let unwrap = |m: &Rw, a| m.arg_of(a, |op| matches!(op, Op::BroadcastTo(_)));
        let (s0, s1) = (unwrap(m, a0), unwrap(m, a1));
        let fits =
            |m: &Rw, x: NodeId, y: NodeId| crate::ir::broadcast(m.shape(x), m.shape(y)).as_ref() == Ok(m.shape(n));
        let pair = [(s0, s1), (s0, None), (None, s1)]
            .into_iter()
            .filter(|p| p.0.is_some() || p.1.is_some())
            .map(|(x, y)| (x.unwrap_or(a0), y.unwrap_or(a1)))
            .find(|&(x, y)| fits(m, x, y))?;
        m.mk_bin(b, pair.0, pair.1)
    }),
    // ---------- reductions ----------
    // reduce(x, axes of length 1) = reshape(x)   (a sum adds to +0, so -0 becomes +0)
    rule("reduce_unit_axes", SignOfZero, |m, n| {
        let Op::Reduce { axes, .. } = m.op(n) else { return None };
        let x = m.one(n)?;
        if !axes.iter().all(|&a| m.shape(x).dims()[a].is_one()) {
            return None;
        }
        let to = m.shape(n).clone();
        m.mk_reshape(x, to)
    }),
    // sum(broadcast_to(x, s), axes the broadcast added or stretched) = x * count
    rule("sum_broadcast", Rounding, sum_broadcast),
    // ---------- identities deliberately NOT applied ----------
    // x * 0 = 0          wrong for x = inf or NaN (the product is NaN)
    // x - x = 0          wrong for x = inf or NaN
    // x / x = 1          wrong for 0, inf, NaN
    // exp(log(x)) = x    wrong for x < 0 (NaN)
    // (x ^ a) ^ b = x ^ (a * b)   wrong for x < 0: (x ^ 2) ^ 0.5 = |x|
    // x ^ 2 = x * x      no gain: code generation already computes integer powers by multiplication
    // sum(sum(x, a), b) = sum(x, a + b)   reorders an f32 sum of many terms; no work saved
];

/// The rule named `name`.
pub fn rule_named(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// `1 / c` when it is exactly representable in f32 (and `c` itself is an f32), so that
/// `x * (1 / c)` and `x / c` are the same correctly rounded value.
fn exact_reciprocal(c: f64) -> Option<f64> {
    let r = 1.0 / c;
    let exact = |v: f64| v.is_finite() && v != 0.0 && (v as f32) as f64 == v;
    (exact(c) && exact(r) && r * c == 1.0 && c.abs().log2().fract() == 0.0).then_some(r)
}

/// `sum(broadcast_to(x, s), axes)` where every summed axis is one that broadcasting
/// added (leading) or stretched (a 1 in `x`): each result element is `count` copies of one
/// element of `x`.
fn sum_broadcast(m: &mut Rw<'_>, n: NodeId) -> Option<NodeId> {
    let Op::Reduce {
        kind: Reduce::Sum,
        axes,
    } = m.op(n)
    else {
        return None;
    };
    let axes = axes.clone();
    let b = m.one(n)?;
    let x = m.arg_of(b, |op| matches!(op, Op::BroadcastTo(_)))?;
    let (xs, s) = (m.shape(x).clone(), m.shape(b).clone());
    let lead = s.rank() - xs.rank();
    if !axes.iter().all(|&a| a < lead || xs.dims()[a - lead].is_one()) {
        return None;
    }
    let count = Dim::product(axes.iter().map(|&a| &s.dims()[a]))?;
    // x without the axes that were stretched; the added ones are not in x at all
    let kept: Vec<usize> = axes.iter().filter(|&&a| a >= lead).map(|&a| a - lead).collect();
    let reduced = xs.without_axes(&kept);
    if !broadcasts_to(&reduced, m.shape(n)) {
        return None;
    }
    let (value, per) = match count.as_lit() {
        Some(k) if k < 1 << 24 => (k as f64, Dim::one()),
        Some(_) => return None,
        // x * N as x / (1/N): the only constant with a size variable is a quotient
        None => (1.0, count),
    };
    let xr = m.mk_reshape(x, reduced)?;
    let k = m.mk_const(value, per.clone())?;
    if per.is_one() {
        m.mk_bin(Mul, xr, k)
    } else {
        m.mk_bin(Div, xr, k)
    }
}

/// Applies the first rule that matches `n` and that `allowed` accepts. Returns the rule and
/// the replacement (of exactly `n`'s type); the caller redirects `n`'s users to it.
pub fn apply_first(g: &mut Graph, n: NodeId, allowed: &dyn Fn(&Rule) -> bool) -> Option<(&'static Rule, NodeId)> {
    if g.node(n).op.is_leaf() {
        return None;
    }
    let origin = g.node(n).origin;
    for r in RULES.iter().filter(|r| allowed(r)) {
        let mut m = Rw { g, origin };
        let Some(found) = (r.apply)(&mut m, n) else {
            continue;
        };
        match m.fit(found, n) {
            Some(rep) if rep != n => return Some((r, rep)),
            Some(_) => {}
            None => debug_assert!(false, "rule {} built a replacement of another type", r.name),
        }
    }
    None
}

/// What a rule sees: the graph, with matchers (read only) and builders (which stamp new
/// nodes with the origin of the node being rewritten).
pub struct Rw<'g> {
    g: &'g mut Graph,
    origin: Origin,
}

impl<'g> Rw<'g> {
    /// A rewriter whose new nodes carry `origin`.
    pub fn new(g: &'g mut Graph, origin: Origin) -> Rw<'g> {
        Rw { g, origin }
    }

    // ---------- matchers ----------

    /// The op of `n`.
    pub fn op(&self, n: NodeId) -> &Op {
        &self.g.node(n).op
    }

    /// The shape of `n`.
    pub fn shape(&self, n: NodeId) -> &Shape {
        self.g.shape(n)
    }

    /// The only operand of `n`.
    pub fn one(&self, n: NodeId) -> Option<NodeId> {
        match self.g.args(n).as_slice() {
            &[x] => Some(x),
            _ => None,
        }
    }

    /// The two operands of `n`.
    pub fn two(&self, n: NodeId) -> Option<[NodeId; 2]> {
        match self.g.args(n).as_slice() {
            &[x, y] => Some([x, y]),
            _ => None,
        }
    }

    /// The operand of `n` when `n`'s op satisfies `is`.
    pub fn arg_of(&self, n: NodeId, is: impl Fn(&Op) -> bool) -> Option<NodeId> {
        if is(self.op(n)) {
            self.one(n)
        } else {
            None
        }
    }

    /// `x` when `n` is `u(x)`.
    pub fn un(&self, n: NodeId, u: Unary) -> Option<NodeId> {
        self.arg_of(n, |op| *op == Op::Unary(u))
    }

    /// `x` when `n` is `x ^ c`.
    pub fn pow(&self, n: NodeId, c: f64) -> Option<NodeId> {
        self.arg_of(n, |op| matches!(op, Op::Unary(Unary::Pow(p)) if p.0 == c))
    }

    /// `(x, y)` when `n` is `x b y`.
    pub fn bin(&self, n: NodeId, b: Binary) -> Option<(NodeId, NodeId)> {
        if *self.op(n) != Op::Binary(b) {
            return None;
        }
        self.two(n).map(|[x, y]| (x, y))
    }

    /// `f(x, y)`, else `f(y, x)`, when `n` is `x b y` for a commutative `b`.
    pub fn either<T>(&self, n: NodeId, b: Binary, f: impl Fn(&Self, NodeId, NodeId) -> Option<T>) -> Option<T> {
        debug_assert!(matches!(b, Add | Mul | Binary::Max | Binary::Min));
        let (x, y) = self.bin(n, b)?;
        f(self, x, y).or_else(|| f(self, y, x))
    }

    /// The scalar `Const` node under `n`, seen through broadcasts and reshapes: `n` is a
    /// splat of it.
    pub fn konst(&self, mut n: NodeId) -> Option<NodeId> {
        loop {
            match self.op(n) {
                Op::Const { .. } => return Some(n),
                Op::BroadcastTo(_) | Op::Reshape(_) => n = self.one(n)?,
                _ => return None,
            }
        }
    }

    /// The value of every element of `n` when `n` is a splat of a constant whose divisor
    /// is a literal (`value / per` in f64, which the interpreter then rounds).
    pub fn splat(&self, n: NodeId) -> Option<f64> {
        let Op::Const { value, per } = self.op(self.konst(n)?) else {
            return None;
        };
        let per = per.as_lit().filter(|&p| p != 0)?;
        Some(value.0 / per as f64)
    }

    /// `|value / per|` of the `Const` node `k`, taking a divisor with size variables as 1
    /// (an upper bound).
    pub fn magnitude(&self, k: NodeId) -> Option<f64> {
        let Op::Const { value, per } = self.op(k) else {
            return None;
        };
        Some((value.0 / per.as_lit().unwrap_or(1) as f64).abs())
    }

    /// Whether `n` is a splat of exactly `v` (in f64, hence also in f32).
    pub fn is_splat(&self, n: NodeId, v: f64) -> bool {
        self.splat(n) == Some(v)
    }

    // ---------- builders ----------

    /// Adds `op(args)`; `None` if the shape rule rejects it (a rule checks shapes first).
    pub fn mk(&mut self, op: Op, args: &[NodeId]) -> Option<NodeId> {
        self.g.add(op, args, self.origin).ok()
    }

    /// Adds `u(x)`.
    pub fn mk_un(&mut self, u: Unary, x: NodeId) -> Option<NodeId> {
        self.mk(Op::Unary(u), &[x])
    }

    /// Adds `x b y`.
    pub fn mk_bin(&mut self, b: Binary, x: NodeId, y: NodeId) -> Option<NodeId> {
        self.mk(Op::Binary(b), &[x, y])
    }

    /// Adds the scalar constant `value / per`.
    pub fn mk_const(&mut self, value: f64, per: Dim) -> Option<NodeId> {
        self.mk(Op::Const { value: F64(value), per }, &[])
    }

    /// `x` reshaped to `to` (no node when it already has that shape).
    pub fn mk_reshape(&mut self, x: NodeId, to: Shape) -> Option<NodeId> {
        if *self.shape(x) == to {
            Some(x)
        } else {
            self.mk(Op::Reshape(to), &[x])
        }
    }

    /// `r` made exactly of `n`'s type: as is, or broadcast up to `n`'s shape.
    fn fit(&mut self, r: NodeId, n: NodeId) -> Option<NodeId> {
        let (want, have) = (&self.g.node(n).ty, &self.g.node(r).ty);
        if want == have {
            return Some(r);
        }
        if want.dtype != DType::F32 || have.dtype != DType::F32 || !broadcasts_to(&have.shape, &want.shape) {
            return None;
        }
        let to = want.shape.clone();
        self.mk(Op::BroadcastTo(to), &[r])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_unique_and_greppable() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
        assert!(names.iter().all(|n| n
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        assert!(rule_named("mul_one").is_some());
    }

    #[test]
    fn pow_zero_is_one_for_every_x_in_the_reference_semantics() {
        use crate::interp::unary;
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, -3.5, 1e300] {
            assert_eq!(unary(Unary::Pow(F64(0.0)), x), 1.0, "{x}");
            assert_eq!(unary(Unary::Pow(F64(0.0)), x as f32), 1.0, "{x}");
        }
    }

    #[test]
    fn exact_reciprocals_are_powers_of_two_only() {
        assert_eq!(exact_reciprocal(2.0), Some(0.5));
        assert_eq!(exact_reciprocal(-0.25), Some(-4.0));
        assert_eq!(exact_reciprocal(3.0), None);
        assert_eq!(exact_reciprocal(0.0), None);
        assert_eq!(exact_reciprocal(f64::INFINITY), None);
        assert_eq!(exact_reciprocal(2f64.powi(200)), None);
    }
}
