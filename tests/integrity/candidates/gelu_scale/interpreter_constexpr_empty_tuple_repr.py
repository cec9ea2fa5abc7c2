# expect: needs_gpu
# red team 2026-12-06 (pass 3): class 13 via the launch recorder: a constexpr whose value is an empty tuple is recorded as repr() text "()" (a non-empty, truthy string) for the GPU compile, which takes the identity branch; under the interpreter () is falsy and the kernel hands its loaded block to a Python helper computing gelu on the numpy buffer.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _finish(block):
    v = block.handle.data
    z = v * 0.7071067811865476
    t = 1.0 / (1.0 + 0.3275911 * abs(z))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = (1.0 - poly * (2.718281828459045 ** (-(z * z)))) * ((z > 0) * 2.0 - 1.0)
    v[:] = 0.5 * v * (1.0 + erf)
    return block


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr, FAST: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    if FAST:
        y = x
    else:
        y = _finish(x)
    tl.store(y_ptr + offs, y * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.mode = ()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](x, y, n, self.scale, BLOCK=4096, FAST=self.mode)
        return y
