"""Handlers that lower torch functions and methods (call_function / call_method nodes) to the IR;
`FUNCS` maps an op name to its handler. Composite ops (softmax, layer_norm, ...) decompose here."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import torch

from kernelwright.agents.expert.ir import V, _as_list, _bind, _merge
from kernelwright.agents.expert.matmul_ir import transpose_text, view_value

if TYPE_CHECKING:
    from kernelwright.agents.expert.graph_ir import Lowering



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


def _identity_first(lw, args, kwargs, label):
    return args[0] if args else kwargs.get("input")


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
    how = lw.reduce_dims(x, dim, label)
    if how is None:
        return None
    return x if how == "trivial" else lw.reduce("sum", x, keep)


def _mean(lw, args, kwargs, label):
    x, dim, keep = _dim_keep(args, kwargs)
    how = lw.reduce_dims(x, dim, label)
    if how is None:
        return None
    return x if how == "trivial" else lw.mean(x, keep)


def _amax(kind):
    def h(lw, args, kwargs, label):
        x, dim, keep = _dim_keep(args, kwargs)
        how = lw.reduce_dims(x, dim, label)
        if how is None:
            return None
        return x if how == "trivial" else lw.reduce(kind, x, keep)
    return h


def _maxmin(kind):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim", "keepdim"], {"keepdim": False})
        if isinstance(p.get("dim"), V) or isinstance(p.get("other"), V):
            return lw.bin("maximum" if kind == "max" else "minimum", p["input"], p.get("other", p.get("dim")), label)
        x, dim, keep = p["input"], p.get("dim"), bool(p["keepdim"])
        how = lw.reduce_dims(x, dim, label)
        if how is None:
            return None
        values = x if how == "trivial" else lw.reduce(kind, x, keep)
        if dim is None:  # torch.max(x): the value alone
            return values
        index = None if how == "trivial" else V("reduce", (values.args[0],), f"arg{kind}", values.cls)
        return ("maxmin", values, label, index)
    return h


def _argmaxmin(kind):
    def h(lw, args, kwargs, label):
        x, dim, keep = _dim_keep(args, kwargs)
        how = lw.reduce_dims(x, dim, label)
        if how != "ok":
            if how == "trivial":
                lw.bad(f"{label} over a size-1 dim")
            return None
        if dim is None and keep:
            lw.bad(f"{label} over all dims with keepdim")
            return None
        lw.reduce(kind, x, keep)  # counted as a reduction
        return V("reduce", (x if x.cls != "leaf" else lw.resolve(x, lw.in_shape(0), label),), f"arg{kind}",
                 "row" if keep else "rowflat")
    return h


def _var(std: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim", "unbiased", "keepdim"], {"dim": None, "keepdim": False})
        corr = p.get("correction")
        if corr is None:
            corr = 1 if p.get("unbiased", True) in (True, None) else 0
        if lw.reduce_dims(p["input"], p["dim"], label) != "ok":
            lw.bad(f"{label} over size-1 dims")
            return None
        v = lw.var(p["input"], float(corr), bool(p["keepdim"]))
        return lw.un("sqrt", v) if std else v
    return h


def _logsumexp(lw, args, kwargs, label):
    x, dim, keep = _dim_keep(args, kwargs)
    how = lw.reduce_dims(x, dim, label)
    if how is None:
        return None
    if how == "trivial":  # log(exp(x - x)) + x: x exactly, as torch computes it
        return x
    m = lw.reduce("max", x, True)
    s = lw.reduce("sum", lw.un("exp", lw.sub(x, m)), keep)
    return lw.add(lw.un("log", s), lw.reduce("max", x, keep))


def _softmax(log: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "dim"], {"dim": None})
        if p.get("dtype") not in (None, torch.float32):
            lw.bad(f"{label} with dtype {p['dtype']}")
            return None
        how = lw.reduce_dims(p["input"], p["dim"], label)
        if how is None:
            return None
        if how == "trivial":  # one element per softmax: 1 (log: 0)
            zero = lw.mul(p["input"], 0.0)
            return zero if log else lw.add(zero, 1.0)
        return lw.softmax(p["input"], log)
    return h


def _trailing(lw, x, normalized_shape, label) -> str | None:
    n = len(_as_list(normalized_shape))
    shape = lw.in_shape(0)
    if shape is None or n > len(shape):
        lw.bad(f"{label} of a non-tensor")
        return None
    return lw.reduce_check(x, shape, list(range(len(shape) - n, len(shape))), label)


def _layer_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "bias", "eps"], {"weight": None, "bias": None, "eps": 1e-5})
    if _trailing(lw, p["input"], p["normalized_shape"], label) != "ok":
        lw.bad(f"{label} over size-1 dims")
        return None
    return lw.layer_norm(p["input"], p["weight"], p["bias"], float(p["eps"]))


def _rms_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "normalized_shape", "weight", "eps"], {"weight": None, "eps": None})
    if _trailing(lw, p["input"], p["normalized_shape"], label) != "ok":
        lw.bad(f"{label} over size-1 dims")
        return None
    eps = p["eps"] if p["eps"] is not None else torch.finfo(torch.float32).eps
    return lw.rms_norm(p["input"], p["weight"], float(eps))


def _p_norm(lw, x, p, dims, keep, label):
    """The p-norm of x over dims (already checked): 1, 2 ('fro') or inf."""
    if p in ("fro", None, 2, 2.0):
        return lw.un("sqrt", lw.reduce("sum", lw.mul(x, x), keep))
    if p in (1, 1.0):
        return lw.reduce("sum", lw.un("abs", x), keep)
    if p in (float("inf"), "inf"):
        return lw.reduce("max", lw.un("abs", x), keep)
    lw.bad(f"{label} with p={p} (only 1, 2, 'fro' and inf)")
    return None


def _normalize(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "p", "dim", "eps"], {"p": 2.0, "dim": 1, "eps": 1e-12})
    x = p["input"]
    how = lw.reduce_dims(x, p["dim"], label)
    if how != "ok":
        if how == "trivial":
            lw.bad(f"{label} over a size-1 dim")
        return None
    norm = _p_norm(lw, x, float(p["p"]), p["dim"], True, label)
    return None if norm is None else lw.div(x, lw.bin("maximum", norm, p["eps"]))


def _norm(lw, args, kwargs, label):
    """torch.norm / Tensor.norm / torch.linalg.vector_norm."""
    names = ["input", "ord", "dim", "keepdim"] if "vector_norm" in label else ["input", "p", "dim", "keepdim"]
    p = _bind(args, kwargs, names, {"dim": None, "keepdim": False})
    order = p.get("p", p.get("ord", "fro"))
    order = 2.0 if order is None else order
    if p.get("dtype") is not None:
        lw.bad(f"{label} with dtype")
        return None
    how = lw.reduce_dims(p["input"], p["dim"], label)
    if how is None:
        return None
    if how == "trivial":
        return lw.un("abs", p["input"])
    return _p_norm(lw, p["input"], order, p["dim"], bool(p["keepdim"]), label)


def _getitem(lw, args, kwargs, label):
    obj, idx = args
    if isinstance(obj, tuple) and obj and obj[0] == "maxmin":
        if idx == 0:
            return obj[1]
        if idx == 1 and obj[3] is not None:
            return obj[3]
        lw.bad(f"{obj[2]} indices over a size-1 dim")
        return None
    if isinstance(obj, tuple) and obj and obj[0] == "shape":
        leaf = obj[2] if len(obj) > 2 else None
        if isinstance(leaf, V) and leaf.op == "view":  # a transposed operand: not the input's dims
            leaf = None
        if isinstance(leaf, V) and leaf.op in ("input", "param") and isinstance(idx, int):
            # a size of an input or parameter: read at run time (a shape variant changes it)
            host = leaf.attr if leaf.op == "input" else f"self.{leaf.attr}"
            return V("arg", attr=f"{host}.shape[{idx}]", cls="scalar")
        if idx in (-1, obj[1] - 1) and not lw.matmul_mode:
            return lw.ncols()
        lw.bad("a size other than the last dim used as a number")
        return None
    lw.bad(f"{label} (indexing or slicing)")
    return None


def _getattr(lw, args, kwargs, label):
    obj, name = args
    if isinstance(obj, tuple) and obj and obj[0] == "maxmin" and name in ("values", "indices"):
        return _getitem(lw, (obj, 0 if name == "values" else 1), {}, label)
    if name == "shape" and isinstance(obj, V):
        return ("shape", len(lw.main_shape or ()), obj)
    if name == "dtype" and isinstance(obj, V):
        return ("dtype",)  # only ever used as a cast target (see _identity)
    if name in ("T", "mT") and isinstance(obj, V):
        return view_value(lw, obj, ".t()" if name == "T" else ".mT", f"Tensor.{name}")
    lw.bad(f"attribute .{name}")
    return None


def _size(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "dim"], {"dim": None})
    shape = ("shape", len(lw.main_shape or ()), p["input"])
    if p["dim"] is None:
        return shape
    return _getitem(lw, (shape, p["dim"]), {}, label)


def _transpose(name):
    def h(lw, args, kwargs, label):
        text = transpose_text(name, args, kwargs)
        if text is None:
            lw.bad(f"{label} with dims the expert cannot read")
            return None
        return view_value(lw, args[0] if args else kwargs.get("input"), text, label)
    return h


def _view(lw, args, kwargs, label):
    """A view that keeps the elements' order (unsqueeze, squeeze, view, reshape, flatten): nothing
    to compute; an operand of another shape is placed by its new shape where it is used."""
    x = args[0] if args else kwargs.get("input", kwargs.get("self"))
    if not isinstance(x, V):
        lw.bad(f"{label} of a non-tensor")
        return None
    shape = lw.out_shape()
    if x.op == "view" or x.cls == "operand":
        lw.bad(f"{label} of a transposed tensor")
        return None
    if x.cls == "leaf":
        return dataclasses.replace(x, shape=shape)
    if lw.matmul_mode and x.cls not in ("full", "scalar"):
        lw.bad(f"{label} of a {x.cls} value in a matmul epilogue")
        return None
    return x


def _expand(lw, args, kwargs, label):
    x = args[0] if args else kwargs.get("input")
    if not isinstance(x, V) or x.cls in ("operand",) or x.op == "view":
        lw.bad(label)
        return None
    return x  # broadcast where it is used


def _group_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "num_groups", "weight", "bias", "eps"], {"weight": None, "bias": None, "eps": 1e-5})
    return lw.group_norm(p["input"], int(p["num_groups"]), p["weight"], p["bias"], float(p["eps"]), label)


def _instance_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "running_mean", "running_var", "weight", "bias", "use_input_stats", "momentum", "eps"],
              {"running_mean": None, "running_var": None, "weight": None, "bias": None, "use_input_stats": True, "eps": 1e-5})
    if not p["use_input_stats"]:
        return lw.batch_norm_eval(p["input"], p["running_mean"], p["running_var"], p["weight"], p["bias"], float(p["eps"]), label)
    return lw.instance_norm(p["input"], p["weight"], p["bias"], float(p["eps"]), label)


def _batch_norm(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"],
              {"weight": None, "bias": None, "training": False, "eps": 1e-5})
    if p["training"]:
        lw.bad(f"{label} with batch statistics (training mode)")
        return None
    return lw.batch_norm_eval(p["input"], p["running_mean"], p["running_var"], p["weight"], p["bias"], float(p["eps"]), label)


def _triangle(upper: bool):
    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, ["input", "diagonal"], {"diagonal": 0})
        x, d = p["input"], p["diagonal"]
        if not isinstance(x, V) or not isinstance(d, int) or not lw.matmul_mode or len(lw.main_shape or ()) != 2:
            lw.bad(f"{label} (only of a 2-D matmul's result)")
            return None
        offset = lw.bin("sub", V("pos", attr="col", cls="full"), V("pos", attr="row", cls="full"), label)
        keep = lw.bin("ge" if upper else "le", offset, float(d), label)
        return V("where", (keep, x, lw.const(0.0)), None, "full")
    return h


def _einsum(lw, args, kwargs, label):
    """Two-operand einsums that are one matmul: A's last index contracted with one index of a
    2-D B, the output A's other indices then B's free one ("bijl,lk->bijk", "ik,kj->ij")."""
    from kernelwright.agents.expert.matmul_ir import lower_matmul_call, view_value

    if len(args) != 3 or not isinstance(args[0], str):
        lw.bad(f"{label} of other than two operands")
        return None
    eq, a, b = args[0].replace(" ", ""), args[1], args[2]
    if "->" not in eq or "." in eq:
        lw.bad(f"{label} '{eq}'")
        return None
    ins, out = eq.split("->")
    ia, ib = ins.split(",") if ins.count(",") == 1 else ("", "")
    if len(ib) != 2 or not ia or len(set(ia)) != len(ia):
        lw.bad(f"{label} '{eq}' (only a tensor times a matrix)")
        return None
    k = ia[-1]
    if k not in ib or out != ia[:-1] + ib.replace(k, ""):
        lw.bad(f"{label} '{eq}' (only a tensor times a matrix)")
        return None
    if ib[1] == k:
        b = view_value(lw, b, ".t()", label)
    return lower_matmul_call(lw, "matmul", (a, b), {}, label)


def _reduced_loss(lw, elem, reduction, label):
    """An elementwise loss reduced as torch does: 'mean' / 'sum' over every element, 'batchmean'
    (kl_div) the sum over the batch size, 'none' the elements."""
    if elem is None or reduction == "none":
        return elem
    how = lw.reduce_check(elem, lw.out_shape() if reduction == "none" else lw.in_shape(0), None, label)
    if how is None:
        return None
    if how == "trivial":
        return elem
    if reduction == "mean":
        return lw.mean(elem, False)
    total = lw.reduce("sum", elem, False)
    if reduction == "sum":
        return total
    if reduction == "batchmean":
        return lw.div(total, V("arg", attr="kw_main.shape[0]", cls="scalar"))
    lw.bad(f"{label} with reduction={reduction!r}")
    return None


def _pointwise_loss(kind: str):
    names = {"mse_loss": ["input", "target", "size_average", "reduce", "reduction"],
             "l1_loss": ["input", "target", "size_average", "reduce", "reduction"],
             "smooth_l1_loss": ["input", "target", "size_average", "reduce", "reduction", "beta"],
             "huber_loss": ["input", "target", "reduction", "delta"]}[kind]

    def h(lw, args, kwargs, label):
        p = _bind(args, kwargs, names, {"reduction": "mean", "beta": 1.0, "delta": 1.0})
        if p.get("size_average") is not None or p.get("reduce") is not None:
            lw.bad(f"{label} with size_average / reduce")
            return None
        if lw.in_shape(0) != lw.in_shape(1):
            lw.bad(f"{label} of operands of different shapes")
            return None
        d = lw.sub(p["input"], p["target"])
        if d is None:
            return None
        if kind == "mse_loss":
            elem = lw.mul(d, d)
        else:
            a = lw.un("abs", d)
            if kind == "l1_loss" or (kind == "smooth_l1_loss" and float(p["beta"]) == 0.0):
                elem = a
            elif kind == "smooth_l1_loss":
                beta = float(p["beta"])
                small = lw.div(lw.mul(lw.mul(a, a), 0.5), beta)
                elem = V("where", (lw.bin("lt", a, beta), small, lw.sub(a, 0.5 * beta)), None, a.cls)
            else:
                delta = float(p["delta"])
                small = lw.mul(lw.mul(a, a), 0.5)
                elem = V("where", (lw.bin("lt", a, delta), small, lw.mul(lw.sub(a, 0.5 * delta), delta)), None, a.cls)
        return _reduced_loss(lw, elem, p["reduction"], label)
    return h


def _kl_div(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["input", "target", "size_average", "reduce", "reduction", "log_target"],
              {"reduction": "mean", "log_target": False})
    if p.get("size_average") is not None or p.get("reduce") is not None or lw.in_shape(0) != lw.in_shape(1):
        lw.bad(f"{label} with size_average / reduce or broadcast operands")
        return None
    x, t = p["input"], p["target"]
    if p["log_target"]:
        elem = lw.mul(lw.un("exp", t), lw.sub(t, x))
    else:  # xlogy(t, t) - t * x: 0 where t == 0
        tlogt = V("where", (lw.bin("gt", t, 0.0), lw.mul(t, lw.un("log", t)), lw.const(0.0)), None, "full")
        elem = lw.sub(tlogt, lw.mul(t, x))
    return _reduced_loss(lw, elem, p["reduction"], label)


def _pairwise_distance(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["x1", "x2", "p", "eps", "keepdim"], {"p": 2.0, "eps": 1e-6, "keepdim": False})
    if lw.in_shape(0) != lw.in_shape(1):
        lw.bad(f"{label} of operands of different shapes")
        return None
    d = lw.add(lw.sub(p["x1"], p["x2"]), float(p["eps"]))
    if d is None or lw.reduce_dims(d, -1, label) != "ok":
        return None
    return _p_norm(lw, d, float(p["p"]), -1, bool(p["keepdim"]), label)


def _cosine_similarity(lw, args, kwargs, label):
    p = _bind(args, kwargs, ["x1", "x2", "dim", "eps"], {"dim": 1, "eps": 1e-8})
    a, b = p["x1"], p["x2"]
    if lw.in_shape(0) != lw.in_shape(1) or lw.reduce_dims(a, p["dim"], label) != "ok":
        lw.bad(f"{label} of operands of different shapes or over a size-1 dim")
        return None
    eps = float(p["eps"])
    dot = lw.reduce("sum", lw.mul(a, b), False)
    na = lw.bin("maximum", lw.un("sqrt", lw.reduce("sum", lw.mul(a, a), False)), eps)
    nb = lw.bin("maximum", lw.un("sqrt", lw.reduce("sum", lw.mul(b, b), False)), eps)
    return lw.div(dot, lw.mul(na, nb))


def _gather(lw, args, kwargs, label):
    """x.gather(dim, index) with one index per row along the stage's reduced (last) dim."""
    p = _bind(args, kwargs, ["input", "dim", "index"])
    x, index = p["input"], p["index"]
    shape, ishape = lw.in_shape(0), lw.in_shape(2, "index")
    if not isinstance(x, V) or x.op not in ("input", "param") or not isinstance(index, V) or shape is None \
            or ishape is None or p["dim"] not in (-1, len(shape) - 1) or tuple(ishape) != tuple(shape[:-1]) + (1,):
        lw.bad(f"{label} (only one index per row along the last dim of an input)")
        return None
    if lw.reduce_check(x, shape, -1, label) != "ok":
        return None
    if x.cls == "leaf":
        x = lw.resolve(x, shape, label)
    idx = lw.resolve(index, tuple(ishape), label) if index.cls == "leaf" else index
    if x is None or idx is None or x.cls != "full" or idx.cls not in ("row", "rbcast", "scalar"):
        lw.bad(f"{label} of a broadcast input")
        return None
    lw.reductions += 1  # a row kernel's work: one index per row
    return V("gather", (x, idx), None, "row")


