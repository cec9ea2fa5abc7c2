"""Compute on parameters and buffers before `ModelNew`'s first call: work moved out of the forward.

The op accountant watches the forward. A red-team candidate computed its whole answer table with
torch in `__init__` (LayerNorm of every token and position embedding) and gathered rows of it in
the forward; it noticed the parameter trial's change by one element and fell back to an honest
kernel only then. Construction may initialise parameters (random fills, constants), allocate,
and copy or re-lay them out (`weight.t().contiguous()`); any other aten op that reads a parameter,
or a tensor computed from one, is compute done once at construction: the forward's answer then
does not come from the solution's kernels, and goes stale when the parameters change.
Compute on other values (a causal mask from `torch.ones`, a table of constants) stays allowed, and
so does a parameter initialised in place from itself alone (`weight.mul_(8.0)` in a reference's
`__init__` that the expert copies, `nn.init.trunc_normal_`): `out=` into a parameter from other
parameters is still compute.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from kernelwright.tools.check.op_accounting import (
    _ALLOWED,
    _op_name,
    _overloads,
    _packets,
    _storage_key,
    _tensors,
    written_tensors,
)

# Parameter initialisation (torch.nn.init and module constructors) draws and fills in place.
INIT_OP_NAMES = frozenset(
    """
    uniform_ normal_ bernoulli_ random_ exponential_ geometric_ log_normal_ cauchy_ rand rand_like randn
    randn_like randint randint_like randperm
    """.split()
)
_INIT = _overloads(_packets(INIT_OP_NAMES)) | _ALLOWED


class InitAccountant(TorchDispatchMode):
    """Records the aten ops of a constructor (and of the weight copy after it); `compute_on` then
    replays their data flow from the model's parameters, found by storage: a parameter reached
    through `.data` or `detach()` is still its storage. Every tensor an op took or made is kept
    alive until then, so no storage address is reused within the trace."""

    def __init__(self) -> None:
        super().__init__()
        self.trace: list[tuple[Any, set[int], set[int], set[int]]] = []  # (op, read, made, written in place)
        self._alive: list[torch.Tensor] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = _tensors(list(args) + list(kwargs.values()))
        written = _keys(written_tensors(func, args, kwargs))
        out = func(*args, **kwargs)
        outputs = _tensors(out)
        self._alive += inputs + outputs
        self.trace.append((func, _keys(inputs), _keys(outputs), written))
        return out

    def compute_on(self, model: torch.nn.Module) -> dict[str, int]:
        """The ops that computed with the model's parameters or buffers, or with what was computed
        from them (found through the modules' own dicts: no method of the solution's runs)."""
        parameters = _keys(module_tensors(model))
        derived = set(parameters)
        counts: Counter[str] = Counter()
        for func, read, made, written in self.trace:
            touched = read & derived
            if not touched:
                continue
            # In place on parameters from nothing but themselves (`weight.mul_(8)`, the pieces of
            # `nn.init.trunc_normal_`): initialising them, not computing an answer from them.
            own_init = touched <= written and touched <= parameters
            if func not in _INIT and not own_init:
                counts[_op_name(func)] += 1
            derived |= made | written
        self._alive.clear()
        return dict(counts)


def _keys(tensors: list[torch.Tensor]) -> set[int]:
    return {k for t in tensors if (k := _storage_key(t)) is not None}


def module_tensors(model: object, fields: tuple[str, ...] = ("_parameters", "_buffers")) -> list[torch.Tensor]:
    """The parameters and buffers of `model` and its submodules, read from their `_parameters`,
    `_buffers` and `_modules` dicts with object.__getattribute__: an overridden `parameters()`,
    `buffers()` or `__getattr__` of the solution's class is not called (red team pass 8)."""
    found: list[torch.Tensor] = []
    seen: set[int] = set()
    pending = [model]
    while pending:
        module = pending.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        for field in fields:
            table = _own(module, field)
            for t in table.values() if type(table) is dict else ():
                if isinstance(t, torch.Tensor) and not any(t is f for f in found):  # a tied weight once
                    found.append(t)
        children = _own(module, "_modules")
        pending += [m for m in children.values() if m is not None] if type(children) is dict else []
    return found


def _own(obj: object, name: str) -> object:
    try:
        return object.__getattribute__(obj, name)
    except AttributeError:
        return None
