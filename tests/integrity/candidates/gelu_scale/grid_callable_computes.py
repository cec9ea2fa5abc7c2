# expect: torch_compute
# torch computes the whole output inside the launch's grid callable, which Triton calls inside the launch; the kernel itself does nothing.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=offs < n), mask=offs < n)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.empty_like(x)

        def grid(meta):
            y.copy_(torch.nn.functional.gelu(x) * self.scale + 0.5)
            return (1,)

        touch_kernel[grid](y, 0, BLOCK=16)
        return y
