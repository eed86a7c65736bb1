#!/usr/bin/env python3
"""nnc against its peers, measured in one run on one machine.

Times one training step of the seed model (examples/mnist_mlp.nn: 784 -> 128 -> ReLU ->
64 -> ReLU -> 10, softmax cross-entropy, plain SGD lr 0.01) with `nnc bench`, and the
same workload in the peer frameworks with the peer script `peers_mlp.py` (NumPy with a
hand-written backward, PyTorch eager, JAX jit, ...), each in its own process, pinned to
the same core(s). nnc is measured before and after the peers and the two medians are
averaged, so that a change in the machine's load during the run falls on both sides.

It prints one Markdown table with compile time, median step time per batch size and
peak memory, then the ratios nnc / peer (below 1.0: nnc is faster), and writes every
number with the machine's description to --out as JSON.

usage (from the repository root; the peers need numpy, torch and jax in --python):
    python3 bench/compare.py --peers ../shared/bench/peers_mlp.py \\
        --python /path/to/venv/bin/python [--batches 64,256,1024] [--steps 200]

Without a peer script (or with --nnc-only) only nnc is measured. The script builds
`target/release/nnc` with cargo unless --nnc names a binary.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "examples", "mnist_mlp.nn")
# Frameworks that run eagerly: no compile time to report.
EAGER = {"numpy", "torch_eager"}
NAMES = {
    "nnc": "nnc (this repo)",
    "numpy": "NumPy, hand-written backward",
    "torch_eager": "PyTorch eager",
    "torch_compile": "torch.compile",
    "torch_compile_func": "torch.compile, whole step",
    "jax_jit": "JAX jit",
    "pytensor": "PyTensor (numba)",
    "pytensor_c": "PyTensor (C)",
}


def pin(threads):
    """Pins a child to the first `threads` CPUs, as peers_mlp.py --pin does."""
    cpus = set(range(threads))
    return lambda: os.sched_setaffinity(0, cpus)


def build_nnc():
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "nnc")


def run_nnc(nnc, batch, threads, steps, warmup):
    cmd = [nnc, "bench", MODEL, "--batch", str(batch), "--threads", str(threads),
           "--steps", str(steps), "--warmup", str(warmup), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pin(threads), check=False)
    if p.returncode != 0:
        sys.exit(f"nnc bench failed ({p.returncode}): {p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def measure_nnc(nnc, batches, threads, steps, warmup):
    return {b: run_nnc(nnc, b, threads, steps, warmup) for b in batches}


def merge_nnc(before, after):
    """One row per batch: the mean of the two medians, the smaller compile time and the
    larger peak memory (both runs are reported in the JSON)."""
    rows = {}
    for b in before:
        x, y = before[b], after.get(b, before[b])
        rows[b] = {
            "median_ms": (x["step_ms_median"] + y["step_ms_median"]) / 2,
            "compile_s": min(x["compile_ms"], y["compile_ms"]) / 1000,
            "peak_rss_mb": max(x.get("peak_rss_mb") or 0, y.get("peak_rss_mb") or 0),
        }
    return rows


def run_peers(python, peers, frameworks, batches, threads, steps, warmup):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "peers.json")
        cmd = [python, peers, "--threads", str(threads), "--batches", ",".join(map(str, batches)),
               "--frameworks", ",".join(frameworks), "--steps", str(steps), "--warmup", str(warmup),
               "--pin", "--out", out]
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        with open(out) as f:
            return json.load(f)


def peer_rows(peers_json):
    rows = {}
    for r in peers_json.get("results", []):
        if "error" in r:
            continue
        rows.setdefault(r["framework"], {})[r["batch"]] = {
            "median_ms": r["median_ms"],
            "compile_s": r["compile_s"],
            "peak_rss_mb": r["peak_rss_mb"],
        }
    return rows


def fmt_ms(v):
    return f"{v:.3f} ms" if v < 10 else f"{v:.1f} ms"


def table(rows, batches):
    """`rows`: framework -> batch -> numbers. Markdown, nnc first."""
    head = "| framework | compile | " + " | ".join(f"step b{b}" for b in batches) + " | peak RSS |"
    lines = [head, "|" + "---|" * (len(batches) + 3)]
    for fw, per_batch in rows.items():
        first = per_batch[batches[0]] if batches[0] in per_batch else next(iter(per_batch.values()))
        compile_s = first["compile_s"]
        compile_txt = "—" if fw in EAGER else (
            f"{compile_s * 1000:.1f} ms" if compile_s < 1 else f"{compile_s:.1f} s")
        steps = [fmt_ms(per_batch[b]["median_ms"]) if b in per_batch else "—" for b in batches]
        rss = max(v["peak_rss_mb"] for v in per_batch.values())
        lines.append(f"| {NAMES.get(fw, fw)} | {compile_txt} | " + " | ".join(steps) + f" | {rss:.0f} MB |")
    return "\n".join(lines)


def ratios(rows, batches):
    """nnc's time over each peer's: below 1.0 nnc is faster."""
    nnc = rows["nnc"]
    head = "| nnc / peer | compile | " + " | ".join(f"b{b}" for b in batches) + " | peak RSS |"
    lines = [head, "|" + "---|" * (len(batches) + 3)]
    for fw, per_batch in rows.items():
        if fw == "nnc":
            continue
        cells = []
        for b in batches:
            cells.append(f"{nnc[b]['median_ms'] / per_batch[b]['median_ms']:.2f}×" if b in per_batch else "—")
        first = next(iter(per_batch.values()))
        compile_cell = "—" if fw in EAGER else \
            f"{nnc[batches[0]]['compile_s'] / first['compile_s']:.3f}×"
        rss = max(v["peak_rss_mb"] for v in per_batch.values())
        nnc_rss = max(v["peak_rss_mb"] for v in nnc.values())
        lines.append(f"| {NAMES.get(fw, fw)} | {compile_cell} | " + " | ".join(cells) + f" | {nnc_rss / rss:.2f}× |")
    return "\n".join(lines)


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo")
                  if line.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return f"{cpu}, {os.cpu_count()} cores, {'+'.join(simd) or 'no AVX'}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", default=os.path.join(ROOT, "..", "shared", "bench", "peers_mlp.py"),
                    help="the peer script peers_mlp.py (default: ../shared/bench/peers_mlp.py)")
    ap.add_argument("--python", default=sys.executable, help="a Python with the peer frameworks installed")
    ap.add_argument("--frameworks", default="numpy,torch_eager,jax_jit")
    ap.add_argument("--batches", default="64,256,1024")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--nnc", default=None, help="an nnc binary (default: cargo build --release)")
    ap.add_argument("--nnc-only", action="store_true", help="measure nnc alone")
    ap.add_argument("--out", default=None, help="write every number here as JSON")
    a = ap.parse_args()

    batches = [int(b) for b in a.batches.split(",")]
    nnc = a.nnc or build_nnc()
    with_peers = not a.nnc_only and os.path.isfile(a.peers)
    if not a.nnc_only and not with_peers:
        print(f"note: no peer script at {a.peers}: measuring nnc only", file=sys.stderr)

    load_start = os.getloadavg()
    before = measure_nnc(nnc, batches, a.threads, a.steps, a.warmup)
    peers_json = run_peers(a.python, a.peers, a.frameworks.split(","), batches, a.threads, a.steps,
                           a.warmup) if with_peers else {}
    after = measure_nnc(nnc, batches, a.threads, a.steps, a.warmup) if with_peers else before
    rows = {"nnc": merge_nnc(before, after), **peer_rows(peers_json)}

    stamp = datetime.date.today().isoformat()
    print(f"{machine()}; {a.threads} pinned thread(s); {stamp}; load average {load_start[0]:.2f} at the start\n")
    print(table(rows, batches))
    if len(rows) > 1:
        print()
        print(ratios(rows, batches))
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"machine": machine(), "date": stamp, "threads": a.threads, "load_start": load_start,
                       "load_end": os.getloadavg(), "nnc_before": before, "nnc_after": after,
                       "peers": peers_json, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
