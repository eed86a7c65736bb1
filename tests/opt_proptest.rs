//! Random small graphs (random ops on random operands, with broadcasting, constants that
//! the rules look for, and gradient outputs): the pipeline verifies after every pass, keeps
//! the results in f32 and f64, reaches a fixpoint (a second run changes nothing), and with
//! `exact_only` keeps every bit.

mod grad_util;
mod opt_util;

use grad_util::*;
use nnc::interp::Value;
use nnc::ir::Graph;
use nnc::opt::{optimize, PassOptions};
use opt_util::random::{graph, Step};
use opt_util::*;
use proptest::prelude::*;

fn values(g: &Graph, seed: u64) -> Vec<Value<f64>> {
    random_params(g, seed, 2)
}

fn program() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn optimised_graphs_compute_the_same_results(prog in program(), seed in any::<u64>()) {
        let before = graph(&prog);
        let mut after = before.clone();
        let report = optimize(&mut after, &opts());
        prop_assert!(report.is_ok(), "{:?}", report);
        for s in 0..2 {
            let params = values(&before, seed.wrapping_add(s));
            let same = same_results(&before, &after, &[], &params, 1e-10, 1e-4);
            prop_assert!(same.is_ok(), "{:?}\n{}\n{}", same, nnc::ir::print(&before, "before", &|_| None), nnc::ir::print(&after, "after", &|_| None));
        }
        // node counts may grow (a sum of a broadcast becomes a scalar product and a
        // broadcast), but no product ever reads a transposed copy
        prop_assert!(!transpose_feeds_matmul(&after));
    }

    #[test]
    fn a_second_run_finds_nothing_to_do(prog in program()) {
        let mut g = graph(&prog);
        let first = optimize(&mut g, &opts()).unwrap();
        prop_assert!(first.converged);
        let second = optimize(&mut g, &opts()).unwrap();
        prop_assert_eq!(second.total_changes(), 0, "{}", second);
    }

    #[test]
    fn exact_rewrites_keep_every_bit(prog in program(), seed in any::<u64>()) {
        let before = graph(&prog);
        let mut after = before.clone();
        let strict = PassOptions { exact_only: true, ..opts() };
        optimize(&mut after, &strict).unwrap();
        let params = values(&before, seed);
        prop_assert!(bit_identical::<f32>(&before, &after, &[], &params), "f32\n{}", nnc::ir::print(&after, "after", &|_| None));
        prop_assert!(bit_identical::<f64>(&before, &after, &[], &params), "f64");
    }
}

#[test]
fn random_programs_exercise_every_rule_and_pass() {
    use rand::Rng;
    let mut r = rng(7);
    let mut fired: std::collections::BTreeMap<&str, usize> = Default::default();
    for _ in 0..1000 {
        let len = r.random_range(1..12);
        let prog: Vec<Step> = (0..len).map(|_| (r.random(), r.random(), r.random())).collect();
        let mut g = graph(&prog);
        let report = optimize(&mut g, &opts()).unwrap();
        for (rule, k) in &report.rules {
            *fired.entry(rule).or_default() += k;
        }
        for p in ["cse", "fold", "transpose"] {
            *fired.entry(p).or_default() += report.changes(p);
        }
    }
    eprintln!("{fired:?}");
    let missing: Vec<&str> = nnc::opt::rules::RULES
        .iter()
        .map(|r| r.name)
        .chain(["cse", "fold", "transpose"])
        .filter(|name| fired.get(name).copied().unwrap_or(0) == 0)
        .collect();
    assert!(missing.is_empty(), "never fired on random programs: {missing:?}");
}
