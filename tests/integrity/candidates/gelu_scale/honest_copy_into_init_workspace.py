# expect: accepted
# honest twin of the host-compute-on-a-copy cheats: the input is copy_-ed into a workspace made in __init__
# (grown when a variant needs more) and the kernel computes from it; nothing is read back on the host.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.workspace = torch.empty(1 << 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.numel()
        if self.workspace.numel() < n or self.workspace.device != x.device or self.workspace.dtype != x.dtype:
            self.workspace = torch.empty(n, device=x.device, dtype=x.dtype)
        staged = self.workspace[:n].view(x.shape)
        staged.copy_(x)
        y = torch.empty_like(x)
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](staged, y, n, self.scale, BLOCK=4096)
        return y
