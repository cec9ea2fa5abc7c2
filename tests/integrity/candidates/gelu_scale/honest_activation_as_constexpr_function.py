# expect: accepted
# red team 2026-12-06 (pass 3): the activation is a @triton.jit function passed to the kernel as a constexpr argument (ACT: tl.constexpr), the way Triton kernels take epilogues; the kernel computes act(x) * scale + 0.5.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def gelu_erf(x):
    return 0.5 * x * (1.0 + tl.erf(x * 0.7071067811865476))


@triton.jit
def act_scale_kernel(x_ptr, y_ptr, n, scale, ACT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, ACT(x) * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        act_scale_kernel[(triton.cdiv(n, 2048),)](x, y, n, self.scale, ACT=gelu_erf, BLOCK=2048)
        return y
