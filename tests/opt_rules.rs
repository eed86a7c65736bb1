//! The rewrite rules, one line each: `source => result, by`: the pipeline turns the
//! graph of `source` into `result`, the rule or pass named `by` did it (or, for `-`,
//! nothing fired), and the results are the same before and after, in f32 and f64.

mod grad_util;
mod opt_util;

use nnc::opt::rules::{Exactness, RULES};
use opt_util::*;

/// `(source, expected result, rule or pass that must have fired, "-" for none)`.
const CASES: &[(&str, &str, &str)] = &[
    // units and zeros
    ("(mul x 1)", "x", "mul_one"),
    ("(mul 1 x)", "x", "mul_one"),
    ("(mul x (bcast 1 N 3))", "x", "mul_one"),
    ("(mul s (bcast 1 N 3))", "(bcast s N 3)", "mul_one"),
    ("(mul col (bcast 1 N 3))", "(bcast col N 3)", "mul_one"),
    ("(div x 1)", "x", "div_one"),
    ("(add x 0)", "x", "add_zero"),
    ("(add 0 x)", "x", "add_zero"),
    ("(add s (bcast 0 N 3))", "(bcast s N 3)", "add_zero"),
    ("(sub x 0)", "x", "sub_zero"),
    ("(sub x -0)", "(sub x -0)", "-"),
    ("(sub 0 x)", "(neg x)", "zero_sub"),
    ("(mul x -1)", "(neg x)", "mul_neg_one"),
    ("(div x 4)", "(mul x 0.25)", "div_pow2"),
    ("(div x 0.5)", "(mul x 2)", "div_pow2"),
    ("(div x 3)", "(div x 3)", "-"),
    ("(pow x 1)", "x", "pow_one"),
    ("(pow x 0)", "(bcast 1 N 3)", "pow_zero"),
    ("(pow x 2)", "(pow x 2)", "-"),
    // signs
    ("(neg (neg x))", "x", "neg_neg"),
    ("(neg (neg (neg x)))", "(neg x)", "neg_neg"),
    ("(sub x (neg y))", "(add x y)", "sub_neg"),
    ("(add x (neg y))", "(sub x y)", "add_neg"),
    ("(add (neg y) x)", "(sub x y)", "add_neg"),
    ("(mul (neg x) (neg y))", "(mul x y)", "mul_neg_neg"),
    ("(neg (mul x 2))", "(mul x -2)", "neg_mul_const"),
    ("(neg (mul 1/N x))", "(mul x -1/N)", "neg_mul_const"),
    ("(mul (neg x) 3)", "(mul x -3)", "mul_neg_const"),
    ("(neg (sub x y))", "(sub y x)", "neg_sub"),
    ("(neg (sub 0 x))", "x", "zero_sub"),
    // constants
    ("(add (bcast 1 N 3) (bcast 2 N 3))", "(bcast 3 N 3)", "splat_binary"),
    ("(mul (mul x 2) 3)", "(mul x 6)", "mul_const_const"),
    ("(mul 2 (mul 1/N x))", "(mul x 2/N)", "mul_const_const"),
    ("(mul (mul (mul x 1/N) 2) 1/N)", "(mul x 2/N*N)", "mul_const_const"),
    ("(mul (mul x 1/8) 2)", "(mul x 0.25)", "mul_const_const"),
    ("(mul (mul x y) 2)", "(mul (mul x y) 2)", "-"),
    ("(mul (mul x 1e30) 1e30)", "(mul (mul x 1e30) 1e30)", "cse"),
    ("(mul (mul x 1e-30) 1e-30)", "(mul (mul x 1e-30) 1e-30)", "cse"),
    ("(mul (mul x 0) 2)", "(mul (mul x 0) 2)", "-"),
    ("(add (exp 0) x)", "(add 1 x)", "fold"),
    ("(mul (neg 1/N) x)", "(mul -1/N x)", "fold"),
    ("(sub x (mul 2 1/N))", "(sub x 2/N)", "fold"),
    ("(mul x (ge 2 1))", "x", "mul_one"),
    // inverse functions
    ("(log (exp x))", "x", "log_exp"),
    ("(exp (log x))", "(exp (log x))", "-"),
    ("(mul x 0)", "(mul x 0)", "-"),
    ("(sub x x)", "(sub x x)", "-"),
    ("(div x x)", "(div x x)", "-"),
    // layout
    ("(t (t x))", "x", "transpose_transpose"),
    ("(reshape x N 3)", "x", "reshape_same"),
    ("(bcast x N 3)", "x", "broadcast_same"),
    ("(reshape (reshape x 3 N) N 3)", "x", "reshape_reshape"),
    ("(reshape (reshape x 3*N) 3 N)", "(reshape x 3 N)", "reshape_reshape"),
    ("(bcast (bcast v 1 3) N 3)", "(bcast v N 3)", "broadcast_broadcast"),
    ("(reshape (bcast s N) N 1)", "(bcast s N 1)", "reshape_broadcast_one"),
    (
        "(reshape (neg (reshape x 3*N)) N 3)",
        "(neg x)",
        "reshape_unary_reshape",
    ),
    ("(neg (bcast s N 3))", "(bcast (neg s) N 3)", "unary_broadcast"),
    ("(exp (bcast v N 3))", "(bcast (exp v) N 3)", "unary_broadcast"),
    ("(mul (bcast v N 3) x)", "(mul v x)", "binary_broadcast"),
    ("(sub (bcast col N 3) (bcast v N 3))", "(sub col v)", "binary_broadcast"),
    (
        "(add (bcast s 3) (bcast s 3))",
        "(add s (bcast s 3))",
        "binary_broadcast",
    ),
    ("(add (bcast col N 3) col)", "(add (bcast col N 3) col)", "-"),
    // reductions
    ("(sum col 1)", "(reshape col N)", "reduce_unit_axes"),
    ("(rmax col 1)", "(reshape col N)", "reduce_unit_axes"),
    ("(sum x)", "x", "reduce_unit_axes"),
    ("(sum (bcast v N 3) 0)", "(div v 1/N)", "sum_broadcast"),
    ("(sum (bcast v 4 3) 0)", "(mul v 4)", "sum_broadcast"),
    ("(sum (bcast col N 3) 1)", "(mul (reshape col N) 3)", "sum_broadcast"),
    ("(sum (bcast s 2 3) 0 1)", "(mul s 6)", "sum_broadcast"),
    ("(sum (bcast v N 3) 1)", "(sum (bcast v N 3) 1)", "-"),
    ("(rmax (bcast v N 3) 0)", "(rmax (bcast v N 3) 0)", "-"),
    // transpose folding
    ("(mm (t a) x)", "(mm_ta a x)", "transpose"),
    ("(mm x (t w))", "(mm_tb x w)", "transpose"),
    ("(mm_ta (t (t a)) x)", "(mm_ta a x)", "transpose_transpose"),
    ("(mm_tatb (t x) w)", "(mm_tb x w)", "transpose"),
    ("(t (mm a w))", "(mm_tatb w a)", "transpose"),
    ("(t (mm_tb x w))", "(mm_tb w x)", "transpose"),
    ("(mm (t (mm a w)) (mm a w))", "(mm_ta (mm a w) (mm a w))", "transpose"),
    // a product with another user is not computed twice to save a transpose
    (
        "(add (t (mm a w)) (reshape (mm a w) 3 N))",
        "(add (t (mm a w)) (reshape (mm a w) 3 N))",
        "cse",
    ),
    // common subexpressions
    ("(sub (exp x) (exp x))", "(sub (exp x) (exp x))", "cse"),
    ("(add (mul x y) (mul y x))", "(add (mul x y) (mul x y))", "cse"),
    ("(add (max x y) (max y x))", "(add (max x y) (max x y))", "cse"),
    ("(add (sub x y) (sub y x))", "(add (sub x y) (sub y x))", "-"),
];

