"""Handlers of elementwise functions and methods: arithmetic (with the reflected `r*` forms
torch calls for `2 - x`), activations, clamps, powers, comparisons and `where`, and the casts and
copies that compute nothing (`.float()`, `.contiguous()`). Each lowers to `un` / `bin` / `where`
IR nodes through the `Lowering`'s builders."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from kernelwright.agents.expert.ir import V, _bind, _merge

if TYPE_CHECKING:
    from kernelwright.agents.expert.lowering import Lowering


def _binary(fn):
    def h(lw: Lowering, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "other"], {"alpha": 1})
        a, b = p["input"], p.get("other")
        if fn in ("add", "sub") and p.get("alpha", 1) != 1:
            b = lw.mul(b, p["alpha"])
        if fn == "div" and p.get("rounding_mode") is not None:
            lw.bad(f"{label} with rounding_mode")
            return None
        return lw.bin(fn, a, b, label)
    return h


def _rbinary(fn):
    def h(lw, args, kwargs, label):
        return lw.bin(fn, args[1], args[0], label)
    return h


def _unary(fn, **fixed):
    def h(lw: Lowering, args, kwargs, label):
        x = args[0] if args else kwargs.get("input")
        if not isinstance(x, V):
            lw.bad(f"{label} of a non-tensor")
            return None
        return lw.un(fn, x, **fixed)
    return h


# Casts between these are computed in fp32 throughout (the output is stored in its own dtype):
# within the 16-bit tolerance, as exact as the reference's rounding to 16 bits in between.
FLOAT_CASTS = (torch.float32, torch.bfloat16, torch.float16)


def _identity(lw, args, kwargs, label):
    x = args[0] if args else kwargs.get("input")
    rest = list(args[1:]) + [v for k, v in kwargs.items() if k not in ("memory_format", "copy", "non_blocking")]
    for r in rest:
        if isinstance(r, torch.dtype) and r not in FLOAT_CASTS:
            lw.bad(f"{label} to {r}")
            return None
        if isinstance(r, tuple) and r[:1] == ("dtype",):
            continue  # `.to(x.dtype)`
        if isinstance(r, str) or isinstance(r, torch.device):
            continue
    return x


def _number_tensor(lw, args, kwargs, label):
    """`torch.tensor(0.5, device=x.device)`: a number as a 0-d tensor, one scalar of the kernel."""
    p = _bind(args, kwargs, ["data"], {"dtype": None})
    number = isinstance(p["data"], (int, float)) and not isinstance(p["data"], bool)
    if not (number or (isinstance(p["data"], V) and p["data"].op == "arg")) or p["dtype"] not in (None, *FLOAT_CASTS):
        lw.bad(f"{label} of other than one number")
        return None
    return lw.val(p["data"])


def _identity_first(lw, args, kwargs, label):
    return args[0] if args else kwargs.get("input")


def _gelu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "approximate"], {"approximate": "none"})
    return lw.un("gelu_tanh" if p["approximate"] == "tanh" else "gelu", p["input"])


def _softplus(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "beta", "threshold"], {"beta": 1.0, "threshold": 20.0})
    return lw.un("softplus", p["input"], beta=float(p["beta"]), threshold=float(p["threshold"]))


def _where_positive(lw, x, negative, label):
    """x where x > 0, else `negative`: the activations below with a run-time parameter (a scalar
    attribute such as `self.alpha`, see `tracing`), whose fused templates take literals only."""
    if x is None or negative is None:  # an operand was unsupported: reported already
        return None
    return _where(lw, (lw.bin("gt", x, 0.0, label), x, negative), {}, label)


def _elu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "alpha"], {"alpha": 1.0})
    x, alpha = p["input"], p["alpha"]
    if isinstance(alpha, V):
        return _where_positive(lw, x, lw.mul(alpha, lw.un("expm1", lw.bin("minimum", x, 0.0, label))), label)
    return lw.un("elu", x, alpha=float(alpha))


def _celu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "alpha"], {"alpha": 1.0})
    x, alpha = p["input"], p["alpha"]
    if isinstance(alpha, V):
        return _where_positive(lw, x, lw.mul(alpha, lw.un("expm1", lw.div(lw.bin("minimum", x, 0.0, label), alpha))), label)
    return lw.un("celu", x, alpha=float(alpha))


def _leaky(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "negative_slope"], {"negative_slope": 0.01})
    x, slope = p["input"], p["negative_slope"]
    if isinstance(slope, V):
        return _where_positive(lw, x, lw.mul(x, slope), label)
    return lw.un("leaky_relu", x, slope=float(slope))


def _hardtanh(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "min_val", "max_val"], {"min_val": -1.0, "max_val": 1.0})
    return lw.un("clamp", p["input"], lo=float(p["min_val"]), hi=float(p["max_val"]))


def _clamp(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "min", "max"], {"min": None, "max": None})
    lo, hi = p["min"], p["max"]
    if isinstance(lo, V) or isinstance(hi, V):
        x = p["input"]
        if lo is not None:
            x = lw.bin("maximum", x, lo, label)
        if hi is not None and x is not None:
            x = lw.bin("minimum", x, hi, label)
        return x
    return lw.un("clamp", p["input"], lo=None if lo is None else float(lo), hi=None if hi is None else float(hi))


def _clamp_min(lw, args, kwargs, label):
    return lw.bin("maximum", args[0], args[1] if len(args) > 1 else kwargs.get("min"), label)


def _clamp_max(lw, args, kwargs, label):
    return lw.bin("minimum", args[0], args[1] if len(args) > 1 else kwargs.get("max"), label)


def _pow(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "exponent"])
    base, e = p["input"], p["exponent"]
    if isinstance(base, V) and isinstance(e, (int, float)):
        return lw.un("pow", base, e=float(e))
    if isinstance(base, (int, float)) and isinstance(e, V):
        if base <= 0:
            lw.bad(f"{label} of a non-positive scalar base")
            return None
        return lw.un("exp", lw.mul(e, math.log(base)))
    if isinstance(base, V) and isinstance(e, V):
        return lw.un("exp", lw.mul(e, lw.un("log", base)))
    lw.bad(label)
    return None


def _rpow(lw, args, kwargs, label):
    return _pow(lw, (args[1], args[0]), {}, label)


def _where(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["condition", "input", "other"])
    c, a, b = p["condition"], lw.val(p["input"]), lw.val(p.get("other"))
    if not isinstance(c, V) or a is None or b is None:
        lw.bad(label)
        return None
    cls = _merge(c.cls, _merge(a.cls, b.cls) or "bad")
    if cls is None:
        lw.bad(f"{label}: broadcast")
        return None
    return V("where", (c, a, b), None, cls)


def _cmp(fn):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "other"])
        return lw.bin(fn, p["input"], p["other"], label)
    return h


ELEMENTWISE = {
    "add": _binary("add"), "iadd": _binary("add"), "sub": _binary("sub"), "isub": _binary("sub"), "subtract": _binary("sub"),
    "mul": _binary("mul"), "imul": _binary("mul"), "multiply": _binary("mul"),
    "truediv": _binary("div"), "itruediv": _binary("div"), "div": _binary("div"), "divide": _binary("div"),
    "rsub": _rbinary("sub"), "radd": _rbinary("add"), "rmul": _rbinary("mul"), "rtruediv": _rbinary("div"),
    "maximum": _binary("maximum"), "minimum": _binary("minimum"), "fmax": _binary("maximum"), "fmin": _binary("minimum"),
    "neg": _unary("neg"), "negative": _unary("neg"), "exp": _unary("exp"), "log": _unary("log"), "sqrt": _unary("sqrt"),
    "rsqrt": _unary("rsqrt"), "abs": _unary("abs"), "relu": _unary("relu"), "sigmoid": _unary("sigmoid"),
    "tanh": _unary("tanh"), "erf": _unary("erf"), "sin": _unary("sin"), "cos": _unary("cos"), "square": _unary("square"),
    "reciprocal": _unary("reciprocal"), "silu": _unary("silu"), "mish": _unary("mish"), "selu": _unary("selu"),
    "hardsigmoid": _unary("hardsigmoid"), "hardswish": _unary("hardswish"), "softsign": _unary("softsign"),
    "logsigmoid": _unary("logsigmoid"), "log_sigmoid": _unary("logsigmoid"), "log1p": _unary("log1p"), "expm1": _unary("expm1"),
    "exp2": _unary("exp2"), "log2": _unary("log2"), "sign": _unary("sign"),
    "relu6": _unary("clamp", lo=0.0, hi=6.0),
    "gelu": _gelu, "softplus": _softplus, "elu": _elu, "celu": _celu, "leaky_relu": _leaky, "hardtanh": _hardtanh,
    "clamp": _clamp, "clip": _clamp, "clamp_min": _clamp_min, "clamp_max": _clamp_max,
    "pow": _pow, "rpow": _rpow,
    "where": _where, "gt": _cmp("gt"), "lt": _cmp("lt"), "ge": _cmp("ge"), "le": _cmp("le"), "eq": _cmp("eq"), "ne": _cmp("ne"),
    "contiguous": _identity, "clone": _identity, "float": _identity, "to": _identity, "detach": _identity,
    "bfloat16": _identity, "half": _identity, "type_as": _identity_first, "tensor": _number_tensor,
}
