"""Value cases, by area. Each builder returns (model source, params, inputs, f) where
f(P, I) -> (outputs by name, loss or None) computes the model by hand in float64."""
import math

import numpy as np
import torch

from lib import (
    cross_entropy,
    gelu,
    grad,
    leaky_relu,
    log_softmax,
    logsumexp,
    maximum,
    minimum,
    mse,
    relu,
    rmax,
    rmean,
    rsum,
    sigmoid,
    softmax,
    softplus,
    value,
)

# =======================================================================================
# Elementwise built-ins


_UNARY = ["exp(x)", "log(p)", "sqrt(p)", "abs(x)", "tanh(x)", "sigmoid(x)", "relu(x)", "softplus(x)", "sin(x)",
          "cos(x)"]


@value("el_unary_each", grad_inputs=True)
def _(r):
    outs = "".join(f"        output o{i} = {e}\n" for i, e in enumerate(_UNARY))
    ins = "".join(f"        input w{i}: [2, 3]\n" for i in range(len(_UNARY)))
    terms = " + ".join(f"sum(o{i} * w{i})" for i in range(len(_UNARY)))
    src = f"""
    model unary {{
        param x: [2, 3]
{ins}        let p = abs(x) + 0.25
{outs}        loss = {terms}
    }}
    """
    P = {"x": r.away(2, 3, lo=0.1, hi=2.0)}
    I = {f"w{i}": r.u(2, 3) for i in range(len(_UNARY))}

    def f(P, I):
        x = P["x"]
        p = torch.abs(x) + 0.25
        vals = [torch.exp(x), torch.log(p), torch.sqrt(p), torch.abs(x), torch.tanh(x), sigmoid(x), relu(x),
                softplus(x), torch.sin(x), torch.cos(x)]
        o = {f"o{i}": v for i, v in enumerate(vals)}
        return o, sum(rsum(v * I[f"w{i}"]) for i, v in enumerate(vals))

    return src, P, I, f


@value("el_unary_rank3_compositions", grad_inputs=True)
def _(r):
    src = """
    // Compositions of the elementwise functions on a rank-3 input.
    model comp {
        input x: [2, 2, 3]
        param c: [3]
        let a = exp(-x ^ 2) + log(1 + exp(x)) - softplus(x)
        let b = sqrt(x * x + 1) * sin(x) * cos(c)
        output y = tanh(sigmoid(x * c)) + a * b
        loss = sum(y * y) + mean(abs(c * x))
    }
    """
    P = {"c": r.away(3)}
    I = {"x": r.u(2, 2, 3, lo=-2, hi=2)}

    def f(P, I):
        x, c = I["x"], P["c"]
        a = torch.exp(-(x**2)) + torch.log(1 + torch.exp(x)) - softplus(x)
        b = torch.sqrt(x * x + 1) * torch.sin(x) * torch.cos(c)
        y = torch.tanh(sigmoid(x * c)) + a * b
        return {"y": y}, rsum(y * y) + rmean(torch.abs(c * x))

    return src, P, I, f


@value("el_kinks_at_zero", grad_inputs=True)
def _(r):
    # Exact zeros: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = alpha (a if a > 0 else
    # alpha*a), maximum/minimum ties give the gradient to `a`.
    src = """
    model kinks {
        param x: [8]
        input w0: [8]
        input w1: [8]
        input w2: [8]
        input w3: [8]
        input w4: [8]
        input w5: [8]
        input w6: [8]
        let z = 0 * x
        output r = relu(x)
        output a = abs(x)
        output l = leaky_relu(x, alpha=0.25)
        output mx = maximum(x, 0)
        output mn = minimum(x, 0.0)
        output mz = maximum(z, x)
        output ab = abs(x) * relu(-x)
        loss = sum(r * w0) + sum(a * w1) + sum(l * w2) + sum(mx * w3) + sum(mn * w4) + sum(mz * w5) + sum(ab * w6)
    }
    """
    x = np.array([0, 0, 1.5, -1.25, 0, 0.5, -0.75, 0], np.float32)
    P = {"x": x}
    I = {f"w{i}": r.u(8) for i in range(7)}

    def f(P, I):
        x = P["x"]
        z = 0 * x
        o = dict(r=relu(x), a=torch.abs(x), l=leaky_relu(x, 0.25), mx=maximum(x, 0.0), mn=minimum(x, 0.0),
                 mz=maximum(z, x), ab=torch.abs(x) * relu(-x))
        return o, sum(rsum(v * I[f"w{i}"]) for i, v in enumerate(o.values()))

    return src, P, I, f


@value("el_leaky_relu_forms")
def _(r):
    src = """
    model leaky {
        param x: [3, 4]
        input w: [3, 4]
        output d = leaky_relu(x)
        output k = leaky_relu(x, alpha=0.2)
        output e = leaky_relu(x, alpha = 2.5E-1)
        output q = leaky_relu(x, alpha=1/8)
        output n = leaky_relu(x, alpha=-0.5)
        output big = leaky_relu(x, alpha=1.5)
        loss = sum((d + 2*k + 3*e + 4*q + 5*n + 6*big) * w)
    }
    """
    P = {"x": r.away(3, 4, lo=0.05, hi=2)}
    I = {"w": r.u(3, 4)}

    def f(P, I):
        x = P["x"]
        o = dict(d=leaky_relu(x), k=leaky_relu(x, 0.2), e=leaky_relu(x, 0.25), q=leaky_relu(x, 0.125),
                 n=leaky_relu(x, -0.5), big=leaky_relu(x, 1.5))
        s = o["d"] + 2 * o["k"] + 3 * o["e"] + 4 * o["q"] + 5 * o["n"] + 6 * o["big"]
        return o, rsum(s * I["w"])

    return src, P, I, f


@value("el_leaky_relu_positional_alpha")
def _(r):
    # docs/language-notes.md: built-in options may also be given by position.
    src = """
    model leaky {
        param x: [6]
        output y = leaky_relu(x, 0.3)
        loss = sum(y * y)
    }
    """
    P = {"x": r.away(6)}

    def f(P, I):
        y = leaky_relu(P["x"], 0.3)
        return {"y": y}, rsum(y * y)

    return src, P, {}, f


@value("el_gelu", grad_inputs=True)
def _(r):
    src = """
    model g {
        input x: [10]
        param s: [10]
        output y = gelu(x * s)
        output z = gelu(gelu(x) - 1)
        loss = sum(y) + sum(z * s)
    }
    """
    P = {"s": r.u(10, lo=0.5, hi=1.5)}
    I = {"x": np.array([-6, -3.5, -2, -1, -0.3, 0, 0.4, 1.1, 2.7, 5.5], np.float32)}

    def f(P, I):
        x, s = I["x"], P["s"]
        y = gelu(x * s)
        z = gelu(gelu(x) - 1)
        return {"y": y, "z": z}, rsum(y) + rsum(z * s)

    return src, P, I, f


@value("el_maximum_minimum_broadcast", grad_inputs=True)
def _(r):
    src = """
    model mm {
        param a: [3, 4]
        param row: [4]
        param col: [3, 1]
        input w: [3, 4]
        output p = maximum(a, row)
        output q = minimum(col, a)
        output s = maximum(row, col)
        output t = minimum(0.25, a) + maximum(a, -0.25)
        loss = sum((p + 2 * q + 3 * s + t) * w)
    }
    """
    a = r.u(3, 4)
    row = r.u(4)
    col = r.u(3, 1)
    a[0, 1] = row[1]  # ties of a with row: gradient to a
    a[2, 3] = row[3]
    a[1, 2] = col[1, 0]  # tie with col, col is `a` in minimum(col, a)
    a[0, 0] = 0.25
    a[2, 0] = -0.25
    P = {"a": a, "row": row, "col": col}
    I = {"w": r.u(3, 4)}

    def f(P, I):
        a, row, col = P["a"], P["row"], P["col"]
        o = dict(p=maximum(a, row), q=minimum(col, a), s=maximum(row, col), t=minimum(0.25, a) + maximum(a, -0.25))
        return o, rsum((o["p"] + 2 * o["q"] + 3 * o["s"] + o["t"]) * I["w"])

    return src, P, I, f


@value("el_maximum_minimum_all_ties")
def _(r):
    src = """
    model ties {
        param a: [2, 5]
        param b: [2, 5]
        input w: [2, 5]
        let m = maximum(a, b) + 2 * minimum(b, a) + 3 * maximum(b, a) + 4 * minimum(a, b)
        loss = sum(m * w)
    }
    """
    a = r.ints(2, 5)
    b = r.ints(2, 5)
    b[0, :3] = a[0, :3]  # several exact ties
    P = {"a": a, "b": b}
    I = {"w": r.u(2, 5)}

    def f(P, I):
        a, b = P["a"], P["b"]
        m = maximum(a, b) + 2 * minimum(b, a) + 3 * maximum(b, a) + 4 * minimum(a, b)
        return {}, rsum(m * I["w"])

    return src, P, I, f


@value("el_unary_minus_precedence", grad_inputs=True)
def _(r):
    # -x ^ 2 is -(x ^ 2); unary minus binds tighter than * / @ and looser than ^.
    src = """
    model neg {
        input x: [2, 3]
        param W: [3, 2]
        param v: [3]
        output a = -x ^ 2
        output b = (-x) ^ 2
        output c = 2 - -x
        output d = -x @ W
        output e = - x * v
        output f = -sum(x) + - -1
        output g = 1 - x ^ 2 * 3
        loss = sum(a) + sum(b * b) + sum(c * x) + sum(d ^ 2) + sum(e) + f + sum(g * g)
    }
    """
    P = {"W": r.u(3, 2), "v": r.u(3)}
    I = {"x": r.away(2, 3)}

    def f(P, I):
        x, W, v = I["x"], P["W"], P["v"]
        o = dict(a=-(x**2), b=(-x) ** 2, c=2 - (-x), d=(-x) @ W, e=-x * v, f=-rsum(x) + 1, g=1 - (x**2) * 3)
        loss = rsum(o["a"]) + rsum(o["b"] ** 2) + rsum(o["c"] * x) + rsum(o["d"] ** 2) + rsum(o["e"]) + o["f"] + rsum(o["g"] ** 2)
        return o, loss

    return src, P, I, f


@value("el_pow_integer_negative_base", grad_inputs=True)
def _(r):
    # Integer exponents (also written 2.0) on negative bases are ordinary powers.
    src = """
    model pw {
        input x: [8]
        param s: [8]
        let y = x * s
        output p2 = y ^ 2
        output p3 = y ^ 3
        output p4 = y ^ 4.0
        output m1 = y ^ -1
        output m2 = y ^ -2
        output p0 = y ^ 0
        output p1 = y ^ 1
        output f2 = y ^ 2.0
        loss = sum(p2 + p3 - p4 + m1 + m2 + p0 + p1 + f2 * s)
    }
    """
    P = {"s": r.u(8, lo=0.7, hi=1.3)}
    I = {"x": r.away(8, lo=0.4, hi=1.6)}
    I["x"][:4] = -np.abs(I["x"][:4])

    def f(P, I):
        y = I["x"] * P["s"]
        o = dict(p2=y**2, p3=y**3, p4=y**4, m1=y**-1, m2=y**-2, p0=y**0, p1=y**1, f2=y**2)
        return o, rsum(o["p2"] + o["p3"] - o["p4"] + o["m1"] + o["m2"] + o["p0"] + o["p1"] + o["f2"] * P["s"])

    return src, P, I, f


@value("el_pow_fractional_and_constexpr")
def _(r):
    src = """
    model pw {
        param x: [6]
        input w: [6]
        let q = abs(x) + 0.5
        output a = q ^ 0.5
        output b = q ^ -1.5
        output c = q ^ (1/3)
        output d = q ^ -0.25
        output e = q ^ 2.5
        output f = q ^ .5
        output g = q ^ 1e-1
        output h = q ^ (2 * 3 - 4)
        output i = q ^ -(1 / 2)
        output j = q ^ 2 ^ 0.5
        output k = x * 2 ^ 3
        output l = q ^ (1 + 1) * 3
        output m = -q ^ 2
        output n = q ^ (-2)
        loss = sum((a + b + c + d + e + f + g + h + i + j + k + l + m + n) * w)
    }
    """
    P = {"x": r.away(6)}
    I = {"w": r.u(6)}

    def f(P, I):
        x = P["x"]
        q = torch.abs(x) + 0.5
        o = dict(a=q**0.5, b=q**-1.5, c=q ** (1 / 3), d=q**-0.25, e=q**2.5, f=q**0.5, g=q**0.1, h=q**2,
                 i=q**-0.5, j=q ** (2**0.5), k=x * 8, l=(q**2) * 3, m=-(q**2), n=q**-2)
        return o, rsum(sum(o.values()) * I["w"])

    return src, P, I, f


@value("el_pow_named_constant")
def _(r):
    # docs/language-notes.md: a name bound to a constant may be an exponent.
    src = """
    fn pw(x, c) = x ^ c
    model pw {
        param x: [4]
        let k = 3
        let h = 0.5
        output a = x ^ k
        output b = pw(abs(x) + 1, h)
        output c = pw(x, 2)
        loss = sum(a + b + c)
    }
    """
    P = {"x": r.away(4)}

    def f(P, I):
        x = P["x"]
        o = dict(a=x**3, b=(torch.abs(x) + 1) ** 0.5, c=x**2)
        return o, rsum(o["a"] + o["b"] + o["c"])

    return src, P, {}, f


@value("el_constants_and_numbers", grad_inputs=True)
def _(r):
    src = """
    model nums {
        input x: [5]
        param b: [5]
        output y = .5 * x + 2.5E+4 * 1e-3 * b - 1E2 / 400 + 0.125 / x
        output z = 1 / (1 + x * x) - x / 4 + 3
        loss = sum(y * z) + 1e-3 * sum(b)
    }
    """
    P = {"b": r.u(5)}
    I = {"x": r.away(5, lo=0.5)}

    def f(P, I):
        x, b = I["x"], P["b"]
        y = 0.5 * x + 25000 * 0.001 * b - 100 / 400 + 0.125 / x
        z = 1 / (1 + x * x) - x / 4 + 3
        return {"y": y, "z": z}, rsum(y * z) + 1e-3 * rsum(b)

    return src, P, I, f


@value("el_division_and_subtraction", grad_inputs=True)
def _(r):
    src = """
    model div {
        input a: [3, 4]
        param b: [3, 4]
        param c: [4]
        output q = a / b - b / c / 2
        output s = a - b - c
        loss = sum(q * s) + sum(1 / c)
    }
    """
    P = {"b": r.away(3, 4, lo=0.5), "c": r.away(4, lo=0.5)}
    I = {"a": r.u(3, 4)}

    def f(P, I):
        a, b, c = I["a"], P["b"], P["c"]
        q = a / b - b / c / 2
        s = a - b - c
        return {"q": q, "s": s}, rsum(q * s) + rsum(1 / c)

    return src, P, I, f


# =======================================================================================
# Broadcasting


@value("bc_outer_column_row", grad_inputs=True)
def _(r):
    src = """
    model outer {
        input col: [N, 1]
        input row: [1, M]
        param a: [N, 1]
        param b: [1, M]
        input w: [N, M]
        output s = col + row
        output p = a * b - col / (2 + row * row)
        loss = sum((s * p) * w)
    }
    """
    P = {"a": r.u(4, 1), "b": r.u(1, 3)}
    I = {"col": r.u(4, 1), "row": r.u(1, 3), "w": r.u(4, 3)}

    def f(P, I):
        col, row, a, b = I["col"], I["row"], P["a"], P["b"]
        s = col + row
        p = a * b - col / (2 + row * row)
        return {"s": s, "p": p}, rsum(s * p * I["w"])

    return src, P, I, f


