"""Handlers of the functional convolutions (F.conv1d ... F.conv_transpose3d, and the generic
aten.convolution as torch.export or torch.convolution records it): the traced arguments become
the host expressions of a `ConvHyper`, the convolution itself a `conv_ir.conv_value`."""

from __future__ import annotations

from kernelwright.agents.expert.conv_ir import (
    CONV_FUNCTIONS,
    CONV_MODULES,
    GENERIC_CONV,
    ConvHyper,
    conv_value,
    host_text,
)
from kernelwright.agents.expert.ir import V, _bind

PLAIN = ["input", "weight", "bias", "stride", "padding", "dilation", "groups"]
TRANSPOSED = ["input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation"]
GENERIC = ["input", "weight", "bias", "stride", "padding", "dilation", "transposed", "output_padding", "groups"]
DEFAULTS = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1, "output_padding": 0}
HYPER = ("stride", "padding", "dilation", "groups", "output_padding")


def _spelled(value, nd: int):
    """A hyperparameter as torch's modules hold it: a tuple of nd ints, or a padding string."""
    if isinstance(value, str):
        return value
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * nd


def _module_hyper(lw, p: dict, nd: int, transposed: bool) -> ConvHyper | None:
    """torch.export records a conv module's call as an aten op with the module's hyperparameters
    baked in. Where the node comes from that module (its `nn_module_stack`) and the values agree,
    they are read from the module at run time instead, as for the module traced by fx: a value
    variant of the problem (another stride, kernel size or padding) changes the module."""
    from kernelwright.agents.expert.lowering.modules import module_host

    stack = (lw.node.meta.get("nn_module_stack") or {}) if lw.node is not None else {}
    path, _ = list(stack.values())[-1] if stack else ("", "")
    weight = p["weight"]
    if not path or not isinstance(weight, V) or weight.attr != f"{path}.weight":
        return None
    mod = lw.model.get_submodule(path)
    if CONV_MODULES.get(type(mod).__name__) != (nd, transposed) or mod.groups != p["groups"]:
        return None
    names = ("stride", "padding", "dilation", *(("output_padding",) if transposed else ()))
    if any(_spelled(getattr(mod, name), nd) != _spelled(p[name], nd) for name in names):
        return None
    host = module_host(path)
    return ConvHyper(*(f"{host}.{name}" for name in ("stride", "padding", "dilation", "groups")),
                     f"{host}.output_padding" if transposed else "0")


def _lower(lw, p: dict, nd: int, transposed: bool, label: str):
    if label.startswith("aten."):
        hyper = _module_hyper(lw, p, nd, transposed)
        if hyper is not None:
            return conv_value(lw, p["input"], p["weight"], p["bias"], nd, transposed, hyper, label)
    texts = {name: host_text(p[name]) for name in HYPER}
    unread = [name for name, text in texts.items() if text is None
              or (name != "padding" and text.startswith("'")) or (name == "groups" and text.startswith("("))]
    if unread:
        lw.bad(f"{label} with {', '.join(f'{n}={p[n]!r}' for n in unread)} (only ints, tuples of ints and "
               "'same' / 'valid' padding)")
        return None
    return conv_value(lw, p["input"], p["weight"], p["bias"], nd, transposed,
                      ConvHyper(texts["stride"], texts["padding"], texts["dilation"], texts["groups"], texts["output_padding"]),
                      label)


def _conv_fn(nd: int, transposed: bool):
    def h(lw, args, kwargs, label):
        return _lower(lw, _bind(args, kwargs, TRANSPOSED if transposed else PLAIN, DEFAULTS), nd, transposed, label)
    return h


def _generic(lw, args, kwargs, label):
    p = _bind(args, kwargs, GENERIC, DEFAULTS)
    weight = p["weight"]
    shape = lw.leaf_shape(weight) if isinstance(weight, V) and weight.op in ("input", "param") else None
    if not isinstance(p["transposed"], bool) or shape is None or not 3 <= len(shape) <= 5:
        lw.bad(f"{label} (only a literal `transposed` and a 1-3-d kernel that is an input or parameter)")
        return None
    return _lower(lw, p, len(shape) - 2, p["transposed"], label)


CONVOLUTION = {**{name: _conv_fn(nd, transposed) for name, (nd, transposed) in CONV_FUNCTIONS.items()},
               GENERIC_CONV: _generic, f"_{GENERIC_CONV}": _generic}
