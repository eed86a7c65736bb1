#!/usr/bin/env bash
# Runs every cargo-fuzz target of nnc for a bounded time.
#
#   fuzz/run-bounded.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 30 s, all targets)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On stable Rust it sets
# RUSTC_BOOTSTRAP=1 so that cargo-fuzz may use the nightly-only sanitizer flags.
# The seed corpus is made fresh from examples/*.nn and tests/conformance/ (models and
# safetensors files) into fuzz/corpus/TARGET/, which git ignores; what the fuzzer adds
# there is kept between runs. A crash leaves its input in fuzz/artifacts/TARGET/ and makes
# this script exit 1: copy the input into tests/regressions/TARGET/ (replayed by
# `cargo test --test harden_regressions`), fix the bug, and commit both.
#
# Environment: FUZZ_SANITIZER (default `address`; `none` builds faster), FUZZ_JOBS
# (parallel fuzzing processes per target, default 1).
set -euo pipefail

secs="${1:-30}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parse check compile tensors inputs)
fi
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 2; }

# (`if`, not `[ -f ] && cp`: under `set -e` a last glob entry that is not a file would
# end the script.)
seed() {
  local target="$1" dir="$here/corpus/$1" f
  mkdir -p "$dir"
  case "$target" in
    parse | check | compile)
      for f in "$root"/examples/*.nn "$root"/tests/conformance/*/model.nn "$root"/tests/regressions/"$target"/*; do
        if [ -f "$f" ]; then cp "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; fi
      done ;;
    tensors | inputs)
      for f in "$root"/tests/conformance/*/*.safetensors "$root"/tests/regressions/"$target"/*; do
        if [ -f "$f" ]; then cp "$f" "$dir/seed-$(basename "$(dirname "$f")")-$(basename "$f")"; fi
      done
      # The small IDX files (labels); the image files are longer than -max_len.
      for f in "$root"/examples/data/*/*labels*; do
        if [ -f "$f" ]; then cp "$f" "$dir/seed-data-$(basename "$f")"; fi
      done ;;
  esac
}

# Limits per target: source targets get short inputs (long ones only find slow
# programs), and every target a per-input timeout and a memory cap.
max_len() {
  case "$1" in
    parse | check) echo 8192 ;;
    compile) echo 4096 ;;
    *) echo 65536 ;;
  esac
}

cd "$here"
cargo fuzz build -O --debug-assertions --sanitizer "$sanitizer"
start="$(mktemp)"
trap 'rm -f "$start"' EXIT
status=0
for t in "${targets[@]}"; do
  seed "$t"
  echo "== $t: ${secs}s"
  if ! cargo fuzz run -O --debug-assertions --sanitizer "$sanitizer" --jobs "$jobs" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|thread '|Test unit written|.*panicked)" ; then
    :
  fi
  if [ -n "$(find "artifacts/$t" -type f -newer "$start" 2>/dev/null)" ]; then
    echo "!! $t: crash inputs in fuzz/artifacts/$t/"
    status=1
  fi
done
exit $status
