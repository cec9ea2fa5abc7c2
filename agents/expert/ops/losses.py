"""Handlers of losses and distances: mse / l1 / smooth_l1 / huber and kl_div (elementwise, then
reduced as torch's `reduction` says), pairwise_distance and cosine_similarity (a reduction per row)."""

from __future__ import annotations

from kernelwright.agents.expert.ir import V, _bind
from kernelwright.agents.expert.ops.reductions import p_norm


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
    return p_norm(lw, d, float(p["p"]), -1, bool(p["keepdim"]), label)


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


LOSSES = {
    "mse_loss": _pointwise_loss("mse_loss"), "l1_loss": _pointwise_loss("l1_loss"),
    "smooth_l1_loss": _pointwise_loss("smooth_l1_loss"), "huber_loss": _pointwise_loss("huber_loss"), "kl_div": _kl_div,
    "pairwise_distance": _pairwise_distance, "cosine_similarity": _cosine_similarity,
}
