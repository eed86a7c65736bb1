//! The outputs that the tutorial and the README show are what nnc prints now.
//!
//! Every fenced block whose first line is `$ nnc check|compile|run ...` is run from the
//! repository root, and its stdout must equal the rest of the block. (`train` and `bench`
//! blocks are left out: they show times and speeds that differ from run to run.)

use std::path::Path;
use std::process::Command;

const DOCS: [&str; 2] = ["docs/tutorial.md", "README.md"];
const DETERMINISTIC: [&str; 3] = ["check", "compile", "run"];

/// (line of the command, arguments, expected stdout)
fn examples(doc: &str) -> Vec<(usize, Vec<String>, String)> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("```") {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && !lines[end].starts_with("```") {
            end += 1;
        }
        if let Some(cmd) = lines.get(start).and_then(|l| l.strip_prefix("$ nnc ")) {
            let args: Vec<String> = cmd.split_whitespace().map(str::to_string).collect();
            let continued = cmd.trim_end().ends_with('\\');
            if !continued && args.first().is_some_and(|a| DETERMINISTIC.contains(&a.as_str())) {
                let expected: String = lines[start + 1..end].iter().map(|l| format!("{l}\n")).collect();
                found.push((start + 1, args, expected));
            }
        }
        i = end + 1;
    }
    found
}

#[test]
fn every_shown_command_prints_what_the_docs_show() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in DOCS {
        let text = std::fs::read_to_string(root.join(doc)).expect("the doc exists");
        for (line, args, expected) in examples(&text) {
            let out = Command::new(env!("CARGO_BIN_EXE_nnc"))
                .args(&args)
                .current_dir(root)
                .output()
                .expect("nnc runs");
            let got = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || got != expected {
                failures.push(format!(
                    "{doc}:{line}: `nnc {}` printed\n{got}{}\ninstead of\n{expected}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The tutorial's run, ir, grad and grad-nn examples and the README's grad-nn one.
    assert!(checked >= 6, "only {checked} examples found");
}
