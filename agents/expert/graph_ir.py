"""Trace a reference `Model` with torch.fx and lower it to a tiny expression IR.

The IR covers what the expert codegen can emit: elementwise math over tensors that share the
output's shape ("full"), last-dim vectors ("col", e.g. a LayerNorm weight), scalars, and
reductions over the last dimension ("row": one value per row, kept as [..., 1]; "rowflat": the
same without the kept dim). Composite ops (softmax, layer_norm, ...) are decomposed into these
primitives, so one codegen handles every row pattern. Anything else is collected by name and
reported through `UnsupportedProblem`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import operator
from pathlib import Path
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn


class UnsupportedProblem(Exception):
    """The expert policy has no kernel for this problem (the message names the operations)."""


@dataclasses.dataclass(eq=False)
class V:
    """One IR value. op: input | param | const | ncols | un | bin | where | reduce."""

    op: str
    args: tuple = ()
    attr: Any = None
    cls: str = "full"  # full | col | row | rowflat | scalar | bool-full ...


# Aliases for unsupported modules/functions: the aten op a reader will recognise.
ATEN_NAMES = {
    "Conv1d": "aten.convolution", "Conv2d": "aten.convolution", "Conv3d": "aten.convolution",
    "ConvTranspose1d": "aten.convolution", "ConvTranspose2d": "aten.convolution", "ConvTranspose3d": "aten.convolution",
    "conv1d": "aten.convolution", "conv2d": "aten.convolution", "conv3d": "aten.convolution",
    "Linear": "aten.addmm", "linear": "aten.addmm", "matmul": "aten.mm", "mm": "aten.mm", "bmm": "aten.bmm",
    "MaxPool1d": "aten.max_pool", "MaxPool2d": "aten.max_pool", "MaxPool3d": "aten.max_pool",
    "AvgPool1d": "aten.avg_pool", "AvgPool2d": "aten.avg_pool", "AvgPool3d": "aten.avg_pool",
    "max_pool2d": "aten.max_pool", "avg_pool2d": "aten.avg_pool", "cumsum": "aten.cumsum", "cumprod": "aten.cumprod",
}


def load_problem_module(path: str | Path, name: str = "kw_expert_problem"):
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise UnsupportedProblem(f"expert policy: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _bind(args, kwargs, names, defaults=None):
    out = dict(defaults or {})
    for n, a in zip(names, args):
        out[n] = a
    for k, v in kwargs.items():
        out[k] = v
    return out


def _merge(a: str, b: str) -> str | None:
    """The class of a binary op's result, or None for a broadcast the codegen cannot express."""
    if a == b:
        return a
    pair = {a, b}
    if "scalar" in pair:
        return (pair - {"scalar"}).pop()
    if pair == {"full", "col"} or pair == {"full", "row"} or pair == {"row", "col"}:
        return "full"
    return None


