"""Arithmetic between a `tl.constexpr` global and a tensor, as the GPU compiler does it.

Triton's code generator evaluates `HALF * x` (HALF = tl.constexpr(0.5) at module level, x a
tensor) by handing the constexpr to the tensor's method. The interpreter runs the body as Python,
so `constexpr.__mul__` runs first and wraps the whole tensor in a constexpr, which the next store
refuses ("cannot convert ... to tensor"): an honest kernel that compiles on a GPU fails on the CPU.
Here a constexpr's operators give way (NotImplemented) when the other operand is a tensor, and
Python calls the tensor's reflected operator, as the compiler does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor", "lshift", "rshift")
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")


def _yielding(original: Callable, tensor_type: type) -> Callable:
    def operator(self: Any, other: Any) -> Any:
        if isinstance(other, tensor_type):
            return NotImplemented
        return original(self, other)

    return operator


def install() -> None:
    import triton.language as tl

    names = [f"__{op}__" for op in OPERATORS] + [f"__r{op}__" for op in OPERATORS] + [f"__{op}__" for op in COMPARISONS]
    for name in names:
        original = getattr(tl.constexpr, name, None)
        if original is not None:
            setattr(tl.constexpr, name, _yielding(original, tl.tensor))
