//! Hostile inputs: each must give a diagnostic or succeed quickly, without a panic or a
//! stack overflow. Every test runs on a thread with the default 2 MiB test stack.

use nnc::sema::check_source;

fn check(src: &str) -> Vec<String> {
    let (_, diags) = check_source(src);
    diags.into_iter().map(|d| d.message).collect()
}

/// Runs `f` on a fresh thread with a 2 MiB stack, as the test harness does.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic or overflow");
}

#[test]
fn twenty_thousand_nested_parentheses() {
    on_small_stack(|| {
        let n = 20_000;
        let ok = format!(
            "model m {{ input x: [N]\n output y = {}x{} }}",
            "(".repeat(n),
            ")".repeat(n)
        );
        assert_eq!(check(&ok), Vec::<String>::new());
        let deep = format!(
            "model m {{ input x: [N]\n output y = {}x{} }}",
            "(x + ".repeat(n),
            ")".repeat(n)
        );
        let msgs = check(&deep);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("nested deeper than"));
        let unclosed = format!("model m {{ input x: [N]\n output y = {}x }}", "(".repeat(n));
        assert!(!check(&unclosed).is_empty());
        let negs = format!("model m {{ input x: [N]\n output y = {}x }}", "-".repeat(n));
        assert_eq!(check(&negs).len(), 1);
    });
}

#[test]
fn hundred_thousand_character_identifier() {
    on_small_stack(|| {
        let name = "a".repeat(100_000);
        let ok = format!("model m {{ input x: [N]\n let {name} = x\n output y = {name} }}");
        assert_eq!(check(&ok), Vec::<String>::new());
        let undefined = format!("model m {{ input x: [N]\n output y = {name} }}");
        let msgs = check(&undefined);
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].len() < 100,
            "the name is shortened in messages: {}",
            msgs[0].len()
        );
    });
}

#[test]
fn invalid_utf8_is_a_diagnostic() {
    on_small_stack(|| {
        let bytes = b"model m {\n input x: [N]\n output y = x \xff\xfe + x\n}\n";
        let src = String::from_utf8_lossy(bytes);
        let msgs = check(&src);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("UTF-8"));
    });
}

#[test]
fn fifty_thousand_term_sum() {
    on_small_stack(|| {
        let terms = vec!["x"; 50_000].join(" + ");
        let src = format!("model m {{ input x: [N]\n output y = {terms}\n loss = sum(y) }}");
        let (models, diags) = check_source(&src);
        assert!(diags.is_empty());
        assert_eq!(models[0].graph.node_count(), 1 + 49_999 + 1);
        let consts = format!("model m {{ input x: [N]\n output y = x{} }}", " - 1.5".repeat(50_000));
        assert_eq!(check(&consts), Vec::<String>::new());
    });
}

#[test]
fn dimension_of_ten_to_the_twentieth() {
    on_small_stack(|| {
        let msgs = check("model m { input x: [100000000000000000000] }");
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].contains("too large"), "{msgs:?}");
        let product = check("model m { input x: [4294967296, 4294967296, 4294967296] }");
        assert_eq!(product.len(), 1);
        assert!(product[0].contains("too many elements"), "{product:?}");
        let reshaped =
            check("model m { input x: [N, 4294967296]\n output y = reshape(x, [-1, 4294967296, 4294967296]) }");
        assert_eq!(reshaped.len(), 1, "{reshaped:?}");
    });
}

#[test]
fn deep_fn_inlining_is_cut_off() {
    on_small_stack(|| {
        let mut src = String::from("fn f0(x) = x + 1\n");
        for i in 1..1000 {
            src += &format!("fn f{i}(x) = f{}(x) * 2\n", i - 1);
        }
        src += "model m { input x: [N]\n output y = f999(x) }";
        let msgs = check(&src);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("nested deeper"));
    });
}

#[test]
fn exponential_inlining_is_cut_off() {
    on_small_stack(|| {
        let mut src = String::from("fn f0(x) = x + 1\n");
        for i in 1..40 {
            src += &format!("fn f{i}(x) = f{p}(f{p}(x))\n", p = i - 1);
        }
        src += "model m { input x: [N]\n output y = f39(x) }";
        let msgs = check(&src);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(msgs[0].contains("too large"));
    });
}

#[test]
fn deepest_accepted_nesting_fits_the_stack() {
    on_small_stack(|| {
        // Each level goes through a built-in call, the most stack-hungry path; the fn body
        // and the call site together reach the lowering depth limit.
        let inner = |n: usize, x: &str| format!("{}{x}{}", "softmax(".repeat(n), ", axis=0)".repeat(n));
        let src = format!(
            "fn f(x) = {}\nmodel m {{ input x: [N]\n output y = {} }}",
            inner(250, "x"),
            inner(250, "f(x)")
        );
        let msgs = check(&src);
        assert!(msgs.is_empty() || msgs[0].contains("nested deeper"), "{msgs:?}");
        let src = format!(
            "fn f(x) = {}\nfn g(x) = {}\nmodel m {{ input x: [N]\n output y = {} }}",
            inner(250, "x"),
            inner(250, "f(x)"),
            inner(250, "g(x)")
        );
        let msgs = check(&src);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
    });
}
