"""Lowering of the matmul family: nn.Linear, F.linear, torch.matmul / @, mm, bmm, addmm.

A matmul becomes one IR value `V("matmul", attr=MatmulSpec)` of class "full": the elementwise
epilogue that follows (bias, activation, scaling, a residual of the output's shape) is lowered by
the ordinary handlers on top of it and fused into the tile before the store. The two operands
are not IR values the kernel computes: they are inputs or parameters, optionally transposed or
permuted, which the host passes with their strides (a transpose costs nothing).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import torch.fx as fx

from kernelwright.agents.expert.ir import V, _bind

if TYPE_CHECKING:
    from kernelwright.agents.expert.lowering import Lowering

# Ops that are a matmul, by the name the lowering sees (torch function, Tensor method or aten op).
MATMUL_FUNCTIONS = frozenset({"linear", "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum"})
MATMUL_MODULES = frozenset({"Linear"})


@dataclasses.dataclass(frozen=True)
class Operand:
    """A matmul operand: a host expression over an input or parameter (`x`, `self.w.t()`)."""

    host: str
    ndim: int


@dataclasses.dataclass(frozen=True)
class MatmulSpec:
    a: Operand
    b: Operand
    label: str

    @property
    def folded(self) -> bool:
        """B has no batch dims: A's leading dims fold into M (one GEMM with more rows)."""
        return self.b.ndim == 2


def is_matmul_node(gm: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_module":
        return type(gm.get_submodule(node.target)).__name__ in MATMUL_MODULES
    if node.op in ("call_function", "call_method"):
        return op_name(node.target) in MATMUL_FUNCTIONS
    return False


def op_name(target) -> str:
    """The short name of a call target: torch function, Tensor method, operator or aten op."""
    packet = getattr(target, "overloadpacket", None)
    if packet is not None:  # an aten OpOverload from torch.export
        return packet.__name__
    if isinstance(target, str):
        return target
    return getattr(target, "__name__", str(target))


def operand(lw: Lowering, v, label: str) -> Operand | None:
    """The operand for IR value `v`, or None after naming why it is unsupported."""
    suffix: list[str] = []
    while isinstance(v, V) and v.op == "view":
        suffix.insert(0, v.attr)
        v = v.args[0]
    if not isinstance(v, V) or v.op not in ("input", "param"):
        lw.bad(f"{label} of a tensor computed inside the model (only inputs and parameters, optionally "
               "transposed, feed a matmul)")
        return None
    shape = lw.leaf_shape(v)
    if shape is None or len(shape) < 2:
        lw.bad(f"{label} with a {len(shape or ())}-d operand (only matrices and batches of matrices)")
        return None
    host = (str(v.attr) if v.op == "input" else f"self.{v.attr}") + "".join(suffix)
    return Operand(host, len(shape))


def matmul_value(lw: Lowering, a, b, label: str) -> V | None:
    if lw.matmuls:
        lw.bad(f"{label}: a second matmul (the expert fuses one matmul per kernel)")
        return None
    if lw.gemm == "convolution":
        lw.bad(f"{label} in a kernel with a convolution (one matmul or convolution per kernel)")
        return None
    lw.matmuls += 1
    oa, ob = operand(lw, a, label), operand(lw, b, label)
    if oa is None or ob is None:
        return None
    return V("matmul", (), MatmulSpec(oa, ob, label), "full")


def materialised(lw: Lowering, v: V | None) -> V | None:
    """The matmul call's result rounded to the output's dtype, as the reference stores it before
    the rest of its epilogue reads it (cuBLAS applies bias/alpha/beta in fp32, then rounds once).
    Keeping it in fp32 is more exact but not what the reference computes: on an H100, a bf16
    `residual + linear(x)` whose linear output (magnitude ~4) mostly cancels the residual was
    rejected at 7 of 6.5M elements, where the reference's own rounding of the linear output
    (up to 0.0156) exceeded the 16-bit tolerance of the small result. A no-op for fp32 output."""
    return None if v is None else lw.un("round_out", v)


def view_value(lw: Lowering, x, text: str, label: str) -> V | None:
    """A transpose/permute: free for a matmul operand (strides), unsupported anywhere else."""
    if not isinstance(x, V):
        lw.bad(f"{label} of a non-tensor")
        return None
    return V("view", (x,), text, "operand")


def lower_matmul_call(lw: Lowering, name: str, args: tuple, kwargs: dict, label: str):
    """A matmul-like call_function/call_method node, with the bias/alpha/beta it carries."""
    if name == "linear":
        p = _bind(args, kwargs, ["input", "weight", "bias"], {"bias": None})
        w = view_value(lw, p["weight"], ".t()", label)
        out = matmul_value(lw, p["input"], w, label)
        return materialised(lw, out if out is None or p["bias"] is None else lw.add(out, p["bias"]))
    if name in ("matmul", "mm", "bmm"):
        p = _bind(args, kwargs, ["input", "other"] if name == "matmul" else ["input", "mat2"])
        second = "other" if name == "matmul" else "mat2"
        return materialised(lw, matmul_value(lw, p["input"], p[second], label))
    # addmm / baddbmm: beta * input + alpha * (m1 @ m2)
    p = _bind(args, kwargs, ["input", "mat1", "mat2"] if name == "addmm" else ["input", "batch1", "batch2"],
              {"beta": 1, "alpha": 1})
    first, second = ("mat1", "mat2") if name == "addmm" else ("batch1", "batch2")
    out = matmul_value(lw, p[first], p[second], label)
    if out is None:
        return None
    if p["alpha"] != 1:
        out = lw.mul(out, p["alpha"])
    bias = p["input"] if p["beta"] == 1 else lw.mul(p["input"], p["beta"])
    return materialised(lw, lw.add(bias, out) if p["beta"] != 0 else out)


def lower_linear_module(lw: Lowering, path: str, mod, x, label: str):
    w = V("param", attr=f"{path}.weight", cls="operand")
    out = matmul_value(lw, x, V("view", (w,), ".t()", "operand"), label)
    if out is None:
        return None
    if getattr(mod, "bias", None) is not None:
        out = lw.add(out, lw.param(f"{path}.bias", "nn.Linear bias"))
    return materialised(lw, out)


def transpose_text(name: str, args: tuple, kwargs: dict) -> str | None:
    """Host text of a transpose-like call (`.t()`, `.transpose(a, b)`, `.permute(...)`), or None."""
    if name == "t":
        return ".t()"
    if name in ("transpose", "swapaxes", "swapdims"):
        dims = [d for d in (*args[1:], kwargs.get("dim0"), kwargs.get("dim1")) if d is not None]
        return f".transpose({dims[0]}, {dims[1]})" if len(dims) == 2 and all(isinstance(d, int) for d in dims) else None
    if name == "permute":
        dims = list(args[1:]) if len(args) > 2 else list(args[1] if len(args) > 1 else kwargs.get("dims", []))
        return f".permute({', '.join(str(d) for d in dims)})" if dims and all(isinstance(d, int) for d in dims) else None
    return None