const PASSES: [&str; 4] = ["cse", "fold", "simplify", "transpose"];

fn run_case(src: &str, want: &str, by: &str) -> Result<(), String> {
    let (mut g, vars) = env();
    let out = build(&mut g, &vars, src);
    g.outputs.push(("out".into(), out));
    let before = g.clone();
    let report = nnc::opt::optimize(&mut g, &opts()).map_err(|e| e.to_string())?;
    let got = show(&g, g.output("out").ok_or("no output")?);
    if got != want {
        return Err(format!("gave {got}, want {want}"));
    }
    let fired = if PASSES.contains(&by) {
        report.changes(by)
    } else {
        report.fired(by)
    };
    if by == "-" {
        let rewrites: usize = PASSES.iter().map(|p| report.changes(p)).sum();
        if rewrites != 0 {
            return Err(format!("expected no rewrite, got\n{report}"));
        }
    } else if fired == 0 {
        return Err(format!("{by} did not fire:\n{report}"));
    }
    for seed in 0..3 {
        same_results(&before, &g, &env_inputs(&before, seed), &[], 1e-12, 1e-6)?;
    }
    Ok(())
}

#[test]
fn every_case_rewrites_as_written_and_keeps_the_values() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|&(src, want, by)| run_case(src, want, by).err().map(|e| format!("{src}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_a_case_where_it_fires() {
    let untested: Vec<&str> = RULES
        .iter()
        .map(|r| r.name)
        .filter(|name| !CASES.iter().any(|c| c.2 == *name))
        .collect();
    assert!(untested.is_empty(), "rules without a case: {untested:?}");
}

#[test]
fn exact_rules_give_bit_identical_results() {
    // every case whose rewrites are all exact keeps every bit, in f32 and in f64
    let exact = |name: &str| RULES.iter().any(|r| r.name == name && r.exactness == Exactness::Exact);
    let mut checked = 0;
    for &(src, _, by) in CASES {
        let (mut g, vars) = env();
        let out = build(&mut g, &vars, src);
        g.outputs.push(("out".into(), out));
        let before = g.clone();
        let report = optimized(&mut g);
        if !report.rules.iter().all(|(r, _)| exact(r)) || report.changes("fold") > 0 || by == "cse" {
            continue;
        }
        for seed in 0..3 {
            let inputs = env_inputs(&before, seed);
            assert!(bit_identical::<f32>(&before, &g, &inputs, &[]), "{src} (f32)");
            assert!(bit_identical::<f64>(&before, &g, &inputs, &[]), "{src} (f64)");
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} exact cases");
}

#[test]
fn exact_only_skips_the_inexact_rules() {
    let strict = nnc::opt::PassOptions {
        exact_only: true,
        ..opts()
    };
    for (src, want) in [
        ("(add x 0)", "(add x 0)"),
        ("(mul (mul x 2) 3)", "(mul (mul x 2) 3)"),
        ("(log (exp x))", "(log (exp x))"),
        ("(mul x 1)", "x"),
        ("(neg (neg x))", "x"),
    ] {
        let (mut g, vars) = env();
        let out = build(&mut g, &vars, src);
        g.outputs.push(("out".into(), out));
        nnc::opt::optimize(&mut g, &strict).unwrap();
        assert_eq!(show(&g, g.output("out").unwrap()), want, "{src}");
    }
}

#[test]
fn disabled_rules_and_passes_do_not_run() {
    let (mut g, vars) = env();
    let out = build(&mut g, &vars, "(add (mul x 1) (t (t (exp x))))");
    let dup = build(&mut g, &vars, "(exp x)");
    g.outputs.push(("out".into(), out));
    g.outputs.push(("dup".into(), dup));
    let o = nnc::opt::PassOptions {
        disable: vec!["mul_one".into(), "cse".into()],
        ..opts()
    };
    let report = nnc::opt::optimize(&mut g, &o).unwrap();
    assert_eq!(show(&g, g.output("out").unwrap()), "(add (mul x 1) (exp x))");
    assert_eq!(report.fired("mul_one"), 0);
    assert_eq!(report.fired("transpose_transpose"), 1);
    assert_eq!(report.changes("cse"), 0);
    // the two exp(x) stay distinct nodes
    assert_ne!(g.args(g.output("out").unwrap())[1], g.output("dup").unwrap());
}
