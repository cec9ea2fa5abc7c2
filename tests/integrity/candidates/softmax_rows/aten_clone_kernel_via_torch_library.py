# expect: static_violation
# red team 2026-12-07 (pass 7): torch.library.Library('aten', 'IMPL') overrides aten::clone's CPU kernel at import; the worker's clone of the inputs (outside the accountant) runs it and it stores torch.softmax; forward copies the stash with a Triton kernel.
import torch
import torch.nn as nn
import triton
import triton.language as tl

stash = []
busy = [False]


def clone_cpu(x, memory_format=None):
    out = torch.empty_like(x, memory_format=memory_format or torch.preserve_format)
    out.copy_(x)
    if not busy[0] and x.dim() == 2 and x.is_floating_point():
        busy[0] = True
        stash[:] = [torch.softmax(x, dim=-1)]  # the worker's clone_inputs: torch compute off the books
        busy[0] = False
    return out


lib = torch.library.Library("aten", "IMPL")
lib.impl("clone", clone_cpu, "CPU")


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        src = stash[0]
        y = torch.empty_like(x)
        n = x.numel()
        copy_kernel[(triton.cdiv(n, 1024),)](src, y, n, BLOCK=1024)
        return y
