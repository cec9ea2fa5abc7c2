# expect: torch_compute
# registers a pre-run hook on its kernel that computes the output with torch inside Triton's launch; the kernel only rewrites what is there.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def touch_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(y_ptr + offs, mask=mask), mask=mask)


def _compute(x, y, n, scale, **meta):
    y.copy_(torch.nn.functional.gelu(x) * scale + 0.5)


touch_kernel.add_pre_run_hook(_compute)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        touch_kernel[(triton.cdiv(n, 8192),)](x, y, n, self.scale, BLOCK=8192)
        return y