class Lowering:
    def __init__(self, model: nn.Module, gm: fx.GraphModule):
        self.model = model
        self.gm = gm
        self.unsupported: list[str] = []
        self.main_shape: tuple[int, ...] | None = None
        self.inputs: list[str] = []  # placeholder names, in order
        self.reductions = 0

    # -- helpers ---------------------------------------------------------------------------
    def bad(self, what: str) -> None:
        if what not in self.unsupported:
            self.unsupported.append(what)

    def const(self, c) -> V:
        return V("const", attr=float(c), cls="scalar")

    def val(self, x) -> V | None:
        if isinstance(x, V):
            return x
        if isinstance(x, bool):
            return self.const(float(x))
        if isinstance(x, (int, float)):
            return self.const(x)
        return None

    def un(self, fn: str, a: V, **params) -> V:
        return V("un", (a,), (fn, params), a.cls)

    def bin(self, fn: str, a, b, what: str = "") -> V | None:
        a, b = self.val(a), self.val(b)
        if a is None or b is None:
            self.bad(what or f"{fn} with a non-numeric operand")
            return None
        if a.op == "const" and b.op == "const" and fn in _CONST_FOLD:
            return self.const(_CONST_FOLD[fn](a.attr, b.attr))
        cls = _merge(a.cls, b.cls)
        if cls is None:
            self.bad(f"{what or fn}: broadcast of a {a.cls} value with a {b.cls} value")
            return None
        return V("bin", (a, b), fn, cls)

    def add(self, a, b):
        return self.bin("add", a, b)

    def sub(self, a, b):
        return self.bin("sub", a, b)

    def mul(self, a, b):
        return self.bin("mul", a, b)

    def div(self, a, b):
        return self.bin("div", a, b)

    def classify(self, shape: tuple[int, ...], what: str) -> str | None:
        shape = tuple(shape)
        if self.main_shape is not None and shape == self.main_shape:
            return "full"
        numel = math.prod(shape)
        if numel == 1:
            return "scalar"
        if self.main_shape is not None and shape and shape[-1] == self.main_shape[-1] and numel == shape[-1]:
            return "col"
        self.bad(f"{what} of shape {list(shape)} (only the output's shape, a last-dim vector or a scalar broadcast)")
        return None

    def last_dim(self, a: V, dim, what: str) -> bool:
        if isinstance(dim, (list, tuple)):
            if len(dim) != 1:
                self.bad(f"{what} over dims {list(dim)} (only the last dim)")
                return False
            dim = dim[0]
        ndim = len(self.main_shape or ())
        if dim is None or not isinstance(dim, int) or dim not in (-1, ndim - 1):
            self.bad(f"{what} over dim {dim} (only the last dim)")
            return False
        if a.cls not in ("full", "col"):
            self.bad(f"{what} of a {a.cls} value")
            return False
        return True

    def reduce(self, kind: str, a: V, keepdim: bool) -> V:
        self.reductions += 1
        return V("reduce", (a,), kind, "row" if keepdim else "rowflat")

    def ncols(self) -> V:
        return V("ncols", cls="scalar")

    # -- composite ops -----------------------------------------------------------------------
    def mean(self, a: V, keepdim: bool) -> V:
        return self.div(self.reduce("sum", a, keepdim), self.ncols())

    def var(self, a: V, correction: float, keepdim: bool) -> V:
        mu = self.mean(a, True)
        d = self.sub(a, mu)
        ss = self.reduce("sum", self.mul(d, d), keepdim)
        return self.div(ss, self.sub(self.ncols(), correction) if correction else self.ncols())

    def softmax(self, a: V, log: bool) -> V:
        z = self.sub(a, self.reduce("max", a, True))
        s = self.reduce("sum", self.un("exp", z), True)
        return self.sub(z, self.un("log", s)) if log else self.div(self.un("exp", z), s)

    def layer_norm(self, a: V, w: V | None, b: V | None, eps: float) -> V:
        d = self.sub(a, self.mean(a, True))
        var = self.div(self.reduce("sum", self.mul(d, d), True), self.ncols())
        y = self.mul(d, self.un("rsqrt", self.add(var, eps)))
        if w is not None:
            y = self.mul(y, w)
        if b is not None:
            y = self.add(y, b)
        return y

    def rms_norm(self, a: V, w: V | None, eps: float) -> V:
        ms = self.div(self.reduce("sum", self.mul(a, a), True), self.ncols())
        y = self.mul(a, self.un("rsqrt", self.add(ms, eps)))
        return self.mul(y, w) if w is not None else y

    def param(self, path: str, what: str) -> V | None:
        t = self.gm.get_parameter(path) if _has_param(self.gm, path) else self.gm.get_buffer(path)
        cls = self.classify(tuple(t.shape), what)
        return None if cls is None else V("param", attr=path, cls=cls)

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> V:
        env: dict[fx.Node, Any] = {}
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        shapes = []
        for n in placeholders:
            meta = n.meta.get("tensor_meta")
            if meta is None or not hasattr(meta, "shape"):
                self.bad(f"non-tensor input {n.target}")
                continue
            shapes.append(tuple(meta.shape))
        if not shapes:
            raise UnsupportedProblem("expert policy: no kernel for a model without tensor inputs")
        self.main_shape = max(shapes, key=math.prod)
        if len(self.main_shape) == 0:
            self.bad("0-d tensor inputs")
        result = None
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                self.inputs.append(node.target)
                meta = node.meta.get("tensor_meta")
                if meta is None or not hasattr(meta, "shape"):
                    env[node] = None
                    continue
                if meta.dtype not in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
                    self.bad(f"input {node.target} of dtype {meta.dtype}")
                cls = self.classify(tuple(meta.shape), f"input {node.target}")
                env[node] = V("input", attr=node.target, cls=cls) if cls else None
            elif node.op == "get_attr":
                env[node] = self.param(node.target, f"attribute {node.target}")
            elif node.op == "output":
                result = env.get(node.args[0]) if isinstance(node.args[0], fx.Node) else None
                if not isinstance(node.args[0], fx.Node):
                    self.bad("several outputs")
            else:
                args = fx.node.map_arg(node.args, lambda n: env.get(n))
                kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n))
                if _has_missing(node, env):
                    env[node] = None  # an input was unsupported: reported already
                    continue
                env[node] = self.lower(node, tuple(args), dict(kwargs))
        if self.unsupported:
            raise UnsupportedProblem("expert policy: no kernel for " + " / ".join(self.unsupported))
        if not isinstance(result, V):
            raise UnsupportedProblem("expert policy: no kernel for an output that is not a single tensor")
        if result.cls not in ("full", "row", "rowflat"):
            raise UnsupportedProblem(f"expert policy: no kernel for an output of class {result.cls} (it does not depend on the input rows)")
        return result

    def lower(self, node: fx.Node, args: tuple, kwargs: dict) -> Any:
        if node.op == "call_module":
            mod = self.gm.get_submodule(node.target)
            return self.lower_module(node.target, mod, args, kwargs)
        if node.op == "call_method":
            name, label = node.target, f"Tensor.{node.target}"
        else:
            target = node.target
            name = getattr(target, "__name__", str(target))
            modname = getattr(target, "__module__", "") or ""
            if target is getattr:
                name = "getattr"
            if modname in ("_operator", "operator"):
                label = f"operator.{name}"
            elif modname.startswith("torch.nn.functional") or modname.startswith("torch._C._nn"):
                label = f"F.{name}"
            else:
                label = f"torch.{name}"
        handler = FUNCS.get(name.rstrip("_") if name.endswith("_") and not name.startswith("_") else name)
        if handler is None:
            self.bad(_label(label, name))
            return None
        out = handler(self, args, kwargs, label)
        return out

    def lower_module(self, path: str, mod: nn.Module, args: tuple, kwargs: dict):
        x = args[0] if args else kwargs.get("input")
        kind = type(mod).__name__
        simple = {"ReLU": "relu", "SiLU": "silu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Hardsigmoid": "hardsigmoid",
                  "Hardswish": "hardswish", "Mish": "mish", "SELU": "selu", "Softsign": "softsign", "LogSigmoid": "logsigmoid"}
        if kind == "Identity":
            return x
        if not isinstance(x, V):
            self.bad(_label(f"nn.{kind}", kind))
            return None
        if kind in simple:
            return self.un(simple[kind], x)
        if kind == "ReLU6":
            return self.un("clamp", x, lo=0.0, hi=6.0)
        if kind == "GELU":
            return self.un("gelu_tanh" if mod.approximate == "tanh" else "gelu", x)
        if kind == "Softplus":
            return self.un("softplus", x, beta=float(mod.beta), threshold=float(mod.threshold))
        if kind == "ELU":
            return self.un("elu", x, alpha=float(mod.alpha))
        if kind == "CELU":
            return self.un("celu", x, alpha=float(mod.alpha))
        if kind == "LeakyReLU":
            return self.un("leaky_relu", x, slope=float(mod.negative_slope))
        if kind == "Hardtanh":
            return self.un("clamp", x, lo=float(mod.min_val), hi=float(mod.max_val))
        if kind in ("Softmax", "LogSoftmax"):
            if not self.last_dim(x, mod.dim, f"nn.{kind}"):
                return None
            return self.softmax(x, kind == "LogSoftmax")
        if kind == "LayerNorm":
            if len(mod.normalized_shape) != 1:
                self.bad(f"nn.LayerNorm over {len(mod.normalized_shape)} dims (only the last dim)")
                return None
            if not self.last_dim(x, -1, "nn.LayerNorm"):
                return None
            w = self.param(f"{path}.weight", "nn.LayerNorm weight") if mod.weight is not None else None
            b = self.param(f"{path}.bias", "nn.LayerNorm bias") if getattr(mod, "bias", None) is not None else None
            return self.layer_norm(x, w, b, float(mod.eps))
        if kind == "RMSNorm":
            if len(mod.normalized_shape) != 1 or not self.last_dim(x, -1, "nn.RMSNorm"):
                self.bad("nn.RMSNorm over more than the last dim")
                return None
            w = self.param(f"{path}.weight", "nn.RMSNorm weight") if mod.weight is not None else None
            eps = mod.eps if mod.eps is not None else torch.finfo(torch.float32).eps
            return self.rms_norm(x, w, float(eps))
        if kind == "Dropout" and (mod.p == 0 or not mod.training):
            return x
        self.bad(_label(f"nn.{kind}", kind))
        return None