@value("bc_vector_against_matrix", grad_inputs=True)
def _(r):
    src = """
    model vm {
        input x: [N, 3]
        param v: [3]
        param c: [N, 1]
        output a = x * v + v
        output b = v - x / (1.5 + c * c)
        output d = c - v
        loss = sum(a * b) + sum(d ^ 2)
    }
    """
    P = {"v": r.u(3), "c": r.u(5, 1)}
    I = {"x": r.u(5, 3)}

    def f(P, I):
        x, v, c = I["x"], P["v"], P["c"]
        a = x * v + v
        b = v - x / (1.5 + c * c)
        d = c - v
        return {"a": a, "b": b, "d": d}, rsum(a * b) + rsum(d**2)

    return src, P, I, f


@value("bc_scalars", grad_inputs=True)
def _(r):
    src = """
    model sc {
        input x: [2, 3]
        input t: []
        param s: []
        param u: [1]
        output y = s * x + t
        output z = x / s - u
        output k = s * t + u
        output m = t
        loss = sum(y * z) + sum(k) * s
    }
    """
    P = {"s": np.array(1.5, np.float32), "u": r.u(1)}
    I = {"x": r.u(2, 3), "t": np.array(-0.75, np.float32)}

    def f(P, I):
        x, t, s, u = I["x"], I["t"], P["s"], P["u"]
        y = s * x + t
        z = x / s - u
        k = s * t + u
        return {"y": y, "z": z, "k": k, "m": t}, rsum(y * z) + rsum(k) * s

    return src, P, I, f


@value("bc_rank3_many", grad_inputs=True)
def _(r):
    src = """
    model r3 {
        input x: [2, 3, 4]
        param m: [3, 4]
        param v: [4]
        param c: [3, 1]
        param d: [2, 1, 4]
        param e: [1, 1, 1]
        param f: [2, 3, 1]
        param s: []
        output y = x + m * v - c / (2 + d * d) + e * f - s
        loss = sum(y * y) + sum(x * c * d)
    }
    """
    P = {"m": r.u(3, 4), "v": r.u(4), "c": r.u(3, 1), "d": r.u(2, 1, 4), "e": r.u(1, 1, 1), "f": r.u(2, 3, 1),
         "s": np.array(0.3, np.float32)}
    I = {"x": r.u(2, 3, 4)}

    def f(P, I):
        x = I["x"]
        y = x + P["m"] * P["v"] - P["c"] / (2 + P["d"] * P["d"]) + P["e"] * P["f"] - P["s"]
        return {"y": y}, rsum(y * y) + rsum(x * P["c"] * P["d"])

    return src, P, I, f


@value("bc_rank3_from_lower_ranks", grad_inputs=True)
def _(r):
    src = """
    model r3 {
        param a: [2, 1, 4]
        param b: [3, 1]
        param c: [1, 3, 1]
        input w: [2, 3, 4]
        output y = a * b + c
        output z = maximum(a, b) - minimum(c, a)
        loss = sum((y + z) * w)
    }
    """
    P = {"a": r.u(2, 1, 4), "b": r.u(3, 1), "c": r.u(1, 3, 1)}
    I = {"w": r.u(2, 3, 4)}

    def f(P, I):
        a, b, c = P["a"], P["b"], P["c"]
        y = a * b + c
        z = maximum(a, b) - minimum(c, a)
        return {"y": y, "z": z}, rsum((y + z) * I["w"])

    return src, P, I, f


@value("bc_ones_against_ones")
def _(r):
    src = """
    model ones {
        param a: [1]
        param b: [3]
        param c: [1, 1]
        param s: []
        output x = a + b
        output y = c * b
        output z = s + a
        output q = c - s
        loss = sum(x * y) + sum(z) + sum(q * q)
    }
    """
    P = {"a": r.u(1), "b": r.u(3), "c": r.u(1, 1), "s": np.array(0.7, np.float32)}

    def f(P, I):
        a, b, c, s = P["a"], P["b"], P["c"], P["s"]
        o = dict(x=a + b, y=c * b, z=s + a, q=c - s)
        return o, rsum(o["x"] * o["y"]) + rsum(o["z"]) + rsum(o["q"] ** 2)

    return src, P, {}, f


@value("bc_size_variables_with_ones", grad_inputs=True)
def _(r):
    src = """
    model sv {
        input x: [N, D]
        input c: [N, 1]
        input r: [1, D]
        param b: [D]
        output y = (x + b) * c - r
        loss = mean(y * y)
    }
    """
    P = {"b": r.u(3)}
    I = {"x": r.u(4, 3), "c": r.u(4, 1), "r": r.u(1, 3)}

    def f(P, I):
        y = (I["x"] + P["b"]) * I["c"] - I["r"]
        return {"y": y}, rmean(y * y)

    return src, P, I, f


# =======================================================================================
# Reductions


def _rank3_reduction_case(r, op, fn):
    src = f"""
    model red {{
        param x: [2, 3, 4]
        input w0: [3, 4]
        input w1: [2, 4]
        input w2: [2, 3]
        input wk0: [1, 3, 4]
        input wk1: [2, 1, 4]
        input wk2: [2, 3, 1]
        output a0 = {op}(x, axis=0)
        output a1 = {op}(x, axis=1)
        output a2 = {op}(x, axis=2)
        output n1 = {op}(x, axis=-1)
        output n2 = {op}(x, axis=-2)
        output n3 = {op}(x, axis=-3)
        output k0 = {op}(x, axis=0, keepdims=true)
        output k1 = {op}(x, axis=-2, keepdims=true)
        output k2 = {op}(x, keepdims=true, axis=2)
        output f1 = {op}(x, axis=1, keepdims=false)
        output all = {op}(x)
        loss = sum(a0 * w0) + sum(a1 * w1) + sum(a2 * w2) + sum(n1 * w2) + sum(n2 * w1) + sum(n3 * w0)
             + sum(k0 * wk0) + sum(k1 * wk1) + sum(k2 * wk2) + sum(f1 * w1) + all
    }}
    """
    P = {"x": r.u(2, 3, 4, lo=-2, hi=2)}
    I = {"w0": r.u(3, 4), "w1": r.u(2, 4), "w2": r.u(2, 3), "wk0": r.u(1, 3, 4), "wk1": r.u(2, 1, 4),
         "wk2": r.u(2, 3, 1)}

    def f(P, I):
        x = P["x"]
        o = dict(a0=fn(x, 0), a1=fn(x, 1), a2=fn(x, 2), n1=fn(x, -1), n2=fn(x, -2), n3=fn(x, -3),
                 k0=fn(x, 0, True), k1=fn(x, -2, True), k2=fn(x, 2, True), f1=fn(x, 1), all=fn(x))
        loss = (rsum(o["a0"] * I["w0"]) + rsum(o["a1"] * I["w1"]) + rsum(o["a2"] * I["w2"]) + rsum(o["n1"] * I["w2"])
                + rsum(o["n2"] * I["w1"]) + rsum(o["n3"] * I["w0"]) + rsum(o["k0"] * I["wk0"])
                + rsum(o["k1"] * I["wk1"]) + rsum(o["k2"] * I["wk2"]) + rsum(o["f1"] * I["w1"]) + o["all"])
        return o, loss

    return src, P, I, f


@value("red_sum_rank3_axes")
def _(r):
    return _rank3_reduction_case(r, "sum", rsum)


@value("red_mean_rank3_axes")
def _(r):
    return _rank3_reduction_case(r, "mean", rmean)


@value("red_max_rank3_axes")
def _(r):
    return _rank3_reduction_case(r, "max", rmax)


@value("red_logsumexp_rank3_axes")
def _(r):
    return _rank3_reduction_case(r, "logsumexp", logsumexp)


@value("red_max_ties_first_maximum")
def _(r):
    # Many exact ties: the gradient goes to the first maximum (row-major within the axis).
    # `mk * w1` is [3, 1] * [3]: broadcast to [3, 3], as NumPy does.
    src = """
    model ties {
        param x: [3, 4]
        param y: [2, 2, 3]
        input w0: [4]
        input w1: [3]
        input w2: [2, 3]
        output m0 = max(x, axis=0)
        output m1 = max(x, axis=1)
        output mk = max(x, axis=-1, keepdims=true)
        output ma = max(x)
        output y1 = max(y, axis=1)
        output ya = max(y)
        loss = sum(m0 * w0) + sum(m1 * w1) + 2 * sum(mk * w1) + 3 * ma + sum(y1 * w2) + 5 * ya
    }
    """
    x = np.array([[1, 2, 2, 0], [2, 2, 1, 0], [2, 0, 2, 0]], np.float32)
    y = r.ints(2, 2, 3)
    y[1, 1, 2] = 5
    y[0, 0, 1] = 5
    P = {"x": x, "y": y}
    I = {"w0": r.u(4), "w1": r.u(3), "w2": r.u(2, 3)}

    def f(P, I):
        x, y = P["x"], P["y"]
        o = dict(m0=rmax(x, 0), m1=rmax(x, 1), mk=rmax(x, -1, True), ma=rmax(x), y1=rmax(y, 1), ya=rmax(y))
        loss = (rsum(o["m0"] * I["w0"]) + rsum(o["m1"] * I["w1"]) + 2 * rsum(o["mk"] * I["w1"])
                + 3 * o["ma"] + rsum(o["y1"] * I["w2"]) + 5 * o["ya"])
        return o, loss

    return src, P, I, f


@value("red_whole_tensor_forms", grad_inputs=True)
def _(r):
    src = """
    model whole {
        input v: [5]
        param x: [2, 3]
        param s: []
        output a = sum(v) + mean(v) * max(v) - logsumexp(v)
        output b = logsumexp(x) + sum(x) * mean(x)
        output k = sum(x, keepdims=true)
        output c = sum(s) + mean(s) + max(s)
        loss = a * b + sum(k) + c * s
    }
    """
    P = {"x": r.u(2, 3), "s": np.array(0.5, np.float32)}
    I = {"v": r.u(5)}

    def f(P, I):
        v, x, s = I["v"], P["x"], P["s"]
        a = rsum(v) + rmean(v) * rmax(v) - logsumexp(v)
        b = logsumexp(x) + rsum(x) * rmean(x)
        k = rsum(x, keepdims=True)
        c = s + s + s
        return {"a": a, "b": b, "k": k, "c": c}, a * b + rsum(k) + c * s

    return src, P, I, f


@value("red_rank1_axes")
def _(r):
    src = """
    model r1 {
        param v: [6]
        output a = sum(v, axis=0)
        output b = max(v, axis=-1)
        output c = logsumexp(v, axis=0, keepdims=true)
        output d = mean(v, axis=-1, keepdims=true)
        loss = a * b + sum(c * d)
    }
    """
    P = {"v": r.u(6)}

    def f(P, I):
        v = P["v"]
        o = dict(a=rsum(v, 0), b=rmax(v, -1), c=logsumexp(v, 0, True), d=rmean(v, -1, True))
        return o, o["a"] * o["b"] + rsum(o["c"] * o["d"])

    return src, P, {}, f


@value("red_over_size_variable_axis", grad_inputs=True)
def _(r):
    src = """
    model sv {
        input x: [N, 3]
        param w: [3]
        let h = x * w
        output m0 = mean(h, axis=0)
        output s0 = sum(h, axis=-2)
        output x0 = max(h, axis=0)
        output l0 = logsumexp(h, axis=0, keepdims=true)
        output all = mean(h)
        loss = sum(m0 * s0) + sum(x0) + sum(l0) + all
    }
    """
    P = {"w": r.away(3)}
    I = {"x": r.u(7, 3)}

    def f(P, I):
        h = I["x"] * P["w"]
        o = dict(m0=rmean(h, 0), s0=rsum(h, -2), x0=rmax(h, 0), l0=logsumexp(h, 0, True), all=rmean(h))
        return o, rsum(o["m0"] * o["s0"]) + rsum(o["x0"]) + rsum(o["l0"]) + o["all"]

    return src, P, I, f


@value("red_logsumexp_large_values")
def _(r):
    src = """
    model lse {
        param x: [3, 4]
        output a = logsumexp(x, axis=1)
        output b = logsumexp(x, axis=0)
        output c = logsumexp(x)
        loss = sum(a) + sum(b * 0.5) + c
    }
    """
    x = np.array([[1000, 999, -1000, 998], [-800, -801, -799, -800], [50, 50, 50, 50]], np.float32)
    P = {"x": x}

    def f(P, I):
        x = P["x"]
        o = dict(a=logsumexp(x, 1), b=logsumexp(x, 0), c=logsumexp(x))
        return o, rsum(o["a"]) + rsum(o["b"] * 0.5) + o["c"]

    return src, P, {}, f


@value("red_chained_reductions")
def _(r):
    src = """
    model ch {
        param x: [3, 5]
        output a = sum(max(x, axis=1))
        output b = mean(logsumexp(x, axis=0, keepdims=true) - x)
        output c = max(sum(x, axis=0))
        output d = mean(x - mean(x, axis=1, keepdims=true), axis=0)
        loss = a + b * c + sum(d * d)
    }
    """
    P = {"x": r.u(3, 5, lo=-2, hi=2)}

    def f(P, I):
        x = P["x"]
        o = dict(a=rsum(rmax(x, 1)), b=rmean(logsumexp(x, 0, True) - x), c=rmax(rsum(x, 0)),
                 d=rmean(x - rmean(x, 1, True), 0))
        return o, o["a"] + o["b"] * o["c"] + rsum(o["d"] ** 2)

    return src, P, {}, f


# =======================================================================================
# softmax, log_softmax


@value("sm_rank3_axes", grad_inputs=True)
def _(r):
    src = """
    model sm {
        input x: [2, 3, 4]
        param s: [4]
        input w: [2, 3, 4]
        let z = x * s
        output d = softmax(z)
        output a0 = softmax(z, axis=0)
        output a1 = softmax(z, axis=1)
        output n2 = softmax(z, axis=-2)
        output l = log_softmax(z)
        output l0 = log_softmax(z, axis=0)
        output l1 = log_softmax(z, axis=-2)
        output l2 = log_softmax(z, axis=2)
        loss = sum((d + 2 * a0 + 3 * a1 + 4 * n2) * w) + sum((l + l0 + l1 + l2) * w * 0.5)
    }
    """
    P = {"s": r.u(4, lo=0.5, hi=2)}
    I = {"x": r.u(2, 3, 4, lo=-2, hi=2), "w": r.u(2, 3, 4)}

    def f(P, I):
        z = I["x"] * P["s"]
        o = dict(d=softmax(z), a0=softmax(z, 0), a1=softmax(z, 1), n2=softmax(z, -2), l=log_softmax(z),
                 l0=log_softmax(z, 0), l1=log_softmax(z, -2), l2=log_softmax(z, 2))
        w = I["w"]
        loss = rsum((o["d"] + 2 * o["a0"] + 3 * o["a1"] + 4 * o["n2"]) * w) + rsum(
            (o["l"] + o["l0"] + o["l1"] + o["l2"]) * w * 0.5)
        return o, loss

    return src, P, I, f


@value("sm_large_logits_and_ties", atol=1e-3)
def _(r):
    src = """
    model big {
        param x: [3, 4]
        input w: [3, 4]
        output p = softmax(x)
        output q = log_softmax(x, axis=1)
        output p0 = softmax(x, axis=0)
        loss = sum(p * w) + sum(q * w) * 0.01 + sum(p0 * w)
    }
    """
    x = np.array([[1000, 1000, -1000, 999], [-1000, -1002, -1001, -1000], [3000, 0, -3000, 2999.5]], np.float32)
    P = {"x": x}
    I = {"w": r.u(3, 4)}

    def f(P, I):
        x = P["x"]
        o = dict(p=softmax(x), q=log_softmax(x, 1), p0=softmax(x, 0))
        return o, rsum(o["p"] * I["w"]) + rsum(o["q"] * I["w"]) * 0.01 + rsum(o["p0"] * I["w"])

    return src, P, I, f


