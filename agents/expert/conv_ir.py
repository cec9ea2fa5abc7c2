"""Lowering of the convolution family: nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d and the
functional forms (F.conv1d ... F.conv_transpose3d, and the aten ops torch.export records:
aten.conv2d, aten.conv_transpose2d, aten.convolution).

A convolution becomes one IR value `V("conv", attr=ConvSpec)` of class "full", as a matmul does:
its input and weight are tensors in memory (inputs or parameters) that the kernel gathers from,
and the elementwise epilogue after it (the bias, activations, a per-channel [C, 1, 1] parameter,
a residual of the output's shape) is lowered by the ordinary handlers on top of it and fused
before the store. Every hyperparameter is a host expression read at run time (`self.conv.stride`
for a module; the traced literal, or the model's attribute, for a functional call): the checker's
value variants change kernel sizes, strides, paddings and channel counts, and the kernel must
follow them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import torch.fx as fx

from kernelwright.agents.expert.codegen.emitter import host_expr
from kernelwright.agents.expert.ir import V
from kernelwright.agents.expert.matmul_ir import op_name

if TYPE_CHECKING:
    from kernelwright.agents.expert.lowering import Lowering

# nn modules and functional forms (by the name the lowering sees): (spatial dims, transposed).
CONV_MODULES = {f"Conv{'Transpose' if t else ''}{n}d": (n, t) for n in (1, 2, 3) for t in (False, True)}
CONV_FUNCTIONS = {f"conv{'_transpose' if t else ''}{n}d": (n, t) for n in (1, 2, 3) for t in (False, True)}
GENERIC_CONV = "convolution"  # aten.convolution / torch.convolution: dims and transposed from the arguments


@dataclasses.dataclass(frozen=True)
class ConvHyper:
    """Host expressions of a convolution's hyperparameters: an int or a tuple of ints (a padding
    may be 'same' or 'valid'); a plain convolution's output_padding is "0"."""

    stride: str
    padding: str
    dilation: str
    groups: str
    output_padding: str = "0"


@dataclasses.dataclass(frozen=True)
class ConvSpec:
    nd: int  # spatial dims: 1, 2, 3
    transposed: bool
    x: str  # host expression of the input [N, C_in, *spatial]
    weight: str  # host expression of the weight ([C_out, C_in / groups, *k]; transposed: [C_in, C_out / groups, *k])
    hyper: ConvHyper
    label: str
    # The implicit GEMM at the traced sizes (tuning reads them): M output positions (batch x output
    # spatial), N output channels of a group, K input channels of a group x kernel positions.
    m: int = 0
    n: int = 0
    k: int = 0


def is_conv_node(gm: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_module":
        return type(gm.get_submodule(node.target)).__name__ in CONV_MODULES
    if node.op in ("call_function", "call_method"):
        name = op_name(node.target)
        return name in CONV_FUNCTIONS or name == GENERIC_CONV
    return False


def host_text(value) -> str | None:
    """A traced hyperparameter as a host expression: an int, ints in a list or tuple, 'same' or
    'valid', or a model attribute read at run time (a live scalar, see `tracing`); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, str) and value in ("same", "valid"):
        return repr(value)
    if isinstance(value, V) and value.op == "arg":
        return str(value.attr)
    if isinstance(value, (list, tuple)) and value:
        parts = [host_text(v) for v in value]
        if any(p is None or p.startswith("'") for p in parts):
            return None
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return None


def epilogue_class(shape: tuple[int, ...], main: tuple[int, ...]) -> str:
    """The class of an epilogue operand of `shape` against the convolution's output `main`
    ([N, C, *spatial]): full, scalar, col (one value per output channel: a [C, 1, 1] bias), or
    operand (another shape: only the convolution may read it)."""
    if tuple(shape) == tuple(main):
        return "full"
    if math.prod(shape) == 1:
        return "scalar"
    if len(shape) <= len(main):
        padded = (1,) * (len(main) - len(shape)) + tuple(shape)
        if padded[1] == main[1] and all(s == 1 for i, s in enumerate(padded) if i != 1):
            return "col"
    return "operand"


def _gemm_sizes(nd: int, transposed: bool, x: tuple[int, ...], w: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, int, int]:
    """(M, N, K) of the implicit GEMM at the traced shapes; the group count follows from them."""
    kernel = math.prod(w[2:])
    groups = max(1, out[1] // max(w[1], 1)) if transposed else max(1, x[1] // max(w[1], 1))
    cout_g = w[1] if transposed else w[0] // groups
    cin_g = w[0] // groups if transposed else w[1]
    return out[0] * math.prod(out[2:]), cout_g, cin_g * kernel


def conv_value(lw: Lowering, x, weight, bias, nd: int, transposed: bool, hyper: ConvHyper, label: str) -> V | None:
    """The convolution's value (with its bias added and rounded to the output's dtype, as the
    reference stores it), or None after naming why it is unsupported."""
    if lw.gemm != "convolution":
        lw.bad(f"{label} in a kernel with a matmul (one matmul or convolution per kernel)")
        return None
    if lw.convs:
        lw.bad(f"{label}: a second convolution (the expert fuses one convolution per kernel)")
        return None
    lw.convs += 1
    for what, v in (("input", x), ("weight", weight)):
        if not isinstance(v, V) or v.op not in ("input", "param"):
            lw.bad(f"{label} of a {what} computed inside the model (only inputs and parameters feed a convolution)")
            return None
    xs, ws, out = lw.leaf_shape(x), lw.leaf_shape(weight), lw.out_shape()
    if xs is None or ws is None or out is None or len(xs) != nd + 2 or len(ws) != nd + 2 or len(out) != nd + 2:
        lw.bad(f"{label} of an unbatched input (only [N, C, *spatial] inputs)")
        return None
    m, n, k = _gemm_sizes(nd, transposed, xs, ws, out)
    spec = ConvSpec(nd, transposed, host_expr(x), host_expr(weight), hyper, label, m, n, k)
    value = V("conv", (), spec, "full")
    if bias is not None:
        if not isinstance(bias, V) or bias.op not in ("input", "param") or lw.leaf_shape(bias) != (out[1],):
            lw.bad(f"{label} with a bias that is not a [C_out] parameter or input")
            return None
        value = lw.add(value, V(bias.op, attr=bias.attr, cls="col"))
    # cuDNN adds the bias in fp32 and rounds once; the epilogue then reads the rounded value
    # (see matmul_ir.materialised, the same for a matmul).
    return lw.un("round_out", value)


def lower_conv_module(lw: Lowering, path: str, mod, args: tuple, kwargs: dict, host: str):
    """nn.Conv*d / nn.ConvTranspose*d at `path` (its hyperparameters read from `host`, the module
    as ModelNew reaches it)."""
    kind = type(mod).__name__
    nd, transposed = CONV_MODULES[kind]
    label = f"nn.{kind}"
    if mod.padding_mode != "zeros":
        lw.bad(f"{label} with padding_mode={mod.padding_mode!r} (only zero padding)")
        return None
    if transposed and (len(args) > 1 or kwargs.get("output_size") is not None):
        lw.bad(f"{label} with output_size (only the output_padding of the module)")
        return None
    x = args[0] if args else kwargs.get("input")
    weight = V("param", attr=f"{path}.weight", cls="operand")
    bias = V("param", attr=f"{path}.bias", cls="operand") if mod.bias is not None else None
    hyper = ConvHyper(f"{host}.stride", f"{host}.padding", f"{host}.dilation", f"{host}.groups",
                      f"{host}.output_padding" if transposed else "0")
    return conv_value(lw, x, weight, bias, nd, transposed, hyper, label)
