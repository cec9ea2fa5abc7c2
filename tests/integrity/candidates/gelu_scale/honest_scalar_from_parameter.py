# expect: accepted
# honest twin of the host-compute cheats: reads a scalar *parameter* with float() and sizes the grid with Python arithmetic on shapes.
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
        self.register_buffer("scale_t", torch.tensor(scale), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        rows, cols = x.shape
        n = rows * cols
        block = 4096 if n % 4096 == 0 else 8192
        gelu_scale_kernel[((n + block - 1) // block,)](x, y, n, float(self.scale_t), BLOCK=block)
        return y
