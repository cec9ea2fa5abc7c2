"""Lower a traced reference `Model` (see `tracing`) to a tiny expression IR.

The IR covers what the expert codegen can emit: elementwise math over tensors that share the
output's shape ("full"), vectors along the reduced dims ("col", e.g. a LayerNorm weight),
scalars, operands broadcast along other dims ("bcast" / "rbcast", read through a layout over the
stage's iteration space, see `space`), and one reduction structure per kernel: over any block of
consecutive dims ("row": one value per row, kept dims; "rowflat": the same without them).
Composite ops (softmax, layer_norm, group_norm, ...) are decomposed into these primitives, so one
codegen handles every row pattern. Anything else is collected by name and reported through
`UnsupportedProblem`.

The walk runs twice: a first pass finds the reduction's dims and how each operand of another
shape is broadcast (to build the stage's `Space`), the second lowers against that space.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from kernelwright.agents.expert.ir import (  # noqa: F401 - re-exported
    _CONST_FOLD,
    ATEN_NAMES,
    ROW_LEVEL,
    TILE_LEVEL,
    UnsupportedProblem,
    V,
    _as_list,
    _bind,
    _merge,
    load_problem_module,
)
from kernelwright.agents.expert.matmul_ir import (
    is_matmul_node,
    lower_linear_module,
    lower_matmul_call,
    op_name,
)
from kernelwright.agents.expert.ops import FUNCS
from kernelwright.agents.expert.pool import PoolSpec
from kernelwright.agents.expert.space import Space, layout_of, make_space, suffixes


class Lowering:
    def __init__(self, model: nn.Module, gm: fx.GraphModule, example_inputs: list | None = None):
        self.model = model
        self.gm = gm
        self.example_inputs = list(example_inputs or [])
        self.unsupported: list[str] = []
        self.main_shape: tuple[int, ...] | None = None
        self.inputs: list[str] = []  # placeholder names, in order
        self.input_shapes: dict[str, tuple[int, ...]] = {}
        self.scalar_args: list[str] = []  # inputs that are Python numbers (kernel arguments)
        self.reductions = 0
        self.scans = 0
        self.pools: list = []  # PoolSpec of the stage's pooling (at most one)
        self.matmuls = 0
        self.argreduce = False  # the output is an index (argmax / argmin)
        # With a matmul, the output's shape is the matmul's; tensors that are neither of that
        # shape nor broadcast to it may still be matmul operands ("operand" class).
        self.matmul_mode = False
        self.space: Space | None = None
        self.node: fx.Node | None = None  # the node being lowered (its shapes are in its meta)
        # First pass: the reduction structure (numel, R*Q, Q, named cuts) and operand uses.
        self.discovering = False
        self.structure: tuple[int, int, int, dict[int, str]] | None = None
        self.leaf_uses: list[tuple[tuple[int, ...], tuple[int, ...]]] = []

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

    def out_shape(self) -> tuple[int, ...] | None:
        meta = self.node.meta.get("tensor_meta") if self.node is not None else None
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def in_shape(self, i: int = 0, key: str = "input") -> tuple[int, ...] | None:
        """The traced shape of the node's i-th argument (or keyword `key`)."""
        node = self.node
        arg = node.args[i] if node is not None and len(node.args) > i else (node.kwargs.get(key) if node is not None else None)
        meta = arg.meta.get("tensor_meta") if isinstance(arg, fx.Node) else None
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def un(self, fn: str, a: V, **params) -> V:
        if a.cls == "leaf":  # placed where it meets the stage's space
            return V("un", (a,), (fn, params), "leaf", shape=a.shape)
        return V("un", (a,), (fn, params), a.cls)

    def bin(self, fn: str, a, b, what: str = "") -> V | None:
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
            self.bad(f"{what or fn} of a transposed tensor or a tensor of another shape than the matmul's output "
                     "(only matmul operands may be transposed)")
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
        """A matmul epilogue's operand class (the row and elementwise families place theirs lazily)."""
        shape = tuple(shape)
        if self.main_shape is not None and shape == self.main_shape:
            return "full"
        numel = math.prod(shape)
        if numel == 1:
            return "scalar"
        if self.main_shape is not None and shape and shape[-1] == self.main_shape[-1] and numel == shape[-1]:
            return "col"
        if self.main_shape is not None and len(shape) >= 2 and shape == tuple(self.main_shape[:-1]) + (1,):
            return "row"  # one value per row (a [rows, 1] input), broadcast along the last dim
        if self.matmul_mode:
            return "operand"  # fine as a matmul operand; anything else using it is reported there
        self.bad(f"{what} of shape {list(shape)} (only the output's shape, a last-dim vector, a per-row [..., 1] "
                 "tensor or a scalar broadcast)")
        return None

    def leaf(self, op: str, attr: str, shape: tuple[int, ...], what: str) -> V | None:
        shape = tuple(shape)
        if self.matmul_mode:
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
        dims = _as_list(dims)
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
        if self.matmul_mode:
            self.bad(f"a {what} reduction in a model with a matmul (the expert fuses elementwise epilogues only)")
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

    def last_dim(self, a: V, dim, what: str) -> bool:
        """The old single-dim check, kept for handlers that need a plain yes (trivial counts as no)."""
        return self.reduce_dims(a, dim, what) == "ok"

    def reduce(self, kind: str, a: V, keepdim: bool) -> V:
        if self.matmul_mode:
            self.bad(f"a {kind} reduction in a model with a matmul (the expert fuses elementwise epilogues only)")
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

    def param(self, path: str, what: str) -> V | None:
        return self.leaf("param", path, self.param_shape(path), what)

    def param_shape(self, path: str) -> tuple[int, ...]:
        t = self.gm.get_parameter(path) if _has_param(self.gm, path) else self.gm.get_buffer(path)
        return tuple(t.shape)

    def leaf_shape(self, v: V) -> tuple[int, ...] | None:
        if v.op == "input":
            return self.input_shapes.get(v.attr)
        return self.param_shape(v.attr) if v.op == "param" else None

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> V:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        shapes = []
        for i, n in enumerate(placeholders):
            meta = n.meta.get("tensor_meta")
            if meta is None or not hasattr(meta, "shape"):
                if not _is_number(self.example_inputs[i] if i < len(self.example_inputs) else None):
                    self.bad(f"non-tensor input {n.target}")
                continue
            shapes.append(tuple(meta.shape))
        if not shapes:
            raise UnsupportedProblem("expert policy: no kernel for a model without tensor inputs")
        self.main_shape = max(shapes, key=math.prod)
        first_matmul = next((n for n in self.gm.graph.nodes if is_matmul_node(self.gm, n)), None)
        if first_matmul is not None and first_matmul.meta.get("tensor_meta") is not None:
            self.matmul_mode = True
            self.main_shape = tuple(first_matmul.meta["tensor_meta"].shape)
        if len(self.main_shape) == 0:
            self.bad("0-d tensor inputs")
        if self.matmul_mode:
            return self.walk()
        # First pass: which dims the reduction covers and how operands broadcast; errors are
        # reported by the second pass, which lowers against the space built in between.
        saved = list(self.unsupported)
        self.discovering = True
        try:
            self.walk()
        except UnsupportedProblem:
            pass
        self.discovering = False
        self.unsupported, self.inputs, self.input_shapes, self.scalar_args = saved, [], {}, []
        self.reductions, self.scans, self.argreduce, self.pools = 0, 0, False, []
        self.space = self.plan_space()
        return self.walk()

    def plan_space(self) -> Space:
        main = tuple(self.main_shape)
        if self.structure is None:  # elementwise: split where every operand varies along all columns or none
            prelim = make_space(main)
            n = len(prelim.dims)
            every = list(range(n))
            layouts = [layout_of(shape, ctx, every, prelim) for shape, ctx in self.leaf_uses
                       if math.prod(ctx) == prelim.numel]
            layouts = [set(x) for x in layouts if x is not None]
            a = max(n - 1, 0)
            broadcast = any(x and x != set(every) for x in layouts)
            while broadcast and a > 0 and all(not (x & set(range(a - 1, n))) or set(range(a - 1, n)) <= x for x in layouts):
                a -= 1
            return Space(prelim.dims, a, n)
        numel, rq, q, named = self.structure
        if numel != math.prod(main):
            raise UnsupportedProblem(f"expert policy: no kernel for a reduction of a tensor of {numel} elements in a stage "
                                     f"over {list(main)} (another size)")
        return make_space(main, cuts=(rq, q), axes=(rq, q), named_cuts=named)

    def walk(self) -> V:
        env: dict[fx.Node, Any] = {}
        result = None
        position = 0
        for node in self.gm.graph.nodes:
            self.node = node
            if node.op == "placeholder":
                self.inputs.append(node.target)
                meta = node.meta.get("tensor_meta")
                example = self.example_inputs[position] if position < len(self.example_inputs) else None
                position += 1
                if meta is None or not hasattr(meta, "shape"):
                    if _is_number(example):  # a Python number: a scalar kernel argument
                        self.scalar_args.append(node.target)
                        env[node] = V("arg", attr=node.target, cls="scalar")
                    else:
                        env[node] = None
                    continue
                if meta.dtype.is_complex:
                    self.bad(f"input {node.target} of dtype {meta.dtype}")
                self.input_shapes[node.target] = tuple(meta.shape)
                env[node] = self.leaf("input", node.target, tuple(meta.shape), f"input {node.target}")
            elif node.op == "get_attr":
                env[node] = self.param(node.target, f"attribute {node.target}")
            elif node.op == "output":
                out = node.args[0]
                if isinstance(out, (tuple, list)) and len(out) == 1:  # torch.export returns a tuple
                    out = out[0]
                result = env.get(out) if isinstance(out, fx.Node) else None
                if not isinstance(out, fx.Node):
                    self.bad("several outputs")
                elif isinstance(result, V) and result.cls == "leaf":
                    meta = out.meta.get("tensor_meta")
                    result = self.resolve(result, tuple(meta.shape) if meta is not None else None, "the output")
            elif node.op == "call_module" and not node.users and str(node.target).startswith("_guards"):
                continue  # torch.export's shape guard: checks, computes nothing
            else:
                args = fx.node.map_arg(node.args, lambda n: env.get(n))
                kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n))
                if _has_missing(node, env):
                    env[node] = None  # an input was unsupported: reported already
                    continue
                env[node] = self.lower(node, tuple(args), dict(kwargs))
        self.node = None
        if self.pools and (self.reductions or self.scans or len(self.pools) > 1):
            self.bad("a pooling with another pooling, a scan or a reduction in one kernel")
        if self.scans and (self.reductions or self.scans > 1 or (self.space and self.space.b < len(self.space.dims))):
            self.bad("a scan with another scan or a reduction in one kernel, or along a middle dim")
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
        elif hasattr(node.target, "overloadpacket"):  # an aten op of a torch.export graph
            name = op_name(node.target)
            label = f"aten.{name}"
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
        if name in ("linear", "matmul", "mm", "bmm", "addmm", "baddbmm"):
            return lower_matmul_call(self, name, args, kwargs, label)
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
        if kind == "Linear":
            return lower_linear_module(self, path, mod, x, "nn.Linear")
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
            return FUNCS["softmax" if kind == "Softmax" else "log_softmax"](self, (x, mod.dim), {}, f"nn.{kind}")
        w = self.param(f"{path}.weight", f"nn.{kind} weight") if getattr(mod, "weight", None) is not None else None
        b = self.param(f"{path}.bias", f"nn.{kind} bias") if getattr(mod, "bias", None) is not None else None
        if kind in ("LayerNorm", "RMSNorm"):
            shape = self.in_shape(0) or ()
            n = len(mod.normalized_shape)
            if self.reduce_check(x, shape, list(range(len(shape) - n, len(shape))), f"nn.{kind}") != "ok":
                self.bad(f"nn.{kind} over size-1 dims")
                return None
            if kind == "LayerNorm":
                return self.layer_norm(x, w, b, float(mod.eps))
            eps = mod.eps if mod.eps is not None else torch.finfo(torch.float32).eps
            return self.rms_norm(x, w, float(eps))
        if kind == "GroupNorm":
            return self.group_norm(x, int(mod.num_groups), w, b, float(mod.eps), "nn.GroupNorm", f"self.{path}.num_groups")
        if kind in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
            running = getattr(mod, "running_mean", None) is not None and mod.track_running_stats
            if running and not mod.training:
                mean = self.param(f"{path}.running_mean", f"nn.{kind} running_mean")
                var = self.param(f"{path}.running_var", f"nn.{kind} running_var")
                return self.batch_norm_eval(x, mean, var, w, b, float(mod.eps), f"nn.{kind}")
            if kind.startswith("BatchNorm"):
                self.bad(f"nn.{kind} with batch statistics (training mode)")
                return None
            return self.instance_norm(x, w, b, float(mod.eps), f"nn.{kind}")
        if kind == "Dropout" and (mod.p == 0 or not mod.training):
            return x
        if kind in ("MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d"):
            if getattr(mod, "return_indices", False):
                self.bad(f"nn.{kind} with return_indices")
                return None
            avg = kind.startswith("Avg")
            m = f"self.{path}"
            spec = PoolSpec("avg" if avg else "max", int(kind[-2]), f"{m}.kernel_size", f"{m}.stride", f"{m}.padding",
                            "1" if avg else f"{m}.dilation", repr(bool(mod.ceil_mode)), bool(getattr(mod, "count_include_pad", True)),
                            getattr(mod, "divisor_override", None), self.in_shape(0) or (), self.out_shape() or ())
            return self.pool(x, spec, f"nn.{kind}")
        losses = {"MSELoss": ("mse_loss", {}), "L1Loss": ("l1_loss", {}),
                  "SmoothL1Loss": ("smooth_l1_loss", {"beta": getattr(mod, "beta", 1.0)}),
                  "HuberLoss": ("huber_loss", {"delta": getattr(mod, "delta", 1.0)}),
                  "KLDivLoss": ("kl_div", {"log_target": getattr(mod, "log_target", False)})}
        if kind in losses:
            fn, extra = losses[kind]
            return FUNCS[fn](self, tuple(args[:2]), {"reduction": mod.reduction, **extra}, f"nn.{kind}")
        if kind == "CosineSimilarity":
            return FUNCS["cosine_similarity"](self, tuple(args[:2]), {"dim": mod.dim, "eps": mod.eps}, f"nn.{kind}")
        if kind == "PairwiseDistance":
            return FUNCS["pairwise_distance"](self, tuple(args[:2]), {"p": mod.norm, "eps": mod.eps, "keepdim": mod.keepdim},
                                              f"nn.{kind}")
        self.bad(_label(f"nn.{kind}", kind))
        return None


def _label(label: str, name: str) -> str:
    aten = ATEN_NAMES.get(name)
    return f"{aten} ({label})" if aten else label


def _has_param(gm: nn.Module, path: str) -> bool:
    return path in dict(gm.named_parameters())


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _leaves_of(v: V):
    if v.op in ("input", "param"):
        yield v
    for a in v.args:
        if isinstance(a, V):
            yield from _leaves_of(a)


def _has_missing(node: fx.Node, env: dict) -> bool:
    return any(env.get(n) is None and n in env for n in node.all_input_nodes)
