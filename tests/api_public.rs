//! The library as a user sees it: only crate-root items. Compile → init → train steps →
//! forward, through the `Session` and through instances on the caller's own buffers.

use nnc::{Arg, Backend, Bindings, DType, Model, OptLevel, Optimizer, Options, Session, Tensor, Workspace};

const CLASSIFIER: &str = "
fn dense(x, W, b) = x @ W + b

model clf {
    input x: [N, 6]
    input y: i32[N]
    param W1: [6, H] = he_normal
    param b1: [H]
    param W2: [H, 3]
    param b2: [3]
    let logits = dense(relu(dense(x, W1, b1)), W2, b2)
    output logits
    output probs = softmax(logits, axis=1)
    loss = cross_entropy(logits, y)
}
";

/// A deterministic data set: the class is the argmax of three fixed projections.
fn data(n: usize, seed: u64) -> (Vec<f32>, Vec<i32>) {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
    };
    let x: Vec<f32> = (0..n * 6).map(|_| next()).collect();
    let y = x
        .chunks(6)
        .map(|r| {
            let scores = [r[0] + r[1] - r[2], r[2] + r[3] - r[4], r[4] + r[5] - r[0]];
            (0..3).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap() as i32
        })
        .collect();
    (x, y)
}

fn backends() -> Vec<(&'static str, Options)> {
    vec![
        (
            "jit",
            Options {
                threads: 1,
                ..Options::default()
            },
        ),
        (
            "jit -O0",
            Options {
                threads: 1,
                opt_level: OptLevel::O0,
                ..Options::default()
            },
        ),
        (
            "interpreter",
            Options {
                backend: Backend::Interpreter,
                ..Options::default()
            },
        ),
    ]
}

#[test]
fn inspecting_a_model_gives_names_dtypes_and_symbolic_shapes() {
    let model = Model::from_source(CLASSIFIER, "clf.nn", None, Options::default()).unwrap();
    assert_eq!(model.name(), "clf");
    let inputs: Vec<(String, DType, String)> = model
        .inputs()
        .into_iter()
        .map(|s| (s.name, s.dtype, s.shape.to_string()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("x".to_string(), DType::F32, "[N, 6]".to_string()),
            ("y".to_string(), DType::I32, "[N]".to_string())
        ]
    );
    let params: Vec<String> = model
        .params()
        .into_iter()
        .map(|s| format!("{}: {}", s.name, s.shape))
        .collect();
    assert_eq!(params, ["W1: [6, H]", "b1: [H]", "W2: [H, 3]", "b2: [3]"]);
    let outputs: Vec<String> = model
        .outputs()
        .into_iter()
        .map(|s| format!("{}: {}", s.name, s.shape))
        .collect();
    assert_eq!(outputs, ["logits: [N, 3]", "probs: [N, 3]"]);
    assert_eq!(model.size_vars(), ["H", "N"]);
    assert!(model.has_loss());
    assert_eq!(model.output_index("probs").unwrap(), 1);
    assert_eq!(model.param_index("W2").unwrap(), 2);
    assert_eq!(model.input_index("y").unwrap(), 1);
    let sizes = model.sizes(&[("N", 5), ("H", 8)]).unwrap();
    assert_eq!(model.outputs()[1].shape_for(&sizes).unwrap(), [5, 3]);
    assert_eq!(model.label_classes(&sizes).unwrap(), [None, Some(3)]);
}

#[test]
fn a_session_trains_and_then_predicts_on_other_sizes() {
    for (name, options) in backends() {
        let model = Model::from_source(CLASSIFIER, "clf.nn", None, options).unwrap();
        let sizes = model.sizes(&[("N", 16), ("H", 12)]).unwrap();
        let mut session = Session::new(&model, &sizes, 3).unwrap();
        session.set_optimizer(Optimizer::adam(0.05)).unwrap();
        assert_eq!(
            session.optimizer_state().len(),
            8,
            "{name}: adam keeps two moments per param"
        );
        let (x, y) = data(64, 1);
        let mut first = Vec::new();
        let mut last = Vec::new();
        for epoch in 0..15 {
            for (xb, yb) in x.chunks(16 * 6).zip(y.chunks(16)) {
                let loss = session.step(&[Arg::F32(xb), Arg::I32(yb)]).unwrap();
                assert!(loss.is_finite(), "{name}");
                match epoch {
                    0 => first.push(loss),
                    14 => last.push(loss),
                    _ => {}
                }
            }
        }
        assert_eq!(session.steps(), 60);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(
            mean(&last) < 0.5 * mean(&first),
            "{name}: loss {} -> {}",
            mean(&first),
            mean(&last)
        );

        // All 64 examples at once: other sizes, the same params.
        let all = session.sizes_with(&[("N", 64)]).unwrap();
        let out = session.forward(&all, &[Arg::F32(&x), Arg::I32(&y)]).unwrap();
        assert_eq!(out.tensors.len(), 2);
        assert_eq!(out.get("logits").unwrap().shape, [64, 3]);
        let probs = out.f32("probs").unwrap();
        assert_eq!(probs.len(), 64 * 3);
        for row in probs.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{name}: {row:?}");
        }
        let correct = probs
            .chunks(3)
            .zip(&y)
            .filter(|(r, &c)| (0..3).max_by(|&a, &b| r[a].total_cmp(&r[b])) == Some(c as usize))
            .count();
        assert!(correct >= 48, "{name}: {correct} of 64 right after training");
        assert!(out.loss.unwrap() < mean(&first), "{name}");

        // Into the caller's buffers: the same numbers.
        let (mut logits, mut probs2) = (vec![0.0; 64 * 3], vec![0.0; 64 * 3]);
        let loss = session
            .forward_into(&all, &[Arg::F32(&x), Arg::I32(&y)], &mut [&mut logits, &mut probs2])
            .unwrap();
        assert_eq!(loss, out.loss, "{name}");
        assert_eq!(probs2, probs, "{name}");
    }
}