@value("sm_rank1_and_uniform")
def _(r):
    src = """
    model one {
        param v: [5]
        param u: [2, 3]
        input w: [5]
        output a = softmax(v)
        output b = log_softmax(v, axis=0)
        output c = softmax(u * 0)
        loss = sum(a * w) + sum(b * w) + sum(c * u)
    }
    """
    P = {"v": r.u(5), "u": r.u(2, 3)}
    I = {"w": r.u(5)}

    def f(P, I):
        v, u = P["v"], P["u"]
        o = dict(a=softmax(v), b=log_softmax(v, 0), c=softmax(u * 0))
        return o, rsum(o["a"] * I["w"]) + rsum(o["b"] * I["w"]) + rsum(o["c"] * u)

    return src, P, I, f


# =======================================================================================
# cross_entropy, mse


@value("ce_labels_matmul")
def _(r):
    src = """
    model ce {
        input x: [N, 5]
        input y: i32[N]
        param W: [5, 4]
        param b: [4]
        output logits = x @ W + b
        loss = cross_entropy(logits, y)
    }
    """
    P = {"W": r.u(5, 4), "b": r.u(4)}
    I = {"x": r.u(6, 5, lo=-2, hi=2), "y": r.labels(6, 4)}

    def f(P, I):
        lg = I["x"] @ P["W"] + P["b"]
        return {"logits": lg}, cross_entropy(lg, I["y"])

    return src, P, I, f


@value("ce_labels_grad_inputs", grad_inputs=True)
def _(r):
    src = """
    model ce {
        input z: [B, C]
        input y: i32[B]
        param t: [C]
        loss = cross_entropy(z * t, y) * 2
    }
    """
    P = {"t": r.u(3, lo=0.5, hi=2)}
    I = {"z": r.u(4, 3, lo=-3, hi=3), "y": np.array([2, 0, 0, 1], np.int32)}

    def f(P, I):
        return {}, cross_entropy(I["z"] * P["t"], I["y"]) * 2

    return src, P, I, f


@value("ce_soft_targets_unnormalised", grad_inputs=True)
def _(r):
    # The formula holds for any targets, not only rows summing to 1.
    src = """
    model soft {
        input x: [N, 4]
        input t: [N, 4]
        param W: [4, 4]
        loss = cross_entropy(x @ W, t)
    }
    """
    P = {"W": r.u(4, 4)}
    I = {"x": r.u(3, 4), "t": r.u(3, 4, lo=-0.5, hi=1.5)}

    def f(P, I):
        return {}, cross_entropy(I["x"] @ P["W"], I["t"])

    return src, P, I, f


@value("ce_soft_targets_param", grad_inputs=True)
def _(r):
    src = """
    model soft {
        input x: [5, 3]
        param t: [5, 3]
        output l = cross_entropy(x, softmax(t, axis=1))
        loss = l + cross_entropy(t, x * x)
    }
    """
    P = {"t": r.u(5, 3)}
    I = {"x": r.u(5, 3, lo=-2, hi=2)}

    def f(P, I):
        x, t = I["x"], P["t"]
        l = cross_entropy(x, softmax(t, 1))
        return {"l": l}, l + cross_entropy(t, x * x)

    return src, P, I, f


@value("ce_large_logits", atol=1e-3)
def _(r):
    src = """
    model big {
        input y: i32[4]
        input t: [4, 3]
        param x: [4, 3]
        output a = cross_entropy(x, y)
        output b = cross_entropy(x, t)
        loss = a + b
    }
    """
    x = np.array([[1000, -1000, 999], [-5000, -5001, -4999], [20000, 0, 20000], [0.5, 1, 88]], np.float32)
    P = {"x": x}
    I = {"y": np.array([0, 2, 1, 0], np.int32), "t": r.probs(4, 3)}

    def f(P, I):
        a = cross_entropy(P["x"], I["y"])
        b = cross_entropy(P["x"], I["t"])
        return {"a": a, "b": b}, a + b

    return src, P, I, f


@value("ce_single_class_and_single_row")
def _(r):
    src = """
    model tiny {
        input y: i32[1]
        input z: i32[3]
        param a: [1, 4]
        param b: [3, 1]
        loss = cross_entropy(a, y) + cross_entropy(b, z)
    }
    """
    P = {"a": r.u(1, 4), "b": r.u(3, 1)}
    I = {"y": np.array([3], np.int32), "z": np.array([0, 0, 0], np.int32)}

    def f(P, I):
        return {}, cross_entropy(P["a"], I["y"]) + cross_entropy(P["b"], I["z"])

    return src, P, I, f


@value("mse_forms", grad_inputs=True)
def _(r):
    src = """
    model m {
        input a: [N, 3]
        input t: [N, 3]
        input s: []
        param p: []
        param c: [2, 3, 2]
        input d: [2, 3, 2]
        output e1 = mse(a, t)
        output e2 = mse(p, s)
        output e3 = mse(d, c)
        loss = e1 + e2 + e3 * 3
    }
    """
    P = {"p": np.array(0.25, np.float32), "c": r.u(2, 3, 2)}
    I = {"a": r.u(4, 3), "t": r.u(4, 3), "s": np.array(-1.0, np.float32), "d": r.u(2, 3, 2)}

    def f(P, I):
        e1 = mse(I["a"], I["t"])
        e2 = mse(P["p"], I["s"])
        e3 = mse(I["d"], P["c"])
        return {"e1": e1, "e2": e2, "e3": e3}, e1 + e2 + e3 * 3

    return src, P, I, f


# =======================================================================================
# reshape


@value("rs_minus_one_forms")
def _(r):
    src = """
    model rs {
        param x: [2, 3, 4]
        input w: [24]
        output a = reshape(x, [-1])
        output b = reshape(x, [-1, 2])
        output c = reshape(x, [2, -1, 2])
        output d = reshape(x, [4, 6,])
        output e = reshape(reshape(x, [6, -1]), [2, 3, 4])
        loss = sum(a * w) + sum(b @ reshape(w, [2, 12])) + sum(c * c) + sum(d @ reshape(w, [6, 4])) + sum(e * x)
    }
    """
    P = {"x": r.u(2, 3, 4)}
    I = {"w": r.u(24)}

    def f(P, I):
        x, w = P["x"], I["w"]
        o = dict(a=x.reshape(-1), b=x.reshape(-1, 2), c=x.reshape(2, -1, 2), d=x.reshape(4, 6),
                 e=x.reshape(6, -1).reshape(2, 3, 4))
        loss = (rsum(o["a"] * w) + rsum(o["b"] @ w.reshape(2, 12)) + rsum(o["c"] ** 2)
                + rsum(o["d"] @ w.reshape(6, 4)) + rsum(o["e"] * x))
        return o, loss

    return src, P, I, f


@value("rs_size_variables", grad_inputs=True)
def _(r):
    src = """
    model rs {
        input x: [N, 6]
        param W: [3, 2]
        output a = reshape(x, [N, 2, 3])
        output b = reshape(x, [N, -1])
        output c = reshape(x, [-1, 3]) @ W
        output d = reshape(a, [N, 6]) - x
        loss = sum(a * a) + sum(b) + sum(c * c) + sum(d)
    }
    """
    P = {"W": r.u(3, 2)}
    I = {"x": r.u(3, 6)}

    def f(P, I):
        x = I["x"]
        n = x.shape[0]
        a = x.reshape(n, 2, 3)
        o = dict(a=a, b=x.reshape(n, -1), c=x.reshape(-1, 3) @ P["W"], d=a.reshape(n, 6) - x)
        return o, rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"] ** 2) + rsum(o["d"])

    return src, P, I, f


@value("rs_scalar_and_ones")
def _(r):
    src = """
    model rs {
        param a: [1]
        param s: []
        param m: [1, 1, 1]
        output b = reshape(a, [])
        output c = reshape(s, [1, 1])
        output d = reshape(m, [-1])
        loss = b * s + sum(c) * sum(d)
    }
    """
    P = {"a": r.u(1), "s": np.array(0.5, np.float32), "m": r.u(1, 1, 1)}

    def f(P, I):
        a, s, m = P["a"], P["s"], P["m"]
        o = dict(b=a.reshape(()), c=s.reshape(1, 1), d=m.reshape(-1))
        return o, o["b"] * s + rsum(o["c"]) * rsum(o["d"])

    return src, P, {}, f


@value("rs_rank3_batch_through_matmul", grad_inputs=True)
def _(r):
    src = """
    // A [B, T, D] batch through a dense layer via reshape.
    model seq {
        input x: [B, T, 4]
        param W: [4, 3]
        param b: [3]
        let h = tanh(reshape(x, [-1, 4]) @ W + b)
        output y = reshape(h, [B, T, 3])
        loss = mean(sum(y, axis=1) ^ 2)
    }
    """
    P = {"W": r.u(4, 3), "b": r.u(3)}
    I = {"x": r.u(2, 3, 4)}

    def f(P, I):
        x = I["x"]
        h = torch.tanh(x.reshape(-1, 4) @ P["W"] + P["b"])
        y = h.reshape(2, 3, 3)
        return {"y": y}, rmean(rsum(y, 1) ** 2)

    return src, P, I, f


# =======================================================================================
# Matrix products and transposes


@value("mm_three_forms", grad_inputs=True)
def _(r):
    src = """
    model mm {
        input A: [3, 4]
        input u: [4]
        input v: [3]
        param B: [4, 2]
        param w: [4]
        output ab = A @ B
        output vb = v @ A
        output aw = A @ w
        output ub = u @ B
        loss = sum(ab * ab) + sum(vb * u) + sum(aw * v) + sum(ub)
    }
    """
    P = {"B": r.u(4, 2), "w": r.u(4)}
    I = {"A": r.u(3, 4), "u": r.u(4), "v": r.u(3)}

    def f(P, I):
        A, u, v, B, w = I["A"], I["u"], I["v"], P["B"], P["w"]
        o = dict(ab=A @ B, vb=v @ A, aw=A @ w, ub=u @ B)
        return o, rsum(o["ab"] ** 2) + rsum(o["vb"] * u) + rsum(o["aw"] * v) + rsum(o["ub"])

    return src, P, I, f


@value("mm_transposes", grad_inputs=True)
def _(r):
    src = """
    model tr {
        input A: [3, 4]
        param B: [3, 2]
        param C: [2, 4]
        param v: [3]
        output a = A.T @ B
        output b = A @ C.T
        output c = transpose(A) @ v
        output d = (B @ C).T
        output e = A.T.T - transpose(A.T)
        output f = relu(C).T
        output g = v @ B @ C @ A.T
        output h = transpose(B).T
        loss = sum(a * a) + sum(b) + sum(c) + sum(d * A.T) + sum(e) + sum(f * f) + sum(g) + sum(h)
    }
    """
    P = {"B": r.u(3, 2), "C": r.away(2, 4), "v": r.u(3)}
    I = {"A": r.u(3, 4)}

    def f(P, I):
        A, B, C, v = I["A"], P["B"], P["C"], P["v"]
        o = dict(a=A.T @ B, b=A @ C.T, c=A.T @ v, d=(B @ C).T, e=A - A, f=relu(C).T, g=v @ B @ C @ A.T, h=B)
        loss = (rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"]) + rsum(o["d"] * A.T) + rsum(o["e"])
                + rsum(o["f"] ** 2) + rsum(o["g"]) + rsum(o["h"]))
        return o, loss

    return src, P, I, f


@value("mm_precedence_with_mul", grad_inputs=True)
def _(r):
    # `*`, `/` and `@` share a level and associate left: A @ B * C is (A @ B) * C.
    src = """
    model prec {
        input A: [2, 2]
        input B: [2, 2]
        param C: [2, 2]
        output p = A @ B * C
        output q = A * B @ C
        output s = A / C @ B
        output t = A + B @ C
        output u = A @ B @ C - C @ B @ A
        loss = sum(p * q) + sum(s) + sum(t * t) + sum(u)
    }
    """
    P = {"C": r.away(2, 2, lo=0.5)}
    I = {"A": r.u(2, 2), "B": r.u(2, 2)}

    def f(P, I):
        A, B, C = I["A"], I["B"], P["C"]
        o = dict(p=(A @ B) * C, q=(A * B) @ C, s=(A / C) @ B, t=A + (B @ C), u=(A @ B) @ C - (C @ B) @ A)
        return o, rsum(o["p"] * o["q"]) + rsum(o["s"]) + rsum(o["t"] ** 2) + rsum(o["u"])

    return src, P, I, f


@value("mm_size_variables", grad_inputs=True)
def _(r):
    src = """
    model sv {
        input x: [N, K]
        param W: [K, 3]
        param u: [N]
        output y = x @ W
        output g = x.T @ x
        output z = W.T @ x.T
        output v = u @ x
        loss = sum(y * y) + sum(g) + sum(z) + sum(v * v)
    }
    """
    P = {"W": r.u(4, 3), "u": r.u(5)}
    I = {"x": r.u(5, 4)}

    def f(P, I):
        x, W, u = I["x"], P["W"], P["u"]
        o = dict(y=x @ W, g=x.T @ x, z=W.T @ x.T, v=u @ x)
        return o, rsum(o["y"] ** 2) + rsum(o["g"]) + rsum(o["z"]) + rsum(o["v"] ** 2)

    return src, P, I, f


@value("mm_vector_dot")
def _(r):
    # docs/language-notes.md: [K] @ [K] is a dot product (NumPy).
    src = """
    model dot {
        param a: [5]
        input b: [5]
        output d = a @ b
        loss = d * d
    }
    """
    P = {"a": r.u(5)}
    I = {"b": r.u(5)}

    def f(P, I):
        d = P["a"] @ I["b"]
        return {"d": d}, d * d

    return src, P, I, f


# =======================================================================================
# fn definitions


@value("fn_blocks_and_nested_calls", grad_inputs=True)
def _(r):
    src = """
    fn sq(x) = x * x
    fn affine(x, W, b) = x @ W + b
    fn layer(x, W, b) {
        let h = affine(x, W, b);
        let g = sq(h)
        return tanh(h) + 0.1 * g
    }
    fn twice(x, W, b) = layer(layer(x, W, b), W, b)

    model nested {
        input x: [N, 3]
        param W: [3, 3]
        param b: [3]
        output y = twice(x, W, b)
        output s = sq(sum(b))
        loss = mean(sq(y)) + s
    }
    """
    P = {"W": r.u(3, 3), "b": r.u(3)}
    I = {"x": r.u(4, 3)}

    def f(P, I):
        W, b = P["W"], P["b"]

        def layer(x):
            h = x @ W + b
            return torch.tanh(h) + 0.1 * h * h

        y = layer(layer(I["x"]))
        s = rsum(b) ** 2
        return {"y": y, "s": s}, rmean(y * y) + s

    return src, P, I, f


@value("fn_shape_polymorphic_and_scoped_names", grad_inputs=True)
def _(r):
    # fn parameters and lets are local: they may reuse the model's names.
    src = """
    fn norm(x) {
        let m = mean(x, axis=-1, keepdims=true)
        let v = mean((x - m) ^ 2, axis=-1, keepdims=true)
        return (x - m) / sqrt(v + 1e-5)
    }
    fn scale(W, x) = W * x

    model poly {
        input x: [N, 4]
        input W: [4]
        param m: [2, 3, 4]
        param v: [3]
        output a = norm(x)
        output b = norm(m)
        output c = scale(v, norm(v))
        output d = scale(x, W)
        loss = sum(a * W) + sum(b * m) + sum(c * c) + sum(d)
    }
    """
    P = {"m": r.u(2, 3, 4), "v": r.u(3)}
    I = {"x": r.u(3, 4), "W": r.u(4)}

    def f(P, I):
        def norm(x):
            m = rmean(x, -1, True)
            v = rmean((x - m) ** 2, -1, True)
            return (x - m) / torch.sqrt(v + 1e-5)

        x, W, m, v = I["x"], I["W"], P["m"], P["v"]
        o = dict(a=norm(x), b=norm(m), c=v * norm(v), d=x * W)
        return o, rsum(o["a"] * W) + rsum(o["b"] * m) + rsum(o["c"] ** 2) + rsum(o["d"])

    return src, P, I, f


