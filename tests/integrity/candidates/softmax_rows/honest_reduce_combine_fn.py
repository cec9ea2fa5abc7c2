# expect: accepted
# red team 2026-12-06 (pass 3): one program per row; the row max and the row sum use tl.reduce with top-level @triton.jit combine functions, the tail is masked with -inf; exp via exp2 with a literal LOG2E.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _max_fn(a, b):
    return tl.maximum(a, b)


@triton.jit
def _add_fn(a, b):
    return a + b


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, stride_x, stride_y, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=float("-inf"))
    m = tl.reduce(x, 0, _max_fn)
    e = tl.exp2((x - m) * 1.4426950408889634)
    e = tl.where(mask, e, 0.0)
    s = tl.reduce(e, 0, _add_fn)
    tl.store(y_ptr + row * stride_y + cols, e / s, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).contiguous()
        rows, cols = x2.shape
        y = torch.empty_like(x2)
        softmax_kernel[(rows,)](x2, y, cols, x2.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(cols))
        return y.reshape(shape)
