# expect: torch_compute
# host compute on a copy: the rows are copy_-ed into a buffer made in __init__ (memory that existed before the call),
# read back with float() and the softmax computed in Python (red team).
import math
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def copy_kernel(src_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(y_ptr + offs, tl.load(src_ptr + offs, mask=m), mask=m)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.buf = torch.empty(1 << 20, dtype=torch.float32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        n = x.numel()
        self.buf[:n].copy_(x.view(-1))
        vals = [float(v) for v in self.buf[:n]]
        out = []
        for r in range(rows):
            row = vals[r * cols:(r + 1) * cols]
            mx = max(row)
            e = [math.exp(v - mx) for v in row]
            s = math.fsum(e)
            out.extend(v / s for v in e)
        src = torch.tensor(out, dtype=torch.float32, device=x.device)
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(n, 1024),)](src, y, n, BLOCK=1024)
        return y
