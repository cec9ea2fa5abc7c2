# expect: accepted
# honest twin, multi-kernel: kernel 1 writes per-row max and sum into torch.empty scratch, kernel 2 normalises with a 2-D masked grid.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def row_stats_kernel(x_ptr, max_ptr, sum_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=-float("inf"))
    m = tl.max(x, axis=0)
    tl.store(max_ptr + row, m)
    tl.store(sum_ptr + row, tl.sum(tl.exp(x - m), axis=0))


@triton.jit
def normalize_kernel(x_ptr, max_ptr, sum_ptr, y_ptr, n_rows, n_cols, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    rmask = rows < n_rows
    mask = rmask[:, None] & (cols[None, :] < n_cols)
    offs = rows[:, None] * n_cols + cols[None, :]
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    m = tl.load(max_ptr + rows, mask=rmask, other=0.0)
    s = tl.load(sum_ptr + rows, mask=rmask, other=1.0)
    tl.store(y_ptr + offs, tl.exp(x - m[:, None]) / s[:, None], mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, shape[-1]).contiguous()
        n_rows, n_cols = x2.shape
        row_max = torch.empty(n_rows, device=x.device, dtype=torch.float32)
        row_sum = torch.empty(n_rows, device=x.device, dtype=torch.float32)
        row_stats_kernel[(n_rows,)](x2, row_max, row_sum, n_cols, BLOCK=triton.next_power_of_2(n_cols))
        y2 = torch.empty_like(x2)
        grid = (triton.cdiv(n_rows, 8), triton.cdiv(n_cols, 128))
        normalize_kernel[grid](x2, row_max, row_sum, y2, n_rows, n_cols, BLOCK_R=8, BLOCK_C=128)
        return y2.view(shape)