def _label(label: str, name: str) -> str:
    aten = ATEN_NAMES.get(name)
    return f"{aten} ({label})" if aten else label


def _has_param(gm: nn.Module, path: str) -> bool:
    return path in dict(gm.named_parameters())


def _has_missing(node: fx.Node, env: dict) -> bool:
    return any(env.get(n) is None and n in env for n in node.all_input_nodes)


_CONST_FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}


# -- handlers for call_function / call_method -----------------------------------------------

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


def _identity(lw, args, kwargs, label):
    x = args[0] if args else kwargs.get("input")
    rest = list(args[1:]) + [v for k, v in kwargs.items() if k not in ("memory_format", "copy", "non_blocking")]
    for r in rest:
        if isinstance(r, torch.dtype) and r not in (torch.float32,):
            lw.bad(f"{label} to {r}")
            return None
        if isinstance(r, str) or isinstance(r, torch.device):
            continue
    return x


def _gelu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "approximate"], {"approximate": "none"})
    return lw.un("gelu_tanh" if p["approximate"] == "tanh" else "gelu", p["input"])


def _softplus(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "beta", "threshold"], {"beta": 1.0, "threshold": 20.0})
    return lw.un("softplus", p["input"], beta=float(p["beta"]), threshold=float(p["threshold"]))


