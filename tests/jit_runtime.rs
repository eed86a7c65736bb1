//! The runtime's safe entry points: every bad buffer or label is an error before any
//! native code runs; updates are applied as a simultaneous assignment; executables are
//! cached per binding, shareable between threads, and inspectable.

mod jit_util;
use jit_util::*;
use nnc::ir::{Binary, CallError, Dim, Graph, Op, Reduce, Shape, Unary};
use nnc::opt::schedule::{KernelKind, Storage};
use nnc::runtime::{Arg, Executable, OptLevel, Program, RuntimeError, Workspace};
use nnc::tensor::Tensor;

/// `loss = sum(one_hot(y, 3) * (x @ w))`, `out = x @ w`, with `x: [N, 2]`, `y: i32[N]`.
fn labelled() -> Graph {
    let mut g = Graph::new();
    let n = Dim::var("N");
    let x = input(&mut g, "x", Shape(vec![n.clone(), Dim::lit(2)]));
    let y = labels(&mut g, "y", Shape(vec![n]));
    let w = param(&mut g, "w", lit(&[2, 3]));
    let h = op(&mut g, Op::MatMul { ta: false, tb: false }, &[x, w]);
    let oh = op(&mut g, Op::OneHot { classes: Dim::lit(3) }, &[y]);
    let p = op(&mut g, Op::Binary(Binary::Mul), &[oh, h]);
    let s = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0, 1],
        },
        &[p],
    );
    g.outputs.push(("h".into(), h));
    g.loss = Some(s);
    g
}

#[test]
fn bad_buffers_and_labels_are_rejected_before_running() {
    let exe = Executable::compile(&labelled(), &bindings(&[("N", 2)]), &opts(OptLevel::O1)).unwrap();
    let x = [1.0f32, 2.0, 3.0, 4.0];
    let w = [1.0f32; 6];
    let mut ws = Workspace::new();
    let mut out = [7.0f32; 6];
    let mut run = |inputs: &[Arg], params: &[&[f32]], out: &mut [f32]| {
        let mut outs = [out];
        exe.run_ref(&mut ws, inputs, params, &mut outs)
    };
    let good = run(&[Arg::F32(&x), Arg::I32(&[0, 2])], &[&w], &mut out).unwrap();
    assert_eq!(good, Some(3.0 + 7.0));
    let mut sentinel = [7.0f32; 6];
    type Case<'a> = (Vec<Arg<'a>>, Vec<&'a [f32]>, usize);
    let cases: Vec<Case> = vec![
        (vec![Arg::F32(&x)], vec![&w], 6),                               // missing input
        (vec![Arg::F32(&x[..3]), Arg::I32(&[0, 2])], vec![&w], 6),       // short input
        (vec![Arg::I32(&[0, 1, 2, 3]), Arg::I32(&[0, 2])], vec![&w], 6), // wrong dtype
        (vec![Arg::F32(&x), Arg::F32(&[0.0, 2.0])], vec![&w], 6),        // labels as f32
        (vec![Arg::F32(&x), Arg::I32(&[0, 3])], vec![&w], 6),            // label = classes
        (vec![Arg::F32(&x), Arg::I32(&[-1, 0])], vec![&w], 6),           // negative label
        (vec![Arg::F32(&x), Arg::I32(&[0, 1])], vec![&w[..5]], 6),       // short param
        (vec![Arg::F32(&x), Arg::I32(&[0, 1])], vec![], 6),              // missing param
        (vec![Arg::F32(&x), Arg::I32(&[0, 1])], vec![&w], 5),            // short output
    ];
    for (i, (inputs, params, olen)) in cases.into_iter().enumerate() {
        let r = run(&inputs, &params, &mut sentinel[..olen]);
        assert!(r.is_err(), "case {i} was accepted");
        assert_eq!(sentinel, [7.0; 6], "case {i} ran native code");
    }
    let e = run(&[Arg::F32(&x), Arg::I32(&[0, 5])], &[&w], &mut out).unwrap_err();
    assert_eq!(
        e,
        RuntimeError::Call(CallError::Label {
            name: "y".into(),
            index: 1,
            value: 5,
            classes: 3
        })
    );
}

