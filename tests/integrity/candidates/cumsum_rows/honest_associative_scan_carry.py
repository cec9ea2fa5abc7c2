# expect: accepted
# red team 2026-12-06 (pass 4): a row scan with tl.associative_scan over blocks of 128 and a top-level @triton.jit combine function; the block total is carried to the next block in a loop-carried scalar (one program per row).
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_fn(a, b):
    return a + b


@triton.jit
def scan_kernel(x_ptr, y_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    carry = tl.zeros((), tl.float32)
    for start in range(0, n_cols, BLOCK):
        c = start + cols
        mask = c < n_cols
        x = tl.load(x_ptr + row * stride + c, mask=mask, other=0.0)
        s = tl.associative_scan(x, 0, add_fn) + carry
        tl.store(y_ptr + row * stride + c, s, mask=mask)
        carry = carry + tl.sum(x, axis=0)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        y = torch.empty_like(x2)
        scan_kernel[(x2.shape[0],)](x2, y, x2.shape[1], x2.stride(0), BLOCK=128)
        return y.view(x.shape)
