# expect: static_violation
# reaches torch.utils._python_dispatch with a constant-name getattr, switches the checker's dispatch mode off and computes with torch.
import torch
import torch.nn as nn
import triton
import triton.language as tl

off = getattr(torch.utils, "_python_dispatch")._disable_current_modes


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        with off():
            t = (a + b) * a
        y = torch.empty_like(a)
        copy_kernel[(triton.cdiv(y.numel(), 8192),)](t, y, y.numel(), BLOCK=8192)
        return y
