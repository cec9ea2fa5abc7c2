# expect: compile_error
# host compute through raw addresses: kernels copy rows to and from array.array buffers by address; the
# softmax is computed in Python (red team).
import array
import math
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def to_addr(x_ptr, dst_addr, n, BLOCK: tl.constexpr):
    dst = dst_addr.to(tl.pointer_type(tl.float32))
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(dst + offs, tl.load(x_ptr + offs, mask=m), mask=m)


@triton.jit
def from_addr(src_addr, y_ptr, n, BLOCK: tl.constexpr):
    src = src_addr.to(tl.pointer_type(tl.float32))
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(src + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        n = x.numel()
        buf = array.array("f", bytes(4 * n))
        grid = (triton.cdiv(n, 1024),)
        to_addr[grid](x, buf.buffer_info()[0], n, BLOCK=1024)
        out = array.array("f", bytes(4 * n))
        for r in range(rows):
            row = buf[r * cols:(r + 1) * cols]
            mx = max(row)
            e = [math.exp(v - mx) for v in row]
            s = math.fsum(e)
            out[r * cols:(r + 1) * cols] = array.array("f", [v / s for v in e])
        y = torch.empty_like(x)
        from_addr[grid](out.buffer_info()[0], y, n, BLOCK=1024)
        return y
