#!/usr/bin/env python3
"""Random differential testing of nnc against the oracle's PyTorch float64 built-ins.

Each seed builds a random expression `o` over params of fixed shapes (elementwise
functions, powers, broadcasting arithmetic, reductions with axes and keepdims, softmax,
transposes, matmul, maximum/minimum, leaky_relu, mse, reshape), a model whose loss also
holds `grad(sum(o * w), a)` squared (so --grad needs second derivatives), and compares
`nnc run --grad` (JIT and --interp) with PyTorch. With --ties the params are integers in
{-1, 0, 1}: exact ties and kinks everywhere.

usage: /work/peers-venv/bin/python tests/oracle/fuzz.py FIRST_SEED END_SEED [--ties]
(needs target/debug/nnc; prints one line per disagreement and a count; a failing seed's
files stay in the printed folder.)
"""
import os, sys, random, subprocess, tempfile
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np, torch, lib
from safetensors.numpy import load_file
from lib import *
torch.set_default_dtype(torch.float64)
NNC = os.path.join(HERE, '..', '..', 'target', 'debug', 'nnc')
TIES = '--ties' in sys.argv
OUT = tempfile.mkdtemp(prefix='nnc-fuzz-')
SH = {'a': (3, 4), 'b': (4,), 'c': (3, 1), 'd': (), 'e': (4, 3)}

def gen(depth, rnd):
    """returns (src, fn(env)->tensor, shape)"""
    if depth == 0 or rnd.random() < 0.25:
        n = rnd.choice(list(SH))
        return n, (lambda E, n=n: E[n]), SH[n]
    k = rnd.random()
    s1, f1, sh1 = gen(depth - 1, rnd)
    if k < 0.12:
        s2, f2, sh2 = gen(depth - 1, rnd)
        try:
            sh = tuple(np.broadcast_shapes(sh1, sh2))
        except ValueError:
            return s1, f1, sh1
        which = rnd.choice(['maximum', 'minimum', 'leaky', 'mse', 'reshape'])
        if which == 'maximum':
            return f"maximum({s1}, {s2})", (lambda E: maximum(f1(E), f2(E))), sh
        if which == 'minimum':
            return f"minimum({s1}, {s2})", (lambda E: minimum(f1(E), f2(E))), sh
        if which == 'leaky':
            al = rnd.choice([0.01, 0.2, -0.5])
            return f"leaky_relu({s1}, alpha={al})", (lambda E: leaky_relu(f1(E), al)), sh1
        if which == 'mse' and sh1 == sh2:
            return f"mse({s1}, {s2})", (lambda E: mse(f1(E), f2(E))), ()
        if len(sh1) == 2:
            return f"reshape(reshape({s1}, [-1]), [{sh1[1]}, {sh1[0]}])", (lambda E: f1(E).reshape(-1).reshape(sh1[1], sh1[0])), (sh1[1], sh1[0])
        return s1, f1, sh1
    if k < 0.35:
        s2, f2, sh2 = gen(depth - 1, rnd)
        try:
            sh = tuple(np.broadcast_shapes(sh1, sh2))
        except ValueError:
            return s1, f1, sh1
        op = rnd.choice('+-*/')
        if op == '/':
            return f"({s1} / (abs({s2}) + 1))", (lambda E: f1(E) / (torch.abs(f2(E)) + 1)), sh
        fn = {'+': lambda x, y: x + y, '-': lambda x, y: x - y, '*': lambda x, y: x * y}[op]
        return f"({s1} {op} {s2})", (lambda E: fn(f1(E), f2(E))), sh
    if k < 0.6:
        name, tf = rnd.choice([('tanh', torch.tanh), ('sigmoid', sigmoid), ('relu', relu), ('softplus', softplus),
                               ('gelu', gelu), ('sin', torch.sin), ('abs', torch.abs), ('exp', lambda x: torch.exp(torch.tanh(x)))])
        if name == 'exp':
            return f"exp(tanh({s1}))", (lambda E: tf(f1(E))), sh1
        return f"{name}({s1})", (lambda E: tf(f1(E))), sh1
    if k < 0.7:
        p = rnd.choice([2, 3, -1, 0.5, 1.5])
        if p in (-1, 0.5, 1.5):
            return f"((abs({s1}) + 0.5) ^ {p})", (lambda E: (torch.abs(f1(E)) + 0.5) ** p), sh1
        return f"({s1} ^ {p})", (lambda E: f1(E) ** p), sh1
    if k < 0.85 and len(sh1) >= 1:
        ax = rnd.randrange(-len(sh1), len(sh1))
        kd = rnd.random() < 0.5
        red = rnd.choice(['sum', 'mean', 'max', 'logsumexp', 'softmax', 'log_softmax'])
        tf = {'sum': rsum, 'mean': rmean, 'max': rmax, 'logsumexp': logsumexp}.get(red)
        if red in ('softmax', 'log_softmax'):
            tf = softmax if red == 'softmax' else log_softmax
            return f"{red}({s1}, axis={ax})", (lambda E: tf(f1(E), ax)), sh1
        sh = list(sh1)
        if kd: sh[ax] = 1
        else: del sh[ax]
        return f"{red}({s1}, axis={ax}, keepdims={'true' if kd else 'false'})", (lambda E: tf(f1(E), ax, kd)), tuple(sh)
    if len(sh1) == 2:
        if rnd.random() < 0.5:
            return f"({s1}).T", (lambda E: f1(E).T), (sh1[1], sh1[0])
        W = 'e' if sh1[1] == 4 else None
        if sh1[1] == 4:
            return f"({s1} @ e)", (lambda E: f1(E) @ E['e']), (sh1[0], 3)
    return f"(-{s1})", (lambda E: -f1(E)), sh1

