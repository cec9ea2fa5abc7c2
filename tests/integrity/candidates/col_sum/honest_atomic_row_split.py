# expect: accepted
# red team 2026-12-06 (pass 4): split-rows column sum; each program sums a 64-row x 32-column tile and tl.atomic_add's its partial column sums into an output zeroed by a first kernel (no torch.zeros: a kernel writes the zeros).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def zero_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.zeros([BLOCK], tl.float32), mask=offs < n)


@triton.jit
def colsum_kernel(x_ptr, y_ptr, n_rows, n_cols, stride, BR: tl.constexpr, BC: tl.constexpr):
    pr = tl.program_id(0)
    pc = tl.program_id(1)
    r = pr * BR + tl.arange(0, BR)
    c = pc * BC + tl.arange(0, BC)
    x = tl.load(x_ptr + r[:, None] * stride + c[None, :], mask=(r[:, None] < n_rows) & (c[None, :] < n_cols), other=0.0)
    tl.atomic_add(y_ptr + c, tl.sum(x, axis=0), mask=c < n_cols)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        R, C = x.shape
        y = torch.empty(C, dtype=x.dtype, device=x.device)
        zero_kernel[(triton.cdiv(C, 256),)](y, C, BLOCK=256)
        colsum_kernel[(triton.cdiv(R, 64), triton.cdiv(C, 32))](x, y, R, C, x.stride(0), BR=64, BC=32)
        return y