#[test]
fn tensor_entry_points_check_shapes_and_bind_sizes() {
    let prog = Program::new(labelled(), opts(OptLevel::O1)).unwrap();
    let mut w = vec![Tensor::f32(vec![2, 3], vec![1.0; 6])];
    let r = prog
        .run_tensors(
            &[t(&[2, 2], &[1., 2., 3., 4.]), Tensor::i32(vec![2], vec![0, 2])],
            &mut w,
        )
        .unwrap();
    assert_eq!(r.loss, Some(10.0));
    let r = prog
        .run_tensors(&[t(&[1, 2], &[1., 2.]), Tensor::i32(vec![1], vec![1])], &mut w)
        .unwrap();
    assert_eq!(r.outputs[0].shape, vec![1, 3]);
    assert_eq!(prog.cached(), 2);
    prog.run_tensors(&[t(&[1, 2], &[1., 2.]), Tensor::i32(vec![1], vec![1])], &mut w)
        .unwrap();
    assert_eq!(prog.cached(), 2, "same binding, same executable");
    // Conflicting N between x and y, and a param of the wrong shape.
    assert!(prog
        .run_tensors(
            &[t(&[2, 2], &[1., 2., 3., 4.]), Tensor::i32(vec![3], vec![0, 1, 2])],
            &mut w
        )
        .is_err());
    let mut bad_w = vec![Tensor::f32(vec![3, 2], vec![1.0; 6])];
    assert!(prog
        .run_tensors(&[t(&[1, 2], &[1., 2.]), Tensor::i32(vec![1], vec![1])], &mut bad_w)
        .is_err());
    // run_ref on a graph with updates is refused.
    let mut g = labelled();
    let wn = g.param_node(0);
    let half = g.constant(0.5, Default::default());
    let upd = op(&mut g, Op::Binary(Binary::Mul), &[wn, half]);
    g.updates.push((0, upd));
    let exe = Executable::compile(&g, &bindings(&[("N", 1)]), &opts(OptLevel::O1)).unwrap();
    let mut o = [0.0f32; 3];
    let e = exe.run_ref(
        &mut Workspace::new(),
        &[Arg::F32(&[1.0, 2.0]), Arg::I32(&[0])],
        &[&[1.0; 6]],
        &mut [&mut o],
    );
    assert_eq!(e.unwrap_err(), RuntimeError::ParamsReadOnly);
}

/// `W := W - 0.1 * x^T (x W)` (the update reads W through a product), `b := b - 0.1 *
/// sum(W, axis 0)` (reads the old W), `out = x W + b`.
fn sgd_graph() -> Graph {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[4, 3]));
    let w = param(&mut g, "W", lit(&[3, 2]));
    let b = param(&mut g, "b", lit(&[2]));
    let h = op(&mut g, Op::MatMul { ta: false, tb: false }, &[x, w]);
    let o = op(&mut g, Op::Binary(Binary::Add), &[h, b]);
    let gw = op(&mut g, Op::MatMul { ta: true, tb: false }, &[x, h]);
    let lr = g.constant(0.1, Default::default());
    let step = op(&mut g, Op::Binary(Binary::Mul), &[gw, lr]);
    let w_new = op(&mut g, Op::Binary(Binary::Sub), &[w, step]);
    let cs = op(
        &mut g,
        Op::Reduce {
            kind: Reduce::Sum,
            axes: vec![0],
        },
        &[w],
    );
    let bstep = op(&mut g, Op::Binary(Binary::Mul), &[cs, lr]);
    let b_new = op(&mut g, Op::Binary(Binary::Sub), &[b, bstep]);
    g.outputs.push(("out".into(), o));
    g.updates.push((0, w_new));
    g.updates.push((1, b_new));
    g
}

