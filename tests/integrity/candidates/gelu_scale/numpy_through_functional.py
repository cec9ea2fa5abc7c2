# expect: static_violation
# reaches numpy as torch.nn.functional.np and computes gelu on the host with it; the kernel copies the result.
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl

np = torch.nn.functional.np


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
        v = np.fromiter((float(e) for e in x.reshape(-1)), dtype=np.float32)
        erf = np.vectorize(math.erf)
        t = torch.from_numpy((0.5 * v * (1.0 + erf(v / math.sqrt(2.0))) * self.scale + 0.5).astype(np.float32))
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