def _elu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "alpha"], {"alpha": 1.0})
    return lw.un("elu", p["input"], alpha=float(p["alpha"]))


def _celu(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "alpha"], {"alpha": 1.0})
    return lw.un("celu", p["input"], alpha=float(p["alpha"]))


def _leaky(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "negative_slope"], {"negative_slope": 0.01})
    return lw.un("leaky_relu", p["input"], slope=float(p["negative_slope"]))


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


def _dim_keep(args, kwargs, dim_default=None):
    p = _bind(args, kwargs, ["input", "dim", "keepdim"], {"dim": dim_default, "keepdim": False})
    return p["input"], p["dim"], bool(p["keepdim"])


def _sum(lw, args, kwargs, label):
    x, dim, keep = _dim_keep(args, kwargs)
    if kwargs.get("dtype") not in (None, torch.float32):
        lw.bad(f"{label} with dtype {kwargs['dtype']}")
        return None
    if not lw.last_dim(x, dim, label):
        return None
    return lw.reduce("sum", x, keep)


def _mean(lw, args, kwargs, label):
    x, dim, keep = _dim_keep(args, kwargs)
    if not lw.last_dim(x, dim, label):
        return None
    return lw.mean(x, keep)


def _amax(kind):
    def h(lw, args, kwargs, label):
        x, dim, keep = _dim_keep(args, kwargs)
        if not lw.last_dim(x, dim, label):
            return None
        return lw.reduce(kind, x, keep)
    return h


