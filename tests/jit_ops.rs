//! Every op through the JIT on hand-built graphs, checked against hand-computed values,
//! at both optimisation levels.

mod jit_util;
use jit_util::*;
use nnc::ir::{Binary, Graph, Op, Reduce, Unary, F64};

#[test]
fn add_constant() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[5]));
    let c = g.constant(1.5, Default::default());
    let y = op(&mut g, Op::Binary(Binary::Add), &[x, c]);
    g.outputs.push(("y".into(), y));
    let r = run_both(&g, &bindings(&[]), &[t(&[5], &[1., 2., 3., 4., 5.])], &[]);
    assert_close(r.outputs[0].as_f32().unwrap(), &[2.5, 3.5, 4.5, 5.5, 6.5], 0.0, "y");
}
