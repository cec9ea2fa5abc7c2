# expect: wrong_output
# red team 2026-12-07 (pass 5): tl.reduce with a hand-written argmax combine that keeps the FIRST operand on ties without comparing indices: the interpreter folds left-to-right (first index), a GPU tree/butterfly reduction need not.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _keep_first(v1, i1, v2, i2):
    keep = v1 >= v2
    return tl.where(keep, v1, v2), tl.where(keep, i1, i2)


@triton.jit
def argmax_kernel(x_ptr, out_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * stride + cols, mask=cols < n_cols, other=float("-inf"))
    v, i = tl.reduce((x, cols), 0, _keep_first)
    tl.store(out_ptr + row, i.to(tl.int64))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0), BLOCK=triton.next_power_of_2(x2.shape[1]))
        return out.view(x.shape[:-1])
