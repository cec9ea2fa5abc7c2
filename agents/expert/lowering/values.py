"""The `Lowering`'s value builders: constants, unary and binary nodes with the class of their
result (see `ir.V`), operands of the stage's shape or a scalar, and the placement of operands of
other shapes (`leaf` values) in the stage's iteration space once it is known (`resolve`).

A mixin of `walk.Lowering`, which holds the state these methods read (`main_shape`, `space`,
`gemm`, `discovering`, the node being lowered)."""

from __future__ import annotations

import math

import torch.fx as fx
import torch.nn as nn

from kernelwright.agents.expert.conv_ir import epilogue_class
from kernelwright.agents.expert.ir import _CONST_FOLD, V, _merge
from kernelwright.agents.expert.space import layout_of


class ValueBuilder:
    """IR values and their placement; unsupported uses are collected with `bad`."""

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

    def out_shape(self) -> tuple[int, ...] | None:
        meta = self.node.meta.get("tensor_meta") if self.node is not None else None
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def in_shape(self, i: int = 0, key: str = "input") -> tuple[int, ...] | None:
        """The traced shape of the node's i-th argument (or keyword `key`)."""
        node = self.node
        arg = node.args[i] if node is not None and len(node.args) > i else (node.kwargs.get(key) if node is not None else None)
        meta = arg.meta.get("tensor_meta") if isinstance(arg, fx.Node) else None
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def un(self, fn: str, a: V | None, **params) -> V | None:
        if a is None:  # an operand was unsupported: reported already
            return None
        if a.cls == "leaf":  # placed where it meets the stage's space
            return V("un", (a,), (fn, params), "leaf", shape=a.shape)
        return V("un", (a,), (fn, params), a.cls)

    def bin(self, fn: str, a, b, what: str = "") -> V | None:
        if a is None or b is None:  # an operand was unsupported: reported already
            return None
        a, b = self.val(a), self.val(b)
        if a is None or b is None:
            self.bad(what or f"{fn} with a non-numeric operand")
            return None
        if a.op == "const" and b.op == "const" and fn in _CONST_FOLD:
            return self.const(_CONST_FOLD[fn](a.attr, b.attr))
        if "leaf" in (a.cls, b.cls):
            context = self.out_shape()
            if context is not None and not self.in_space(context) and {a.cls, b.cls} <= {"leaf", "scalar"}:
                return V("bin", (a, b), fn, "leaf", shape=context)  # two small operands: placed later
            a, b = self.resolve(a, context, what or fn), self.resolve(b, context, what or fn)
            if a is None or b is None:
                return None
        cls = _merge(a.cls, b.cls)
        if cls is None and {a.cls, b.cls} == {"row", "rowflat"}:
            # one value per row either way (a kept dim squeezed away): fine where the result is too
            out = self.out_shape()
            if out is not None and self.space is not None and math.prod(out) * self.space.extent("r") == self.space.numel:
                cls = "rowflat" if len(out) < len(self.main_shape) else "row"
        if "operand" in (a.cls, b.cls):
            self.bad(f"{what or fn} of a transposed tensor or a tensor of another shape than the {self.gemm or 'matmul'}'s "
                     "output (only its operands may be transposed or of another shape)")
            return None
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
        """A matmul or convolution epilogue's operand class (the row and elementwise families place
        theirs lazily)."""
        shape = tuple(shape)
        if self.gemm == "convolution":
            return epilogue_class(shape, self.main_shape)
        if self.main_shape is not None and shape == self.main_shape:
            return "full"
        numel = math.prod(shape)
        if numel == 1:
            return "scalar"
        if self.main_shape is not None and shape and shape[-1] == self.main_shape[-1] and numel == shape[-1]:
            return "col"
        if self.main_shape is not None and len(shape) >= 2 and shape == tuple(self.main_shape[:-1]) + (1,):
            return "row"  # one value per row (a [rows, 1] input), broadcast along the last dim
        if self.gemm:
            return "operand"  # fine as a matmul operand; anything else using it is reported there
        self.bad(f"{what} of shape {list(shape)} (only the output's shape, a last-dim vector, a per-row [..., 1] "
                 "tensor or a scalar broadcast)")
        return None

    def leaf(self, op: str, attr: str, shape: tuple[int, ...], what: str) -> V | None:
        shape = tuple(shape)
        if self.gemm:
            cls = self.classify(shape, what)
            return None if cls is None else V(op, attr=attr, cls=cls)
        if shape == self.main_shape:
            return V(op, attr=attr, cls="full")
        if math.prod(shape) == 1:
            return V(op, attr=attr, cls="scalar")
        return V(op, attr=attr, cls="leaf", shape=shape)

    def in_space(self, shape: tuple[int, ...]) -> bool:
        """Whether a value of `shape` is the stage's main tensor (any view of it) or one row value each."""
        n = math.prod(shape)
        main = math.prod(self.main_shape or ())
        if n == main:
            return True
        return self.space is not None and n == self.space.numel // max(self.space.extent("r"), 1)

    def space_dims(self, context: tuple[int, ...]) -> list[int] | None:
        sp = self.space
        n = math.prod(context)
        if n == sp.numel:
            return list(range(len(sp.dims)))
        lo, hi = sp.axis_range("r")
        if hi > lo and n == sp.numel // sp.extent("r"):
            return [k for k in range(len(sp.dims)) if not lo <= k < hi]
        return None

    def resolve(self, v: V, context: tuple[int, ...] | None, what: str) -> V | None:
        """`v` (a value of another shape) placed in the stage's space where it is broadcast to `context`."""
        if v.cls != "leaf":
            return v
        if context is None:
            context = v.shape
        if self.discovering:
            for leaf in (x for x in _leaves_of(v)):
                self.leaf_uses.append((leaf.shape, tuple(context)))
            return V("input", attr="?", cls="full")
        dims = self.space_dims(tuple(context))
        if v.op in ("input", "param"):
            layout = None if dims is None else layout_of(v.shape, tuple(context), dims, self.space)
            if layout is None:
                label = "input" if v.op == "input" else "attribute"
                self.bad(f"{what}: {label} {v.attr} of shape {list(v.shape)} broadcast to {list(context)} "
                         f"(the stage walks {list(self.main_shape)})")
                return None
            cls = self.class_of(layout)
            return V(v.op, attr=v.attr, cls=cls, layout=layout if cls in ("bcast", "rbcast") else None)
        args = []
        for a in v.args:
            r = self.resolve(a, context, what) if isinstance(a, V) else a
            if r is None:
                return None
            args.append(r)
        if v.op == "un":
            return V("un", tuple(args), v.attr, args[0].cls)
        cls = _merge(args[0].cls, args[1].cls) if v.op == "bin" else _merge(args[0].cls, _merge(args[1].cls, args[2].cls) or "bad")
        if cls is None:
            self.bad(f"{what}: broadcast")
            return None
        return V(v.op, tuple(args), v.attr, cls)

    def class_of(self, layout: tuple[int, ...]) -> str:
        sp = self.space
        n = len(sp.dims)
        r = tuple(range(sp.a, sp.b))
        pq = tuple(k for k in range(n) if k not in r)
        if layout == tuple(range(n)):
            return "full"
        if not layout:
            return "scalar"
        if layout == r:
            return "col"
        if layout == pq:
            return "row"
        return "bcast" if set(layout) & set(r) else "rbcast"

    def param(self, path: str, what: str) -> V | None:
        return self.leaf("param", path, self.param_shape(path), what)

    def param_shape(self, path: str) -> tuple[int, ...]:
        t = self.gm.get_parameter(path) if _has_param(self.gm, path) else self.gm.get_buffer(path)
        return tuple(t.shape)

    def leaf_shape(self, v: V) -> tuple[int, ...] | None:
        if v.op == "input":
            return self.input_shapes.get(v.attr)
        return self.param_shape(v.attr) if v.op == "param" else None


def _has_param(gm: nn.Module, path: str) -> bool:
    return path in dict(gm.named_parameters())


def _leaves_of(v: V):
    if v.op in ("input", "param"):
        yield v
    for a in v.args:
        if isinstance(a, V):
            yield from _leaves_of(a)

