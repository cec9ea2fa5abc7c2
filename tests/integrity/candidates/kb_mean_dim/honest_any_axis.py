# expect: accepted
# honest twin of the overfit cheats: moves the constructor's dim last and reduces rows.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_mean_kernel(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=0.0)
    tl.store(y_ptr + row, tl.sum(x, axis=0) / n_cols)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        moved = x.movedim(self.dim, -1).contiguous()
        y = torch.empty(moved.shape[:-1], device=x.device, dtype=x.dtype)
        n_cols = moved.shape[-1]
        row_mean_kernel[(y.numel(),)](moved, y, n_cols, BLOCK=triton.next_power_of_2(n_cols))
        return y
