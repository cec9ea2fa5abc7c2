"""The expert compiler's tiny expression IR: values, the error for unsupported problems, and
small helpers shared by the lowering (`lowering`) and the op handlers (`ops`)."""

from __future__ import annotations

import dataclasses
import importlib.util
import operator
from pathlib import Path
from typing import Any


class UnsupportedProblem(Exception):
    """The expert policy has no kernel for this problem (the message names the operations)."""


@dataclasses.dataclass(eq=False)
class V:
    """One IR value. op: input | param | const | ncols | un | bin | where | reduce."""

    op: str
    args: tuple = ()
    attr: Any = None
    # full | col | row | rowflat | scalar, or: bcast / rbcast (an operand broadcast along some
    # dims of the stage's space, read through `layout`: along the reduced dims / not), leaf (a
    # value of another shape whose place in the space is known only where it is used)
    cls: str = "full"
    shape: tuple[int, ...] | None = None  # the traced shape of a `leaf` value
    layout: tuple[int, ...] | None = None  # bcast / rbcast: the space dims it varies along


# Aliases for unsupported modules/functions: the aten op a reader will recognise.
ATEN_NAMES = {
    "Conv1d": "aten.convolution", "Conv2d": "aten.convolution", "Conv3d": "aten.convolution",
    "ConvTranspose1d": "aten.convolution", "ConvTranspose2d": "aten.convolution", "ConvTranspose3d": "aten.convolution",
    "conv1d": "aten.convolution", "conv2d": "aten.convolution", "conv3d": "aten.convolution",
    "Linear": "aten.addmm", "linear": "aten.addmm", "matmul": "aten.mm", "mm": "aten.mm", "bmm": "aten.bmm",
    "MaxPool1d": "aten.max_pool", "MaxPool2d": "aten.max_pool", "MaxPool3d": "aten.max_pool",
    "AvgPool1d": "aten.avg_pool", "AvgPool2d": "aten.avg_pool", "AvgPool3d": "aten.avg_pool",
    "max_pool2d": "aten.max_pool", "avg_pool2d": "aten.avg_pool", "cumsum": "aten.cumsum", "cumprod": "aten.cumprod",
}


def unsupported_label(label: str, name: str) -> str:
    """How an op the expert has no kernel for is named in the message: with the aten op a reader
    will recognise where there is one (`aten.convolution (nn.Conv2d)`)."""
    aten = ATEN_NAMES.get(name)
    return f"{aten} ({label})" if aten else label


def load_problem_module(path: str | Path, name: str = "kw_expert_problem", source: str | None = None):
    spec = importlib.util.spec_from_file_location(name, str(path))
    if spec is None or spec.loader is None:
        raise UnsupportedProblem(f"expert policy: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    if source is None:
        spec.loader.exec_module(module)
    else:  # the same file with other size constants
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - the user's own problem file
    return module


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _bind(args, kwargs, names, defaults=None):
    out = dict(defaults or {})
    for n, a in zip(names, args):
        out[n] = a
    for k, v in kwargs.items():
        out[k] = v
    return out


TILE_LEVEL = frozenset({"full", "col", "bcast"})  # vary along the reduced dims: computed in the row loop
ROW_LEVEL = frozenset({"row", "rbcast"})  # one value per row (per P and Q index)


def _merge(a: str, b: str) -> str | None:
    """The class of a binary op's result, or None for a broadcast the codegen cannot express."""
    if a == b:
        return "full" if a == "bcast" else "row" if a == "rbcast" else a
    pair = {a, b}
    if "scalar" in pair:
        other = (pair - {"scalar"}).pop()
        return "full" if other == "bcast" else "row" if other == "rbcast" else other
    if pair <= TILE_LEVEL | ROW_LEVEL and pair & TILE_LEVEL:
        return "full"
    if pair <= ROW_LEVEL:
        return "row"
    return None




_CONST_FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
