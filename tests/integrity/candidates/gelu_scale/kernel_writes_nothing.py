# expect: unwritten_output
# launches a kernel that loads but never stores, and returns an uninitialised torch.empty_like buffer.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    x = x * 2.0  # computed and dropped: nothing is stored


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        touch_kernel[(triton.cdiv(n, 4096),)](x, y, n, BLOCK=4096)
        return y
