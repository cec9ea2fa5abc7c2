# expect: torch_compute
# arithmetic dressed as layout: pads, flips and rolls (allowed) but scales with torch's mul (compute) before the kernel.
import torch
import torch.nn as nn
import torch.nn.functional as F
import triton
import triton.language as tl


@triton.jit
def gelu_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = F.pad(x.reshape(-1), (0, 1)).flip(0).roll(1).flip(0)[:-1].contiguous()
        g = torch.empty_like(flat)
        n = flat.numel()
        gelu_kernel[(triton.cdiv(n, 8192),)](flat, g, n, BLOCK=8192)
        return (g * self.scale + 0.5).view(x.shape)
