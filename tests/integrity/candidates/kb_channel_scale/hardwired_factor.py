# expect: shape_overfit
# overfit: the float factor 0.5 is baked into the kernel instead of read from the constructor's argument.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def channel_scale_kernel(x_ptr, w_ptr, b_ptr, y_ptr, n, plane, channels, factor, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    c = (offs // plane) % channels
    x = tl.load(x_ptr + offs, mask=mask)
    w = tl.load(w_ptr + c, mask=mask)
    b = tl.load(b_ptr + c, mask=mask)
    tl.store(y_ptr + offs, x * w * 0.5 + b, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, channels: int, factor: float):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels))
        self.bias = nn.Parameter(torch.randn(channels))
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        channel_scale_kernel[(triton.cdiv(n, 1024),)](x, self.weight, self.bias, y, n, x.shape[2] * x.shape[3], x.shape[1],
                                                       self.factor, BLOCK=1024)
        return y
