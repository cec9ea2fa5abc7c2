# expect: torch_compute
# the grid callable computes the output with torch while Triton asks it for the grid; the kernel only rewrites what is there.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)
        n = y.numel()

        def grid(meta):
            y.copy_(torch.nn.functional.gelu(x) * self.scale + 0.5)
            return (triton.cdiv(n, meta["BLOCK"]),)

        touch_kernel[grid](y, n, BLOCK=8192)
        return y
