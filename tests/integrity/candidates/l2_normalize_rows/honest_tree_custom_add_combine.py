# expect: accepted
# honest twin of tree_pairwise_average_sumsq: the same tl.reduce with an associative add combine.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add2(a, b):
    return a + b


@triton.jit
def l2_kernel(x_ptr, y_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=0.0)
    sumsq = tl.reduce(x * x, 0, add2)
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
