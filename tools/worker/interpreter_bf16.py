"""bf16 arithmetic under Triton's CPU interpreter, as a GPU does it.

The interpreter stores bf16 values as their 16-bit patterns (numpy has no bf16) and its element-wise
operators apply numpy to those patterns as if they were integers: `x + r` on two loaded bf16
blocks gave values near 1e38 and NaN, and comparisons or maxima of negative values came out in the
wrong order. An honest LayerNorm that added its bf16 residual inside the kernel was rejected (red
team, pass 6). Here a binary or unary operator, a clamp and an fma on bf16 operands compute on
their exact fp32 values and round the result back to bf16 to nearest even, as a GPU's bf16
instructions (or fp32 arithmetic followed by cvt.rn.bf16.f32) do; a comparison keeps its boolean.
(The fma rounds through fp64 and fp32 on its way to bf16: a double rounding a single bf16 fma
would not make, at most one bf16 ulp apart on rare halfway cases.)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def bf16_to_fp32(bits: np.ndarray) -> np.ndarray:
    """The exact fp32 value of each bf16 pattern."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def install(builder_cls: Any, fp32_to_bf16: Any) -> None:
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    binary, unary = builder_cls.binary_op, builder_cls.unary_op

    def is_bf16(handle: Any) -> bool:
        return handle.dtype.scalar == tl.bfloat16 and handle.data.dtype == np.uint16

    def back(out: np.ndarray, like: Any) -> Any:
        if out.dtype == np.bool_:  # a comparison: as the interpreter keeps it
            return TensorHandle(out.astype(np.uint16), like.dtype.scalar)
        return TensorHandle(fp32_to_bf16(out), tl.bfloat16)

    def binary_op(self: Any, lhs: Any, rhs: Any, op: Any) -> Any:
        if is_bf16(lhs) and is_bf16(rhs):
            with np.errstate(all="ignore"):  # inf and NaN as the GPU makes them, without warnings
                return back(op(bf16_to_fp32(lhs.data), bf16_to_fp32(rhs.data)), lhs)
        return binary(self, lhs, rhs, op)

    def unary_op(self: Any, arg: Any, op: Any) -> Any:
        if is_bf16(arg):
            with np.errstate(all="ignore"):
                return back(op(bf16_to_fp32(arg.data)), arg)
        return unary(self, arg, op)

    ternary, fma = builder_cls.ternary_op, builder_cls.create_fma

    def ternary_op(self: Any, lhs: Any, rhs: Any, other: Any, op: Any) -> Any:
        # Only the clamp computes; a select (np.where) moves bit patterns, which is right as is.
        if op is np.clip and is_bf16(lhs) and is_bf16(rhs) and is_bf16(other):
            with np.errstate(all="ignore"):
                return back(np.clip(bf16_to_fp32(lhs.data), bf16_to_fp32(rhs.data), bf16_to_fp32(other.data)), lhs)
        return ternary(self, lhs, rhs, other, op)

    def create_fma(self: Any, x: Any, y: Any, z: Any) -> Any:
        if is_bf16(x) and is_bf16(y) and is_bf16(z):
            # The product of two bf16 values is exact in fp64, the sum rounds once there, then to bf16.
            with np.errstate(all="ignore"):
                exact = np.multiply(bf16_to_fp32(x.data), bf16_to_fp32(y.data), dtype=np.float64) + bf16_to_fp32(z.data)
                return back(exact.astype(np.float32), z)
        return fma(self, x, y, z)

    builder_cls.binary_op, builder_cls.unary_op = binary_op, unary_op
    builder_cls.ternary_op, builder_cls.create_fma = ternary_op, create_fma
