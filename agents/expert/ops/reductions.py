"""Handlers of reductions over the stage's reduced dims: sum, mean, max/min (values and
indices), argmax/argmin, var/std, logsumexp, softmax / log_softmax, p-norms and `normalize`, and
`gather` of one index per row. Each checks through `Lowering.reduce_dims` that its dims are the
stage's one reduction structure (a reduction over size-1 dims is `trivial`: the value itself)."""

from __future__ import annotations

import torch

from kernelwright.agents.expert.ir import V, _bind


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
        dim = p.get("dim")
        # An integer attribute (`self.dim`, read at run time) is a dim; any other value, the other operand.
        other = isinstance(dim, V) and not isinstance(lw.attribute_value(dim), int)
        if other or isinstance(p.get("other"), V):
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


def p_norm(lw, x, p, dims, keep, label):
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
    norm = p_norm(lw, x, float(p["p"]), p["dim"], True, label)
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
    return p_norm(lw, p["input"], order, p["dim"], bool(p["keepdim"]), label)


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


REDUCTIONS = {
    "sum": _sum, "mean": _mean, "amax": _amax("max"), "amin": _amax("min"), "max": _maxmin("max"), "min": _maxmin("min"),
    "var": _var(False), "std": _var(True), "logsumexp": _logsumexp, "argmax": _argmaxmin("max"), "argmin": _argmaxmin("min"),
    "softmax": _softmax(False), "log_softmax": _softmax(True),
    "norm": _norm, "vector_norm": _norm, "normalize": _normalize, "gather": _gather,
}