#[test]
fn updates_are_a_simultaneous_assignment_applied_in_place() {
    let g = sgd_graph();
    let dx = data(12, 1);
    let dw = data(6, 2);
    let db = vec![0.5, -0.5];
    let h = matmul(&dx, &dw, 4, 3, 2);
    let gw = matmul(&transpose(&dx, 4, 3), &h, 3, 4, 2);
    let want_w: Vec<f32> = dw.iter().zip(&gw).map(|(w, g)| w - g * 0.1f32).collect();
    let cs = reduce(&dw, &[3, 2], &[0], 0.0, |a, b| a + b);
    let want_b: Vec<f32> = db.iter().zip(&cs).map(|(b, c)| b - c * 0.1f32).collect();
    let want_out: Vec<f32> = h.iter().enumerate().map(|(i, v)| v + db[i % 2]).collect();
    let mut params = vec![t(&[3, 2], &dw), t(&[2], &db)];
    let r = run_both(&g, &bindings(&[]), &[t(&[4, 3], &dx)], &params);
    assert_close(r.outputs[0].as_f32().unwrap(), &want_out, 1e-6, "out");
    let exe = Executable::compile(&g, &bindings(&[]), &opts(OptLevel::O1)).unwrap();
    exe.run_tensors(&[t(&[4, 3], &dx)], &mut params).unwrap();
    assert_close(params[0].as_f32().unwrap(), &want_w, 1e-6, "W");
    assert_close(params[1].as_f32().unwrap(), &want_b, 1e-6, "b");
    // Both updates are written by the kernels computing them: no copy kernel at the end.
    let s = exe.schedule();
    let last = s.kernels.last().unwrap();
    let writes_param = |k: &nnc::opt::schedule::Kernel| {
        k.writes()
            .iter()
            .any(|b| matches!(s.buffers[b.0].storage, Storage::Param(_)))
    };
    assert!(writes_param(last));
    let copies = s
        .kernels
        .iter()
        .filter(|k| writes_param(k))
        .filter(|k| matches!(&k.kind, KernelKind::Loop(l) if l.exprs.len() == 1))
        .count();
    assert_eq!(copies, 0, "in-place updates need no copies");
}

#[test]
fn swapped_and_cross_reading_updates_use_old_values() {
    let mut g = Graph::new();
    let a = param(&mut g, "a", lit(&[5]));
    let b = param(&mut g, "b", lit(&[5]));
    let c = param(&mut g, "c", lit(&[5]));
    let d = param(&mut g, "d", lit(&[5]));
    let cd = op(&mut g, Op::Binary(Binary::Add), &[c, d]); // c := c + d
    let dc = op(&mut g, Op::Binary(Binary::Sub), &[d, c]); // d := d - c (old c)
    let out = op(&mut g, Op::Unary(Unary::Neg), &[a]);
    g.outputs.push(("neg_a".into(), out));
    g.updates.push((0, b)); // a := b
    g.updates.push((1, a)); // b := a
    g.updates.push((2, cd));
    g.updates.push((3, dc));
    let va = data(5, 1);
    let vb = data(5, 2);
    let vc = data(5, 3);
    let vd = data(5, 4);
    for level in [OptLevel::O0, OptLevel::O1] {
        let exe = Executable::compile(&g, &bindings(&[]), &opts(level)).unwrap();
        let mut ps = vec![t(&[5], &va), t(&[5], &vb), t(&[5], &vc), t(&[5], &vd)];
        let r = exe.run_tensors(&[], &mut ps).unwrap();
        let neg: Vec<f32> = va.iter().map(|v| -v).collect();
        assert_close(r.outputs[0].as_f32().unwrap(), &neg, 0.0, "output reads old a");
        assert_close(ps[0].as_f32().unwrap(), &vb, 0.0, "a := b");
        assert_close(ps[1].as_f32().unwrap(), &va, 0.0, "b := a");
        let want_c: Vec<f32> = vc.iter().zip(&vd).map(|(c, d)| c + d).collect();
        let want_d: Vec<f32> = vd.iter().zip(&vc).map(|(d, c)| d - c).collect();
        assert_close(ps[2].as_f32().unwrap(), &want_c, 0.0, "c := c + d");
        assert_close(ps[3].as_f32().unwrap(), &want_d, 0.0, "d := d - old c");
    }
}

