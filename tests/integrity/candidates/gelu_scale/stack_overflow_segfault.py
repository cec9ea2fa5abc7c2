# expect: crash
# the forward overflows the C stack with a million nested map iterators (CPython checks no depth there): a segfault.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def wild_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, x, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nested = iter([0])
        for _ in range(1_000_000):
            nested = map(abs, nested)
        next(nested)
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        wild_kernel[(triton.cdiv(n, 4096),)](x, y, n, BLOCK=4096)
        return y
