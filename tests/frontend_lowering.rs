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