@value("fn_attention")
def _(r):
    src = """
    fn attend(q, k, v) = softmax(q @ k.T / 2, axis=-1) @ v

    model attn {
        input x: [T, 4]
        param Wq: [4, 4]
        param Wk: [4, 4]
        param Wv: [4, 4]
        output y = attend(x @ Wq, x @ Wk, x @ Wv) + x
        loss = mean(y ^ 2)
    }
    """
    P = {"Wq": r.u(4, 4), "Wk": r.u(4, 4), "Wv": r.u(4, 4)}
    I = {"x": r.u(5, 4)}

    def f(P, I):
        x = I["x"]
        q, k, v = x @ P["Wq"], x @ P["Wk"], x @ P["Wv"]
        y = softmax(q @ k.T / 2, -1) @ v + x
        return {"y": y}, rmean(y**2)

    return src, P, I, f


@value("fn_no_params_and_trailing_commas")
def _(r):
    src = """
    fn two() = 2
    fn mix(a, b,) { return a * two() + b; }

    model m {
        param x: [3,]
        param y: [3]
        output z = mix(x, y,)
        loss = sum(z * z,)
    }
    """
    P = {"x": r.u(3), "y": r.u(3)}

    def f(P, I):
        z = P["x"] * 2 + P["y"]
        return {"z": z}, rsum(z * z)

    return src, P, {}, f


@value("fn_kwargs_passed_through")
def _(r):
    src = """
    fn sm0(x) = softmax(x, axis=0)
    fn lrelu(x, a) = leaky_relu(x, alpha=a)
    fn red(x, k) = sum(x, axis=k) + max(x, axis=k)

    model kw {
        param x: [3, 4]
        output a = sm0(x)
        output b = lrelu(x, 0.2)
        output c = red(x, -1)
        output d = red(x, 0)
        loss = sum(a * x) + sum(b) + sum(c * c) + sum(d)
    }
    """
    P = {"x": r.away(3, 4)}

    def f(P, I):
        x = P["x"]
        o = dict(a=softmax(x, 0), b=leaky_relu(x, 0.2), c=rsum(x, -1) + rmax(x, -1), d=rsum(x, 0) + rmax(x, 0))
        return o, rsum(o["a"] * x) + rsum(o["b"]) + rsum(o["c"] ** 2) + rsum(o["d"])

    return src, P, {}, f


# =======================================================================================
# grad: first and higher order


@value("gr_first_order_outputs", grad_inputs=True)
def _(r):
    src = """
    model g1 {
        input x: [N, 3]
        input y: i32[N]
        param W: [3, 4]
        param b: [4]
        let ce = cross_entropy(x @ W + b, y)
        output gW = grad(ce, W)
        output gb = grad(ce, b)
        output gx = grad(ce, x)
        loss = ce
    }
    """
    P = {"W": r.u(3, 4), "b": r.u(4)}
    I = {"x": r.u(5, 3), "y": r.labels(5, 4)}

    def f(P, I):
        ce = cross_entropy(I["x"] @ P["W"] + P["b"], I["y"])
        return {"gW": grad(ce, P["W"]), "gb": grad(ce, P["b"]), "gx": grad(ce, I["x"])}, ce

    return src, P, I, f


@value("gr_penalty_on_param")
def _(r):
    src = """
    model gp {
        input x: [N, 3]
        input t: [N, 2]
        param W: [3, 2]
        param b: [2]
        let e = mse(tanh(x @ W + b), t)
        output g = grad(e, W)
        loss = e + 0.5 * sum(g ^ 2) + sum(grad(e, b) ^ 2)
    }
    """
    P = {"W": r.u(3, 2), "b": r.u(2)}
    I = {"x": r.u(4, 3), "t": r.u(4, 2)}

    def f(P, I):
        e = mse(torch.tanh(I["x"] @ P["W"] + P["b"]), I["t"])
        g = grad(e, P["W"])
        return {"g": g}, e + 0.5 * rsum(g**2) + rsum(grad(e, P["b"]) ** 2)

    return src, P, I, f


@value("gr_grad_of_grad", grad_inputs=True)
def _(r):
    src = """
    model gg {
        param x: [4]
        input w: [4]
        let g1 = grad(sum(x ^ 3), x)
        output g2 = grad(sum(g1 * w), x)
        output g3 = grad(sum(g2 * g2), x)
        loss = sum(g2 * x) + sum(g3)
    }
    """
    P = {"x": r.away(4)}
    I = {"w": r.u(4)}

    def f(P, I):
        x, w = P["x"], I["w"]
        g1 = grad(rsum(x**3), x)
        g2 = grad(rsum(g1 * w), x)
        g3 = grad(rsum(g2 * g2), x)
        return {"g2": g2, "g3": g3}, rsum(g2 * x) + rsum(g3)

    return src, P, I, f


@value("gr_input_penalty", grad_inputs=True)
def _(r):
    src = """
    model ip {
        input x: [N, 4]
        input y: i32[N]
        param W1: [4, 5]
        param W2: [5, 3]
        let ce = cross_entropy(sigmoid(x @ W1) @ W2, y)
        output gx = grad(ce, x)
        loss = ce + 0.1 * sum(gx ^ 2)
    }
    """
    P = {"W1": r.u(4, 5), "W2": r.u(5, 3)}
    I = {"x": r.u(3, 4), "y": r.labels(3, 3)}

    def f(P, I):
        ce = cross_entropy(sigmoid(I["x"] @ P["W1"]) @ P["W2"], I["y"])
        gx = grad(ce, I["x"])
        return {"gx": gx}, ce + 0.1 * rsum(gx**2)

    return src, P, I, f


@value("gr_unused_and_constant")
def _(r):
    src = """
    model uc {
        param W: [2, 3]
        param b: [3]
        output z = grad(sum(W ^ 2), b)
        output c = grad(sum(W * 3), W)
        loss = sum(grad(sum(W ^ 2), W)) + sum(z) + sum(c * W)
    }
    """
    P = {"W": r.u(2, 3), "b": r.u(3)}

    def f(P, I):
        W, b = P["W"], P["b"]
        z = torch.zeros(3)
        c = grad(rsum(W * 3), W)
        return {"z": z, "c": c}, rsum(grad(rsum(W**2), W)) + rsum(z) + rsum(c * W)

    return src, P, {}, f


def _second_order_unary(r, fns):
    names = list(fns)
    src = "model g2 {\n    param x: [6]\n    input w: [6]\n"
    for i, n in enumerate(names):
        src += f"    input v{i}: [6]\n"
    for i, n in enumerate(names):
        src += f"    output g{i} = grad(sum({n} * w), x)\n"
    src += "    loss = " + " + ".join(f"sum(g{i} * v{i})" for i in range(len(names))) + "\n}\n"
    P = {"x": r.away(6, lo=0.2, hi=1.5)}
    I = {"w": r.u(6), **{f"v{i}": r.u(6) for i in range(len(names))}}

    def f(P, I):
        x, w = P["x"], I["w"]
        o = {f"g{i}": grad(rsum(fn(x) * w), x) for i, fn in enumerate(fns.values())}
        return o, sum(rsum(o[f"g{i}"] * I[f"v{i}"]) for i in range(len(names)))

    return src, P, I, f


@value("gr2_unary_functions", grad_inputs=True)
def _(r):
    return _second_order_unary(r, {
        "exp(x)": torch.exp, "log(abs(x) + 0.5)": lambda x: torch.log(torch.abs(x) + 0.5),
        "sqrt(abs(x) + 0.5)": lambda x: torch.sqrt(torch.abs(x) + 0.5), "tanh(x)": torch.tanh,
        "sigmoid(x)": sigmoid, "softplus(x)": softplus, "sin(x)": torch.sin, "cos(x)": torch.cos,
        "gelu(x)": gelu, "x ^ 3": lambda x: x**3, "(abs(x) + 0.5) ^ -1.5": lambda x: (torch.abs(x) + 0.5) ** -1.5,
        "1 / x": lambda x: 1 / x, "x * x * x": lambda x: x * x * x,
    })


@value("gr2_kinked_functions", grad_inputs=True)
def _(r):
    return _second_order_unary(r, {
        "relu(x) * x": lambda x: relu(x) * x, "abs(x) * x": lambda x: torch.abs(x) * x,
        "leaky_relu(x, alpha=0.1) * x": lambda x: leaky_relu(x, 0.1) * x,
        "maximum(x, 0.3) ^ 2": lambda x: maximum(x, 0.3) ** 2, "minimum(x * x, 0.5) * x": lambda x: minimum(x * x, 0.5) * x,
    })


@value("gr2_reductions_and_softmax", grad_inputs=True)
def _(r):
    src = """
    model g2 {
        param x: [3, 4]
        input w: [3, 4]
        input v: [3, 4]
        output a = grad(sum(max(x, axis=1) ^ 2), x)
        output b = grad(sum(logsumexp(x, axis=0) * sum(w, axis=0)), x)
        output c = grad(sum(softmax(x) * w), x)
        output d = grad(sum(log_softmax(x, axis=0) * w), x)
        output e = grad(mean(x) * sum(x * w), x)
        output f = grad(max(x) * logsumexp(x), x)
        loss = sum((a + b + c + d + e + f) * v)
    }
    """
    P = {"x": r.u(3, 4, lo=-2, hi=2)}
    I = {"w": r.u(3, 4), "v": r.u(3, 4)}

    def f(P, I):
        x, w = P["x"], I["w"]
        o = dict(a=grad(rsum(rmax(x, 1) ** 2), x), b=grad(rsum(logsumexp(x, 0) * rsum(w, 0)), x),
                 c=grad(rsum(softmax(x) * w), x), d=grad(rsum(log_softmax(x, 0) * w), x),
                 e=grad(rmean(x) * rsum(x * w), x), f=grad(rmax(x) * logsumexp(x), x))
        return o, rsum(sum(o.values()) * I["v"])

    return src, P, I, f


@value("gr2_losses_and_broadcast", grad_inputs=True)
def _(r):
    src = """
    model g2 {
        input x: [N, 3]
        input y: i32[N]
        input t: [N, 3]
        param W: [3, 3]
        param b: [3]
        param c: [N, 1]
        let z = x @ W + b * c
        let l1 = cross_entropy(z, y)
        let l2 = cross_entropy(z, t)
        let l3 = mse(z, t)
        output gW = grad(l1 + l2, W)
        output gb = grad(l3, b)
        output gc = grad(l1 * l3, c)
        loss = sum(gW ^ 2) + sum(gb * gb) + sum(gc) + l2
    }
    """
    P = {"W": r.u(3, 3), "b": r.u(3), "c": r.u(4, 1)}
    I = {"x": r.u(4, 3), "y": r.labels(4, 3), "t": r.probs(4, 3)}

    def f(P, I):
        z = I["x"] @ P["W"] + P["b"] * P["c"]
        l1 = cross_entropy(z, I["y"])
        l2 = cross_entropy(z, I["t"])
        l3 = mse(z, I["t"])
        o = dict(gW=grad(l1 + l2, P["W"]), gb=grad(l3, P["b"]), gc=grad(l1 * l3, P["c"]))
        return o, rsum(o["gW"] ** 2) + rsum(o["gb"] ** 2) + rsum(o["gc"]) + l2

    return src, P, I, f


@value("gr2_reshape_transpose_matmul", grad_inputs=True)
def _(r):
    src = """
    model g2 {
        input x: [2, 6]
        param W: [3, 4]
        param v: [4]
        let h = reshape(x, [4, 3]) @ W
        let e = sum(tanh(h.T) * reshape(v, [4, 1])) + sum(h @ v)
        output gW = grad(e, W)
        output gx = grad(e, x)
        loss = sum(gW * gW) + sum(gx ^ 2) + sum(grad(e, v) ^ 2)
    }
    """
    P = {"W": r.u(3, 4), "v": r.u(4)}
    I = {"x": r.u(2, 6)}

    def f(P, I):
        x, W, v = I["x"], P["W"], P["v"]
        h = x.reshape(4, 3) @ W
        e = rsum(torch.tanh(h.T) * v.reshape(4, 1)) + rsum(h @ v)
        o = dict(gW=grad(e, W), gx=grad(e, x))
        return o, rsum(o["gW"] ** 2) + rsum(o["gx"] ** 2) + rsum(grad(e, v) ** 2)

    return src, P, I, f


@value("gr_param_used_twice_in_matmul")
def _(r):
    src = """
    model sq {
        param W: [3, 3]
        input x: [3]
        let e = sum((W @ W) @ x)
        output g = grad(e, W)
        loss = e + sum(g * W)
    }
    """
    P = {"W": r.u(3, 3)}
    I = {"x": r.u(3)}

    def f(P, I):
        W = P["W"]
        e = rsum((W @ W) @ I["x"])
        g = grad(e, W)
        return {"g": g}, e + rsum(g * W)

    return src, P, I, f


# =======================================================================================
# Outputs without loss, several models, size variables


@value("fwd_outputs_without_loss")
def _(r):
    src = """
    // Inference only: no loss, so no gradients.
    model infer {
        input x: [N, 3]
        param W: [3, 2]
        param b: [2]
        let h = x @ W + b
        output h
        output p = softmax(h)
        output x
        output W
        output n = sum(h * h, axis=1)
    }
    """
    P = {"W": r.u(3, 2), "b": r.u(2)}
    I = {"x": r.u(4, 3)}

    def f(P, I):
        h = I["x"] @ P["W"] + P["b"]
        return {"h": h, "p": softmax(h), "x": I["x"], "W": P["W"], "n": rsum(h * h, 1)}, None

    return src, P, I, f


_THREE_MODELS = """
fn dense(x, W, b) = x @ W + b

model first {
    input x: [N, 3]
    param W: [3, 2]
    output y = dense(x, W, 0)
    loss = sum(y)
}

model second {
    input x: [N, 3]
    input t: [N, 2]
    param W: [3, 2]
    param b: [2]
    output y = sigmoid(dense(x, W, b))
    loss = mse(y, t)
}

model third {
    input z: [4]
    output q = z * 2
}
"""


@value("sel_second_of_three_models", model="second", grad_inputs=True)
def _(r):
    P = {"W": r.u(3, 2), "b": r.u(2)}
    I = {"x": r.u(5, 3), "t": r.u(5, 2)}

    def f(P, I):
        y = sigmoid(I["x"] @ P["W"] + P["b"])
        return {"y": y}, mse(y, I["t"])

    return _THREE_MODELS, P, I, f


@value("sel_first_of_three_models", model="first")
def _(r):
    P = {"W": r.u(3, 2)}
    I = {"x": r.u(2, 3)}

    def f(P, I):
        y = I["x"] @ P["W"]
        return {"y": y}, rsum(y)

    return _THREE_MODELS, P, I, f


@value("sel_third_no_loss", model="third")
def _(r):
    I = {"z": r.u(4)}
    return _THREE_MODELS, {}, I, lambda P, I: ({"q": I["z"] * 2}, None)


@value("sz_shared_size_variables", grad_inputs=True)
def _(r):
    src = """
    model sz {
        input x: [N, D]
        input q: [B, D]
        input t: [N]
        input y: i32[B]
        param w: [D]
        param W: [D, C]
        let s = x @ w - t
        let lg = q @ W
        output s
        output lg
        loss = mean(s ^ 2) + cross_entropy(lg, y)
    }
    """
    P = {"w": r.u(3), "W": r.u(3, 4)}
    I = {"x": r.u(5, 3), "q": r.u(2, 3), "t": r.u(5), "y": r.labels(2, 4)}

    def f(P, I):
        s = I["x"] @ P["w"] - I["t"]
        lg = I["q"] @ P["W"]
        return {"s": s, "lg": lg}, rmean(s**2) + cross_entropy(lg, I["y"])

    return src, P, I, f


