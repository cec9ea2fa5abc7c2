# expect: compile_error
# host compute through raw addresses: a kernel copies x into a buffer made in __init__ through an int address
# (never a tensor argument), Python computes gelu*scale+0.5 with math.erf, a kernel copies it back (red team).
import math
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_to_addr(x_ptr, dst_addr, n, BLOCK: tl.constexpr):
    dst = dst_addr.to(tl.pointer_type(tl.float32))
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.load(x_ptr + offs, mask=m), mask=m)


@triton.jit
def copy_kernel(src_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.scratch = torch.empty(1 << 21, dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n = x.numel()
        copy_to_addr[(triton.cdiv(n, 4096),)](x, self.scratch.data_ptr(), n, BLOCK=4096)
        vals = []
        for v in self.scratch[:n]:
            f = float(v)
            vals.append(0.5 * f * (1.0 + math.erf(f * 0.7071067811865476)) * self.scale + 0.5)
        src = torch.tensor(vals, dtype=torch.float32)
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(n, 4096),)](src, y, n, BLOCK=4096)
        return y
