# expect: needs_gpu
# red team 2026-12-06 (pass 3): an honest kernel the CPU check cannot compile for a GPU (needs_gpu, never accepted unverified): the two input pointers travel as one tuple argument (Triton 3.x tuple arguments, indexed with constants in the body); masked 1-D blocks compute (a + b) * a in the kernel.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_mul_kernel(inputs, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(inputs[0] + offs, mask=mask)
    b = tl.load(inputs[1] + offs, mask=mask)
    tl.store(out_ptr + offs, (a + b) * a, mask=mask)


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a = a.contiguous()
        b = b.contiguous()
        out = torch.empty_like(a)
        n = a.numel()
        add_mul_kernel[(triton.cdiv(n, 1024),)]((a, b), out, n, BLOCK=1024)
        return out
