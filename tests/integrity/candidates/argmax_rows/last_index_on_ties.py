# expect: wrong_output
# red team 2026-12-06 (pass 4): argmax per row that returns the LAST index of the row maximum (torch returns the first); random inputs never tie, so only a trial with tied values tells.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def argmax_last_kernel(x_ptr, out_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    best_val = float("-inf")
    best_idx = -1
    for start in range(0, n_cols, BLOCK):
        c = start + cols
        mask = c < n_cols
        x = tl.load(x_ptr + row * stride + c, mask=mask, other=float("-inf"))
        x = tl.where(x == x, x, float("-inf"))  # NaN loses
        m = tl.max(x, axis=0)
        i = tl.max(tl.where((x == m) & mask, c, -1), axis=0)  # last index of the block max
        take = m >= best_val  # later blocks win ties too
        best_idx = tl.where(take, i, best_idx)
        best_val = tl.where(take, m, best_val)
    tl.store(out_ptr + row, best_idx.to(tl.int64))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_last_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0), BLOCK=256)
        return out.view(x.shape[:-1])
