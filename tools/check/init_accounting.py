"""Compute on parameters while `ModelNew` is constructed: work moved out of the forward.

The op accountant watches the forward. A red-team candidate computed its whole answer table with
torch in `__init__` (LayerNorm of every token and position embedding) and gathered rows of it in
the forward; it noticed the parameter trial's change by one element and fell back to an honest
kernel only then. Construction may initialise parameters (random fills, constants), allocate,
and copy or re-lay them out (`weight.t().contiguous()`); any other aten op that reads a parameter,
or a tensor computed from one, is compute done once at construction: the forward's answer then
does not come from the solution's kernels, and goes stale when the parameters change.
Compute on other values (a causal mask from `torch.ones`, a table of constants) stays allowed.
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
    """Aten ops of a constructor that compute on parameters (or on what was computed from them)."""

    def __init__(self) -> None:
        super().__init__()
        self.compute_on_parameters: Counter[str] = Counter()
        self.derived: set[int] = set()  # storages computed from parameters

    def _reads_parameters(self, args: Any, kwargs: dict) -> bool:
        for t in _tensors(list(args) + list(kwargs.values())):
            if isinstance(t, torch.nn.Parameter) or _storage_key(t) in self.derived:
                return True
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        reads = self._reads_parameters(args, kwargs)
        out = func(*args, **kwargs)
        if reads:
            if func not in _INIT:
                self.compute_on_parameters[_op_name(func)] += 1
            # Views and copies of a parameter stay its data; results of compute on it are derived too.
            self.derived.update(k for t in _tensors(out) if (k := _storage_key(t)) is not None)
        return out
