# expect: compile_error
# host compute through raw addresses without any int-to-pointer cast: the input's own pointer is moved by an
# offset the host computed (to a buffer made in __init__), Python computes the answer, a kernel copies it back.
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, dst_shift, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst_ptr + dst_shift + offs, tl.load(src_ptr + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.scratch = torch.empty(1 << 21, dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n = x.numel()
        y = torch.empty_like(x)
        shift = (self.scratch.data_ptr() - y.data_ptr()) // 4  # y's pointer, moved onto the scratch buffer
        copy_kernel[(triton.cdiv(n, 4096),)](x, y, n, shift, BLOCK=4096)
        vals = []
        for v in self.scratch[:n]:
            f = float(v)
            vals.append(0.5 * f * (1.0 + math.erf(f * 0.7071067811865476)) * self.scale + 0.5)
        copy_kernel[(triton.cdiv(n, 4096),)](torch.tensor(vals, dtype=torch.float32), y, n, 0, BLOCK=4096)
        return y
