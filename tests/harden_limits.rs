//! Limits through the whole pipeline (front end, autodiff, passes, scheduling, codegen,
//! runtime): long and deep inputs compile or are refused with a clear error, never a
//! stack overflow; absurd sizes are refused, never an overflow or an abort.

use nnc::ir::Bindings;
use nnc::{Error, Model, Options};
use std::sync::Arc;

/// Runs `f` on a thread with a 2 MiB stack (the default of spawned threads, smaller than
/// the main thread's), so recursion that would need more fails here too.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no panic or stack overflow")
}

fn sizes(pairs: &[(&str, usize)]) -> Bindings {
    pairs.iter().map(|(k, v)| (Arc::from(*k), *v)).collect()
}

/// Compiles `src` for forward and gradients, instantiates at `n` for every size
/// variable, and evaluates on ones. Returns the loss.
fn compile_and_run(src: &str, n: usize) -> Result<Option<f32>, Error> {
    let model = Model::from_source(src, "t.nn", None, Options::default())?;
    let b: Bindings = model.size_vars().iter().map(|v| (Arc::from(v.as_str()), n)).collect();
    let f = if model.has_loss() {
        model.gradients(true)?
    } else {
        model.forward()?
    };
    let inputs: Vec<nnc::Tensor> = f
        .inputs()
        .iter()
        .map(|s| {
            let shape = s.shape.eval(&b).unwrap();
            let len = shape.iter().product();
            match s.dtype {
                nnc::ir::DType::F32 => nnc::Tensor::f32(shape, vec![0.5; len]),
                nnc::ir::DType::I32 => nnc::Tensor::i32(shape, vec![0; len]),
            }
        })
        .collect();
    let params = model.init_params(&b, 0)?;
    let out = f.call_tensors(&inputs, &params)?;
    Ok(out.loss)
}

#[test]
fn fifty_thousand_term_sum_through_the_whole_pipeline() {
    let loss = on_small_stack(|| {
        let terms = vec!["x * w"; 50_000].join(" + ");
        let src = format!("model m {{\n input x: [N]\n param w: [N] = 1\n loss = sum({terms})\n}}\n");
        compile_and_run(&src, 3)
    });
    let loss = loss.expect("compiles and runs").expect("has a loss");
    assert!((loss - 50_000.0 * 1.5).abs() < 50.0, "{loss}");
}

#[test]
fn five_thousand_nested_unary_ops() {
    // deeper than the nesting limit: refused with a clear error
    let r = on_small_stack(|| {
        let src = format!(
            "model m {{\n input x: [N]\n param w: [N] = 0\n loss = sum({}x * w{})\n}}\n",
            "exp(".repeat(5000),
            ")".repeat(5000)
        );
        compile_and_run(&src, 2)
    });
    match r {
        Err(Error::Model(d)) => assert!(d.render(false).contains("nested deeper than"), "{}", d.render(false)),
        other => panic!("expected a nesting error, got {other:?}"),
    }
}

#[test]
fn nested_unary_ops_at_the_limit() {
    let loss = on_small_stack(|| {
        let depth = 250;
        let src = format!(
            "model m {{\n input x: [N]\n param w: [N] = 0\n loss = sum({}x * w{})\n}}\n",
            "tanh(".repeat(depth),
            ")".repeat(depth)
        );
        compile_and_run(&src, 2)
    });
    assert_eq!(loss.expect("compiles").expect("loss"), 0.0);
}

#[test]
fn five_thousand_unary_ops_in_a_let_chain() {
    // the same depth of graph without source nesting: every stage walks 5,000 levels
    let loss = on_small_stack(|| {
        let mut src = String::from("model m {\n input x: [N]\n param w: [N] = 0\n let a0 = x * w\n");
        for i in 1..5000 {
            src += &format!(" let a{i} = tanh(a{})\n", i - 1);
        }
        src += " loss = sum(a4999)\n}\n";
        compile_and_run(&src, 2)
    });
    assert_eq!(loss.expect("compiles").expect("loss"), 0.0);
}