def _maxmin(kind):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim", "keepdim"], {"keepdim": False})
        if isinstance(p.get("dim"), V) or isinstance(p.get("other"), V):
            return lw.bin("maximum" if kind == "max" else "minimum", p["input"], p.get("other", p.get("dim")), label)
        if p.get("dim") is None:
            lw.bad(f"{label} over all elements (only the last dim)")
            return None
        if not lw.last_dim(p["input"], p["dim"], label):
            return None
        return ("maxmin", lw.reduce(kind, p["input"], bool(p["keepdim"])), label)
    return h


def _var(std: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim", "unbiased", "keepdim"], {"dim": None, "keepdim": False})
        corr = p.get("correction")
        if corr is None:
            corr = 1 if p.get("unbiased", True) in (True, None) else 0
        if not lw.last_dim(p["input"], p["dim"], label):
            return None
        v = lw.var(p["input"], float(corr), bool(p["keepdim"]))
        return lw.un("sqrt", v) if std else v
    return h


def _logsumexp(lw, args, kwargs, label):
    x, dim, keep = _dim_keep(args, kwargs)
    if not lw.last_dim(x, dim, label):
        return None
    m = lw.reduce("max", x, True)
    s = lw.reduce("sum", lw.un("exp", lw.sub(x, m)), keep)
    return lw.add(lw.un("log", s), lw.reduce("max", x, keep))


def _softmax(log: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim"], {"dim": None})
        if p.get("dtype") not in (None, torch.float32):
            lw.bad(f"{label} with dtype {p['dtype']}")
            return None
        if not lw.last_dim(p["input"], p["dim"], label):
            return None
        return lw.softmax(p["input"], log)
    return h


def _layer_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "bias", "eps"], {"weight": None, "bias": None, "eps": 1e-5})
    if len(_as_list(p["normalized_shape"])) != 1 or not lw.last_dim(p["input"], -1, label):
        lw.bad(f"{label} over more than the last dim")
        return None
    return lw.layer_norm(p["input"], p["weight"], p["bias"], float(p["eps"]))


def _rms_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "eps"], {"weight": None, "eps": None})
    if len(_as_list(p["normalized_shape"])) != 1 or not lw.last_dim(p["input"], -1, label):
        lw.bad(f"{label} over more than the last dim")
        return None
    eps = p["eps"] if p["eps"] is not None else torch.finfo(torch.float32).eps
    return lw.rms_norm(p["input"], p["weight"], float(eps))


def _normalize(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "p", "dim", "eps"], {"p": 2.0, "dim": 1, "eps": 1e-12})
    x = p["input"]
    if float(p["p"]) != 2.0:
        lw.bad(f"{label} with p={p['p']} (only p=2)")
        return None
    if not lw.last_dim(x, p["dim"], label):
        return None
    norm = lw.un("sqrt", lw.reduce("sum", lw.mul(x, x), True))
    return lw.div(x, lw.bin("maximum", norm, p["eps"]))


def _getitem(lw, args, kwargs, label):
    obj, idx = args
    if isinstance(obj, tuple) and obj and obj[0] == "maxmin":
        if idx == 0:
            return obj[1]
        lw.bad(f"{obj[2]} indices (argmax/argmin)")
        return None
    if isinstance(obj, tuple) and obj and obj[0] == "shape":
        if idx in (-1, obj[1] - 1):
            return lw.ncols()
        lw.bad("a size other than the last dim used as a number")
        return None
    lw.bad(f"{label} (indexing or slicing)")
    return None


