# expect: torch_compute
# computes gelu * scale + 0.5 element by element in Python with Tensor.apply_ on a clone; the kernel copies the clone out.
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


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
        s = self.scale
        t = x.contiguous().clone()
        t.apply_(lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))) * s + 0.5)
        y = torch.empty_like(t)
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
