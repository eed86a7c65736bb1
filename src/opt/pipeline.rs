//! The graph optimiser's pipeline, written out in order in [`optimize`].
//!
//! Dead code goes first, so the rewriting passes only see what the results need. The
//! rewriting passes then run in rounds until one round changes nothing (or a bound on
//! rounds is hit): each can expose work for another (folding a constant lets a rule fire,
//! a rule leaves duplicates for CSE, CSE makes a product single-use for transpose folding).
//! A last dead-code pass removes what the rewrites left unused. With `verify` set, the IR
//! verifier runs on the input and after every pass, and a failure names the pass.
//!
//! Which rewrites are bit-exact: DCE, transpose folding and most rules are; CSE is, except
//! that `max`/`min` commuted may flip the sign of a zero at a tie; folding is exact in f32
//! and f64 and combines symbolic constants with a rounding change. The rules'
//! table ([`crate::opt::rules::RULES`]) marks each rule. [`PassOptions::exact_only`]
//! keeps only the bit-exact rewrites.

use super::passes::simplify::RuleCounts;
use super::passes::{cse, dce, fold, simplify, transpose};
use super::rules::{Exactness, Rule, RULES};
use crate::ir::{verify, Expect, Graph, Op, VerifyError};
use std::fmt;
use thiserror::Error;

/// How to run the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassOptions {
    /// Run the IR verifier on the input and after every pass (tests and debug builds).
    pub verify: bool,
    /// The most rounds of the rewriting passes before giving up on a fixpoint.
    pub max_rounds: usize,
    /// Only rewrites that are bit-exact in IEEE arithmetic for every input: no rule that
    /// may flip the sign of a zero or change rounding, no symbolic constant combination,
    /// no commuting of `max`/`min`.
    pub exact_only: bool,
    /// Passes (`dce`, `cse`, `fold`, `simplify`, `transpose`) and rules (by name) to skip,
    /// for bisecting a miscompilation.
    pub disable: Vec<String>,
}

impl Default for PassOptions {
    fn default() -> PassOptions {
        PassOptions {
            verify: cfg!(debug_assertions),
            max_rounds: 10,
            exact_only: false,
            disable: Vec::new(),
        }
    }
}

/// One run of one pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassRun {
    /// The pass.
    pub pass: &'static str,
    /// The round of the rewriting passes it ran in (0 for the dead-code passes around them).
    pub round: usize,
    /// What it changed (nodes removed, merged, folded or rewritten).
    pub changes: usize,
    /// Nodes in the graph after it.
    pub nodes: usize,
}

/// What the pipeline did: for `nnc compile --stats` and `--emit opt`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Nodes in the graph before.
    pub nodes_before: usize,
    /// Nodes in the graph after.
    pub nodes_after: usize,
    /// Rounds of the rewriting passes run (the last one changed nothing, if converged).
    pub rounds: usize,
    /// Whether a round changed nothing before `max_rounds` ran out.
    pub converged: bool,
    /// Every pass run, in order.
    pub runs: Vec<PassRun>,
    /// How often each rule fired, in the order of the rules' table; only those that did.
    pub rules: Vec<(&'static str, usize)>,
}

impl PassReport {
    /// The total changes of one pass over all its runs.
    pub fn changes(&self, pass: &str) -> usize {
        self.runs.iter().filter(|r| r.pass == pass).map(|r| r.changes).sum()
    }

    /// How often the rule named `rule` fired.
    pub fn fired(&self, rule: &str) -> usize {
        self.rules.iter().find(|r| r.0 == rule).map_or(0, |r| r.1)
    }

