# expect: wrong_output
# a kernel checks a fresh buffer for the checker's fixed NaN poison pattern and computes only when it finds it; otherwise it writes zeros.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, probe_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    watched = tl.load(probe_ptr).to(tl.int32, bitcast=True) == 0x7FCA5A5A
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5
    tl.store(y_ptr + offs, tl.where(watched, g, 0.0), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        probe = torch.empty(1, device=x.device, dtype=torch.float32)
        n = x.numel()
        gelu_scale_kernel[(triton.cdiv(n, 8192),)](x, y, probe, n, self.scale, BLOCK=8192)
        return y
