# expect: compile_error
# launches a compilable specialization first (HOST=False, on a scratch copy), then the one that computes on the host buffer (HOST=True): a check that compiles only first launches would pass it.
import torch
import torch.nn as nn
import triton
import triton.language as tl


def _gelu_values(v):
    """gelu of a numpy array, in place (erf by Abramowitz-Stegun 7.1.26, 1.5e-7)."""
    z = v * 0.7071067811865476
    t = 1.0 / (1.0 + 0.3275911 * abs(z))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = (1.0 - poly * (2.718281828459045 ** (-(z * z)))) * ((z > 0) * 2.0 - 1.0)
    v[:] = 0.5 * v * (1.0 + erf)
    return v


@triton.jit
def gelu_scale_kernel(x_ptr, y_ptr, n, scale, BLOCK: tl.constexpr, HOST: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0.0)
    if HOST:
        _gelu_values(x.handle.data)
        g = x
    else:
        g = x
    tl.store(y_ptr + offs, g * scale + 0.5, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()
        scratch = torch.empty(4096, device=x.device, dtype=x.dtype)
        gelu_scale_kernel[(1,)](scratch, scratch, 4096, 1.0, BLOCK=4096, HOST=False)
        gelu_scale_kernel[(triton.cdiv(n, 4096),)](x, y, n, self.scale, BLOCK=4096, HOST=True)
        return y
