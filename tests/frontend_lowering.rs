//! Lowering: the IR printed for small models, snapshot-tested, and verified.

use nnc::ir;
use nnc::sema::{check_source, CheckedModel};

/// Checks `src`, which must be clean, and returns its models.
fn models(src: &str) -> Vec<CheckedModel> {
    let (models, diags) = check_source(src);
    assert!(diags.is_empty(), "{}", nnc::diag::render(&diags, "test.nn", src, false));
    for m in &models {
        ir::verify(&m.graph, ir::Expect::default()).expect("lowered graphs verify");
    }
    models
}

/// The printed IR of the only model in `src`, with source lines.
fn ir_of(src: &str) -> String {
    let ms = models(src);
    assert_eq!(ms.len(), 1);
    let line_of = |offset: u32| Some(nnc::diag::line_col(src, offset as usize).0);
    ir::print(&ms[0].graph, &ms[0].name, &line_of)
}

#[test]
fn mnist_model_of_the_language_reference() {
    let src = r#"
// The digit classifier: 784 -> 128 -> 64 -> 10.
fn dense(x, W, b) = x @ W + b

model mnist_mlp {
    input x: [N, 784]            // f32 unless another element type is written
    input y: i32[N]              // class labels 0..9

    param W1: [784, 128] = he_normal
    param b1: [128]              // rank < 2: zeros by default
    param W2: [128, 64]  = he_normal
    param b2: [64]
    param W3: [64, 10]           // rank >= 2: glorot_uniform by default
    param b3: [10]

    let h1 = relu(dense(x, W1, b1))
    let h2 = relu(dense(h1, W2, b2))
    let logits = dense(h2, W3, b3)

    output logits
    output probs = softmax(logits, axis=1)
    loss = cross_entropy(logits, y)
}
"#;
    let ms = models(src);
    let g = &ms[0].graph;
    let inits: Vec<(&str, &ir::Init)> = g.params.iter().map(|p| (p.name.as_str(), &p.init)).collect();
    assert_eq!(
        inits,
        vec![
            ("W1", &ir::Init::HeNormal),
            ("b1", &ir::Init::Const(0.0)),
            ("W2", &ir::Init::HeNormal),
            ("b2", &ir::Init::Const(0.0)),
            ("W3", &ir::Init::GlorotUniform),
            ("b3", &ir::Init::Const(0.0)),
        ]
    );
    insta::assert_snapshot!(ir_of(src));
}

#[test]
fn softmax_family_and_keepdims() {
    insta::assert_snapshot!(ir_of(
        "model sm {
    input x: [B, 5]
    output a = softmax(x, axis=1)
    output b = log_softmax(x, axis=0)
    output c = softmax(x)
    output m = mean(x, axis=-1, keepdims=true)
    output s = max(x, keepdims=true)
    output l = logsumexp(x)
}"
    ));
}

#[test]
fn cross_entropy_with_labels_and_soft_targets_and_mse() {
    insta::assert_snapshot!(ir_of(
        "model ce {
    input x: [N, 4]
    input y: i32[N]
    input t: [N, 4]
    output hard = cross_entropy(x, y)
    output soft = cross_entropy(x, t)
    output m = mse(x, t)
}"
    ));
}

#[test]
fn reshape_with_minus_one_and_products() {
    insta::assert_snapshot!(ir_of(
        "model rs {
    input x: [N, 28, 28]
    output flat = reshape(x, [N, -1])
    output rows = reshape(x, [N * 28, 28])
    output all = reshape(x, [-1])
}"
    ));
}

#[test]
fn matrix_products_of_vectors_and_transposes() {
    insta::assert_snapshot!(ir_of(
        "model mv {
    input u: [3]
    param v: [4]
    param M: [4, 3]
    output a = v @ M
    output b = M @ u
    output c = u @ u
    output d = M.T @ v
    output e = transpose(M) @ M
}"
    ));
}

#[test]
fn fns_are_inlined_with_their_own_spans() {
    insta::assert_snapshot!(ir_of(
        "fn affine(x, W, b) = x @ W + b
fn block(x, W, b) {
    let h = affine(x, W, b)
    return tanh(h) + 0.1 * h
}
fn pw(x, c) = x ^ c

model stacked {
    input x: [N, 4]
    param W: [4, 4]
    param b: [4]
    output y = block(x, W, b)
    output z = pw(y, -2)
}"
    ));
}

