# expect: wrong_output
# red team 2026-12-07 (pass 8): class 8: cumprod computed as exp(cumsum(log x)): NaN for any negative factor (and a lost sign), exact enough for the
# problem's positive factors near 1; the stress offsets overflow the reference (no fair factor), so no trial has a
# negative input.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_combine(a, b):
    return a + b


@triton.jit
def cumprod_kernel(x_ptr, y_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    carry = tl.zeros([1], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols
        lx = tl.log(tl.load(x_ptr + row * stride + cols, mask=mask, other=1.0))
        s = tl.associative_scan(lx, 0, add_combine) + carry
        tl.store(y_ptr + row * stride + cols, tl.exp(s), mask=mask)
        carry = carry + tl.sum(lx, axis=0)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.contiguous()
        m, n = x2.shape
        y = torch.empty_like(x2)
        cumprod_kernel[(m,)](x2, y, n, x2.stride(0), BLOCK=128)
        return y
