"""The `Lowering`'s reductions and the composite ops built from them: the check that a reduction's
dims are the stage's one reduction structure (`reduce_check`), reduce nodes, and mean, var,
softmax, layer / RMS / group / instance norm, inference batch norm and pooling decomposed into
primitives, so one codegen handles every row pattern.

A mixin of `walk.Lowering` (its state and the value builders of `values.ValueBuilder`)."""

from __future__ import annotations

import dataclasses
import math

from kernelwright.agents.expert.ir import TILE_LEVEL, V, _as_list
from kernelwright.agents.expert.space import suffixes


class ReductionBuilder:
    """The stage's reduction structure, reduce nodes and the composite ops over them."""

    def reduce_check(self, x: V | None, shape: tuple[int, ...] | None, dims, what: str,
                     named: dict[int, str] | None = None) -> str | None:
        """'ok' where `x` (of traced `shape`) reduced over `dims` (None: all) is the stage's
        reduction, 'trivial' over size-1 dims only, else None (reported)."""
        if not isinstance(x, V) or shape is None:
            self.bad(f"{what} of a non-tensor")
            return None
        n = len(shape)
        if dims is None:
            dims = list(range(n))
        dims = self.runtime_dims(x, shape, _as_list(dims), what)  # a dim read from an attribute: its traced value
        if dims is None:
            return None
        if not all(isinstance(d, int) for d in dims) or any(not -n <= d < max(n, 1) for d in dims):
            self.bad(f"{what} over dims {dims}")
            return None
        dims = sorted({d % n for d in dims}) if n else []
        size = math.prod(shape[d] for d in dims)
        if size == 1:
            return "trivial"
        nz = [d for d in dims if shape[d] != 1]
        if any(shape[d] != 1 and d not in dims for d in range(nz[0], nz[-1] + 1)):
            self.bad(f"{what} over dims {dims} of {list(shape)} (only consecutive dims)")
            return None
        if self.gemm:
            self.bad(f"a {what} reduction in a model with a {self.gemm} (the expert fuses elementwise epilogues only)")
            return None
        q = math.prod(shape[nz[-1] + 1:])
        numel = math.prod(shape)
        if self.discovering:
            if self.structure is None:
                self.structure = (numel, size * q, q, dict(named or {}))
            return "ok"
        sp = self.space
        suf = suffixes(sp.sizes)
        if numel != sp.numel or sp.a == sp.b or size * q != suf[sp.a] or q != suf[sp.b]:
            self.bad(f"{what} over dims {dims} of {list(shape)}: a second reduction structure in one kernel")
            return None
        if x.cls == "leaf":
            x = self.resolve(x, shape, what)
        if x is None or x.cls not in TILE_LEVEL:
            self.bad(f"{what} of a {getattr(x, 'cls', 'missing')} value")
            return None
        return "ok"

    def reduce_dims(self, x, dim, what: str) -> str | None:
        """reduce_check of the node's first argument over `dim`."""
        return self.reduce_check(x, self.in_shape(0), dim, what)

    def reduce(self, kind: str, a: V | None, keepdim: bool) -> V | None:
        if a is None:  # an operand was unsupported: reported already
            return None
        if self.gemm:
            self.bad(f"a {kind} reduction in a model with a {self.gemm} (the expert fuses elementwise epilogues only)")
        if a.cls == "leaf":
            a = self.resolve(a, self.in_shape(0), kind) or a
        self.reductions += 1
        one_row = self.space is not None and self.space.numel == self.space.extent("r")
        return V("reduce", (a,), kind, "row" if keepdim or one_row else "rowflat")  # one row: a scalar either way

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

    def per_channel(self, w, ndim: int) -> V | None:
        """A [C] parameter of a norm over [N, C, *]: broadcast along dim 1, not the last dim."""
        if self.gemm == "convolution" and isinstance(w, V) and w.op in ("input", "param") and w.cls == "operand" \
                and self.leaf_shape(w) == (self.main_shape[1],):
            return V(w.op, attr=w.attr, cls="col")  # a convolution epilogue's per-channel operand
        if w is None or not isinstance(w, V) or w.cls != "leaf":
            return w
        return dataclasses.replace(w, shape=tuple(w.shape) + (1,) * (ndim - 2))

    def normalise(self, x: V, eps: float) -> V:
        """(x - mean) * rsqrt(biased var + eps) over the stage's reduced dims (two passes: exact)."""
        d = self.sub(x, self.mean(x, True))
        var = self.div(self.reduce("sum", self.mul(d, d), True), self.ncols())
        return self.mul(d, self.un("rsqrt", self.add(var, eps)))

    def affine(self, y: V | None, w, b, ndim: int) -> V | None:
        if y is not None and w is not None:
            y = self.mul(y, self.per_channel(w, ndim))
        if y is not None and b is not None:
            y = self.add(y, self.per_channel(b, ndim))
        return y

    def group_norm(self, x, groups: int, w, b, eps: float, what: str, groups_host: str | None = None) -> V | None:
        shape = self.in_shape(0)
        if shape is None or len(shape) < 2 or shape[1] % groups:
            self.bad(f"{what} of shape {shape} in {groups} groups")
            return None
        n, c = shape[0], shape[1]
        grouped = (n, groups, c // groups, *shape[2:])
        cut = (c // groups) * math.prod(shape[2:])
        how = self.reduce_check(x, grouped, list(range(2, len(grouped))), what, {cut: groups_host} if groups_host else None)
        if how != "ok":
            if how == "trivial":
                self.bad(f"{what} of one element per group")
            return None
        return self.affine(self.normalise(x, eps), w, b, len(shape))

    def instance_norm(self, x, w, b, eps: float, what: str) -> V | None:
        shape = self.in_shape(0)
        if shape is None or len(shape) < 3 or self.reduce_check(x, shape, list(range(2, len(shape))), what) != "ok":
            self.bad(f"{what} of shape {shape}")
            return None
        return self.affine(self.normalise(x, eps), w, b, len(shape))

    def batch_norm_eval(self, x, mean, var, w, b, eps: float, what: str) -> V | None:
        """Inference batch norm (running statistics): a per-channel affine map, no reduction."""
        shape = self.in_shape(0)
        if shape is None or len(shape) < 2 or mean is None or var is None:
            self.bad(f"{what} without running statistics (training-mode batch statistics)")
            return None
        nd = len(shape)
        y = self.mul(self.sub(x, self.per_channel(mean, nd)), self.un("rsqrt", self.add(self.per_channel(var, nd), eps)))
        return self.affine(y, w, b, nd)

    def pool(self, x, spec, what: str) -> V | None:
        """A pooling of an input (or a view of one): the stage's one pooling; scalars may follow."""
        if isinstance(x, V) and x.cls == "leaf" and x.op in ("input", "param"):
            x = self.resolve(x, x.shape, what)
        if not isinstance(x, V) or x.op not in ("input", "param") or x.cls != "full":
            self.bad(f"{what} of a tensor computed in the same kernel (only of an input)")
            return None
        if spec.kind == "avg" and spec.ceil_mode not in ("False", "0"):
            self.bad(f"{what} with ceil_mode")
            return None
        self.pools.append(spec)
        return V("pool", (x,), spec, "full")
