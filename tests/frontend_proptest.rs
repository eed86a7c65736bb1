//! Random input never panics the front end: token soups (mostly inside a model, to reach
//! the checker), random bytes, and every diagnostic they produce renders.

use nnc::diag::render;
use nnc::sema::check_source;
use proptest::prelude::*;

const TOKENS: &[&str] = &[
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
    "x",
    "y",
    "W",
    "b",
    "N",
    "M",
    "T",
    "f",
    "g",
    "relu",
    "sum",
    "mean",
    "max",
    "softmax",
    "cross_entropy",
    "reshape",
    "grad",
    "mse",
    "transpose",
    "gelu",
    "he_normal",
    "normal",
    "uniform",
    "axis",
    "keepdims",
    "alpha",
    "std",
    "0",
    "1",
    "2",
    "-1",
    "0.5",
    ".5",
    "1e-3",
    "2.5E+4",
    "100000000000000000000",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ";",
    "=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "@",
    ".",
    ".T",
    "$",
    "é",
    "//",
    "\n",
];

/// A model header that makes the soup likely to reach the checker.
const PRELUDE: &str =
    "fn f(x) = x + 1\nmodel m {\n input x: [N, 4]\n input y: i32[N]\n param W: [4, 3]\n param b: [3]\n";

fn check_and_render(src: &str) {
    let (models, diags) = check_source(src);
    let text = render(&diags, "soup.nn", src, false);
    assert_eq!(diags.is_empty(), text.is_empty());
    if diags.is_empty() {
        for m in &models {
            assert!(nnc::ir::verify(&m.graph, nnc::ir::Expect::default()).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn token_soup_in_a_model(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
        let src = format!("{PRELUDE} let z = {}\n}}\n", tokens.join(" "));
        check_and_render(&src);
    }

    #[test]
    fn token_soup_anywhere(tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..80)) {
        check_and_render(&tokens.join(" "));
    }

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_and_render(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_expressions_over_valid_names(
        ops in prop::collection::vec((prop::sample::select(&["+", "-", "*", "/", "@"][..]),
                                      prop::sample::select(&["x", "W", "b", "2", "relu(x)", "x.T", "sum(x, axis=1)",
                                                             "softmax(x @ W)", "f(b)", "(x @ W)", "-b", "b ^ 2",
                                                             "reshape(x, [-1])", "mean(W, axis=0, keepdims=true)"][..])), 0..8)) {
        let mut expr = String::from("x");
        for (op, term) in ops {
            expr = format!("{expr} {op} {term}");
        }
        let src = format!("{PRELUDE} output z = {expr}\n loss = sum({expr})\n}}\n");
        check_and_render(&src);
    }
}
