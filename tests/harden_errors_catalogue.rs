//! Checks `docs/errors.md` against reality: every example there is run and its actual
//! output must be exactly the output shown, so the catalogue cannot go stale.
//!
//! Under each `###` heading, fenced blocks make a fresh directory and run in it:
//! - ```` ```nn ```` — written to `m.nn` (or the name after `nn`: ```` ```nn other.nn ````);
//! - ```` ```tensors FILE ```` — a safetensors file, one line per tensor,
//!   `name: f32[2, 3] = 1, 2, 3, 4, 5, 6` (one value fills the tensor); `cut=K` after the
//!   file name drops its last K bytes;
//! - ```` ```text FILE ```` — a file with exactly these bytes;
//! - ```` ```console ```` — lines `$ nnc ARGS` run the binary in that directory; the
//!   lines up to the next `$` or the end are its whole stderr (and stdout). Every command
//!   shown must fail without a panic.
//!
//! `NNC_BLESS=1 cargo test --test harden_errors_catalogue` rewrites the outputs in the
//! document from what the commands print now (review the diff).

use std::path::Path;
use std::process::Command;

/// One `###` entry: files to create and commands with their expected output.
#[derive(Default)]
struct Entry {
    title: String,
    files: Vec<(String, Vec<u8>)>,
    /// (arguments, expected output, the line range of the expected output in the doc)
    commands: Vec<(Vec<String>, String, std::ops::Range<usize>)>,
}

fn doc_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md")
}

fn parse_doc(lines: &[&str]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(t) = line.strip_prefix("### ") {
            entries.push(Entry {
                title: t.to_string(),
                ..Entry::default()
            });
            i += 1;
            continue;
        }
        let Some(info) = line.strip_prefix("```") else {
            i += 1;
            continue;
        };
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && lines[end] != "```" {
            end += 1;
        }
        let body = &lines[start..end];
        let words: Vec<&str> = info.split_whitespace().collect();
        if let Some(entry) = entries.last_mut() {
            match words.first().copied() {
                Some("nn") => entry
                    .files
                    .push((words.get(1).unwrap_or(&"m.nn").to_string(), join(body).into_bytes())),
                Some("text") => entry.files.push((words[1].to_string(), join(body).into_bytes())),
                Some("tensors") => entry.files.push((words[1].to_string(), tensors(body, &words[2..]))),
                Some("console") => entry.commands.extend(commands(body, start)),
                _ => {}
            }
        }
        i = end + 1;
    }
    entries
}

fn join(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `$ nnc ...` lines and the output lines after each.
fn commands(body: &[&str], first_line: usize) -> Vec<(Vec<String>, String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let cmd = body[k]
            .strip_prefix("$ nnc")
            .unwrap_or_else(|| panic!("line {}: expected `$ nnc ...`", first_line + k + 1));
        let args = cmd.split_whitespace().map(str::to_string).collect();
        let from = k + 1;
        let mut to = from;
        while to < body.len() && !body[to].starts_with("$ nnc") {
            to += 1;
        }
        out.push((args, join(&body[from..to]), first_line + from..first_line + to));
        k = to;
    }
    out
}

/// A safetensors file from `name: f32[2, 3] = 1, 2, ...` lines.
fn tensors(body: &[&str], options: &[&str]) -> Vec<u8> {
    let mut named = Vec::new();
    for line in body {
        let (name, rest) = line.split_once(':').expect("name: type[shape] = values");
        let (ty, values) = rest.split_once('=').expect("= values");
        let (dtype, shape) = ty.trim().trim_end_matches(']').split_once('[').expect("type[shape]");
        let shape: Vec<usize> = shape
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let n: usize = shape.iter().product();
        let vals: Vec<f64> = values
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let vals: Vec<f64> = if vals.len() == 1 { vec![vals[0]; n] } else { vals };
        let t = match dtype.trim() {
            "f32" => nnc::Tensor::f32(shape, vals.iter().map(|&v| v as f32).collect()),
            "i32" => nnc::Tensor::i32(shape, vals.iter().map(|&v| v as i32).collect()),
            other => panic!("dtype {other}"),
        };
        named.push((name.trim().to_string(), t));
    }
    let refs: Vec<(&str, &nnc::Tensor)> = named.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut bytes = nnc::io::encode_tensors(&refs).unwrap();
    for o in options {
        if let Some(k) = o.strip_prefix("cut=") {
            bytes.truncate(bytes.len() - k.parse::<usize>().unwrap());
        }
    }
    bytes
}

/// Runs `nnc ARGS` in `dir`; returns the exit status and stderr followed by stdout.
fn run(dir: &Path, args: &[String]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nnc"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_example_prints_what_the_catalogue_shows() {
    let text = std::fs::read_to_string(doc_path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let entries = parse_doc(&lines);
    let bless = std::env::var_os("NNC_BLESS").is_some();
    let mut replacements: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for e in &entries {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in &e.files {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        for (args, expected, range) in &e.commands {
            count += 1;
            let (code, got) = run(dir.path(), args);
            if !(code == 1 || code == 2) || got.contains("panicked") {
                failures.push(format!("{}: `nnc {}` exited {code}:\n{got}", e.title, args.join(" ")));
            } else if &got != expected {
                failures.push(format!(
                    "{}: `nnc {}` printed\n{got}\ninstead of\n{expected}",
                    e.title,
                    args.join(" ")
                ));
                replacements.push((range.clone(), got));
            }
        }
    }
    if bless && !replacements.is_empty() {
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        replacements.sort_by_key(|r| r.0.start);
        for (range, got) in &replacements {
            out.extend(lines[i..range.start].iter().map(|s| s.to_string()));
            out.extend(got.lines().map(str::to_string));
            i = range.end;
        }
        out.extend(lines[i..].iter().map(|s| s.to_string()));
        std::fs::write(doc_path(), out.join("\n") + "\n").unwrap();
        return;
    }
    assert!(count >= 30, "only {count} examples in docs/errors.md");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
