"""The expression `Emitter` every kernel family shares (matmul epilogues and pooling included):
it turns IR values into Triton statements, loading each operand at its class's offset
(`full`, `col`, `row`, or through a layout for `bcast` / `rbcast` operands, see `LayoutArgs`).
Also the helpers that name a kernel's leaves (inputs, parameters, numbers) on both sides of the
launch: the kernel's pointer argument and the host expression passed for it.

All arithmetic is in fp32 (loads are converted, stores cast to the output's dtype)."""

from __future__ import annotations

import re

from kernelwright.agents.expert.expressions import BINARY, _f, sig, unary_expr, walk
from kernelwright.agents.expert.ir import UnsupportedProblem, V
from kernelwright.agents.expert.space import Space, term_host, terms


class LayoutArgs:
    """Offsets of operands read through a layout over the stage's space (`space.terms`), and the
    integer kernel arguments (divisors, moduli, strides) the host computes for them from `kw_s`."""

    def __init__(self, space: Space | None, axis_vars: dict[str, str]):
        self.space = space
        self.axis_vars = axis_vars
        self.args: list[tuple[str, str]] = []  # (kernel argument, host expression)
        self.cache: dict[tuple, str] = {}

    def offset(self, v: V, ptr: str) -> str:
        key = (ptr, v.layout)
        if key not in self.cache:
            k = len(self.cache)
            stem = ptr.removesuffix("_ptr")
            parts = []
            for i, term in enumerate(terms(v.layout, self.space)):
                divisor, modulus, stride = term_host(term, v.layout, self.space)
                e = self.axis_vars[term.axis]
                for tag, host, fmt in (("d", divisor, "({e} // {a})"), ("m", modulus, "({e} % {a})"), ("s", stride, "{e} * {a}")):
                    wanted = {"d": term.divide, "m": term.modulo, "s": host != "1"}[tag]
                    if wanted:
                        arg = f"{stem}_{k}{tag}{i}"
                        self.args.append((arg, host))
                        e = fmt.format(e=e, a=arg)
                parts.append(e)
            self.cache[key] = " + ".join(parts) or "0"
        return self.cache[key]

    @property
    def names(self) -> list[str]:
        return [a for a, _ in self.args]

    @property
    def host(self) -> list[str]:
        return [h for _, h in self.args]


class Emitter:
    """Turns IR nodes into Triton statements. `scope` caches names per loop body."""

    def __init__(self, tensors: dict[str, str], index: dict[str, str], used: set[str], masks: dict[str, str] | None = None,
                 layouts: LayoutArgs | None = None):
        self.tensors = tensors  # leaf key -> kernel pointer argument
        self.index = index  # cls -> offset expression ("full": offs, "col": cols) in the current scope
        self.masks = masks or {}  # cls -> mask expression (default: `mask`)
        self.used = used
        self.layouts = layouts  # bcast / rbcast operands
        self.n = 0

    def fresh(self, prefix: str = "v") -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def emit(self, v: V, lines: list[str], cache: dict[int, str], outer: dict[int, str]) -> str:
        key = sig(v)
        if key in cache:
            return cache[key]
        if key in outer:
            return outer[key]
        if v.op == "const":
            return _f(v.attr)
        if v.op == "ncols":
            return "n_cols_f"
        if v.op == "pos":  # the element's row or column in its matrix (triu / tril)
            if f"pos_{v.attr}" not in self.index:
                raise UnsupportedProblem(f"expert policy: no kernel for a {v.attr} position in this kernel")
            return self.index[f"pos_{v.attr}"]
        if v.op == "arg":  # a Python number passed to the kernel
            name = self.fresh("x")
            lines.append(f"{name} = {self.tensors[leaf_key(v)]} * 1.0")
        elif v.op in ("input", "param"):
            ptr = self.tensors[leaf_key(v)]
            name = self.fresh("x")
            off, mask = self.index.get(v.cls), self.masks.get(v.cls, "mask")
            if v.cls in ("bcast", "rbcast"):
                off = self.layouts.offset(v, ptr)
            if v.cls == "scalar":
                lines.append(f"{name} = tl.load({ptr}).to(tl.float32)")
            elif mask is None:  # one value per program (a per-row input in the row kernel)
                lines.append(f"{name} = tl.load({ptr} + {off}).to(tl.float32)")
            else:
                lines.append(f"{name} = tl.load({ptr} + {off}, mask={mask}, other=0.0).to(tl.float32)")
        elif v.op == "gather":  # x[row, index[row]] in a row kernel (masked: an index out of the row reads 0)
            x, idx = v.args
            if "base" not in self.index.get("full", ""):
                raise UnsupportedProblem("expert policy: no kernel for a gather outside a row kernel")
            ptr = self.tensors[leaf_key(idx)]
            off = self.layouts.offset(idx, ptr) if idx.cls == "rbcast" else self.index.get(idx.cls, "0")
            i = self.fresh("i")
            lines.append(f"{i} = tl.load({ptr}{'' if idx.cls == 'scalar' else ' + ' + off}).to(tl.int64)")
            name = self.fresh("x")
            lines.append(f"{name} = tl.load({self.tensors[leaf_key(x)]} + base + {i}, mask=({i} >= 0) & ({i} < n_cols), "
                         "other=0.0).to(tl.float32)")
        elif v.op == "un":
            x = self.emit(v.args[0], lines, cache, outer)
            fn, params = v.attr
            name = self.fresh()
            lines.append(f"{name} = {unary_expr(fn, x, params, self.used)}")
        elif v.op == "bin":
            a = self.emit(v.args[0], lines, cache, outer)
            b = self.emit(v.args[1], lines, cache, outer)
            name = self.fresh()
            lines.append(f"{name} = " + BINARY[v.attr].format(a=a, b=b))
        elif v.op == "where":
            c, a, b = (self.emit(x, lines, cache, outer) for x in v.args)
            name = self.fresh()
            lines.append(f"{name} = tl.where({c}, {a}, {b})")
        else:
            raise UnsupportedProblem(f"expert policy: internal error, cannot emit {v.op} here")
        cache[key] = name
        return name


def leaf_key(v: V) -> str:
    return f"{v.op}:{v.attr}"


LEAF_OPS = ("input", "param", "arg")


def distinct_leaves(order: list[V]) -> list[V]:
    out, seen = [], set()
    for v in order:
        if v.op in LEAF_OPS and leaf_key(v) not in seen:
            seen.add(leaf_key(v))
            out.append(v)
    return out


def ptr_name(v: V) -> str:
    base = str(v.attr).replace(".", "_")
    if v.op == "arg":  # a number: an input's name or a size expression (`kw_main.shape[0]`)
        return "arg_" + re.sub(r"\W+", "_", str(v.attr)).strip("_")
    return f"{'in' if v.op == 'input' else 'p'}_{base}_ptr"


def host_expr(v: V) -> str:
    return str(v.attr) if v.op in ("input", "arg") else f"self.{v.attr}"


def depth_of(order: list[V]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for v in order:
        d = max((depth[id(a)] for a in v.args), default=0)
        depth[id(v)] = d + 1 if v.op == "reduce" else d
    return depth


def broadcasts(leaves: list[V]) -> bool:
    """Whether an operand is indexed by row or column alone: the elementwise kernel then tiles 2-D."""
    return any(v.cls in ("col", "row", "bcast", "rbcast") for v in leaves)


def leaf_uses(out: V) -> list[V]:
    """Every leaf node (one per layout a leaf is read through)."""
    return [v for v in walk(out) if v.op in LEAF_OPS]
