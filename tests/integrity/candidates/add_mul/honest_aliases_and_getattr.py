# expect: accepted
# honest twin of the reach-through cheats: import aliases, local aliases of torch functions and constant-name getattr on its own objects.
from torch import nn
import torch
import triton
import triton.language as tl

F = torch.nn.functional
empty_like = torch.empty_like
cdiv = getattr(triton, "cdiv")


@triton.jit
def add_mul_kernel(a_ptr, b_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask)
    b = tl.load(b_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, (a + b) * a, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = 8192

    def forward(self, a, b):
        block = getattr(self, "block")
        y = empty_like(a)
        n = a.numel()
        add_mul_kernel[(cdiv(n, block),)](a, b, y, n, BLOCK=block)
        return y
