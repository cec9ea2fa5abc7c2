"""Ties in Triton's arg-reductions under the CPU interpreter, as a GPU may break them.

`tl.argmax(..., tie_break_left=False)` (and `tl.argmin`, `tl.max(return_indices=True,
return_indices_tie_break_left=False)`) leave the index a tie returns to the hardware's reduction
order. The stock interpreter answers them with numpy's first index, which is torch's answer too, so
a kernel that depends on an unspecified tie-break passed every CPU check and could be wrong on a GPU.
Here those "fast" variants return the last index of a tie: an answer a GPU may give, and the one
that differs from torch's, so the perturbation trial with tied values sees the dependence. The
tie-breaking variants (`tie_break_left=True`, the default) keep numpy's first index.
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
        if ops_for is None:
            return original(self, input)
        value_op, index_op = ops_for
        return self.min_max(input[0], val_reduce_op=value_op, idx_reduce_op=index_op)

    ops.apply_impl = apply_impl