#[test]
fn params_survive_a_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.safetensors");
    let model = Model::from_source(CLASSIFIER, "clf.nn", None, Options::default()).unwrap();
    let sizes = model.sizes(&[("N", 4), ("H", 5)]).unwrap();
    let mut session = Session::new(&model, &sizes, 11).unwrap();
    session.set_optimizer(Optimizer::momentum(0.1)).unwrap();
    let (x, y) = data(4, 2);
    session.step(&[Arg::F32(&x), Arg::I32(&y)]).unwrap();
    session.save_params(&path).unwrap();
    let loaded = Session::load(&model, &sizes, &path).unwrap();
    assert_eq!(loaded.params(), session.params());
    assert_ne!(session.params(), Session::new(&model, &sizes, 11).unwrap().params());
    // Same seed, same params; another seed, others.
    assert_eq!(
        model.init_params(&sizes, 11).unwrap(),
        model.init_params(&sizes, 11).unwrap()
    );
    assert_ne!(
        model.init_params(&sizes, 11).unwrap(),
        model.init_params(&sizes, 12).unwrap()
    );
}

/// The low level: a train-step instance and a gradient instance on slices the caller
/// owns, compared across backends.
#[test]
fn instances_run_on_the_callers_slices() {
    let mut results = Vec::new();
    for (name, options) in backends() {
        let model = Model::from_source(CLASSIFIER, "clf.nn", None, options).unwrap();
        let sizes: Bindings = model.sizes(&[("N", 8), ("H", 4)]).unwrap();
        let params: Vec<Tensor> = model.init_params(&sizes, 5).unwrap();
        let mut p: Vec<Vec<f32>> = params.iter().map(|t| t.as_f32().unwrap().to_vec()).collect();
        let step = model.train_step(Optimizer::sgd(0.2)).unwrap();
        assert!(step.state().is_empty());
        let train = step.instantiate(&sizes).unwrap();
        let (x, y) = data(8, 4);
        let mut ws = Workspace::new();
        let mut losses = Vec::new();
        for t in 1..=5 {
            let mut pm: Vec<&mut [f32]> = p.iter_mut().map(|v| v.as_mut_slice()).collect();
            losses.push(
                train
                    .step(&mut ws, t, &[Arg::F32(&x), Arg::I32(&y)], &mut pm, &mut [])
                    .unwrap(),
            );
        }
        assert!(losses[4] < losses[0], "{name}: {losses:?}");

        let grads = model.gradients(false).unwrap();
        let names: Vec<String> = grads.outputs().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["logits", "probs", "grad.W1", "grad.b1", "grad.W2", "grad.b2"]);
        let only = model.gradients_only(false).unwrap();
        let only_names: Vec<String> = only.outputs().into_iter().map(|s| s.name).collect();
        assert_eq!(only_names, ["grad.W1", "grad.b1", "grad.W2", "grad.b2"]);

        let pr: Vec<&[f32]> = p.iter().map(|v| v.as_slice()).collect();
        let full = grads.instantiate(&sizes).unwrap();
        let mut bufs = full.output_buffers();
        assert_eq!(full.output_shapes()[2], &[6, 4]);
        let mut outs: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let loss = full
            .call(&mut ws, &[Arg::F32(&x), Arg::I32(&y)], &pr, &mut outs)
            .unwrap();
        let gi = only.instantiate(&sizes).unwrap();
        let mut gbufs = gi.output_buffers();
        let mut gouts: Vec<&mut [f32]> = gbufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let loss2 = gi
            .call(&mut ws, &[Arg::F32(&x), Arg::I32(&y)], &pr, &mut gouts)
            .unwrap();
        assert_eq!(loss, loss2, "{name}");
        for (k, g) in gbufs.iter().enumerate() {
            let i = grads.output_index(&only_names[k]).unwrap();
            close(g, &bufs[i], name);
        }
        assert!(bufs[2].iter().any(|&v| v != 0.0), "{name}: gradients are computed");
        results.push((name, losses, bufs));
    }
    let (_, l0, b0) = &results[0];
    for (name, l, b) in &results[1..] {
        close(l, l0, name);
        for (u, v) in b.iter().zip(b0) {
            close(u, v, name);
        }
    }
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (&u, &v)) in a.iter().zip(b).enumerate() {
        assert!((u - v).abs() <= 1e-4 + 1e-3 * v.abs(), "{what}[{i}]: {u} vs {v}");
    }
}

#[test]
fn call_tensors_binds_sizes_from_shapes() {
    let model = Model::from_source(CLASSIFIER, "clf.nn", None, Options::default()).unwrap();
    let sizes = model.sizes(&[("N", 3), ("H", 2)]).unwrap();
    let params = model.init_params(&sizes, 0).unwrap();
    let (x, y) = data(3, 9);
    let inputs = [Tensor::f32(vec![3, 6], x), Tensor::i32(vec![3], y)];
    let out = model.forward().unwrap().call_tensors(&inputs, &params).unwrap();
    assert_eq!(out.get("probs").unwrap().shape, [3, 3]);
    assert!(out.loss.unwrap() > 0.0);
    let ishapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
    assert_eq!(
        model.sizes_from_shapes(&ishapes, None).unwrap_err().to_string(),
        "size variable H is not determined by any given tensor"
    );
}
