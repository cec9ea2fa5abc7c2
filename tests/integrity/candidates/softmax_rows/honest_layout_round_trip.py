# expect: accepted
# honest twin for layout ops: mT, swapaxes, broadcast_to, type_as (same dtype), atleast_2d and tensor_split only move or reinterpret data; the kernel computes.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = torch.atleast_2d(x).mT.swapaxes(0, 1).type_as(x).contiguous()  # the same rows, same dtype
        rows, cols = x2.shape
        y = torch.empty(rows, cols, device=x.device, dtype=x.dtype)
        parts = torch.broadcast_to(y, (rows, cols)).tensor_split(2, dim=0)  # views of y
        srcs = x2.tensor_split(2, dim=0)
        for src, dst in zip(srcs, parts):
            softmax_kernel[(src.shape[0],)](src, dst, cols, BLOCK=triton.next_power_of_2(cols))
        return y
