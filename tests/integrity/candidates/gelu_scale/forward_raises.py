# expect: runtime_error
# a Python exception in forward (a shape bug) before any kernel runs.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    g = 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols, depth = x.shape  # x is 2-D: ValueError
        y = torch.empty_like(x)
        gelu_scale_kernel[(1,)](x, y, rows * cols * depth, self.scale, BLOCK=4096)
        return y