@value("sz_rank3_size_variables", grad_inputs=True)
def _(r):
    src = """
    model r3 {
        input x: [B, T, D]
        input m: [B, T, 1]
        param g: [D]
        let h = x * g * m
        output pooled = sum(h, axis=1) / sum(m, axis=1)
        output attn = softmax(sum(h, axis=-1), axis=1)
        loss = mean(pooled ^ 2) + sum(attn * sum(x, axis=2))
    }
    """
    P = {"g": r.u(4)}
    I = {"x": r.u(2, 3, 4), "m": np.array([[[1], [1], [0]], [[1], [0.5], [1]]], np.float32)}

    def f(P, I):
        x, m = I["x"], I["m"]
        h = x * P["g"] * m
        pooled = rsum(h, 1) / rsum(m, 1)
        attn = softmax(rsum(h, -1), 1)
        return {"pooled": pooled, "attn": attn}, rmean(pooled**2) + rsum(attn * rsum(x, 2))

    return src, P, I, f


# =======================================================================================
# Lexical forms and initialisers


@value("lex_commas_semicolons_comments")
def _(r):
    src = """
    // A file comment.
    fn f(a, b) { let c = a * b; return c + a; }   // trailing comment
    model lex {   // after the brace
        input x : f32 [ N , 3 , ] ;
        input y: i32[N,];
        param W: [3, 2,] = glorot_uniform;  // the initialiser is ignored: params are given
        param b: [2]
        let h =     // an expression across lines
            f(x @ W,
              b,)   // trailing comma in a call
            + 1e-3;
        output h;
        loss = cross_entropy(h, y,) + 0 * sum(sum(h, axis=1, keepdims=true,));
    }
    """
    P = {"W": r.u(3, 2), "b": r.u(2)}
    I = {"x": r.u(3, 3), "y": r.labels(3, 2)}

    def f(P, I):
        a = I["x"] @ P["W"]
        h = a * P["b"] + a + 1e-3
        return {"h": h}, cross_entropy(h, I["y"]) + 0 * rsum(rsum(h, 1, True))

    return src, P, I, f


@value("lex_one_line")
def _(r):
    src = "model one { param x: [3]; input y: [3]; let d = x - y; output d; loss = sum(d * d) }"
    P = {"x": r.u(3)}
    I = {"y": r.u(3)}

    def f(P, I):
        d = P["x"] - I["y"]
        return {"d": d}, rsum(d * d)

    return src, P, I, f


@value("lex_initialisers_parse")
def _(r):
    # Every initialiser form; the values come from the params file.
    src = """
    model inits {
        param a: [2, 3] = he_normal
        param b: [2, 3] = he_uniform
        param c: [2, 3] = glorot_normal
        param d: [2, 3] = glorot_uniform
        param e: [3] = zeros
        param f: [3] = ones
        param g: [3] = 0.5
        param h: [3] = -1
        param i: [3] = normal(std=0.1)
        param j: [3] = normal(mean=1, std=2)
        param k: [3] = uniform(-0.1, 0.1)
        param l: [3] = -2.5e-1
        loss = sum(a * b - c * d) + sum(e + f * g - h * i + j * k * l)
    }
    """
    P = {n: r.u(2, 3) for n in "abcd"}
    P.update({n: r.u(3) for n in "efghijkl"})

    def f(P, I):
        p = P
        return {}, rsum(p["a"] * p["b"] - p["c"] * p["d"]) + rsum(
            p["e"] + p["f"] * p["g"] - p["h"] * p["i"] + p["j"] * p["k"] * p["l"])

    return src, P, {}, f


# =======================================================================================
# Small realistic models


@value("real_mlp_layernorm_gelu")
def _(r):
    src = """
    fn dense(x, W, b) = x @ W + b
    fn layernorm(x, g, b) {
        let m = mean(x, axis=1, keepdims=true)
        let c = x - m
        return c / sqrt(mean(c * c, axis=1, keepdims=true) + 1e-5) * g + b
    }
    model mlp {
        input x: [N, 5]
        input y: i32[N]
        param W1: [5, 6] = he_normal
        param b1: [6]
        param g: [6] = ones
        param beta: [6]
        param W2: [6, 3]
        param b2: [3]
        let h = gelu(layernorm(dense(x, W1, b1), g, beta))
        output logits = dense(h, W2, b2)
        output probs = softmax(logits, axis=1)
        loss = cross_entropy(logits, y) + 1e-2 * (sum(W1 ^ 2) + sum(W2 ^ 2))
    }
    """
    P = {"W1": r.u(5, 6), "b1": r.u(6), "g": r.u(6, lo=0.5, hi=1.5), "beta": r.u(6), "W2": r.u(6, 3), "b2": r.u(3)}
    I = {"x": r.u(4, 5, lo=-2, hi=2), "y": r.labels(4, 3)}

    def f(P, I):
        h0 = I["x"] @ P["W1"] + P["b1"]
        m = rmean(h0, 1, True)
        c = h0 - m
        ln = c / torch.sqrt(rmean(c * c, 1, True) + 1e-5) * P["g"] + P["beta"]
        lg = gelu(ln) @ P["W2"] + P["b2"]
        loss = cross_entropy(lg, I["y"]) + 1e-2 * (rsum(P["W1"] ** 2) + rsum(P["W2"] ** 2))
        return {"logits": lg, "probs": softmax(lg, 1)}, loss

    return src, P, I, f


@value("real_autoencoder", grad_inputs=True)
def _(r):
    src = """
    model ae {
        input x: [N, 6]
        param We: [6, 2]
        param be: [2]
        param Wd: [2, 6]
        param bd: [6]
        let z = tanh(x @ We + be)
        output rec = sigmoid(z @ Wd + bd)
        output code = z
        loss = mse(rec, x) + 0.01 * mean(abs(z))
    }
    """
    P = {"We": r.u(6, 2), "be": r.u(2), "Wd": r.u(2, 6), "bd": r.u(6)}
    I = {"x": r.u(4, 6, lo=0, hi=1)}

    def f(P, I):
        z = torch.tanh(I["x"] @ P["We"] + P["be"])
        rec = sigmoid(z @ P["Wd"] + P["bd"])
        return {"rec": rec, "code": z}, mse(rec, I["x"]) + 0.01 * rmean(torch.abs(z))

    return src, P, I, f


@value("real_logistic_regression_soft")
def _(r):
    src = """
    model logreg {
        input x: [N, 4]
        input t: [N]
        param w: [4]
        param b: []
        let p = sigmoid(x @ w + b)
        output p
        loss = -mean(t * log(p) + (1 - t) * log(1 - p))
    }
    """
    P = {"w": r.u(4), "b": np.array(0.1, np.float32)}
    I = {"x": r.u(6, 4, lo=-2, hi=2), "t": r.ints(6, hi=2)}

    def f(P, I):
        p = sigmoid(I["x"] @ P["w"] + P["b"])
        t = I["t"]
        return {"p": p}, -rmean(t * torch.log(p) + (1 - t) * torch.log(1 - p))

    return src, P, I, f


@value("real_residual_rank3_softmax_pool", grad_inputs=True)
def _(r):
    src = """
    fn block(x, W) = x + relu(x @ W)
    model res {
        input x: [T, 3]
        input y: i32[1]
        param W: [3, 3]
        param V: [3, 2]
        let h = block(block(x, W), W)
        output pooled = reshape(max(h, axis=0) @ V, [1, 2])
        loss = cross_entropy(pooled, y)
    }
    """
    P = {"W": r.away(3, 3), "V": r.u(3, 2)}
    I = {"x": r.u(4, 3), "y": np.array([1], np.int32)}

    def f(P, I):
        W = P["W"]

        def block(x):
            return x + relu(x @ W)

        h = block(block(I["x"]))
        pooled = (rmax(h, 0) @ P["V"]).reshape(1, 2)
        return {"pooled": pooled}, cross_entropy(pooled, I["y"])

    return src, P, I, f


# =======================================================================================
# Round 2: forms the cases above do not reach


@value("r2_unary_minus_chains", grad_inputs=True)
def _(r):
    src = """
    model neg2 {
        input x: [4]
        param s: [4]
        output a = --x
        output b = - - -x * s
        output c = -x ^ -2
        output d = x * -s
        output e = x - -s - - -1
        output f = -(-(x)) ^ 2
        output g = 2 ^ -1 * x
        output h = x ^ 2 ^ -1 * 0 + -s ^ 2
        loss = sum(a * s) + sum(b) + sum(c * s) + sum(d) + sum(e * e) + sum(f * s) + sum(g * s) + sum(h * x)
    }
    """
    P = {"s": r.away(4)}
    I = {"x": r.away(4, lo=0.5)}
    I["x"] = np.abs(I["x"])

    def f(P, I):
        x, s = I["x"], P["s"]
        o = dict(a=x, b=-x * s, c=-(x**-2), d=x * -s, e=x + s - 1, f=-(x**2) * -1 * -1, g=0.5 * x,
                 h=x**0.5 * 0 - s**2)
        o["f"] = -(x**2)
        loss = (rsum(o["a"] * s) + rsum(o["b"]) + rsum(o["c"] * s) + rsum(o["d"]) + rsum(o["e"] ** 2)
                + rsum(o["f"] * s) + rsum(o["g"] * s) + rsum(o["h"] * x))
        return o, loss

    return src, P, I, f


@value("r2_integer_literals_everywhere", grad_inputs=True)
def _(r):
    src = """
    model ints {
        input x: [2, 3]
        param w: [3]
        output a = 2 * x + x * 2 - 3 / x + x / 4
        output b = x ^ 2 + x ^ 2.0 - x ^ 3 * 1
        output c = (1 + w) * (2 - x) / (3 * 1)
        output d = 10 - x - 1 - 1
        output e = 1 / 2 / 2 * x
        loss = sum(a * w) + sum(b) + sum(c * c) + sum(d * w) + sum(e)
    }
    """
    P = {"w": r.u(3)}
    I = {"x": r.away(2, 3, lo=0.5)}

    def f(P, I):
        x, w = I["x"], P["w"]
        o = dict(a=2 * x + x * 2 - 3 / x + x / 4, b=x**2 + x**2 - x**3, c=(1 + w) * (2 - x) / 3, d=10 - x - 2,
                 e=0.25 * x)
        return o, rsum(o["a"] * w) + rsum(o["b"]) + rsum(o["c"] ** 2) + rsum(o["d"] * w) + rsum(o["e"])

    return src, P, I, f


@value("r2_pow_exact_zeros_and_integral_floats", grad_inputs=True)
def _(r):
    # x = 0 exactly: x^2, x^3, x^1, x^1.5, x^0 have finite values and derivatives;
    # exponents that are integral constant expressions work on negative bases.
    src = """
    model pz {
        param x: [6]
        input w: [6]
        output a = x ^ 2
        output b = x ^ 3
        output c = x ^ 1
        output d = abs(x) ^ 1.5
        output e = x ^ 0
        output f = x ^ (6 / 2)
        output g = x ^ (2 ^ 2)
        output h = x ^ -(-2)
        output i = x ^ (1.5 * 2)
        loss = sum((a + b + c + d + e + f + g + h + i) * w)
    }
    """
    P = {"x": np.array([0, -1.5, 0, 0.75, -0.5, 2.0], np.float32)}
    I = {"w": r.u(6)}

    def f(P, I):
        x = P["x"]
        o = dict(a=x**2, b=x**3, c=x**1, d=torch.abs(x) ** 1.5, e=x**0, f=x**3, g=x**4, h=x**2, i=x**3)
        return o, rsum(sum(o.values()) * I["w"])

    return src, P, I, f


@value("r2_pow_second_derivative_at_zero")
def _(r):
    src = """
    model pz2 {
        param x: [4]
        output g2 = grad(sum(x ^ 2), x)
        output g3 = grad(sum(grad(sum(x ^ 3), x)), x)
        output g4 = grad(sum(grad(sum(abs(x) ^ 3.5), x)), x)
        loss = sum(g2 + g3 + g4)
    }
    """
    P = {"x": np.array([0, -1.0, 0.5, 0], np.float32)}

    def f(P, I):
        x = P["x"]
        g2 = grad(rsum(x**2), x)
        g3 = grad(rsum(grad(rsum(x**3), x)), x)
        g4 = grad(rsum(grad(rsum(torch.abs(x) ** 3.5), x)), x)
        return {"g2": g2, "g3": g3, "g4": g4}, rsum(g2 + g3 + g4)

    return src, P, {}, f


@value("r2_transpose_postfix_forms", grad_inputs=True)
def _(r):
    # .T binds tighter than ^ and unary minus; it applies to calls and parenthesised exprs.
    src = """
    fn id(a) = a
    model tt {
        input A: [2, 3]
        param B: [2, 3]
        output a = -A.T ^ 2
        output b = id(A).T @ B
        output c = (A + B).T.T * B
        output d = transpose(A - B).T
        output e = exp(B).T - (A * 2).T
        output f = (A @ B.T).T
        loss = sum(a) + sum(b * b) + sum(c) + sum(d * d) + sum(e * A.T) + sum(f)
    }
    """
    P = {"B": r.u(2, 3)}
    I = {"A": r.u(2, 3)}

    def f(P, I):
        A, B = I["A"], P["B"]
        o = dict(a=-(A.T**2), b=A.T @ B, c=(A + B) * B, d=A - B, e=torch.exp(B).T - (A * 2).T, f=(A @ B.T).T)
        return o, rsum(o["a"]) + rsum(o["b"] ** 2) + rsum(o["c"]) + rsum(o["d"] ** 2) + rsum(o["e"] * A.T) + rsum(o["f"])

    return src, P, I, f


@value("r2_keepdims_positional_and_negative", grad_inputs=True)
def _(r):
    src = """
    model kd {
        input x: [2, 3, 4]
        param w: [4]
        output a = sum(x, -1, true)
        output b = mean(x, 1, true)
        output c = max(x, -3, true)
        output d = logsumexp(x, 0, false)
        output e = softmax(x, 1)
        output f = log_softmax(x, -2)
        output g = logsumexp(x)
        output h = logsumexp(x, keepdims=true)
        output i = mean(x, keepdims=true)
        output j = max(x, keepdims=true)
        loss = sum(a * b * w) + sum(c * w) + sum(d * w) + sum(e * f * w) + g + sum(h * i * j)
    }
    """
    P = {"w": r.u(4)}
    I = {"x": r.u(2, 3, 4, lo=-2, hi=2)}

    def f(P, I):
        x, w = I["x"], P["w"]
        o = dict(a=rsum(x, -1, True), b=rmean(x, 1, True), c=rmax(x, -3, True), d=logsumexp(x, 0), e=softmax(x, 1),
                 f=log_softmax(x, -2), g=logsumexp(x), h=logsumexp(x, keepdims=True), i=rmean(x, keepdims=True),
                 j=rmax(x, keepdims=True))
        loss = (rsum(o["a"] * o["b"] * w) + rsum(o["c"] * w) + rsum(o["d"] * w) + rsum(o["e"] * o["f"] * w) + o["g"]
                + rsum(o["h"] * o["i"] * o["j"]))
        return o, loss

    return src, P, I, f


@value("r2_rank4_reductions_and_softmax", grad_inputs=True)
def _(r):
    src = """
    model r4 {
        input x: [2, 3, 2, 4]
        param g: [3, 1, 4]
        let y = x * g
        output a = sum(y, axis=1)
        output b = max(y, axis=-2, keepdims=true)
        output c = softmax(y, axis=1)
        output d = logsumexp(y, axis=3)
        output e = mean(y, axis=-4)
        loss = sum(a * a) + sum(b) + sum(c * x) + sum(d) + sum(e ^ 2)
    }
    """
    P = {"g": r.u(3, 1, 4)}
    I = {"x": r.u(2, 3, 2, 4, lo=-2, hi=2)}

    def f(P, I):
        y = I["x"] * P["g"]
        o = dict(a=rsum(y, 1), b=rmax(y, -2, True), c=softmax(y, 1), d=logsumexp(y, 3), e=rmean(y, -4))
        return o, rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"] * I["x"]) + rsum(o["d"]) + rsum(o["e"] ** 2)

    return src, P, I, f


