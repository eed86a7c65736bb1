//! Rendered diagnostics (no colour), one snapshot per error class, plus the promise that
//! independent errors are all reported and poisoned values cause no follow-on errors.

use nnc::diag::{render, Diagnostic};
use nnc::sema::check_source;

fn diags(src: &str) -> Vec<Diagnostic> {
    check_source(src).1
}

/// The rendered diagnostics of `src`, which must have at least one.
fn rendered(src: &str) -> String {
    let d = diags(src);
    assert!(!d.is_empty(), "expected a diagnostic");
    render(&d, "model.nn", src, false)
}

macro_rules! snapshot_tests {
    ($($name:ident: $src:expr;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(rendered($src));
        }
    )*};
}

snapshot_tests! {
    syntax_error: "model bad {\n    input x: [N, 4]\n    param W: [4, 2]\n    output y = relu(x @ W\n    loss = sum(y)\n}\n";
    syntax_error_at_end_of_file: "model bad {\n    input x: [N, 4]\n";
    illegal_character: "model bad {\n    input x: [N, 4]\n    output y = x $ 2\n}\n";
    invalid_utf8: &String::from_utf8_lossy(b"model bad {\n    input x: [N, 4] \xff\n}\n");
    undefined_name: "model bad {\n    input x: [N, 4]\n    param W: [4, 2]\n    output y = x @ V\n}\n";
    forward_reference: "model bad {\n    input x: [N, 4]\n    let a = b + 1\n    let b = x * 2\n}\n";
    duplicate_name: "model bad {\n    input x: [N, 4]\n    param x: [4]\n}\n";
    unknown_function_with_suggestion: "model bad {\n    input x: [N, 4]\n    output y = relux(x)\n}\n";
    wrong_arity: "model bad {\n    input x: [N, 4]\n    output y = maximum(x)\n}\n";
    wrong_arity_of_fn: "fn f(a, b) = a * b\nmodel bad {\n    input x: [N, 4]\n    output y = f(x)\n}\n";
    unknown_keyword: "model bad {\n    input x: [N, 4]\n    output y = sum(x, axes=1)\n}\n";
    axis_out_of_range: "model bad {\n    input x: [N, 4]\n    output s = sum(x, axis=2)\n}\n";
    broadcast_mismatch: "model bad {\n    input a: [N, 3]\n    param b: [4]\n    output c = a + b\n}\n";
    size_variables_are_not_unified: "model bad {\n    input a: [N, 3]\n    input b: [M, 3]\n    output c = a - b\n}\n";
    matmul_mismatch: "model bad {\n    input x: [N, 784]\n    param W: [128, 64]\n    output y = x @ W\n}\n";
    i32_arithmetic: "model bad {\n    input x: [N, 4]\n    input y: i32[N]\n    let z = y * 2.0\n}\n";
    labels_not_i32: "model bad {\n    input x: [N, 4]\n    input y: [N]\n    loss = cross_entropy(x, y)\n}\n";
    loss_not_scalar: "model bad {\n    input x: [N, 4]\n    loss = x * 2\n}\n";
    grad_of_non_scalar: "model bad {\n    input x: [N, 4]\n    param W: [4, 2]\n    output g = grad(x @ W, W)\n}\n";
    grad_with_respect_to_non_leaf: "model bad {\n    input x: [N, 4]\n    param W: [4, 2]\n    let h = x @ W\n    output g = grad(sum(h), h)\n}\n";
    recursion: "fn f(x) = f(x) + 1\nmodel bad {\n    input x: [N, 4]\n    output y = f(x)\n}\n";
    call_of_later_fn: "fn f(x) = g(x)\nfn g(x) = f(x)\nmodel bad {\n    input x: [N, 4]\n    output y = g(x)\n}\n";
    bad_initialiser: "model bad {\n    param W: [4, 2] = he_normul\n    param b: [2] = uniform(0.1)\n}\n";
    reshape_mismatch: "model bad {\n    input x: [N, 6]\n    output a = reshape(x, [N, 4])\n    output b = reshape(x, [-1, 4])\n}\n";
    dimension_too_large: "model bad {\n    input x: [N, 100000000000000000000]\n}\n";
    shape_error_inside_a_fn: "fn dense(x, W) = x @ W\nmodel bad {\n    input x: [N, 4]\n    param W: [3, 2]\n    output y = dense(x, W)\n}\n";
    non_constant_exponent: "model bad {\n    input x: [N, 4]\n    output y = x ^ x\n}\n";
    no_model: "fn f(x) = x\n";
}

#[test]
fn independent_errors_are_all_reported_without_follow_ons() {
    let src = "model bad {
    input x: [N, 4]
    param W: [4, 3]
    let a = x @ V            // undefined: a is poison
    let b = relu(a) + a @ W  // uses poison: nothing more
    let c = sum(x, axis=7)   // independent
    let d = c + frob(b)      // unknown function, its argument is poison
    output e = x @ W @ W     // independent matmul error
    output f = e * 2         // e is poison
    loss = sum(f) + mean(x, axis=-3)  // independent axis error
}
";
    let messages: Vec<(usize, String)> = diags(src)
        .into_iter()
        .map(|d| (nnc::diag::line_col(src, d.span.start as usize).0, d.message))
        .collect();
    let lines: Vec<usize> = messages.iter().map(|m| m.0).collect();
    assert_eq!(lines, vec![4, 6, 7, 8, 10], "{messages:#?}");
}

