# expect: torch_compute
# host compute through torch.frombuffer: the rows are copy_-ed into a view of a Python array and the softmax
# computed in Python on the array itself, never through torch (red team).
import array
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        n = x.numel()
        buf = array.array("f", bytes(4 * n))
        torch.frombuffer(buf, dtype=torch.float32).copy_(x.view(-1))
        out = array.array("f", bytes(4 * n))
        for r in range(rows):
            row = buf[r * cols:(r + 1) * cols]
            mx = max(row)
            e = [math.exp(v - mx) for v in row]
            s = math.fsum(e)
            out[r * cols:(r + 1) * cols] = array.array("f", [v / s for v in e])
        src = torch.frombuffer(out, dtype=torch.float32).to(x.device)
        y = torch.empty_like(x)
        copy_kernel[(triton.cdiv(n, 1024),)](src, y, n, BLOCK=1024)
        return y
