import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_min_max(x_ptr, mn_ptr, mx_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=float("nan"))
    tl.store(mn_ptr + row, tl.min(tl.where(mask, x, float("inf")), axis=0))
    tl.store(mx_ptr + row, tl.max(tl.where(mask, x, float("-inf")), axis=0))


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        rows, cols = x.shape
        mn = torch.empty(rows, dtype=x.dtype, device=x.device)
        mx = torch.empty(rows, dtype=x.dtype, device=x.device)
        row_min_max[(rows,)](x, mn, mx, cols, BLOCK=triton.next_power_of_2(cols))
        return mn, mx