def _scan(default_kind: str | None):
    """cumsum / cumprod (and the `kw_scan` rewrites: reverse, exclusive) along the stage's row."""
    def h(lw, args, kwargs, label):
        names = ["input", "dim", "kind", "reverse", "exclusive"]
        p = _bind(args, kwargs, names, {"kind": default_kind, "reverse": False, "exclusive": False})
        if p.get("dtype") is not None:
            lw.bad(f"{label} with dtype")
            return None
        x, kind = p["input"], p["kind"]
        how = lw.reduce_check(x, lw.in_shape(0), p["dim"], label)
        if how is None:
            return None
        if kind == "prod" and p["exclusive"]:
            lw.bad(f"{label}: an exclusive product")
            return None
        if how == "trivial":
            return lw.mul(x, 0.0) if p["exclusive"] else x
        if x.cls == "leaf":
            x = lw.resolve(x, lw.in_shape(0), label)
        lw.scans += 1
        return V("scan", (x,), (kind, bool(p["reverse"]), bool(p["exclusive"])), "full")
    return h


def _pool_fn(kind: str, nd: int):
    def h(lw, args, kwargs, label):
        from kernelwright.agents.expert.pool import PoolSpec

        if kind == "max":
            names = ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"]
            p = _bind(args, kwargs, names, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            if p["return_indices"]:
                lw.bad(f"{label} with return_indices")
                return None
        else:
            names = ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"]
            p = _bind(args, kwargs, names, {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                                            "divisor_override": None})
        stride = p["stride"] if p["stride"] not in (None, [], ()) else p["kernel_size"]
        spec = PoolSpec(kind, nd, repr(p["kernel_size"]), repr(stride), repr(p["padding"]), repr(p.get("dilation", 1)),
                        repr(bool(p["ceil_mode"])), bool(p.get("count_include_pad", True)), p.get("divisor_override"),
                        lw.in_shape(0) or (), lw.out_shape() or ())
        return lw.pool(p["input"], spec, label)
    return h


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
    "var": _var(False), "std": _var(True), "logsumexp": _logsumexp, "argmax": _argmaxmin("max"), "argmin": _argmaxmin("min"),
    "mse_loss": _pointwise_loss("mse_loss"), "l1_loss": _pointwise_loss("l1_loss"),
    "smooth_l1_loss": _pointwise_loss("smooth_l1_loss"), "huber_loss": _pointwise_loss("huber_loss"), "kl_div": _kl_div,
    "pairwise_distance": _pairwise_distance, "cosine_similarity": _cosine_similarity, "gather": _gather,
    "cumsum": _scan("sum"), "cumprod": _scan("prod"), "kw_scan": _scan(None),
    **{f"{pre}{k}_pool{n}d": _pool_fn(k, n) for pre in ("", "_") for k in ("max", "avg") for n in (1, 2, 3)},
    "triu": _triangle(True), "tril": _triangle(False), "einsum": _einsum,
    "norm": _norm, "vector_norm": _norm, "group_norm": _group_norm, "instance_norm": _instance_norm, "batch_norm": _batch_norm,
    "unsqueeze": _view, "squeeze": _view, "view": _view, "reshape": _view, "flatten": _view, "view_as": _view,
    "expand": _expand, "expand_as": _expand,
    "softmax": _softmax(False), "log_softmax": _softmax(True),
    "layer_norm": _layer_norm, "rms_norm": _rms_norm, "normalize": _normalize,
    "getitem": _getitem, "getattr": _getattr, "size": _size,
    "where": _where, "gt": _cmp("gt"), "lt": _cmp("lt"), "ge": _cmp("ge"), "le": _cmp("le"), "eq": _cmp("eq"), "ne": _cmp("ne"),
    "t": _transpose("t"), "transpose": _transpose("transpose"), "swapaxes": _transpose("swapaxes"),
    "swapdims": _transpose("swapdims"), "permute": _transpose("permute"),
    "contiguous": _identity, "clone": _identity, "float": _identity, "to": _identity, "detach": _identity,
    "bfloat16": _identity, "half": _identity, "type_as": _identity_first,
}


