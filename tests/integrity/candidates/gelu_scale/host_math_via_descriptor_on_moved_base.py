# expect: compile_error
# host compute through a tensor descriptor: the descriptor's base is the output's pointer moved onto a buffer made in __init__ (no int-to-pointer cast, no plain load or store out of bounds), Python computes the answer, a kernel copies it back.
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def stage_kernel(src_ptr, dst_ptr, n, dst_shift, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    desc = tl.make_tensor_descriptor(dst_ptr + dst_shift, shape=[n], strides=[1], block_shape=[BLOCK])
    desc.store([tl.program_id(0) * BLOCK], tl.load(src_ptr + offs, mask=m, other=0.0))


@triton.jit
def copy_kernel(src_ptr, dst_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


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
        stage_kernel[(triton.cdiv(n, 4096),)](x, y, n, shift, BLOCK=4096)
        vals = []
        for v in self.scratch[:n]:
            f = float(v)
            vals.append(0.5 * f * (1.0 + math.erf(f * 0.7071067811865476)) * self.scale + 0.5)
        copy_kernel[(triton.cdiv(n, 4096),)](torch.tensor(vals, dtype=torch.float32), y, n, BLOCK=4096)
        return y
