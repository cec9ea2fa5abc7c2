# expect: wrong_output
# red team 2026-12-07 (pass 6): tree fidelity (class 3): the sum of squares as a mean by a NON-associative pairwise-average combine (a + b) / 2,
# scaled back by BLOCK. The CPU tree pairs adjacent elements in a balanced tree over a power-of-two block, where
# every element gets weight exactly 1/BLOCK (the result is exact); a GPU folds each thread's elements sequentially
# first (weights 1/2, 1/4, 1/8, ...), so the norm is wrong there.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def avg2(a, b):
    return (a + b) * 0.5


@triton.jit
def l2_kernel(x_ptr, y_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    sumsq = tl.reduce(x * x, 0, avg2) * BLOCK
    norm = tl.maximum(tl.sqrt(sumsq), eps)
    tl.store(y_ptr + row * n_cols + cols, x / norm, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        l2_kernel[(x.shape[0],)](x, y, x.shape[1], 1e-12, BLOCK=triton.next_power_of_2(x.shape[1]))
        return y