def _getattr(lw, args, kwargs, label):
    obj, name = args
    if name == "shape" and isinstance(obj, V):
        return ("shape", len(lw.main_shape or ()))
    lw.bad(f"attribute .{name}")
    return None


def _size(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "dim"], {"dim": None})
    if p["dim"] is None:
        return ("shape", len(lw.main_shape or ()))
    return _getitem(lw, (("shape", len(lw.main_shape or ())), p["dim"]), {}, label)


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


FUNCS = {
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
    "logsigmoid": _unary("logsigmoid"), "log_sigmoid": _unary("logsigmoid"), "log1p": _unary("log1p"), "expm1": _unary("expm1"), "exp2": _unary("exp2"),
    "log2": _unary("log2"), "sign": _unary("sign"),
    "relu6": _unary("clamp", lo=0.0, hi=6.0),
    "gelu": _gelu, "softplus": _softplus, "elu": _elu, "celu": _celu, "leaky_relu": _leaky, "hardtanh": _hardtanh,
    "clamp": _clamp, "clip": _clamp, "clamp_min": _clamp_min, "clamp_max": _clamp_max,
    "pow": _pow, "rpow": _rpow,
    "sum": _sum, "mean": _mean, "amax": _amax("max"), "amin": _amax("min"), "max": _maxmin("max"), "min": _maxmin("min"),
    "var": _var(False), "std": _var(True), "logsumexp": _logsumexp,
    "softmax": _softmax(False), "log_softmax": _softmax(True),
    "layer_norm": _layer_norm, "rms_norm": _rms_norm, "normalize": _normalize,
    "getitem": _getitem, "getattr": _getattr, "size": _size,
    "where": _where, "gt": _cmp("gt"), "lt": _cmp("lt"), "ge": _cmp("ge"), "le": _cmp("le"), "eq": _cmp("eq"), "ne": _cmp("ne"),
    "contiguous": _identity, "clone": _identity, "float": _identity, "to": _identity, "detach": _identity,
}


@dataclasses.dataclass
class Traced:
    module: Any  # the problem module
    model: nn.Module
    gm: fx.GraphModule
    out: V
    inputs: list[str]
    main_shape: tuple[int, ...]
    family: str  # "elementwise" | "rows"
    reductions: int


def _build(module) -> tuple[nn.Module, list]:
    """The reference model and inputs: on the meta device (shapes only, nothing computed), or on
    the CPU where a problem does not build on meta (explicit devices, data-dependent init)."""
    errors = []
    for device in ("meta", "cpu"):
        try:
            with torch.device(device):
                model = module.Model(*_as_list(module.get_init_inputs()))
                inputs = _as_list(module.get_inputs())
            return model.eval(), inputs
        except Exception as exc:  # noqa: BLE001 - reported below if no device works
            errors.append(f"{device}: {type(exc).__name__}: {exc}")
    raise UnsupportedProblem("expert policy: cannot build the reference model and inputs (" + "; ".join(errors) + ")")


def trace_problem(path: str | Path) -> Traced:
    """Load, trace and lower the problem's Model; raises UnsupportedProblem for what it cannot do."""
    module = load_problem_module(path)
    for need in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, need):
            raise UnsupportedProblem(f"expert policy: the problem defines no {need}")
    model, inputs = _build(module)
    try:
        gm = fx.symbolic_trace(model)
    except Exception as exc:  # fx cannot trace data-dependent control flow and the like
        raise UnsupportedProblem(f"expert policy: torch.fx cannot trace the model ({type(exc).__name__}: {exc})") from exc
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        ShapeProp(gm).propagate(*inputs)
    except Exception as exc:
        raise UnsupportedProblem(f"expert policy: cannot propagate shapes through the model ({type(exc).__name__}: {exc})") from exc
    lw = Lowering(model, gm)
    out = lw.run()
    return Traced(module, model, gm, out, lw.inputs, tuple(lw.main_shape), "rows" if lw.reductions else "elementwise", lw.reductions)