#[test]
fn one_thread_is_bit_reproducible_and_threads_agree() {
    let g = sgd_graph();
    let dx = data(12, 1);
    let run = |threads: usize| {
        let mut o = opts(OptLevel::O1);
        o.threads = threads;
        let exe = Executable::compile(&g, &bindings(&[]), &o).unwrap();
        let mut ps = vec![t(&[3, 2], &data(6, 2)), t(&[2], &[0.5, -0.5])];
        let r = exe.run_tensors(&[t(&[4, 3], &dx)], &mut ps).unwrap();
        (r, ps)
    };
    let (r1, p1) = run(1);
    let (r1b, p1b) = run(1);
    assert_eq!(r1, r1b);
    assert_eq!(p1, p1b);
    let (r2, p2) = run(2);
    assert_close(
        r2.outputs[0].as_f32().unwrap(),
        r1.outputs[0].as_f32().unwrap(),
        1e-6,
        "threads",
    );
    assert_close(p2[0].as_f32().unwrap(), p1[0].as_f32().unwrap(), 1e-6, "threads");
}

#[test]
fn executables_are_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Executable>();
    assert_send_sync::<Program>();
    let prog = std::sync::Arc::new(Program::new(labelled(), opts(OptLevel::O1)).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let prog = prog.clone();
            std::thread::spawn(move || {
                let x = data(2 * 64, i);
                let y: Vec<i32> = (0..64).map(|k| k % 3).collect();
                let mut w = vec![Tensor::f32(vec![2, 3], data(6, 9))];
                let mut last = None;
                for _ in 0..20 {
                    let r = prog
                        .run_tensors(&[t(&[64, 2], &x), Tensor::i32(vec![64], y.clone())], &mut w)
                        .unwrap();
                    if let Some(l) = last {
                        assert_eq!(r.loss, l);
                    }
                    last = Some(r.loss);
                }
                last.unwrap().unwrap()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().is_finite());
    }
    assert_eq!(prog.cached(), 1);
}

#[test]
fn stats_and_clif_describe_the_code() {
    let mut g = Graph::new();
    let x = input(&mut g, "x", lit(&[8, 16]));
    let w = param(&mut g, "w", lit(&[16, 4]));
    let h = op(&mut g, Op::MatMul { ta: false, tb: false }, &[x, w]);
    let r = op(&mut g, Op::Unary(Unary::Relu), &[h]);
    g.outputs.push(("r".into(), r));
    let mut o = opts(OptLevel::O1);
    o.keep_clif = true;
    let (stats, clif) = nnc::runtime::inspect(&g, &bindings(&[]), &o).unwrap();
    assert_eq!(stats.kernels, 2);
    assert_eq!(stats.matmuls, 1);
    assert_eq!(stats.flops, 2 * 8 * 16 * 4 + 8 * 4);
    assert_eq!(stats.workspace_bytes, 8 * 4 * 4);
    assert_eq!(stats.io_bytes, (8 * 16 + 16 * 4 + 8 * 4) * 4);
    let clif = clif.unwrap();
    assert!(clif.contains("function") && clif.contains("call"), "{clif}");
    assert!(clif.contains("f32x4"), "the relu loop is vectorised:\n{clif}");
}

#[test]
#[ignore = "prints the schedule"]
fn print_sgd_schedule() {
    let exe = Executable::compile(&sgd_graph(), &bindings(&[]), &opts(OptLevel::O1)).unwrap();
    println!("{}", exe.schedule());
}