#[test]
fn activations_powers_and_grad() {
    insta::assert_snapshot!(ir_of(
        "model acts {
    input x: [N, 4]
    param p: [4] = normal(std=0.5)
    let k = 3
    output g = gelu(x) + leaky_relu(x) + leaky_relu(x, alpha=0.2)
    output m = maximum(x, p) - minimum(x, 0.3 * p)
    output q = x ^ -1.5 + x ^ (1 / 2) + -x ^ k
    output d = grad(sum(x * p), p)
    loss = sum(d)
}"
    ));
}

#[test]
fn initialisers_and_defaults() {
    let ms = models(
        "model inits {
    param a: [3, 4]
    param b: [4]
    param c: [] = -0.5
    param d: [2, 2] = normal(mean=1, std=0.1)
    param e: [2] = uniform(-0.1, 0.1)
    param f: [2, 3, 4] = glorot_normal
    param g: [5] = he_uniform
    param h: [2] = ones
    param i: [2] = 2.5
}",
    );
    let inits: Vec<ir::Init> = ms[0].graph.params.iter().map(|p| p.init.clone()).collect();
    assert_eq!(
        inits,
        vec![
            ir::Init::GlorotUniform,
            ir::Init::Const(0.0),
            ir::Init::Const(-0.5),
            ir::Init::Normal { mean: 1.0, std: 0.1 },
            ir::Init::Uniform { lo: -0.1, hi: 0.1 },
            ir::Init::GlorotNormal,
            ir::Init::HeUniform,
            ir::Init::Const(1.0),
            ir::Init::Const(2.5),
        ]
    );
}

#[test]
fn several_models_and_selection() {
    let src =
        "fn sq(x) = x * x\nmodel a { input x: [2]\n output y = sq(x) }\nmodel b { input x: [3]\n loss = sum(sq(x)) }";
    let ms = models(src);
    assert_eq!(ms.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert!(ms[1].graph.loss.is_some() && ms[0].graph.loss.is_none());
    let err = nnc::sema::select_model(ms.clone(), None).unwrap_err();
    assert_eq!(err.message, "several models: pass --model NAME (found a, b)");
    let err = nnc::sema::select_model(ms.clone(), Some("c")).unwrap_err();
    assert_eq!(err.message, "no model named `c` (found a, b)");
    assert_eq!(nnc::sema::select_model(ms, Some("b")).unwrap().name, "b");
    let err = nnc::sema::select_model(Vec::new(), None).unwrap_err();
    assert_eq!(err.message, "file has no model");
}

#[test]
fn every_conformance_model_lowers_to_a_verified_graph() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("err_") {
            continue;
        }
        let src = std::fs::read_to_string(path.join("model.nn")).unwrap();
        let ms = models(&src);
        assert_eq!(ms.len(), 1, "{}", path.display());
        n += 1;
    }
    assert!(n >= 14);
}

#[test]
fn graphs_printed_back_as_nn_check_again_with_the_same_interface() {
    // `ir::to_nn` writes a graph in the surface language; the front end must accept it
    // and give back the same inputs, params and outputs.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("err_") {
            continue;
        }
        let src = std::fs::read_to_string(path.join("model.nn")).unwrap();
        let m = models(&src).remove(0);
        let Ok(text) = ir::to_nn(&m.graph, &m.name) else {
            continue;
        };
        let again = models(&text).remove(0);
        let names = |g: &ir::Graph| {
            (
                g.inputs
                    .iter()
                    .map(|i| (i.name.clone(), i.ty.clone()))
                    .collect::<Vec<_>>(),
                g.params
                    .iter()
                    .map(|p| (p.name.clone(), p.shape.clone()))
                    .collect::<Vec<_>>(),
                g.outputs
                    .iter()
                    .map(|o| (o.0.clone(), g.node(o.1).ty.clone()))
                    .collect::<Vec<_>>(),
                g.loss.is_some(),
            )
        };
        assert_eq!(names(&m.graph), names(&again.graph), "{}:\n{text}", path.display());
        n += 1;
    }
    assert!(n >= 10, "only {n} models could be printed");
}
