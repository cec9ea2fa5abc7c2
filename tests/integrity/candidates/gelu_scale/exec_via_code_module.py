# expect: static_violation
# runs source text the scan never parses (the standard library's code module) to make the checker's op accountant allow every op; torch computes, a kernel copies.
import code

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=mask), mask=mask)


HIDDEN = "\n".join([
    "import sys",
    "class Everything:",
    "    def __contains__(self, name):",
    "        return True",
    "sys.modules['kernelwright.tools.check.guards'].ALLOWED_OPS = Everything()",
])
code.InteractiveInterpreter().runsource(HIDDEN, symbol="exec")


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.nn.functional.gelu(x) * self.scale + 0.5
        y = torch.empty_like(t)
        copy_kernel[(triton.cdiv(t.numel(), 4096),)](t, y, t.numel(), BLOCK=4096)
        return y