@value("r2_rank4_broadcast_size_variables", grad_inputs=True)
def _(r):
    src = """
    model b4 {
        input x: [N, 1, 3, 1]
        input y: [2, 1, 5]
        param p: [1, 2, 1, 5]
        param q: [3, 1]
        output a = x * y + p
        output b = x - q
        output c = (x + p) / (2 + y * y)
        loss = sum(a * a) + sum(b) + sum(c)
    }
    """
    P = {"p": r.u(1, 2, 1, 5), "q": r.u(3, 1)}
    I = {"x": r.u(3, 1, 3, 1), "y": r.u(2, 1, 5)}

    def f(P, I):
        x, y, p, q = I["x"], I["y"], P["p"], P["q"]
        o = dict(a=x * y + p, b=x - q, c=(x + p) / (2 + y * y))
        return o, rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"])

    return src, P, I, f


@value("r2_size_one_dims", grad_inputs=True)
def _(r):
    src = """
    model ones {
        input x: [1, 1]
        input v: [N, 1]
        param b: [1]
        param W: [1, 3]
        param k: [1, 1, 1]
        output a = softmax(v, axis=1)
        output c = log_softmax(v, axis=-1)
        output d = logsumexp(v, axis=1)
        output e = max(v, axis=1, keepdims=true)
        output f = x @ W + b
        output g = v @ W * k
        output h = W.T @ x
        output i = sum(x, axis=0) + mean(v, axis=1)
        loss = sum(a) + sum(c) + sum(d * d) + sum(e) + sum(f * f) + sum(g) + sum(h) + sum(i)
    }
    """
    P = {"b": r.u(1), "W": r.u(1, 3), "k": r.u(1, 1, 1)}
    I = {"x": r.u(1, 1), "v": r.u(4, 1)}

    def f(P, I):
        x, v, b, W, k = I["x"], I["v"], P["b"], P["W"], P["k"]
        o = dict(a=softmax(v, 1), c=log_softmax(v, -1), d=logsumexp(v, 1), e=rmax(v, 1, True), f=x @ W + b,
                 g=(v @ W) * k, h=W.T @ x, i=rsum(x, 0) + rmean(v, 1))
        loss = (rsum(o["a"]) + rsum(o["c"]) + rsum(o["d"] ** 2) + rsum(o["e"]) + rsum(o["f"] ** 2) + rsum(o["g"])
                + rsum(o["h"]) + rsum(o["i"]))
        return o, loss

    return src, P, I, f


@value("r2_labels_bind_size_variable", grad_inputs=True)
def _(r):
    # The labels are declared first; N is bound by them and by x together.
    src = """
    model lab {
        input y: i32[N]
        input x: [N, C]
        param s: [C]
        loss = cross_entropy(x * s, y) + 0.01 * sum(s ^ 2)
    }
    """
    P = {"s": r.u(4)}
    I = {"y": r.labels(5, 4), "x": r.u(5, 4)}

    def f(P, I):
        return {}, cross_entropy(I["x"] * P["s"], I["y"]) + 0.01 * rsum(P["s"] ** 2)

    return src, P, I, f


@value("r2_labels_reshaped_logits")
def _(r):
    # Logits reach [N, C] through reshape with a size variable and -1.
    src = """
    model rl {
        input x: [N, 2, 3]
        input y: i32[N]
        param W: [6, 4]
        let h = reshape(x, [N, -1]) @ W
        output p = softmax(h)
        loss = cross_entropy(h, y)
    }
    """
    P = {"W": r.u(6, 4)}
    I = {"x": r.u(3, 2, 3), "y": r.labels(3, 4)}

    def f(P, I):
        h = I["x"].reshape(3, -1) @ P["W"]
        return {"p": softmax(h)}, cross_entropy(h, I["y"])

    return src, P, I, f


@value("r2_extreme_logits_log_softmax", atol=1e-3)
def _(r):
    # Stable forms must not produce -inf or NaN where the exact value is finite.
    src = """
    model ext {
        param z: [3, 4]
        input w: [3, 4]
        output ls = log_softmax(z)
        output ls0 = log_softmax(z, axis=0)
        output sm = softmax(z)
        output lse = logsumexp(z, axis=1)
        output lsa = logsumexp(z)
        loss = sum(ls * w) + sum(ls0 * w) + sum(sm * w) + sum(lse) + lsa
    }
    """
    z = np.array([[1e4, 0, -1e4, 5], [-1e4, -1e4, -1e4, -1e4], [3, -1e4, 3, 2]], np.float32)
    P = {"z": z}
    I = {"w": r.u(3, 4)}

    def f(P, I):
        z, w = P["z"], I["w"]
        o = dict(ls=log_softmax(z), ls0=log_softmax(z, 0), sm=softmax(z), lse=logsumexp(z, 1), lsa=logsumexp(z))
        return o, rsum(o["ls"] * w) + rsum(o["ls0"] * w) + rsum(o["sm"] * w) + rsum(o["lse"]) + o["lsa"]

    return src, P, I, f


@value("r2_extreme_logits_cross_entropy_soft_zeros", atol=1e-3)
def _(r):
    # Soft targets with exact zeros where the logit is -1e4: 0 * log_softmax is 0, not NaN.
    src = """
    model ext {
        param z: [3, 3]
        input t: [3, 3]
        input y: i32[3]
        loss = cross_entropy(z, t) + cross_entropy(z * 0.5, y)
    }
    """
    z = np.array([[1e4, -1e4, 0], [-1e4, 2, 1], [0, 0, -1e4]], np.float32)
    t = np.array([[1, 0, 0], [0, 0.5, 0.5], [0.25, 0.75, 0]], np.float32)
    P = {"z": z}
    I = {"t": t, "y": np.array([0, 1, 1], np.int32)}

    def f(P, I):
        return {}, cross_entropy(P["z"], I["t"]) + cross_entropy(P["z"] * 0.5, I["y"])

    return src, P, I, f


@value("r2_extreme_logits_second_order", atol=1e-3)
def _(r):
    src = """
    model ext2 {
        param z: [2, 3]
        input w: [2, 3]
        input y: i32[2]
        let ce = cross_entropy(z, y)
        output g = grad(ce, z)
        output h = grad(sum(grad(sum(logsumexp(z, axis=1)), z) * w), z)
        output k = grad(sum(softmax(z, axis=0) * w), z)
        loss = ce + sum(g ^ 2) + sum(h * w) + sum(k)
    }
    """
    P = {"z": np.array([[1e4, -1e4, 1e4], [0.5, -1e4, -0.5]], np.float32)}
    I = {"w": r.u(2, 3), "y": np.array([1, 0], np.int32)}

    def f(P, I):
        z, w = P["z"], I["w"]
        ce = cross_entropy(z, I["y"])
        g = grad(ce, z)
        h = grad(rsum(grad(rsum(logsumexp(z, 1)), z) * w), z)
        k = grad(rsum(softmax(z, 0) * w), z)
        return {"g": g, "h": h, "k": k}, ce + rsum(g**2) + rsum(h * w) + rsum(k)

    return src, P, I, f


@value("r2_saturating_unaries", grad_inputs=True)
def _(r):
    # softplus, sigmoid, tanh, gelu at +-50: finite values and slopes in f32.
    src = """
    model sat {
        input x: [6]
        param s: [6]
        output sp = softplus(x * s)
        output sg = sigmoid(x * s)
        output th = tanh(x * s)
        output ge = gelu(x * s)
        output lr = leaky_relu(x * s)
        loss = sum(sp + sg + th + ge + lr)
    }
    """
    P = {"s": np.ones(6, np.float32)}
    I = {"x": np.array([50, -50, 100, -100, 20, -20], np.float32)}

    def f(P, I):
        y = I["x"] * P["s"]
        o = dict(sp=softplus(y), sg=sigmoid(y), th=torch.tanh(y), ge=gelu(y), lr=leaky_relu(y))
        return o, rsum(o["sp"] + o["sg"] + o["th"] + o["ge"] + o["lr"])

    return src, P, I, f


@value("r2_sqrt_log_small_positive", grad_inputs=True)
def _(r):
    src = """
    model small {
        input x: [4]
        param e: [4]
        output a = sqrt(x + e)
        output b = log(x + e)
        output c = sqrt(x * x + 1e-8)
        loss = sum(a) + sum(b) + sum(c)
    }
    """
    P = {"e": np.array([1e-6, 1e-4, 1e-2, 1], np.float32)}
    I = {"x": np.array([0, 0, 0, 0], np.float32)}

    def f(P, I):
        x, e = I["x"], P["e"]
        o = dict(a=torch.sqrt(x + e), b=torch.log(x + e), c=torch.sqrt(x * x + 1e-8))
        return o, rsum(o["a"]) + rsum(o["b"]) + rsum(o["c"])

    return src, P, I, f


@value("r2_grad_inside_fn", grad_inputs=True)
def _(r):
    src = """
    fn sq_grad(e, v) = sum(grad(e, v) ^ 2)
    fn pen(x, W) {
        let e = sum(tanh(x @ W))
        let g = grad(e, W)
        return sum(g * g) + sq_grad(e, x)
    }
    model gf {
        input x: [3, 2]
        param W: [2, 4]
        output p = pen(x, W)
        loss = p + sum(W ^ 2)
    }
    """
    P = {"W": r.u(2, 4)}
    I = {"x": r.u(3, 2)}

    def f(P, I):
        x, W = I["x"], P["W"]
        e = rsum(torch.tanh(x @ W))
        p = rsum(grad(e, W) ** 2) + rsum(grad(e, x) ** 2)
        return {"p": p}, p + rsum(W**2)

    return src, P, I, f


@value("r2_grad_third_order_input", grad_inputs=True)
def _(r):
    src = """
    model g3 {
        input x: [3]
        param a: [3]
        let e = sum(a * x ^ 4 + sin(x) * a)
        let g1 = grad(e, x)
        let g2 = grad(sum(g1), x)
        output g3 = grad(sum(g2 * a), x)
        loss = sum(g3) + sum(g2 * g1)
    }
    """
    P = {"a": r.u(3)}
    I = {"x": r.away(3)}

    def f(P, I):
        x, a = I["x"], P["a"]
        e = rsum(a * x**4 + torch.sin(x) * a)
        g1 = grad(e, x)
        g2 = grad(rsum(g1), x)
        g3 = grad(rsum(g2 * a), x)
        return {"g3": g3}, rsum(g3) + rsum(g2 * g1)

    return src, P, I, f


@value("r2_grad_unused_variables_zero", grad_inputs=True)
def _(r):
    # A param and an input the loss does not depend on still get (zero) gradients;
    # grad of an expression that does not reach the variable is zeros.
    src = """
    model unused {
        input x: [2, 3]
        input u: [4]
        input y: i32[2]
        param W: [3, 3]
        param V: [5, 2]
        output gz = grad(sum(x @ W), u)
        output gv = grad(cross_entropy(x @ W, y), V)
        loss = cross_entropy(x @ W, y)
    }
    """
    P = {"W": r.u(3, 3), "V": r.u(5, 2)}
    I = {"x": r.u(2, 3), "u": r.u(4), "y": r.labels(2, 3)}

    def f(P, I):
        return {"gz": torch.zeros(4), "gv": torch.zeros(5, 2)}, cross_entropy(I["x"] @ P["W"], I["y"])

    return src, P, I, f


@value("r2_grad_constant_loss")
def _(r):
    src = """
    model cl {
        param W: [2, 2]
        output o = W * 0
        loss = 3 + 0 * sum(W)
    }
    """
    P = {"W": r.u(2, 2)}

    def f(P, I):
        W = P["W"]
        return {"o": W * 0}, 3 + 0 * rsum(W)

    return src, P, {}, f


@value("r2_grad_mixed_params_cross")
def _(r):
    # grad of one param's gradient with respect to another param.
    src = """
    model cross {
        input x: [4, 3]
        param W1: [3, 3]
        param W2: [3, 2]
        let e = sum(sigmoid(tanh(x @ W1) @ W2))
        let g1 = grad(e, W1)
        output m = grad(sum(g1 * W1), W2)
        loss = e + sum(m * W2) + mean(g1)
    }
    """
    P = {"W1": r.u(3, 3), "W2": r.u(3, 2)}
    I = {"x": r.u(4, 3)}

    def f(P, I):
        W1, W2 = P["W1"], P["W2"]
        e = rsum(sigmoid(torch.tanh(I["x"] @ W1) @ W2))
        g1 = grad(e, W1)
        m = grad(rsum(g1 * W1), W2)
        return {"m": m}, e + rsum(m * W2) + rmean(g1)

    return src, P, I, f


@value("r2_grad_of_outputs_and_max", grad_inputs=True)
def _(r):
    src = """
    model go {
        input x: [3, 4]
        param w: [4]
        output h = x * w
        output m = max(h, axis=1)
        output gm = grad(sum(m), w)
        output gx = grad(max(h) + sum(m), x)
        loss = sum(gm * w) + sum(gx * x) + sum(m)
    }
    """
    P = {"w": r.away(4)}
    I = {"x": r.ints(3, 4, lo=-2, hi=3)}

    def f(P, I):
        x, w = I["x"], P["w"]
        h = x * w
        m = rmax(h, 1)
        gm = grad(rsum(m), w)
        gx = grad(rmax(h) + rsum(m), x)
        return {"h": h, "m": m, "gm": gm, "gx": gx}, rsum(gm * w) + rsum(gx * x) + rsum(m)

    return src, P, I, f


def _second_order_vector(r, exprs):
    """Second derivatives of row functions of a [3, 4] param."""
    src = "model g2v {\n    param x: [3, 4]\n    input w: [3, 4]\n    input v: [3, 4]\n    input y: i32[3]\n"
    src += "    input t: [3, 4]\n"
    for i, e in enumerate(exprs):
        src += f"    output g{i} = grad({e}, x)\n"
    src += "    loss = " + " + ".join(f"sum(g{i} * v)" for i in range(len(exprs))) + "\n}\n"
    P = {"x": r.u(3, 4, lo=-2, hi=2)}
    I = {"w": r.u(3, 4), "v": r.u(3, 4), "y": r.labels(3, 4), "t": r.probs(3, 4)}

    def f(P, I):
        x = P["x"]
        o = {f"g{i}": grad(fn(x, I), x) for i, fn in enumerate(exprs.values())}
        return o, sum(rsum(o[f"g{i}"] * I["v"]) for i in range(len(exprs)))

    return src, P, I, f


@value("r2_second_order_losses")
def _(r):
    return _second_order_vector(r, {
        "sum(grad(cross_entropy(x, y), x) * w)": lambda x, I: rsum(grad(cross_entropy(x, I["y"]), x) * I["w"]),
        "sum(grad(cross_entropy(x, t), x) * w)": lambda x, I: rsum(grad(cross_entropy(x, I["t"]), x) * I["w"]),
        "sum(grad(mse(tanh(x), w), x) ^ 2)": lambda x, I: rsum(grad(mse(torch.tanh(x), I["w"]), x) ** 2),
        "sum(grad(sum(log_softmax(x, axis=0) * w), x) * w)":
            lambda x, I: rsum(grad(rsum(log_softmax(x, 0) * I["w"]), x) * I["w"]),
        "sum(grad(sum(logsumexp(x, axis=-1)), x) ^ 2)": lambda x, I: rsum(grad(rsum(logsumexp(x, -1)), x) ** 2),
        "sum(grad(mean(sqrt(x * x + 1)), x) * w)": lambda x, I: rsum(grad(rmean(torch.sqrt(x * x + 1)), x) * I["w"]),
        "sum(grad(sum(log(sigmoid(x)) * w), x) * w)":
            lambda x, I: rsum(grad(rsum(torch.log(sigmoid(x)) * I["w"]), x) * I["w"]),
        "sum(grad(sum(gelu(x) * exp(-x)), x) * w)": lambda x, I: rsum(grad(rsum(gelu(x) * torch.exp(-x)), x) * I["w"]),
    })


