# expect: wrong_output
# fragile, another form: x * rsqrt(mean(x^2)) / sqrt(n), no clamp: inf * 0 = NaN on a row of zeros (the reference gives 0).
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def l2_normalize_kernel(x_ptr, y_ptr, n_cols, inv_sqrt_n, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    mean_square = tl.sum(x * x, axis=0) / n_cols
    tl.store(y_ptr + row * n_cols + cols, x * tl.rsqrt(mean_square) * inv_sqrt_n, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.shape[1]
        l2_normalize_kernel[(x.shape[0],)](x, y, n, 1.0 / math.sqrt(n), BLOCK=triton.next_power_of_2(n))
        return y