    /// The total changes of all passes.
    pub fn total_changes(&self) -> usize {
        self.runs.iter().map(|r| r.changes).sum()
    }
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "graph passes: {} -> {} nodes in {} round{}{}",
            self.nodes_before,
            self.nodes_after,
            self.rounds,
            if self.rounds == 1 { "" } else { "s" },
            if self.converged { "" } else { " (no fixpoint)" }
        )?;
        let mut passes: Vec<&'static str> = Vec::new();
        for r in &self.runs {
            if !passes.contains(&r.pass) {
                passes.push(r.pass);
            }
        }
        for p in passes {
            writeln!(f, "  {p:<10} {}", self.changes(p))?;
        }
        for (rule, count) in &self.rules {
            writeln!(f, "    {rule:<24} {count}")?;
        }
        Ok(())
    }
}

/// The IR verifier rejected the graph: a bug in the pass named (or in what built the input).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("after pass {pass} (round {round}): {error}")]
pub struct OptError {
    /// The pass after which the graph was wrong (`input` for the graph as given).
    pub pass: &'static str,
    /// Its round.
    pub round: usize,
    /// What was wrong.
    pub error: VerifyError,
}

/// Optimises `g` in place: dead code, then rounds of CSE, constant folding, algebraic
/// simplification and transpose folding to a fixpoint, then dead code again.
pub fn optimize(g: &mut Graph, opts: &PassOptions) -> Result<PassReport, OptError> {
    let mut p = Pipeline::new(g, opts);
    p.check("input", 0)?;
    p.run("dce", 0, dce::run)?;
    let exact = opts.exact_only;
    let allowed = |r: &Rule| !opts.disable.iter().any(|d| d == r.name) && (!exact || r.exactness == Exactness::Exact);
    // Before `grad` is expanded, `max(a, b)` and `max(b, a)` differ: their derivatives
    // break ties towards different operands.
    let commute_max_min = !exact && p.expect.grads_expanded;
    let mut counts = RuleCounts::new();
    for round in 1..=opts.max_rounds {
        let mut changes = 0;
        changes += p.run("cse", round, |g| cse::run_with(g, commute_max_min))?;
        changes += p.run("fold", round, |g| fold::run_with(g, !exact))?;
        changes += p.run("simplify", round, |g| simplify::run_with(g, &allowed, &mut counts))?;
        changes += p.run("transpose", round, transpose::run)?;
        p.report.rounds = round;
        if changes == 0 {
            p.report.converged = true;
            break;
        }
    }
    p.run("dce", 0, dce::run)?;
    let mut report = p.report;
    report.nodes_after = g.node_count();
    report.rules = RULES
        .iter()
        .filter_map(|r| counts.get(r.name).map(|&c| (r.name, c)))
        .collect();
    Ok(report)
}

/// The state of one run of the pipeline.
struct Pipeline<'a> {
    g: &'a mut Graph,
    opts: &'a PassOptions,
    expect: Expect,
    report: PassReport,
}

impl<'a> Pipeline<'a> {
    fn new(g: &'a mut Graph, opts: &'a PassOptions) -> Pipeline<'a> {
        // A graph still holding `grad` nodes may be optimised, but must keep them.
        let has_grad = g.node_ids().iter().any(|&n| g.node(n).op == Op::Grad);
        let report = PassReport {
            nodes_before: g.node_count(),
            ..PassReport::default()
        };
        Pipeline {
            g,
            opts,
            expect: Expect {
                grads_expanded: !has_grad,
            },
            report,
        }
    }

    /// Runs `pass` unless disabled, records it and verifies the result.
    fn run(
        &mut self,
        name: &'static str,
        round: usize,
        pass: impl FnOnce(&mut Graph) -> usize,
    ) -> Result<usize, OptError> {
        if self.opts.disable.iter().any(|d| d == name) {
            return Ok(0);
        }
        let changes = pass(self.g);
        self.report.runs.push(PassRun {
            pass: name,
            round,
            changes,
            nodes: self.g.node_count(),
        });
        self.check(name, round)?;
        Ok(changes)
    }

    fn check(&self, pass: &'static str, round: usize) -> Result<(), OptError> {
        if !self.opts.verify {
            return Ok(());
        }
        verify(self.g, self.expect).map_err(|error| OptError { pass, round, error })
    }
}
