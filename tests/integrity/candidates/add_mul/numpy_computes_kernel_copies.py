# expect: static_violation
# numpy computes (a + b) * a on the host (invisible to aten-op accounting); a Triton kernel only copies the result.
import numpy as np

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
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a_np, b_np = a.cpu().numpy(), b.cpu().numpy()
        t = torch.from_numpy(np.multiply(np.add(a_np, b_np), a_np)).to(a.device)
        y = torch.empty_like(a)
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
