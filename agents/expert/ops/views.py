"""Handlers of views, shapes and indexing: unsqueeze / view / reshape / flatten and expand (nothing
to compute: a value of another shape is placed where it is used), transposes and permutes (a
matmul operand read through its strides), `.shape` / `.size()` / `x.shape[i]` (a size read at run
time) and the `(values, indices)` pair of `torch.max(x, dim)`."""

from __future__ import annotations

import dataclasses

from kernelwright.agents.expert.ir import V, _bind
from kernelwright.agents.expert.matmul_ir import transpose_text, view_value


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
        if idx in (-1, obj[1] - 1) and not lw.gemm:
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
    if name == "device" and isinstance(obj, V):
        return ("device",)  # only ever a placement (`torch.tensor(0.5, device=x.device)`), nothing to compute
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
    if lw.gemm and x.cls not in ("full", "scalar"):
        lw.bad(f"{label} of a {x.cls} value in a {lw.gemm} epilogue")
        return None
    return x


def _expand(lw, args, kwargs, label):
    x = args[0] if args else kwargs.get("input")
    if not isinstance(x, V) or x.cls in ("operand",) or x.op == "view":
        lw.bad(label)
        return None
    return x  # broadcast where it is used


VIEWS = {
    "unsqueeze": _view, "squeeze": _view, "view": _view, "reshape": _view, "flatten": _view, "view_as": _view,
    "expand": _expand, "expand_as": _expand,
    "getitem": _getitem, "getattr": _getattr, "size": _size,
    "t": _transpose("t"), "transpose": _transpose("transpose"), "swapaxes": _transpose("swapaxes"),
    "swapdims": _transpose("swapdims"), "permute": _transpose("permute"),
}
