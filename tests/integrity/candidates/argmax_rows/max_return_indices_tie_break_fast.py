# expect: wrong_output
# the same through tl.max(return_indices=True, return_indices_tie_break_left=False): the tie's winner left to the hardware.
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def argmax_kernel(x_ptr, out_ptr, n_cols, stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    best_val = float("-inf")
    best_idx = 0
    for start in range(0, n_cols, BLOCK):
        c = start + cols
        x = tl.load(x_ptr + row * stride + c, mask=c < n_cols, other=float("-inf"))
        m, i = tl.max(x, axis=0, return_indices=True, return_indices_tie_break_left=False)
        take = m > best_val  # an earlier block keeps a tie, as torch.argmax
        best_idx = tl.where(take, start + i, best_idx)
        best_val = tl.where(take, m, best_val)
    tl.store(out_ptr + row, best_idx.to(tl.int64))


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1]).contiguous()
        out = torch.empty(x2.shape[0], dtype=torch.int64, device=x.device)
        argmax_kernel[(x2.shape[0],)](x2, out, x2.shape[1], x2.stride(0), BLOCK=256)
        return out.view(x.shape[:-1])