#[test]
fn a_call_in_error_reports_nothing_about_its_true_false_or_shape_arguments() {
    for call in [
        "sum(x, 1, true, 2)",
        "summ(x, keepdims=true)",
        "reshap(x, [N, 2])",
        "sum(x, axiss=0, keepdims=false)",
    ] {
        let src = format!("model bad {{\n    input x: [N, 4]\n    output y = {call}\n}}\n");
        let d = diags(&src);
        assert_eq!(
            d.len(),
            1,
            "{call}: {:#?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
    }
}

#[test]
fn true_and_false_bound_by_let_or_fn_serve_only_as_keepdims() {
    let ok = "fn red(x, kd) = sum(x, axis=0, keepdims=kd)\nfn pass(x, kd) = red(x, kd)\n\
              model m {\n param x: [3, 4]\n let t = true\n output a = pass(x, t)\n output b = red(x, false)\n}\n";
    let (models, d) = check_source(ok);
    assert!(d.is_empty(), "{:#?}", d.iter().map(|d| &d.message).collect::<Vec<_>>());
    let g = &models[0].graph;
    let shapes: Vec<String> = ["a", "b"]
        .map(|n| format!("{}", g.shape(g.output(n).expect("output"))))
        .into();
    assert_eq!(shapes, ["[1, 4]", "[4]"]);
    for (body, line) in [
        ("output y = x * t", 5),
        ("output t", 5),
        ("output y = x ^ t", 5),
        ("output y = f(x, true)", 1),
    ] {
        let src = format!("fn f(x, k) = x * k\nmodel m {{\n param x: [3]\n let t = false\n {body}\n}}\n");
        let d = diags(&src);
        assert_eq!(
            d.len(),
            1,
            "{body}: {:#?}",
            d.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        assert_eq!(
            nnc::diag::line_col(&src, d[0].span.start as usize).0,
            line,
            "{body}: {}",
            d[0].message
        );
    }
}

#[test]
fn several_syntax_errors_are_reported_and_checking_goes_on_quietly() {
    let src = "model bad {
    input x: [N, 4]
    let a = (x +
    let b = x * * 2
    output c = a + b
    output d = x @ x
}
";
    let messages: Vec<(usize, String)> = diags(src)
        .into_iter()
        .map(|d| (nnc::diag::line_col(src, d.span.start as usize).0, d.message))
        .collect();
    // Two syntax errors; `a` and `b` were in broken statements, so their uses are quiet;
    // the matmul error on line 6 is independent and still reported.
    let lines: Vec<usize> = messages.iter().map(|m| m.0).collect();
    assert_eq!(lines, vec![4, 4, 6], "{messages:#?}");
}

#[test]
fn line_and_column_count_characters() {
    let src = "ab\ncdé f\n";
    assert_eq!(nnc::diag::line_col(src, 0), (1, 1));
    assert_eq!(nnc::diag::line_col(src, 3), (2, 1));
    assert_eq!(nnc::diag::line_col(src, 8), (2, 5));
    assert_eq!(nnc::diag::line_col(src, 1000), (3, 1));
}

#[test]
fn colour_is_only_added_on_request() {
    let src = "model bad {\n    output y = z\n}\n";
    let d = diags(src);
    assert!(!render(&d, "model.nn", src, false).contains('\x1b'));
    assert!(render(&d, "model.nn", src, true).contains('\x1b'));
    assert!(render(&d, "model.nn", src, false).contains("model.nn:2:16"));
}

#[test]
fn no_model_is_returned_from_a_file_with_errors() {
    // `g` has an error of its own; the model only uses it, so it has none, but it is
    // incomplete and must not be handed on.
    let (models, d) =
        check_source("fn g(x) = x @ q\nmodel a { input x: [2]\n output y = g(x) }\nmodel b { input x: [2] }");
    assert_eq!(d.len(), 1);
    assert!(models.is_empty());
    let (models, d) = check_source("model a { input x: [2]\n output y = x +\n}\nmodel b { input x: [2] }");
    assert_eq!(d.len(), 1);
    assert!(models.is_empty());
}

#[test]
fn a_list_of_axes_is_one_error_saying_so() {
    for (call, note) in [("sum(x, axis=[0, 1])", true), ("softmax(x, [0, 1])", false)] {
        let src = format!("model m {{\n param x: [2, 3]\n output y = {call}\n}}\n");
        let d = diags(&src);
        assert_eq!(d.len(), 1, "{call}");
        assert_eq!(d[0].message, "an axis is one integer, not a list", "{call}");
        assert_eq!(rendered(&src).contains("reduce one axis at a time"), note, "{call}");
    }
}

#[test]
fn a_huge_axis_is_shown_as_written() {
    let src = "model m {\n param x: [2, 3]\n output y = sum(x, axis=1e20)\n}\n";
    let d = diags(src);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.starts_with("axis 100000000000000000000 is out of range"),
        "{}",
        d[0].message
    );
}
