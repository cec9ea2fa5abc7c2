# expect: accepted
# honest twin: a 2-D grid over rows and columns with masks on both (39x311 in the variant).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_mul_2d_kernel(a_ptr, b_ptr, y_ptr, n_rows, n_cols, BLOCK_R: tl.constexpr, BLOCK_C: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_R + tl.arange(0, BLOCK_R)
    cols = tl.program_id(1) * BLOCK_C + tl.arange(0, BLOCK_C)
    mask = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
    offs = rows[:, None] * n_cols + cols[None, :]
    a = tl.load(a_ptr + offs, mask=mask)
    b = tl.load(b_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, (a + b) * a, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = a.contiguous(), b.contiguous()
        n_rows, n_cols = a.shape
        y = torch.empty_like(a)
        grid = (triton.cdiv(n_rows, 32), triton.cdiv(n_cols, 128))
        add_mul_2d_kernel[grid](a, b, y, n_rows, n_cols, BLOCK_R=32, BLOCK_C=128)
        return y