@value("r2_training_like_loss", grad_inputs=True)
def _(r):
    src = """
    // A training objective: cross-entropy plus L2 and L1 penalties and a gradient penalty.
    model train {
        input x: [N, 4]
        input y: i32[N]
        param W1: [4, 6] = he_normal
        param b1: [6]
        param W2: [6, 3]
        param b2: [3] = 0.1
        let h = gelu(x @ W1 + b1)
        let logits = h @ W2 + b2
        let ce = cross_entropy(logits, y)
        output probs = softmax(logits, axis=1)
        output acc_proxy = mean(max(probs, axis=1))
        loss = ce + 1e-2 * (sum(W1 ^ 2) + sum(W2 ^ 2)) + 1e-3 * mean(abs(W1)) + 0.05 * sum(grad(ce, x) ^ 2)
    }
    """
    P = {"W1": r.u(4, 6), "b1": r.u(6), "W2": r.u(6, 3), "b2": r.u(3)}
    I = {"x": r.u(5, 4), "y": r.labels(5, 3)}

    def f(P, I):
        h = gelu(I["x"] @ P["W1"] + P["b1"])
        logits = h @ P["W2"] + P["b2"]
        ce = cross_entropy(logits, I["y"])
        probs = softmax(logits, 1)
        loss = (ce + 1e-2 * (rsum(P["W1"] ** 2) + rsum(P["W2"] ** 2)) + 1e-3 * rmean(torch.abs(P["W1"]))
                + 0.05 * rsum(grad(ce, I["x"]) ** 2))
        return {"probs": probs, "acc_proxy": rmean(rmax(probs, 1))}, loss

    return src, P, I, f


@value("r2_fn_same_local_names_nested", grad_inputs=True)
def _(r):
    # Every fn uses the locals h and x; the model uses them too. Inlining must keep them apart.
    src = """
    fn f(x) {
        let h = x * 2
        return h + 1
    }
    fn g(x, h) {
        let x2 = f(h)
        let h2 = f(x2 * x)
        return h2 - x
    }
    fn k(h) = g(h, f(h)) * f(g(h, h))
    model nest {
        input x: [3]
        param h: [3]
        let x2 = k(x) + g(h, x)
        output x2
        loss = sum(x2 * h)
    }
    """
    P = {"h": r.u(3)}
    I = {"x": r.u(3)}

    def fn_f(x):
        return x * 2 + 1

    def fn_g(x, h):
        return fn_f(fn_f(h) * x) - x

    def fn_k(h):
        return fn_g(h, fn_f(h)) * fn_f(fn_g(h, h))

    def f(P, I):
        x2 = fn_k(I["x"]) + fn_g(P["h"], I["x"])
        return {"x2": x2}, rsum(x2 * P["h"])

    return src, P, I, f


@value("r2_fn_kwargs_from_parameters")
def _(r):
    # Options bound through fn parameters, negative and positional, nested two levels.
    src = """
    fn red(x, k) = sum(x, axis=k, keepdims=true)
    fn norm(x, k) = x - red(x, k) / 4
    fn sm(x, k) = softmax(norm(x, k), axis=k)
    fn act(x, a) = leaky_relu(x, alpha=a)
    fn act2(x, a) = act(act(x, a), a * 2)
    model kw2 {
        param x: [3, 4]
        output a = sm(x, -1)
        output b = sm(x, 0)
        output c = red(x, 1)
        output d = act2(x, 0.1)
        output e = log_softmax(x, -2 + 1)
        loss = sum(a * x) + sum(b * x) + sum(c * c) + sum(d) + sum(e * x)
    }
    """
    P = {"x": r.away(3, 4)}

    def f(P, I):
        x = P["x"]
        def norm(x, k):
            return x - rsum(x, k, True) / 4
        o = dict(a=softmax(norm(x, -1), -1), b=softmax(norm(x, 0), 0), c=rsum(x, 1, True),
                 d=leaky_relu(leaky_relu(x, 0.1), 0.2), e=log_softmax(x, -1))
        return o, rsum(o["a"] * x) + rsum(o["b"] * x) + rsum(o["c"] ** 2) + rsum(o["d"]) + rsum(o["e"] * x)

    return src, P, {}, f


@value("r2_fn_defined_after_model_and_between", model="b")
def _(r):
    # A model may call a fn defined after it (language-notes); fns sit between models.
    src = """
    model a {
        param x: [3]
        output y = late(x)
        loss = sum(y)
    }
    fn mid(x) = x * 3
    model b {
        param x: [3]
        output y = mid(late(x))
        loss = sum(y * y)
    }
    fn late(x) = tanh(x) + mid(x)
    """
    P = {"x": r.u(3)}

    def f(P, I):
        x = P["x"]
        y = (torch.tanh(x) + 3 * x) * 3
        return {"y": y}, rsum(y * y)

    return src, P, {}, f



@value("r2_comments_everywhere", grad_inputs=True)
def _(r):
    src = """
    // header
    fn // the name follows
       f(a, // first
         b) // second
       = a * // times
         b
    model // name next
      cm // the model
    { // open
      input // kw
        x // name
        : // colon
        [ // open
          N // rows
          , 2 ] // close
      param w : [2] // no init
      let // a let
        z = f(x, w) // call
            + sum( // reduce
                x , axis = 1 , keepdims = true // options
              ) ; // end
      output z // out
      loss // the objective
        = // eq
        mean(z ^ 2) // done
    } // close
    // trailing
    """
    P = {"w": r.u(2)}
    I = {"x": r.u(3, 2)}

    def f(P, I):
        z = I["x"] * P["w"] + rsum(I["x"], 1, True)
        return {"z": z}, rmean(z**2)

    return src, P, I, f


@value("r2_semicolons_everywhere")
def _(r):
    src = """
    fn f(a) { let b = a * 2; let c = b + 1; return c; }
    model s { param x: [2]; let y = f(x); output y; loss = sum(y); }
    """
    P = {"x": r.u(2)}

    def f(P, I):
        y = P["x"] * 2 + 1
        return {"y": y}, rsum(y)

    return src, P, {}, f


@value("r2_explicit_types_and_scalars", grad_inputs=True)
def _(r):
    src = """
    model ty {
        input x: f32[N, 3]
        input t: f32[]
        input y: i32[N]
        param s: f32[]
        param W: f32[3, 3]
        let z = (x @ W) * s + t
        output z
        output s
        loss = cross_entropy(z, y) * t + s ^ 2
    }
    """
    P = {"s": np.array(1.5, np.float32), "W": r.u(3, 3)}
    I = {"x": r.u(4, 3), "t": np.array(0.75, np.float32), "y": r.labels(4, 3)}

    def f(P, I):
        z = (I["x"] @ P["W"]) * P["s"] + I["t"]
        return {"z": z, "s": P["s"] * 1}, cross_entropy(z, I["y"]) * I["t"] + P["s"] ** 2

    return src, P, I, f


@value("r2_outputs_reused_and_loss_of_outputs", grad_inputs=True)
def _(r):
    src = """
    model ou {
        input x: [2, 3]
        param W: [3, 3]
        output h = tanh(x @ W)
        output p = softmax(h, axis=0)
        let q = p * h
        output q
        output W
        loss = sum(q) + mean(h) - max(p)
    }
    """
    P = {"W": r.u(3, 3)}
    I = {"x": r.u(2, 3)}

    def f(P, I):
        h = torch.tanh(I["x"] @ P["W"])
        p = softmax(h, 0)
        q = p * h
        return {"h": h, "p": p, "q": q, "W": P["W"] * 1}, rsum(q) + rmean(h) - rmax(p)

    return src, P, I, f


@value("r2_matmul_vector_forms_grad", grad_inputs=True)
def _(r):
    src = """
    model mv {
        input x: [4]
        param A: [4, 3]
        param B: [3, 4]
        param v: [3]
        output a = x @ A
        output b = A @ v
        output c = x @ A @ v
        output d = x @ x
        output e = (A @ v) @ (x * 2)
        output f = (x @ A) @ B * x + B.T @ v
        loss = sum(a * v) + sum(b) + c + d + e + sum(f)
    }
    """
    P = {"A": r.u(4, 3), "B": r.u(3, 4), "v": r.u(3)}
    I = {"x": r.u(4)}

    def f(P, I):
        x, A, B, v = I["x"], P["A"], P["B"], P["v"]
        o = dict(a=x @ A, b=A @ v, c=x @ A @ v, d=x @ x, e=(A @ v) @ (x * 2))
        o["f"] = ((x @ A) @ B) * x + B.T @ v
        return o, rsum(o["a"] * v) + rsum(o["b"]) + o["c"] + o["d"] + o["e"] + rsum(o["f"])

    return src, P, I, f


@value("r2_broadcast_scalar_like_params", grad_inputs=True)
def _(r):
    # [], [1] and [1, 1] params broadcast into bigger shapes; their gradients sum.
    src = """
    model sc {
        input x: [N, 3]
        param s: []
        param o: [1]
        param m: [1, 1]
        param r: [3, 1, 1]
        output a = x * s + o
        output b = x - m
        output c = o * m
        output d = x * r
        loss = sum(a * a) + sum(b) + sum(c) + mean(d ^ 2)
    }
    """
    P = {"s": np.array(0.5, np.float32), "o": r.u(1), "m": r.u(1, 1), "r": r.u(3, 1, 1)}
    I = {"x": r.u(2, 3)}

    def f(P, I):
        x = I["x"]
        o = dict(a=x * P["s"] + P["o"], b=x - P["m"], c=P["o"] * P["m"], d=x * P["r"])
        return o, rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"]) + rmean(o["d"] ** 2)

    return src, P, I, f


@value("r2_maximum_minimum_scalar_first_and_chains", grad_inputs=True)
def _(r):
    # maximum(0, x): the tie's gradient goes to the first argument, the constant.
    src = """
    model mm {
        input x: [6]
        param p: [6]
        output a = maximum(0, x * p)
        output b = minimum(1, x * p)
        output c = maximum(minimum(x, p), -p)
        output d = maximum(x * p, x * p)
        output e = minimum(p, maximum(x, p))
        loss = sum(a) + sum(b) + sum(c * c) + sum(d) + sum(e)
    }
    """
    P = {"p": np.array([1, -1, 2, 1, 0.5, -2], np.float32)}
    I = {"x": np.array([0, 0, 0.5, 1, -1, 1], np.float32)}

    def f(P, I):
        x, p = I["x"], P["p"]
        o = dict(a=maximum(torch.tensor(0.0), x * p), b=minimum(torch.tensor(1.0), x * p),
                 c=maximum(minimum(x, p), -p), d=maximum(x * p, x * p), e=minimum(p, maximum(x, p)))
        return o, rsum(o["a"]) + rsum(o["b"]) + rsum(o["c"] ** 2) + rsum(o["d"]) + rsum(o["e"])

    return src, P, I, f


@value("r2_reshape_size_variable_products", grad_inputs=True)
def _(r):
    src = """
    model rsp {
        input x: [B, T, 4]
        param W: [4, 2]
        let flat = reshape(x, [-1, 4])
        let y = reshape(flat @ W, [B, T, 2])
        output y
        output z = reshape(y, [B, -1])
        output s = sum(reshape(x, [-1]))
        loss = sum(y * y) + sum(z) + s
    }
    """
    P = {"W": r.u(4, 2)}
    I = {"x": r.u(2, 3, 4)}

    def f(P, I):
        x = I["x"]
        y = (x.reshape(-1, 4) @ P["W"]).reshape(2, 3, 2)
        z = y.reshape(2, -1)
        s = rsum(x)
        return {"y": y, "z": z, "s": s}, rsum(y * y) + rsum(z) + s

    return src, P, I, f


@value("r2_mean_axis_over_size_variable_keepdims", grad_inputs=True)
def _(r):
    src = """
    model mn {
        input x: [N, 3]
        param g: [3]
        let mu = mean(x, axis=0, keepdims=true)
        let var = mean((x - mu) ^ 2, axis=0)
        output z = (x - mu) / sqrt(var + 1e-5) * g
        output m = mean(x * g)
        loss = mean(z ^ 2) + m
    }
    """
    P = {"g": r.u(3)}
    I = {"x": r.u(5, 3, lo=-2, hi=2)}

    def f(P, I):
        x = I["x"]
        mu = rmean(x, 0, True)
        var = rmean((x - mu) ** 2, 0)
        z = (x - mu) / torch.sqrt(var + 1e-5) * P["g"]
        m = rmean(x * P["g"])
        return {"z": z, "m": m}, rmean(z**2) + m

    return src, P, I, f


@value("r2_leaky_relu_constant_alpha_forms", grad_inputs=True)
def _(r):
    src = """
    model lr {
        input x: [6]
        param p: [6]
        let k = 0.5
        output a = leaky_relu(x * p, alpha=1 / 4)
        output b = leaky_relu(x * p, k)
        output c = leaky_relu(x * p, alpha=-0.5)
        output d = leaky_relu(x * p, 0)
        output e = leaky_relu(x * p, alpha=2)
        loss = sum(a + b + c + d + e)
    }
    """
    P = {"p": np.array([1, -1, 2, 1, 0.5, -2], np.float32)}
    I = {"x": np.array([0, 0.5, 0.5, -1, -1, 1], np.float32)}

    def f(P, I):
        y = I["x"] * P["p"]
        o = dict(a=leaky_relu(y, 0.25), b=leaky_relu(y, 0.5), c=leaky_relu(y, -0.5), d=leaky_relu(y, 0.0),
                 e=leaky_relu(y, 2.0))
        return o, rsum(o["a"] + o["b"] + o["c"] + o["d"] + o["e"])

    return src, P, I, f


@value("r2_softmax_axis_forms_rank1_rank2")
def _(r):
    src = """
    model sma {
        param v: [5]
        param x: [3, 4]
        output a = softmax(v)
        output b = softmax(v, axis=0)
        output c = log_softmax(v, -1)
        output d = softmax(x, -2)
        output e = softmax(x, axis=-1)
        output f = log_softmax(x)
        loss = sum(a * v) + sum(b * c) + sum(d * x) + sum(e * f)
    }
    """
    P = {"v": r.u(5, lo=-3, hi=3), "x": r.u(3, 4, lo=-3, hi=3)}

    def f(P, I):
        v, x = P["v"], P["x"]
        o = dict(a=softmax(v), b=softmax(v, 0), c=log_softmax(v, -1), d=softmax(x, -2), e=softmax(x, -1),
                 f=log_softmax(x))
        return o, rsum(o["a"] * v) + rsum(o["b"] * o["c"]) + rsum(o["d"] * x) + rsum(o["e"] * o["f"])

    return src, P, {}, f


@value("r2_constant_folding_traps", grad_inputs=True)
def _(r):
    # Constant subexpressions mixed with values: x - x, 0 * x, x / 1, 1 * x ^ 1.
    src = """
    model cf {
        input x: [3]
        param p: [3]
        output a = (x - x) * p + 0 * p
        output b = p / 1 * 1 + 0
        output c = (p - p + 1) * x ^ 1
        output d = exp(0 * p) * log(1 + 0 * x)
        output e = 1 - (1 - p)
        loss = sum(a + b + c + d + e * e)
    }
    """
    P = {"p": r.u(3)}
    I = {"x": r.u(3)}

    def f(P, I):
        x, p = I["x"], P["p"]
        o = dict(a=(x - x) * p + 0 * p, b=p / 1 * 1 + 0, c=(p - p + 1) * x**1, d=torch.exp(0 * p) * torch.log(1 + 0 * x),
                 e=1 - (1 - p))
        return o, rsum(o["a"] + o["b"] + o["c"] + o["d"] + o["e"] ** 2)

    return src, P, I, f


@value("r2_same_param_many_roles", grad_inputs=True)
def _(r):
    # One param used as matrix, transposed, reduced, broadcast and as its own gradient.
    src = """
    model roles {
        input x: [3]
        param W: [3, 3]
        let a = W @ W.T @ x
        let b = sum(W, axis=0) * W
        let c = max(W) * softmax(W, axis=0)
        let e = sum(a) + sum(b * c) + logsumexp(W)
        output g = grad(e, W)
        loss = e + sum(g * W)
    }
    """
    P = {"W": r.u(3, 3)}
    I = {"x": r.u(3)}

    def f(P, I):
        W, x = P["W"], I["x"]
        a = W @ W.T @ x
        b = rsum(W, 0) * W
        c = rmax(W) * softmax(W, 0)
        e = rsum(a) + rsum(b * c) + logsumexp(W)
        g = grad(e, W)
        return {"g": g}, e + rsum(g * W)

    return src, P, I, f


