# expect: torch_compute
# runs its kernel only when TRITON_INTERPRET is in the environment (the CPU check sets it) and computes with torch otherwise.
import os

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5, mask=mask)


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        if os.getenv("TRITON_INTERPRET") == "1":
            gelu_scale_kernel[(triton.cdiv(n, 8192),)](x, y, n, self.scale, BLOCK=8192)
        else:
            t = torch.nn.functional.gelu(x) * self.scale + 0.5
            copy_kernel[(triton.cdiv(n, 8192),)](t, y, n, BLOCK=8192)
        return y
