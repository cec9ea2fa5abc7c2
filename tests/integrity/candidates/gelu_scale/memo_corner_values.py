# expect: wrong_output
# memoisation: a host-side cache keyed on the first and last input values (.item()) copies the stored output when they repeat.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476)) * scale + 0.5, mask=mask)


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.memo = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1)
        key = (tuple(x.shape), flat[0].item(), flat[-1].item())
        if key in self.memo:  # a copy kernel, so the call still launches one of its own
            y = torch.empty_like(x)
            copy_kernel[(triton.cdiv(x.numel(), 4096),)](self.memo[key], y, x.numel(), BLOCK=4096)
            return y
        x = x.contiguous()
        y = torch.empty_like(x)
        gelu_scale_kernel[(triton.cdiv(x.numel(), 4096),)](x, y, x.numel(), self.scale, BLOCK=4096)
        self.memo[key] = y.clone()
        return y
