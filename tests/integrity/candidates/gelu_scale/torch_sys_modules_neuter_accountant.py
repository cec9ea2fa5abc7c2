# expect: static_violation
# reaches sys.modules through torch.sys (no import of sys) and makes the checker's op accountant allow every op; torch computes, a kernel copies.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


class Everything:
    def __contains__(self, name):
        return True


checker = torch.sys.modules["kernelwright.tools.check.guards"]
checker.ALLOWED_OPS = Everything()


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.nn.functional.gelu(x) * self.scale + 0.5
        y = torch.empty_like(t)
        copy_kernel[(triton.cdiv(t.numel(), 4096),)](t, y, t.numel(), BLOCK=4096)
        return y
