"""Ties in Triton's arg-reductions under the CPU interpreter, as a GPU may break them.

`tl.argmax(..., tie_break_left=False)` (and `tl.argmin`, `tl.max(return_indices=True,
return_indices_tie_break_left=False)`) leave the index a tie returns to the hardware's reduction
order. The stock interpreter answers them with numpy's first index, which is torch's answer too, so
a kernel that depends on an unspecified tie-break passed every CPU check and could be wrong on a GPU.
Here those "fast" variants return the last index of a tie: an answer a GPU may give, and the one
that differs from torch's, so the perturbation trial with tied values sees the dependence. The
tie-breaking variants (`tie_break_left=True`, the default) keep numpy's first index.

A hand-written `tl.reduce` combine function that keeps one operand on a tie without comparing
indices (`v1 >= v2`) depends on the operand order the same way; the interpreter folds left to right
with the accumulator first, which always keeps the first index. Here a combine function of the
solution's own gets its operands the other way round (the element first, the accumulator second),
an order a GPU's reduction tree also uses. A commutative combine (a sum, a max, an online-softmax
pair, a tie-break on indices) gives the same bits either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _last_index(arg_reduce: Any) -> Any:
    def last(data: np.ndarray, axis: int, keepdims: bool) -> np.ndarray:
        return (data.shape[axis] - 1) - arg_reduce(np.flip(data, axis=axis), axis=axis, keepdims=keepdims)

    return last


def install() -> None:
    """Patch the interpreter's reductions in this process; nothing where its layout differs."""
    import triton.language as tl
    from triton.runtime import interpreter

    ops = getattr(interpreter, "ReduceOps", None)
    standard = tl.standard
    fast = {
        getattr(standard, "_argmax_combine_tie_break_fast", None): (np.nanmax, _last_index(np.nanargmax)),
        getattr(standard, "_argmin_combine_tie_break_fast", None): (np.nanmin, _last_index(np.nanargmin)),
    }
    fast.pop(None, None)
    if ops is None or not hasattr(ops, "min_max") or not hasattr(ops, "apply_impl") or not fast:
        return
    original = ops.apply_impl

    def apply_impl(self: Any, input: Any) -> Any:
        ops_for = fast.get(self.combine_fn)
        if ops_for is not None:
            value_op, index_op = ops_for
            return self.min_max(input[0], val_reduce_op=value_op, idx_reduce_op=index_op)
        combine = self.combine_fn
        if getattr(getattr(combine, "fn", None), "__module__", "").startswith("triton."):
            return original(self, input)  # Triton's own (sum, max, ...): special-cased by the interpreter
        self.combine_fn = _Swapped(combine)
        try:
            return original(self, input)
        finally:
            self.combine_fn = combine

    ops.apply_impl = apply_impl


class _Swapped:
    """A combine function called with its two operand groups the other way round."""

    def __init__(self, combine: Any) -> None:
        self.combine = combine

    def fn(self, *operands: Any) -> Any:
        half = len(operands) // 2
        return self.combine.fn(*operands[half:], *operands[:half])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.combine, name)