#[test]
fn twenty_nested_grads() {
    let r = on_small_stack(|| {
        let mut src = String::from("model m {\n input x: [N]\n param w: [N] = 1\n let g0 = sum(w * x)\n");
        for i in 1..=20 {
            src += &format!(" let g{i} = sum(grad(g{}, w) * x)\n", i - 1);
        }
        src += " loss = g20\n}\n";
        compile_and_run(&src, 2)
    });
    // d/dw sum(w*x) = x, then sum(x*x) has no w: every later grad is of a constant
    match r {
        Ok(l) => assert!(l.is_some()),
        Err(e) => assert!(!e.to_string().contains("internal"), "{e}"),
    }
}

#[test]
fn absurd_literal_dimensions_are_refused() {
    let src = "model m {\n input x: [100000000000, 100000000000]\n loss = sum(x)\n}\n";
    let err = Model::from_source(src, "t.nn", None, Options::default()).and_then(|m| m.forward());
    match err {
        Err(e) => assert!(!e.to_string().contains("internal"), "{e}"),
        Ok(f) => {
            let r = f.instantiate(&Bindings::new());
            assert!(matches!(r, Err(Error::MemoryLimit { .. })), "{:?}", r.err());
        }
    }
}

#[test]
fn huge_size_variables_are_refused_before_compiling() {
    let src = "model m {\n input x: [N, M]\n param W: [M, K] = 0\n output y = x @ W\n loss = sum(y * y)\n}\n";
    let model = Model::from_source(src, "t.nn", None, Options::default()).unwrap();
    for f in [model.forward().unwrap(), model.gradients(true).unwrap()] {
        for (n, m, k) in [
            (0, 1usize << 62, 1usize << 62),
            (usize::MAX, 1, 1),
            (1 << 40, 1 << 40, 1),
            (0, 0, usize::MAX),
            (1, 1 << 31, 1 << 31),
            (1 << 20, 1 << 20, 1 << 20),
            (3, usize::MAX / 2, 2),
        ] {
            let r = f.instantiate(&sizes(&[("N", n), ("M", m), ("K", k)]));
            // Tensors of no elements need no memory, whatever their other dimensions.
            let empty = n == 0 || m == 0 || k == 0;
            match r {
                Err(Error::MemoryLimit { .. })
                | Err(Error::Sizes(_))
                | Err(Error::Usage(_))
                | Err(Error::Runtime(_)) => {}
                Ok(_) if empty => {}
                other => panic!("N={n} M={m} K={k}: {:?}", other.map(|_| ())),
            }
        }
    }
}

#[test]
fn empty_tensors_with_huge_dimensions_do_not_loop_over_nothing() {
    // [0, 2^40] needs no memory, so the memory limit lets it through; a transposed copy
    // loops over the 2^40 axis outside the empty one unless empty kernels are skipped.
    let src = "model m {\n input x: [N, D]\n param b: [N] = 0\n output y = x.T * 2 + b\n output s = sum(x, axis=1)\n loss = sum(x.T * x.T) + sum(b)\n}\n";
    for backend in [nnc::Backend::Jit, nnc::Backend::Interpreter] {
        empty_but_huge(src, backend);
    }
}

fn empty_but_huge(src: &'static str, backend: nnc::Backend) {
    let r = on_small_stack(move || {
        let model = Model::from_source(
            src,
            "t.nn",
            None,
            Options {
                backend,
                ..Options::default()
            },
        )?;
        let x = nnc::Tensor::f32(vec![0, 1 << 40], vec![]);
        let b = nnc::Tensor::f32(vec![0], vec![]);
        let out = model
            .forward()?
            .call_tensors(std::slice::from_ref(&x), std::slice::from_ref(&b))?;
        let grads = model.gradients(true)?.call_tensors(&[x], &[b])?;
        Ok::<_, Error>((out, grads))
    });
    match r {
        Ok((out, grads)) => {
            assert_eq!(out.get("y").unwrap().shape, vec![1 << 40, 0]);
            assert_eq!(out.get("s").unwrap().shape, vec![0]);
            assert_eq!(grads.get("grad.x").unwrap().shape, vec![0, 1 << 40]);
            assert_eq!(grads.loss, Some(0.0));
        }
        Err(e) => panic!("{e}"),
    }
}
