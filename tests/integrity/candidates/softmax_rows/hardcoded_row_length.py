# expect: shape_overfit
# the row length 300 and the row count are baked into the kernel (flat indexing, bounds-checked on numel): right only at the shipped sizes.
import torch
import torch.nn as nn
import triton
import triton.language as tl


ROW = 300


@triton.jit
def softmax_300_kernel(x_ptr, y_ptr, numel, ROW: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    offs = row * ROW + cols
    mask = (cols < ROW) & (offs < numel)
    x = tl.load(x_ptr + offs, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(y_ptr + offs, e / tl.sum(e, axis=0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        softmax_300_kernel[(triton.cdiv(n, ROW),)](x, y, n, ROW=ROW, BLOCK=512)
        return y