def one(seed):
    rnd = random.Random(seed)
    s, f, sh = gen(4, rnd)
    src = "model fz {\n" + "".join(f"    param {n}: [{', '.join(map(str, v))}]\n" for n, v in SH.items())
    src += f"    input w: [{', '.join(map(str, sh))}]\n    output o = {s}\n    let g = grad(sum(o * w), a)\n    output g\n    loss = sum(o * w) + sum(g * g)\n}}\n"
    g = np.random.default_rng(seed)
    if TIES:
        P = {n: g.integers(-1, 2, size=v).astype(np.float32) for n, v in SH.items()}
    else:
        P = {n: g.uniform(-1.5, 1.5, size=v).astype(np.float32) for n, v in SH.items()}
    I = {'w': g.uniform(-1, 1, size=sh).astype(np.float32)}
    E = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in {**P, **I}.items()}
    o = f(E)
    gg = grad(rsum(o * E['w']), E['a'])
    loss = rsum(o * E['w']) + rsum(gg * gg)
    grads = torch.autograd.grad(loss, [E[n] for n in SH], allow_unused=True)
    want = {'o': o, 'g': gg, 'loss': loss, **{f'grad.{n}': (torch.zeros(SH[n]) if gr is None else gr) for n, gr in zip(SH, grads)}}
    d = os.path.join(OUT, str(seed)); os.makedirs(d, exist_ok=True)
    open(f'{d}/model.nn', 'w').write(src)
    lib.save_st(f'{d}/params.safetensors', P); lib.save_st(f'{d}/inputs.safetensors', I)
    bad = []
    for flag in ([], ['--interp']):
        p = subprocess.run([NNC, 'run', f'{d}/model.nn', '--params', f'{d}/params.safetensors', '--inputs', f'{d}/inputs.safetensors', '--grad', '--out', f'{d}/out.safetensors'] + flag, capture_output=True, text=True)
        if p.returncode != 0:
            return f"{seed}: exit {p.returncode} {p.stderr[-300:]}"
        got = load_file(f'{d}/out.safetensors')
        for k, v in want.items():
            wv = v.detach().numpy().reshape(-1)
            gv = got[k].astype(np.float64).reshape(-1)
            if not np.all(np.abs(gv - wv) <= 1e-4 + 1e-3 * np.abs(wv)):
                i = int(np.argmax(np.abs(gv - wv) - 1e-3 * np.abs(wv)))
                bad.append(f"{seed} {flag} {k}: got {gv[i]} want {wv[i]}")
    return "; ".join(bad) if bad else None

lo, hi = int(sys.argv[1]), int(sys.argv[2])
nf = 0
for seed in range(lo, hi):
    try:
        r = one(seed)
    except Exception as e:
        r = f"{seed}: oracle exception {e}"
    if r:
        nf += 1; print(r)
print(f"{hi - lo} seeds, {nf} disagreements (files in {OUT})")
