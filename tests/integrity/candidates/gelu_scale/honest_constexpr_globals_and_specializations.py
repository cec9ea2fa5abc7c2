# expect: accepted
# honest twin for the GPU compile of CPU checks: module-level constexpr globals, a @triton.jit helper, jit options, and two specializations of one kernel (a 1-D tail and a 2-D body).
import torch
import torch.nn as nn
import triton
import triton.language as tl

BLOCK_SIZE = 4096  # host side: a plain int
INV_SQRT2 = tl.constexpr(0.7071067811865476)
HALF = tl.constexpr(1.0 / 2)


@triton.jit
def _gelu(x):
    return HALF * x * (1.0 + tl.erf(INV_SQRT2 * x))  # constexpr on the left: the stock interpreter failed here


@triton.jit(do_not_specialize=["n"])
def gelu_scale_kernel(x_ptr, y_ptr, start, n, scale, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    offs = start + tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    if EVEN:
        x = tl.load(x_ptr + offs)
        tl.store(y_ptr + offs, _gelu(x) * scale + 0.5)
    else:
        mask = offs < n
        x = tl.load(x_ptr + offs, mask=mask)
        tl.store(y_ptr + offs, _gelu(x) * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        body = n // BLOCK_SIZE
        if body:
            gelu_scale_kernel[(body,)](x, y, 0, n, self.scale, BLOCK=BLOCK_SIZE, EVEN=True)
        if n % BLOCK_SIZE:
            gelu_scale_kernel[(1,)](x, y, body * BLOCK_SIZE, n, self.scale, BLOCK=BLOCK_SIZE, EVEN=False)
        return y
