# expect: wrong_output
# race: a blocked prefix sum where each program reads the running total the previous program stored (plain loads, no flags).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def blocked_cumsum_kernel(x_ptr, y_ptr, carry_ptr, n_cols, n_blocks, BLOCK: tl.constexpr):
    row = tl.program_id(0) // n_blocks
    blk = tl.program_id(0) % n_blocks
    cols = blk * BLOCK + tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    before = tl.load(carry_ptr + row * (n_blocks + 1) + blk)
    y = tl.cumsum(x, axis=0) + before
    tl.store(y_ptr + row * n_cols + cols, y, mask=mask)
    tl.store(carry_ptr + row * (n_blocks + 1) + blk + 1, before + tl.sum(x, axis=0))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, n_cols = x.shape
        BLOCK = 128
        n_blocks = triton.cdiv(n_cols, BLOCK)
        carry = torch.zeros((rows, n_blocks + 1), device=x.device, dtype=torch.float32)
        y = torch.empty_like(x)
        blocked_cumsum_kernel[(rows * n_blocks,)](x, y, carry, n_cols, n_blocks, BLOCK=BLOCK)
        return y
