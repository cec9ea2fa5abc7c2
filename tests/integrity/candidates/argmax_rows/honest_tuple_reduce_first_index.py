# expect: accepted
# red team 2026-12-06 (pass 4): tl.reduce over (value, index) pairs with a jit combine function: the first index wins ties, as torch.argmax.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def pick(v1, i1, v2, i2):
    nan1 = v1 != v1
    nan2 = v2 != v2
    gt = (v1 > v2) | (nan1 & ~nan2)
    eq = (v1 == v2) | (nan1 & nan2)
    take1 = gt | (eq & (i1 < i2))
    return tl.where(take1, v1, v2), tl.where(take1, i1, i2)


@triton.jit
def argmax_kernel(x_ptr, out_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    acc_v = tl.full([BLOCK], float("-inf"), tl.float32)
    acc_i = tl.full([BLOCK], 2147483647, tl.int32)
    for start in range(0, n_cols, BLOCK):
        c = start + cols
        mask = c < n_cols
        x = tl.load(x_ptr + row * stride + c, mask=mask, other=float("-inf"))
        idx = tl.where(mask, c, 2147483647)
        acc_v, acc_i = pick(acc_v, acc_i, x, idx)
    v, i = tl.reduce((acc_v, acc_i), 0, pick)
    tl.store(out_ptr + row, i.to(tl.int64))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0), BLOCK=128)
        return out.view(x.shape[:-1])
