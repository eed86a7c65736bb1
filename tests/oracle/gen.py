#!/usr/bin/env python3
"""Oracle cases for nnc, with expected values from an independent implementation.

Each value case is a `.nn` model plus a PyTorch (float64) function written by hand from
LANGUAGE.md, not from nnc's code (the built-ins are in lib.py, the cases in
cases_values.py and cases_errors.py). For every case this writes a folder `cases/<name>/`
holding `model.nn`, `params.safetensors`, `inputs.safetensors`, `expected.safetensors`
(every output by name, `loss`, `grad.NAME` for every param and, when `grad_inputs`, every
f32 input) and `case.json`: the layout of the spec's conformance cases. Error cases hold
`model.nn` and a `case.json` with `error_line` and `mentions`.

usage: /work/peers-venv/bin/python tests/oracle/gen.py [NAME_FILTER]
(needs numpy and torch; the cases are committed, so running the tests needs no Python.)
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import cases_values  # noqa: E402,F401
import cases_errors  # noqa: E402,F401


def main():
    filt = sys.argv[1] if len(sys.argv) > 1 else None
    if filt is None and os.path.isdir(lib.ROOT):
        shutil.rmtree(lib.ROOT)
    os.makedirs(lib.ROOT, exist_ok=True)
    n = 0
    for name, spec in lib.VALUE.items():
        if filt is None or filt in name:
            lib.write_value(name, spec)
            n += 1
    for name, spec in lib.ERROR.items():
        if filt is None or filt in name:
            lib.write_error(name, spec)
            n += 1
    print(f"{n} cases ({len(lib.VALUE)} value, {len(lib.ERROR)} error) in {lib.ROOT}")


if __name__ == "__main__":
    main()
