"""The oracle's library: safetensors writer, the language's built-ins in PyTorch float64,
and the case registry. See gen.py.

Each value case is a `.nn` model plus a PyTorch (float64) function written by hand from
LANGUAGE.md, not from nnc's code. The script writes, for every case, a folder
`cases/<name>/` holding `model.nn`, `params.safetensors`, `inputs.safetensors`,
`expected.safetensors` (every output by name, `loss`, `grad.NAME` for every param and, when
`grad_inputs`, every f32 input) and `case.json`, the layout of the spec's conformance
cases. Error cases hold `model.nn` and a `case.json` with `error_line` and `mentions`.

"""
import json
import math
import os
import shutil
import struct
import sys
import textwrap
import zlib

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "cases")

# ---------------------------------------------------------------------------------------
# safetensors writer (little-endian, header padded to 8 bytes, tensors sorted by name)

_DT = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32"}


def save_st(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.array(tensors[name], order="C")
        dt = _DT[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------------------
# The language's built-ins, from LANGUAGE.md §6 and §8, in float64.
# Where PyTorch's own function differs from the spec at a tie or a kink, the spec's rule is
# written out here instead (torch.maximum and torch.amax split the gradient at ties).


def maximum(a, b):
    a, b = torch.broadcast_tensors(_t(a), _t(b))
    return torch.where(a >= b, a, b)  # ties: gradient to a


def minimum(a, b):
    a, b = torch.broadcast_tensors(_t(a), _t(b))
    return torch.where(a <= b, a, b)  # ties: gradient to a


def _t(x):
    return x if torch.is_tensor(x) else torch.tensor(float(x))


def relu(x):
    return torch.where(x > 0, x, torch.zeros_like(x))  # relu'(0) = 0


def leaky_relu(x, alpha=0.01):
    return torch.where(x > 0, x, alpha * x)  # a if a > 0 else alpha*a: slope alpha at 0


def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def softplus(x):
    return torch.logaddexp(x, torch.zeros_like(x))


def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def rmax(x, axis=None, keepdims=False):
    """max with the gradient to the first maximum (row-major)."""
    if axis is None:
        flat = x.reshape(-1)
        i = int(np.argmax(flat.detach().numpy()))
        v = flat[i]
        return v.reshape([1] * x.dim()) if keepdims else v
    axis = axis % x.dim()
    idx = np.expand_dims(np.argmax(x.detach().numpy(), axis=axis), axis)
    v = torch.gather(x, axis, torch.from_numpy(idx))
    return v if keepdims else v.squeeze(axis)


def rsum(x, axis=None, keepdims=False):
    if axis is None:
        s = x.sum()
        return s.reshape([1] * x.dim()) if keepdims else s
    return x.sum(dim=axis, keepdim=keepdims)


def rmean(x, axis=None, keepdims=False):
    n = x.numel() if axis is None else x.shape[axis]
    return rsum(x, axis, keepdims) / n


def logsumexp(x, axis=None, keepdims=False):
    m = rmax(x, axis, True).detach()
    if axis is None:
        s = torch.log(torch.exp(x - m).sum()) + m.reshape(())
        return s.reshape([1] * x.dim()) if keepdims else s
    s = torch.log(torch.exp(x - m).sum(dim=axis, keepdim=True)) + m
    return s if keepdims else s.squeeze(axis)


def log_softmax(x, axis=-1):
    return x - logsumexp(x, axis, True)


def softmax(x, axis=-1):
    return torch.exp(log_softmax(x, axis))


def cross_entropy(logits, t):
    ls = log_softmax(logits, 1)
    if t.dtype == torch.int64:
        return -ls[torch.arange(logits.shape[0]), t].mean()
    return -(t * ls).sum(dim=1).mean()


def mse(a, b):
    return ((a - b) ** 2).mean()


def grad(e, v):
    (g,) = torch.autograd.grad(e, v, create_graph=True, allow_unused=True)
    return torch.zeros_like(v) if g is None else g


# ---------------------------------------------------------------------------------------
# Case registry


class Rand:
    """Deterministic data for one case, rounded to f32 (what the files hold)."""

    def __init__(self, name):
        self.g = np.random.default_rng(zlib.crc32(name.encode()))

    def u(self, *shape, lo=-1.0, hi=1.0):
        return self.g.uniform(lo, hi, size=shape).astype(np.float32)

    def away(self, *shape, lo=0.2, hi=1.5):
        """Values with |v| in [lo, hi): away from kinks at 0."""
        mag = self.g.uniform(lo, hi, size=shape)
        sgn = np.where(self.g.uniform(size=shape) < 0.5, -1.0, 1.0)
        return (mag * sgn).astype(np.float32)

    def ints(self, *shape, lo=0, hi=3):
        """Small integers as f32: exact ties."""
        return self.g.integers(lo, hi, size=shape).astype(np.float32)

    def labels(self, n, c):
        return self.g.integers(0, c, size=(n,)).astype(np.int32)

    def probs(self, n, c):
        p = self.g.uniform(0.1, 1.0, size=(n, c))
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


VALUE = {}
ERROR = {}


def value(name, grad_inputs=False, model=None, atol=1e-4, rtol=1e-3, nan_ok=False):
    """`nan_ok`: the expected values may hold NaN (as the spec's check allows: NaN must
    match NaN); infinities are never expected."""
    def register(build):
        assert name not in VALUE, name
        VALUE[name] = dict(build=build, grad_inputs=grad_inputs, model=model, atol=atol, rtol=rtol, nan_ok=nan_ok)
        return build

    return register


def error(name, src, mentions, also=()):
    """`src` marks the line(s) the diagnostic may name with a trailing `@@`; `also` adds
    lines past the end of the text (an error at the end of the file)."""
    assert name not in ERROR, name
    lines, marked = [], []
    for i, line in enumerate(textwrap.dedent(src).strip("\n").split("\n"), 1):
        if line.rstrip().endswith("@@"):
            marked.append(i)
            line = line.rstrip()[:-2].rstrip()
        lines.append(line)
    assert marked, name
    marked += list(also)
    ERROR[name] = dict(src="\n".join(lines) + "\n", line=marked[0] if len(marked) == 1 else marked, mentions=mentions)


def write_value(name, spec):
    r = Rand(name)
    src, params, inputs, f = spec["build"](r)
    src = textwrap.dedent(src).strip("\n") + "\n"
    P = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in params.items()}
    I = {}
    for k, v in inputs.items():
        if v.dtype == np.int32:
            I[k] = torch.tensor(v.astype(np.int64))
        else:
            I[k] = torch.tensor(v.astype(np.float64), requires_grad=True)
    outs, loss = f(P, I)
    expected = {k: _np(v) for k, v in outs.items()}
    if loss is not None:
        assert loss.dim() == 0, name
        expected["loss"] = _np(loss)
        wrt = list(P.items())
        if spec["grad_inputs"]:
            wrt += [(k, v) for k, v in I.items() if v.dtype == torch.float64]
        if wrt:
            gs = torch.autograd.grad(loss, [v for _, v in wrt], allow_unused=True)
            for (k, v), g in zip(wrt, gs):
                expected["grad." + k] = _np(torch.zeros_like(v) if g is None else g)
    for k, v in expected.items():
        ok = ~np.isinf(v) if spec["nan_ok"] else np.isfinite(v)
        assert np.all(ok), f"{name}: {k} not finite"
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.nn"), "w") as fh:
        fh.write(src)
    save_st(os.path.join(d, "params.safetensors"), params)
    save_st(os.path.join(d, "inputs.safetensors"), inputs)
    save_st(os.path.join(d, "expected.safetensors"), expected)
    case = {"grad_inputs": spec["grad_inputs"], "atol": spec["atol"], "rtol": spec["rtol"]}
    if spec["model"]:
        case["model"] = spec["model"]
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump(case, fh, indent=1)
        fh.write("\n")


def _np(t):
    return t.detach().numpy().astype(np.float64)


def write_error(name, spec):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.nn"), "w") as fh:
        fh.write(spec["src"])
    with open(os.path.join(d, "case.json"), "w") as fh:
        json.dump({"error_line": spec["line"], "mentions": spec["mentions"]}, fh, indent=1)
        fh.write("\n")


def weights(r, outs):
    """A random weight per output element, so `loss = sum(out * w)` checks every entry."""
    return {k: r.u(*v) for k, v in outs.items()}


