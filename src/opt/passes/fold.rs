//! Constant folding: an elementwise op whose operands are all scalar constants becomes a
//! constant.
//!
//! A node folds only when the result is the same in both precisions the interpreter
//! computes in: the interpreter's own scalar functions ([`crate::interp::unary`],
//! [`crate::interp::binary`]) are evaluated in f32 (the reference: what the compiled code
//! computes) and in f64, and the f64 result is stored when it rounds to the f32 result.
//! Both interpreters then see exactly the values they saw before. When the two disagree
//! (`1 - 0.9` is `0.100000024` in f32 because `0.9` is rounded first; a library function
//! off by an ulp), the node stays: it is one scalar operation, computed once.
//!
//! Constants are also written in lowest terms: `c/8` as `0.125` (the f64 quotient the
//! interpreter computes), `2/(2*N)` as `1/N` (the same real number, so the same rounded
//! value), which lets CSE merge them.
//!
//! Constants whose divisor has a size variable (`1/N` of a mean) cannot be evaluated; they
//! combine symbolically: `-(c/p) = (-c)/p` exactly, and, as rounding changes,
//! `c1/p1 * c2/p2 = (c1*c2)/(p1*p2)` and `(c1/p1) / c2 = (c1/c2)/p1`.

use crate::interp::{binary, unary};
use crate::ir::{Binary, Dim, Graph, NodeId, Op, Unary, F64};

/// Folds every foldable node, combining symbolic constants too. Returns how many nodes
/// became constants.
pub fn run(g: &mut Graph) -> usize {
    run_with(g, true)
}

/// [`run`], combining constants with size variables in their divisor only when
/// `symbolic` (those combinations round differently from evaluating the product).
pub fn run_with(g: &mut Graph, symbolic: bool) -> usize {
    let mut folded = Vec::new();
    for n in g.schedule() {
        let Some((value, per)) = fold(g, n, symbolic) else {
            continue;
        };
        let origin = g.node(n).origin;
        let Ok(k) = g.add(Op::Const { value: F64(value), per }, &[], origin) else {
            continue;
        };
        g.replace_uses(n, k);
        folded.push(n);
    }
    // together, newest first: see `Graph::remove_all`
    let count = folded.len();
    g.remove_all(folded);
    count
}

/// A constant: numerator and divisor.
type Konst = (f64, Dim);

/// The constant node `n` folds to, if it does.
fn fold(g: &Graph, n: NodeId, symbolic: bool) -> Option<Konst> {
    let op = &g.node(n).op;
    if let Op::Const { value, per } = op {
        return lowest_terms(value.0, per);
    }
    if !op.is_elementwise() {
        return None;
    }
    let args = g
        .args(n)
        .iter()
        .map(|&a| match &g.node(a).op {
            Op::Const { value, per } => Some((value.0, per.clone())),
            _ => None,
        })
        .collect::<Option<Vec<Konst>>>()?;
    match (op, args.as_slice()) {
        (Op::Unary(u), [a]) => match literal(a) {
            Some(x) => Some((both(|x| unary(*u, x), |x| unary(*u, x), x)?, Dim::one())),
            // -(c/p) = (-c)/p: negation commutes with every rounding
            None if *u == Unary::Neg => Some((-a.0, a.1.clone())),
            None => None,
        },
        (Op::Binary(b), [a, c]) => match (literal(a), literal(c)) {
            (Some(x), Some(y)) => Some((both(|x| binary(*b, x, y as f32), |x| binary(*b, x, y), x)?, Dim::one())),
            _ if !symbolic => None,
            _ if *b == Binary::Mul => Some((a.0 * c.0, a.1.checked_mul(&c.1)?)),
            (_, Some(y)) if *b == Binary::Div => Some((a.0 / y, a.1.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// `value / per` in lowest terms, if it is not already: a literal divisor divided out, a
/// common integer factor of the numerator and the divisor's coefficient cancelled. Exact:
/// the quotient is the same real number, so it rounds to the same value.
fn lowest_terms(value: f64, per: &Dim) -> Option<Konst> {
    if per.is_one() {
        return None;
    }
    if let Some(p) = per.as_lit() {
        return Some((value / p as f64, Dim::one()));
    }
    if value.fract() != 0.0 || value.abs() > 1024.0 {
        return None;
    }
    let v = value.abs() as u64;
    (2..=v)
        .rev()
        .filter(|&d| v.is_multiple_of(d))
        .find_map(|d| Some((value / d as f64, per.exact_div(&Dim::lit(d))?)))
}

/// The value of a constant whose divisor is a literal, as the interpreter computes it.
fn literal(k: &Konst) -> Option<f64> {
    k.1.as_lit().map(|p| k.0 / p as f64)
}

/// `f` at `x` in f64 when it rounds to `f` at `x` in f32 (the reference).
fn both(f32_fn: impl Fn(f32) -> f32, f64_fn: impl Fn(f64) -> f64, x: f64) -> Option<f64> {
    let (r32, r64) = (f32_fn(x as f32), f64_fn(x));
    let same = (r64 as f32).to_bits() == r32.to_bits() || (r32.is_nan() && r64.is_nan());
    same.then_some(r64)
}