@value("r2_keepdims_through_fn_and_let", grad_inputs=True)
def _(r):
    # docs/language-notes.md: `true`/`false` may be bound by a let or passed to a fn
    # parameter, for a keepdims= option.
    src = """
    fn red(x, k, kd) = sum(x, axis=k, keepdims=kd)
    fn norm(x, k) = x - red(x, k, true) / 4
    fn pass(x, kd) = max(x, 0, kd)
    model kd {
        input x: [3, 4]
        param w: [4]
        let keep = true
        let drop = false
        output a = norm(x * w, 1)
        output b = red(x, -1, drop)
        output c = pass(x * w, keep)
        output d = mean(x, 0, keep) * logsumexp(x * w, axis=1, keepdims=keep)
        loss = sum(a * a) + sum(b) + sum(c * w) + sum(d)
    }
    """
    P = {"w": r.u(4)}
    I = {"x": r.u(3, 4)}

    def f(P, I):
        x, w = I["x"], P["w"]
        y = x * w
        o = dict(a=y - rsum(y, 1, True) / 4, b=rsum(x, -1), c=rmax(y, 0, True),
                 d=rmean(x, 0, True) * logsumexp(y, 1, True))
        return o, rsum(o["a"] ** 2) + rsum(o["b"]) + rsum(o["c"] * w) + rsum(o["d"])

    return src, P, I, f


# Larger, odd sizes: loop remainders, blocking and vector widths in generated code.


@value("r2_big_odd_matmul_chain", grad_inputs=True)
def _(r):
    src = """
    model big {
        input x: [N, 53]
        param W1: [53, 37]
        param b1: [37]
        param W2: [37, 29]
        let h = tanh(x @ W1 + b1)
        output y = h @ W2
        output t = W2.T @ h.T
        loss = mean(y ^ 2) + sum(t) / 1000
    }
    """
    P = {"W1": r.u(53, 37, lo=-0.3, hi=0.3), "b1": r.u(37), "W2": r.u(37, 29, lo=-0.3, hi=0.3)}
    I = {"x": r.u(41, 53)}

    def f(P, I):
        h = torch.tanh(I["x"] @ P["W1"] + P["b1"])
        y = h @ P["W2"]
        t = P["W2"].T @ h.T
        return {"y": y, "t": t}, rmean(y**2) + rsum(t) / 1000

    return src, P, I, f


@value("r2_big_odd_reductions_softmax", grad_inputs=True)
def _(r):
    src = """
    model bigr {
        input x: [N, 257]
        input y: i32[N]
        param s: [257]
        let z = x * s
        output sm = softmax(z)
        output m = max(z, axis=1)
        output m0 = max(z, axis=0)
        output l0 = logsumexp(z, axis=0)
        output mu = mean(z, axis=0, keepdims=true)
        loss = cross_entropy(z, y) + mean(m) + sum(l0) / 257 + sum(mu * s) + sum(sm * x)
    }
    """
    P = {"s": r.u(257, lo=0.5, hi=3)}
    I = {"x": r.u(19, 257, lo=-3, hi=3), "y": r.labels(19, 257)}

    def f(P, I):
        z = I["x"] * P["s"]
        o = dict(sm=softmax(z), m=rmax(z, 1), m0=rmax(z, 0), l0=logsumexp(z, 0), mu=rmean(z, 0, True))
        loss = (cross_entropy(z, I["y"]) + rmean(o["m"]) + rsum(o["l0"]) / 257 + rsum(o["mu"] * P["s"])
                + rsum(o["sm"] * I["x"]))
        return o, loss

    return src, P, I, f


@value("r2_big_odd_broadcast_rank3", grad_inputs=True)
def _(r):
    src = """
    model bigb {
        input x: [B, 13, 1]
        input u: [17]
        param p: [13, 17]
        param q: [B, 1, 17]
        let y = x * p + q - u
        output s1 = sum(y, axis=1)
        output s2 = sum(y, axis=-1, keepdims=true)
        output s0 = mean(y, axis=0)
        output tr = reshape(y, [-1, 17]).T
        loss = sum(s1 ^ 2) + sum(s2) + sum(s0 * p) + sum(tr ^ 2) / 100
    }
    """
    P = {"p": r.u(13, 17), "q": r.u(7, 1, 17)}
    I = {"x": r.u(7, 13, 1), "u": r.u(17)}

    def f(P, I):
        y = I["x"] * P["p"] + P["q"] - I["u"]
        o = dict(s1=rsum(y, 1), s2=rsum(y, -1, True), s0=rmean(y, 0), tr=y.reshape(-1, 17).T)
        return o, rsum(o["s1"] ** 2) + rsum(o["s2"]) + rsum(o["s0"] * P["p"]) + rsum(o["tr"] ** 2) / 100

    return src, P, I, f


@value("r2_big_second_order_mlp")
def _(r):
    src = """
    model bigg {
        input x: [N, 33]
        input y: i32[N]
        param W1: [33, 65]
        param W2: [65, 10]
        let ce = cross_entropy(gelu(x @ W1) @ W2, y)
        output gx = grad(ce, x)
        loss = ce + 0.5 * sum(gx ^ 2) + sum(grad(ce, W2) ^ 2)
    }
    """
    P = {"W1": r.u(33, 65, lo=-0.3, hi=0.3), "W2": r.u(65, 10, lo=-0.3, hi=0.3)}
    I = {"x": r.u(23, 33), "y": r.labels(23, 10)}

    def f(P, I):
        ce = cross_entropy(gelu(I["x"] @ P["W1"]) @ P["W2"], I["y"])
        gx = grad(ce, I["x"])
        return {"gx": gx}, ce + 0.5 * rsum(gx**2) + rsum(grad(ce, P["W2"]) ** 2)

    return src, P, I, f


@value("r2_big_vector_products", grad_inputs=True)
def _(r):
    src = """
    model bigv {
        input x: [1031]
        param A: [1031, 3]
        param v: [1031]
        output a = x @ A
        output d = x @ v
        output b = A.T @ (x * v)
        loss = sum(a * a) + d + sum(b) + max(x * v) + logsumexp(v)
    }
    """
    P = {"A": r.u(1031, 3, lo=-0.1, hi=0.1), "v": r.u(1031)}
    I = {"x": r.u(1031)}

    def f(P, I):
        x, A, v = I["x"], P["A"], P["v"]
        o = dict(a=x @ A, d=x @ v, b=A.T @ (x * v))
        return o, rsum(o["a"] ** 2) + o["d"] + rsum(o["b"]) + rmax(x * v) + logsumexp(v)

    return src, P, I, f


@value("r2_exponent_sign_precedence")
def _(r):
    # As Python's **: -2 ^ 2 is -(2 ^ 2); x ^ -2 ^ 2 is x ^ (-(2 ^ 2)).
    src = """
    model neg {
        param x: [2]
        output a = -2 ^ 2 + 0 * x
        output b = x ^ -2 ^ 2
        output c = 2 ^ -1 ^ 2 + 0 * x
        output e = - 2 ^ 2 * x
        output f = 3 - -2 ^ 2 + 0 * x
        output g = x ^ - 1
        output h = x ^ -(1) ^ 2
        loss = sum(a + b + c + e + f + g + h)
    }
    """
    P = {"x": np.array([1.5, -2], np.float32)}

    def f(P, I):
        x = P["x"]
        o = dict(a=-(2**2) + 0 * x, b=x ** (-(2**2)), c=2 ** (-(1**2)) + 0 * x, e=-(2**2) * x, f=3 + 2**2 + 0 * x,
                 g=x**-1, h=x ** (-(1**2)))
        return o, rsum(sum(o.values()))

    return src, P, {}, f


@value("r2_names_like_builtins")
def _(r):
    # Value names and fn names are separate namespaces; f32 names a value outside a type.
    src = """
    fn T(x) = x.T
    model names {
        param sum: [3, 3]
        param T: [3]
        input exp: [3]
        input f32: [3]
        let mean = sum(sum, axis=0) * T
        output max = max(mean) + maximum(exp, f32)
        output softmax = softmax(sum.T @ T)
        output t2 = T(sum) @ exp
        loss = sum(max) + sum(softmax * t2)
    }
    """
    P = {"sum": r.u(3, 3), "T": r.u(3)}
    I = {"exp": r.u(3), "f32": r.u(3)}

    def f(P, I):
        S, T = P["sum"], P["T"]
        mean = rsum(S, 0) * T
        mx = rmax(mean) + maximum(I["exp"], I["f32"])
        sm = softmax(S.T @ T)
        t2 = S.T @ I["exp"]
        return {"max": mx, "softmax": sm, "t2": t2}, rsum(mx) + rsum(sm * t2)

    return src, P, I, f


@value("r2_nan_propagates", nan_ok=True)
def _(r):
    # Outside the domain the result is NaN, as in PyTorch, and NaN passes through
    # relu, maximum, max, abs and softmax (the spec's check matches NaN with NaN).
    src = """
    model nan {
        param x: [4]
        let n = sqrt(x)
        output a = log(x)
        output b = x ^ 1.5
        output c = relu(n) + abs(n)
        output d = maximum(n, 0) + minimum(0, n)
        output e = max(n)
        output g = softmax(n)
        output h = leaky_relu(n)
        loss = sum(a + b + c + d + h)
    }
    """
    P = {"x": np.array([-1, -0.5, 2, 0.25], np.float32)}

    def f(P, I):
        x = P["x"]
        n = torch.sqrt(x)
        o = dict(a=torch.log(x), b=x**1.5, c=torch.relu(n) + torch.abs(n),
                 d=torch.maximum(n, torch.tensor(0.0)) + torch.minimum(torch.tensor(0.0), n), e=n.max(),
                 g=torch.softmax(n, 0), h=torch.nn.functional.leaky_relu(n, 0.01))
        return o, rsum(o["a"] + o["b"] + o["c"] + o["d"] + o["h"])

    return src, P, {}, f


@value("r2_third_order_training_through_grads", grad_inputs=True)
def _(r):
    # The loss holds a gradient of a gradient, so --grad needs third derivatives.
    src = """
    fn pen(e, x) = sum(grad(e, x) ^ 2)
    model g3t {
        input x: [3, 2]
        input y: i32[3]
        param W: [2, 4]
        param b: [4]
        let ce = cross_entropy(tanh(x @ W) + softmax(b), y)
        let p1 = pen(ce, x)
        let p2 = pen(ce, W)
        output gg = grad(p1 + p2, W)
        loss = ce + sum(gg ^ 2) + sum(grad(p1, b) * b) + pen(p2, x)
    }
    """
    P = {"W": r.u(2, 4), "b": r.u(4)}
    I = {"x": r.u(3, 2), "y": r.labels(3, 4)}

    def f(P, I):
        x, W, b = I["x"], P["W"], P["b"]

        def pen(e, v):
            return rsum(grad(e, v) ** 2)
        ce = cross_entropy(torch.tanh(x @ W) + softmax(b), I["y"])
        p1 = pen(ce, x)
        p2 = pen(ce, W)
        gg = grad(p1 + p2, W)
        return {"gg": gg}, ce + rsum(gg**2) + rsum(grad(p1, b) * b) + pen(p2, x)

    return src, P, I, f


@value("r2_grad_same_fn_twice_shared_subexpressions", grad_inputs=True)
def _(r):
    # Two inlined copies of one fn containing grad, on different and on equal arguments.
    src = """
    fn slope(x, W) = grad(sum(sigmoid(x @ W)), x)
    model twice {
        input x: [2, 3]
        input z: [2, 3]
        param W: [3, 3]
        let a = slope(x, W)
        let b = slope(z, W)
        let c = slope(x, W)
        output d = a - c
        loss = sum(a * b) + sum(c ^ 2) + sum(grad(sum(a * z), W))
    }
    """
    P = {"W": r.u(3, 3)}
    I = {"x": r.u(2, 3), "z": r.u(2, 3)}

    def f(P, I):
        x, z, W = I["x"], I["z"], P["W"]

        def slope(x, W):
            return grad(rsum(sigmoid(x @ W)), x)
        a, b, c = slope(x, W), slope(z, W), slope(x, W)
        return {"d": a - c}, rsum(a * b) + rsum(c**2) + rsum(grad(rsum(a * z), W))

    return src, P, I, f


@value("r2_initialiser_forms_negative_and_names", model="m")
def _(r):
    # Initialisers with negative numbers and signs apart; names with _ and digits; values
    # come from the params file.
    src = """
    fn f(x) { return x }
    fn g(x) { let y = x * 2; let x2 = y; return x2 + x; }
    fn h(_a1, W_2) = _a1 * W_2
    model m {
        param b: [2] = - 1
        param c: [2] = uniform(-1, -0.5)
        param d: [2] = normal(mean=-1, std=0.5)
        param e: [2] = 0.5e-1
        param k: [2] = 5E1
        input _x1: []
        output y = f(b) + g(c) + h(d, e) * k * _x1
        loss = sum(y)
    }
    model other { param q: [2] }
    """
    P = {n: r.u(2) for n in "bcdek"}
    I = {"_x1": np.array(0.5, np.float32)}

    def f(P, I):
        y = P["b"] + 3 * P["c"] + P["d"] * P["e"] * P["k"] * I["_x1"]
        return {"y": y}, rsum(y)

    return src, P, I, f


@value("r2_big_batch_reductions_over_rows", grad_inputs=True)
def _(r):
    # A long batch axis (1001 rows): sums over rows (the params' gradients, mean, max over
    # axis 0, cross-entropy's mean) may be split between threads.
    src = """
    model rows {
        input x: [N, 7]
        input y: i32[N]
        param W: [7, 5]
        param b: [5]
        let z = tanh(x @ W + b)
        output m0 = max(z, axis=0)
        output s0 = mean(z, axis=0, keepdims=true)
        output lse0 = logsumexp(z, axis=0)
        output sm0 = softmax(z, axis=0)
        loss = cross_entropy(z * 3, y) + sum(m0) + sum(s0 ^ 2) + sum(lse0) / 10 + max(sm0) * 100
    }
    """
    P = {"W": r.u(7, 5), "b": r.u(5)}
    I = {"x": r.u(1001, 7, lo=-2, hi=2), "y": r.labels(1001, 5)}

    def f(P, I):
        z = torch.tanh(I["x"] @ P["W"] + P["b"])
        o = dict(m0=rmax(z, 0), s0=rmean(z, 0, True), lse0=logsumexp(z, 0), sm0=softmax(z, 0))
        loss = (cross_entropy(z * 3, I["y"]) + rsum(o["m0"]) + rsum(o["s0"] ** 2) + rsum(o["lse0"]) / 10
                + rmax(o["sm0"]) * 100)
        return o, loss

    return src, P, I, f


@value("r2_size_variables_as_values", grad_inputs=True)
def _(r):
    # docs/language-notes.md (nnc extension): a size variable not hidden by a name is a
    # scalar value; `c / S` is the constant c / S.
    src = """
    model sv {
        input x: [N, D]
        param w: [D]
        output a = sum(x * w) / N
        output b = sum(x, axis=0) * (1 / N) - mean(x, axis=0)
        output c = x * N + D
        output d = 0.5 / (N * D) * sum(x ^ 2)
        output e = x / (N + 1)
        loss = a + sum(b * w) + mean(c * w) + d + sum(e * w)
    }
    """
    P = {"w": r.u(3)}
    I = {"x": r.u(5, 3)}

    def f(P, I):
        x, w = I["x"], P["w"]
        n, dd = 5, 3
        o = dict(a=rsum(x * w) / n, b=rsum(x, 0) * (1 / n) - rmean(x, 0), c=x * n + dd, d=0.5 / (n * dd) * rsum(x**2),
                 e=x / (n + 1))
        return o, o["a"] + rsum(o["b"] * w) + rmean(o["c"] * w) + o["d"] + rsum(o["e"] * w)

    return src, P, I, f
